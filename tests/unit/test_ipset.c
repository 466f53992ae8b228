/* SPDX-License-Identifier: MIT */
/* The prefix set of IP indicators (policy/ipset.h): longest match, edges, duplicates. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "policy/ipset.h"

static struct acl_prefix pfx(const char *s)
{
	struct acl_prefix p;
	const char *why;

	assert_int_equal(acl_parse_prefix(s, &p, &why), 0);
	return p;
}

static int put(struct ipset *s, const char *text, uint64_t v, uint64_t *old)
{
	struct acl_prefix p = pfx(text);

	return ipset_put(s, &p, v, old);
}

/* Look addr up with no length limit: the value, or -1; *bits the length matched. */
static long look(const struct ipset *s, const char *addr, unsigned *bits)
{
	uint8_t a[16];
	int family = strchr(addr, ':') ? AF_INET6 : AF_INET;
	uint64_t v;
	unsigned b;

	assert_int_equal(inet_pton(family, addr, a), 1);
	if (!ipset_match(s, family, a, 128, &b, &v))
		return -1;
	if (bits)
		*bits = b;
	return (long)v;
}

static void test_v4_longest_match(void **state)
{
	struct ipset *s = ipset_new(1);
	unsigned bits;

	(void)state;
	assert_int_equal(put(s, "10.0.0.0/8", 8, NULL), 0);
	assert_int_equal(put(s, "10.1.0.0/16", 16, NULL), 0);
	assert_int_equal(put(s, "10.1.2.0/24", 24, NULL), 0);
	assert_int_equal(put(s, "10.1.2.3", 32, NULL), 0);
	assert_int_equal(put(s, "192.0.2.0/24", 124, NULL), 0);
	assert_int_equal(ipset_count(s), 5);
	assert_int_equal(look(s, "10.1.2.3", NULL), -1); /* not frozen yet: nothing matches */
	assert_int_equal(ipset_freeze(s), 0);
	assert_int_equal(ipset_freeze(s), 0);
	assert_int_equal(ipset_count(s), 5);

	assert_int_equal(look(s, "10.1.2.3", &bits), 32);
	assert_int_equal(bits, 32);
	assert_int_equal(look(s, "10.1.2.4", &bits), 24);
	assert_int_equal(bits, 24);
	assert_int_equal(look(s, "10.1.3.4", &bits), 16);
	assert_int_equal(look(s, "10.2.3.4", &bits), 8);
	assert_int_equal(bits, 8);
	assert_int_equal(look(s, "11.0.0.0", NULL), -1);
	assert_int_equal(look(s, "9.255.255.255", NULL), -1);
	assert_int_equal(look(s, "192.0.2.255", NULL), 124);
	assert_int_equal(look(s, "192.0.3.0", NULL), -1);
	/* An IPv6 address never matches IPv4 prefixes. */
	assert_int_equal(look(s, "::a01:203", NULL), -1);
	assert_int_equal(look(s, "::ffff:10.1.2.3", NULL), -1);
	ipset_free(s);
}

static void test_shorter_after_longer(void **state)
{
	struct ipset *s = ipset_new(2);
	uint8_t a[4] = {10, 1, 2, 3};
	unsigned bits;
	uint64_t v;

	(void)state;
	put(s, "10.0.0.0/8", 8, NULL);
	put(s, "10.1.2.0/24", 24, NULL);
	put(s, "10.1.2.3/32", 32, NULL);
	assert_int_equal(ipset_freeze(s), 0);
	assert_true(ipset_match(s, AF_INET, a, 32, &bits, &v));
	assert_int_equal(bits, 32);
	assert_true(ipset_match(s, AF_INET, a, bits - 1, &bits, &v));
	assert_int_equal(bits, 24);
	assert_true(ipset_match(s, AF_INET, a, bits - 1, &bits, &v));
	assert_int_equal(v, 8);
	assert_false(ipset_match(s, AF_INET, a, bits - 1, &bits, &v));
	ipset_free(s);
}

