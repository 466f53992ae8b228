/* SPDX-License-Identifier: MIT */
/* Unit tests of acl (prefix parsing, matching) and addr (parsing, formatting). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "addr.h"

/* ---- helpers ---- */

static struct sockaddr_storage v4(const char *ip, uint16_t port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

	memset(&ss, 0, sizeof(ss));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	assert_int_equal(inet_pton(AF_INET, ip, &sin->sin_addr), 1);
	return ss;
}

static struct sockaddr_storage v6(const char *ip, uint16_t port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	assert_int_equal(inet_pton(AF_INET6, ip, &sin6->sin6_addr), 1);
	return ss;
}

/* An acl from a NULL-terminated list of prefixes that must all parse. */
static struct acl *make_acl(const char *const *prefixes)
{
	size_t n = 0;
	struct acl *acl;
	const char *why;

	while (prefixes[n])
		n++;
	acl = calloc(1, sizeof(*acl) + n * sizeof(acl->v[0]));
	assert_non_null(acl);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(acl_parse_prefix(prefixes[i], &acl->v[i], &why), 0);
		assert_null(why);
	}
	acl->n = n;
	return acl;
}

static bool match(const struct acl *acl, struct sockaddr_storage ss)
{
	return acl_match(acl, (const struct sockaddr *)&ss);
}

static void expect_prefix(const char *s, int family, unsigned bits, const char *net)
{
	struct acl_prefix p;
	uint8_t want[16] = {0};
	const char *why = "unset";

	assert_int_equal(acl_parse_prefix(s, &p, &why), 0);
	assert_null(why);
	assert_int_equal(p.family, family);
	assert_int_equal(p.bits, bits);
	assert_int_equal(inet_pton(family, net, want), 1);
	assert_memory_equal(p.addr, want, family == AF_INET ? 4 : 16);
}

static void expect_bad_prefix(const char *s, const char *why_expected)
{
	struct acl_prefix p;
	const char *why = NULL;

	assert_int_equal(acl_parse_prefix(s, &p, &why), -EINVAL);
	assert_non_null(why);
	assert_string_equal(why, why_expected);
}

/* ---- acl_parse_prefix ---- */

static void test_prefix_valid(void **state)
{
	(void)state;
	expect_prefix("10.0.0.0/8", AF_INET, 8, "10.0.0.0");
	expect_prefix("172.16.0.0/12", AF_INET, 12, "172.16.0.0");
	expect_prefix("192.168.1.7/32", AF_INET, 32, "192.168.1.7");
	expect_prefix("0.0.0.0/0", AF_INET, 0, "0.0.0.0");
	expect_prefix("192.0.2.1", AF_INET, 32, "192.0.2.1"); /* bare address = host */
	expect_prefix("::1/128", AF_INET6, 128, "::1");
	expect_prefix("::1", AF_INET6, 128, "::1");
	expect_prefix("fc00::/7", AF_INET6, 7, "fc00::");
	expect_prefix("fe80::/10", AF_INET6, 10, "fe80::");
	expect_prefix("2001:db8::/32", AF_INET6, 32, "2001:db8::");
	expect_prefix("::/0", AF_INET6, 0, "::");
	expect_prefix("::ffff:10.0.0.0/104", AF_INET6, 104, "::ffff:10.0.0.0");
}

static void test_prefix_invalid(void **state)
{
	(void)state;
	expect_bad_prefix("", "empty prefix");
	expect_bad_prefix("10.0.0.0/", "missing prefix length after '/'");
	expect_bad_prefix("10.0.0.0/x", "bad prefix length (expected a number after '/')");
	expect_bad_prefix("10.0.0.0/-1", "bad prefix length (expected a number after '/')");
	expect_bad_prefix("10.0.0.0/8/8", "bad prefix length (expected a number after '/')");
	expect_bad_prefix("10.0.0.0/ 8", "bad prefix length (expected a number after '/')");
	expect_bad_prefix("10.0.0.0/33", "prefix length out of range (0-32 for IPv4)");
	expect_bad_prefix("10.0.0.0/99999999999",
			  "bad prefix length (expected a number after '/')");
	expect_bad_prefix("::/129", "prefix length out of range (0-128 for IPv6)");
	expect_bad_prefix("10.0.0/8", "not an IPv4 or IPv6 address");
	expect_bad_prefix("10.0.0.256/32", "not an IPv4 or IPv6 address");
	expect_bad_prefix("localhost", "not an IPv4 or IPv6 address");
	expect_bad_prefix(" 10.0.0.0/8", "not an IPv4 or IPv6 address");
	expect_bad_prefix("fc00:::/7", "not an IPv6 address");
	expect_bad_prefix("/8", "not an IPv4 or IPv6 address");
	expect_bad_prefix("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255/128/extra",
			  "prefix too long");
}

