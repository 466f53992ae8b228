/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "ratelimit.h"

static struct sockaddr_storage addr(const char *text)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (strchr(text, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, text, &s6->sin6_addr), 1);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, text, &s4->sin_addr), 1);
	}
	return ss;
}

static const struct ratelimit_conf conf = {
	.qps = 10, .burst = 20, .ipv4_prefix = 32, .ipv6_prefix = 56};

/* Count how many of n queries at one instant pass. */
static int passes(struct ratelimit *rl, const struct ratelimit_conf *c, unsigned share,
		  const char *who, int n, uint64_t now)
{
	struct sockaddr_storage ss = addr(who);
	int ok = 0;

	for (int i = 0; i < n; i++)
		ok += ratelimit_check(rl, c, share, (struct sockaddr *)&ss, now) == RATELIMIT_PASS;
	return ok;
}

static void burst_then_refill(void **state)
{
	struct ratelimit *rl = ratelimit_new(1024);

	(void)state;
	assert_int_equal(passes(rl, &conf, 1, "192.0.2.1", 50, 1000), 20); /* the burst */
	assert_int_equal(passes(rl, &conf, 1, "192.0.2.1", 50, 1500), 5);  /* 0.5 s × 10 qps */
	assert_int_equal(passes(rl, &conf, 1, "192.0.2.1", 50, 11500), 20); /* refilled, capped */
	ratelimit_free(rl);
}

static void prefixes(void **state)
{
	struct ratelimit *rl = ratelimit_new(1024);

	(void)state;
	/* IPv4 /32: a neighbour has its own bucket. */
	assert_int_equal(passes(rl, &conf, 1, "192.0.2.1", 30, 0), 20);
	assert_int_equal(passes(rl, &conf, 1, "192.0.2.2", 30, 0), 20);
	/* IPv6 /56: two hosts of one /56 share a bucket, another /56 does not. */
	assert_int_equal(passes(rl, &conf, 1, "2001:db8:0:100::1", 15, 0), 15);
	assert_int_equal(passes(rl, &conf, 1, "2001:db8:0:1ff::2", 15, 0), 5);
	assert_int_equal(passes(rl, &conf, 1, "2001:db8:0:200::1", 15, 0), 15);
	/* IPv4-mapped IPv6 is the IPv4 client. */
	assert_int_equal(passes(rl, &conf, 1, "::ffff:192.0.2.1", 5, 0), 0);
	ratelimit_free(rl);
}

static void log_once_a_minute(void **state)
{
	struct ratelimit *rl = ratelimit_new(64);
	struct sockaddr_storage ss = addr("198.51.100.9");
	const struct sockaddr *sa = (const struct sockaddr *)&ss;
	int logs = 0;

	(void)state;
	for (uint64_t t = 1; t < 150000; t += 10)
		for (int i = 0; i < 5; i++)
			logs += ratelimit_check(rl, &conf, 1, sa, t) == RATELIMIT_LIMITED_LOG;
	assert_int_equal(logs, 3); /* at about 0 s, 60 s, 120 s */
	ratelimit_free(rl);
}

static void off_and_share(void **state)
{
	struct ratelimit *rl = ratelimit_new(64);
	struct ratelimit_conf off = conf;

	(void)state;
	off.qps = 0;
	assert_int_equal(passes(rl, &off, 1, "192.0.2.1", 1000, 0), 1000);
	/* Two workers share a client: each allows half the burst. */
	assert_int_equal(passes(rl, &conf, 2, "192.0.2.3", 30, 0), 10);
	ratelimit_free(rl);
}

static void bounded_under_many_clients(void **state)
{
	struct ratelimit *rl = ratelimit_new(256);
	char text[32];

	(void)state;
	/* 100k distinct clients through a 256-slot table: old ones are forgotten, no growth. */
	for (int i = 0; i < 100000; i++) {
		snprintf(text, sizeof(text), "10.%d.%d.%d", (i >> 16) & 255, (i >> 8) & 255, i & 255);
		assert_int_equal(passes(rl, &conf, 1, text, 1, 5), 1);
	}
	/* A flooding client is still limited while it keeps being seen. */
	assert_int_equal(passes(rl, &conf, 1, "192.0.2.77", 100, 10), 20);
	ratelimit_free(rl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(burst_then_refill),
		cmocka_unit_test(prefixes),
		cmocka_unit_test(log_once_a_minute),
		cmocka_unit_test(off_and_share),
		cmocka_unit_test(bounded_under_many_clients),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