static void test_v6(void **state)
{
	struct ipset *s = ipset_new(3);
	unsigned bits;

	(void)state;
	assert_int_equal(put(s, "2001:db8::/32", 32, NULL), 0);
	assert_int_equal(put(s, "2001:db8:1::/48", 48, NULL), 0);
	assert_int_equal(put(s, "2001:db8:1:2::/64", 64, NULL), 0);
	assert_int_equal(put(s, "2001:db8:1:2::1", 128, NULL), 0);
	assert_int_equal(put(s, "2001:db8:1:2:8000::/65", 65, NULL), 0);
	assert_int_equal(put(s, "2001:db8:1:2:0:0:0:8000/113", 113, NULL), 0);
	assert_int_equal(ipset_freeze(s), 0);
	assert_int_equal(look(s, "2001:db8:1:2::1", &bits), 128);
	assert_int_equal(bits, 128);
	assert_int_equal(look(s, "2001:db8:1:2::2", NULL), 64);
	assert_int_equal(look(s, "2001:db8:1:2::8001", NULL), 113);
	assert_int_equal(look(s, "2001:db8:1:2:8000::5", NULL), 65);
	assert_int_equal(look(s, "2001:db8:1:2:7fff::5", NULL), 64);
	assert_int_equal(look(s, "2001:db8:1:3::", NULL), 48);
	assert_int_equal(look(s, "2001:db8:ffff::", NULL), 32);
	assert_int_equal(look(s, "2001:db9::", NULL), -1);
	assert_int_equal(look(s, "10.0.0.1", NULL), -1);
	ipset_free(s);
}

