/* SPDX-License-Identifier: MIT */
/*
 * AdBlock-style lists (`adblock`), as DNS filters read them: "||name^" blocks name and its
 * subdomains, "@@||name^" allows them; "!" lines and the "[Adblock Plus 2.0]" header are
 * comments. Everything else a browser filter list holds has no exact DNS meaning: cosmetic
 * rules ("##", "#@#", "#?#", ...), regular expressions ("/.../"), URL and path patterns,
 * and rules with modifiers ("$third-party", "$domain=", "$dnsrewrite=", ...) that would
 * restrict or change what the rule does. Those are skipped and counted by reason, never
 * applied as something else. The one modifier accepted is "$important", which only ranks
 * rules inside a browser (exceptions still win here, as everywhere in sinkholed).
 *
 * A feed: a rule whose name is invalid is counted and reported, and the rest is used.
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "formats/format.h"
#include "policy/builder.h"
#include "util/name.h"

static inline bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

static bool has(const char *s, const char *e, const char *needle)
{
	size_t n = strlen(needle);

	for (; e - s >= (ptrdiff_t)n; s++)
		if (memcmp(s, needle, n) == 0)
			return true;
	return false;
}

/* A cosmetic or scriptlet rule: element hiding and its exceptions, CSS, JS, HTML filters. */
static bool is_cosmetic(const char *s, const char *e)
{
	static const char *const seps[] = {"##",   "#@#", "#?#",  "#@?#", "#$#",
					   "#@$#", "#%#", "#@%#", "$$",	  "$@$"};

	for (size_t i = 0; i < sizeof(seps) / sizeof(seps[0]); i++)
		if (has(s, e, seps[i]))
			return true;
	return false;
}

/* True when every option of "opt1,opt2,..." (s..e) leaves a DNS block or allow as it is. */
static bool harmless_options(const char *s, const char *e)
{
	while (s < e) {
		const char *c = memchr(s, ',', (size_t)(e - s));
		const char *oe = c ? c : e;

		if (!(oe - s == 9 && strncasecmp(s, "important", 9) == 0))
			return false;
		s = c ? c + 1 : e;
	}
	return true;
}

static bool is_address(const char *s, size_t n)
{
	char buf[64];
	uint8_t a[16];

	if (n == 0 || n >= sizeof(buf))
		return false;
	memcpy(buf, s, n);
	buf[n] = 0;
	return inet_pton(AF_INET, buf, a) == 1 || inet_pton(AF_INET6, buf, a) == 1;
}

/* One rule (no comment, trimmed) s..e starting at column col of line. */
static void rule(struct list_builder *lb, const char *s, const char *e, int line, int col)
{
	const char *name, *ne, *opt;
	bool allow = false;
	uint8_t wire[255];
	const char *why;
	char shown[80];
	int len;

	if (is_cosmetic(s, e)) {
		lb_skip(lb, "cosmetic rule");
		return;
	}
	if (e - s >= 2 && s[0] == '@' && s[1] == '@') {
		allow = true;
		s += 2;
		col += 2;
	}
	if (e - s >= 2 && s[0] == '/' && (memchr(s + 1, '/', (size_t)(e - s - 1)))) {
		/* "/regex/" or "/regex/$options": a regular expression, not a name. */
		const char *last = e - 1;

		while (last > s && *last != '/')
			last--;
		if (last > s && (last == e - 1 || last[1] == '$')) {
			lb_skip(lb, "regular expression rule");
			return;
		}
	}
	opt = memchr(s, '$', (size_t)(e - s));
	if (opt && !harmless_options(opt + 1, e)) {
		lb_skip(lb, "rule with a modifier other than $important");
		return;
	}
	if (opt)
		e = opt;
	if (e - s < 2 || s[0] != '|' || s[1] != '|') {
		lb_skip(lb, "URL or path pattern");
		return;
	}
	name = s + 2;
	/* The name ends at the separator "^" (optionally "^|"); anything else is a pattern. */
	for (ne = name; ne < e && *ne != '^'; ne++) {
		if (*ne == '/' || *ne == '*' || *ne == ':' || *ne == '|' || *ne == '?' ||
		    *ne == '=' || *ne == '&' || is_space(*ne)) {
			lb_skip(lb, "URL or path pattern");
			return;
		}
	}
	if (ne == e || !(e - ne == 1 || (e - ne == 2 && ne[1] == '|'))) {
		/* "||name" without "^" also matches "name.evil" and "namex": a pattern. */
		lb_skip(lb, "URL or path pattern");
		return;
	}
	if (is_address(name, (size_t)(ne - name))) {
		lb_skip(lb, "address rule");
		return;
	}
	len = name_to_wire(name, (size_t)(ne - name), wire, &why);
	if (len < 0) {
		lb_invalid(lb, line, col + 2, "invalid domain \"%s\": %s",
			   lb_shown(name, (size_t)(ne - name), shown), why);
		return;
	}
	if (allow)
		lb_allow(lb, wire, (size_t)len, MATCH_SUBTREE);
	else
		lb_block(lb, wire, (size_t)len, NULL);
}

void format_adblock_parse(struct list_builder *lb, const char *text, size_t len)
{
	const char *p = text, *end = text + len;
	int line = 0;

	while (p < end && !lb_failed(lb)) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *bol = p, *s = p, *e = eol ? eol : end;

		p = eol ? eol + 1 : end;
		line++;
		while (s < e && is_space(*s))
			s++;
		while (e > s && is_space(e[-1]))
			e--;
		if (s == e)
			continue;
		if (*s == '!') {
			/* "!#include" pulls in another list: its rules would be missing. */
			if (e - s >= 9 && memcmp(s, "!#include", 9) == 0)
				lb_skip(lb, "!#include directive");
			continue;
		}
		if (*s == '[' && e[-1] == ']')
			continue; /* "[Adblock Plus 2.0]" */
		if (*s == '#' && !is_cosmetic(s, e))
			continue; /* a hosts-style comment, as DNS filters take it */
		rule(lb, s, e, line, (int)(s - bol) + 1);
	}
}
