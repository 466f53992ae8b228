/* SPDX-License-Identifier: MIT */
/*
 * The per-query path of a worker (worker_process) without I/O: sinkhole answers, errors,
 * forwarding decisions and cache hits, and the proof that a blocked query allocates nothing.
 * Allocations are counted by wrapping malloc & co. at link time (-Wl,--wrap), which sees every
 * call made from daemon_core.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "formats/format.h"
#include "policy/policy.h"
#include "blocklog.h"
#include "cache.h"
#include "config.h"
#include "dnsmsg.h"
#include "logagg.h"
#include "retro.h"
#include "upstream.h"
#include "util/hash.h"
#include "worker.h"

/* Per thread: only the calling thread's allocations count (the block-log writer has its own). */
static _Thread_local unsigned long allocs;

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);

void *__wrap_malloc(size_t n)
{
	allocs++;
	return __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t m)
{
	allocs++;
	return __real_calloc(n, m);
}

void *__wrap_realloc(void *p, size_t n)
{
	allocs++;
	return __real_realloc(p, n);
}

char *__wrap_strdup(const char *s)
{
	allocs++;
	return __real_strdup(s);
}

static const char config_text[] = "listen: [\"127.0.0.1:5300\"]\n"
				  "upstreams: [\"127.0.0.1:5301\"]\n"
				  "blocklists: [bl.yaml]\n"
				  "block_log: {path: \"-\"}\n"
				  "access: {allow: [127.0.0.0/8]}\n";

static const char blocklist_text[] = "allow: [ok.example]\n"
				     "block:\n"
				     "  - malware: NanoCore RAT\n"
				     "    threat_type: botnet_cc\n"
				     "    confidence: 75\n"
				     "    domains: [www.mobile1.com, moocow.my]\n"
				     "  - domain: watch.example\n"
				     "    action: log\n";

struct fixture {
	struct config *cfg;
	struct state st;
	struct wstate ws;
	struct worker *w;
	struct client cl;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct parse_errs errs = {0};
	struct sockaddr_in *sin;

	assert_non_null(f);
	assert_int_equal(config_load_string(config_text, strlen(config_text), "test.yaml", &f->cfg,
					    &errs),
			 0);
	f->st.cfg = f->cfg;
	f->st.policy = policy_load_string(blocklist_text, strlen(blocklist_text), "bl.yaml", 0,
					  1700000000, &errs);
	assert_non_null(f->st.policy);
	assert_int_equal(errs.n, 0);
	f->ws.st = &f->st;
	f->ws.users = 1;
	f->w = calloc(1, sizeof(*f->w));
	assert_non_null(f->w);
	f->w->cur = &f->ws;
	f->w->cache = cache_new(&f->cfg->cache);
	assert_non_null(f->w->cache);
	f->cl.tr = TRANSPORT_UDP;
	sin = (struct sockaddr_in *)&f->cl.addr;
	sin->sin_family = AF_INET;
	sin->sin_port = htons(40000);
	inet_pton(AF_INET, "127.0.0.1", &sin->sin_addr);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	cache_free(f->w->cache);
	free(f->w);
	if (policy_release(f->st.policy))
		policy_free(f->st.policy);
	config_free(f->cfg);
	free(f);
	return 0;
}

/* A query for name (dotted, lowercase or not) with an optional EDNS OPT. */
static size_t make_query(uint8_t *buf, const char *name, uint16_t qtype, bool edns)
{
	size_t n = 12;
	const char *p = name;

	memset(buf, 0, 12);
	buf[0] = 0x12, buf[1] = 0x34; /* ID */
	buf[2] = 0x01;		      /* RD */
	buf[5] = 1;		      /* QDCOUNT */
	while (*p) {
		const char *dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);
		buf[n++] = (uint8_t)l;
		memcpy(buf + n, p, l);
		n += l;
		p += l + (dot ? 1 : 0);
	}
	buf[n++] = 0;
	buf[n++] = (uint8_t)(qtype >> 8), buf[n++] = (uint8_t)qtype;
	buf[n++] = 0, buf[n++] = 1;
	if (edns) {
		static const uint8_t opt[] = {0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0};
		buf[11] = 1;
		memcpy(buf + n, opt, sizeof(opt));
		n += sizeof(opt);
	}
	return n;
}

