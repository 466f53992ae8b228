/* SPDX-License-Identifier: MIT */
/*
 * `threatfox-csv`: abuse.ch ThreatFox's CSV export (threatfox.abuse.ch/export/csv/...).
 *
 *   ################################################################
 *   # ThreatFox IOCs: recent                                       #
 *   ...
 *   # "first_seen_utc","ioc_id","ioc_value","ioc_type","threat_type",...,"reporter"
 *   "2026-05-27 10:00:00", "1234567", "www.mobile1.com", "domain", "botnet_cc", ...
 *   #
 *
 * Columns are found by their names in the commented header line: the exports gain columns
 * over time (is_compromised, ...). Fields are quoted and separated by ", " (a plain "," or an
 * unquoted field is accepted too; "" inside a quoted field is a quote); "" and None are null;
 * lines end in LF or CRLF. A file without a header line naming ioc_value and ioc_type is not
 * a ThreatFox export and is rejected; a bad row is one invalid entry (threatfox.c has what
 * becomes of a row).
 *
 * One pass over the text, line by line, with no allocation per row: fields are pointers into
 * the text, copied only to undo "" quotes.
 */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "formats/format.h"
#include "formats/threatfox.h"
#include "policy/builder.h"

/* Columns of a row that are looked at; a header with more is read up to here. */
#define MAX_COLS 64

struct csv_field {
	const char *s; /* between the quotes */
	size_t n;
	int col;  /* 1-based column of the field (its opening quote) */
	bool esc; /* holds "" */
};

struct csv {
	struct list_builder *lb;
	struct threatfox tf;
	int line;
	int ncols;	 /* columns of the header; 0 = no header yet */
	int header_line; /* where it was */
	int col_of[TF_NFIELDS];
	struct csv_field fields[MAX_COLS];
	int nf;
	char scratch[TF_NFIELDS][TF_FIELD_MAX];
};

static const char no_header[] =
    "no ThreatFox header line (# \"first_seen_utc\",\"ioc_id\",\"ioc_value\",\"ioc_type\",...)";

static inline bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * The first '"' in [p, e), or e. Fields are short: a call to memchr() for each end of each
 * field cost more than the scanning itself (a fifth of the load of an export).
 */
static inline const char *find_quote(const char *p, const char *e)
{
#ifdef __SSE2__
	const __m128i quote = _mm_set1_epi8('"');

	for (; e - p >= 16; p += 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
		unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, quote));

		if (m)
			return p + __builtin_ctz(m);
	}
#endif
	while (p < e && *p != '"')
		p++;
	return p;
}

/*
 * Split the record s[0..e) of the line starting at bol into c->fields (the first MAX_COLS;
 * c->nf counts them all). False on bad quoting, with the column and what is wrong.
 */
static bool split(struct csv *c, const char *bol, const char *s, const char *e, int *bad_col,
		  const char **why)
{
	const char *p = s;
	int nf = 0;

	for (;;) {
		const char *fs, *fe;
		bool esc = false;
		int col;

		while (p < e && is_blank(*p))
			p++;
		col = (int)(p - bol) + 1;
		if (p < e && *p == '"') {
			const char *q;

			fs = ++p;
			for (;;) {
				q = find_quote(p, e);
				if (q == e) {
					*bad_col = col;
					*why = "a quoted field without its closing quote";
					return false;
				}
				if (q + 1 < e && q[1] == '"') {
					esc = true;
					p = q + 2;
					continue;
				}
				break;
			}
			fe = q;
			p = q + 1;
			while (p < e && is_blank(*p))
				p++;
			if (p < e && *p != ',') {
				*bad_col = (int)(p - bol) + 1;
				*why = "expected a comma after a quoted field";
				return false;
			}
		} else {
			const char *q = memchr(p, ',', (size_t)(e - p));

			fs = p;
			fe = q ? q : e;
			p = fe;
			while (fe > fs && is_blank(fe[-1]))
				fe--;
			q = memchr(fs, '"', (size_t)(fe - fs));
			if (q) {
				*bad_col = (int)(q - bol) + 1;
				*why = "a quote inside an unquoted field";
				return false;
			}
		}
		if (nf < MAX_COLS) {
			c->fields[nf].s = fs;
			c->fields[nf].n = (size_t)(fe - fs);
			c->fields[nf].col = col;
			c->fields[nf].esc = esc;
		}
		nf++;
		if (p >= e)
			break;
		p++; /* the comma */
	}
	c->nf = nf;
	return true;
}

static bool field_is(const struct csv_field *f, const char *name)
{
	size_t k = strlen(name);

	return !f->esc && f->n == k && memcmp(f->s, name, k) == 0;
}

