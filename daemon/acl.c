/* SPDX-License-Identifier: MIT */
#include "acl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

/* "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255/128" is the longest valid prefix. */
#define PREFIX_MAX (INET6_ADDRSTRLEN + 4)

/* True when the first bits of a and b are equal. */
static bool bits_equal(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned bytes = bits / 8, rest = bits % 8;

	if (memcmp(a, b, bytes) != 0)
		return false;
	if (rest) {
		uint8_t mask = (uint8_t)(0xff << (8 - rest));

		return (a[bytes] & mask) == (b[bytes] & mask);
	}
	return true;
}

/* Clear the bits beyond the prefix; returns true when any was set. */
static bool clear_host_bits(uint8_t *addr, unsigned bits, unsigned total)
{
	bool had = false;

	for (unsigned i = bits; i < total; i++) {
		uint8_t m = (uint8_t)(0x80 >> (i % 8));

		if (addr[i / 8] & m) {
			had = true;
			addr[i / 8] &= (uint8_t)~m;
		}
	}
	return had;
}

/*
 * On the "host bits" error, *out still holds the prefix with the host bits cleared so that
 * the caller can suggest the network address the user probably meant.
 */
int acl_parse_prefix(const char *s, struct acl_prefix *out, const char **why)
{
	char buf[PREFIX_MAX + 1];
	char *slash;
	unsigned bits = 0, total;
	size_t n = s ? strlen(s) : 0;

	*why = NULL;
	if (n == 0) {
		*why = "empty prefix";
		return -EINVAL;
	}
	if (n > PREFIX_MAX) {
		*why = "prefix too long";
		return -EINVAL;
	}
	memcpy(buf, s, n + 1);
	memset(out, 0, sizeof(*out));

	slash = strchr(buf, '/');
	if (slash) {
		const char *p = slash + 1;

		*slash = '\0';
		if (!*p) {
			*why = "missing prefix length after '/'";
			return -EINVAL;
		}
		for (; *p; p++) {
			if (*p < '0' || *p > '9' || bits > 128) {
				*why = "bad prefix length (expected a number after '/')";
				return -EINVAL;
			}
			bits = bits * 10 + (unsigned)(*p - '0');
		}
	}

	if (strchr(buf, ':')) {
		if (inet_pton(AF_INET6, buf, out->addr) != 1) {
			*why = "not an IPv6 address";
			return -EINVAL;
		}
		out->family = AF_INET6;
		total = 128;
	} else {
		if (inet_pton(AF_INET, buf, out->addr) != 1) {
			*why = "not an IPv4 or IPv6 address";
			return -EINVAL;
		}
		out->family = AF_INET;
		total = 32;
	}
	if (!slash)
		bits = total;
	if (bits > total) {
		*why = total == 32 ? "prefix length out of range (0-32 for IPv4)"
				   : "prefix length out of range (0-128 for IPv6)";
		return -EINVAL;
	}
	out->bits = (uint8_t)bits;
	if (clear_host_bits(out->addr, bits, total)) {
		*why = "host bits set beyond the prefix length";
		return -EINVAL;
	}
	return 0;
}

bool acl_match(const struct acl *acl, const struct sockaddr *sa)
{
	const uint8_t *v4 = NULL, *v6 = NULL;

	if (!acl || !sa)
		return false;
	if (sa->sa_family == AF_INET) {
		v4 = (const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr;
	} else if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;

		v6 = a6->s6_addr;
		/* A dual-stack socket sees IPv4 clients as ::ffff:a.b.c.d. */
		if (IN6_IS_ADDR_V4MAPPED(a6))
			v4 = v6 + 12;
	} else {
		return false;
	}

	for (size_t i = 0; i < acl->n; i++) {
		const struct acl_prefix *p = &acl->v[i];

		if (p->family == AF_INET && v4 && bits_equal(p->addr, v4, p->bits))
			return true;
		if (p->family == AF_INET6 && v6 && bits_equal(p->addr, v6, p->bits))
			return true;
	}
	return false;
}
