/* SPDX-License-Identifier: MIT */
#include "blocklog.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ldns/ldns.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "policy/policy.h"
#include "log.h"
#include "util.h"
#include "util/civil.h"

#define MOD "blocklog"

/* Records formatted per ring per round: rings are drained round-robin in batches this big. */
#define POP_MAX 64
/* Write once this much is buffered (or every ring is empty). */
#define FLUSH_AT (64 * 1024)
/* blocklog_format() writes into this much room, more than a line needs (see WRITE_SLACK). */
#define FORMAT_ROOM BLOCKLOG_FORMAT_ROOM
/* Upper bound on buffered lines: each one is several hundred bytes long. */
#define LINES_MAX 512
/* Write errors, and drops, are reported at most this often. */
#define ERR_INTERVAL_MS 60000
/* An idle writer wakes up this often: bounds the delay of a missed wake-up (should be none). */
#define IDLE_WAIT_MS 200
/* blocklog_sync() snapshots this many rings on its stack, more with malloc(). */
#define SYNC_STACK 64
/* Fields written by different threads are kept this far apart (no false sharing). */
#define CACHE_LINE 64
/*
 * Dvc and the ioc_meta strings are cut to this many JSON bytes each, so that a line always fits
 * in 8 KiB: 7 strings * 402 + 3 names * 1255 (a CNAME hit's) + the host name (66) + the rest
 * (about 1500) = 8150 bytes at most (test_format_worst_case).
 */
#define STR_MAX_OUT 400

/*
 * One producer's queue: a single-producer/single-consumer ring. head and tail count records
 * since start (never wrapped: 2^64); the slot of index i is slots[i & mask]. The producer owns
 * tail and the slots in [tail, head + cap), the writer the slots in [head, tail).
 */
struct ring {
	/* Immutable after blocklog_new(). */
	struct blocklog_rec *slots;
	uint64_t mask; /* capacity - 1 */

	/* Written by the producer only. */
	_Alignas(CACHE_LINE) atomic_uint_least64_t tail; /* next slot to fill; store publishes it */
	uint64_t head_seen; /* producer's copy of head, reloaded when the ring looks full */
	atomic_uint_least64_t dropped; /* submits refused because the ring was full */
	atomic_uint_least64_t dropped_events; /* the lookups they stood for (EventCount) */

	/* Written by the writer only. */
	_Alignas(CACHE_LINE) atomic_uint_least64_t head; /* next slot to read; store frees it */
	uint64_t done; /* records before this one are written or dropped; protected by mu */
};

/* Lines formatted and not yet written. */
struct batch {
	char *buf;
	size_t len;
	size_t n;		  /* lines in buf */
	size_t skipped;		  /* records that could not be formatted (dropped) */
	size_t ends[LINES_MAX];	  /* end offset of each line */
	uint64_t events[LINES_MAX]; /* EventCount of the lines up to each one, summed */
	int64_t last_err_ms;	  /* when a write error was last reported */
	uint64_t errs_suppressed; /* errors since then */
};

struct blocklog {
	/*
	 * Read by every submit. Immutable but for sleeping, which the writer only writes when it
	 * runs out of records and when it wakes up: under load, this line is never written.
	 */
	struct ring *rings;
	unsigned n_rings;
	atomic_bool sleeping; /* the writer is about to wait, or waits, on work */

	/* Set at creation, then owned by the writer thread. */
	_Alignas(CACHE_LINE) char *path;
	int fd;
	bool is_stdout;
	pthread_t thread;
	struct batch batch;
	char *dvc_copy;		 /* the writer's copy of dvc */
	uint64_t dvc_copy_gen;	 /* of dvc_gen */
	uint64_t drops_reported; /* blocklog_dropped() at the last drop report */
	int64_t drops_report_ms; /* when that was (monotonic), 0 before the first one */

	pthread_mutex_t mu;
	pthread_cond_t work; /* writer: records queued (while sleeping), stop or reopen requested */
	pthread_cond_t done; /* blocklog_sync(): some ring's done advanced */
	/* Protected by mu (and the rings' done fields). */
	bool stop;
	char *dvc;
	atomic_uint_least64_t dvc_gen; /* written under mu, read by the writer without it */

	atomic_bool reopen;
	blocklog_observe_fn observe; /* set before any record, then read by the writer */
	void *observe_arg;
	atomic_uint_least64_t dropped; /* by the writer: write errors, unformattable records */
	atomic_uint_least64_t dropped_events; /* the lookups those stood for */
	atomic_uint_least64_t written;
};

/* --- JSON formatting ------------------------------------------------------------------------- */

/*
 * The line is written without a bounds check per field: into a buffer of at least FORMAT_ROOM
 * bytes, which holds the longest line with room to spare (see blocklog_format()). Fields are
 * at most (bytes, JSON text with quotes):
 *   3 names (DnsQuery, RuleName, MatchedName): 255 wire bytes, 5 each as \\DDD  3 * 1277
 *   7 strings (Dvc and the ioc_meta ones), STR_MAX_OUT each                     7 * 402
 *   DvcHostname                                                                    66
 *   6 times: a year of 12 digits and a sign at most                              6 * 40
 *   7 addresses and prefixes                                                     7 * 52
 *   13 numbers and the ID                                                       14 * 20
 *   the keys and fixed values (about 1500), the type's mnemonic                  2000
 * 9595 bytes in all. Some fields are copied WRITE_SLACK bytes at a time (a fixed-size copy, whose
 * tail the next field overwrites), so the room also has that much after the line.
 */
#define WRITE_SLACK 48
_Static_assert(3 * 1277 + 7 * (STR_MAX_OUT + 2) + 66 + 6 * 40 + 7 * 52 + 14 * 20 + 2000 +
			       WRITE_SLACK <=
		       FORMAT_ROOM,
	       "FORMAT_ROOM holds the longest line");

/* Copies a string literal (its length known at compile time) to p and advances p. */
#define PUT_LIT(p, lit)                                                                            \
	do {                                                                                       \
		memcpy((p), "" lit, sizeof(lit) - 1);                                              \
		(p) += sizeof(lit) - 1;                                                            \
	} while (0)

/* "00" to "99": two digits at a time. */
static const char digits2[200] = "00010203040506070809101112131415161718192021222324"
				 "25262728293031323334353637383940414243444546474849"
				 "50515253545556575859606162636465666768697071727374"
				 "75767778798081828384858687888990919293949596979899";

/* A short text padded to a fixed size, copied whole (WRITE_SLACK) and advanced by len. */
struct text16 {
	char s[16];
	uint8_t len;
};

#define TEXT16(lit) {lit, sizeof(lit) - 1}

static inline char *put_text16(char *p, const struct text16 *t)
{
	memcpy(p, t->s, sizeof(t->s));
	return p + t->len;
}

static inline char *put_2digits(char *p, unsigned v)
{
	memcpy(p, digits2 + 2 * v, 2);
	return p + 2;
}

/* v in decimal. */
static char *put_u32(char *p, uint32_t v)
{
	unsigned n = v < 10 ? 1 : v < 100 ? 2 : v < 1000 ? 3 : v < 10000 ? 4 : v < 100000 ? 5 : 6;
	char *e;

	for (uint32_t t = 1000000; n >= 6 && n < 10 && v >= t; t *= 10)
		n++;
	e = p + n;

	while (v >= 100) {
		e -= 2;
		memcpy(e, digits2 + 2 * (v % 100), 2);
		v /= 100;
	}
	if (v >= 10)
		memcpy(e - 2, digits2 + 2 * v, 2);
	else
		e[-1] = (char)('0' + v);
	return p + n;
}

static char *put_u64(char *p, uint64_t v)
{
	char tmp[20];
	size_t i = sizeof(tmp);

	if (v <= UINT32_MAX)
		return put_u32(p, (uint32_t)v);
	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	memcpy(p, tmp + i, sizeof(tmp) - i);
	return p + sizeof(tmp) - i;
}

