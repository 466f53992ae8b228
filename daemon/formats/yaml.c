/* SPDX-License-Identifier: MIT */
/*
 * sinkholed's own list format (README "Blocklists"): a mapping with allow: and block:, whose
 * entries (domain: names, or ip: addresses and prefixes) carry IOC metadata, single or in
 * groups. Read with libyaml's event API (no document
 * tree: a million-name list costs one event at a time). A group's fields may follow its
 * domains: list, so its names are staged in the builder until the group's mapping ends.
 *
 * A hand-written list is strict: any error (unknown key, bad value, invalid name) rejects the
 * list, reported at its line and column.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <yaml.h>

#include "formats/format.h"
#include "policy/builder.h"
#include "util/civil.h"
#include "util/name.h"

struct loader {
	struct list_builder *lb;
	yaml_parser_t parser;
	yaml_event_t ev;
	bool have_ev, fatal;
};

#define EV_LINE(ld) ((int)(ld)->ev.start_mark.line + 1)
#define EV_COL(ld) ((int)(ld)->ev.start_mark.column + 1)

enum key {
	K_UNKNOWN,
	K_ALLOW,
	K_BLOCK,
	K_DOMAIN,
	K_DOMAINS,
	K_MALWARE,
	K_THREAT_TYPE,
	K_SOURCE,
	K_CONFIDENCE,
	K_FIRST_SEEN,
	K_EXPIRES,
	K_ACTION,
	K_ID,
	K_REFERENCE,
	K_IP,
	K_IPS,
};

static const char *const key_names[] = {
    [K_ALLOW] = "allow",	 [K_BLOCK] = "block",		[K_DOMAIN] = "domain",
    [K_DOMAINS] = "domains",	 [K_MALWARE] = "malware",	[K_THREAT_TYPE] = "threat_type",
    [K_SOURCE] = "source",	 [K_CONFIDENCE] = "confidence", [K_FIRST_SEEN] = "first_seen",
    [K_EXPIRES] = "expires",	 [K_ACTION] = "action",		[K_ID] = "id",
    [K_REFERENCE] = "reference", [K_IP] = "ip",			[K_IPS] = "ips",
};

static enum key key_of(const char *s)
{
	for (size_t k = K_ALLOW; k < sizeof(key_names) / sizeof(key_names[0]); k++)
		if (strcmp(s, key_names[k]) == 0)
			return (enum key)k;
	return K_UNKNOWN;
}

static void err_at(struct loader *ld, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void err_at(struct loader *ld, int line, int col, const char *fmt, ...)
{
	char msg[sizeof(((struct parse_err *)0)->msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	lb_error(ld->lb, line, col, "%s", msg);
}

/* Advance to the next event; false on a YAML syntax error (reported; the file is abandoned). */
static bool next(struct loader *ld)
{
	if (ld->have_ev) {
		yaml_event_delete(&ld->ev);
		ld->have_ev = false;
	}
	if (ld->fatal)
		return false;
	if (!yaml_parser_parse(&ld->parser, &ld->ev)) {
		const yaml_mark_t *mk =
		    ld->parser.problem_mark.line || ld->parser.problem_mark.column
			? &ld->parser.problem_mark
			: &ld->parser.context_mark;

		if (ld->parser.error == YAML_MEMORY_ERROR)
			lb_oom(ld->lb);
		else
			lb_error(ld->lb, (int)mk->line + 1, (int)mk->column + 1, "YAML: %s%s%s",
				 ld->parser.problem ? ld->parser.problem : "syntax error",
				 ld->parser.context ? " " : "",
				 ld->parser.context ? ld->parser.context : "");
		ld->fatal = true;
		return false;
	}
	ld->have_ev = true;
	return true;
}

/* Consume the node starting at the current event; leaves its last event current. */
static bool skip_node(struct loader *ld)
{
	int depth = 0;

	do {
		switch (ld->ev.type) {
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			depth++;
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			depth--;
			break;
		default:
			break;
		}
		if (depth == 0)
			return true;
	} while (next(ld));
	return false;
}

