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

#define MOD "blocklog"

/* Records formatted per ring per round: rings are drained round-robin in batches this big. */
#define POP_MAX 64
/* Write once this much is buffered (or every ring is empty). */
#define FLUSH_AT (64 * 1024)
/* blocklog_format() never needs more than this (see STR_MAX_OUT). */
#define LINE_MAX_LEN 8192
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
 * in LINE_MAX_LEN: 7 strings * 400 + 2 names * 1261 + the host name (64) + the rest (about
 * 1500) = 6900 bytes at most, which leaves room for one more name.
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

/* Output cursor: on overflow, p stops advancing and the line is abandoned. */
struct out {
	char *p, *end;
	bool overflow;
};

static inline void put_mem(struct out *o, const char *s, size_t n)
{
	if (o->overflow || (size_t)(o->end - o->p) < n) {
		o->overflow = true;
		return;
	}
	memcpy(o->p, s, n);
	o->p += n;
}

static inline void put_str(struct out *o, const char *s)
{
	put_mem(o, s, strlen(s));
}

static inline void put_char(struct out *o, char c)
{
	put_mem(o, &c, 1);
}

static void put_uint(struct out *o, uint64_t v)
{
	char tmp[20];
	size_t i = sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put_mem(o, tmp + i, sizeof(tmp) - i);
}

static void put_int(struct out *o, int64_t v)
{
	if (v < 0) {
		put_char(o, '-');
		put_uint(o, (uint64_t)0 - (uint64_t)v);
	} else {
		put_uint(o, (uint64_t)v);
	}
}

/* v in 0..10^width-1 with leading zeros. */
static void put_digits(struct out *o, uint64_t v, int width)
{
	char tmp[20];

	for (int i = width - 1; i >= 0; i--) {
		tmp[i] = (char)('0' + v % 10);
		v /= 10;
	}
	put_mem(o, tmp, (size_t)width);
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
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
	if (n < len)
		return 0;
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

/*
 * s as a JSON string with its quotes: '"' and '\' escaped, control characters as \u00XX,
 * valid UTF-8 copied, invalid bytes replaced by U+FFFD. At most max bytes between the quotes
 * (cut between characters).
 */
static void put_json_str(struct out *o, const char *s, size_t max)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *u = (const unsigned char *)s;
	size_t n = strlen(s), used = 0;

	put_char(o, '"');
	for (size_t i = 0; i < n;) {
		char esc[6];
		const char *chunk = esc;
		size_t clen, adv = 1, run = i;

		/* A run of printable ASCII but '"' and '\\' (most strings, whole): one copy. */
		while (run < n && u[run] >= 0x20 && u[run] < 0x7f && u[run] != '"' && u[run] != '\\')
			run++;
		if (run > i) {
			size_t take = run - i < max - used ? run - i : max - used;

			put_mem(o, s + i, take);
			used += take;
			i += take;
			if (i < run)
				break; /* max reached */
			continue;
		}
		if (u[i] == '"' || u[i] == '\\') {
			esc[0] = '\\';
			esc[1] = (char)u[i];
			clen = 2;
		} else if (u[i] < 0x20 || u[i] == 0x7f) {
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[u[i] >> 4];
			esc[5] = hex[u[i] & 0xf];
			clen = 6;
		} else if ((adv = utf8_len(u + i, n - i)) != 0) {
			chunk = (const char *)u + i;
			clen = adv;
		} else {
			chunk = "\\ufffd";
			clen = 6;
			adv = 1;
		}
		if (used + clen > max)
			break;
		put_mem(o, chunk, clen);
		used += clen;
		i += adv;
	}
	put_char(o, '"');
}

/*
 * The wire name at name[off, len) in presentation form with its quotes: lowercase, no
 * trailing dot ("." for the root), bytes outside 0x21-0x7e and . \ " ( ) ; @ $ as \DDD, whose
 * backslash is doubled for JSON. Stops at a malformed label.
 */
