/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the fuzz targets: an invariant check that aborts (libFuzzer then keeps
 * the input as a crash), a strict JSON validator for block-log lines, and checks of answers
 * we build.
 */
#ifndef SINKHOLED_FUZZ_COMMON_H
#define SINKHOLED_FUZZ_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "blocklog.h"
#include "dnsmsg.h"

/* An invariant of the code under test: abort with the condition, so the input is kept. */
#define FUZZ_ASSERT(cond)                                                                          \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__,       \
				#cond);                                                            \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

static inline uint16_t fz_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* ---- a strict JSON (RFC 8259) validator: one value, UTF-8 checked ------------------------- */

struct jp {
	const unsigned char *s, *end;
	int depth;
};

static void jp_ws(struct jp *j)
{
	while (j->s < j->end && (*j->s == ' ' || *j->s == '\t' || *j->s == '\n' || *j->s == '\r'))
		j->s++;
}

static bool jp_utf8(struct jp *j)
{
	const unsigned char *s = j->s;
	size_t n = (size_t)(j->end - s), len;
	uint32_t cp;

	if (s[0] < 0xc2)
		return false;
	len = s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : s[0] < 0xf5 ? 4 : 0;
	if (!len || n < len)
		return false;
	cp = s[0] & (len == 2 ? 0x1f : len == 3 ? 0x0f : 0x07);
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return false;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return false;
	j->s += len;
	return true;
}

static bool jp_string(struct jp *j)
{
	if (j->s >= j->end || *j->s != '"')
		return false;
	j->s++;
	while (j->s < j->end) {
		unsigned char c = *j->s;

		if (c == '"') {
			j->s++;
			return true;
		}
		if (c < 0x20)
			return false;
		if (c == '\\') {
			if (j->end - j->s < 2)
				return false;
			c = j->s[1];
			if (c == 'u') {
				if (j->end - j->s < 6)
					return false;
				for (int i = 2; i < 6; i++)
					if (!strchr("0123456789abcdefABCDEF", j->s[i]) || !j->s[i])
						return false;
				j->s += 6;
			} else if (c && strchr("\"\\/bfnrt", c)) {
				j->s += 2;
			} else {
				return false;
			}
		} else if (c >= 0x80) {
			if (!jp_utf8(j))
				return false;
		} else {
			j->s++;
		}
	}
	return false;
}

static bool jp_value(struct jp *j);

static bool jp_number(struct jp *j)
{
	const unsigned char *st;

	if (j->s < j->end && *j->s == '-')
		j->s++;
	st = j->s;
	while (j->s < j->end && *j->s >= '0' && *j->s <= '9')
		j->s++;
	if (j->s == st || (*st == '0' && j->s - st > 1))
		return false;
	return true; /* we never write fractions or exponents */
}

static bool jp_value(struct jp *j)
{
	bool ok = true;

	jp_ws(j);
	if (j->s >= j->end || ++j->depth > 16)
		return false;
	if (*j->s == '{' || *j->s == '[') {
		bool obj = *j->s == '{';
		char close = obj ? '}' : ']';

		j->s++;
		jp_ws(j);
		if (j->s < j->end && *j->s == close) {
			j->s++;
		} else {
			for (;;) {
				if (obj) {
					jp_ws(j);
					if (!jp_string(j))
						return false;
					jp_ws(j);
					if (j->s >= j->end || *j->s++ != ':')
						return false;
				}
				if (!jp_value(j))
					return false;
				jp_ws(j);
				if (j->s >= j->end)
					return false;
				if (*j->s == ',') {
					j->s++;
					continue;
				}
				if (*j->s++ != close)
					return false;
				break;
			}
		}
	} else if (*j->s == '"') {
		ok = jp_string(j);
	} else if (j->end - j->s >= 4 && (!memcmp(j->s, "true", 4) || !memcmp(j->s, "null", 4))) {
		j->s += 4;
	} else if (j->end - j->s >= 5 && !memcmp(j->s, "false", 5)) {
		j->s += 5;
	} else {
		ok = jp_number(j);
	}
	j->depth--;
	return ok;
}

/* True when buf[0..n) is exactly one JSON object followed by one '\n' (a block-log line). */
static inline bool fz_json_line(const char *buf, size_t n)
{
	struct jp j = {(const unsigned char *)buf, (const unsigned char *)buf + n, 0};

	if (n < 3 || buf[0] != '{' || buf[n - 1] != '\n' || memchr(buf, '\n', n - 1))
		return false;
	j.end--; /* the newline */
	if (!jp_value(&j))
		return false;
	return j.s == j.end;
}

/*
 * The raw JSON value of the top-level field key in line (n bytes), as written: a string with
 * its quotes, a number, true or false. Returns its length, 0 when the field is absent. Our
 * values never contain ",\"" or "}" outside strings but for AdditionalFields, which is last.
 */
