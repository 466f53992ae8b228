/* SPDX-License-Identifier: MIT */
/** Client access control: a list of IPv4/IPv6 prefixes; clients outside get REFUSED. */
#ifndef SINKHOLED_ACL_H
#define SINKHOLED_ACL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct acl_prefix {
	uint8_t family;	  /**< AF_INET or AF_INET6 */
	uint8_t bits;	  /**< prefix length: 0-32 or 0-128 */
	uint8_t addr[16]; /**< network address, host bits zero */
};

/** An immutable list of prefixes (part of struct config). */
struct acl {
	size_t n;
	struct acl_prefix v[];
};

/**
 * Parse "10.0.0.0/8", "::1/128", or a bare address (= /32 or /128). Host bits set beyond the
 * prefix are an error (a typo like 10.0.0.1/8 is reported, not silently widened).
 * Returns 0 or -EINVAL with *why set to a static message.
 */
int acl_parse_prefix(const char *s, struct acl_prefix *out, const char **why);
/**
 * True when the address matches a prefix. IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) are
 * matched against the IPv4 prefixes.
 */
bool acl_match(const struct acl *acl, const struct sockaddr *sa);

#endif