static void test_edges(void **state)
{
	struct ipset *s = ipset_new(4);
	unsigned bits = 99;

	(void)state;
	assert_int_equal(put(s, "0.0.0.0/0", 1000, NULL), 0);
	assert_int_equal(put(s, "255.255.255.255", 1032, NULL), 0);
	assert_int_equal(put(s, "0.0.0.0/32", 1031, NULL), 0);
	assert_int_equal(put(s, "::/0", 6000, NULL), 0);
	assert_int_equal(put(s, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128", 6128, NULL), 0);
	assert_int_equal(put(s, "::/128", 6127, NULL), 0);
	assert_int_equal(put(s, "8000::/1", 6001, NULL), 0);
	assert_int_equal(put(s, "128.0.0.0/1", 1001, NULL), 0);
	assert_int_equal(ipset_freeze(s), 0);
	assert_int_equal(look(s, "1.2.3.4", &bits), 1000);
	assert_int_equal(bits, 0);
	assert_int_equal(look(s, "255.255.255.255", NULL), 1032);
	assert_int_equal(look(s, "255.255.255.254", NULL), 1001);
	assert_int_equal(look(s, "0.0.0.0", NULL), 1031);
	assert_int_equal(look(s, "0.0.0.1", NULL), 1000);
	assert_int_equal(look(s, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", NULL), 6128);
	assert_int_equal(look(s, "::", NULL), 6127);
	assert_int_equal(look(s, "::1", &bits), 6000);
	assert_int_equal(bits, 0);
	assert_int_equal(look(s, "8000::1", NULL), 6001);
	ipset_free(s);
}

static void test_invalid_and_duplicates(void **state)
{
	struct ipset *s = ipset_new(5);
	struct acl_prefix p;
	uint64_t old = 0;
	size_t pos = 0;
	uint64_t v;
	unsigned n = 0;

	(void)state;
	/* Host bits set: rejected, not widened. */
	p = pfx("192.0.2.0/24");
	p.addr[3] = 1;
	assert_int_equal(ipset_put(s, &p, 1, NULL), -EINVAL);
	p = pfx("2001:db8::/32");
	p.addr[15] = 1;
	assert_int_equal(ipset_put(s, &p, 1, NULL), -EINVAL);
	p = pfx("10.0.0.0/8");
	p.bits = 33;
	assert_int_equal(ipset_put(s, &p, 1, NULL), -EINVAL);
	p.family = 99;
	p.bits = 8;
	assert_int_equal(ipset_put(s, &p, 1, NULL), -EINVAL);
	assert_int_equal(ipset_count(s), 0);

	/* The same prefix again: replaced, the old value reported; other lengths are others. */
	assert_int_equal(put(s, "192.0.2.0/24", 1, NULL), 0);
	assert_int_equal(put(s, "192.0.2.0/24", 2, &old), 1);
	assert_int_equal(old, 1);
	assert_int_equal(put(s, "192.0.2.0/25", 3, NULL), 0);
	assert_int_equal(put(s, "64:ff9b::c000:200/120", 4, NULL), 0); /* IPv6 */
	assert_int_equal(ipset_count(s), 3);
	assert_int_equal(ipset_freeze(s), 0);
	assert_int_equal(look(s, "192.0.2.200", NULL), 2);
	assert_int_equal(look(s, "192.0.2.1", NULL), 3);
	while (ipset_next(s, &pos, &p, &v)) {
		char buf[64];

		inet_ntop(p.family, p.addr, buf, sizeof(buf));
		if (v == 2)
			assert_true(strcmp(buf, "192.0.2.0") == 0 && p.bits == 24);
		else if (v == 3)
			assert_true(strcmp(buf, "192.0.2.0") == 0 && p.bits == 25);
		else
			assert_true(strcmp(buf, "64:ff9b::c000:200") == 0 && p.bits == 120 && v == 4);
		n++;
	}
	assert_int_equal(n, 3);
	assert_true(ipset_memory(s) > 0);
	ipset_free(s);
	ipset_free(NULL);
}

/* Random prefixes against a scan of all of them (the oracle), many lengths, both families. */
static void test_random_against_scan(void **state)
{
	enum { N = 3000, Q = 20000 };
	static struct acl_prefix ps[N];
	static uint32_t vals[N];
	struct ipset *s = ipset_new(6);
	unsigned n = 0, hits = 0;

	(void)state;
	srand(7);
	assert_int_equal(ipset_reserve(s, N), 0);
	for (unsigned i = 0; i < N; i++) {
		struct acl_prefix p = {.family = rand() % 2 ? AF_INET : AF_INET6};
		unsigned total = p.family == AF_INET ? 32 : 128;
		uint64_t old;
		int rc;

		/* Few distinct leading bytes, so that prefixes nest. */
		p.addr[0] = (uint8_t)(rand() % 4);
		for (unsigned k = 1; k < total / 8; k++)
			p.addr[k] = (uint8_t)(rand() % 3);
		p.bits = (uint8_t)(rand() % (total + 1));
		for (unsigned b = p.bits; b < total; b++)
			p.addr[b / 8] &= (uint8_t)~(0x80 >> (b % 8));
		rc = ipset_put(s, &p, i, &old);
		assert_true(rc == 0 || rc == 1);
		if (rc == 1) {
			for (unsigned j = 0; j < n; j++)
				if (vals[j] == old)
					vals[j] = i;
		} else {
			ps[n] = p;
			vals[n++] = i;
		}
	}
	assert_int_equal(ipset_count(s), n);
	assert_int_equal(ipset_freeze(s), 0);
	for (unsigned q = 0; q < Q; q++) {
		int family = rand() % 2 ? AF_INET : AF_INET6;
		unsigned total = family == AF_INET ? 32 : 128, bits, best = 0;
		uint8_t a[16] = {0};
		long want = -1;
		uint64_t v;
		bool found;

		a[0] = (uint8_t)(rand() % 4);
		for (unsigned k = 1; k < total / 8; k++)
			a[k] = (uint8_t)(rand() % 3);
		for (unsigned j = 0; j < n; j++) {
			const struct acl_prefix *p = &ps[j];
			bool in = p->family == family;

			for (unsigned b = 0; in && b < p->bits; b++)
				in = ((a[b / 8] ^ p->addr[b / 8]) & (0x80 >> (b % 8))) == 0;
			if (in && (want < 0 || p->bits > best)) {
				want = vals[j];
				best = p->bits;
			}
		}
		found = ipset_match(s, family, a, total, &bits, &v);
		assert_int_equal(found, want >= 0);
		if (found) {
			assert_int_equal(v, want);
			assert_int_equal(bits, best);
			hits++;
		}
	}
	assert_true(hits > Q / 10);
	ipset_free(s);
}

/* Values are 64 bits wide (a policy keeps an IOC id in the upper half). */
static void test_wide_values(void **state)
{
	struct ipset *s = ipset_new(6);
	struct acl_prefix p;
	size_t pos = 0;
	uint64_t v;
	unsigned n = 0;

	(void)state;
	assert_int_equal(put(s, "198.51.100.0/24", 0x1234567800000009u, NULL), 0);
	assert_int_equal(put(s, "2001:db8::/48", 0xffffffff00000001u, NULL), 0);
	assert_int_equal(ipset_freeze(s), 0);
	assert_true(look(s, "198.51.100.7", NULL) == (long)0x1234567800000009);
	assert_true((uint64_t)look(s, "2001:db8::1", NULL) == 0xffffffff00000001u);
	while (ipset_next(s, &pos, &p, &v))
		n += v == (p.family == AF_INET ? 0x1234567800000009u : 0xffffffff00000001u);
	assert_int_equal(n, 2);
	ipset_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v4_longest_match),
		cmocka_unit_test(test_shorter_after_longer),
		cmocka_unit_test(test_v6),
		cmocka_unit_test(test_edges),
		cmocka_unit_test(test_invalid_and_duplicates),
		cmocka_unit_test(test_random_against_scan),
		cmocka_unit_test(test_wide_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
