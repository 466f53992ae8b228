/* SPDX-License-Identifier: MIT */
/*
 * Line formats: `domains` (one name per line) and `hosts` (hosts(5) lines: an address, then
 * names, such as "0.0.0.0 a.example b.example"). '#' starts a comment. A `domains` list also
 * takes hosts lines, so that a feed can mix them. The usual hosts-file boilerplate
 * (localhost, broadcasthost, ...) is skipped, never blocked.
 *
 * These are feeds: an invalid line is counted and reported, and the rest of the list is used.
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "formats/format.h"
#include "policy/builder.h"
#include "util/name.h"

static inline bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* Hosts-file boilerplate that must not become a block entry. */
static bool hosts_boilerplate(const char *s, size_t n)
{
	static const char *const names[] = {
	    "localhost",     "localhost.localdomain", "local",	      "broadcasthost",
	    "ip6-localhost", "ip6-loopback",	      "ip6-localnet", "ip6-mcastprefix",
	    "ip6-allnodes",  "ip6-allrouters",	      "ip6-allhosts", "0.0.0.0"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i]) == n && memcmp(names[i], s, n) == 0)
			return true;
	return false;
}

/* True when s[0, n) is an IPv4 or IPv6 address (an optional %scope allowed): a hosts line. */
static bool is_ip(const char *s, size_t n)
{
	char buf[INET6_ADDRSTRLEN + 16];
	uint8_t a[16];
	const char *pct;

	if (n == 0 || n >= sizeof(buf))
		return false;
	memcpy(buf, s, n);
	buf[n] = 0;
	pct = strchr(buf, '%');
	if (pct)
		buf[pct - buf] = 0;
	return inet_pton(AF_INET, buf, a) == 1 || inet_pton(AF_INET6, buf, a) == 1;
}

/* Add one name of a line list at line:col (1-based); an invalid one is counted. */
static void text_name(struct list_builder *lb, const char *s, size_t n, int line, int col)
{
	uint8_t wire[255];
	int len = lb_feed_name(lb, s, n, line, col, wire);

	if (len > 0)
		lb_block(lb, wire, (size_t)len, NULL);
}

static void parse_lines(struct list_builder *lb, const char *text, size_t len, bool hosts_only)
{
	const char *p = text, *end = text + len;
	int line = 0;

	while (p < end && !lb_failed(lb)) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *bol = p, *s = p, *e = eol ? eol : end, *hash, *tok;

		p = eol ? eol + 1 : end;
		line++;
		while (s < e && is_space(*s))
			s++;
		if (s == e || *s == '#')
			continue;
		/* A comment after the names: " #..." */
		for (hash = s; (hash = memchr(hash, '#', (size_t)(e - hash))); hash++) {
			if (is_space(hash[-1])) {
				e = hash;
				break;
			}
		}
		while (e > s && is_space(e[-1]))
			e--;
		for (tok = s; tok < e && !is_space(*tok); tok++)
			;
		if (tok == e && !hosts_only) {
			/* The common case: one domain on the line. */
			text_name(lb, s, (size_t)(e - s), line, (int)(s - bol) + 1);
			continue;
		}
		if (!is_ip(s, (size_t)(tok - s))) {
			lb_invalid(lb, line, (int)(s - bol) + 1,
				   hosts_only
				       ? "expected a hosts-file line: an address, then names"
				       : "expected one domain per line (or a hosts-file line: "
					 "an address, then names)");
			continue;
		}
		if (tok == e) {
			lb_skip(lb, "address without names");
			continue;
		}
		for (s = tok; s < e;) {
			while (s < e && is_space(*s))
				s++;
			for (tok = s; tok < e && !is_space(*tok); tok++)
				;
			if (tok > s && !hosts_boilerplate(s, (size_t)(tok - s)))
				text_name(lb, s, (size_t)(tok - s), line, (int)(s - bol) + 1);
			s = tok;
		}
	}
}

void format_domains_parse(struct list_builder *lb, const char *text, size_t len)
{
	parse_lines(lb, text, len, false);
}

void format_hosts_parse(struct list_builder *lb, const char *text, size_t len)
{
	parse_lines(lb, text, len, true);
}
