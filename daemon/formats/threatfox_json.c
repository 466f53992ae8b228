/* SPDX-License-Identifier: MIT */
/*
 * `threatfox-json`: abuse.ch ThreatFox's JSON export, an object keyed by IOC id:
 *
 *   {"1234567": [{"ioc_value": "www.mobile1.com", "ioc_type": "domain",
 *                 "threat_type": "botnet_cc", "malware_printable": "NanoCore RAT",
 *                 "first_seen_utc": "2026-05-27 10:00:00", "confidence_level": 75,
 *                 "reference": "https://...", ...}], ...}
 *
 * Read with yajl's callback parser (Debian's libyajl-dev): a full export holds over a million
 * IOCs, and a parser that builds a document tree (json-c, jansson, cJSON) would hold all of
 * them as objects, several times the size of the text, before the first one is looked at.
 * yajl hands over one token at a time, strings pointing into the text whenever they hold no
 * escapes, so memory stays that of one row whatever the size of the export. Its upstream has
 * been quiet since 2.1.0, but it is small, stable, and Debian carries its security fixes.
 *
 * Other keys of an IOC object are ignored (nested values included); a row's fields go through
 * threatfox.c like the CSV export's. Not valid JSON, or not an object at the top, rejects the
 * list; an IOC that is not an array of objects, or a field of the wrong type, is one invalid
 * entry. Positions (line:column) are counted from yajl's offset in the text, once, as the rows
 * go by.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>

#include "formats/format.h"
#include "formats/threatfox.h"
#include "policy/builder.h"

/* Nesting of ignored values beyond which the list is rejected (yajl itself has no limit). */
#define MAX_SKIP_DEPTH 64

/* A counted position: the line holding offset off starts at bol. */
struct lc {
	size_t off, bol;
	int line;
};

struct jp {
	struct list_builder *lb;
	struct threatfox tf;
	yajl_handle h;
	const char *text; /* the whole list (offsets are from here) */
	size_t len, base; /* base: where yajl's buffer starts (after a BOM) */
	int depth;	  /* 0 top, 1 in the object of IOCs, 2 in an IOC's array, 3 in a row */
	int skip;	  /* levels of an ignored value being skipped */
	int key;	  /* the row field whose value comes next, or -1 */
	int bad_field;	  /* a row field of the wrong type, or -1 */
	bool top_seen;
	struct tf_field id; /* the current IOC id (the key at depth 1) */
	size_t id_off;
	struct tf_row row;
	bool row_has_id;
	size_t field_off[TF_NFIELDS];
	struct lc at, row_at; /* counted up to the furthest position asked; at the row's start */
	char id_buf[TF_FIELD_MAX];
	char scratch[TF_NFIELDS][TF_FIELD_MAX];
};

static const char not_object[] = "expected a JSON object of IOCs keyed by their ioc_id";

/* Count lines from c up to offset off (off >= c->off). */
static void advance(const char *text, struct lc *c, size_t off)
{
	const char *p = text + c->off, *end = text + off, *nl;

	while ((nl = memchr(p, '\n', (size_t)(end - p)))) {
		c->line++;
		c->bol = (size_t)(nl - text) + 1;
		p = nl + 1;
	}
	c->off = off;
}

static void pos_of(struct jp *j, size_t off, int *line, int *col)
{
	struct lc c;

	if (off > j->len)
		off = j->len;
	if (off >= j->at.off) {
		advance(j->text, &j->at, off);
		c = j->at;
	} else {
		c = off >= j->row_at.off ? j->row_at : (struct lc){.line = 1};
		advance(j->text, &c, off);
	}
	*line = c.line;
	*col = (int)(off - c.bol) + 1;
}

/* Offset in text just past the token yajl is reporting. */
static size_t consumed(const struct jp *j)
{
	return j->base + yajl_get_bytes_consumed(j->h);
}

static bool in_text(const struct jp *j, const char *s, size_t n)
{
	uintptr_t a = (uintptr_t)s, t = (uintptr_t)j->text;

	return a >= t && a - t <= j->len && n <= j->len - (a - t);
}