static void blocked_query_allocates_nothing(void **state)
{
	struct fixture *f = *state;
	struct query_ctx ctx;
	uint8_t pkt[512];
	size_t len = make_query(pkt, "a.WWW.mobile1.com", DNS_T_A, true);
	struct sockaddr_storage local = {0};
	struct sockaddr_in *lin = (struct sockaddr_in *)&local;

	/* The listener's bound address, as the listeners set it. */
	lin->sin_family = AF_INET;
	lin->sin_port = htons(5300);
	inet_pton(AF_INET, "127.0.0.53", &lin->sin_addr);
	f->cl.local = &local;
	assert_int_equal(worker_process(f->w, pkt, len, &f->cl, &ctx), QA_ANSWER);
	allocs = 0;
	for (int i = 0; i < 1000; i++)
		assert_int_equal(worker_process(f->w, pkt, len, &f->cl, &ctx), QA_ANSWER);
	assert_int_equal(allocs, 0);

	/* The answer is the sinkhole, the record names the IOC. */
	assert_true(ctx.out_len > len);
	assert_int_equal(f->w->abuf[0], 0x12);
	assert_int_equal(f->w->abuf[3] & 0x0f, DNS_NOERROR);
	assert_true(ctx.log);
	assert_int_equal(ctx.rec.action, BLOCKLOG_BLOCKED);
	assert_int_equal(ctx.rec.resp_family, AF_INET);
	assert_int_equal(ctx.rec.rule_off, 2); /* "www.mobile1.com" inside "a.www.mobile1.com" */
	assert_string_equal(ctx.rec.meta->malware, "NanoCore RAT");
	assert_int_equal(ctx.rec.src_port, 40000);
	assert_int_equal(ctx.rec.txid, 0x1234);
	/* Dst, class, RD and what was done (sinkhole.mode address). */
	assert_int_equal(ctx.rec.dst_family, AF_INET);
	assert_memory_equal(ctx.rec.dst_addr, &lin->sin_addr, 4);
	assert_int_equal(ctx.rec.dst_port, 5300);
	assert_int_equal(ctx.rec.qclass, 1);
	assert_int_equal(ctx.rec.orig, BLOCKLOG_ORIG_ADDRESS);
	f->cl.local = NULL;
	assert_int_equal(worker_process(f->w, pkt, len, &f->cl, &ctx), QA_ANSWER);
	assert_int_equal(ctx.rec.dst_family, 0);
	assert_int_equal(ctx.rec.dst_port, 0);
}

static void blocklog_submit_allocates_nothing(void **state)
{
	struct fixture *f = *state;
	struct blocklog *bl = blocklog_new("/dev/null", "test", 1024, 1);
	struct query_ctx ctx;
	uint8_t pkt[512];
	size_t len = make_query(pkt, "moocow.my", DNS_T_AAAA, false);

	assert_non_null(bl);
	assert_int_equal(worker_process(f->w, pkt, len, &f->cl, &ctx), QA_ANSWER);
	allocs = 0;
	for (int i = 0; i < 500; i++)
		assert_int_equal(blocklog_submit(bl, 0, &ctx.rec), 0);
	assert_int_equal(allocs, 0);
	blocklog_sync(bl);
	blocklog_free(bl);
}

static void forward_and_errors(void **state)
{
	struct fixture *f = *state;
	struct query_ctx ctx;
	uint8_t pkt[512];
	size_t len;

	/* Not listed: forwarded, not logged. */
	len = make_query(pkt, "example.org", DNS_T_A, false);
	allocs = 0;
	assert_int_equal(worker_process(f->w, pkt, len, &f->cl, &ctx), QA_FORWARD);
	assert_int_equal(allocs, 0);
	assert_false(ctx.log);
	assert_int_equal(ctx.m.verdict, VERDICT_PASS);

	/* action: log → forwarded with the decision kept for the log line. */
	len = make_query(pkt, "x.watch.example", DNS_T_A, false);
	assert_int_equal(worker_process(f->w, pkt, len, &f->cl, &ctx), QA_FORWARD);
	assert_int_equal(ctx.m.verdict, VERDICT_LOG);

	/* A client outside access.allow: REFUSED. */
	{
		struct client out = f->cl;
		inet_pton(AF_INET, "192.0.2.7", &((struct sockaddr_in *)&out.addr)->sin_addr);
		len = make_query(pkt, "www.mobile1.com", DNS_T_A, false);
		assert_int_equal(worker_process(f->w, pkt, len, &out, &ctx), QA_ANSWER);
		assert_int_equal(f->w->abuf[3] & 0x0f, DNS_REFUSED);
		assert_false(ctx.log);
	}

	/* QDCOUNT 0: FORMERR; a response (QR=1): dropped. */
	len = make_query(pkt, "example.org", DNS_T_A, false);
	pkt[5] = 0;
	assert_int_equal(worker_process(f->w, pkt, len, &f->cl, &ctx), QA_ANSWER);
	assert_int_equal(f->w->abuf[3] & 0x0f, DNS_FORMERR);
	pkt[5] = 1;
	pkt[2] |= 0x80;
	assert_int_equal(worker_process(f->w, pkt, len, &f->cl, &ctx), QA_DROP);
}

/* Store in the worker's cache the upstream's reply to the query pkt: one A record. Its length. */
static size_t cache_reply(struct fixture *f, const uint8_t *pkt, size_t len)
{
	static const uint8_t answer[] = {0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0x01, 0x2c, 0, 4, 192, 0, 2, 10};
	struct query_ctx ctx;
	uint8_t reply[512];

	assert_int_equal(worker_process(f->w, pkt, len, &f->cl, &ctx), QA_FORWARD);
	memcpy(reply, pkt, len);
	reply[2] |= 0x80;
	reply[3] |= 0x80;
	reply[7] = 1;
	memcpy(reply + len, answer, sizeof(answer));
	worker_upstream_result(f->w, &ctx.q, reply, len + sizeof(answer));
	return len + sizeof(answer);
}

