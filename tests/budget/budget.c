/* SPDX-License-Identifier: MIT */
/*
 * Instruction budgets: drives each measured path of the daemon in-process (no sockets, no
 * threads of its own) and brackets its measured iterations with callgrind client requests, so
 * that `valgrind --tool=callgrind --collect-atstart=no` counts exactly those instructions. Each
 * measurement ends in a dump named "PATH OPS" that run.py divides and compares with budgets.txt.
 * Run natively, it prints nanoseconds per operation instead (a rough guide, not checked).
 *
 * Counts are repeatable: the hash seeds come from getrandom(), which is wrapped at link time
 * (-Wl,--wrap=getrandom) to return a fixed seed, and every path runs a warm-up first.
 *
 * To add a path: write `static void path_x(struct bench *b, const struct path *p)` that sets
 * up, warms up, then calls measure_begin(), does p->ops operations and calls
 * measure_end(p); add it to paths[] and give it a line in budgets.txt.
 *
 * Usage: budget [--list] [PATH...]   (no PATH: every path)
 *
 * SINKHOLED_BUDGET_BURN=N in the environment adds a loop of N iterations per operation to the
 * measured instructions, as a change that makes a path dearer would: run.py --inflate uses it to
 * show that the budgets catch such a change.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <valgrind/callgrind.h>

#include "policy/policy.h"
#include "blocklog.h"
#include "cache.h"
#include "config.h"
#include "dnsmsg.h"
#include "logagg.h"
#include "retro.h"
#include "worker.h"

/* Load the policy as of 2026-12-01 00:00 UTC: fixed, so no entry's expiry depends on today. */
#define LOAD_NOW 1796083200
/* TimeGenerated of the formatted block-log record: 2026-12-01T05:12:03.482Z. */
#define RECORD_MS 1796101923482LL
/* Names in each list of the list-load paths. */
#define LIST_NAMES 10000

static const char config_text[] = "listen: [\"127.0.0.1:5300\"]\n"
				  "upstreams: [\"127.0.0.1:5301\"]\n"
				  "blocklists: [blocklist.yaml]\n"
				  "block_log: {path: \"-\", dvc: dns1}\n"
				  "access: {allow: [127.0.0.0/8]}\n";

static const char blocklist_text[] = "block:\n"
				     "  - malware: NanoCore RAT\n"
				     "    threat_type: botnet_cc\n"
				     "    source: ThreatFox\n"
				     "    confidence: 75\n"
				     "    domains:\n"
				     "      - { domain: www.mobile1.com, first_seen: 2026-05-27 }\n"
				     "      - moocow.my\n"
				     "  - domain: watch.example\n"
				     "    action: log\n";

/* What every path may use: a worker with a config, a policy, a cache and one client. */
struct bench {
	struct config *cfg;
	struct state st;
	struct wstate ws;
	struct worker *w;
	struct client cl;
};

struct path {
	const char *name;   /* as in budgets.txt */
	unsigned long ops;  /* operations measured, after a warm-up */
	void (*run)(struct bench *b, const struct path *p);
};

/* ---- fixed hash seeds ---- */

ssize_t __wrap_getrandom(void *buf, size_t len, unsigned int flags);

ssize_t __wrap_getrandom(void *buf, size_t len, unsigned int flags)
{
	uint8_t *out = buf;

	(void)flags;
	for (size_t i = 0; i < len; i++)
		out[i] = (uint8_t)(0x9e + 37 * i);
	return (ssize_t)len;
}

/* ---- measuring ---- */

static struct timespec t_begin;

static void fail(const char *path, const char *what)
{
	fprintf(stderr, "budget: %s: %s\n", path, what);
	exit(1);
}

/* Start counting: everything until measure_end() is the cost of the path's operations. */
static void measure_begin(void)
{
	if (RUNNING_ON_VALGRIND) {
		CALLGRIND_ZERO_STATS;
		CALLGRIND_TOGGLE_COLLECT;
	} else {
		clock_gettime(CLOCK_MONOTONIC, &t_begin);
	}
}

/* A regression on demand (SINKHOLED_BUDGET_BURN): iters loop iterations, a few instructions each. */
static void burn(unsigned long iters)
{
	for (unsigned long i = 0; i < iters; i++)
		__asm__ volatile("" ::: "memory");
}

/* Loop iterations per operation added by SINKHOLED_BUDGET_BURN (read once, before counting). */
static unsigned long burn_per_op;