/* Offset of a string token (its opening quote) whose value is s[0..n). */
static size_t string_off(const struct jp *j, const char *s, size_t n)
{
	size_t i;

	if (in_text(j, s, n))
		return (size_t)(s - j->text) - 1;
	/* Decoded from escapes: back from the closing quote to the first unescaped quote. */
	for (i = consumed(j) - 1; i-- > 0;) {
		size_t k = i;

		if (j->text[i] != '"')
			continue;
		while (k > 0 && j->text[k - 1] == '\\')
			k--;
		if ((i - k) % 2 == 0)
			return i;
	}
	return 0;
}

/* s[0..n) as f: the text itself when yajl points into it, else a copy. */
static void keep(struct jp *j, struct tf_field *f, char *buf, const char *s, size_t n)
{
	f->too_long = false;
	f->n = n;
	if (in_text(j, s, n)) {
		f->s = s;
	} else if (n <= TF_FIELD_MAX) {
		memcpy(buf, s, n);
		f->s = buf;
	} else {
		f->s = NULL;
		f->n = 0;
		f->too_long = true;
	}
}

static void json_pos(void *ctx, int field, int *line, int *col)
{
	struct jp *j = ctx;

	pos_of(j, field >= 0 ? j->field_off[field] : j->field_off[TF_TYPE], line, col);
}

static void invalid_at(struct jp *j, size_t off, const char *what)
{
	char shown[80];
	int line, col;

	pos_of(j, off, &line, &col);
	lb_invalid(j->lb, line, col, "IOC \"%s\": %s",
		   j->id.s ? lb_shown(j->id.s, j->id.n, shown) : "?", what);
}

static int fatal_at(struct jp *j, size_t off, const char *what)
{
	int line, col;

	pos_of(j, off, &line, &col);
	lb_error(j->lb, line, col, "%s", what);
	return 0;
}

/* A value that is not a row: enter it to skip (open is true for { and [). */
static int skip_value(struct jp *j, bool open)
{
	if (open && ++j->skip > MAX_SKIP_DEPTH)
		return fatal_at(j, consumed(j) - 1, "nested too deeply");
	return 1;
}

/* A scalar (kind: 's' string, 'n' number, '0' null, 'b' boolean) at offset off. */
static int scalar(struct jp *j, char kind, const char *s, size_t n, size_t off)
{
	if (lb_failed(j->lb))
		return 0;
	if (j->skip)
		return 1;
	switch (j->depth) {
	case 0:
		return fatal_at(j, off, not_object);
	case 1:
		invalid_at(j, off, "expected an array of IOC objects");
		return 1;
	case 2:
		invalid_at(j, off, "expected an IOC object");
		return 1;
	}
	if (j->key < 0)
		return 1;
	j->field_off[j->key] = off;
	if (kind == '0') {
		j->row.f[j->key] = (struct tf_field){0};
	} else if (kind == 'b') {
		j->bad_field = j->key;
	} else {
		keep(j, &j->row.f[j->key], j->scratch[j->key], s, n);
		if (j->key == TF_ID)
			j->row_has_id = true;
	}
	j->key = -1;
	return 1;
}

static int on_null(void *ctx)
{
	struct jp *j = ctx;

	return scalar(j, '0', NULL, 0, consumed(j) - 4);
}

static int on_boolean(void *ctx, int b)
{
	struct jp *j = ctx;

	return scalar(j, 'b', NULL, 0, consumed(j) - (b ? 4 : 5));
}

static int on_number(void *ctx, const char *s, size_t n)
{
	struct jp *j = ctx;

	return scalar(j, 'n', s, n, in_text(j, s, n) ? (size_t)(s - j->text) : consumed(j) - n);
}

static int on_string(void *ctx, const unsigned char *s, size_t n)
{
	struct jp *j = ctx;
	const char *cs = (const char *)s;

	return scalar(j, 's', cs, n, string_off(j, cs, n));
}

static int on_map_key(void *ctx, const unsigned char *s, size_t n)
{
	struct jp *j = ctx;
	const char *cs = (const char *)s;

	if (j->skip)
		return 1;
	if (j->depth == 1) {
		keep(j, &j->id, j->id_buf, cs, n);
		j->id_off = string_off(j, cs, n);
	} else if (j->depth == 3) {
		j->key = -1;
		for (int id = 0; id < TF_NFIELDS; id++) {
			const char *name = threatfox_field_names[id];

			if (strlen(name) == n && memcmp(name, cs, n) == 0) {
				j->key = id;
				break;
			}
		}
	}
	return 1;
}

