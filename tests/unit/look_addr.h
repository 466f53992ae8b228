/* SPDX-License-Identifier: MIT */
/* Looking up an address of an upstream answer in unit tests. Include after cmocka.h. */
#ifndef SINKHOLED_TEST_LOOK_ADDR_H
#define SINKHOLED_TEST_LOOK_ADDR_H

#include <arpa/inet.h>
#include <string.h>

#include "policy/policy.h"

/* The decision on an address (IPv4 or IPv6 text) found in an answer at now. */
static inline enum verdict look_addr_at(const struct policy *p, const char *text, int64_t now,
					struct policy_match *m)
{
	uint8_t a[16];
	int family = strchr(text, ':') ? AF_INET6 : AF_INET;

	assert_int_equal(inet_pton(family, text, a), 1);
	policy_lookup_addr(p, family, a, now, m);
	return m->verdict;
}

#endif