static const char *node_kind(const struct loader *ld)
{
	switch (ld->ev.type) {
	case YAML_SEQUENCE_START_EVENT:
		return "a list";
	case YAML_MAPPING_START_EVENT:
		return "a mapping";
	case YAML_ALIAS_EVENT:
		return "an alias (aliases are not supported)";
	default:
		return "a string";
	}
}

/* Report "what: expected X, got Y" at the current node and skip it. */
static bool type_error(struct loader *ld, const char *what, const char *expected)
{
	err_at(ld, EV_LINE(ld), EV_COL(ld), "%s: expected %s, got %s", what, expected,
	       node_kind(ld));
	return skip_node(ld);
}

static bool is_scalar(const struct loader *ld)
{
	return ld->ev.type == YAML_SCALAR_EVENT;
}

static const char *sval(const struct loader *ld)
{
	return (const char *)ld->ev.data.scalar.value;
}

static size_t slen(const struct loader *ld)
{
	return ld->ev.data.scalar.length;
}

static bool is_null(const struct loader *ld)
{
	const char *s = sval(ld);

	if (!is_scalar(ld) || ld->ev.data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	switch (slen(ld)) { /* YAML 1.1's null: empty, ~, null, Null, NULL */
	case 0:
		return true;
	case 1:
		return s[0] == '~';
	case 4:
		return strcmp(s, "null") == 0 || strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0;
	default:
		return false;
	}
}

/* The current scalar as a wire name; length, or -EINVAL (reported at the node). */
static int scalar_name(struct loader *ld, uint8_t out[255])
{
	const char *why;
	char buf[80];
	int n;

	if (is_null(ld))
		n = name_to_wire("", 0, out, &why);
	else
		n = name_to_wire(sval(ld), slen(ld), out, &why);
	if (n < 0)
		err_at(ld, EV_LINE(ld), EV_COL(ld), "invalid domain \"%s\": %s",
		       lb_shown(sval(ld), slen(ld), buf), why);
	return n;
}

/* The current scalar as an IP indicator into *out; false when invalid (reported at the node). */
static bool scalar_prefix(struct loader *ld, struct acl_prefix *out)
{
	char msg[200];

	if (!is_null(ld) && lb_parse_prefix(sval(ld), slen(ld), out, msg, sizeof(msg)))
		return true;
	if (is_null(ld))
		snprintf(msg, sizeof(msg), "ip: expected an address or a prefix, got nothing");
	err_at(ld, EV_LINE(ld), EV_COL(ld), "%s", msg);
	return false;
}

/*
 * Whether an allow: string is an address or a prefix rather than a name: digits, dots and a
 * '/', or hex digits with a ':' (a name of four numbers is taken as an address).
 */
static bool looks_like_address(const char *s, size_t n)
{
	bool colon = false, hex = false, digit = false;

	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c >= '0' && c <= '9')
			digit = true;
		else if (c == ':')
			colon = true;
		else if ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))
			hex = true;
		else if (!(c >= '0' && c <= '9') && c != '.' && c != '/')
			return false;
	}
	return colon || (digit && !hex);
}

/*
 * Read the next key of a mapping: 1 with the key and its position (its value comes next),
 * 0 at the end of the mapping, -1 when the document ends early or parsing failed. A key that
 * is not a string is reported and skipped with its value.
 */
static int next_key(struct loader *ld, enum key *k, int *line, int *col)
{
	while (next(ld)) {
		if (ld->ev.type == YAML_MAPPING_END_EVENT)
			return 0;
		if (!is_scalar(ld)) {
			err_at(ld, EV_LINE(ld), EV_COL(ld), "keys must be strings");
			if (!skip_node(ld) || !next(ld) || !skip_node(ld))
				return -1;
			continue;
		}
		*line = EV_LINE(ld);
		*col = EV_COL(ld);
		*k = key_of(sval(ld));
		return 1;
	}
	return -1;
}