static void cache_hit_allocates_nothing(void **state)
{
	struct fixture *f = *state;
	struct query_ctx ctx;
	uint8_t pkt[512];
	size_t len = make_query(pkt, "Example.ORG", DNS_T_A, false);
	/* The upstream's reply: the query with QR/RA set and one A record. */
	size_t rlen = cache_reply(f, pkt, len);

	allocs = 0;
	for (int i = 0; i < 100; i++)
		assert_int_equal(worker_process(f->w, pkt, len, &f->cl, &ctx), QA_ANSWER);
	assert_int_equal(allocs, 0);
	assert_int_equal(ctx.out_len, rlen);
	assert_memory_equal(f->w->abuf + 12, pkt + 12, len - 12); /* the client's letter case */
}

/* The lines of the file at path that contain needle. */
static size_t lines_with(const char *path, const char *needle)
{
	char line[8192];
	size_t n = 0;
	FILE *fp = fopen(path, "r");

	assert_non_null(fp);
	while (fgets(line, sizeof(line), fp))
		n += strstr(line, needle) != NULL;
	fclose(fp);
	return n;
}

/*
 * With the query log on (half of the queries sampled, clients anonymized to /24, a name
 * excluded) and aggregation on: blocked lookups and cache hits allocate nothing; the blocked
 * ones make one pending record, and the query log gets every other answered query.
 */
static void query_log_and_aggregation_allocate_nothing(void **state)
{
	struct fixture *f = *state;
	struct query_ctx ctx;
	uint8_t pkt[512], cpkt[512], xpkt[512];
	size_t len = make_query(pkt, "www.mobile1.com", DNS_T_A, false);
	size_t clen = make_query(cpkt, "example.org", DNS_T_A, false);
	size_t xlen = make_query(xpkt, "a.internal.example", DNS_T_A, false);
	struct wire_name *internal = calloc(1, sizeof(*internal)); /* config_free() frees it */
	char qpath[] = "/tmp/test_worker_qlog.XXXXXX";
	uint64_t written;
	int fd = mkstemp(qpath);

	assert_true(fd >= 0);
	close(fd);
	assert_non_null(internal);
	internal->len = 18;
	memcpy(internal->name, "\10internal\7example", 18);
	f->w->blocklog = blocklog_new("/dev/null", "test", 1024, 1);
	f->w->querylog = blocklog_new(qpath, "test", 4096, 1);
	f->w->agg = logagg_new(64, 1);
	assert_non_null(f->w->blocklog);
	assert_non_null(f->w->querylog);
	assert_non_null(f->w->agg);
	assert_int_equal(f->cfg->aggregate_ms, 1000);
	f->cfg->query_log.sample_step = 1ull << 31; /* 0.5 */
	f->cfg->query_log.matched = true; /* the blocked lookups too */
	f->cfg->query_log.ipv4_prefix = 24;
	f->cfg->query_log.exclude = internal;
	f->cfg->query_log.n_exclude = 1;

	/* Cached answers for example.org and a.internal.example. */
	cache_reply(f, cpkt, clen);
	cache_reply(f, xpkt, xlen);

	allocs = 0;
	for (int i = 0; i < 1000; i++) {
		/* Clients pick a new ID for each query: the sample's hash covers it. */
		pkt[0] = cpkt[0] = (uint8_t)(i >> 8);
		pkt[1] = cpkt[1] = (uint8_t)i;
		assert_int_equal(worker_process(f->w, pkt, len, &f->cl, &ctx), QA_ANSWER);
		worker_log(f->w, &f->cl, &ctx);
		assert_int_equal(worker_process(f->w, cpkt, clen, &f->cl, &ctx), QA_ANSWER);
		worker_log(f->w, &f->cl, &ctx);
	}
	assert_int_equal(allocs, 0);
	/* 1000 blocked lookups within the window: one record pending, 999 merged into it. */
	assert_int_equal(logagg_pending(f->w->agg), 1);
	assert_int_equal(f->w->stats.blocklog_aggregated[0], 999);

	/* Not excluded by a name that merely ends the same way; excluded below internal.example. */
	{
		uint8_t npkt[512];
		size_t nlen = make_query(npkt, "notinternal.example", DNS_T_A, false);

		assert_int_equal(worker_process(f->w, xpkt, xlen, &f->cl, &ctx), QA_ANSWER);
		worker_log(f->w, &f->cl, &ctx);
		assert_int_equal(worker_process(f->w, xpkt, xlen, &f->cl, &ctx), QA_ANSWER);
		worker_log(f->w, &f->cl, &ctx);
		assert_int_equal(worker_process(f->w, npkt, nlen, &f->cl, &ctx), QA_FORWARD);
	}
	blocklog_sync(f->w->querylog);
	/*
	 * About half of the 2000 answered queries (of each kind), the excluded ones not at all,
	 * each record alone (EventCount 1) with the client cut to its /24.
	 */
	written = blocklog_written(f->w->querylog);
	assert_in_range(written, 850, 1150);
	assert_int_equal(lines_with(qpath, "\"SrcIpAddr\":\"127.0.0.0\""), written);
	assert_in_range(lines_with(qpath, "\"DvcOriginalAction\":\"cache\""), 400, 600);
	assert_in_range(lines_with(qpath, "\"DvcAction\":\"Blocked\""), 400, 600);
	assert_int_equal(lines_with(qpath, "internal"), 0);
	assert_int_equal(lines_with(qpath, "\"EventCount\":1,"), written);
	/* Deterministic: the same queries again are sampled the same. */
	for (int i = 0; i < 1000; i++) {
		cpkt[0] = (uint8_t)(i >> 8);
		cpkt[1] = (uint8_t)i;
		assert_int_equal(worker_process(f->w, cpkt, clen, &f->cl, &ctx), QA_ANSWER);
		worker_log(f->w, &f->cl, &ctx);
	}
	blocklog_sync(f->w->querylog);
	assert_int_equal(lines_with(qpath, "\"DvcOriginalAction\":\"cache\""),
			 2 * (written - lines_with(qpath, "\"DvcAction\":\"Blocked\"")));

	/* A prefix that cuts a byte (/20), every query logged; the block log keeps the client. */
	{
		struct client c = f->cl;

		inet_pton(AF_INET, "127.1.255.7", &((struct sockaddr_in *)&c.addr)->sin_addr);
		f->cfg->query_log.ipv4_prefix = 20;
		f->cfg->query_log.sample_step = 1ull << 32;
		assert_int_equal(worker_process(f->w, cpkt, clen, &c, &ctx), QA_ANSWER);
		worker_log(f->w, &c, &ctx);
		assert_int_equal(worker_process(f->w, pkt, len, &c, &ctx), QA_ANSWER);
		assert_memory_equal(ctx.rec.src_addr, "\177\1\377\7", 4);
		worker_log(f->w, &c, &ctx);
		blocklog_sync(f->w->querylog);
		assert_int_equal(lines_with(qpath, "\"SrcIpAddr\":\"127.1.240.0\""), 2);
		assert_int_equal(logagg_pending(f->w->agg), 2); /* another client: its own record */
	}

	logagg_free(f->w->agg);
	f->w->agg = NULL;
	blocklog_free(f->w->querylog);
	blocklog_free(f->w->blocklog);
	f->w->querylog = f->w->blocklog = NULL;
	unlink(qpath);
}