static inline size_t fz_field(const char *line, size_t n, const char *key, const char **val)
{
	char pat[64];
	const char *p, *end = line + n, *q;
	size_t klen = (size_t)snprintf(pat, sizeof(pat), "{\"%s\":", key);

	/* The first field follows '{', the others ','. */
	p = memmem(line, n, pat, klen);
	if (!p) {
		pat[0] = ',';
		p = memmem(line, n, pat, klen);
	}
	if (!p)
		return 0;
	*val = q = p + klen;
	if (*q == '"') {
		for (q++; q < end && *q != '"'; q++)
			if (*q == '\\')
				q++;
		return (size_t)(q + 1 - *val);
	}
	while (q < end && *q != ',' && *q != '}')
		q++;
	return (size_t)(q - *val);
}

/* Fields a and b are both present with the same value. */
static inline bool fz_same(const char *line, size_t n, const char *a, const char *b)
{
	const char *va, *vb;
	size_t la = fz_field(line, n, a, &va), lb = fz_field(line, n, b, &vb);

	return la && la == lb && memcmp(va, vb, la) == 0;
}

/* The field is present, and its value starts with c (a JSON type: '"', a digit, 't'/'f'). */
static inline bool fz_kind(const char *line, size_t n, const char *key, const char *kinds)
{
	const char *v;

	return fz_field(line, n, key, &v) && strchr(kinds, v[0]);
}

/*
 * Format rec with blocklog_format into a buffer of the documented size and check the line:
 * valid JSON, the fields every record has with their one JSON type (conf/sentinel/table.json),
 * and the fields that repeat another one equal to it.
 */
static inline void fz_check_blocklog(const struct blocklog_rec *rec, const char *dvc)
{
	static char line[8192]; /* "8 KiB always suffices" (blocklog.h) */
	/* In every record. */
	static const char *const strings[] = {
		"TimeGenerated",     "EventStartTime",	  "EventEndTime",	 "EventType",
		"EventSubType",	     "EventResult",	  "EventResultDetails",	 "EventSeverity",
		"EventOriginalType", "EventProduct",	  "EventProductVersion", "EventVendor",
		"EventSchema",	     "EventSchemaVersion", "Dvc",		 "DvcHostname",
		"DvcAction",	     "DvcOriginalAction", "SrcIpAddr",		 "Src",
		"NetworkProtocolVersion", "DnsQuery",	  "DnsResponseCodeName",
	};
	/* In the record of one query (not in a retro-hunt finding). */
	static const char *const query_strings[] = {"DstIpAddr",	 "Dst",
						    "NetworkProtocol",	 "DnsQueryClassName",
						    "DnsQueryTypeName", "TransactionIdHex"};
	static const char *const query_ints[] = {"SrcPortNumber", "DstPortNumber", "DnsQueryClass",
						 "DnsQueryType"};
	bool one_query = rec->proto != BLOCKLOG_RETRO;
	bool listed = !rec->unlisted; /* else a query-log record of a name no entry matched */
	/* Straight into a room of BLOCKLOG_FORMAT_ROOM, or through a copy: the same line. */
	static char room[BLOCKLOG_FORMAT_ROOM];
	size_t n = blocklog_format(rec, dvc, line, sizeof(line));
	const char *v;
	bool answered;
	char count[24];

	FUZZ_ASSERT(n > 0 && n <= sizeof(line));
	FUZZ_ASSERT(blocklog_format(rec, dvc, room, sizeof(room)) == n);
	FUZZ_ASSERT(memcmp(room, line, n) == 0);
	if (!fz_json_line(line, n)) {
		fprintf(stderr, "bad block-log line: %.*s\n", (int)n, line);
		FUZZ_ASSERT(!"block-log line is valid JSON");
	}
	for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
		FUZZ_ASSERT(fz_kind(line, n, strings[i], "\""));
	FUZZ_ASSERT(fz_kind(line, n, "EventCount", "0123456789"));
	/* EventCount: the lookups a record stands for, 1 for one lookup (count 0). */
	snprintf(count, sizeof(count), "%u", rec->count ? rec->count : 1u);
	FUZZ_ASSERT(fz_field(line, n, "EventCount", &v) == strlen(count) &&
		    !memcmp(v, count, strlen(count)));
	FUZZ_ASSERT(listed == fz_kind(line, n, "ThreatField", "\""));
	FUZZ_ASSERT(listed == fz_kind(line, n, "ThreatIsActive", "t"));
	if (!listed)
		FUZZ_ASSERT(!fz_field(line, n, "RuleName", &v) && !fz_field(line, n, "ThreatName", &v));
	for (size_t i = 0; i < sizeof(query_strings) / sizeof(query_strings[0]); i++)
		FUZZ_ASSERT(one_query == fz_kind(line, n, query_strings[i], "\""));
	for (size_t i = 0; i < sizeof(query_ints) / sizeof(query_ints[0]); i++)
		FUZZ_ASSERT(one_query == fz_kind(line, n, query_ints[i], "0123456789"));
	FUZZ_ASSERT(one_query == fz_kind(line, n, "DnsFlagsRecursionDesired", "tf"));
	if (one_query) {
		/* Aggregated lookups: TimeGenerated is the first (start_ms is time_ms). */
		FUZZ_ASSERT(fz_same(line, n, "TimeGenerated", "EventStartTime"));
		if (rec->count <= 1 || rec->end_ms == rec->time_ms)
			FUZZ_ASSERT(fz_same(line, n, "TimeGenerated", "EventEndTime"));
		FUZZ_ASSERT(fz_same(line, n, "DstIpAddr", "Dst"));
	}
	FUZZ_ASSERT(fz_same(line, n, "SrcIpAddr", "Src"));
	FUZZ_ASSERT(fz_same(line, n, "EventResultDetails", "DnsResponseCodeName"));
	/* No answer (a drop): a request, NA, and no response fields. */
	answered = rec->action != BLOCKLOG_DROPPED && one_query;
	FUZZ_ASSERT(fz_field(line, n, "EventSubType", &v) &&
		    memcmp(v, answered ? "\"response\"" : "\"request\"", answered ? 10 : 9) == 0);
	FUZZ_ASSERT(answered == (fz_field(line, n, "DnsResponseCode", &v) != 0));
	/* DnsNetworkDuration: an int, in the answered records of forwarded queries only. */
	FUZZ_ASSERT((answered && rec->has_net) == fz_kind(line, n, "DnsNetworkDuration", "0123456789"));
	if (!answered) {
		FUZZ_ASSERT(fz_field(line, n, "EventResult", &v) == 4 && !memcmp(v, "\"NA\"", 4));
		/* But for an IP indicator's, the threat field: the address the upstream gave. */
		FUZZ_ASSERT(fz_field(line, n, "DnsResponseName", &v) == 0 ||
			    rec->via == BLOCKLOG_VIA_IP);
	}
	if (fz_field(line, n, "ThreatConfidence", &v))
		FUZZ_ASSERT(strchr("0123456789", v[0]));
	if (fz_field(line, n, "ThreatFirstReportedTime", &v))
		FUZZ_ASSERT(v[0] == '"');
}