static char *put_i64(char *p, int64_t v)
{
	if (v < 0) {
		*p++ = '-';
		return put_u64(p, (uint64_t)0 - (uint64_t)v);
	}
	return put_u64(p, (uint64_t)v);
}

/* Length of the valid UTF-8 sequence at s (NUL-terminated), 0 if invalid. */
static size_t utf8_len(const unsigned char *s)
{
	uint32_t cp;
	size_t len;

	if (s[0] < 0xc2)
		return 0; /* continuation byte or overlong 2-byte lead */
	if (s[0] < 0xe0) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] < 0xf0) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] < 0xf5) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	/* A NUL (the end) is no continuation byte: a cut sequence stops here. */
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

/* Bytes copied as they are into a JSON string: printable ASCII but '"' and '\'. */
static const bool json_plain[256] = {
	[0x20 ... 0x21] = true, /* not '"' */
	[0x23 ... 0x5b] = true, /* not '\\' */
	[0x5d ... 0x7e] = true,
};

/*
 * s as a JSON string with its quotes: '"' and '\' escaped, control characters as \u00XX,
 * valid UTF-8 copied, invalid bytes replaced by U+FFFD. At most max bytes between the quotes
 * (cut between characters). Writes at most max + 2 bytes (and no more than 6 per byte of s).
 */
static char *put_json_str(char *p, const char *s, size_t max)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *u = (const unsigned char *)s;
	char *stop;

	*p++ = '"';
	stop = p + max;
	for (;;) {
		unsigned char c = *u;
		size_t adv;

		if (likely(json_plain[c])) {
			if (p == stop)
				break;
			*p++ = (char)c;
			u++;
			continue;
		}
		if (c == '\0')
			break;
		if (c == '"' || c == '\\') {
			if (stop - p < 2)
				break;
			p[0] = '\\';
			p[1] = (char)c;
			p += 2;
			u++;
		} else if (c < 0x20 || c == 0x7f) {
			if (stop - p < 6)
				break;
			memcpy(p, "\\u00", 4);
			p[4] = hex[c >> 4];
			p[5] = hex[c & 0xf];
			p += 6;
			u++;
		} else if ((adv = utf8_len(u)) != 0) {
			if ((size_t)(stop - p) < adv)
				break;
			memcpy(p, u, adv);
			p += adv;
			u += adv;
		} else {
			if (stop - p < 6)
				break;
			memcpy(p, "\\ufffd", 6);
			p += 6;
			u++;
		}
	}
	*p++ = '"';
	return p;
}

/*
 * Wire name bytes by how they are written (DESIGN.md section 6): NAME_COPY as they are,
 * NAME_LOWER lowercased (canonical names are lowercase already), NAME_ESCAPE as \DDD: bytes
 * outside 0x21-0x7e and . \ " ( ) ; @ $.
 */
enum { NAME_COPY = 0, NAME_LOWER = 1, NAME_ESCAPE = 2 };
static const uint8_t name_class[256] = {
	[0 ... 0x20] = NAME_ESCAPE, [0x7f ... 0xff] = NAME_ESCAPE, ['.'] = NAME_ESCAPE,
	['\\'] = NAME_ESCAPE,	     ['"'] = NAME_ESCAPE,	    ['('] = NAME_ESCAPE,
	[')'] = NAME_ESCAPE,	     [';'] = NAME_ESCAPE,	    ['@'] = NAME_ESCAPE,
	['$'] = NAME_ESCAPE,	     ['A' ... 'Z'] = NAME_LOWER,
};

/*
 * The wire name at name[off, len) in presentation form with its quotes: lowercase, no
 * trailing dot ("." for the root), escaped bytes as \DDD, whose backslash is doubled for JSON.
 * Stops at a malformed label. Writes at most 5 bytes per byte of the name, and 3. When a label
 * starts at wire offset mark, *at is where its text begins (else it is left alone): the name
 * from mark on is the text from there to the closing quote, unless that is empty (the root).
 */
static char *put_name_mark(char *p, const uint8_t *name, size_t off, size_t len, size_t mark,
			   char **at)
{
	bool first = true;

	*p++ = '"';
	while (off < len) {
		size_t l = name[off], end;

		if (l == 0 || l > 63 || off + 1 + l > len)
			break;
		if (!first)
			*p++ = '.';
		first = false;
		if (off == mark)
			*at = p;
		end = off + 1 + l;
		for (size_t i = off + 1; i < end; i++) {
			uint8_t c = name[i];

			if (likely(name_class[c] == NAME_COPY)) {
				*p++ = (char)c;
			} else if (name_class[c] == NAME_LOWER) {
				*p++ = (char)(c - 'A' + 'a');
			} else {
				p[0] = '\\';
				p[1] = '\\';
				p[2] = (char)('0' + c / 100);
				memcpy(p + 3, digits2 + 2 * (c % 100), 2);
				p += 5;
			}
		}
		off = end;
	}
	if (first)
		*p++ = '.';
	*p++ = '"';
	return p;
}

static char *put_name(char *p, const uint8_t *name, size_t off, size_t len)
{
	char *at;

	return put_name_mark(p, name, off, len, SIZE_MAX, &at);
}

/* secs as "YYYY-MM-DDTHH:MM:SS" (UTC), unquoted. */
static char *put_secs(char *p, int64_t secs)
{
	int64_t days = secs / 86400, rem = secs % 86400, y;
	unsigned m, d, r;

	if (rem < 0) {
		rem += 86400;
		days--;
	}
	r = (unsigned)rem;
	civil_from_days(days, &y, &m, &d);
	if (y >= 0 && y <= 9999) {
		p = put_2digits(p, (unsigned)y / 100);
		p = put_2digits(p, (unsigned)y % 100);
	} else {
		p = put_i64(p, y);
	}
	*p++ = '-';
	p = put_2digits(p, m);
	*p++ = '-';
	p = put_2digits(p, d);
	*p++ = 'T';
	p = put_2digits(p, r / 3600);
	*p++ = ':';
	p = put_2digits(p, r / 60 % 60);
	*p++ = ':';
	return put_2digits(p, r % 60);
}

/* A time without milliseconds (ThreatFirstReportedTime, IocExpires), quoted. */
static char *put_time_secs(char *p, int64_t secs)
{
	*p++ = '"';
	p = put_secs(p, secs);
	PUT_LIT(p, "Z\"");
	return p;
}

/*
 * An entry's time without milliseconds, through a cache of the thread's: records of one entry
 * often follow each other. which: 0 for ThreatFirstReportedTime, 1 for IocExpires.
 */
static char *put_entry_time(char *p, int64_t secs, int which)
{
	static _Thread_local struct {
		int64_t secs;
		size_t len;	/* 0: empty */
		char text[48]; /* zero padded: copied WRITE_SLACK bytes */
	} cache[2];

	if (cache[which].len == 0 || cache[which].secs != secs) {
		char *end = put_time_secs(cache[which].text, secs);

		cache[which].len = (size_t)(end - cache[which].text);
		cache[which].secs = secs;
	}
	memcpy(p, cache[which].text, WRITE_SLACK);
	return p + cache[which].len;
}

/* Unix time t_ms (milliseconds, before 1970 too) as "YYYY-MM-DDTHH:MM:SS.mmmZ", quoted. */
static char *put_time_ms(char *p, int64_t t_ms)
{
	int64_t secs = t_ms / 1000, ms = t_ms % 1000;

	if (ms < 0) {
		ms += 1000;
		secs--;
	}
	*p++ = '"';
	p = put_secs(p, secs);
	*p++ = '.';
	*p++ = (char)('0' + ms / 100);
	p = put_2digits(p, (unsigned)ms % 100);
	PUT_LIT(p, "Z\"");
	return p;
}

/*
 * TimeGenerated, quoted, formatted into the thread's cache: records come in time order, and
 * under load many share their millisecond, and most their second, with the one before.
 */
struct time_cache {
	int64_t ms;	/* of text, valid when len > 0 */
	int64_t secs;	/* of text's date and time, valid when len > 0 */
	size_t len;	/* of text */
	char text[48];	/* "\"YYYY-MM-DDTHH:MM:SS.mmmZ\"", zero padded: copied WRITE_SLACK bytes */
};

