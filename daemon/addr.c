/* SPDX-License-Identifier: MIT */
#include "addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest host part we accept: an IPv6 literal plus "%" and an interface name. */
#define HOST_MAX (INET6_ADDRSTRLEN + IF_NAMESIZE + 1)

/* "1".."65535", decimal digits only: no sign, no spaces, no trailing junk. */
static int parse_port(const char *s, uint16_t *out)
{
	unsigned long v = 0;
	size_t i;

	for (i = 0; s[i]; i++) {
		if (s[i] < '0' || s[i] > '9' || i >= 5)
			return -EINVAL;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (i == 0 || v == 0 || v > 65535)
		return -EINVAL;
	*out = (uint16_t)v;
	return 0;
}

/* A decimal scope id or an interface name ("fe80::1%2", "fe80::1%eth0"). */
static int parse_scope(const char *s, uint32_t *out)
{
	unsigned long long v = 0;
	size_t i;

	if (!*s)
		return -EINVAL;
	for (i = 0; s[i] >= '0' && s[i] <= '9' && i < 10; i++)
		v = v * 10 + (unsigned long long)(s[i] - '0');
	if (!s[i]) {
		if (v == 0 || v > UINT32_MAX)
			return -EINVAL;
		*out = (uint32_t)v;
		return 0;
	}
	*out = if_nametoindex(s);
	return *out ? 0 : -EINVAL;
}

static int parse_ipv6(char *host, uint16_t port, struct sockaddr_storage *out, const char **why)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)out;
	char *pct = strchr(host, '%');
	uint32_t scope = 0;

	if (pct) {
		*pct = '\0';
		if (parse_scope(pct + 1, &scope) < 0) {
			*why = "bad IPv6 scope id (expected a number or an interface name)";
			return -EINVAL;
		}
	}
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1) {
		*why = "not an IPv6 address";
		return -EINVAL;
	}
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	sin6->sin6_scope_id = scope;
	return 0;
}

static int parse_ipv4(const char *host, uint16_t port, struct sockaddr_storage *out,
		      const char **why)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)out;

	memset(out, 0, sizeof(*out));
	/* inet_pton, unlike inet_aton, rejects "1.2.3", "01.2.3.4" and trailing junk. */
	if (inet_pton(AF_INET, host, &sin->sin_addr) != 1) {
		*why = "not an IP address (host names are not resolved)";
		return -EINVAL;
	}
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	return 0;
}

int addr_parse(const char *s, uint16_t default_port, struct sockaddr_storage *out,
	       const char **why)
{
	char host[HOST_MAX + 1];
	const char *colon, *end;
	uint16_t port = default_port;
	size_t n;

	*why = NULL;
	if (!s || !*s) {
		*why = "empty address";
		return -EINVAL;
	}
	if (s[0] == '[') {
		end = strchr(s, ']');
		if (!end) {
			*why = "missing ']' after the IPv6 address";
			return -EINVAL;
		}
		if (end[1] == ':') {
			if (parse_port(end + 2, &port) < 0) {
				*why = "bad port (expected 1..65535)";
				return -EINVAL;
			}
		} else if (end[1]) {
			*why = "junk after ']' (expected ':PORT' or nothing)";
			return -EINVAL;
		}
		n = (size_t)(end - s - 1);
		if (n == 0 || n > HOST_MAX) {
			*why = n ? "address too long" : "empty address in brackets";
			return -EINVAL;
		}
		memcpy(host, s + 1, n);
		host[n] = '\0';
		if (!strchr(host, ':')) {
			*why = "brackets are only for IPv6 addresses";
			return -EINVAL;
		}
		goto v6;
	}

	colon = strchr(s, ':');
	if (colon && strchr(colon + 1, ':')) {
		/* Two or more colons: a bare IPv6 address, which cannot carry a port. */
		n = strlen(s);
		if (n > HOST_MAX) {
			*why = "address too long";
			return -EINVAL;
		}
		memcpy(host, s, n + 1);
		port = default_port;
		goto v6;
	}
	n = colon ? (size_t)(colon - s) : strlen(s);
	if (n == 0 || n > HOST_MAX) {
		*why = n ? "address too long" : "missing address before ':'";
		return -EINVAL;
	}
	memcpy(host, s, n);
	host[n] = '\0';
	if (colon && parse_port(colon + 1, &port) < 0) {
		*why = "bad port (expected 1..65535)";
		return -EINVAL;
	}
	if (port == 0) {
		*why = "bad port (expected 1..65535)";
		return -EINVAL;
	}
	return parse_ipv4(host, port, out, why);

v6:
	if (port == 0) {
		*why = "bad port (expected 1..65535)";
		return -EINVAL;
	}
	return parse_ipv6(host, port, out, why);
}

socklen_t addr_len(const struct sockaddr *sa)
{
	switch (sa->sa_family) {
	case AF_INET:
		return sizeof(struct sockaddr_in);
	case AF_INET6:
		return sizeof(struct sockaddr_in6);
	default:
		return 0;
	}
}

void addr_format(const struct sockaddr *sa, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN];

	if (!len)
		return;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;

		inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
		snprintf(buf, len, "%s:%u", ip, ntohs(sin->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;

		inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof(ip));
		if (sin6->sin6_scope_id)
			snprintf(buf, len, "[%s%%%u]:%u", ip, (unsigned)sin6->sin6_scope_id,
				 ntohs(sin6->sin6_port));
		else
			snprintf(buf, len, "[%s]:%u", ip, ntohs(sin6->sin6_port));
	} else {
		snprintf(buf, len, "(family %d)", sa->sa_family);
	}
}

uint16_t addr_port(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)sa)->sin_port);
	if (sa->sa_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	return 0;
}

int addr_equal(const struct sockaddr *a, const struct sockaddr *b)
{
	if (a->sa_family != b->sa_family)
		return 0;
	if (a->sa_family == AF_INET) {
		const struct sockaddr_in *x = (const struct sockaddr_in *)a;
		const struct sockaddr_in *y = (const struct sockaddr_in *)b;

		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->sa_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const struct sockaddr_in6 *)a;
		const struct sockaddr_in6 *y = (const struct sockaddr_in6 *)b;

		return x->sin6_port == y->sin6_port && x->sin6_scope_id == y->sin6_scope_id &&
		       memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0;
	}
	return 0;
}