static void put_name(struct out *o, const uint8_t *name, size_t off, size_t len)
{
	/* Bytes written as \DDD (DESIGN.md section 6); everything else is copied by runs. */
	static const bool escaped[256] = {
		[0 ... 0x20] = true, [0x7f ... 0xff] = true, ['.'] = true, ['\\'] = true,
		['"'] = true,	     ['('] = true,	     [')'] = true, [';'] = true,
		['@'] = true,	     ['$'] = true,
	};
	bool first = true;

	put_char(o, '"');
	while (off < len) {
		size_t l = name[off], i, end, run;

		if (l == 0 || l > 63 || off + 1 + l > len)
			break;
		if (!first)
			put_char(o, '.');
		first = false;
		end = off + 1 + l;
		for (i = off + 1; i < end;) {
			uint8_t c = name[i];

			if (escaped[c]) {
				put_mem(o, "\\\\", 2);
				put_digits(o, c, 3);
				i++;
				continue;
			}
			/* Canonical names are lowercase already: copy the run of plain bytes. */
			for (run = i; run < end && !escaped[name[run]] &&
				      !(name[run] >= 'A' && name[run] <= 'Z');
			     run++)
				;
			if (run > i) {
				put_mem(o, (const char *)name + i, run - i);
				i = run;
			} else {
				put_char(o, (char)(c - 'A' + 'a'));
				i++;
			}
		}
		off = end;
	}
	if (first)
		put_char(o, '.');
	put_char(o, '"');
}

/* Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's civil_from_days). */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era, yoe, doe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

/* "YYYY-MM-DDTHH:MM:SS[.mmm]Z" (UTC) for Unix time secs (+ ms when ms >= 0), quoted. */
/* secs as "YYYY-MM-DDTHH:MM:SS" (UTC) into buf[32]; its length. */
static size_t format_secs(char buf[32], int64_t secs)
{
	struct out t = {buf, buf + 32, false};
	int64_t days = secs / 86400, rem = secs % 86400, y;
	unsigned m, d;

	if (rem < 0) {
		rem += 86400;
		days--;
	}
	civil_from_days(days, &y, &m, &d);
	if (y >= 0 && y <= 9999)
		put_digits(&t, (uint64_t)y, 4);
	else
		put_int(&t, y);
	put_char(&t, '-');
	put_digits(&t, m, 2);
	put_char(&t, '-');
	put_digits(&t, d, 2);
	put_char(&t, 'T');
	put_digits(&t, (uint64_t)rem / 3600, 2);
	put_char(&t, ':');
	put_digits(&t, (uint64_t)rem / 60 % 60, 2);
	put_char(&t, ':');
	put_digits(&t, (uint64_t)rem % 60, 2);
	return (size_t)(t.p - buf);
}

static void put_time(struct out *o, int64_t secs, int ms)
{
	/*
	 * Times with milliseconds (TimeGenerated) come in order: the records of one second
	 * share "YYYY-MM-DDTHH:MM:SS", formatted once per second and thread, then copied.
	 */
	static _Thread_local int64_t last_secs;
	static _Thread_local char last[32];
	static _Thread_local size_t last_len;
	char tmp[32];

	put_char(o, '"');
	if (ms < 0) {
		put_mem(o, tmp, format_secs(tmp, secs));
	} else {
		if (last_len == 0 || secs != last_secs) {
			last_len = format_secs(last, secs);
			last_secs = secs;
		}
		put_mem(o, last, last_len);
	}
	if (ms >= 0) {
		put_char(o, '.');
		put_digits(o, (uint64_t)ms, 3);
	}
	put_mem(o, "Z\"", 2);
}

/* Unix time t_ms (milliseconds, before 1970 too) as a quoted time with milliseconds. */
static void put_time_ms(struct out *o, int64_t t_ms)
{
	int64_t secs = t_ms / 1000, ms = t_ms % 1000;

	if (ms < 0) {
		ms += 1000;
		secs--;
	}
	put_time(o, secs, (int)ms);
}