static int on_start_map(void *ctx)
{
	struct jp *j = ctx;
	size_t off = consumed(j) - 1;

	if (lb_failed(j->lb))
		return 0;
	if (j->skip)
		return skip_value(j, true);
	switch (j->depth) {
	case 0:
		j->depth = 1;
		j->top_seen = true;
		return 1;
	case 1:
		invalid_at(j, off, "expected an array of IOC objects");
		return skip_value(j, true);
	case 2:
		memset(&j->row, 0, sizeof(j->row));
		for (int id = 0; id < TF_NFIELDS; id++)
			j->field_off[id] = off;
		j->key = j->bad_field = -1;
		j->row_has_id = false;
		advance(j->text, &j->at, off);
		j->row_at = j->at;
		j->depth = 3;
		return 1;
	default:
		if (j->key >= 0) {
			j->field_off[j->key] = off;
			j->bad_field = j->key;
		}
		j->key = -1;
		return skip_value(j, true);
	}
}

static int on_end_map(void *ctx)
{
	struct jp *j = ctx;

	if (j->skip) {
		j->skip--;
		return 1;
	}
	if (j->depth == 3) {
		j->depth = 2;
		if (!j->row_has_id)
			j->row.f[TF_ID] = j->id;
		if (j->bad_field >= 0) {
			char what[80];

			strcpy(what, threatfox_field_names[j->bad_field]);
			strcat(what, ": expected a string");
			invalid_at(j, j->field_off[j->bad_field], what);
			return 1;
		}
		threatfox_row(&j->tf, &j->row, json_pos, j);
		return !lb_failed(j->lb);
	}
	j->depth = 0; /* the end of the object of IOCs */
	return 1;
}

static int on_start_array(void *ctx)
{
	struct jp *j = ctx;
	size_t off = consumed(j) - 1;

	if (lb_failed(j->lb))
		return 0;
	if (j->skip)
		return skip_value(j, true);
	switch (j->depth) {
	case 0:
		return fatal_at(j, off, not_object);
	case 1:
		j->depth = 2;
		return 1;
	case 2:
		invalid_at(j, off, "expected an IOC object");
		return skip_value(j, true);
	default:
		if (j->key >= 0) {
			j->field_off[j->key] = off;
			j->bad_field = j->key;
		}
		j->key = -1;
		return skip_value(j, true);
	}
}

static int on_end_array(void *ctx)
{
	struct jp *j = ctx;

	if (j->skip)
		j->skip--;
	else
		j->depth = 1;
	return 1;
}

static const yajl_callbacks callbacks = {
    .yajl_null = on_null,
    .yajl_boolean = on_boolean,
    .yajl_number = on_number,
    .yajl_string = on_string,
    .yajl_start_map = on_start_map,
    .yajl_map_key = on_map_key,
    .yajl_end_map = on_end_map,
    .yajl_start_array = on_start_array,
    .yajl_end_array = on_end_array,
};

void format_threatfox_json_parse(struct list_builder *lb, const char *text, size_t len)
{
	struct jp *j;
	yajl_status st;
	bool at_end = false;

	j = calloc(1, sizeof(*j));
	if (!j) {
		lb_oom(lb);
		return;
	}
	j->lb = lb;
	j->text = text;
	j->len = len;
	j->at.line = 1;
	j->row_at.line = 1;
	threatfox_init(&j->tf, lb);
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		j->base = 3;
	j->h = yajl_alloc(&callbacks, NULL, j);
	if (!j->h) {
		lb_oom(lb);
		free(j);
		return;
	}
	st = yajl_parse(j->h, (const unsigned char *)text + j->base, len - j->base);
	if (st == yajl_status_ok) {
		at_end = true;
		st = yajl_complete_parse(j->h);
	}
	if (st == yajl_status_error && !lb_failed(lb)) {
		unsigned char *msg = yajl_get_error(j->h, 0, NULL, 0);
		size_t off = at_end ? len : consumed(j);
		char *nl = msg ? strchr((char *)msg, '\n') : NULL;
		int line, col;

		if (nl)
			*nl = 0;
		pos_of(j, off, &line, &col);
		lb_error(lb, line, col, "not valid JSON: %s", msg ? (char *)msg : "parse error");
		yajl_free_error(j->h, msg);
	} else if (st == yajl_status_ok && !j->top_seen && !lb_failed(lb)) {
		lb_error(lb, 1, 1, "%s", not_object);
	}
	yajl_free(j->h);
	free(j);
}
