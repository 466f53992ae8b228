/* SPDX-License-Identifier: MIT */
#include "formats/format.h"

#include <string.h>

#include "util.h"

struct format_desc {
	const char *name;
	void (*parse)(struct list_builder *lb, const char *text, size_t len);
};

static const struct format_desc formats[FORMAT_COUNT] = {
    [FORMAT_AUTO] = {"auto", NULL},
    [FORMAT_YAML] = {"yaml", format_yaml_parse},
    [FORMAT_DOMAINS] = {"domains", format_domains_parse},
    [FORMAT_HOSTS] = {"hosts", format_hosts_parse},
    [FORMAT_ADBLOCK] = {"adblock", format_adblock_parse},
    [FORMAT_RPZ] = {"rpz", format_rpz_parse},
    [FORMAT_THREATFOX_CSV] = {"threatfox-csv", format_threatfox_csv_parse},
    [FORMAT_THREATFOX_JSON] = {"threatfox-json", format_threatfox_json_parse},
};

const char *format_name(enum list_format f)
{
	return (unsigned)f < FORMAT_COUNT ? formats[f].name : "?";
}

int format_by_name(const char *s)
{
	for (int f = 0; f < FORMAT_COUNT; f++)
		if (strcmp(s, formats[f].name) == 0)
			return f;
	return -1;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && strcmp(s + n - k, suffix) == 0;
}

enum list_format format_from_path(const char *path)
{
	if (ends_with(path, ".txt") || ends_with(path, ".list"))
		return FORMAT_DOMAINS;
	if (ends_with(path, ".hosts"))
		return FORMAT_HOSTS;
	if (ends_with(path, ".rpz"))
		return FORMAT_RPZ;
	if (ends_with(path, ".adblock"))
		return FORMAT_ADBLOCK;
	return FORMAT_YAML;
}

/* The first line that is not blank or a comment, as [*s, *e). */
static bool first_line(const char *text, size_t len, const char **s, const char **e)
{
	const char *p = text, *end = text + len;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *q = p, *qe = eol ? eol : end;

		p = eol ? eol + 1 : end;
		while (q < qe && (*q == ' ' || *q == '\t' || *q == '\r'))
			q++;
		if (q == qe || *q == '#')
			continue;
		*s = q;
		*e = qe;
		return true;
	}
	return false;
}

/*
 * ThreatFox's exports: the CSV one opens with '#' lines naming ThreatFox, or its header line
 * (# "first_seen_utc","ioc_id","ioc_value",...); the JSON one is an object ({"1234": [...).
 */
static int sniff_threatfox(const char *text, size_t len)
{
	const char *p = text, *end = text + (len < 4096 ? len : 4096);

	while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
		p++;
	if (p < end && *p == '{') {
		for (p++; p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n');)
			p++;
		if (p == end || *p == '"' || *p == '}')
			return FORMAT_THREATFOX_JSON;
		return -1;
	}
	while (p < end && *p == '#') {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((eol ? eol : end) - p);

		if (memmem(p, n, "ThreatFox", 9) || memmem(p, n, "\"ioc_value\"", 11))
			return FORMAT_THREATFOX_CSV;
		p = eol ? eol + 1 : end;
	}
	return -1;
}

static bool starts(const char *s, const char *e, const char *prefix)
{
	size_t n = strlen(prefix);

	return (size_t)(e - s) >= n && memcmp(s, prefix, n) == 0;
}

/*
 * An AdBlock list opens with its "[Adblock Plus 2.0]" header, "!" comments or rules; a zone
 * file with $ORIGIN, $TTL or its SOA record (after ';' comments).
 */
static int sniff_adblock_rpz(const char *text, size_t len)
{
	const char *p = text, *end = text + len;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *s = p, *e = eol ? eol : end;

		p = eol ? eol + 1 : end;
		while (s < e && (*s == ' ' || *s == '\t' || *s == '\r'))
			s++;
		if (s == e || *s == ';')
			continue;
		if (starts(s, e, "[Adblock") || starts(s, e, "!") || starts(s, e, "||") ||
		    starts(s, e, "@@||"))
			return FORMAT_ADBLOCK;
		if (starts(s, e, "$ORIGIN") || starts(s, e, "$TTL") ||
		    memmem(s, (size_t)(e - s), " SOA ", 5) ||
		    memmem(s, (size_t)(e - s), "\tSOA\t", 5))
			return FORMAT_RPZ;
		return -1;
	}
	return -1;
}

enum list_format format_sniff(const char *text, size_t len)
{
	const char *s, *e;
	int ar = sniff_adblock_rpz(text, len);
	int tf = sniff_threatfox(text, len);

	if (tf >= 0)
		return (enum list_format)tf;
	if (ar >= 0)
		return (enum list_format)ar;
	if (!first_line(text, len, &s, &e))
		return FORMAT_DOMAINS;
	if ((e - s >= 6 && memcmp(s, "allow:", 6) == 0) ||
	    (e - s >= 6 && memcmp(s, "block:", 6) == 0) || (e - s >= 3 && memcmp(s, "---", 3) == 0))
		return FORMAT_YAML;
	for (const char *q = s; q < e; q++)
		if (*q == ' ' || *q == '\t')
			return FORMAT_HOSTS;
	return FORMAT_DOMAINS;
}

void format_parse(enum list_format f, struct list_builder *lb, const char *text, size_t len)
{
	if (f == FORMAT_AUTO)
		f = format_sniff(text, len);
	REQUIRE((unsigned)f < FORMAT_COUNT && formats[f].parse);
	formats[f].parse(lb, text, len);
}