static void test_prefix_host_bits(void **state)
{
	struct acl_prefix p;
	const char *why;
	const uint8_t net[4] = {10, 0, 0, 0};

	(void)state;
	expect_bad_prefix("10.0.0.1/8", "host bits set beyond the prefix length");
	expect_bad_prefix("192.168.1.0/16", "host bits set beyond the prefix length");
	expect_bad_prefix("172.17.0.0/12", "host bits set beyond the prefix length");
	expect_bad_prefix("::1/64", "host bits set beyond the prefix length");
	expect_bad_prefix("fc01::/7", "host bits set beyond the prefix length");
	expect_bad_prefix("1.0.0.0/0", "host bits set beyond the prefix length");
	expect_bad_prefix("172.31.0.0/12", "host bits set beyond the prefix length");
	/* The last bit inside the prefix is a network bit, not a host bit. */
	expect_prefix("172.16.0.0/12", AF_INET, 12, "172.16.0.0");
	expect_prefix("10.0.0.128/25", AF_INET, 25, "10.0.0.128");
	expect_bad_prefix("fd00::/7", "host bits set beyond the prefix length");
	expect_prefix("fe80::/9", AF_INET6, 9, "fe80::");

	/* The masked network stays in *out so config can suggest it. */
	assert_int_equal(acl_parse_prefix("10.1.2.3/8", &p, &why), -EINVAL);
	assert_int_equal(p.family, AF_INET);
	assert_int_equal(p.bits, 8);
	assert_memory_equal(p.addr, net, 4);
}

/* ---- acl_match ---- */

static void test_match_v4(void **state)
{
	static const char *const prefixes[] = {"10.0.0.0/8", "192.168.1.0/24", "198.51.100.7",
					       "172.16.0.0/12", NULL};
	struct acl *acl = make_acl(prefixes);

	(void)state;
	assert_true(match(acl, v4("10.0.0.0", 1)));
	assert_true(match(acl, v4("10.255.255.255", 53)));
	assert_false(match(acl, v4("11.0.0.0", 53)));
	assert_false(match(acl, v4("9.255.255.255", 53)));
	assert_true(match(acl, v4("192.168.1.200", 53)));
	assert_false(match(acl, v4("192.168.2.1", 53)));
	assert_true(match(acl, v4("198.51.100.7", 53)));
	assert_false(match(acl, v4("198.51.100.8", 53)));
	assert_true(match(acl, v4("172.31.255.255", 53)));
	assert_false(match(acl, v4("172.32.0.0", 53)));
	assert_false(match(acl, v4("172.15.255.255", 53)));
	/* IPv4 prefixes never match a native IPv6 address. */
	assert_false(match(acl, v6("a00::1", 53)));
	assert_false(match(acl, v6("::10.0.0.1", 53))); /* IPv4-compatible, not mapped */
	free(acl);
}

static void test_match_v6(void **state)
{
	static const char *const prefixes[] = {"::1/128", "fc00::/7", "fe80::/10",
					       "2001:db8:abcc::/47", NULL};
	struct acl *acl = make_acl(prefixes);

	(void)state;
	assert_true(match(acl, v6("::1", 53)));
	assert_false(match(acl, v6("::2", 53)));
	assert_false(match(acl, v6("::", 53)));
	assert_true(match(acl, v6("fc00::1", 53)));
	assert_true(match(acl, v6("fdff:ffff::1", 53)));
	assert_false(match(acl, v6("fe00::1", 53)));
	assert_true(match(acl, v6("fe80::1", 53)));
	assert_true(match(acl, v6("febf:ffff::1", 53)));
	assert_false(match(acl, v6("fec0::1", 53)));
	assert_true(match(acl, v6("2001:db8:abcc::1", 53)));
	assert_true(match(acl, v6("2001:db8:abcd:ffff::1", 53)));
	assert_false(match(acl, v6("2001:db8:abcb:ffff::1", 53)));
	assert_false(match(acl, v6("2001:db8:abce::1", 53)));
	/* IPv6 prefixes never match an IPv4 client. */
	assert_false(match(acl, v4("127.0.0.1", 53)));
	free(acl);
}