/* Quoted inet_ntop() of addr; false (nothing written) for an unknown family. */
static bool put_addr(struct out *o, int family, const uint8_t *addr)
{
	char text[INET6_ADDRSTRLEN];

	if (family == AF_INET) {
		/* Dotted quad by hand: glibc's inet_ntop goes through sprintf. */
		put_char(o, '"');
		for (int i = 0; i < 4; i++) {
			if (i)
				put_char(o, '.');
			put_uint(o, addr[i]);
		}
		put_char(o, '"');
		return true;
	}
	if (family != AF_INET6 ||
	    !inet_ntop(family, addr, text, sizeof(text)))
		return false;
	put_char(o, '"');
	put_str(o, text);
	put_char(o, '"');
	return true;
}

/* EventResultDetails: the IANA name of an rcode (RFC 6895's registry), "Unassigned" else. */
static const char *rcode_name(unsigned rcode)
{
	static const char *const names[] = {
		"NOERROR",  "FORMERR",	  "SERVFAIL",	"NXDOMAIN",   "NOTIMP",	    "REFUSED",
		"YXDOMAIN", "YXRRSET",	  "NXRRSET",	"NOTAUTH",    "NOTZONE",    "DSOTYPENI",
		NULL,	    NULL,	  NULL,		NULL,	      "BADVERS",    "BADKEY",
		"BADTIME",  "BADMODE",	  "BADNAME",	"BADALG",     "BADTRUNC",   "BADCOOKIE",
	};

	return rcode < ARRAY_SIZE(names) && names[rcode] ? names[rcode] : "Unassigned";
}

/* DnsQueryClassName: IANA's DNS CLASS names, with the schema's Reserved and Unassigned. */
static const char *class_name(unsigned qclass)
{
	switch (qclass) {
	case 1:
		return "IN";
	case 3:
		return "CH";
	case 4:
		return "HS";
	case 254:
		return "NONE";
	case 255:
		return "ANY";
	case 0:
		return "Reserved";
	default:
		return qclass >= 0xff00 ? "Reserved" : "Unassigned";
	}
}

/* DvcOriginalAction, by enum blocklog_orig, quoted. */
static const char *const orig_names[] = {
	"\"address\"", "\"nxdomain\"", "\"nodata\"",	  "\"refused\"",
	"\"local\"",   "\"drop\"",     "\"ratelimited\"", "\"log\"",
	"\"forward\"", "\"cache\"",
};

/* ",\"key\":" followed by the JSON string s, if s is set. */
static void put_opt_str(struct out *o, const char *key, const char *s)
{
	if (!s)
		return;
	put_str(o, key);
	put_json_str(o, s, STR_MAX_OUT);
}

static pthread_once_t hostname_once = PTHREAD_ONCE_INIT;
static char hostname_short[HOST_NAME_MAX + 1];

static void read_hostname(void)
{
	if (gethostname(hostname_short, sizeof(hostname_short) - 1) != 0 || !hostname_short[0])
		snprintf(hostname_short, sizeof(hostname_short), "localhost");
	hostname_short[strcspn(hostname_short, ".")] = '\0';
	if (!hostname_short[0])
		snprintf(hostname_short, sizeof(hostname_short), "localhost");
}

const char *blocklog_hostname(void)
{
	pthread_once(&hostname_once, read_hostname);
	return hostname_short;
}

/* The listed prefix of an IP hit, quoted: addr masked to bits, "/bits" unless a host. */
static void put_prefix(struct out *o, int family, const uint8_t *addr, unsigned bits)
{
	unsigned total = family == AF_INET ? 32 : 128;
	uint8_t net[16] = {0};
	char text[INET6_ADDRSTRLEN];

	if (bits > total)
		bits = total;
	memcpy(net, addr, total / 8);
	for (unsigned i = bits; i < total; i++)
		net[i / 8] &= (uint8_t)~(0x80 >> (i % 8));
	if (!inet_ntop(family, net, text, sizeof(text))) {
		put_str(o, "\"\"");
		return;
	}
	put_char(o, '"');
	put_str(o, text);
	if (bits < total) {
		put_char(o, '/');
		put_uint(o, bits);
	}
	put_char(o, '"');
}

/* The quoted address into a scratch buffer (a copy for each field that repeats it). */
static size_t addr_text(char *buf, size_t cap, int family, const uint8_t *addr)
{
	struct out t = {buf, buf + cap, false};

	if (!put_addr(&t, family, addr))
		put_str(&t, "\"\"");
	return t.overflow ? 0 : (size_t)(t.p - buf);
}