/* Stop counting and dump the counts as "NAME OPS" (under callgrind), or print ns/op. */
static void measure_end(const struct path *p)
{
	char desc[128];
	struct timespec t;

	burn(burn_per_op * p->ops);
	if (RUNNING_ON_VALGRIND) {
		CALLGRIND_TOGGLE_COLLECT;
		snprintf(desc, sizeof(desc), "%s %lu", p->name, p->ops);
		CALLGRIND_DUMP_STATS_AT(desc);
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &t);
	printf("%-24s %10.1f ns/op (native, %lu ops)\n", p->name,
	       ((double)(t.tv_sec - t_begin.tv_sec) * 1e9 + (double)(t.tv_nsec - t_begin.tv_nsec)) /
		       (double)p->ops,
	       p->ops);
}

static unsigned long warmup_ops(const struct path *p)
{
	return p->ops / 10 + 1;
}

/* ---- the query path ---- */

/* A query for name (dotted) with ID 0x1234, RD and an EDNS OPT (as dig sends it). */
static size_t make_query(uint8_t *buf, const char *name, uint16_t qtype)
{
	static const uint8_t opt[] = {0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0};
	size_t n = DNS_HDR_LEN;
	const char *s = name;

	memset(buf, 0, DNS_HDR_LEN);
	buf[0] = 0x12, buf[1] = 0x34;
	buf[2] = 0x01; /* RD */
	buf[5] = 1;    /* QDCOUNT */
	buf[11] = 1;   /* ARCOUNT: the OPT */
	while (*s) {
		const char *dot = strchr(s, '.');
		size_t l = dot ? (size_t)(dot - s) : strlen(s);

		buf[n++] = (uint8_t)l;
		memcpy(buf + n, s, l);
		n += l;
		s += l + (dot ? 1 : 0);
	}
	buf[n++] = 0;
	dns_set16(buf + n, qtype);
	dns_set16(buf + n + 2, 1);
	n += 4;
	memcpy(buf + n, opt, sizeof(opt));
	return n + sizeof(opt);
}

/*
 * The worker's retro-hunt ring (on by default): its consumer, the retro thread, keeps up, so
 * the ring never fills (a full ring would measure the cheaper drop). Emulating the consumer
 * costs two instructions per query here.
 */
static struct retro_ring retro_ring = {.size = RETRO_RING};
static struct retro retro = {.rings = &retro_ring, .n_rings = 1};

static void process(struct bench *b, const struct path *p, const uint8_t *pkt, size_t len,
		    struct query_ctx *ctx, enum query_action want)
{
	if (worker_process(b->w, pkt, len, &b->cl, ctx) != want)
		fail(p->name, "worker_process took another path");
	atomic_store_explicit(&retro_ring.tail,
			      atomic_load_explicit(&retro_ring.head, memory_order_relaxed),
			      memory_order_relaxed);
}

/*
 * A listed name: the sinkhole answer is built and the block-log record handed on by
 * worker_log(), as the worker does: with block_log.aggregate_ms (on by default) the same
 * client's lookups of the name are counted in one pending record (a record per window).
 */
static void blocked_queries(struct bench *b, const struct path *p, const uint8_t *pkt, size_t len,
			    unsigned long n)
{
	struct query_ctx ctx;

	for (unsigned long i = 0; i < n; i++) {
		process(b, p, pkt, len, &ctx, QA_ANSWER);
		if (!ctx.log)
			fail(p->name, "no block-log record");
		worker_log(b->w, &b->cl, &ctx);
	}
}

static void path_blocked_query(struct bench *b, const struct path *p)
{
	uint8_t pkt[512];
	size_t len = make_query(pkt, "www.mobile1.com", DNS_T_A);
	/*
	 * The ring never gets a quarter full (so the submits never wake the writer thread): its
	 * timing would decide how many wake-ups are counted. Only whether the writer sleeps (a
	 * few instructions per submit) still depends on it: about 0.2% of the count.
	 */
	struct blocklog *bl = blocklog_new("/dev/null", "dns1", 4 * (p->ops + warmup_ops(p)), 1);

	if (!bl)
		fail(p->name, strerror(errno));
	b->w->blocklog = bl;
	b->w->agg = logagg_new(2048, 1);
	if (!b->w->agg || b->cfg->aggregate_ms == 0)
		fail(p->name, "aggregation is not on");
	blocked_queries(b, p, pkt, len, warmup_ops(p));
	measure_begin();
	blocked_queries(b, p, pkt, len, p->ops);
	measure_end(p);
	logagg_free(b->w->agg);
	b->w->agg = NULL;
	b->w->blocklog = NULL;
	blocklog_free(bl);
}