static void test_match_mapped(void **state)
{
	static const char *const prefixes[] = {"127.0.0.0/8", "10.0.0.0/8", NULL};
	static const char *const v6only[] = {"::ffff:192.0.2.0/120", NULL};
	struct acl *acl = make_acl(prefixes), *acl6 = make_acl(v6only);

	(void)state;
	/* A dual-stack socket reports IPv4 clients as ::ffff:a.b.c.d. */
	assert_true(match(acl, v6("::ffff:127.0.0.1", 53)));
	assert_true(match(acl, v6("::ffff:10.9.8.7", 53)));
	assert_false(match(acl, v6("::ffff:11.0.0.1", 53)));
	assert_false(match(acl, v6("::ffff:192.168.0.1", 53)));
	/* A mapped IPv6 prefix still matches as IPv6. */
	assert_true(match(acl6, v6("::ffff:192.0.2.9", 53)));
	assert_false(match(acl6, v6("::ffff:192.0.3.9", 53)));
	assert_false(match(acl6, v4("192.0.2.9", 53)));
	free(acl);
	free(acl6);
}

static void test_match_edge(void **state)
{
	static const char *const all[] = {"0.0.0.0/0", "::/0", NULL};
	struct acl *acl = make_acl(all);
	struct acl empty = {.n = 0};
	struct sockaddr_storage unix_ss;

	(void)state;
	memset(&unix_ss, 0, sizeof(unix_ss));
	assert_true(match(acl, v4("203.0.113.9", 53)));
	assert_true(match(acl, v6("2001:db8::9", 53)));
	assert_false(match(&empty, v4("127.0.0.1", 53)));
	assert_false(acl_match(NULL, (const struct sockaddr *)&unix_ss));
	unix_ss.ss_family = AF_UNIX;
	assert_false(match(acl, unix_ss));
	free(acl);
}

/* ---- addr ---- */

static void expect_addr(const char *s, uint16_t def, const char *formatted)
{
	struct sockaddr_storage ss;
	const char *why = "unset";
	char buf[INET6_ADDRSTRLEN + 8];

	assert_int_equal(addr_parse(s, def, &ss, &why), 0);
	assert_null(why);
	addr_format((const struct sockaddr *)&ss, buf, sizeof(buf));
	assert_string_equal(buf, formatted);
}

static void expect_bad_addr(const char *s, const char *why_expected)
{
	struct sockaddr_storage ss;
	const char *why = NULL;

	assert_int_equal(addr_parse(s, 53, &ss, &why), -EINVAL);
	assert_non_null(why);
	assert_string_equal(why, why_expected);
}

static void test_addr_parse_valid(void **state)
{
	struct sockaddr_storage ss;
	const char *why;

	(void)state;
	expect_addr("192.0.2.1", 53, "192.0.2.1:53");
	expect_addr("192.0.2.1", 5353, "192.0.2.1:5353");
	expect_addr("192.0.2.1:5353", 53, "192.0.2.1:5353");
	expect_addr("0.0.0.0:1", 53, "0.0.0.0:1");
	expect_addr("255.255.255.255:65535", 53, "255.255.255.255:65535");
	expect_addr("127.0.0.1:053", 1, "127.0.0.1:53");
	expect_addr("::1", 53, "[::1]:53");
	expect_addr("2001:db8::1", 853, "[2001:db8::1]:853");
	expect_addr("[::1]", 53, "[::1]:53");
	expect_addr("[::1]:5353", 53, "[::1]:5353");
	expect_addr("[2001:DB8:0:0::1]:53", 1, "[2001:db8::1]:53");
	expect_addr("::ffff:192.0.2.1", 53, "[::ffff:192.0.2.1]:53");
	expect_addr("[fe80::1%7]:53", 1, "[fe80::1%7]:53");

	assert_int_equal(addr_parse("192.0.2.1:5353", 53, &ss, &why), 0);
	assert_int_equal(ss.ss_family, AF_INET);
	assert_int_equal(addr_port((struct sockaddr *)&ss), 5353);
	assert_int_equal(addr_len((struct sockaddr *)&ss), sizeof(struct sockaddr_in));
	assert_int_equal(addr_parse("[::1]:5353", 53, &ss, &why), 0);
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_int_equal(addr_port((struct sockaddr *)&ss), 5353);
	assert_int_equal(addr_len((struct sockaddr *)&ss), sizeof(struct sockaddr_in6));
}