static const char *time_generated(int64_t t_ms, size_t *len)
{
	static _Thread_local struct time_cache c;
	int64_t secs = t_ms / 1000, ms = t_ms % 1000;
	char *p;

	if (likely(c.len > 0 && t_ms == c.ms)) {
		*len = c.len;
		return c.text;
	}
	if (ms < 0) {
		ms += 1000;
		secs--;
	}
	if (c.len > 0 && secs == c.secs) {
		p = c.text + c.len - 5; /* rewrite "mmmZ\"" after the '.' */
	} else {
		p = put_secs(c.text + 1, secs);
		c.text[0] = '"';
		*p++ = '.';
		c.secs = secs;
	}
	*p++ = (char)('0' + ms / 100);
	p = put_2digits(p, (unsigned)ms % 100);
	PUT_LIT(p, "Z\"");
	c.ms = t_ms;
	c.len = (size_t)(p - c.text);
	*len = c.len;
	return c.text;
}

/* "0" to "255", the length in the last byte: filled by format_init(). */
static char octets[256][4];

/* addr (4 bytes) as a dotted quad, unquoted: glibc's inet_ntop goes through sprintf. */
static char *put_ipv4(char *p, const uint8_t *addr)
{
	memcpy(p, octets[addr[0]], 4); /* the length byte too: overwritten */
	p += octets[addr[0]][3];
	for (int i = 1; i < 4; i++) {
		*p++ = '.';
		memcpy(p, octets[addr[i]], 4);
		p += octets[addr[i]][3];
	}
	return p;
}

/*
 * addr (16 bytes) as inet_ntop() writes it, unquoted (RFC 5952 as BIND and glibc do it: the
 * longest run of two or more zero groups, the first of equal ones, as "::"; an IPv4-mapped or
 * -compatible address ends in a dotted quad).
 */
static char *put_ipv6(char *p, const uint8_t *addr)
{
	static const char hex[] = "0123456789abcdef";
	unsigned words[8];
	int best = -1, best_len = 0, cur = -1, cur_len = 0;

	for (int i = 0; i < 8; i++) {
		words[i] = (unsigned)addr[2 * i] << 8 | addr[2 * i + 1];
		if (words[i] == 0) {
			if (cur < 0) {
				cur = i;
				cur_len = 0;
			}
			cur_len++;
		} else if (cur >= 0) {
			if (best < 0 || cur_len > best_len) {
				best = cur;
				best_len = cur_len;
			}
			cur = -1;
		}
	}
	if (cur >= 0 && (best < 0 || cur_len > best_len)) {
		best = cur;
		best_len = cur_len;
	}
	if (best >= 0 && best_len < 2)
		best = -1;
	for (int i = 0; i < 8; i++) {
		unsigned w = words[i];

		if (best >= 0 && i >= best && i < best + best_len) {
			if (i == best)
				*p++ = ':';
			continue;
		}
		if (i != 0)
			*p++ = ':';
		if (i == 6 && best == 0 && (best_len == 6 || (best_len == 5 && words[5] == 0xffff)))
			return put_ipv4(p, addr + 12);
		if (w >= 0x1000)
			*p++ = hex[w >> 12];
		if (w >= 0x100)
			*p++ = hex[(w >> 8) & 0xf];
		if (w >= 0x10)
			*p++ = hex[(w >> 4) & 0xf];
		*p++ = hex[w & 0xf];
	}
	if (best >= 0 && best + best_len == 8)
		*p++ = ':';
	return p;
}

/* The quoted address; NULL (nothing written) for another family than AF_INET or AF_INET6. */
static char *put_addr(char *p, int family, const uint8_t *addr)
{
	if (family == AF_INET) {
		*p++ = '"';
		p = put_ipv4(p, addr);
	} else if (family == AF_INET6) {
		*p++ = '"';
		p = put_ipv6(p, addr);
	} else {
		return NULL;
	}
	*p++ = '"';
	return p;
}

/* The quoted address, or "" for another family. */
static char *put_addr_or_empty(char *p, int family, const uint8_t *addr)
{
	char *q = put_addr(p, family, addr);

	if (q)
		return q;
	PUT_LIT(p, "\"\"");
	return p;
}

/* The listed prefix of an IP hit, quoted: addr masked to bits, "/bits" unless a host. */
static char *put_prefix(char *p, int family, const uint8_t *addr, unsigned bits)
{
	unsigned total = family == AF_INET ? 32 : 128;
	uint8_t net[16] = {0};

	if (family != AF_INET && family != AF_INET6) {
		PUT_LIT(p, "\"\"");
		return p;
	}
	if (bits > total)
		bits = total;
	memcpy(net, addr, total / 8);
	for (unsigned i = bits; i < total; i++)
		net[i / 8] &= (uint8_t)~(0x80 >> (i % 8));
	*p++ = '"';
	p = family == AF_INET ? put_ipv4(p, net) : put_ipv6(p, net);
	if (bits < total) {
		*p++ = '/';
		p = put_u32(p, bits);
	}
	*p++ = '"';
	return p;
}

/* EventResultDetails: the IANA name of an rcode (RFC 6895's registry), "Unassigned" else. */
static const struct text16 *rcode_text(unsigned rcode)
{
	static const struct text16 names[] = {
		TEXT16("NOERROR"),    TEXT16("FORMERR"),    TEXT16("SERVFAIL"),
		TEXT16("NXDOMAIN"),   TEXT16("NOTIMP"),	    TEXT16("REFUSED"),
		TEXT16("YXDOMAIN"),   TEXT16("YXRRSET"),    TEXT16("NXRRSET"),
		TEXT16("NOTAUTH"),    TEXT16("NOTZONE"),    TEXT16("DSOTYPENI"),
		TEXT16("Unassigned"), TEXT16("Unassigned"), TEXT16("Unassigned"),
		TEXT16("Unassigned"), TEXT16("BADVERS"),    TEXT16("BADKEY"),
		TEXT16("BADTIME"),    TEXT16("BADMODE"),    TEXT16("BADNAME"),
		TEXT16("BADALG"),     TEXT16("BADTRUNC"),   TEXT16("BADCOOKIE"),
	};

	return &names[rcode < ARRAY_SIZE(names) ? rcode : 12];
}

/* DnsQueryClassName: IANA's DNS CLASS names, with the schema's Reserved and Unassigned. */
static const struct text16 *class_text(unsigned qclass)
{
	static const struct text16 in = TEXT16("IN"), ch = TEXT16("CH"), hs = TEXT16("HS"),
				   none = TEXT16("NONE"), any = TEXT16("ANY"),
				   reserved = TEXT16("Reserved"), unassigned = TEXT16("Unassigned");

	switch (qclass) {
	case 1:
		return &in;
	case 3:
		return &ch;
	case 4:
		return &hs;
	case 254:
		return &none;
	case 255:
		return &any;
	case 0:
		return &reserved;
	default:
		return qclass >= 0xff00 ? &reserved : &unassigned;
	}
}

/* DvcOriginalAction, by enum blocklog_orig; "" past the end (NUL-padded: also C strings). */
static const struct text16 orig_texts[] = {
	TEXT16("address"), TEXT16("nxdomain"),	  TEXT16("nodata"), TEXT16("refused"),
	TEXT16("local"),   TEXT16("drop"),	  TEXT16("ratelimited"), TEXT16("log"),
	TEXT16("forward"), TEXT16("cache"),	  TEXT16(""),
};

static const struct text16 *orig_text(unsigned orig)
{
	return &orig_texts[orig < ARRAY_SIZE(orig_texts) - 1 ? orig : ARRAY_SIZE(orig_texts) - 1];
}

const char *blocklog_orig_name(unsigned orig)
{
	return orig_text(orig)->s;
}

/* The mnemonics of the types below 256, looked up in ldns once; "" where it has none. */
#define TYPE_TABLE 256
static struct text16 type_texts[TYPE_TABLE];