/* An RPZ entry's own answer (local data, NXDOMAIN, drop), allocation-free, and its log line. */
static void rpz_answers_allocate_nothing(void **state)
{
	static const char zone[] = "$ORIGIN rpz.example.\n"
				   "@ SOA ns. h. 1 2 3 4 5\n"
				   "local.test A 192.0.2.10\n"
				   "           AAAA 2001:db8::10\n"
				   "v4.test A 192.0.2.20\n"
				   "nx.test CNAME .\n"
				   "*.drop.test CNAME rpz-drop.\n";
	static const uint8_t v4[4] = {192, 0, 2, 10}, v4b[4] = {192, 0, 2, 20};
	static const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 0x10};
	struct fixture *f = *state;
	struct parse_errs errs = {0};
	struct query_ctx ctx;
	uint8_t pkt[512];
	size_t len;

	if (policy_release(f->st.policy))
		policy_free(f->st.policy);
	f->st.policy = policy_load_text(FORMAT_RPZ, zone, strlen(zone), "zone.rpz", 0, 1700000000,
					&errs, NULL);
	assert_non_null(f->st.policy);

	/* Local data: A and AAAA answered with the zone's addresses. */
	len = make_query(pkt, "local.test", DNS_T_A, true);
	allocs = 0;
	for (int i = 0; i < 100; i++)
		assert_int_equal(worker_process(f->w, pkt, len, &f->cl, &ctx), QA_ANSWER);
	assert_int_equal(allocs, 0);
	assert_int_equal(f->w->abuf[3] & 0x0f, DNS_NOERROR);
	assert_int_equal(f->w->abuf[7], 1); /* ANCOUNT */
	assert_memory_equal(f->w->abuf + len - 11 + 12, v4, 4); /* after the answer's fixed part */
	assert_true(ctx.log);
	assert_int_equal(ctx.rec.action, BLOCKLOG_BLOCKED);
	assert_int_equal(ctx.rec.resp_family, AF_INET);
	assert_memory_equal(ctx.rec.resp_addr, v4, 4);
	len = make_query(pkt, "local.test", DNS_T_AAAA, false);
	assert_int_equal(worker_process(f->w, pkt, len, &f->cl, &ctx), QA_ANSWER);
	assert_int_equal(f->w->abuf[7], 1);
	assert_memory_equal(f->w->abuf + len + 12, v6, 16);
	assert_int_equal(ctx.rec.resp_family, AF_INET6);
	assert_memory_equal(ctx.rec.resp_addr, v6, 16);

	/* A type without local data: NODATA (NOERROR, no answer, the SOA). */
	len = make_query(pkt, "v4.test", DNS_T_AAAA, false);
	assert_int_equal(worker_process(f->w, pkt, len, &f->cl, &ctx), QA_ANSWER);
	assert_int_equal(f->w->abuf[3] & 0x0f, DNS_NOERROR);
	assert_int_equal(f->w->abuf[7], 0);
	assert_int_equal(f->w->abuf[9], 1); /* NSCOUNT */
	assert_int_equal(ctx.rec.resp_family, 0);
	len = make_query(pkt, "v4.test", DNS_T_A, false);
	assert_int_equal(worker_process(f->w, pkt, len, &f->cl, &ctx), QA_ANSWER);
	assert_memory_equal(ctx.rec.resp_addr, v4b, 4);

	/* CNAME .: NXDOMAIN, whatever sinkhole.mode says (address here). */
	len = make_query(pkt, "nx.test", DNS_T_A, false);
	assert_int_equal(worker_process(f->w, pkt, len, &f->cl, &ctx), QA_ANSWER);
	assert_int_equal(f->w->abuf[3] & 0x0f, DNS_NXDOMAIN);
	assert_int_equal(ctx.rec.rcode, DNS_NXDOMAIN);
	assert_int_equal(ctx.rec.resp_family, 0);
	assert_int_equal(ctx.rec.orig, BLOCKLOG_ORIG_NXDOMAIN);

	/* rpz-drop.: no answer at all, and still one log line. */
	len = make_query(pkt, "a.drop.test", DNS_T_A, false);
	allocs = 0;
	for (int i = 0; i < 100; i++)
		assert_int_equal(worker_process(f->w, pkt, len, &f->cl, &ctx), QA_DROP);
	assert_int_equal(allocs, 0);
	assert_int_equal(ctx.out_len, 0);
	assert_true(ctx.log);
	assert_int_equal(ctx.rec.action, BLOCKLOG_DROPPED);
	assert_int_equal(ctx.rec.orig, BLOCKLOG_ORIG_DROP);
	assert_int_equal(ctx.rec.rule_off, 2);
	/* The name itself is not a trigger ("*.drop.test" only): forwarded. */
	len = make_query(pkt, "drop.test", DNS_T_A, false);
	assert_int_equal(worker_process(f->w, pkt, len, &f->cl, &ctx), QA_FORWARD);
}

