/* SPDX-License-Identifier: MIT */
#include "blocklog.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ldns/ldns.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "blocklist.h"
#include "log.h"
#include "util.h"

#define MOD "blocklog"

/* Records copied out of the ring per mutex hold: short, so submitters never wait long. */
#define POP_MAX 64
/* Write once this much is buffered (or the queue is empty). */
#define FLUSH_AT (64 * 1024)
/* blocklog_format() never needs more than this (see STR_MAX_OUT). */
#define LINE_MAX_LEN 8192
/* Upper bound on buffered lines: each one is several hundred bytes long. */
#define LINES_MAX 512
/* Write errors are reported at most this often. */
#define ERR_INTERVAL_MS 60000
/*
 * Dvc and the ioc_meta strings are cut to this many JSON bytes each, so that a line always fits
 * in LINE_MAX_LEN: 7 strings * 640 + 2 names * 1261 + the rest = 7885 bytes at most.
 */
#define STR_MAX_OUT 640

/* Lines formatted and not yet written. */
struct batch {
	char *buf;
	size_t len;
	size_t n;		  /* lines in buf */
	size_t skipped;		  /* records that could not be formatted (dropped) */
	size_t ends[LINES_MAX];	  /* end offset of each line */
	int64_t last_err_ms;	  /* when a write error was last reported */
	uint64_t errs_suppressed; /* errors since then */
};

struct blocklog {
	/* Set at creation, then owned by the writer thread. */
	char *path;
	int fd;
	bool is_stdout;
	pthread_t thread;
	struct batch batch;
	struct blocklog_rec *popped; /* POP_MAX records taken from the ring */

	pthread_mutex_t mu;
	pthread_cond_t work; /* writer: records queued, stop or reopen requested */
	pthread_cond_t done; /* blocklog_sync(): processed advanced */
	/* Protected by mu. */
	struct blocklog_rec *ring;
	size_t cap, head, count;
	uint64_t submitted; /* records accepted into the ring */
	uint64_t processed; /* of those, written or dropped */
	bool stop;
	char *dvc;
	uint64_t dvc_gen;

	atomic_bool reopen;
	atomic_uint_least64_t dropped;
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
		size_t clen, adv = 1;