static pthread_once_t format_once = PTHREAD_ONCE_INIT;
static char hostname_short[HOST_NAME_MAX + 1];
/* ",\"DvcHostname\":" and the host name as a JSON string. */
static char hostname_field[sizeof(",\"DvcHostname\":") + HOST_NAME_MAX + 2];
static size_t hostname_field_len;

/* Once per process: the host name and the tables of the formatter. */
static void format_init(void)
{
	char *p;

	if (gethostname(hostname_short, sizeof(hostname_short) - 1) != 0 || !hostname_short[0])
		snprintf(hostname_short, sizeof(hostname_short), "localhost");
	hostname_short[strcspn(hostname_short, ".")] = '\0';
	if (!hostname_short[0])
		snprintf(hostname_short, sizeof(hostname_short), "localhost");
	p = hostname_field;
	PUT_LIT(p, ",\"DvcHostname\":");
	p = put_json_str(p, hostname_short, HOST_NAME_MAX);
	hostname_field_len = (size_t)(p - hostname_field);

	for (unsigned v = 0; v < 256; v++) {
		char *e = octets[v];

		if (v >= 100)
			*e++ = (char)('0' + v / 100);
		if (v >= 10)
			*e++ = (char)('0' + v / 10 % 10);
		*e++ = (char)('0' + v % 10);
		octets[v][3] = (char)(e - octets[v]);
	}
	for (unsigned t = 0; t < TYPE_TABLE; t++) {
		const ldns_rr_descriptor *desc = ldns_rr_descript((uint16_t)t);
		size_t n = desc && desc->_name ? strlen(desc->_name) : 0;

		/* ldns's mnemonics are shorter; a longer one is looked up each time. */
		if (n < sizeof(type_texts[t].s)) {
			if (n > 0)
				memcpy(type_texts[t].s, desc->_name, n);
			type_texts[t].len = (uint8_t)n;
		} else {
			type_texts[t].len = 0xff;
		}
	}
}

const char *blocklog_hostname(void)
{
	pthread_once(&format_once, format_init);
	return hostname_short;
}

/* DnsQueryTypeName: the type's mnemonic, TYPEnnn when ldns knows none. */
static char *put_type_name(char *p, unsigned qtype)
{
	const ldns_rr_descriptor *desc;

	if (qtype < TYPE_TABLE && type_texts[qtype].len != 0xff) {
		if (type_texts[qtype].len > 0)
			return put_text16(p, &type_texts[qtype]);
	} else {
		desc = ldns_rr_descript((uint16_t)qtype);
		if (desc && desc->_name) {
			size_t n = strnlen(desc->_name, 32);

			memcpy(p, desc->_name, n);
			return p + n;
		}
	}
	PUT_LIT(p, "TYPE");
	return put_u32(p, qtype);
}

/* ",\"key\":" followed by the JSON string s, if s is set. */
#define PUT_OPT_STR(p, key, s)                                                                     \
	do {                                                                                       \
		const char *s_ = (s);                                                              \
		if (s_) {                                                                          \
			PUT_LIT(p, key);                                                           \
			p = put_json_str(p, s_, STR_MAX_OUT);                                      \
		}                                                                                  \
	} while (0)