/*
 * The same without aggregation (block_log.aggregate_ms: 0): every lookup's record is queued
 * in the ring, as in a flood of distinct names.
 */
static void path_blocked_unaggregated(struct bench *b, const struct path *p)
{
	uint8_t pkt[512];
	size_t len = make_query(pkt, "www.mobile1.com", DNS_T_A);
	struct blocklog *bl = blocklog_new("/dev/null", "dns1", 4 * (p->ops + warmup_ops(p)), 1);
	unsigned window = b->cfg->aggregate_ms;

	if (!bl)
		fail(p->name, strerror(errno));
	b->w->blocklog = bl;
	b->cfg->aggregate_ms = 0;
	blocked_queries(b, p, pkt, len, warmup_ops(p));
	measure_begin();
	blocked_queries(b, p, pkt, len, p->ops);
	measure_end(p);
	b->cfg->aggregate_ms = window;
	b->w->blocklog = NULL;
	if (blocklog_written(bl) + blocklog_dropped(bl) > p->ops + warmup_ops(p))
		fail(p->name, "more records than lookups");
	blocklog_free(bl);
}

static void path_cache_hit(struct bench *b, const struct path *p)
{
	/* The upstream's answer: one A record, TTL 86400, after the question. */
	static const uint8_t answer[] = {0xc0, 0x0c, 0, 1, 0, 1, 0, 1, 0x51, 0x80, 0, 4, 192, 0, 2, 10};
	struct query_ctx ctx;
	uint8_t pkt[512], reply[512];
	size_t len = make_query(pkt, "www.example.org", DNS_T_A), qlen = len - 11;

	/* Miss, then store the reply the upstream would have sent: question, answer, OPT. */
	process(b, p, pkt, len, &ctx, QA_FORWARD);
	memcpy(reply, pkt, qlen);
	reply[2] |= 0x80; /* QR */
	reply[3] |= 0x80; /* RA */
	reply[7] = 1;	  /* ANCOUNT */
	memcpy(reply + qlen, answer, sizeof(answer));
	memcpy(reply + qlen + sizeof(answer), pkt + qlen, len - qlen);
	worker_upstream_result(b->w, &ctx.q, reply, len + sizeof(answer));

	for (unsigned long i = 0; i < warmup_ops(p); i++)
		process(b, p, pkt, len, &ctx, QA_ANSWER);
	measure_begin();
	for (unsigned long i = 0; i < p->ops; i++)
		process(b, p, pkt, len, &ctx, QA_ANSWER);
	measure_end(p);
}

/*
 * A cache hit with the query log on (every query, client addresses whole): worker_process and
 * worker_log, which fills the query-log record from the answer and queues it in its own ring.
 */
static void path_query_logged(struct bench *b, const struct path *p)
{
	static const uint8_t answer[] = {0xc0, 0x0c, 0, 1,    0,    1, 0, 1,
					 0x51, 0x80, 0, 4, 192, 0, 2, 10};
	struct query_ctx ctx;
	uint8_t pkt[512], reply[512];
	size_t len = make_query(pkt, "www.example.org", DNS_T_A), qlen = len - 11;
	struct blocklog *ql = blocklog_new("/dev/null", "dns1", 4 * (p->ops + warmup_ops(p)), 1);

	if (!ql)
		fail(p->name, strerror(errno));
	process(b, p, pkt, len, &ctx, QA_FORWARD);
	memcpy(reply, pkt, qlen);
	reply[2] |= 0x80;
	reply[3] |= 0x80;
	reply[7] = 1;
	memcpy(reply + qlen, answer, sizeof(answer));
	memcpy(reply + qlen + sizeof(answer), pkt + qlen, len - qlen);
	worker_upstream_result(b->w, &ctx.q, reply, len + sizeof(answer));
	b->w->querylog = ql;
	for (unsigned long i = 0; i < warmup_ops(p); i++) {
		process(b, p, pkt, len, &ctx, QA_ANSWER);
		worker_log(b->w, &b->cl, &ctx);
	}
	measure_begin();
	for (unsigned long i = 0; i < p->ops; i++) {
		process(b, p, pkt, len, &ctx, QA_ANSWER);
		worker_log(b->w, &b->cl, &ctx);
	}
	measure_end(p);
	b->w->querylog = NULL;
	blocklog_free(ql);
}