static void test_addr_parse_invalid(void **state)
{
	static const char bad_port[] = "bad port (expected 1..65535)";
	static const char not_ip[] = "not an IP address (host names are not resolved)";

	(void)state;
	expect_bad_addr("", "empty address");
	expect_bad_addr("192.0.2.1:0", bad_port);
	expect_bad_addr("192.0.2.1:65536", bad_port);
	expect_bad_addr("192.0.2.1:100000", bad_port);
	expect_bad_addr("192.0.2.1:", bad_port);
	expect_bad_addr("192.0.2.1:53x", bad_port);
	expect_bad_addr("192.0.2.1:-53", bad_port);
	expect_bad_addr("192.0.2.1:+53", bad_port);
	expect_bad_addr("192.0.2.1: 53", bad_port);
	expect_bad_addr("[::1]:0", bad_port);
	expect_bad_addr("[::1]:", bad_port);
	expect_bad_addr("[::1]:99999", bad_port);
	expect_bad_addr(":53", "missing address before ':'");
	expect_bad_addr("localhost:53", not_ip);
	expect_bad_addr("192.0.2", not_ip);
	expect_bad_addr("192.0.2.1 ", not_ip);
	expect_bad_addr("192.0.2.256", not_ip);
	expect_bad_addr("garbage", not_ip);
	expect_bad_addr("[::1", "missing ']' after the IPv6 address");
	expect_bad_addr("[::1]x", "junk after ']' (expected ':PORT' or nothing)");
	expect_bad_addr("[::1]53", "junk after ']' (expected ':PORT' or nothing)");
	expect_bad_addr("[]:53", "empty address in brackets");
	expect_bad_addr("[192.0.2.1]:53", "brackets are only for IPv6 addresses");
	expect_bad_addr("[::g]:53", "not an IPv6 address");
	expect_bad_addr("1:2:3", "not an IPv6 address");
	expect_bad_addr("[fe80::1%]:53",
			"bad IPv6 scope id (expected a number or an interface name)");
	expect_bad_addr("[fe80::1%no-such-if0]:53",
			"bad IPv6 scope id (expected a number or an interface name)");
	expect_bad_addr("[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255%abcdefghijklmnopqrs]:53",
			"address too long");
}

static void test_addr_format_equal(void **state)
{
	struct sockaddr_storage a = v4("192.0.2.1", 53), b = v4("192.0.2.1", 53);
	struct sockaddr_storage c = v6("2001:db8::1", 53), d = v6("2001:db8::1", 53);
	char buf[INET6_ADDRSTRLEN + 8], tiny[6];

	(void)state;
	addr_format((struct sockaddr *)&a, buf, sizeof(buf));
	assert_string_equal(buf, "192.0.2.1:53");
	addr_format((struct sockaddr *)&c, buf, sizeof(buf));
	assert_string_equal(buf, "[2001:db8::1]:53");
	c = v6("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", 65535);
	addr_format((struct sockaddr *)&c, buf, sizeof(buf));
	assert_string_equal(buf, "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535");
	addr_format((struct sockaddr *)&a, tiny, sizeof(tiny)); /* truncated, terminated */
	assert_string_equal(tiny, "192.0");

	c = v6("2001:db8::1", 53);
	assert_true(addr_equal((struct sockaddr *)&a, (struct sockaddr *)&b));
	assert_true(addr_equal((struct sockaddr *)&c, (struct sockaddr *)&d));
	b = v4("192.0.2.1", 54);
	assert_false(addr_equal((struct sockaddr *)&a, (struct sockaddr *)&b));
	b = v4("192.0.2.2", 53);
	assert_false(addr_equal((struct sockaddr *)&a, (struct sockaddr *)&b));
	d = v6("2001:db8::2", 53);
	assert_false(addr_equal((struct sockaddr *)&c, (struct sockaddr *)&d));
	d = v6("::ffff:192.0.2.1", 53);
	assert_false(addr_equal((struct sockaddr *)&a, (struct sockaddr *)&d));
	assert_int_equal(addr_port((struct sockaddr *)&d), 53);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prefix_valid),
		cmocka_unit_test(test_prefix_invalid),
		cmocka_unit_test(test_prefix_host_bits),
		cmocka_unit_test(test_match_v4),
		cmocka_unit_test(test_match_v6),
		cmocka_unit_test(test_match_mapped),
		cmocka_unit_test(test_match_edge),
		cmocka_unit_test(test_addr_parse_valid),
		cmocka_unit_test(test_addr_parse_invalid),
		cmocka_unit_test(test_addr_format_equal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