size_t blocklog_format(const struct blocklog_rec *rec, const char *dvc, char *buf, size_t cap)
{
	struct out o = {buf, buf + cap, false};
	const struct ioc_meta *meta = rec->meta;
	const ldns_rr_descriptor *desc = ldns_rr_descript(rec->qtype);
	const char *rname = rcode_name(rec->rcode);
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
	/* Values written more than once: the time, the client and the listener. */
	char when[48], src[INET6_ADDRSTRLEN + 2], dst[INET6_ADDRSTRLEN + 2];
	struct out t = {when, when + sizeof(when), false};
	size_t when_len, src_len, dst_len;
	char txid[4], id_text[IOC_ID_TEXT];

	put_time_ms(&t, rec->time_ms);
	when_len = (size_t)(t.p - when);
	src_len = addr_text(src, sizeof(src), rec->src_family, rec->src_addr);

	put_str(&o, "{\"TimeGenerated\":");
	put_mem(&o, when, when_len);
	if (rec->count > 0) {
		/* The lookups it stands for (aggregated or retro-hunted): the first, the last. */
		put_str(&o, ",\"EventCount\":");
		put_uint(&o, rec->count);
		put_str(&o, ",\"EventStartTime\":");
		put_time_ms(&o, rec->start_ms);
		put_str(&o, ",\"EventEndTime\":");
		put_time_ms(&o, rec->end_ms);
	} else {
		put_str(&o, ",\"EventStartTime\":");
		put_mem(&o, when, when_len);
		put_str(&o, ",\"EventEndTime\":");
		put_mem(&o, when, when_len);
		put_str(&o, ",\"EventCount\":1");
	}
	put_str(&o, ",\"EventType\":\"Query\",\"EventSubType\":");
	if (answered) {
		put_str(&o, "\"response\",\"EventResult\":");
		put_str(&o, rec->rcode == DNS_NOERROR ? "\"Success\"" : "\"Failure\"");
		put_str(&o, ",\"EventResultDetails\":\"");
		put_str(&o, rname);
		put_char(&o, '"');
	} else {
		put_str(&o, "\"request\",\"EventResult\":\"NA\",\"EventResultDetails\":\"NA\"");
	}
	if (!listed) {
		put_str(&o, blocked ? ",\"EventSeverity\":\"Low\""
				    : ",\"EventSeverity\":\"Informational\"");
		put_str(&o, ",\"EventOriginalType\":\"query\"");
	} else {
		put_str(&o, blocked ? ",\"EventSeverity\":\"Medium\""
				    : ",\"EventSeverity\":\"Low\"");
		put_str(&o, log_only ? ",\"EventOriginalType\":\"log\""
				     : ",\"EventOriginalType\":\"block\"");
	}
	put_str(&o, ",\"EventProduct\":\"sinkholed\",\"EventProductVersion\":\"" SINKHOLED_VERSION
		    "\",\"EventVendor\":\"sinkholed\",\"EventSchema\":\"Dns\","
		    "\"EventSchemaVersion\":\"0.1.7\"");
	if (meta)
		put_opt_str(&o, ",\"EventReportUrl\":", meta->reference);
	put_str(&o, ",\"Dvc\":");
	put_json_str(&o, dvc ? dvc : "", STR_MAX_OUT);
	put_str(&o, ",\"DvcHostname\":");
	put_json_str(&o, blocklog_hostname(), HOST_NAME_MAX);
	put_str(&o, ",\"DvcAction\":");
	put_str(&o, blocked ? "\"Blocked\"" : "\"Allowed\"");
	put_str(&o, ",\"DvcOriginalAction\":");
	if (retro)
		put_str(&o, "\"retrohunt\"");
	else
		put_str(&o, rec->orig < ARRAY_SIZE(orig_names) ? orig_names[rec->orig] : "\"\"");
	put_str(&o, ",\"SrcIpAddr\":");
	put_mem(&o, src, src_len);
	put_str(&o, ",\"Src\":");
	put_mem(&o, src, src_len);
	if (!retro) { /* one record stands for many lookups: no port, listener or transport */
		dst_len = addr_text(dst, sizeof(dst), rec->dst_family, rec->dst_addr);
		put_str(&o, ",\"SrcPortNumber\":");
		put_uint(&o, rec->src_port);
		put_str(&o, ",\"DstIpAddr\":");
		put_mem(&o, dst, dst_len);
		put_str(&o, ",\"Dst\":");
		put_mem(&o, dst, dst_len);
		put_str(&o, ",\"DstPortNumber\":");
		put_uint(&o, rec->dst_port);
		put_str(&o, ",\"NetworkProtocol\":");
		put_str(&o, rec->proto == BLOCKLOG_TCP ? "\"TCP\"" : "\"UDP\"");
	}
	put_str(&o, ",\"NetworkProtocolVersion\":");
	put_str(&o, rec->src_family == AF_INET6 ? "\"IPv6\"" : "\"IPv4\"");
	put_str(&o, ",\"DnsQuery\":");
	put_name(&o, rec->qname, 0, rec->qname_len);
	if (!retro) {
		put_str(&o, ",\"DnsQueryClass\":");
		put_uint(&o, rec->qclass);
		put_str(&o, ",\"DnsQueryClassName\":\"");
		put_str(&o, class_name(rec->qclass));
		put_str(&o, "\",\"DnsQueryType\":");
		put_uint(&o, rec->qtype);
		put_str(&o, ",\"DnsQueryTypeName\":\"");
		if (desc && desc->_name) {
			put_str(&o, desc->_name);
		} else {
			put_str(&o, "TYPE");
			put_uint(&o, rec->qtype);
		}
		put_char(&o, '"');
	}
	if (answered) {
		put_str(&o, ",\"DnsResponseCode\":");
		put_uint(&o, rec->rcode);
		put_str(&o, ",\"DnsResponseCodeName\":\"");
		put_str(&o, rname);
		put_char(&o, '"');
	} else {
		put_str(&o, ",\"DnsResponseCodeName\":\"NA\"");
	}
	if (ip) {
		/* The threat field: the listed address, whatever the sinkhole answered. */
		put_str(&o, ",\"DnsResponseName\":");
		put_addr(&o, ip_family, rec->matched);
	} else if (answered && rec->resp_family != 0) {
		struct out save = o;

		put_str(&o, ",\"DnsResponseName\":");
		if (!put_addr(&o, rec->resp_family, rec->resp_addr))
			o = save;
	}
	if (answered && rec->has_net) {
		put_str(&o, ",\"DnsNetworkDuration\":");
		put_uint(&o, rec->net_ms);
	}
	if (!retro) {
		put_str(&o, rec->rd ? ",\"DnsFlagsRecursionDesired\":true"
				    : ",\"DnsFlagsRecursionDesired\":false");
		txid[0] = hex[rec->txid >> 12];
		txid[1] = hex[(rec->txid >> 8) & 0xf];
		txid[2] = hex[(rec->txid >> 4) & 0xf];
		txid[3] = hex[rec->txid & 0xf];
		put_str(&o, ",\"TransactionIdHex\":\"");
		put_mem(&o, txid, sizeof(txid));
		put_char(&o, '"');
	}
	if (!listed) {
		/* No entry matched: no rule and no threat. */
	} else if (ip) {
		put_str(&o, ",\"ThreatField\":\"DnsResponseName\",\"RuleName\":");
		put_prefix(&o, ip_family, rec->matched, rec->rule_off);
	} else if (cname) {
		put_str(&o, ",\"ThreatField\":\"DnsResponseName\"");
		if (rec->rule_off < rec->matched_len) {
			put_str(&o, ",\"RuleName\":");
			put_name(&o, rec->matched, rec->rule_off, rec->matched_len);
		}
	} else {
		put_str(&o, ",\"ThreatField\":\"Domain\"");
		if (rec->rule_off < rec->qname_len) {
			put_str(&o, ",\"RuleName\":");
			put_name(&o, rec->qname, rec->rule_off, rec->qname_len);
		}
	}
	if (meta) {
		put_opt_str(&o, ",\"ThreatId\":", ioc_id_text(meta, rec->ioc_id, id_text));
		put_opt_str(&o, ",\"ThreatName\":", meta->malware);
		put_opt_str(&o, ",\"ThreatCategory\":", meta->threat_type);
		if (meta->confidence >= 0) {
			put_str(&o, ",\"ThreatConfidence\":");
			put_uint(&o, (unsigned)meta->confidence);
		}
		if (meta->first_seen != INT64_MIN) {
			put_str(&o, ",\"ThreatFirstReportedTime\":");
			put_time(&o, meta->first_seen, -1);
		}
	}
	if (!listed) {
		put_str(&o, ",\"AdditionalFields\":{}}\n");
		return o.overflow ? 0 : (size_t)(o.p - buf);
	}
	/* Entries match only while active (expired ones give way): a record's entry is active. */
	put_str(&o, ",\"ThreatIsActive\":true");
	put_str(&o, ip ? ",\"AdditionalFields\":{\"ThreatIocType\":\"ip\""
		       : ",\"AdditionalFields\":{\"ThreatIocType\":\"domain\"");
	if (retro) {
		put_str(&o, ",\"RetroHunt\":true,\"ListedTime\":");
		put_time_ms(&o, rec->listed_ms);
	}
	if (ip) {
		put_str(&o, ",\"MatchedVia\":\"ip\"");
	} else if (cname) {
		put_str(&o, ",\"MatchedVia\":\"cname\",\"MatchedName\":");
		put_name(&o, rec->matched, 0, rec->matched_len);
	} else {
		put_str(&o, ",\"MatchedVia\":\"qname\"");
	}
	if (meta) {
		put_opt_str(&o, ",\"ListSource\":", meta->source);
		put_opt_str(&o, ",\"ListFile\":", meta->file);
		if (meta->expires != INT64_MAX) {
			put_str(&o, ",\"IocExpires\":");
			put_time(&o, meta->expires, -1);
		}
	}
	put_str(&o, "}}\n");
	return o.overflow ? 0 : (size_t)(o.p - buf);
}