/*
 * A typical answer into reply: www.example.org CNAME cdn.example.net, then two A records of it
 * (owners compressed, as upstreams send them). Returns its length; *qlen is where the answer
 * section starts, *q the query's parsed question.
 */
static size_t typical_reply(uint8_t *reply, size_t *qlen, struct dns_query *q)
{
	static const uint8_t answer[] = {
	    0xc0, 0x0c, 0, 5, 0, 1, 0, 0, 0x0e, 0x10, 0, 17, /* CNAME, rdata: */
	    3,	  'c',	'd', 'n', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'n', 'e', 't', 0,
	    0xc0, 0x2d, 0, 1, 0, 1, 0, 0, 0x00, 0x3c, 0, 4, 192, 0, 2, 10, /* A */
	    0xc0, 0x2d, 0, 1, 0, 1, 0, 0, 0x00, 0x3c, 0, 4, 192, 0, 2, 11, /* A */
	};
	uint8_t pkt[512];
	size_t len = make_query(pkt, "www.example.org", DNS_T_A);

	if (dnsmsg_parse_query(pkt, len, q) != QUERY_OK)
		fail("typical_reply", "the query did not parse");
	*qlen = len - 11;
	memcpy(reply, pkt, *qlen);
	reply[2] |= 0x80;
	reply[3] |= 0x80;
	reply[7] = 3;
	reply[11] = 0;
	memcpy(reply + *qlen, answer, sizeof(answer));
	return *qlen + sizeof(answer);
}

/* Inspection of the typical answer (policy_inspect_answer) against policy pol. */
static void inspect_typical(const struct policy *pol, const struct path *p)
{
	const unsigned what = INSPECT_NAMES | INSPECT_ADDRS;
	struct answer_hit hit;
	struct dns_query q;
	uint8_t reply[512];
	size_t qlen, rlen = typical_reply(reply, &qlen, &q);
	unsigned long blocked = 0;

	for (unsigned long i = 0; i < warmup_ops(p); i++)
		blocked += policy_inspect_answer(pol, reply, rlen, qlen, 3, what, LOAD_NOW, &hit);
	measure_begin();
	for (unsigned long i = 0; i < p->ops; i++)
		blocked += policy_inspect_answer(pol, reply, rlen, qlen, 3, what, LOAD_NOW, &hit);
	measure_end(p);
	if (blocked)
		fail(p->name, "a clean answer was found listed");
}

/* The typical answer against the names of the blocklist (no prefix listed). */
static void path_answer_inspection(struct bench *b, const struct path *p)
{
	inspect_typical(b->st.policy, p);
}

/* Prefixes of the IP path: of 6 lengths (v4 /32 /24 /16, v6 /128 /64 /48), none the answer's. */
#define IP_PREFIXES 12000

/*
 * The typical answer against IP_PREFIXES listed prefixes (and the blocklist's names): its two
 * addresses are looked up at each IPv4 length present, none listed.
 */
static void path_answer_inspection_ip(struct bench *b, const struct path *p)
{
	size_t cap = (size_t)IP_PREFIXES * 48 + sizeof(blocklist_text), o;
	char *text = malloc(cap);
	struct parse_errs errs = {0};
	struct policy *pol;

	(void)b;
	if (!text)
		fail(p->name, "out of memory");
	o = (size_t)snprintf(text, cap, "%s  - malware: Prefixes\n    ips:\n", blocklist_text);
	for (unsigned i = 0; i < IP_PREFIXES; i++) {
		unsigned k = i % 6, n = i / 6, hi = n >> 8, lo = n & 0xff;

		if (k == 0)
			o += (size_t)snprintf(text + o, cap - o, "      - 10.%u.%u.1\n", hi, lo);
		else if (k == 1)
			o += (size_t)snprintf(text + o, cap - o, "      - 10.%u.%u.0/24\n", hi, lo);
		else if (k == 2)
			o += (size_t)snprintf(text + o, cap - o, "      - %u.%u.0.0/16\n", 11 + hi, lo);
		else if (k == 3)
			o += (size_t)snprintf(text + o, cap - o, "      - \"2001:db8:%x:3::1\"\n", n);
		else if (k == 4)
			o += (size_t)snprintf(text + o, cap - o, "      - \"2001:db8:%x:4::/64\"\n", n);
		else
			o += (size_t)snprintf(text + o, cap - o, "      - \"2001:db9:%x::/48\"\n", n);
	}
	pol = policy_load_string(text, o, "ip.yaml", 0, LOAD_NOW, &errs);
	free(text);
	if (!pol || policy_stats(pol)->block_ip != IP_PREFIXES)
		fail(p->name, "the prefixes did not load");
	inspect_typical(pol, p);
	policy_free(pol);
}