/*
 * The record s[0..e) as a header line: true when it names ThreatFox columns (then the
 * columns are set, or the list is rejected when ioc_value or ioc_type is missing).
 */
static bool header(struct csv *c, const char *bol, const char *s, const char *e)
{
	int col_of[TF_NFIELDS], bad_col;
	const char *why;
	bool known = false;

	if (!split(c, bol, s, e, &bad_col, &why))
		return false;
	for (int id = 0; id < TF_NFIELDS; id++) {
		col_of[id] = -1;
		for (int i = 0; i < c->nf && i < MAX_COLS; i++) {
			if (field_is(&c->fields[i], threatfox_field_names[id])) {
				col_of[id] = i;
				break;
			}
		}
	}
	known = col_of[TF_VALUE] >= 0 || col_of[TF_TYPE] >= 0 || col_of[TF_ID] >= 0 ||
		col_of[TF_FIRST_SEEN] >= 0;
	if (!known)
		return false;
	if (col_of[TF_VALUE] < 0 || col_of[TF_TYPE] < 0) {
		lb_error(c->lb, c->line, (int)(s - bol) + 1,
			 "the ThreatFox header line has no %s column",
			 col_of[TF_VALUE] >= 0	? "\"ioc_type\""
			 : col_of[TF_TYPE] >= 0 ? "\"ioc_value\""
						: "\"ioc_value\" nor \"ioc_type\"");
		return true;
	}
	memcpy(c->col_of, col_of, sizeof(col_of));
	c->ncols = c->nf;
	c->header_line = c->line;
	return true;
}

/* Field id of the current row, its "" undone into scratch. */
static void row_field(struct csv *c, int id, struct tf_field *out)
{
	const struct csv_field *f;
	char *o = c->scratch[id];
	size_t k = 0;

	out->too_long = false;
	if (c->col_of[id] < 0) {
		out->s = NULL;
		out->n = 0;
		return;
	}
	f = &c->fields[c->col_of[id]];
	out->s = f->s;
	out->n = f->n;
	if (!f->esc)
		return;
	for (size_t i = 0; i < f->n; i++) {
		if (k == TF_FIELD_MAX) {
			out->too_long = true;
			return;
		}
		o[k++] = f->s[i];
		if (f->s[i] == '"')
			i++; /* the second quote of "" */
	}
	out->s = o;
	out->n = k;
}

static void csv_pos(void *ctx, int field, int *line, int *col)
{
	const struct csv *c = ctx;

	*line = c->line;
	*col = field >= 0 && c->col_of[field] >= 0 ? c->fields[c->col_of[field]].col : 1;
}

static void row(struct csv *c, const char *bol, const char *s, const char *e)
{
	struct tf_row r;
	const char *why;
	int bad_col;

	if (!split(c, bol, s, e, &bad_col, &why)) {
		lb_invalid(c->lb, c->line, bad_col, "%s", why);
		return;
	}
	if (c->nf != c->ncols) {
		lb_invalid(c->lb, c->line, (int)(s - bol) + 1,
			   "%d fields, where the header line (line %d) has %d", c->nf,
			   c->header_line, c->ncols);
		return;
	}
	for (int id = 0; id < TF_NFIELDS; id++)
		row_field(c, id, &r.f[id]);
	threatfox_row(&c->tf, &r, csv_pos, c);
}

void format_threatfox_csv_parse(struct list_builder *lb, const char *text, size_t len)
{
	struct csv c;
	const char *p = text, *end = text + len;

	c.lb = lb;
	c.line = 0;
	c.ncols = 0;
	c.header_line = 0;
	threatfox_init(&c.tf, lb);
	if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	while (p < end && !lb_failed(lb)) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *bol = p, *s = p, *e = eol ? eol : end;

		p = eol ? eol + 1 : end;
		c.line++;
		if (e > s && e[-1] == '\r')
			e--;
		while (s < e && is_blank(*s))
			s++;
		if (s == e)
			continue;
		if (*s == '#') {
			/* A comment, or the header line: # "first_seen_utc","ioc_id",... */
			for (s++; s < e && is_blank(*s);)
				s++;
			if (s < e && *s == '"')
				header(&c, bol, s, e);
			continue;
		}
		if (c.ncols) {
			row(&c, bol, s, e);
		} else if (!header(&c, bol, s, e)) {
			/* Neither a row under a header nor an uncommented header line. */
			lb_error(lb, c.line, (int)(s - bol) + 1, "%s before the first row",
				 no_header);
		}
	}
	if (!c.ncols && !lb_failed(lb))
		lb_error(lb, 0, 0, "%s", no_header);
}