/* Append to reply a record owned by the name at offset owner, of type, with name rdata. */
static size_t put_name_rr(uint8_t *reply, size_t n, size_t owner, uint16_t type, const char *target)
{
	uint8_t *rdlen;
	const char *p = target;
	size_t start;

	reply[n++] = (uint8_t)(0xC0 | owner >> 8), reply[n++] = (uint8_t)owner;
	reply[n++] = (uint8_t)(type >> 8), reply[n++] = (uint8_t)type;
	reply[n++] = 0, reply[n++] = 1;
	reply[n++] = 0, reply[n++] = 0, reply[n++] = 1, reply[n++] = 0x2c;
	rdlen = reply + n;
	n += 2;
	start = n;
	while (*p) {
		const char *dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);

		reply[n++] = (uint8_t)l;
		memcpy(reply + n, p, l);
		n += l;
		p += l + (dot ? 1 : 0);
	}
	reply[n++] = 0;
	rdlen[0] = (uint8_t)((n - start) >> 8), rdlen[1] = (uint8_t)(n - start);
	return n;
}

/*
 * The upstream's answer to pkt (len bytes): a chain of hops CNAMEs from the query name through
 * hop1.chain.example ... to last, then an A record of last (owned by the last target).
 */
static size_t chain_reply(uint8_t *reply, const uint8_t *pkt, size_t len, unsigned hops,
			  const char *last)
{
	static const uint8_t a[] = {0, 1, 0, 1, 0, 0, 1, 0x2c, 0, 4, 192, 0, 2, 66};
	size_t n = len, owner = 12;
	char name[64];

	memcpy(reply, pkt, len);
	reply[2] |= 0x84; /* QR, AA: an authoritative upstream */
	reply[7] = (uint8_t)(hops + 1);
	for (unsigned i = 1; i <= hops; i++) {
		size_t at = n;

		snprintf(name, sizeof(name), "hop%u.chain.example", i);
		n = put_name_rr(reply, n, owner, DNS_T_CNAME, i == hops ? last : name);
		owner = at + 12; /* the target's name in this record's RDATA */
	}
	reply[n++] = (uint8_t)(0xC0 | owner >> 8), reply[n++] = (uint8_t)owner;
	memcpy(reply + n, a, sizeof(a));
	return n + sizeof(a);
}

/*
 * CNAME inspection on a cache hit (and of the answer itself): a chain ending at a listed name
 * gets the sinkhole answer and a record naming the target, allocation-free; a log-only target
 * is relayed and logged; an allowed query name is never blocked by its targets.
 */