/*
 * Retro-hunt: the addresses of the typical answer relayed (forwarded), handed to the worker's
 * ring with the query name (retro_record_answer, as worker_query_done calls it).
 */
static void retro_answers(struct bench *b, const struct dns_query *q, const uint8_t *reply,
			  size_t rlen, size_t qlen, unsigned long n)
{
	for (unsigned long i = 0; i < n; i++) {
		retro_record_answer(b->w->retro, 0, q->name, q->name_len, &b->cl.addr, RECORD_MS,
				    reply, rlen, qlen);
		atomic_store_explicit(&retro_ring.tail,
				      atomic_load_explicit(&retro_ring.head, memory_order_relaxed),
				      memory_order_relaxed);
	}
}

static void path_retro_answer(struct bench *b, const struct path *p)
{
	struct dns_query q;
	uint8_t reply[512];
	size_t qlen, rlen = typical_reply(reply, &qlen, &q);
	size_t h = atomic_load(&retro_ring.head);

	retro_answers(b, &q, reply, rlen, qlen, warmup_ops(p));
	measure_begin();
	retro_answers(b, &q, reply, rlen, qlen, p->ops);
	measure_end(p);
	if (atomic_load(&retro_ring.head) - h != warmup_ops(p) + p->ops ||
	    retro_ring.ev[(h & (RETRO_RING - 1))].n_ans != 2)
		fail(p->name, "the answer's addresses were not handed over");
}

/* Not listed, not cached: up to the decision to forward (upstream's work is not counted). */
static void path_forward_decision(struct bench *b, const struct path *p)
{
	struct query_ctx ctx;
	uint8_t pkt[512];
	size_t len = make_query(pkt, "www.example.net", DNS_T_A);

	for (unsigned long i = 0; i < warmup_ops(p); i++)
		process(b, p, pkt, len, &ctx, QA_FORWARD);
	measure_begin();
	for (unsigned long i = 0; i < p->ops; i++)
		process(b, p, pkt, len, &ctx, QA_FORWARD);
	measure_end(p);
}

/* ---- the block log ---- */

/* One record (a blocked A query of the group's entry) into its JSON line, without the write. */
static void path_blocklog_record(struct bench *b, const struct path *p)
{
	static char line[BLOCKLOG_FORMAT_ROOM]; /* as the writer formats: no copy */
	struct query_ctx ctx;
	uint8_t pkt[512];
	size_t len = make_query(pkt, "www.mobile1.com", DNS_T_A);
	const char *dvc = b->cfg->dvc;

	process(b, p, pkt, len, &ctx, QA_ANSWER);
	ctx.rec.time_ms = RECORD_MS;
	for (unsigned long i = 0; i < warmup_ops(p); i++)
		if (blocklog_format(&ctx.rec, dvc, line, sizeof(line)) == 0)
			fail(p->name, "blocklog_format failed");
	measure_begin();
	for (unsigned long i = 0; i < p->ops; i++)
		if (blocklog_format(&ctx.rec, dvc, line, sizeof(line)) == 0)
			fail(p->name, "blocklog_format failed");
	measure_end(p);
}

/* ---- loading lists ---- */

/* A YAML blocklist of n names: bare strings, or the domains of one group with metadata. */
static char *make_list(unsigned long n, bool group)
{
	static const char head[] = "block:\n"
				   "  - malware: NanoCore RAT\n"
				   "    threat_type: botnet_cc\n"
				   "    source: ThreatFox\n"
				   "    confidence: 75\n"
				   "    first_seen: 2026-05-27\n"
				   "    domains:\n";
	size_t cap = sizeof(head) + n * 48, off;
	char *text = malloc(cap);

	if (!text)
		return NULL;
	off = (size_t)snprintf(text, cap, "%s", group ? head : "block:\n");
	for (unsigned long i = 0; i < n; i++)
		off += (size_t)snprintf(text + off, cap - off, "%s- h%lu.bad%lu.example.com\n",
					group ? "      " : "  ", i, i % 977);
	return text;
}

