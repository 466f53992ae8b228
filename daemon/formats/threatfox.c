/* SPDX-License-Identifier: MIT */
/*
 * One ThreatFox IOC row into the builder, for both exports. Domain IOCs are names to block;
 * ip:port IOCs give an address (an IP indicator: answers holding it are blocked; the port
 * is dropped). url and hash IOCs are counted by type and left alone (a URL IOC names a path
 * on a host that may well be shared, so its host is never blocked).
 *
 * A feed of a million rows repeats a few malware names, threat types and references row after
 * row: the previous row's interned string is reused when the bytes are the same. The IOC id, a
 * decimal number, is kept as one (entry_fields.ioc_id): the rows of a submission then differ in
 * nothing else and share one metadata record. An id that is no such number is kept as text.
 */
#include "formats/threatfox.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "policy/builder.h"
#include "util/civil.h"

const char *const threatfox_field_names[TF_NFIELDS] = {
    [TF_VALUE] = "ioc_value",
    [TF_TYPE] = "ioc_type",
    [TF_ID] = "ioc_id",
    [TF_MALWARE] = "malware_printable",
    [TF_THREAT] = "threat_type",
    [TF_CONFIDENCE] = "confidence_level",
    [TF_FIRST_SEEN] = "first_seen_utc",
    [TF_REFERENCE] = "reference",
};

void threatfox_init(struct threatfox *tf, struct list_builder *lb)
{
	memset(tf, 0, sizeof(*tf));
	tf->lb = lb;
	tf->source = lb_intern(lb, "ThreatFox", 9);
}

/* The exports write a missing value as "", None (CSV) or null (JSON). */
static bool is_null(const struct tf_field *f)
{
	return !f->s || f->n == 0 || (f->n == 4 && memcmp(f->s, "None", 4) == 0);
}

static bool is(const struct tf_field *f, const char *lit)
{
	size_t k = strlen(lit);

	return f->n == k && memcmp(f->s, lit, k) == 0;
}

static const char *skip_reason(const struct tf_field *type)
{
	if (is(type, "url"))
		return "url IOC";
	if (type->n > 5 && memcmp(type->s + type->n - 5, "_hash", 5) == 0)
		return "hash IOC";
	return "other IOC type";
}

static void row_invalid(struct threatfox *tf, tf_pos_fn *pos, void *ctx, int field, const char *fmt,
			...) __attribute__((format(printf, 5, 6)));

static void row_invalid(struct threatfox *tf, tf_pos_fn *pos, void *ctx, int field, const char *fmt,
			...)
{
	char msg[200];
	int line = 0, col = 0;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pos(ctx, field, &line, &col);
	lb_invalid(tf->lb, line, col, "%s", msg);
}

/* The interned value of field id, the previous row's when the bytes are the same. */
static const char *intern_field(struct threatfox *tf, int id, const struct tf_field *f)
{
	const char *s;

	if (is_null(f))
		return NULL;
	if (tf->last[id].s && tf->last[id].n == f->n && memcmp(tf->last[id].s, f->s, f->n) == 0)
		return tf->last[id].s;
	s = lb_intern(tf->lb, f->s, f->n);
	tf->last[id].s = s;
	tf->last[id].n = s ? strlen(s) : 0; /* shorter than f->n if it held a NUL */
	return s;
}

/*
 * The address of an ip:port value s[0..*n): "192.0.2.1:443", "[2001:db8::1]:443", or an
 * address without a port (an IPv6 address with more than one ':' and no brackets is taken
 * whole). Returns where it starts and sets *n to its length.
 */
static const char *ip_of_ip_port(const char *s, size_t *n)
{
	const char *colon = memchr(s, ':', *n), *close;

	if (*n > 0 && s[0] == '[' && (close = memchr(s, ']', *n)) != NULL) {
		*n = (size_t)(close - s - 1);
		return s + 1;
	}
	if (colon && !memchr(colon + 1, ':', *n - (size_t)(colon + 1 - s)))
		*n = (size_t)(colon - s);
	return s;
}

/* confidence_level: an integer 0-100. */
static bool parse_confidence(const struct tf_field *f, int *out)
{
	int v = 0;

	if (f->n > 3)
		return false;
	for (size_t i = 0; i < f->n; i++) {
		if (f->s[i] < '0' || f->s[i] > '9')
			return false;
		v = v * 10 + (f->s[i] - '0');
	}
	if (v > 100)
		return false;
	*out = v;
	return true;
}

