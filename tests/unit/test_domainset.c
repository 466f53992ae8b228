/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "policy/domainset.h"

/* Presentation (lowercase, no escapes) to wire; returns the length. */
static size_t wire(const char *text, uint8_t out[256])
{
	size_t o = 0, lab = 0;

	out[o++] = 0;
	for (const char *p = text; *p; p++) {
		if (*p == '.') {
			out[lab] = (uint8_t)(o - lab - 1);
			lab = o;
			out[o++] = 0;
		} else {
			out[o++] = (uint8_t)*p;
		}
	}
	if (o > lab + 1) {
		out[lab] = (uint8_t)(o - lab - 1);
		lab = o;
		out[o++] = 0;
	}
	return o;
}

static int put(struct domainset *ds, const char *name, uint64_t v, uint64_t *old)
{
	uint8_t w[256];
	size_t n = wire(name, w);

	return domainset_put(ds, w, n, v, old);
}

static bool get(struct domainset *ds, const char *name, uint64_t *v)
{
	uint8_t w[256];
	size_t n = wire(name, w);

	return domainset_get(ds, w, n, v);
}

static int match(struct domainset *ds, const char *name, size_t start, uint64_t *v)
{
	uint8_t w[256];
	size_t n = wire(name, w);

	return domainset_match(ds, w, n, start, v);
}

static void test_put_get(void **state)
{
	struct domainset *ds = domainset_new(1234);
	uint64_t v = 0;

	(void)state;
	assert_non_null(ds);
	assert_int_equal(domainset_count(ds), 0);
	assert_false(get(ds, "evil.com", &v));
	assert_int_equal(put(ds, "evil.com", 7, NULL), 0);
	assert_int_equal(put(ds, "www.mobile1.com", 8, NULL), 0);
	assert_int_equal(domainset_count(ds), 2);
	assert_true(get(ds, "evil.com", &v));
	assert_int_equal(v, 7);
	assert_true(get(ds, "www.mobile1.com", &v));
	assert_int_equal(v, 8);
	assert_false(get(ds, "mobile1.com", &v));
	assert_false(get(ds, "com", &v));
	assert_false(get(ds, "a.evil.com", &v));
	assert_true(domainset_memory(ds) > 0);
	domainset_free(ds);
	domainset_free(NULL);
}

static void test_replace(void **state)
{
	struct domainset *ds = domainset_new(99);
	uint64_t old = 0, v = 0;

	(void)state;
	assert_int_equal(put(ds, "evil.com", 1, &old), 0);
	assert_int_equal(put(ds, "evil.com", 2, &old), 1);
	assert_int_equal(old, 1);
	assert_int_equal(put(ds, "evil.com", 3, NULL), 1);
	assert_int_equal(domainset_count(ds), 1);
	assert_true(get(ds, "evil.com", &v));
	assert_int_equal(v, 3);
	/* values are 64 bits wide */
	assert_int_equal(put(ds, "evil.com", 0xfedcba9876543210u, &old), 1);
	assert_int_equal(old, 3);
	assert_true(get(ds, "evil.com", &v));
	assert_true(v == 0xfedcba9876543210u);
	domainset_free(ds);
}

static void test_case_is_bytes(void **state)
{
	struct domainset *ds = domainset_new(5);
	uint64_t v;

	(void)state;
	/* The set compares bytes; callers give canonical (lowercase) names. */
	assert_int_equal(put(ds, "evil.com", 1, NULL), 0);
	assert_true(get(ds, "evil.com", &v));
	assert_false(get(ds, "Evil.com", &v));
	assert_int_equal(match(ds, "www.EVIL.com", 0, &v), -1);
	domainset_free(ds);
}