/* Report a key seen before in the same mapping (seen: one bit per key). */
static void check_duplicate(struct loader *ld, unsigned *seen, enum key k, int line, int col)
{
	if (*seen & (1u << k))
		err_at(ld, line, col, "duplicate key \"%s\"", key_names[k]);
	*seen |= 1u << k;
}

static bool parse_allow(struct loader *ld)
{
	uint8_t wire[255];

	if (is_null(ld))
		return true;
	if (ld->ev.type != YAML_SEQUENCE_START_EVENT)
		return type_error(ld, "allow", "a list of domains and prefixes");
	while (next(ld)) {
		struct acl_prefix pfx;
		int n;

		if (ld->ev.type == YAML_SEQUENCE_END_EVENT)
			return true;
		if (!is_scalar(ld)) {
			if (!type_error(ld, "allow", "a domain name or a prefix"))
				return false;
			continue;
		}
		if (!is_null(ld) && looks_like_address(sval(ld), slen(ld))) {
			if (scalar_prefix(ld, &pfx))
				lb_allow_prefix(ld->lb, &pfx);
			continue;
		}
		n = scalar_name(ld, wire);
		if (n > 0)
			lb_allow(ld->lb, wire, (size_t)n, NO_MATCH);
	}
	return false;
}

/* Parse the value of field k into f. */
static bool parse_field(struct loader *ld, enum key k, struct entry_fields *f)
{
	const char *name = key_names[k];
	const char *s;
	char buf[80];

	if (!is_scalar(ld))
		return type_error(ld, name,
				  k == K_CONFIDENCE			? "an integer 0-100"
				  : k == K_FIRST_SEEN || k == K_EXPIRES ? "a date"
				  : k == K_ACTION			? "block or log"
									: "a string");
	if (is_null(ld))
		return true; /* absent: inherit */
	s = sval(ld);
	switch (k) {
	case K_CONFIDENCE: {
		int v = 0;
		size_t n = slen(ld);

		if (ld->ev.data.scalar.style != YAML_PLAIN_SCALAR_STYLE || n == 0 || n > 3 ||
		    !civil_digits(s, (int)n, &v) || v > 100) {
			err_at(ld, EV_LINE(ld), EV_COL(ld),
			       "confidence: expected an integer 0-100, got \"%s\"",
			       lb_shown(s, slen(ld), buf));
			return true;
		}
		f->confidence = v;
		return true;
	}
	case K_FIRST_SEEN:
	case K_EXPIRES: {
		int64_t t;

		if (!civil_parse_time(s, slen(ld), k == K_EXPIRES, &t)) {
			err_at(ld, EV_LINE(ld), EV_COL(ld),
			       "%s: expected a date YYYY-MM-DD or an RFC 3339 time, got \"%s\"",
			       name, lb_shown(s, slen(ld), buf));
			return true;
		}
		if (k == K_EXPIRES)
			f->expires = t;
		else
			f->first_seen = t;
		return true;
	}
	case K_ACTION:
		if (strcmp(s, "block") == 0) {
			f->action = IOC_BLOCK;
		} else if (strcmp(s, "log") == 0) {
			f->action = IOC_LOG;
		} else {
			err_at(ld, EV_LINE(ld), EV_COL(ld),
			       "action: expected block or log, got \"%s\"",
			       lb_shown(s, slen(ld), buf));
		}
		return true;
	default: {
		const char *v = lb_intern(ld->lb, s, slen(ld));

		if (!v)
			return true;
		if (k == K_MALWARE)
			f->malware = v;
		else if (k == K_THREAT_TYPE)
			f->threat_type = v;
		else if (k == K_SOURCE)
			f->source = v;
		else if (k == K_ID)
			f->id = v;
		else
			f->reference = v;
		return true;
	}
	}
}