static void cname_inspection_allocates_nothing(void **state)
{
	struct fixture *f = *state;
	struct query_ctx ctx;
	struct answer_hit hit;
	uint8_t pkt[512], reply[1024];
	static const uint8_t target[] = "\1x\3www\7mobile1\3com";
	size_t len, rlen, off;
	unsigned an;

	for (unsigned hops = 1; hops <= 8; hops += hops == 1 ? 2 : 5) {
		len = make_query(pkt, hops == 1 ? "Cloaked1.example" : hops == 3 ? "cloaked3.example"
											  : "cloaked8.example",
				 DNS_T_A, false);
		assert_int_equal(worker_process(f->w, pkt, len, &f->cl, &ctx), QA_FORWARD);
		rlen = chain_reply(reply, pkt, len, hops, "x.www.mobile1.com");
		off = dnsmsg_answer_section(reply, rlen, &an);
		assert_int_equal(off, len);
		assert_int_equal(an, hops + 1);
		allocs = 0;
		assert_int_equal(policy_inspect_answer(f->st.policy, reply, rlen, off, an,
						       INSPECT_NAMES | INSPECT_ADDRS, 1700000000,
						       &hit),
				 VERDICT_BLOCK);
		assert_int_equal(allocs, 0);
		assert_int_equal(hit.name_len, sizeof(target));
		assert_memory_equal(hit.name, target, sizeof(target));
		worker_upstream_result(f->w, &ctx.q, reply, rlen);

		allocs = 0;
		for (int i = 0; i < 100; i++)
			assert_int_equal(worker_process(f->w, pkt, len, &f->cl, &ctx), QA_ANSWER);
		assert_int_equal(allocs, 0);
		assert_int_equal(f->w->abuf[7], 1); /* one A: the sinkhole's */
		assert_memory_equal(f->w->abuf + ctx.out_len - 4, "\0\0\0\0", 4);
		assert_true(ctx.log);
		assert_int_equal(ctx.rec.action, BLOCKLOG_BLOCKED);
		assert_int_equal(ctx.rec.via, BLOCKLOG_VIA_CNAME);
		assert_int_equal(ctx.rec.matched_len, sizeof(target));
		assert_memory_equal(ctx.rec.matched, target, sizeof(target));
		assert_int_equal(ctx.rec.rule_off, 2); /* www.mobile1.com */
		assert_int_equal(ctx.rec.qname_len, 18);
	}

	/* A log-only target: the cached answer as it is, and an Allowed record. */
	len = make_query(pkt, "watcher.example", DNS_T_A, false);
	assert_int_equal(worker_process(f->w, pkt, len, &f->cl, &ctx), QA_FORWARD);
	rlen = chain_reply(reply, pkt, len, 2, "a.watch.example");
	worker_upstream_result(f->w, &ctx.q, reply, rlen);
	allocs = 0;
	assert_int_equal(worker_process(f->w, pkt, len, &f->cl, &ctx), QA_ANSWER);
	assert_int_equal(allocs, 0);
	assert_int_equal(ctx.out_len, rlen);
	assert_true(ctx.log);
	assert_int_equal(ctx.rec.action, BLOCKLOG_ALLOWED);
	assert_int_equal(ctx.rec.via, BLOCKLOG_VIA_CNAME);

	/* An allowed query name: relayed, not logged. */
	len = make_query(pkt, "ok.example", DNS_T_A, false);
	assert_int_equal(worker_process(f->w, pkt, len, &f->cl, &ctx), QA_FORWARD);
	rlen = chain_reply(reply, pkt, len, 1, "moocow.my");
	worker_upstream_result(f->w, &ctx.q, reply, rlen);
	assert_int_equal(worker_process(f->w, pkt, len, &f->cl, &ctx), QA_ANSWER);
	assert_int_equal(ctx.out_len, rlen);
	assert_false(ctx.log);

	/* Inspection off: the cloaked answer is served. */
	f->cfg->sinkhole.inspect_cname = false;
	len = make_query(pkt, "Cloaked1.example", DNS_T_A, false);
	assert_int_equal(worker_process(f->w, pkt, len, &f->cl, &ctx), QA_ANSWER);
	assert_false(ctx.log);
	assert_int_equal(f->w->abuf[7], 2);
	f->cfg->sinkhole.inspect_cname = true;
}

/*
 * IP indicators on a cache hit: an answer holding a listed address gets the sinkhole answer
 * and a record naming the address and the prefix, allocation-free; an allowed prefix or
 * sinkhole.inspect_ip off serves the answer.
 */