/* ioc_id as a number: 1 to UINT32_MAX in decimal, without a leading zero; else 0. */
static uint32_t numeric_id(const struct tf_field *f)
{
	uint64_t v = 0;

	if (f->n == 0 || f->n > 10 || f->s[0] == '0')
		return 0;
	for (size_t i = 0; i < f->n; i++) {
		if (f->s[i] < '0' || f->s[i] > '9')
			return 0;
		v = v * 10 + (uint64_t)(f->s[i] - '0');
	}
	return v <= UINT32_MAX ? (uint32_t)v : 0;
}

void threatfox_row(struct threatfox *tf, const struct tf_row *row, tf_pos_fn *pos, void *ctx)
{
	static const int used[] = {TF_VALUE,	  TF_ID,	 TF_MALWARE,  TF_THREAT,
				   TF_CONFIDENCE, TF_FIRST_SEEN, TF_REFERENCE};
	const struct tf_field *f = row->f;
	struct entry_fields e = ENTRY_FIELDS_NONE;
	struct list_builder *lb = tf->lb;
	struct acl_prefix pfx;
	uint8_t wire[255];
	char shown[80];
	int len = 0, line = 0, col = 0;
	bool ip;

	if (f[TF_TYPE].too_long || is_null(&f[TF_TYPE])) {
		row_invalid(tf, pos, ctx, TF_TYPE, "an IOC without an ioc_type");
		return;
	}
	ip = is(&f[TF_TYPE], "ip:port");
	if (!ip && !is(&f[TF_TYPE], "domain")) {
		lb_skip(lb, skip_reason(&f[TF_TYPE]));
		return;
	}
	for (size_t i = 0; i < sizeof(used) / sizeof(used[0]); i++) {
		if (f[used[i]].too_long) {
			row_invalid(tf, pos, ctx, used[i], "%s longer than %d bytes",
				    threatfox_field_names[used[i]], TF_FIELD_MAX);
			return;
		}
	}
	if (is_null(&f[TF_VALUE])) {
		row_invalid(tf, pos, ctx, TF_VALUE, "%s IOC without an ioc_value",
			    ip ? "an ip:port" : "a domain");
		return;
	}
	if (!is_null(&f[TF_CONFIDENCE]) && !parse_confidence(&f[TF_CONFIDENCE], &e.confidence)) {
		row_invalid(tf, pos, ctx, TF_CONFIDENCE, "confidence_level \"%s\": expected 0-100",
			    lb_shown(f[TF_CONFIDENCE].s, f[TF_CONFIDENCE].n, shown));
		return;
	}
	if (!is_null(&f[TF_FIRST_SEEN]) &&
	    !civil_parse_time(f[TF_FIRST_SEEN].s, f[TF_FIRST_SEEN].n, false, &e.first_seen)) {
		row_invalid(tf, pos, ctx, TF_FIRST_SEEN,
			    "first_seen_utc \"%s\": expected YYYY-MM-DD HH:MM:SS (UTC)",
			    lb_shown(f[TF_FIRST_SEEN].s, f[TF_FIRST_SEEN].n, shown));
		return;
	}
	pos(ctx, TF_VALUE, &line, &col);
	if (ip) {
		size_t an = f[TF_VALUE].n;
		const char *a = ip_of_ip_port(f[TF_VALUE].s, &an);

		if (!lb_feed_prefix(lb, a, an, line, col, &pfx))
			return;
	} else {
		len = lb_feed_name(lb, f[TF_VALUE].s, f[TF_VALUE].n, line, col, wire);
		if (len < 0)
			return;
	}
	e.malware = intern_field(tf, TF_MALWARE, &f[TF_MALWARE]);
	e.threat_type = intern_field(tf, TF_THREAT, &f[TF_THREAT]);
	e.reference = intern_field(tf, TF_REFERENCE, &f[TF_REFERENCE]);
	if (!is_null(&f[TF_ID])) {
		e.ioc_id = numeric_id(&f[TF_ID]);
		if (!e.ioc_id)
			e.id = lb_intern_unique(lb, f[TF_ID].s, f[TF_ID].n);
	}
	e.source = tf->source;
	if (ip)
		lb_block_prefix(lb, &pfx, &e);
	else
		lb_block(lb, wire, (size_t)len, &e);
}