/* The line of rec into buf, which has FORMAT_ROOM bytes; its length. */
static size_t format_line(const struct blocklog_rec *rec, const char *dvc, char *buf)
{
	char *p = buf;
	const struct ioc_meta *meta = rec->meta;
	const struct text16 *rname = rcode_text(rec->rcode);
	bool blocked = rec->action != BLOCKLOG_ALLOWED;
	bool retro = rec->proto == BLOCKLOG_RETRO; /* a retro-hunt finding, not one query */
	bool answered = rec->action != BLOCKLOG_DROPPED && !retro; /* else no response fields */
	bool cname = rec->via == BLOCKLOG_VIA_CNAME && rec->matched_len > 0;
	/* An IP indicator: the listed address found in the answer. */
	bool ip = rec->via == BLOCKLOG_VIA_IP && (rec->matched_len == 4 || rec->matched_len == 16);
	int ip_family = rec->matched_len == 4 ? AF_INET : AF_INET6;
	/* The entry's action: what a retro-hunt finding's entry does now, else what was done. */
	bool log_only = retro && meta ? meta->action == IOC_LOG : !blocked;
	bool listed = !rec->unlisted; /* else a query-log record: no entry, no threat fields */
	static const char hex[] = "0123456789ABCDEF";
	size_t when_len;
	const char *when = time_generated(rec->time_ms, &when_len);
	char *src, *dst, *q, *rule, *qname_end;
	size_t src_len, dst_len;

	PUT_LIT(p, "{\"TimeGenerated\":");
	memcpy(p, when, WRITE_SLACK);
	p += when_len;
	if (rec->count > 0) {
		/* The lookups it stands for (aggregated or retro-hunted): the first, the last. */
		PUT_LIT(p, ",\"EventCount\":");
		p = put_u32(p, rec->count);
		PUT_LIT(p, ",\"EventStartTime\":");
		p = put_time_ms(p, rec->start_ms);
		PUT_LIT(p, ",\"EventEndTime\":");
		p = put_time_ms(p, rec->end_ms);
	} else {
		PUT_LIT(p, ",\"EventStartTime\":");
		memcpy(p, when, WRITE_SLACK);
		p += when_len;
		PUT_LIT(p, ",\"EventEndTime\":");
		memcpy(p, when, WRITE_SLACK);
		p += when_len;
		PUT_LIT(p, ",\"EventCount\":1");
	}
	PUT_LIT(p, ",\"EventType\":\"Query\",\"EventSubType\":");
	if (answered) {
		if (rec->rcode == DNS_NOERROR)
			PUT_LIT(p, "\"response\",\"EventResult\":\"Success\","
				   "\"EventResultDetails\":\"");
		else
			PUT_LIT(p, "\"response\",\"EventResult\":\"Failure\","
				   "\"EventResultDetails\":\"");
		p = put_text16(p, rname);
		*p++ = '"';
	} else {
		PUT_LIT(p, "\"request\",\"EventResult\":\"NA\",\"EventResultDetails\":\"NA\"");
	}
	if (!listed) {
		if (blocked)
			PUT_LIT(p, ",\"EventSeverity\":\"Low\",\"EventOriginalType\":\"query\"");
		else
			PUT_LIT(p, ",\"EventSeverity\":\"Informational\","
				   "\"EventOriginalType\":\"query\"");
	} else {
		if (blocked)
			PUT_LIT(p, ",\"EventSeverity\":\"Medium\"");
		else
			PUT_LIT(p, ",\"EventSeverity\":\"Low\"");
		if (log_only)
			PUT_LIT(p, ",\"EventOriginalType\":\"log\"");
		else
			PUT_LIT(p, ",\"EventOriginalType\":\"block\"");
	}
	PUT_LIT(p, ",\"EventProduct\":\"sinkholed\",\"EventProductVersion\":\"" SINKHOLED_VERSION
		   "\",\"EventVendor\":\"sinkholed\",\"EventSchema\":\"Dns\","
		   "\"EventSchemaVersion\":\"0.1.7\"");
	if (meta)
		PUT_OPT_STR(p, ",\"EventReportUrl\":", meta->reference);
	PUT_LIT(p, ",\"Dvc\":");
	p = put_json_str(p, dvc ? dvc : "", STR_MAX_OUT);
	memcpy(p, hostname_field, hostname_field_len);
	p += hostname_field_len;
	if (blocked)
		PUT_LIT(p, ",\"DvcAction\":\"Blocked\",\"DvcOriginalAction\":");
	else
		PUT_LIT(p, ",\"DvcAction\":\"Allowed\",\"DvcOriginalAction\":");
	if (retro) {
		PUT_LIT(p, "\"retrohunt\"");
	} else {
		*p++ = '"';
		p = put_text16(p, orig_text(rec->orig));
		*p++ = '"';
	}
	/* The client twice: formatted once, then copied. */
	PUT_LIT(p, ",\"SrcIpAddr\":");
	src = p;
	p = put_addr_or_empty(p, rec->src_family, rec->src_addr);
	src_len = (size_t)(p - src);
	PUT_LIT(p, ",\"Src\":");
	memmove(p, src, src_len);
	p += src_len;
	if (!retro) { /* one record stands for many lookups: no port, listener or transport */
		PUT_LIT(p, ",\"SrcPortNumber\":");
		p = put_u32(p, rec->src_port);
		PUT_LIT(p, ",\"DstIpAddr\":");
		dst = p;
		p = put_addr_or_empty(p, rec->dst_family, rec->dst_addr);
		dst_len = (size_t)(p - dst);
		PUT_LIT(p, ",\"Dst\":");
		memmove(p, dst, dst_len);
		p += dst_len;
		PUT_LIT(p, ",\"DstPortNumber\":");
		p = put_u32(p, rec->dst_port);
		if (rec->proto == BLOCKLOG_TCP)
			PUT_LIT(p, ",\"NetworkProtocol\":\"TCP\"");
		else
			PUT_LIT(p, ",\"NetworkProtocol\":\"UDP\"");
	}
	if (rec->src_family == AF_INET6)
		PUT_LIT(p, ",\"NetworkProtocolVersion\":\"IPv6\",\"DnsQuery\":");
	else
		PUT_LIT(p, ",\"NetworkProtocolVersion\":\"IPv4\",\"DnsQuery\":");
	/* Where RuleName's text (qname from rule_off) begins in DnsQuery's, to copy it. */
	rule = NULL;
	p = put_name_mark(p, rec->qname, 0, rec->qname_len, rec->rule_off, &rule);
	qname_end = p - 1; /* the closing quote */
	if (!retro) {
		PUT_LIT(p, ",\"DnsQueryClass\":");
		p = put_u32(p, rec->qclass);
		PUT_LIT(p, ",\"DnsQueryClassName\":\"");
		p = put_text16(p, class_text(rec->qclass));
		PUT_LIT(p, "\",\"DnsQueryType\":");
		p = put_u32(p, rec->qtype);
		PUT_LIT(p, ",\"DnsQueryTypeName\":\"");
		p = put_type_name(p, rec->qtype);
		*p++ = '"';
	}
	if (answered) {
		PUT_LIT(p, ",\"DnsResponseCode\":");
		p = put_u32(p, rec->rcode);
		PUT_LIT(p, ",\"DnsResponseCodeName\":\"");
		p = put_text16(p, rname);
		*p++ = '"';
	} else {
		PUT_LIT(p, ",\"DnsResponseCodeName\":\"NA\"");
	}
	if (ip) {
		/* The threat field: the listed address, whatever the sinkhole answered. */
		PUT_LIT(p, ",\"DnsResponseName\":");
		p = put_addr(p, ip_family, rec->matched);
	} else if (answered && rec->resp_family != 0) {
		q = p;
		PUT_LIT(q, ",\"DnsResponseName\":");
		q = put_addr(q, rec->resp_family, rec->resp_addr);
		if (q)
			p = q;
	}
	if (answered && rec->has_net) {
		PUT_LIT(p, ",\"DnsNetworkDuration\":");
		p = put_u32(p, rec->net_ms);
	}
	if (!retro) {
		if (rec->rd)
			PUT_LIT(p, ",\"DnsFlagsRecursionDesired\":true,\"TransactionIdHex\":\"");
		else
			PUT_LIT(p, ",\"DnsFlagsRecursionDesired\":false,\"TransactionIdHex\":\"");
		p[0] = hex[rec->txid >> 12];
		p[1] = hex[(rec->txid >> 8) & 0xf];
		p[2] = hex[(rec->txid >> 4) & 0xf];
		p[3] = hex[rec->txid & 0xf];
		p[4] = '"';
		p += 5;
	}
	if (!listed) {
		/* No entry matched: no rule and no threat. */
	} else if (ip) {
		PUT_LIT(p, ",\"ThreatField\":\"DnsResponseName\",\"RuleName\":");
		p = put_prefix(p, ip_family, rec->matched, rec->rule_off);
	} else if (cname) {
		PUT_LIT(p, ",\"ThreatField\":\"DnsResponseName\"");
		if (rec->rule_off < rec->matched_len) {
			PUT_LIT(p, ",\"RuleName\":");
			p = put_name(p, rec->matched, rec->rule_off, rec->matched_len);
		}
	} else {
		PUT_LIT(p, ",\"ThreatField\":\"Domain\"");
		if (rec->rule_off < rec->qname_len) {
			PUT_LIT(p, ",\"RuleName\":");
			if (rule && rule < qname_end) {
				*p++ = '"';
				memcpy(p, rule, (size_t)(qname_end - rule + 1));
				p += qname_end - rule + 1;
			} else {
				p = put_name(p, rec->qname, rec->rule_off, rec->qname_len);
			}
		}
	}
	if (meta) {
		/* ThreatId: the numeric IOC id (as ioc_id_text() writes it), else the text one. */
		if (rec->ioc_id) {
			PUT_LIT(p, ",\"ThreatId\":\"");
			p = put_u32(p, rec->ioc_id);
			*p++ = '"';
		} else {
			PUT_OPT_STR(p, ",\"ThreatId\":", meta->id);
		}
		PUT_OPT_STR(p, ",\"ThreatName\":", meta->malware);
		PUT_OPT_STR(p, ",\"ThreatCategory\":", meta->threat_type);
		if (meta->confidence >= 0) {
			PUT_LIT(p, ",\"ThreatConfidence\":");
			p = put_u32(p, (unsigned)meta->confidence);
		}
		if (meta->first_seen != INT64_MIN) {
			PUT_LIT(p, ",\"ThreatFirstReportedTime\":");
			p = put_entry_time(p, meta->first_seen, 0);
		}
	}
	if (!listed) {
		PUT_LIT(p, ",\"AdditionalFields\":{}}\n");
		return (size_t)(p - buf);
	}
	/* Entries match only while active (expired ones give way): a record's entry is active. */
	if (ip)
		PUT_LIT(p, ",\"ThreatIsActive\":true,"
			   "\"AdditionalFields\":{\"ThreatIocType\":\"ip\"");
	else
		PUT_LIT(p, ",\"ThreatIsActive\":true,"
			   "\"AdditionalFields\":{\"ThreatIocType\":\"domain\"");
	if (retro) {
		PUT_LIT(p, ",\"RetroHunt\":true,\"ListedTime\":");
		p = put_time_ms(p, rec->listed_ms);
	}
	if (ip) {
		PUT_LIT(p, ",\"MatchedVia\":\"ip\"");
	} else if (cname) {
		PUT_LIT(p, ",\"MatchedVia\":\"cname\",\"MatchedName\":");
		p = put_name(p, rec->matched, 0, rec->matched_len);
	} else {
		PUT_LIT(p, ",\"MatchedVia\":\"qname\"");
	}
	if (meta) {
		PUT_OPT_STR(p, ",\"ListSource\":", meta->source);
		PUT_OPT_STR(p, ",\"ListFile\":", meta->file);
		if (meta->expires != INT64_MAX) {
			PUT_LIT(p, ",\"IocExpires\":");
			p = put_entry_time(p, meta->expires, 1);
		}
	}
	PUT_LIT(p, "}}\n");
	return (size_t)(p - buf);
}

/* blocklog_format() into a smaller buffer: the line if it fits, else nothing. */
static __attribute__((noinline)) size_t format_short(const struct blocklog_rec *rec,
						      const char *dvc, char *buf, size_t cap)
{
	char tmp[FORMAT_ROOM];
	size_t len = format_line(rec, dvc, tmp);

	REQUIRE(len + WRITE_SLACK <= FORMAT_ROOM);
	if (len > cap)
		return 0;
	memcpy(buf, tmp, len);
	return len;
}

size_t blocklog_format(const struct blocklog_rec *rec, const char *dvc, char *buf, size_t cap)
{
	size_t len;

	pthread_once(&format_once, format_init);
	if (unlikely(cap < FORMAT_ROOM))
		return format_short(rec, dvc, buf, cap);
	len = format_line(rec, dvc, buf);
	REQUIRE(len + WRITE_SLACK <= FORMAT_ROOM);
	return len;
}