static void ip_inspection_allocates_nothing(void **state)
{
	static const char list[] = "block:\n"
				   "  - ip: 192.0.2.0/24\n"
				   "    malware: IPRAT\n"
				   "  - ip: \"2001:db8::/32\"\n";
	static const char allowed[] = "allow: [192.0.2.64/30]\n"
				      "block:\n"
				      "  - ip: 192.0.2.0/24\n";
	static const uint8_t listed[4] = {192, 0, 2, 66};
	struct fixture *f = *state;
	struct parse_errs errs = {0};
	struct query_ctx ctx;
	struct answer_hit hit;
	uint8_t pkt[512], reply[1024];
	size_t len, rlen;
	unsigned an;

	if (policy_release(f->st.policy))
		policy_free(f->st.policy);
	/* 192.0.2.66, the address chain_reply answers, is in a listed /24. */
	f->st.policy = policy_load_string(list, strlen(list), "ip.yaml", 0, 1700000000, &errs);
	assert_non_null(f->st.policy);

	len = make_query(pkt, "Addr.example", DNS_T_A, false);
	assert_int_equal(worker_process(f->w, pkt, len, &f->cl, &ctx), QA_FORWARD);
	rlen = chain_reply(reply, pkt, len, 1, "cdn.example");
	assert_int_equal(dnsmsg_answer_section(reply, rlen, &an), len);
	allocs = 0;
	assert_int_equal(policy_inspect_answer(f->st.policy, reply, rlen, len, an,
					       INSPECT_NAMES | INSPECT_ADDRS, 1700000000, &hit),
			 VERDICT_BLOCK);
	assert_int_equal(allocs, 0);
	assert_int_equal(hit.family, AF_INET);
	assert_memory_equal(hit.addr, listed, 4);
	assert_int_equal(hit.m.rule_off, 24);
	assert_int_equal(policy_inspect_answer(f->st.policy, reply, rlen, len, an, INSPECT_NAMES,
					       1700000000, &hit),
			 VERDICT_PASS);
	worker_upstream_result(f->w, &ctx.q, reply, rlen);

	/* AAAA answers: a listed IPv6 address; an IPv4-mapped one is its IPv4 address. */
	{
		static const uint8_t v6[2][16] = {
		    {0x20, 0x01, 0x0d, 0xb8, [15] = 7},
		    {[10] = 0xff, [11] = 0xff, 192, 0, 2, 66},
		};
		uint8_t r6[512];
		size_t q6 = make_query(r6, "six.example", DNS_T_AAAA, false);
		static const uint8_t fixed[] = {0xc0, 0x0c, 0, 28, 0, 1, 0, 0, 1, 0x2c, 0, 16};

		r6[2] |= 0x80;
		r6[7] = 1;
		memcpy(r6 + q6, fixed, sizeof(fixed));
		for (int k = 0; k < 2; k++) {
			memcpy(r6 + q6 + sizeof(fixed), v6[k], 16);
			assert_int_equal(policy_inspect_answer(f->st.policy, r6, q6 + 28, q6, 1,
							       INSPECT_ADDRS, 1700000000, &hit),
					 VERDICT_BLOCK);
			assert_int_equal(hit.family, k == 0 ? AF_INET6 : AF_INET);
			assert_int_equal(hit.m.rule_off, k == 0 ? 32 : 24);
			assert_memory_equal(hit.addr, k == 0 ? v6[0] : listed, k == 0 ? 16 : 4);
		}
	}

	allocs = 0;
	for (int i = 0; i < 100; i++)
		assert_int_equal(worker_process(f->w, pkt, len, &f->cl, &ctx), QA_ANSWER);
	assert_int_equal(allocs, 0);
	assert_int_equal(f->w->abuf[7], 1); /* one A: the sinkhole's */
	assert_memory_equal(f->w->abuf + ctx.out_len - 4, "\0\0\0\0", 4);
	assert_true(ctx.log);
	assert_int_equal(ctx.rec.action, BLOCKLOG_BLOCKED);
	assert_int_equal(ctx.rec.via, BLOCKLOG_VIA_IP);
	assert_int_equal(ctx.rec.matched_len, 4);
	assert_memory_equal(ctx.rec.matched, listed, 4);
	assert_int_equal(ctx.rec.rule_off, 24);
	assert_string_equal(ctx.rec.meta->malware, "IPRAT");

	/* Inspection off: the answer is served as cached. */
	f->cfg->sinkhole.inspect_ip = false;
	assert_int_equal(worker_process(f->w, pkt, len, &f->cl, &ctx), QA_ANSWER);
	assert_false(ctx.log);
	assert_int_equal(f->w->abuf[7], 2);
	f->cfg->sinkhole.inspect_ip = true;

	/* A reload that allows the address (the worker's next lookups see the new policy). */
	if (policy_release(f->st.policy))
		policy_free(f->st.policy);
	f->st.policy =
	    policy_load_string(allowed, strlen(allowed), "ip.yaml", 0, 1700000000, &errs);
	assert_non_null(f->st.policy);
	allocs = 0;
	assert_int_equal(worker_process(f->w, pkt, len, &f->cl, &ctx), QA_ANSWER);
	assert_int_equal(allocs, 0);
	assert_false(ctx.log);
	assert_int_equal(ctx.out_len, rlen);
}

/* The coalescing table's hash before it was seeded: FNV-1a over the key. */
static uint32_t fnv1a_key(const struct dns_query *q)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < q->name_len; i++)
		h = (h ^ q->name[i]) * 16777619u;
	h = (h ^ q->qtype) * 16777619u;
	h = (h ^ q->qclass) * 16777619u;
	return h ^ (uint32_t)(q->edns_do | q->cd << 1 | q->edns << 2) * 0x9e3779b1u;
}

#define FLOOD_NAMES 64

/*
 * Names crafted to share one bucket of the unseeded hash (found here by trial, as an attacker
 * would) spread over the buckets once the hash is seeded, whatever the seed.
 */
/*
 * Retro-hunt on: forwarded, cached and log-only lookups go to the worker's ring, blocked ones
 * do not; so do the addresses of a cached answer served, not those of one blocked by its
 * address; and recording allocates nothing.
 */