static void test_invalid(void **state)
{
	struct domainset *ds = domainset_new(5);
	const uint8_t root[] = {0};
	const uint8_t overrun[] = {5, 'a', 'b', 0};
	const uint8_t no_root[] = {3, 'c', 'o', 'm'};
	const uint8_t trailing[] = {3, 'c', 'o', 'm', 0, 0};
	const uint8_t long_label[] = {64, 'a'};
	uint64_t v;

	(void)state;
	assert_int_equal(domainset_put(ds, root, sizeof(root), 1, NULL), -EINVAL);
	assert_int_equal(domainset_put(ds, overrun, sizeof(overrun), 1, NULL), -EINVAL);
	assert_int_equal(domainset_put(ds, no_root, sizeof(no_root), 1, NULL), -EINVAL);
	assert_int_equal(domainset_put(ds, trailing, sizeof(trailing), 1, NULL), -EINVAL);
	assert_int_equal(domainset_put(ds, long_label, sizeof(long_label), 1, NULL), -EINVAL);
	assert_int_equal(domainset_put(ds, root, 0, 1, NULL), -EINVAL);
	assert_int_equal(domainset_count(ds), 0);
	assert_int_equal(put(ds, "com", 1, NULL), 0);
	assert_int_equal(domainset_match(ds, overrun, sizeof(overrun), 0, &v), -1);
	assert_int_equal(domainset_match(ds, no_root, sizeof(no_root), 0, &v), -1);
	assert_int_equal(domainset_match(ds, root, sizeof(root), 0, &v), -1);
	domainset_free(ds);
}