/* The len bytes formatted into scratch, copied to buf when they fit in cap; else 0. */
static size_t copy_out(const char *scratch, size_t len, char *buf, size_t cap)
{
	if (len > cap)
		return 0;
	memcpy(buf, scratch, len);
	return len;
}

size_t blocklog_json_str(const char *s, size_t max, char *buf, size_t cap)
{
	size_t n = strlen(s), room, len;
	char *tmp;

	/* No more than 6 bytes per byte of s: a larger max cuts nothing. */
	if (max / 6 >= n)
		max = 6 * n;
	room = 2 + max;
	if (cap >= room)
		return (size_t)(put_json_str(buf, s, max) - buf);
	tmp = malloc(room);
	if (!tmp)
		return 0;
	len = copy_out(tmp, (size_t)(put_json_str(tmp, s, max) - tmp), buf, cap);
	free(tmp);
	return len;
}

size_t blocklog_json_name(const uint8_t *name, size_t off, size_t len, char *buf, size_t cap)
{
	char tmp[DNS_MAX_NAME * 5 + 3], *big;
	size_t room = 3 + 5 * (len > off ? len - off : 0), n;

	if (cap >= room)
		return (size_t)(put_name(buf, name, off, len) - buf);
	if (room <= sizeof(tmp))
		return copy_out(tmp, (size_t)(put_name(tmp, name, off, len) - tmp), buf, cap);
	big = malloc(room);
	if (!big)
		return 0;
	n = copy_out(big, (size_t)(put_name(big, name, off, len) - big), buf, cap);
	free(big);
	return n;
}

size_t blocklog_json_addr(int family, const uint8_t *addr, char *buf, size_t cap)
{
	char tmp[INET6_ADDRSTRLEN + 2];

	pthread_once(&format_once, format_init);
	return copy_out(tmp, (size_t)(put_addr_or_empty(tmp, family, addr) - tmp), buf, cap);
}

size_t blocklog_json_prefix(int family, const uint8_t *addr, unsigned bits, char *buf, size_t cap)
{
	char tmp[INET6_ADDRSTRLEN + 6];

	pthread_once(&format_once, format_init);
	return copy_out(tmp, (size_t)(put_prefix(tmp, family, addr, bits) - tmp), buf, cap);
}

size_t blocklog_json_time(int64_t t_ms, char *buf, size_t cap)
{
	char tmp[48];

	return copy_out(tmp, (size_t)(put_time_ms(tmp, t_ms) - tmp), buf, cap);
}

/* --- Writer thread --------------------------------------------------------------------------- */

static int64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int open_path(const char *path)
{
	return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
}

static void reopen_file(struct blocklog *bl)
{
	int fd;

	if (bl->is_stdout)
		return;
	fd = open_path(bl->path);
	if (fd < 0) {
		log_err(MOD, "cannot reopen %s: %s (still writing to the old file)", bl->path,
			strerror(errno));
		return;
	}
	close(bl->fd);
	bl->fd = fd;
}

/* Write all of buf; on failure *done is what went out. Returns 0 or -errno. */
static int write_all(int fd, const char *buf, size_t len, size_t *done)
{
	*done = 0;
	while (*done < len) {
		ssize_t n = write(fd, buf + *done, len - *done);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		*done += (size_t)n;
	}
	return 0;
}

static void report_error(struct blocklog *bl, struct batch *b, int err, size_t lost)
{
	int64_t now = monotonic_ms();

	if (b->last_err_ms != 0 && now - b->last_err_ms < ERR_INTERVAL_MS) {
		b->errs_suppressed++;
		return;
	}
	log_err(MOD,
		"write to %s failed: %s; %zu records dropped (%llu dropped in all, %llu "
		"similar errors not reported)",
		bl->is_stdout ? "stdout" : bl->path, strerror(-err), lost,
		(unsigned long long)blocklog_dropped(bl), (unsigned long long)b->errs_suppressed);
	b->last_err_ms = now;
	b->errs_suppressed = 0;
}

/*
 * Warn about drops (full rings, failed writes) in the diagnostic log: the first at once, then at
 * most every ERR_INTERVAL_MS, summed. force reports what is pending at once (on exit). The
 * producers only bump their counters; noticing is the writer's job.
 */
static void report_drops(struct blocklog *bl, bool force)
{
	uint64_t total = blocklog_dropped(bl);
	int64_t now;

	if (total == bl->drops_reported)
		return;
	now = monotonic_ms();
	if (!force && bl->drops_report_ms != 0 && now - bl->drops_report_ms < ERR_INTERVAL_MS)
		return;
	log_warn(MOD,
		 "%llu records dropped (queue full or write failed) since %s (%llu in all, "
		 "standing for %llu lookups)",
		 (unsigned long long)(total - bl->drops_reported),
		 bl->drops_report_ms != 0 ? "the last report" : "start", (unsigned long long)total,
		 (unsigned long long)blocklog_dropped_events(bl));
	bl->drops_reported = total;
	bl->drops_report_ms = now;
}

/*
 * Reopen the file if asked, then write the buffered lines and mark every record taken from the
 * rings so far as done. Lines not completely written are counted as dropped.
 */
static void flush(struct blocklog *bl, struct batch *b)
{
	size_t done, ok = b->n;
	off_t start;
	int err;

	if (atomic_exchange(&bl->reopen, false))
		reopen_file(bl);
	if (b->n == 0 && b->skipped == 0)
		return;
	/* Where this batch starts (the writer is the file's only writer; -1 for a pipe). */
	start = b->n && !bl->is_stdout ? lseek(bl->fd, 0, SEEK_END) : -1;
	err = b->n ? write_all(bl->fd, b->buf, b->len, &done) : 0;
	if (err) {
		ok = 0;
		while (ok < b->n && b->ends[ok] <= done)
			ok++;
		if (ok < b->n && done > (ok ? b->ends[ok - 1] : 0)) {
			/*
			 * A record was cut (disk full): take the fragment back, so that the file
			 * holds whole lines only and the next record starts a line of its own.
			 * Where that is impossible, at least try to end the line.
			 */
			if (start < 0 ||
			    ftruncate(bl->fd, start + (off_t)(ok ? b->ends[ok - 1] : 0)) != 0)
				(void)!write(bl->fd, "\n", 1);
		}
		atomic_fetch_add(&bl->dropped, b->n - ok);
		atomic_fetch_add(&bl->dropped_events,
				 b->events[b->n - 1] - (ok ? b->events[ok - 1] : 0));
		report_error(bl, b, err, b->n - ok);
	}
	atomic_fetch_add(&bl->written, ok);
	/* Before blocklog_sync() returns, so that its caller can count on the report. */
	report_drops(bl, false);

	/* Every record before a ring's head is in this batch or an earlier one. */
	pthread_mutex_lock(&bl->mu);
	for (unsigned i = 0; i < bl->n_rings; i++)
		bl->rings[i].done = atomic_load_explicit(&bl->rings[i].head, memory_order_relaxed);
	pthread_cond_broadcast(&bl->done);
	pthread_mutex_unlock(&bl->mu);
	b->len = 0;
	b->n = 0;
	b->skipped = 0;
}

/* The Dvc to format with: the writer's copy, refreshed after blocklog_set_dvc(). */
static const char *writer_dvc(struct blocklog *bl)
{
	uint64_t gen = atomic_load_explicit(&bl->dvc_gen, memory_order_acquire);
	char *copy;

	if (bl->dvc_copy && gen == bl->dvc_copy_gen)
		return bl->dvc_copy;
	pthread_mutex_lock(&bl->mu);
	copy = strdup(bl->dvc);
	gen = atomic_load_explicit(&bl->dvc_gen, memory_order_relaxed);
	pthread_mutex_unlock(&bl->mu);
	if (copy) {
		free(bl->dvc_copy);
		bl->dvc_copy = copy;
		bl->dvc_copy_gen = gen;
	}
	return bl->dvc_copy ? bl->dvc_copy : "";
}