static void retro_recording_allocates_nothing(void **state)
{
	static const uint8_t answer[] = {0xc0, 0x0c, 0, 1, 0,	1, 0, 0,
					 0x01, 0x2c, 0, 4, 192, 0, 2, 10};
	static const char ip_list[] = "block: [{ip: 192.0.2.0/24}]\n";
	struct fixture *f = *state;
	struct retro_ring rg = {.size = RETRO_RING};
	struct retro r = {.rings = &rg, .n_rings = 1};
	struct parse_errs errs = {0};
	const struct retro_ev *e;
	struct query_ctx ctx;
	uint8_t pkt[512], reply[512];
	int64_t t_ms;
	size_t len, h;

	rg.ev = calloc(RETRO_RING, sizeof(*rg.ev));
	assert_non_null(rg.ev);
	f->w->retro = &r;
	allocs = 0;
	len = make_query(pkt, "Example.ORG", DNS_T_A, false);
	assert_int_equal(worker_process(f->w, pkt, len, &f->cl, &ctx), QA_FORWARD);
	t_ms = ctx.t_ms;
	len = make_query(pkt, "x.watch.example", DNS_T_A, false);
	assert_int_equal(worker_process(f->w, pkt, len, &f->cl, &ctx), QA_FORWARD);
	len = make_query(pkt, "www.mobile1.com", DNS_T_A, false);
	assert_int_equal(worker_process(f->w, pkt, len, &f->cl, &ctx), QA_ANSWER);
	assert_int_equal(allocs, 0);
	assert_int_equal(atomic_load(&rg.head), 2);
	assert_int_equal(rg.ev[0].len, 13); /* example.org, canonical */
	assert_memory_equal(rg.ev[0].name, "\7example\3org", 13);
	assert_int_equal(rg.ev[0].family, AF_INET);
	assert_int_equal(rg.ev[0].t_ms, t_ms);

	/* A cache hit: the lookup, then the answer's address with the name. */
	len = make_query(pkt, "Example.ORG", DNS_T_A, false);
	assert_int_equal(worker_process(f->w, pkt, len, &f->cl, &ctx), QA_FORWARD);
	memcpy(reply, pkt, len);
	reply[2] |= 0x80;
	reply[3] |= 0x80;
	reply[7] = 1;
	memcpy(reply + len, answer, sizeof(answer));
	worker_upstream_result(f->w, &ctx.q, reply, len + sizeof(answer));
	h = atomic_load(&rg.head);
	allocs = 0;
	assert_int_equal(worker_process(f->w, pkt, len, &f->cl, &ctx), QA_ANSWER);
	assert_int_equal(allocs, 0);
	assert_int_equal(atomic_load(&rg.head), h + 2);
	assert_int_equal(rg.ev[h].kind, RETRO_EV_NAME);
	e = &rg.ev[h + 1];
	assert_int_equal(e->kind, RETRO_EV_ANSWER);
	assert_int_equal(e->len, 13);
	assert_memory_equal(e->name, "\7example\3org", 13);
	assert_int_equal(e->family, AF_INET);
	assert_int_equal(e->n_ans, 1);
	assert_int_equal(e->ans_family[0], AF_INET);
	assert_memory_equal(e->ans[0], answer + 12, 4);

	/* Blocked by its address (192.0.2.10 listed since): the lookup only. */
	if (policy_release(f->st.policy))
		policy_free(f->st.policy);
	f->st.policy =
	    policy_load_string(ip_list, strlen(ip_list), "ip.yaml", 0, 1700000000, &errs);
	assert_non_null(f->st.policy);
	h = atomic_load(&rg.head);
	allocs = 0;
	assert_int_equal(worker_process(f->w, pkt, len, &f->cl, &ctx), QA_ANSWER);
	assert_int_equal(allocs, 0);
	assert_true(ctx.log);
	assert_int_equal(ctx.rec.via, BLOCKLOG_VIA_IP);
	assert_int_equal(atomic_load(&rg.head), h + 1);
	assert_int_equal(rg.ev[h].kind, RETRO_EV_NAME);
	f->w->retro = NULL;
	free(rg.ev);
}

static void coalescing_hash_is_seeded(void **state)
{
	static struct dns_query qs[FLOOD_NAMES];
	static uint8_t pkts[FLOOD_NAMES][64];
	unsigned found = 0;

	(void)state;
	for (unsigned i = 0; found < FLOOD_NAMES && i < 10000000; i++) {
		char name[32];
		size_t len;

		snprintf(name, sizeof(name), "x%u.flood.example", i);
		len = make_query(pkts[found], name, DNS_T_A, false);
		assert_int_equal(dnsmsg_parse_query(pkts[found], len, &qs[found]), QUERY_OK);
		if ((fnv1a_key(&qs[found]) & (WORKER_LEADER_BUCKETS - 1)) == 0)
			found++;
	}
	assert_int_equal(found, FLOOD_NAMES);
	for (unsigned s = 0; s < 4; s++) {
		uint64_t seed = s < 3 ? hash_seed() : 0;
		unsigned count[WORKER_LEADER_BUCKETS] = {0}, used = 0, most = 0;

		for (unsigned i = 0; i < FLOOD_NAMES; i++) {
			unsigned b = upstream_key_hash(&qs[i], seed) & (WORKER_LEADER_BUCKETS - 1);

			used += count[b]++ == 0;
			most = count[b] > most ? count[b] : most;
		}
		/* 64 keys in 1024 buckets: about 62 buckets used; 4 in one is already rare. */
		assert_true(used >= FLOOD_NAMES / 2);
		assert_true(most <= 4);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(blocked_query_allocates_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(blocklog_submit_allocates_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(forward_and_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(cache_hit_allocates_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(query_log_and_aggregation_allocate_nothing, setup,
						teardown),
		cmocka_unit_test_setup_teardown(rpz_answers_allocate_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(cname_inspection_allocates_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(ip_inspection_allocates_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(retro_recording_allocates_nothing, setup, teardown),
		cmocka_unit_test(coalescing_hash_is_seeded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