static void test_suffix_longest_first(void **state)
{
	struct domainset *ds = domainset_new(77);
	uint64_t v = 0;

	(void)state;
	assert_int_equal(put(ds, "evil.com", 1, NULL), 0);
	assert_int_equal(put(ds, "b.evil.com", 2, NULL), 0);
	/* a.b.evil.com: "\1a\1b\4evil\3com\0"; b.evil.com at 2, evil.com at 4 */
	assert_int_equal(match(ds, "a.b.evil.com", 0, &v), 2);
	assert_int_equal(v, 2);
	assert_int_equal(match(ds, "b.evil.com", 0, &v), 0);
	assert_int_equal(v, 2);
	assert_int_equal(match(ds, "x.evil.com", 0, &v), 2);
	assert_int_equal(v, 1);
	assert_int_equal(match(ds, "evil.com", 0, &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(match(ds, "com", 0, &v), -1);
	assert_int_equal(match(ds, "evil.org", 0, &v), -1);
	domainset_free(ds);
}

static void test_never_partial_label(void **state)
{
	struct domainset *ds = domainset_new(3);
	uint64_t v;

	(void)state;
	assert_int_equal(put(ds, "evil.com", 1, NULL), 0);
	assert_int_equal(match(ds, "notevil.com", 0, &v), -1);
	assert_int_equal(match(ds, "a.notevil.com", 0, &v), -1);
	assert_int_equal(match(ds, "evil.com.au", 0, &v), -1);
	assert_int_equal(match(ds, "vil.com", 0, &v), -1);
	domainset_free(ds);
}

static void test_start_continuation(void **state)
{
	struct domainset *ds = domainset_new(11);
	uint8_t w[256];
	size_t n = wire("a.b.evil.com", w);
	uint64_t v = 0;
	int off;

	(void)state;
	assert_int_equal(put(ds, "evil.com", 1, NULL), 0);
	assert_int_equal(put(ds, "b.evil.com", 2, NULL), 0);
	assert_int_equal(put(ds, "a.b.evil.com", 3, NULL), 0);
	off = domainset_match(ds, w, n, 0, &v);
	assert_int_equal(off, 0);
	assert_int_equal(v, 3);
	off = domainset_match(ds, w, n, (size_t)off + w[off] + 1, &v);
	assert_int_equal(off, 2);
	assert_int_equal(v, 2);
	off = domainset_match(ds, w, n, (size_t)off + w[off] + 1, &v);
	assert_int_equal(off, 4);
	assert_int_equal(v, 1);
	/* com: nothing shorter is stored */
	assert_int_equal(domainset_match(ds, w, n, (size_t)off + w[off] + 1, &v), -1);
	/* the root offset, and an offset inside a label */
	assert_int_equal(domainset_match(ds, w, n, n - 1, &v), -1);
	assert_int_equal(domainset_match(ds, w, n, 1, &v), -1);
	assert_int_equal(domainset_match(ds, w, n, 5, &v), -1);
	domainset_free(ds);
}

#ifndef MANY
#define MANY 200000
#endif
/* Set when this file is built against a domain set whose tags all spill over its end. */
#ifndef DOMAINSET_TAG_SET
#define DOMAINSET_TAG_SET 0u
#endif

static void test_many_and_growth(void **state)
{
	struct domainset *ds = domainset_new(0xdeadbeef);
	char name[64];
	uint64_t v;
	size_t mem0;

	(void)state;
	mem0 = domainset_memory(ds);
	for (uint32_t i = 0; i < MANY; i++) {
		snprintf(name, sizeof(name), "host%u.ex%u.com", i, i % 977);
		assert_int_equal(put(ds, name, i, NULL), 0);
	}
	assert_int_equal(domainset_count(ds), MANY);
	assert_true(domainset_memory(ds) > mem0);
	for (uint32_t i = 0; i < MANY; i++) {
		snprintf(name, sizeof(name), "host%u.ex%u.com", i, i % 977);
		assert_true(get(ds, name, &v));
		assert_int_equal(v, i);
		snprintf(name, sizeof(name), "www.host%u.ex%u.com", i, i % 977);
		assert_int_equal(match(ds, name, 0, &v), 4);
		assert_int_equal(v, i);
	}
	for (uint32_t i = 0; i < MANY; i++) {
		/* absent: other numbers, parents, partial labels */
		snprintf(name, sizeof(name), "host%u.ex%u.com", i + MANY, i % 977);
		if (get(ds, name, &v))
			fail_msg("false positive %s", name);
		snprintf(name, sizeof(name), "ex%u.com", i % 977);
		if (match(ds, name, 0, &v) != -1)
			fail_msg("false positive %s", name);
		snprintf(name, sizeof(name), "xhost%u.ex%u.com", i, i % 977);
		if (match(ds, name, 0, &v) != -1)
			fail_msg("false positive %s", name);
	}
	/* reserve keeps working after growth */
	assert_int_equal(domainset_reserve(ds, 1000, 20000), 0);
	assert_int_equal(put(ds, "after.reserve", 5, NULL), 0);
	assert_true(get(ds, "after.reserve", &v));
	assert_int_equal(v, 5);
	domainset_free(ds);
}

/*
 * A bulk load sized by domainset_reserve(): no growth while it inserts, about 10 bytes of
 * table per name (load 0.8), and every name found.
 */
static void test_reserve_sizes_table(void **state)
{
	struct domainset *ds = domainset_new(77);
	size_t n = MANY / 4, bytes = 0, mem;
	char name[64];
	uint8_t w[256];
	uint64_t v;

	(void)state;
	for (size_t i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "r%zu.example", i);
		bytes += wire(name, w);
	}
	assert_int_equal(domainset_reserve(ds, n, bytes), 0);
	mem = domainset_memory(ds);
	for (size_t i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "r%zu.example", i);
		assert_int_equal(put(ds, name, (uint32_t)i, NULL), 0);
	}
	/* nothing grew but (rarely) the tail past the table's end */
	if (!DOMAINSET_TAG_SET)
		assert_true(domainset_memory(ds) <= mem + 4096);
	/* table + records: 8 / 0.8 per name, then 9 bytes of header (value, length) and the name */
	assert_true(mem <= n * 10 + n * 9 + bytes + 4096);
	for (size_t i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "r%zu.example", i);
		assert_true(get(ds, name, &v));
		assert_int_equal(v, i);
	}
	domainset_free(ds);
}