/*
 * Show rec to the observer and add what it returns to the line's AdditionalFields: the line
 * (len bytes at line, cap available) ends with "}}\n". Returns the new length.
 */
static size_t observe_line(struct blocklog *bl, const struct blocklog_rec *rec, char *line,
			   size_t len, size_t cap)
{
	char extra[256];
	size_t n = bl->observe(bl->observe_arg, rec, extra, sizeof(extra));

	if (n == 0 || n > sizeof(extra) || len < 3 || len + n > cap)
		return len;
	memcpy(line + len - 3, extra, n);
	memcpy(line + len - 3 + n, "}}\n", 3);
	return len + n;
}

/*
 * Format up to POP_MAX records of r into the batch, in order, writing it out whenever it is
 * full. Formats straight from the slots, then hands them back to the producer. Returns how many.
 */
static size_t drain_ring(struct blocklog *bl, struct ring *r)
{
	struct batch *b = &bl->batch;
	uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	/* Acquire: the slots before tail are completely written. */
	uint64_t avail = atomic_load_explicit(&r->tail, memory_order_acquire) - head;
	size_t n = avail < POP_MAX ? (size_t)avail : POP_MAX;
	const char *dvc;

	if (n == 0)
		return 0;
	/* After the tail load: a record submitted after blocklog_set_dvc() gets the new Dvc. */
	dvc = writer_dvc(bl);
	for (size_t i = 0; i < n; i++) {
		const struct blocklog_rec *rec = &r->slots[(head + i) & r->mask];
		size_t len = blocklog_format(rec, dvc, b->buf + b->len,
					     FLUSH_AT + FORMAT_ROOM - b->len);
		uint64_t events = rec->count ? rec->count : 1;

		if (len == 0) {
			/* Cannot happen (8 KiB suffices); account for it all the same. */
			atomic_fetch_add(&bl->dropped, 1);
			atomic_fetch_add(&bl->dropped_events, events);
			b->skipped++;
		} else {
			if (bl->observe)
				len = observe_line(bl, &r->slots[(head + i) & r->mask],
						   b->buf + b->len, len,
						   FLUSH_AT + FORMAT_ROOM - b->len);
			b->len += len;
			b->events[b->n] = (b->n ? b->events[b->n - 1] : 0) + events;
			b->ends[b->n++] = b->len;
		}
		if (b->len >= FLUSH_AT || b->n == LINES_MAX) {
			/* flush() marks done what is before head: publish it first. */
			atomic_store_explicit(&r->head, head + i + 1, memory_order_release);
			flush(bl, b);
		}
	}
	/* Release: our reads of these slots come before the producer reuses them. */
	atomic_store_explicit(&r->head, head + n, memory_order_release);
	return n;
}

/* True when no ring holds a record. seq_cst loads: see writer_main(). */
static bool rings_empty(struct blocklog *bl)
{
	for (unsigned i = 0; i < bl->n_rings; i++) {
		struct ring *r = &bl->rings[i];

		if (atomic_load(&r->tail) != atomic_load_explicit(&r->head, memory_order_relaxed))
			return false;
	}
	return true;
}

/*
 * True when a ring holds more than its capacity >> shift records: shift 1, more than half (the
 * writer is falling behind, and the workers yield to it: blocklog_backlogged()).
 */
static bool rings_above(struct blocklog *bl, unsigned shift)
{
	for (unsigned i = 0; i < bl->n_rings; i++) {
		struct ring *r = &bl->rings[i];
		uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);

		if (atomic_load_explicit(&r->tail, memory_order_relaxed) - head > r->mask >> shift)
			return true;
	}
	return false;
}

/* Wait on work for at most IDLE_WAIT_MS. Called with mu held. */
static void idle_wait(struct blocklog *bl)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_nsec += IDLE_WAIT_MS * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec += ts.tv_nsec / 1000000000L;
		ts.tv_nsec %= 1000000000L;
	}
	pthread_cond_timedwait(&bl->work, &bl->mu, &ts);
}

static void *writer_main(void *arg)
{
	struct blocklog *bl = arg;
	bool catching_up = false;

	for (;;) {
		size_t got = 0;

		/* Round-robin, at most POP_MAX records per ring per round. */
		for (unsigned i = 0; i < bl->n_rings; i++)
			got += drain_ring(bl, &bl->rings[i]);
		if (got > 0) {
			/*
			 * A round is at most POP_MAX records per ring (tens of microseconds).
			 * Between rounds, give the core to a worker that woke meanwhile: the
			 * scheduler may otherwise let this thread finish its time slice first
			 * (milliseconds), and the queries behind it would wait that long. A
			 * no-op when nothing else is runnable. Not when a ring is half full:
			 * on a core the workers keep busy, yielding would starve this thread
			 * and records would be dropped; it then takes its fair share (the
			 * same priority as the workers) until it has caught up, that is until
			 * every ring is at most an eighth full. The workers yield to it above
			 * half (blocklog_backlogged()): were it to yield back as soon as it is
			 * below half, the two would swap the core every few dozen records.
			 */
			catching_up = rings_above(bl, catching_up ? 3 : 1);
			if (!catching_up)
				sched_yield();
			continue;
		}

		/* Every ring was empty: write what is buffered (reopening if asked), then sleep. */
		flush(bl, &bl->batch);
		report_drops(bl, false);
		pthread_mutex_lock(&bl->mu);
		/*
		 * Announce the sleep, then look at the rings again. Producers store tail then load
		 * sleeping, we store sleeping then load tail, all seq_cst: either we see the new
		 * record here, or its producer sees sleeping and signals work. It needs mu for
		 * that, which we hold until the wait releases it, so the signal cannot come too
		 * early. Producers only signal once a ring is a quarter full: below that, the
		 * timeout picks the records up (a line is written at most IDLE_WAIT_MS late).
		 */
		atomic_store(&bl->sleeping, true);
		if (rings_empty(bl) && !atomic_load(&bl->reopen)) {
			if (bl->stop) {
				/* Stopped, empty, everything written: done. */
				pthread_mutex_unlock(&bl->mu);
				break;
			}
			idle_wait(bl);
		}
		atomic_store_explicit(&bl->sleeping, false, memory_order_relaxed);
		pthread_mutex_unlock(&bl->mu);
	}
	report_drops(bl, true);
	return NULL;
}

/* --- API ------------------------------------------------------------------------------------- */

void blocklog_name_thread(struct blocklog *bl, const char *name)
{
	pthread_setname_np(bl->thread, name);
}

/* Frees what blocklog_new() allocated (not the thread, mutex or file). */
static void free_mem(struct blocklog *bl)
{
	if (bl->rings) {
		for (unsigned i = 0; i < bl->n_rings; i++)
			free(bl->rings[i].slots);
	}
	free(bl->rings);
	free(bl->batch.buf);
	free(bl->dvc_copy);
	free(bl->dvc);
	free(bl->path);
	free(bl);
}