static void load_list(const struct path *p, bool group)
{
	char *text = make_list(p->ops, group);
	struct parse_errs errs = {0};
	struct policy *pol;

	if (!text)
		fail(p->name, "out of memory");
	/* Warm-up: one load of the same list, freed before the measured one. */
	pol = policy_load_string(text, strlen(text), "list.yaml", 0, LOAD_NOW, &errs);
	if (!pol || policy_stats(pol)->block != p->ops)
		fail(p->name, "the list did not load");
	policy_free(pol);
	measure_begin();
	pol = policy_load_string(text, strlen(text), "list.yaml", 0, LOAD_NOW, &errs);
	measure_end(p);
	if (!pol || policy_stats(pol)->block != p->ops)
		fail(p->name, "the list did not load");
	policy_free(pol);
	free(text);
}

static void path_list_plain(struct bench *b, const struct path *p)
{
	(void)b;
	load_list(p, false);
}

static void path_list_group(struct bench *b, const struct path *p)
{
	(void)b;
	load_list(p, true);
}

static const struct path paths[] = {
	{"blocked_query", 20000, path_blocked_query},
	{"blocked_unaggregated", 20000, path_blocked_unaggregated},
	{"cache_hit", 20000, path_cache_hit},
	{"query_logged", 20000, path_query_logged},
	{"forward_decision", 20000, path_forward_decision},
	{"answer_inspection", 20000, path_answer_inspection},
	{"answer_inspection_ip", 20000, path_answer_inspection_ip},
	{"retro_answer", 20000, path_retro_answer},
	{"blocklog_record", 20000, path_blocklog_record},
	{"list_entry_plain", LIST_NAMES, path_list_plain},
	{"list_entry_group", LIST_NAMES, path_list_group},
};

/* ---- setup ---- */

static void bench_init(struct bench *b)
{
	struct parse_errs errs = {0};
	struct sockaddr_in *sin = (struct sockaddr_in *)&b->cl.addr;

	memset(b, 0, sizeof(*b));
	if (config_load_string(config_text, strlen(config_text), "budget.yaml", &b->cfg, &errs))
		fail("setup", "config");
	b->st.cfg = b->cfg;
	b->st.policy = policy_load_string(blocklist_text, strlen(blocklist_text), "blocklist.yaml",
					  0, LOAD_NOW, &errs);
	if (!b->st.policy)
		fail("setup", "blocklist");
	b->ws.st = &b->st;
	b->ws.users = 1;
	b->w = calloc(1, sizeof(*b->w));
	if (!b->w)
		fail("setup", "out of memory");
	b->w->cur = &b->ws;
	b->w->cache = cache_new(&b->cfg->cache);
	retro_ring.ev = calloc(RETRO_RING, sizeof(*retro_ring.ev));
	if (!b->w->cache || !retro_ring.ev)
		fail("setup", "out of memory");
	b->w->retro = &retro;
	b->cl.tr = TRANSPORT_UDP;
	sin->sin_family = AF_INET;
	sin->sin_port = htons(40000);
	inet_pton(AF_INET, "127.0.0.1", &sin->sin_addr);
}

static void bench_deinit(struct bench *b)
{
	cache_free(b->w->cache);
	free(retro_ring.ev);
	free(b->w);
	if (policy_release(b->st.policy))
		policy_free(b->st.policy);
	config_free(b->cfg);
}

int main(int argc, char **argv)
{
	const size_t n_paths = sizeof(paths) / sizeof(paths[0]);
	bool selected[sizeof(paths) / sizeof(paths[0])] = {false};
	const char *burn_env = getenv("SINKHOLED_BUDGET_BURN");
	bool any = false;
	struct bench b;

	if (burn_env)
		burn_per_op = strtoul(burn_env, NULL, 10);
	for (int i = 1; i < argc; i++) {
		bool found = false;

		if (strcmp(argv[i], "--list") == 0) {
			for (size_t j = 0; j < n_paths; j++)
				printf("%s %lu\n", paths[j].name, paths[j].ops);
			return 0;
		}
		for (size_t j = 0; j < n_paths; j++) {
			if (strcmp(argv[i], paths[j].name) == 0)
				selected[j] = found = any = true;
		}
		if (!found) {
			fprintf(stderr, "usage: budget [--list] [PATH...]; no path %s\n", argv[i]);
			return 2;
		}
	}
	bench_init(&b);
	for (size_t j = 0; j < n_paths; j++) {
		if (!any || selected[j])
			paths[j].run(&b, &paths[j]);
	}
	bench_deinit(&b);
	return 0;
}