static bool parse_mapping(struct loader *ld, bool in_group);

/*
 * A list of names and entry mappings: block: (in_group false: the mappings may be groups) or
 * a group's domains: (in_group true), or with ips a group's ips: (its strings are prefixes).
 */
static bool parse_entries(struct loader *ld, bool in_group, bool ips)
{
	const char *key = ips ? "ips" : in_group ? "domains" : "block";
	struct acl_prefix pfx;
	uint8_t wire[255];

	if (is_null(ld))
		return true;
	if (ld->ev.type != YAML_SEQUENCE_START_EVENT)
		return type_error(ld, key, "a list");
	while (next(ld)) {
		int n;

		switch (ld->ev.type) {
		case YAML_SEQUENCE_END_EVENT:
			return true;
		case YAML_SCALAR_EVENT:
			if (ips) {
				if (scalar_prefix(ld, &pfx))
					lb_block_prefix(ld->lb, &pfx, NULL);
				break;
			}
			n = scalar_name(ld, wire);
			if (n > 0)
				lb_block(ld->lb, wire, (size_t)n, NULL);
			break;
		case YAML_MAPPING_START_EVENT:
			if (!parse_mapping(ld, in_group))
				return false;
			break;
		default:
			if (!type_error(ld, key,
					ips	   ? "an address, a prefix or an entry mapping"
					: in_group ? "a domain name or an entry mapping"
						   : "a domain name, an entry or a group"))
				return false;
		}
	}
	return false;
}

/*
 * A mapping in block: (an entry with domain: or ip:, or a group with domains: and/or ips:)
 * or, with in_group, an entry inside a group's list. The current event is its MAPPING_START.
 */
static bool parse_mapping(struct loader *ld, bool in_group)
{
	int line = EV_LINE(ld), col = EV_COL(ld);
	struct entry_fields f = ENTRY_FIELDS_NONE;
	struct acl_prefix pfx;
	uint8_t wire[255];
	int wlen = 0;
	bool have_domain = false, have_domains = false, both = false, have_ip = false;
	bool ip_ok = false;
	unsigned seen = 0;

	if (!in_group)
		lb_group_begin(ld->lb); /* a group's names wait for its fields */
	for (;;) {
		int kline, kcol, r;
		enum key k;
		char buf[80];

		r = next_key(ld, &k, &kline, &kcol);
		if (r < 0)
			return false;
		if (r == 0)
			goto end;
		if (k == K_UNKNOWN || k == K_ALLOW || k == K_BLOCK ||
		    (in_group && (k == K_DOMAINS || k == K_IPS))) {
			if (in_group && (k == K_DOMAINS || k == K_IPS))
				err_at(ld, kline, kcol,
				       "%s: an entry inside a group's list cannot be a group",
				       key_names[k]);
			else
				err_at(
				    ld, kline, kcol,
				    "unknown key \"%s\" (expected domain, domains, ip, ips, malware, "
				    "threat_type, source, confidence, first_seen, expires, action, "
				    "id, reference)",
				    lb_shown(sval(ld), slen(ld), buf));
			if (!next(ld) || !skip_node(ld))
				return false;
			continue;
		}
		check_duplicate(ld, &seen, k, kline, kcol);
		if (((k == K_DOMAIN || k == K_IP) && (seen & (1u << K_DOMAINS | 1u << K_IPS))) ||
		    ((k == K_DOMAINS || k == K_IPS) && (have_domain || have_ip)) ||
		    (k == K_DOMAIN && have_ip) || (k == K_IP && have_domain)) {
			err_at(ld, kline, kcol,
			       "a mapping has either domain: or ip: (one entry) or domains: and "
			       "ips: (a group), not both");
			both = true;
		}
		if (!next(ld))
			return false;
		if (k == K_DOMAIN) {
			have_domain = true;
			if (!is_scalar(ld)) {
				if (!type_error(ld, "domain", "a domain name"))
					return false;
				continue;
			}
			wlen = scalar_name(ld, wire);
		} else if (k == K_IP) {
			have_ip = true;
			if (!is_scalar(ld)) {
				if (!type_error(ld, "ip", "an address or a prefix"))
					return false;
				continue;
			}
			ip_ok = scalar_prefix(ld, &pfx);
		} else if (k == K_DOMAINS || k == K_IPS) {
			have_domains = true;
			if (!parse_entries(ld, true, k == K_IPS))
				return false;
		} else if (!parse_field(ld, k, &f)) {
			return false;
		}
	}
end:
	if (!have_domain && !have_domains && !have_ip)
		err_at(ld, line, col,
		       in_group ? "an entry needs domain: or ip:"
				: "an entry needs domain: or ip: (or a group domains: or ips:)");
	if ((!have_domain && !have_domains && !have_ip) || both || wlen < 0 ||
	    (have_ip && !ip_ok) || lb_failed(ld->lb)) {
		if (!in_group)
			lb_group_abort(ld->lb);
		return true;
	}
	if (!in_group && (have_domain || have_ip))
		lb_group_end(ld->lb, &entry_fields_none);
	if (have_ip) {
		lb_block_prefix(ld->lb, &pfx, &f);
	} else if (in_group || have_domain) {
		lb_block(ld->lb, wire, (size_t)wlen, &f);
	} else {
		lb_group_end(ld->lb, &f);
	}
	return true;
}