struct blocklog *blocklog_new(const char *path, const char *dvc, size_t queue_cap,
			      unsigned n_producers)
{
	struct blocklog *bl;
	pthread_condattr_t attr;
	sigset_t all, old;
	size_t cap = 1, rings_size;
	bool nomem = false;
	int err;

	/* Stops at the limit so that cap * sizeof(struct blocklog_rec) cannot overflow. */
	while (cap < queue_cap && cap <= SIZE_MAX / 2 / sizeof(struct blocklog_rec))
		cap <<= 1;
	if (!path || queue_cap == 0 || cap < queue_cap || n_producers == 0 ||
	    __builtin_mul_overflow(n_producers, sizeof(struct ring), &rings_size)) {
		errno = EINVAL;
		return NULL;
	}
	/* Over-aligned types: calloc() only aligns to 16 bytes. */
	bl = aligned_alloc(CACHE_LINE, sizeof(*bl));
	if (!bl)
		return NULL;
	memset(bl, 0, sizeof(*bl));
	bl->fd = -1;
	bl->n_rings = n_producers;
	atomic_init(&bl->sleeping, false);
	atomic_init(&bl->dvc_gen, 0);
	atomic_init(&bl->reopen, false);
	atomic_init(&bl->dropped, 0);
	atomic_init(&bl->dropped_events, 0);
	atomic_init(&bl->written, 0);
	bl->rings = aligned_alloc(CACHE_LINE, rings_size);
	if (bl->rings) {
		memset(bl->rings, 0, rings_size);
		for (unsigned i = 0; i < n_producers; i++) {
			struct ring *r = &bl->rings[i];

			r->slots = calloc(cap, sizeof(*r->slots));
			r->mask = cap - 1;
			atomic_init(&r->tail, 0);
			atomic_init(&r->dropped, 0);
			atomic_init(&r->dropped_events, 0);
			atomic_init(&r->head, 0);
			nomem |= !r->slots;
		}
	}
	bl->path = strdup(path);
	bl->dvc = strdup(dvc ? dvc : "");
	bl->batch.buf = malloc(FLUSH_AT + FORMAT_ROOM);
	if (nomem || !bl->rings || !bl->path || !bl->dvc || !bl->batch.buf) {
		errno = ENOMEM;
		goto fail;
	}
	if (strcmp(path, "-") == 0) {
		bl->is_stdout = true;
		bl->fd = STDOUT_FILENO;
	} else {
		bl->fd = open_path(path);
		if (bl->fd < 0)
			goto fail;
	}
	pthread_mutex_init(&bl->mu, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&bl->work, &attr);
	pthread_condattr_destroy(&attr);
	pthread_cond_init(&bl->done, NULL);

	/* Signals belong to the main loop, and a failed write must give EPIPE, not SIGPIPE. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&bl->thread, NULL, writer_main, bl);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		pthread_cond_destroy(&bl->done);
		pthread_cond_destroy(&bl->work);
		pthread_mutex_destroy(&bl->mu);
		errno = err;
		goto fail;
	}
	return bl;

fail:
	err = errno;
	if (bl->fd >= 0 && !bl->is_stdout)
		close(bl->fd);
	free_mem(bl);
	errno = err;
	return NULL;
}

void blocklog_set_observer(struct blocklog *bl, blocklog_observe_fn fn, void *arg)
{
	bl->observe = fn;
	bl->observe_arg = arg;
}

void blocklog_set_dvc(struct blocklog *bl, const char *dvc)
{
	char *copy = strdup(dvc ? dvc : "");

	if (!copy) {
		log_err(MOD, "out of memory: Dvc unchanged");
		return;
	}
	pthread_mutex_lock(&bl->mu);
	free(bl->dvc);
	bl->dvc = copy;
	atomic_store_explicit(&bl->dvc_gen,
			      atomic_load_explicit(&bl->dvc_gen, memory_order_relaxed) + 1,
			      memory_order_release);
	pthread_mutex_unlock(&bl->mu);
}

/*
 * The writer sleeps or is about to: signal it. Under mu, so that it cannot be between its check
 * and its wait.
 */
static __attribute__((noinline, cold)) void wake_writer(struct blocklog *bl)
{
	pthread_mutex_lock(&bl->mu);
	pthread_cond_signal(&bl->work);
	pthread_mutex_unlock(&bl->mu);
}

int blocklog_submit(struct blocklog *bl, unsigned producer, const struct blocklog_rec *rec)
{
	struct ring *r;
	uint64_t tail;

	REQUIRE(producer < bl->n_rings);
	r = &bl->rings[producer];
	tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	if (unlikely(tail - r->head_seen > r->mask)) {
		/* Looks full: look at the writer's head (acquire: it is done with the slot). */
		r->head_seen = atomic_load_explicit(&r->head, memory_order_acquire);
		if (tail - r->head_seen > r->mask) {
			/* This producer is the only writer: no read-modify-write needed. */
			atomic_store_explicit(
				&r->dropped,
				atomic_load_explicit(&r->dropped, memory_order_relaxed) + 1,
				memory_order_relaxed);
			atomic_store_explicit(
				&r->dropped_events,
				atomic_load_explicit(&r->dropped_events, memory_order_relaxed) +
					(rec->count ? rec->count : 1),
				memory_order_relaxed);
			return -ENOSPC;
		}
	}
	blocklog_rec_copy(&r->slots[tail & r->mask], rec);
	/*
	 * Publish (a release), then see whether the writer sleeps: seq_cst store and load, the
	 * other half of the protocol in writer_main(). sleeping is only read here, so its cache
	 * line stays shared; it is only true while the writer is idle.
	 */
	atomic_store(&r->tail, tail + 1);
	if (unlikely(atomic_load(&bl->sleeping))) {
		/*
		 * Waking the writer costs a futex call and, on a busy machine, a context switch:
		 * leave a few records for its timed wake-up (IDLE_WAIT_MS at most) and wake it
		 * only when the ring is a quarter full.
		 */
		r->head_seen = atomic_load_explicit(&r->head, memory_order_acquire);
		if (tail + 1 - r->head_seen > r->mask / 4)
			wake_writer(bl);
	}
	return 0;
}

bool blocklog_backlogged(struct blocklog *bl, unsigned producer)
{
	struct ring *r;

	REQUIRE(producer < bl->n_rings);
	r = &bl->rings[producer];
	r->head_seen = atomic_load_explicit(&r->head, memory_order_acquire);
	return atomic_load_explicit(&r->tail, memory_order_relaxed) - r->head_seen > r->mask / 2;
}

void blocklog_reopen(struct blocklog *bl)
{
	atomic_store(&bl->reopen, true);
	/* Under the mutex, so the wake-up cannot fall between the writer's check and its wait. */
	pthread_mutex_lock(&bl->mu);
	pthread_cond_signal(&bl->work);
	pthread_mutex_unlock(&bl->mu);
}

void blocklog_sync(struct blocklog *bl)
{
	uint64_t stack[SYNC_STACK], *target = stack;

	/* Snapshot every tail first; without memory, each ring's is taken when its turn comes. */
	if (bl->n_rings > SYNC_STACK)
		target = malloc(bl->n_rings * sizeof(*target));
	if (target) {
		for (unsigned i = 0; i < bl->n_rings; i++)
			target[i] = atomic_load_explicit(&bl->rings[i].tail, memory_order_acquire);
	}
	pthread_mutex_lock(&bl->mu);
	for (unsigned i = 0; i < bl->n_rings; i++) {
		struct ring *r = &bl->rings[i];
		uint64_t t = target ? target[i] : atomic_load(&r->tail);

		/* The writer only sleeps with every ring empty and everything flushed. */
		while (r->done < t)
			pthread_cond_wait(&bl->done, &bl->mu);
	}
	pthread_mutex_unlock(&bl->mu);
	if (target != stack)
		free(target);
}

uint64_t blocklog_dropped(const struct blocklog *bl)
{
	uint64_t n = atomic_load_explicit(&bl->dropped, memory_order_relaxed);

	for (unsigned i = 0; i < bl->n_rings; i++)
		n += atomic_load_explicit(&bl->rings[i].dropped, memory_order_relaxed);
	return n;
}

uint64_t blocklog_dropped_events(const struct blocklog *bl)
{
	uint64_t n = atomic_load_explicit(&bl->dropped_events, memory_order_relaxed);

	for (unsigned i = 0; i < bl->n_rings; i++)
		n += atomic_load_explicit(&bl->rings[i].dropped_events, memory_order_relaxed);
	return n;
}

uint64_t blocklog_written(const struct blocklog *bl)
{
	return atomic_load(&bl->written);
}

void blocklog_free(struct blocklog *bl)
{
	if (!bl)
		return;
	pthread_mutex_lock(&bl->mu);
	bl->stop = true;
	pthread_cond_signal(&bl->work);
	pthread_mutex_unlock(&bl->mu);
	pthread_join(bl->thread, NULL);

	if (!bl->is_stdout)
		close(bl->fd);
	pthread_cond_destroy(&bl->done);
	pthread_cond_destroy(&bl->work);
	pthread_mutex_destroy(&bl->mu);
	free_mem(bl);
}