		if (u[i] == '"' || u[i] == '\\') {
			esc[0] = '\\';
			esc[1] = (char)u[i];
			clen = 2;
		} else if (u[i] < 0x20 || u[i] == 0x7f) {
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[u[i] >> 4];
			esc[5] = hex[u[i] & 0xf];
			clen = 6;
		} else if (u[i] < 0x80) {
			chunk = (const char *)u + i;
			clen = 1;
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
	bool first = true;

	put_char(o, '"');
	while (off < len) {
		size_t l = name[off];

		if (l == 0 || l > 63 || off + 1 + l > len)
			break;
		if (!first)
			put_char(o, '.');
		first = false;
		for (size_t i = off + 1; i <= off + l; i++) {
			uint8_t c = name[i];

			if (c >= 'A' && c <= 'Z')
				c = (uint8_t)(c - 'A' + 'a');
			if (c < 0x21 || c > 0x7e || strchr(".\\\"();@$", c)) {
				put_mem(o, "\\\\", 2);
				put_digits(o, c, 3);
			} else {
				put_char(o, (char)c);
			}
		}
		off += 1 + l;
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
static void put_time(struct out *o, int64_t secs, int ms)
{
	int64_t days = secs / 86400, rem = secs % 86400, y;
	unsigned m, d;

	if (rem < 0) {
		rem += 86400;
		days--;
	}
	civil_from_days(days, &y, &m, &d);
	put_char(o, '"');
	if (y >= 0 && y <= 9999)
		put_digits(o, (uint64_t)y, 4);
	else
		put_int(o, y);
	put_char(o, '-');
	put_digits(o, m, 2);
	put_char(o, '-');
	put_digits(o, d, 2);
	put_char(o, 'T');
	put_digits(o, (uint64_t)rem / 3600, 2);
	put_char(o, ':');
	put_digits(o, (uint64_t)rem / 60 % 60, 2);
	put_char(o, ':');
	put_digits(o, (uint64_t)rem % 60, 2);
	if (ms >= 0) {
		put_char(o, '.');
		put_digits(o, (uint64_t)ms, 3);
	}
	put_mem(o, "Z\"", 2);
}

/* Quoted inet_ntop() of addr; false (nothing written) for an unknown family. */
static bool put_addr(struct out *o, int family, const uint8_t *addr)
{
	char text[INET6_ADDRSTRLEN];

	if ((family != AF_INET && family != AF_INET6) ||
	    !inet_ntop(family, addr, text, sizeof(text)))
		return false;
	put_char(o, '"');
	put_str(o, text);
	put_char(o, '"');
	return true;
}

static const char *rcode_name(unsigned rcode)
{
	static const char *const names[] = {"NOERROR",	"FORMERR", "SERVFAIL",
					    "NXDOMAIN", "NOTIMP",  "REFUSED"};

	return rcode < ARRAY_SIZE(names) ? names[rcode] : NULL;
}

/* ",\"key\":" followed by the JSON string s, if s is set. */
static void put_opt_str(struct out *o, const char *key, const char *s)
{
	if (!s)
		return;
	put_str(o, key);
	put_json_str(o, s, STR_MAX_OUT);
}

size_t blocklog_format(const struct blocklog_rec *rec, const char *dvc, char *buf, size_t cap)
{
	struct out o = {buf, buf + cap, false};
	const struct ioc_meta *meta = rec->meta;
	const ldns_rr_descriptor *desc = ldns_rr_descript(rec->qtype);
	int64_t secs = rec->time_ms / 1000, ms = rec->time_ms % 1000;
	const char *rname = rcode_name(rec->rcode);
	bool blocked = rec->action == BLOCKLOG_BLOCKED;
	static const char hex[] = "0123456789ABCDEF";
	char txid[4];

	if (ms < 0) {
		ms += 1000;
		secs--;
	}
	put_str(&o, "{\"TimeGenerated\":");
	put_time(&o, secs, (int)ms);
	put_str(&o, ",\"EventCount\":1,\"EventType\":\"Query\",\"EventSubType\":\"response\","
		    "\"EventResult\":");
	put_str(&o, rec->rcode == DNS_NOERROR ? "\"Success\"" : "\"Failure\"");
	put_str(&o, ",\"EventResultDetails\":\"");
	if (rname)
		put_str(&o, rname);
	else
		put_uint(&o, rec->rcode);
	put_str(&o, "\",\"EventSeverity\":");
	put_str(&o, blocked ? "\"Medium\"" : "\"Low\"");
	put_str(&o, ",\"EventProduct\":\"sinkholed\",\"EventVendor\":\"sinkholed\","
		    "\"EventSchema\":\"Dns\",\"EventSchemaVersion\":\"0.1.7\",\"Dvc\":");
	put_json_str(&o, dvc ? dvc : "", STR_MAX_OUT);
	put_str(&o, ",\"DvcAction\":");
	put_str(&o, blocked ? "\"Blocked\"" : "\"Allowed\"");
	put_str(&o, ",\"SrcIpAddr\":");
	if (!put_addr(&o, rec->src_family, rec->src_addr))
		put_str(&o, "\"\"");
	put_str(&o, ",\"SrcPortNumber\":");
	put_uint(&o, rec->src_port);
	put_str(&o, ",\"NetworkProtocol\":");
	put_str(&o, rec->proto == BLOCKLOG_TCP ? "\"TCP\"" : "\"UDP\"");
	put_str(&o, ",\"NetworkProtocolVersion\":");
	put_str(&o, rec->src_family == AF_INET6 ? "\"IPv6\"" : "\"IPv4\"");
	put_str(&o, ",\"DnsQuery\":");
	put_name(&o, rec->qname, 0, rec->qname_len);
	put_str(&o, ",\"DnsQueryType\":");
	put_uint(&o, rec->qtype);
	put_str(&o, ",\"DnsQueryTypeName\":\"");
	if (desc && desc->_name) {
		put_str(&o, desc->_name);
	} else {
		put_str(&o, "TYPE");
		put_uint(&o, rec->qtype);
	}
	put_str(&o, "\",\"DnsResponseCode\":");
	put_uint(&o, rec->rcode);
	if (rec->resp_family != 0) {
		struct out save = o;

		put_str(&o, ",\"DnsResponseName\":");
		if (!put_addr(&o, rec->resp_family, rec->resp_addr))
			o = save;
	}
	txid[0] = hex[rec->txid >> 12];
	txid[1] = hex[(rec->txid >> 8) & 0xf];
	txid[2] = hex[(rec->txid >> 4) & 0xf];
	txid[3] = hex[rec->txid & 0xf];
	put_str(&o, ",\"TransactionIdHex\":\"");
	put_mem(&o, txid, sizeof(txid));
	put_str(&o, "\",\"ThreatField\":\"Domain\"");
	if (rec->rule_off < rec->qname_len) {
		put_str(&o, ",\"RuleName\":");
		put_name(&o, rec->qname, rec->rule_off, rec->qname_len);
	}
	if (meta) {
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
	put_str(&o, ",\"AdditionalFields\":{\"ThreatIocType\":\"domain\"");
	if (meta) {
		put_opt_str(&o, ",\"ListSource\":", meta->source);
		put_opt_str(&o, ",\"ListFile\":", meta->file);
		put_opt_str(&o, ",\"IocId\":", meta->id);
		put_opt_str(&o, ",\"IocReference\":", meta->reference);
		if (meta->expires != INT64_MAX) {
			put_str(&o, ",\"IocExpires\":");
			put_time(&o, meta->expires, -1);
		}
	}
	put_str(&o, "}}\n");
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
		(unsigned long long)atomic_load(&bl->dropped),
		(unsigned long long)b->errs_suppressed);
	b->last_err_ms = now;
	b->errs_suppressed = 0;
}

/*
 * Reopen the file if asked, then write the buffered lines and mark them processed. Lines not
 * completely written are counted as dropped. Called without the mutex.
 */
static void flush(struct blocklog *bl, struct batch *b)
{
	size_t done, ok = b->n;
	int err;

	if (atomic_exchange(&bl->reopen, false))
		reopen_file(bl);
	if (b->n == 0 && b->skipped == 0)
		return;
	err = b->n ? write_all(bl->fd, b->buf, b->len, &done) : 0;
	if (err) {
		ok = 0;
		while (ok < b->n && b->ends[ok] <= done)
			ok++;
		/* Best effort: end a cut line so that the next ones still parse. */
		if (ok < b->n && done > (ok ? b->ends[ok - 1] : 0))
			(void)!write(bl->fd, "\n", 1);
		atomic_fetch_add(&bl->dropped, b->n - ok);
		report_error(bl, b, err, b->n - ok);
	}
	atomic_fetch_add(&bl->written, ok);

	pthread_mutex_lock(&bl->mu);
	bl->processed += b->n + b->skipped;
	pthread_cond_broadcast(&bl->done);
	pthread_mutex_unlock(&bl->mu);
	b->len = 0;
	b->n = 0;
	b->skipped = 0;
}

static void *writer_main(void *arg)
{
	struct blocklog *bl = arg;
	struct batch *b = &bl->batch;
	struct blocklog_rec *recs = bl->popped;
	char *dvc = NULL;
	uint64_t dvc_gen = 0;

	pthread_mutex_lock(&bl->mu);
	for (;;) {
		size_t n;

		if (bl->count == 0) {
			/* Idle: write what is buffered, reopen if asked, then sleep. */
			if (b->n > 0 || b->skipped > 0 || atomic_load(&bl->reopen)) {
				pthread_mutex_unlock(&bl->mu);
				flush(bl, b);
				pthread_mutex_lock(&bl->mu);
				continue;
			}
			if (bl->stop)
				break;
			pthread_cond_wait(&bl->work, &bl->mu);
			continue;
		}
		for (n = 0; n < POP_MAX && bl->count > 0; n++) {
			recs[n] = bl->ring[bl->head];
			bl->head = (bl->head + 1) % bl->cap;
			bl->count--;
		}
		if (!dvc || dvc_gen != bl->dvc_gen) {
			char *copy = strdup(bl->dvc);

			if (copy) {
				free(dvc);
				dvc = copy;
				dvc_gen = bl->dvc_gen;
			}
		}
		pthread_mutex_unlock(&bl->mu);

		for (size_t i = 0; i < n; i++) {
			size_t len = blocklog_format(&recs[i], dvc ? dvc : "", b->buf + b->len,
						     FLUSH_AT + LINE_MAX_LEN - b->len);

			if (len == 0) {
				/* Cannot happen (8 KiB suffices); account for it all the same. */
				atomic_fetch_add(&bl->dropped, 1);
				b->skipped++;
				continue;
			}
			b->len += len;
			b->ends[b->n++] = b->len;
			if (b->len >= FLUSH_AT || b->n == LINES_MAX)
				flush(bl, b);
		}
		pthread_mutex_lock(&bl->mu);
	}
	pthread_mutex_unlock(&bl->mu);
	free(dvc);
	return NULL;
}

/* --- API ------------------------------------------------------------------------------------- */

struct blocklog *blocklog_new(const char *path, const char *dvc, size_t queue_cap)
{
	struct blocklog *bl;
	sigset_t all, old;
	int err;

	if (!path || queue_cap == 0 || queue_cap > SIZE_MAX / sizeof(struct blocklog_rec)) {
		errno = EINVAL;
		return NULL;
	}
	bl = calloc(1, sizeof(*bl));
	if (!bl)
		return NULL;
	bl->fd = -1;
	bl->cap = queue_cap;
	bl->path = strdup(path);
	bl->dvc = strdup(dvc ? dvc : "");
	bl->ring = calloc(queue_cap, sizeof(*bl->ring));
	bl->popped = calloc(POP_MAX, sizeof(*bl->popped));
	bl->batch.buf = malloc(FLUSH_AT + LINE_MAX_LEN);
	if (!bl->path || !bl->dvc || !bl->ring || !bl->popped || !bl->batch.buf) {
		errno = ENOMEM;
		goto fail;
	}
	atomic_init(&bl->reopen, false);
	atomic_init(&bl->dropped, 0);
	atomic_init(&bl->written, 0);
	if (strcmp(path, "-") == 0) {
		bl->is_stdout = true;
		bl->fd = STDOUT_FILENO;
	} else {
		bl->fd = open_path(path);
		if (bl->fd < 0)
			goto fail;
	}
	pthread_mutex_init(&bl->mu, NULL);
	pthread_cond_init(&bl->work, NULL);
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
	free(bl->batch.buf);
	free(bl->popped);
	free(bl->ring);
	free(bl->dvc);
	free(bl->path);
	free(bl);
	errno = err;
	return NULL;
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
	bl->dvc_gen++;
	pthread_mutex_unlock(&bl->mu);
}

int blocklog_submit(struct blocklog *bl, const struct blocklog_rec *rec)
{
	size_t tail;

	pthread_mutex_lock(&bl->mu);
	if (bl->count == bl->cap) {
		pthread_mutex_unlock(&bl->mu);
		atomic_fetch_add_explicit(&bl->dropped, 1, memory_order_relaxed);
		return -ENOSPC;
	}
	tail = bl->head + bl->count;
	if (tail >= bl->cap)
		tail -= bl->cap;
	bl->ring[tail] = *rec;
	bl->submitted++;
	/* The writer only sleeps on an empty queue. */
	if (bl->count++ == 0)
		pthread_cond_signal(&bl->work);
	pthread_mutex_unlock(&bl->mu);
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
	uint64_t target;

	pthread_mutex_lock(&bl->mu);
	target = bl->submitted;
	while (bl->processed < target)
		pthread_cond_wait(&bl->done, &bl->mu);
	pthread_mutex_unlock(&bl->mu);
}

uint64_t blocklog_dropped(const struct blocklog *bl)
{
	return atomic_load(&bl->dropped);
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
	free(bl->batch.buf);
	free(bl->popped);
	free(bl->ring);
	free(bl->dvc);
	free(bl->path);
	free(bl);
}
