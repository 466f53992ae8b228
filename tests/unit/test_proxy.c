/* SPDX-License-Identifier: MIT */
/* The PROXY protocol v2 header parser (daemon/proxy.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <string.h>

#include "proxy.h"

static const uint8_t SIG[12] = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
				0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a};

/* A header: version 2, cmd, fam, then len bytes of body. */
static size_t header(uint8_t *out, uint8_t cmd, uint8_t fam, const uint8_t *body, size_t len)
{
	memcpy(out, SIG, 12);
	out[12] = (uint8_t)(0x20 | cmd);
	out[13] = fam;
	out[14] = (uint8_t)(len >> 8);
	out[15] = (uint8_t)len;
	memcpy(out + 16, body, len);
	return 16 + len;
}

static void test_ipv4(void **state)
{
	uint8_t body[12 + 5] = {10, 1, 2, 3, 127, 0, 0, 1, 0xcf, 0x04, 0, 53, 4, 0, 2, 'h', 'i'};
	uint8_t buf[64];
	struct sockaddr_storage ss = {0};
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)&ss;
	size_t n = header(buf, 1, 0x12, body, sizeof(body)); /* UDP over IPv4, with a TLV */

	(void)state;
	assert_int_equal(proxy_parse(buf, n + 7, &ss), (int)n); /* the query follows */
	assert_int_equal(ss.ss_family, AF_INET);
	assert_int_equal(ntohl(s4->sin_addr.s_addr), 0x0a010203);
	assert_int_equal(ntohs(s4->sin_port), 0xcf04);
	/* Partial: more bytes needed, at every length short of the whole header. */
	for (size_t k = 1; k < n; k++)
		assert_int_equal(proxy_parse(buf, k, &ss), -2);
}

static void test_ipv6_local_unspec(void **state)
{
	uint8_t body[36] = {0x20, 0x01, 0x0d, 0xb8};
	uint8_t buf[64];
	struct sockaddr_storage ss = {0};
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&ss;
	size_t n;

	(void)state;
	body[15] = 1;
	body[32] = 0x12;
	body[33] = 0x34;
	n = header(buf, 1, 0x21, body, sizeof(body));
	assert_int_equal(proxy_parse(buf, n, &ss), (int)n);
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_int_equal(s6->sin6_addr.s6_addr[0], 0x20);
	assert_int_equal(s6->sin6_addr.s6_addr[15], 1);
	assert_int_equal(ntohs(s6->sin6_port), 0x1234);
	/* LOCAL (the proxy's own health check) and AF_UNSPEC keep the peer's address. */
	memset(&ss, 0, sizeof(ss));
	n = header(buf, 0, 0x12, body, 12);
	assert_int_equal(proxy_parse(buf, n, &ss), (int)n);
	assert_int_equal(ss.ss_family, 0);
	n = header(buf, 1, 0x00, body, 0);
	assert_int_equal(proxy_parse(buf, n, &ss), (int)n);
	assert_int_equal(ss.ss_family, 0);
}

static void test_not_a_header_and_malformed(void **state)
{
	uint8_t dns[12] = {0x0d, 0x0a, 0x01, 0x00, 0, 1}; /* a query whose ID is 0x0d0a */
	uint8_t body[40] = {0};
	uint8_t buf[64];
	struct sockaddr_storage ss = {0};
	size_t n;

	(void)state;
	assert_int_equal(proxy_parse(dns, sizeof(dns), &ss), 0);
	n = header(buf, 1, 0x12, body, 8); /* IPv4 needs 12 bytes */
	assert_int_equal(proxy_parse(buf, n, &ss), -1);
	n = header(buf, 1, 0x32, body, 40); /* AF_UNIX */
	assert_int_equal(proxy_parse(buf, n, &ss), -1);
	n = header(buf, 2, 0x12, body, 12); /* no such command */
	assert_int_equal(proxy_parse(buf, n, &ss), -1);
	n = header(buf, 1, 0x12, body, 12);
	buf[12] = 0x11; /* version 1 */
	assert_int_equal(proxy_parse(buf, n, &ss), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4),
		cmocka_unit_test(test_ipv6_local_unspec),
		cmocka_unit_test(test_not_a_header_and_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