size_t blocklog_json_str(const char *s, size_t max, char *buf, size_t cap)
{
	struct out o = {buf, buf + cap, false};

	put_json_str(&o, s, max);
	return o.overflow ? 0 : (size_t)(o.p - buf);
}

size_t blocklog_json_name(const uint8_t *name, size_t off, size_t len, char *buf, size_t cap)
{
	struct out o = {buf, buf + cap, false};

	put_name(&o, name, off, len);
	return o.overflow ? 0 : (size_t)(o.p - buf);
}

size_t blocklog_json_addr(int family, const uint8_t *addr, char *buf, size_t cap)
{
	return addr_text(buf, cap, family, addr);
}

size_t blocklog_json_prefix(int family, const uint8_t *addr, unsigned bits, char *buf, size_t cap)
{
	struct out o = {buf, buf + cap, false};

	put_prefix(&o, family, addr, bits);
	return o.overflow ? 0 : (size_t)(o.p - buf);
}

size_t blocklog_json_time(int64_t t_ms, char *buf, size_t cap)
{
	struct out o = {buf, buf + cap, false};
	int64_t secs = t_ms / 1000, ms = t_ms % 1000;

	if (ms < 0) {
		ms += 1000;
		secs--;
	}
	put_time(&o, secs, (int)ms);
	return o.overflow ? 0 : (size_t)(o.p - buf);
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
					     FLUSH_AT + LINE_MAX_LEN - b->len);
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
						   FLUSH_AT + LINE_MAX_LEN - b->len);
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

/* True when a ring is more than half full: the writer is falling behind. */
static bool rings_filling(struct blocklog *bl)
{
	for (unsigned i = 0; i < bl->n_rings; i++) {
		struct ring *r = &bl->rings[i];
		uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);

		if (atomic_load_explicit(&r->tail, memory_order_relaxed) - head > r->mask / 2)
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
			 * same priority as the workers) until it has caught up.
			 */
			if (!rings_filling(bl))
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
	bl->batch.buf = malloc(FLUSH_AT + LINE_MAX_LEN);
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
	r->slots[tail & r->mask] = *rec;
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