/* domainset_next gives back every name, whole (with its root byte), in insertion order. */
static void test_iterate(void **state)
{
	static const char *const names[] = {"evil.com", "a.b.c.example", "x", "evil.com"};
	struct domainset *ds = domainset_new(5);
	uint8_t w[256], got[255];
	size_t pos = 0, len, n = 0;
	uint64_t v;

	(void)state;
	for (size_t i = 0; i < 4; i++)
		put(ds, names[i], 100 + i, NULL);
	while (domainset_next(ds, &pos, got, &len, &v)) {
		size_t wl = wire(names[n], w);

		assert_int_equal(len, wl);
		assert_memory_equal(got, w, wl);
		assert_int_equal(v, n == 0 ? 103 : 100 + n);
		n++;
	}
	assert_int_equal(n, 3);
	domainset_free(ds);
}

static void test_limits(void **state)
{
	struct domainset *ds = domainset_new(42);
	uint8_t w[256], q[256];
	size_t n = 0;
	uint64_t v = 0;

	(void)state;
	/* a 63-byte label */
	w[n++] = 63;
	memset(w + n, 'a', 63);
	n += 63;
	memcpy(w + n, "\3com", 5);
	n += 5;
	assert_int_equal(domainset_put(ds, w, n, 63, NULL), 0);
	assert_true(domainset_get(ds, w, n, &v));
	assert_int_equal(v, 63);

	/* a 255-byte name: 3 labels of 63, one of 61, the root = 64 * 3 + 62 + 1 */
	n = 0;
	for (int i = 0; i < 3; i++) {
		w[n++] = 63;
		memset(w + n, 'b' + i, 63);
		n += 63;
	}
	w[n++] = 61;
	memset(w + n, 'z', 61);
	n += 61;
	w[n++] = 0;
	assert_int_equal(n, 255);
	assert_int_equal(domainset_put(ds, w, n, 255, NULL), 0);
	assert_true(domainset_get(ds, w, n, &v));
	assert_int_equal(v, 255);
	assert_int_equal(domainset_match(ds, w, n, 0, &v), 0);
	assert_int_equal(v, 255);
	/* its parent 64 bytes in is listed too: a longer query never exists, so match from 64 */
	memcpy(q, w + 64, n - 64);
	assert_int_equal(domainset_put(ds, q, n - 64, 191, NULL), 0);
	assert_int_equal(domainset_match(ds, w, n, 64, &v), 64);
	assert_int_equal(v, 191);
	/* 256 bytes is too long */
	memcpy(q, w, n);
	q[n - 1] = 0;
	assert_int_equal(domainset_put(ds, q, 256, 1, NULL), -EINVAL);
	domainset_free(ds);
}

static void test_many_labels(void **state)
{
	struct domainset *ds = domainset_new(8);
	uint8_t w[256];
	size_t n = 0;
	uint64_t v;

	(void)state;
	/* 127 one-byte labels: the most a 255-byte name can have */
	for (int i = 0; i < 127; i++) {
		w[n++] = 1;
		w[n++] = 'a';
	}
	w[n++] = 0;
	assert_int_equal(n, 255);
	assert_int_equal(domainset_put(ds, w + 252, 3, 1, NULL), 0); /* "a" */
	assert_int_equal(domainset_match(ds, w, n, 0, &v), 252);
	assert_int_equal(v, 1);
	domainset_free(ds);
}

static void test_seeds_differ(void **state)
{
	struct domainset *a = domainset_new(1), *b = domainset_new(2);
	uint64_t v;

	(void)state;
	/* Same contents under different seeds behave the same. */
	assert_int_equal(put(a, "x.y", 1, NULL), 0);
	assert_int_equal(put(b, "x.y", 2, NULL), 0);
	assert_true(get(a, "x.y", &v));
	assert_int_equal(v, 1);
	assert_true(get(b, "x.y", &v));
	assert_int_equal(v, 2);
	domainset_free(a);
	domainset_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_get),
		cmocka_unit_test(test_replace),
		cmocka_unit_test(test_case_is_bytes),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_suffix_longest_first),
		cmocka_unit_test(test_never_partial_label),
		cmocka_unit_test(test_start_continuation),
		cmocka_unit_test(test_many_and_growth),
		cmocka_unit_test(test_reserve_sizes_table),
		cmocka_unit_test(test_iterate),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_many_labels),
		cmocka_unit_test(test_seeds_differ),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