static bool parse_top(struct loader *ld)
{
	unsigned seen = 0;

	for (;;) {
		int kline, kcol, r;
		enum key k;
		char buf[80];

		r = next_key(ld, &k, &kline, &kcol);
		if (r <= 0)
			return r == 0;
		if (k != K_ALLOW && k != K_BLOCK) {
			err_at(ld, kline, kcol, "unknown key \"%s\" (expected allow or block)",
			       lb_shown(sval(ld), slen(ld), buf));
			if (!next(ld) || !skip_node(ld))
				return false;
			continue;
		}
		check_duplicate(ld, &seen, k, kline, kcol);
		if (!next(ld))
			return false;
		if (!(k == K_ALLOW ? parse_allow(ld) : parse_entries(ld, false, false)))
			return false;
	}
}

static void parse_yaml(struct loader *ld, const char *text, size_t len)
{
	if (!yaml_parser_initialize(&ld->parser)) {
		lb_oom(ld->lb);
		return;
	}
	yaml_parser_set_input_string(&ld->parser, (const unsigned char *)text, len);
	if (!next(ld) || ld->ev.type != YAML_STREAM_START_EVENT || !next(ld))
		goto out;
	if (ld->ev.type == YAML_STREAM_END_EVENT) /* empty file */
		goto out;
	if (!next(ld)) /* past DOCUMENT_START */
		goto out;
	if (ld->ev.type == YAML_MAPPING_START_EVENT) {
		if (!parse_top(ld))
			goto out;
	} else if (!is_null(ld)) {
		err_at(ld, EV_LINE(ld), EV_COL(ld),
		       "a blocklist is a mapping with allow: and block:, got %s", node_kind(ld));
		if (!skip_node(ld))
			goto out;
	}
	if (!next(ld) || !next(ld)) /* DOCUMENT_END, then STREAM_END or another document */
		goto out;
	if (ld->ev.type == YAML_DOCUMENT_START_EVENT)
		err_at(ld, EV_LINE(ld), EV_COL(ld), "only one YAML document per blocklist file");
out:
	if (ld->have_ev)
		yaml_event_delete(&ld->ev);
	ld->have_ev = false;
	yaml_parser_delete(&ld->parser);
	ld->fatal = false;
}

void format_yaml_parse(struct list_builder *lb, const char *text, size_t len)
{
	struct loader ld = {.lb = lb};

	parse_yaml(&ld, text, len);
}