/* ---- answers we build --------------------------------------------------------------------- */

/* The message must parse with ldns (a strict, independent DNS parser). */
static inline void fz_check_wire(const uint8_t *msg, size_t n)
{
	ldns_pkt *pkt = NULL;
	ldns_status s = ldns_wire2pkt(&pkt, msg, n);

	if (s != LDNS_STATUS_OK) {
		fprintf(stderr, "ldns rejects our message: %s\n", ldns_get_errorstr_by_id(s));
		FUZZ_ASSERT(!"a message we build parses with ldns");
	}
	ldns_pkt_free(pkt);
}

/*
 * Common header checks of an answer to q: the client's ID, RD and CD echoed, QR=1, AA=0,
 * AD=0, opcode as given; the question bytes echoed when qd is 1.
 */
static inline void fz_check_answer_header(const struct dns_query *q, const uint8_t *a, size_t n,
					  int opcode)
{
	size_t qlen = q->question_end - DNS_HDR_LEN;

	FUZZ_ASSERT(n >= DNS_HDR_LEN);
	FUZZ_ASSERT(fz_get16(a) == q->id);
	FUZZ_ASSERT(a[2] & 0x80);		     /* QR */
	FUZZ_ASSERT(((a[2] >> 3) & 0x0F) == opcode); /* opcode */
	FUZZ_ASSERT(!(a[2] & 0x04));		     /* AA */
	FUZZ_ASSERT(((a[2] & 0x01) != 0) == q->rd);  /* RD */
	FUZZ_ASSERT(!(a[3] & 0x20));		     /* AD */
	FUZZ_ASSERT(!(a[3] & 0x40));		     /* Z */
	if (opcode == 0) {			     /* QUERY: a recursive service's answer */
		FUZZ_ASSERT(((a[3] & 0x10) != 0) == q->cd); /* CD echoed */
		FUZZ_ASSERT(a[3] & 0x80);		   /* RA */
	} else {				     /* NOTIMP: RA, AD and CD clear */
		FUZZ_ASSERT(!(a[3] & 0x10));
		FUZZ_ASSERT(!(a[3] & 0x80));
	}
	if (fz_get16(a + 4) == 1) {
		FUZZ_ASSERT(q->question_end > DNS_HDR_LEN);
		FUZZ_ASSERT(n >= q->question_end);
		FUZZ_ASSERT(memcmp(a + DNS_HDR_LEN, q->pkt + DNS_HDR_LEN, qlen) == 0);
	}
}

#endif
