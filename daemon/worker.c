/* SPDX-License-Identifier: MIT */
#include "worker.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "acl.h"
#include "addr.h"
#include "blocklog.h"
#include "cache.h"
#include "listen_tcp.h"
#include "listen_udp.h"
#include "log.h"
#include "logagg.h"
#include "metrics.h"
#include "ratelimit.h"
#include "retro.h"
#include "upstream.h"
#include "util.h"
#include "util/hash.h"

/* How long a stopping worker waits for queries in flight (DESIGN.md section 2). */
#define STOP_GRACE_MS 2000
/*
 * Block-log records pending aggregation per worker (logagg.h): distinct (client, name, type,
 * entry, action) keys within one window. About 1.3 MiB per worker.
 */
#define AGG_SLOTS 2048
/* The aggregation timer runs every quarter window, within these bounds (ms). */
#define AGG_PERIOD_MIN 10
#define AGG_PERIOD_MAX 250

static struct wstate *wstate_new(struct worker *w, struct state *st)
{
	struct wstate *ws = malloc(sizeof(*ws));

	if (ws) {
		ws->st = st;
		ws->users = 1;
		metrics_map_labels(w->metrics, st->cfg, ws->list_slot, ws->upstream_slot);
	}
	return ws;
}

struct wstate *worker_hold_state(struct worker *w)
{
	w->cur->users++;
	return w->cur;
}

void worker_drop_state(struct worker *w, struct wstate *ws)
{
	REQUIRE(ws->users > 0);
	if (--ws->users > 0)
		return;
	state_release(ws->st, w->retire, w->retire_arg);
	free(ws);
}

#define RATELIMIT_CLIENTS 16384

/*
 * Copy what the cache counted since the last call into the worker's counters (the cache is
 * the worker's, so its own numbers are not for other threads to read). After every change
 * to the cache; a cache dropped by a reload keeps what it counted.
 */
static void sync_cache_stats(struct worker *w)
{
	struct worker_stats *s = &w->stats;
	struct cache_stats cs = {0};

	if (w->cache)
		cache_get_stats(w->cache, &cs);
	STAT_ADD_AT(s, cache_inserts, 0, cs.stores - s->cache_seen_inserts);
	STAT_ADD_AT(s, cache_evictions, 0, cs.evictions - s->cache_seen_evictions);
	STAT_SET(s, cache_bytes, cs.bytes);
	s->cache_seen_inserts = cs.stores;
	s->cache_seen_evictions = cs.evictions;
}

/* ---- the block log's aggregation and the query log ---- */

static int64_t now_ms(void);

/* Hand a record to the block log's ring; a full ring drops it (counted there, with its events). */
static void emit_block(void *arg, const struct blocklog_rec *r)
{
	struct worker *w = arg;

	blocklog_submit(w->blocklog, w->id, r);
}

/* Emit every pending aggregate: before the state whose entries they borrow goes, and on stop. */
static void agg_flush_all(struct worker *w)
{
	if (w->agg)
		logagg_flush(w->agg, INT64_MAX, 0, emit_block, w);
}

static void on_agg_timer(uv_timer_t *t)
{
	struct worker *w = t->data;
	unsigned window = w->cur->st->cfg->aggregate_ms;

	logagg_flush(w->agg, now_ms(), window ? window : 1, emit_block, w);
}

/* Start, retime or stop the aggregation to match block_log.aggregate_ms (not on the query path). */
static void apply_agg(struct worker *w, const struct config *cfg)
{
	unsigned period = cfg->aggregate_ms / 4;

	if (cfg->aggregate_ms == 0) {
		/* Nothing is pending (flushed at the switch of state): the timer can stop. */
		if (w->agg_period_ms)
			uv_timer_stop(&w->agg_timer);
		w->agg_period_ms = 0;
		return;
	}
	if (!w->agg) {
		w->agg = logagg_new(AGG_SLOTS, hash_seed());
		if (!w->agg) {
			log_err("worker",
				"worker %u: cannot allocate the block-log aggregation table", w->id);
			return;
		}
	}
	period = period < AGG_PERIOD_MIN ? AGG_PERIOD_MIN : period;
	period = period > AGG_PERIOD_MAX ? AGG_PERIOD_MAX : period;
	if (period != w->agg_period_ms) {
		uv_timer_start(&w->agg_timer, on_agg_timer, period, period);
		w->agg_period_ms = period;
	}
}

/*
 * A block-log record: counted in a pending record of identical lookups when aggregation is on
 * and its entry belongs to the current state (the pending ones all do: they are flushed before
 * that state is let go), else straight to the ring.
 */
static void submit_log(struct worker *w, const struct wstate *ws, const struct blocklog_rec *r)
{
	unsigned window = ws->st->cfg->aggregate_ms;

	if (window && w->agg && ws == w->cur) {
		switch (logagg_add(w->agg, r, window, emit_block, w)) {
		case LOGAGG_MERGED:
			STAT_INC(w, blocklog_aggregated);
			return;
		case LOGAGG_STORED:
			return;
		case LOGAGG_FULL:
			STAT_INC(w, blocklog_aggregate_full);
			break;
		}
	}
	blocklog_submit(w->blocklog, w->id, r);
}

/* name (canonical wire form, len bytes) is ex or under it. */
static bool name_under(const uint8_t *name, size_t len, const struct wire_name *ex)
{
	for (size_t off = 0; off < len && len - off >= ex->len; off += (size_t)name[off] + 1) {
		if (len - off == ex->len && memcmp(name + off, ex->name, ex->len) == 0)
			return true;
		if (name[off] == 0)
			break;
	}
	return false;
}

/*
 * Whether the query log takes q from cl: not under an excluded name, and within the sampled
 * share. Sampling compares a hash of the query (ID, client port, type, name) with the share:
 * stateless, and, unlike every n-th query, blind to the order of queries (a client's A and
 * AAAA pairs would otherwise always fall on the same side). Keyed with the worker's random
 * seed, so that a client cannot choose queries that escape the sample.
 */
static bool qlog_wants(const struct worker *w, const struct query_log_conf *qc,
		       const struct dns_query *q, const struct client *cl)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&cl->addr;
	uint64_t key;

	for (size_t i = 0; i < qc->n_exclude; i++)
		if (name_under(q->name, q->name_len, &qc->exclude[i]))
			return false;
	if (qc->sample_step >= 1ull << 32)
		return true;
	/* sin_port and sin6_port are at the same offset. */
	key = (uint64_t)q->id << 32 | (uint64_t)sin->sin_port << 16 | q->qtype;
	return hash_bytes_seeded(q->name, q->name_len, key ^ w->key_seed) >> 32 < qc->sample_step;
}

/* Keep the first keep bits of addr (bytes long), zero the rest. */
static void truncate_addr(uint8_t *addr, unsigned bytes, unsigned keep)
{
	for (unsigned i = 0; i < bytes; i++) {
		unsigned bits = keep > i * 8 ? keep - i * 8 : 0;

		if (bits < 8)
			addr[i] &= (uint8_t)(0xff00u >> bits);
	}
}

/* The query log's copy of r (modified: one event, client anonymized as configured). */
static void qlog_submit(struct worker *w, const struct query_log_conf *qc, struct blocklog_rec *r)
{
	r->count = 0;
	if (r->src_family == AF_INET && qc->ipv4_prefix < 32)
		truncate_addr(r->src_addr, 4, qc->ipv4_prefix);
	else if (r->src_family == AF_INET6 && qc->ipv6_prefix < 128)
		truncate_addr(r->src_addr, 16, qc->ipv6_prefix);
	/* A full ring drops the record (counted by the query log): the block log is not touched. */
	blocklog_submit(w->querylog, w->id, r);
}

/* Create, resize or drop the worker's cache and rate limiter to match the config. */
static void apply_conf(struct worker *w, const struct config *cfg)
{
	const struct cache_conf *cc = &cfg->cache;

	if (cfg->rate_limit.qps > 0 && !w->ratelimit) {
		w->ratelimit = ratelimit_new(RATELIMIT_CLIENTS);
		if (!w->ratelimit)
			log_err("worker", "worker %u: cannot allocate the rate limiter", w->id);
	}
	if (!cc->enabled) {
		sync_cache_stats(w);
		cache_free(w->cache);
		w->cache = NULL;
	} else if (w->cache) {
		cache_reconfigure(w->cache, cc);
	} else {
		w->cache = cache_new(cc);
		if (!w->cache)
			log_err("worker", "worker %u: cannot allocate the cache", w->id);
		/* A new cache counts from zero. */
		w->stats.cache_seen_inserts = w->stats.cache_seen_evictions = 0;
	}
	sync_cache_stats(w);
	if (w->loop_ready)
		apply_agg(w, cfg);
}

/* Adopt the state waiting in the mailbox, if any. Queries in flight keep the old one. */
static void adopt_state(struct worker *w)
{
	struct state *st = atomic_exchange(&w->mailbox, NULL);
	struct wstate *ws;

	if (!st)
		return;
	ws = wstate_new(w, st);
	if (!ws) {
		/* Keep serving with the old state rather than fail; the next reload retries. */
		log_err("worker", "worker %u: out of memory adopting new state", w->id);
		state_release(st, w->retire, w->retire_arg);
		return;
	}
	/* The pending aggregates borrow the entries of the state let go here. */
	agg_flush_all(w);
	worker_drop_state(w, w->cur);
	w->cur = ws;
	apply_conf(w, st->cfg);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A socket address in the block log's form; family 0 for none. */
static void rec_addr(const struct sockaddr_storage *ss, uint8_t *family, uint8_t addr[16],
		     uint16_t *port)
{
	*family = 0;
	*port = 0;
	if (!ss)
		return;
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;

		memcpy(addr, &s6->sin6_addr, 16);
		*port = ntohs(s6->sin6_port);
		*family = AF_INET6;
	} else if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;

		memcpy(addr, &s4->sin_addr, 4);
		*port = ntohs(s4->sin_port);
		*family = AF_INET;
	}
}

/* The record of a lookup that matched m: an `action: log` one until the caller says more. */
static void fill_log_record(struct blocklog_rec *r, const struct dns_query *q,
			    const struct client *cl, const struct policy_match *m, int64_t t_ms)
{
	r->time_ms = t_ms;
	rec_addr(&cl->addr, &r->src_family, r->src_addr, &r->src_port);
	rec_addr(cl->local, &r->dst_family, r->dst_addr, &r->dst_port);
	r->proto = cl->tr == TRANSPORT_TCP ? BLOCKLOG_TCP : BLOCKLOG_UDP;
	r->qtype = q->qtype;
	r->qclass = q->qclass;
	r->rd = q->rd;
	r->orig = BLOCKLOG_ORIG_LOG;
	r->txid = q->id;
	r->qname_len = q->name_len;
	memcpy(r->qname, q->name, q->name_len);
	r->rule_off = (uint8_t)(m->rule_off >= 0 ? m->rule_off : 0);
	r->via = BLOCKLOG_VIA_QNAME;
	r->matched_len = 0;
	r->meta = m->meta;
	r->ioc_id = m->ioc_id;
	r->count = 0;
	r->has_net = 0;
	r->unlisted = 0;
}

/* The query log's record of a lookup no entry matched (DvcOriginalAction orig). */
static void fill_query_record(struct blocklog_rec *r, const struct dns_query *q,
			      const struct client *cl, int64_t t_ms, uint8_t orig)
{
	static const struct policy_match none = {.verdict = VERDICT_PASS, .rule_off = -1};

	fill_log_record(r, q, cl, &none, t_ms);
	r->rule_off = r->qname_len;
	r->unlisted = 1;
	r->orig = orig;
	r->action = orig == BLOCKLOG_ORIG_RATELIMITED ? BLOCKLOG_BLOCKED : BLOCKLOG_ALLOWED;
}

/* DvcOriginalAction of a sinkhole answer: the entry's own answer, else sinkhole.mode. */
static uint8_t sinkhole_orig(const struct sinkhole_conf *conf, const struct ioc_meta *m)
{
	static const uint8_t by_mode[] = {
		[SINKHOLE_ADDRESS] = BLOCKLOG_ORIG_ADDRESS,
		[SINKHOLE_NXDOMAIN] = BLOCKLOG_ORIG_NXDOMAIN,
		[SINKHOLE_NODATA] = BLOCKLOG_ORIG_NODATA,
		[SINKHOLE_REFUSED] = BLOCKLOG_ORIG_REFUSED,
	};

	switch (m->answer) {
	case ANSWER_NXDOMAIN:
		return BLOCKLOG_ORIG_NXDOMAIN;
	case ANSWER_NODATA:
		return BLOCKLOG_ORIG_NODATA;
	case ANSWER_DROP:
		return BLOCKLOG_ORIG_DROP;
	case ANSWER_LOCAL:
		return BLOCKLOG_ORIG_LOCAL;
	case ANSWER_DEFAULT:
		break;
	}
	return by_mode[conf->mode];
}

/* Send an answer whose rcode slot (stats.h: the header's RCODE, 16 for BADVERS) is rcode. */
static void send_counted(struct worker *w, const struct client *cl, const uint8_t *data,
			 size_t len, unsigned rcode)
{
	if (len == 0)
		return;
	STAT_INC_AT(w, responses, rcode);
	if (cl->tr == TRANSPORT_UDP)
		listen_udp_send(cl->udp, (const struct sockaddr *)&cl->peer, data, len);
	else
		listen_tcp_send(cl->tcp, data, len);
}

void worker_send(struct worker *w, const struct client *cl, const uint8_t *data, size_t len)
{
	send_counted(w, cl, data, len, len > 3 ? data[3] & 0x0f : 0);
}

static size_t answer_limit(const struct dns_query *q, const struct client *cl)
{
	return cl->tr == TRANSPORT_UDP ? q->udp_limit : 65535;
}

static void answer_error(struct worker *w, const struct dns_query *q, const struct client *cl,
			 int rcode, int ede)
{
	size_t n = dnsmsg_answer_error(q, rcode, ede, w->abuf, sizeof(w->abuf));

	worker_send(w, cl, w->abuf, n);
}

/* What the block log says the sinkhole answered. */
static void sinkhole_result(const struct sinkhole_conf *sc, uint16_t qtype,
			    struct blocklog_rec *r)
{
	r->resp_family = 0;
	r->rcode = DNS_NOERROR;
	switch (sc->mode) {
	case SINKHOLE_ADDRESS:
		if (qtype == DNS_T_A) {
			r->resp_family = AF_INET;
			memcpy(r->resp_addr, sc->ipv4, 4);
		} else if (qtype == DNS_T_AAAA) {
			r->resp_family = AF_INET6;
			memcpy(r->resp_addr, sc->ipv6, 16);
		}
		break;
	case SINKHOLE_NXDOMAIN:
		r->rcode = DNS_NXDOMAIN;
		break;
	case SINKHOLE_NODATA:
		break;
	case SINKHOLE_REFUSED:
		r->rcode = DNS_REFUSED;
		break;
	}
}

/*
 * The sinkhole answer of entry m: the config's, or the entry's own (an RPZ action) in *out.
 * Returns false when the entry says to drop the query (no answer at all).
 */
static bool entry_sinkhole(const struct sinkhole_conf *conf, const struct ioc_meta *m,
			   uint16_t qtype, struct sinkhole_conf *out)
{
	*out = *conf;
	switch (m->answer) {
	case ANSWER_DEFAULT:
		break;
	case ANSWER_NXDOMAIN:
		out->mode = SINKHOLE_NXDOMAIN;
		break;
	case ANSWER_NODATA:
		out->mode = SINKHOLE_NODATA;
		break;
	case ANSWER_DROP:
		return false;
	case ANSWER_LOCAL:
		/* Address mode answers A with ipv4 and AAAA with ipv6: set only the one asked. */
		out->mode = SINKHOLE_NODATA;
		if (qtype == DNS_T_A && (m->local & LOCAL_IPV4)) {
			out->mode = SINKHOLE_ADDRESS;
			memcpy(out->ipv4, m->addrs->ipv4, sizeof(out->ipv4));
		} else if (qtype == DNS_T_AAAA && (m->local & LOCAL_IPV6)) {
			out->mode = SINKHOLE_ADDRESS;
			memcpy(out->ipv6, m->addrs->ipv6, sizeof(out->ipv6));
		}
		break;
	}
	return true;
}

/* What the block log says an upstream (or cached) answer was. */
static void reply_result(const uint8_t *reply, size_t len, struct blocklog_rec *r)
{
	int family;

	r->rcode = reply ? (uint8_t)dnsmsg_rcode(reply, len) : DNS_SERVFAIL;
	r->resp_family = 0;
	if (reply && dnsmsg_first_address(reply, len, &family, r->resp_addr))
		r->resp_family = (uint8_t)family;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * Charge the client's token bucket. Over the limit: REFUSED (answer built) or drop, counted,
 * reported at most once a minute per client; a blocked lookup is still logged, so the SOC
 * sees a beaconing host even when it floods.
 */
static bool rate_ok(struct worker *w, const struct config *cfg, const struct client *cl,
		    struct query_ctx *ctx)
{
	const struct sockaddr *sa = (const struct sockaddr *)&cl->addr;
	enum ratelimit_verdict v;

	v = ratelimit_check(w->ratelimit, &cfg->rate_limit, w->n_workers, sa, mono_ms());
	if (v == RATELIMIT_PASS)
		return true;
	STAT_INC(w, ratelimited);
	ctx->orig = BLOCKLOG_ORIG_RATELIMITED;
	if (cfg->rate_limit.action == RATELIMIT_DROP)
		STAT_INC_AT(w, dropped, DROP_RATELIMIT);
	if (v == RATELIMIT_LIMITED_LOG) {
		char a[64];
		addr_format(sa, a, sizeof(a));
		log_warn("ratelimit", "client %s is over %u queries/s: %s", a, cfg->rate_limit.qps,
			 cfg->rate_limit.action == RATELIMIT_DROP ? "dropping" : "refusing");
	}
	if (ctx->m.verdict == VERDICT_BLOCK) {
		fill_log_record(&ctx->rec, &ctx->q, cl, &ctx->m, ctx->t_ms);
		/* Dropped: a request with no response (no rcode); refused: REFUSED. */
		ctx->rec.action = cfg->rate_limit.action == RATELIMIT_DROP ? BLOCKLOG_DROPPED
									: BLOCKLOG_BLOCKED;
		ctx->rec.orig = BLOCKLOG_ORIG_RATELIMITED;
		ctx->rec.rcode = DNS_REFUSED;
		ctx->rec.resp_family = 0;
		ctx->log = true;
	}
	if (cfg->rate_limit.action == RATELIMIT_REFUSED)
		ctx->out_len = dnsmsg_answer_error(&ctx->q, DNS_REFUSED, DNS_EDE_NONE, w->abuf,
						   sizeof(w->abuf));
	return false;
}

/* A query matched entry m of a list: counted by the list's label slot, without strings. */
static inline void count_match(struct worker *w, const struct ioc_meta *m, enum stats_action a)
{
	unsigned idx = m->list < STATS_LIST_SLOTS ? m->list : STATS_LIST_SLOTS - 1;

	STAT_INC_AT(w, blocked, w->cur->list_slot[idx] * ACTIONS + a);
}

/*
 * What the config asks to inspect in answers (INSPECT_ flags): addresses only when some
 * prefix is listed.
 */
static unsigned inspect_what(const struct state *st)
{
	const struct sinkhole_conf *sc = &st->cfg->sinkhole;

	return (sc->inspect_cname ? INSPECT_NAMES : 0u) |
	       (sc->inspect_ip && policy_stats(st->policy)->block_ip ? INSPECT_ADDRS : 0u);
}

/*
 * Inspect the answer ans (len bytes) to q for what (INSPECT_ flags, inspect_what()), unless
 * that is nothing or the query name is allowed (an allowed name is never blocked by its
 * answer) or decided already. A listed target or address (BLOCK, or LOG when the query name
 * logs nothing itself) fills *r and is counted; its verdict is returned, else VERDICT_PASS.
 */
static enum verdict check_answer(struct worker *w, const struct state *st, unsigned what,
				 const struct dns_query *q, const struct client *cl,
				 const struct policy_match *qm, int64_t t_ms, const uint8_t *ans,
				 size_t len, struct blocklog_rec *r)
{
	unsigned an;
	struct answer_hit hit;
	enum verdict v;

	if (!what || qm->verdict == VERDICT_ALLOW || qm->verdict == VERDICT_BLOCK ||
	    len < q->question_end)
		return VERDICT_PASS;
	/* The answer's question is the client's (relayed or cached), so it ends where q's does. */
	an = dns_get16(ans + 6);
	v = policy_inspect_answer(st->policy, ans, len, q->question_end, an, what, t_ms / 1000,
				  &hit);
	if (v == VERDICT_PASS || (v == VERDICT_LOG && qm->verdict == VERDICT_LOG))
		return VERDICT_PASS;
	count_match(w, hit.m.meta, v == VERDICT_BLOCK ? ACTION_BLOCK : ACTION_LOG);
	fill_log_record(r, q, cl, &hit.m, t_ms);
	if (hit.family) {
		/* An IP indicator: the address found, and the listed prefix's length. */
		r->via = BLOCKLOG_VIA_IP;
		r->matched_len = hit.family == AF_INET ? 4 : 16;
		memcpy(r->matched, hit.addr, r->matched_len);
	} else {
		r->via = BLOCKLOG_VIA_CNAME;
		r->matched_len = hit.name_len;
		memcpy(r->matched, hit.name, hit.name_len);
	}
	return v;
}

/*
 * The sinkhole answer for q of entry meta, written to w->abuf (an answer in it is replaced),
 * and what *r says of it. Returns its length, 0 when the entry drops the query.
 */
static size_t sinkhole_for(struct worker *w, const struct config *cfg, const struct dns_query *q,
			   const struct client *cl, const struct ioc_meta *meta,
			   struct blocklog_rec *r)
{
	struct sinkhole_conf sc;

	r->orig = sinkhole_orig(&cfg->sinkhole, meta);
	if (!entry_sinkhole(&cfg->sinkhole, meta, q->qtype, &sc)) {
		STAT_INC_AT(w, dropped, DROP_POLICY);
		r->action = BLOCKLOG_DROPPED;
		r->rcode = DNS_NOERROR;
		r->resp_family = 0;
		return 0;
	}
	r->action = BLOCKLOG_BLOCKED;
	sinkhole_result(&sc, q->qtype, r);
	/* The SOA's owner is the query name: the listed name is not in the question. */
	return dnsmsg_answer_sinkhole(q, &sc, -1, w->abuf, sizeof(w->abuf), answer_limit(q, cl));
}

enum query_action worker_process(struct worker *w, const uint8_t *pkt, size_t len,
				 const struct client *cl, struct query_ctx *ctx)
{
	const struct state *st = w->cur->st;
	const struct config *cfg = st->cfg;
	struct dns_query *q = &ctx->q;
	struct sinkhole_conf sc;
	int rcode, ede = DNS_EDE_NONE;

	ctx->log = false;
	ctx->answered = false;
	ctx->out_len = 0;
	STAT_INC_AT(w, queries, cl->tr);
	switch (dnsmsg_parse_query(pkt, len, q)) {
	case QUERY_OK:
		break;
	case QUERY_DROP:
		STAT_INC_AT(w, dropped, DROP_MALFORMED);
		return QA_DROP;
	case QUERY_FORMERR:
		rcode = DNS_FORMERR;
		goto error;
	case QUERY_NOTIMP:
		rcode = DNS_NOTIMP;
		goto error;
	case QUERY_BADVERS:
		rcode = DNS_BADVERS;
		goto error;
	}
	if (!acl_match(cfg->acl, (const struct sockaddr *)&cl->addr)) {
		STAT_INC(w, acl_refused);
		rcode = DNS_REFUSED;
		ede = DNS_EDE_PROHIBITED;
		goto error;
	}
	ctx->t_ms = now_ms();
	ctx->answered = true; /* parsed and let in: what it is answered goes to the query log */
	ctx->orig = BLOCKLOG_ORIG_CACHE;
	/* The policy comes before the cache: a name blocked by a reload is never served from it. */
	policy_lookup(st->policy, q->name, q->name_len, ctx->t_ms / 1000, &ctx->m);
	if (cfg->rate_limit.qps > 0 && w->ratelimit && !rate_ok(w, cfg, cl, ctx))
		return cfg->rate_limit.action == RATELIMIT_DROP ? QA_DROP : QA_ANSWER;
	switch (ctx->m.verdict) {
	case VERDICT_BLOCK:
		count_match(w, ctx->m.meta, ACTION_BLOCK);
		fill_log_record(&ctx->rec, q, cl, &ctx->m, ctx->t_ms);
		ctx->rec.orig = sinkhole_orig(&cfg->sinkhole, ctx->m.meta);
		ctx->log = true;
		if (!entry_sinkhole(&cfg->sinkhole, ctx->m.meta, q->qtype, &sc)) {
			STAT_INC_AT(w, dropped, DROP_POLICY);
			ctx->rec.action = BLOCKLOG_DROPPED;
			ctx->rec.rcode = DNS_NOERROR;
			ctx->rec.resp_family = 0;
			return QA_DROP;
		}
		ctx->out_len = dnsmsg_answer_sinkhole(q, &sc, ctx->m.rule_off, w->abuf,
						      sizeof(w->abuf), answer_limit(q, cl));
		ctx->rec.action = BLOCKLOG_BLOCKED;
		sinkhole_result(&sc, q->qtype, &ctx->rec);
		return QA_ANSWER;
	case VERDICT_ALLOW:
		STAT_INC(w, allowed);
		break;
	case VERDICT_LOG:
		count_match(w, ctx->m.meta, ACTION_LOG);
		break;
	case VERDICT_PASS:
		break;
	}
	/* Not blocked: remembered for a list that names it later (retro.h). */
	if (w->retro)
		retro_record(w->retro, w->id, q->name, q->name_len, &cl->addr, ctx->t_ms);
	if (w->cache) {
		ctx->out_len = cache_lookup(w->cache, q, mono_ms(), w->abuf, sizeof(w->abuf),
					    answer_limit(q, cl));
		if (ctx->out_len == 0)
			STAT_INC(w, cache_misses);
		if (ctx->out_len > 0) {
			enum verdict v;
			unsigned what;

			STAT_INC(w, cache_hits);
			/*
			 * Against the current policy: a target or an address listed since it was
			 * cached is caught.
			 */
			what = inspect_what(st);
			v = ((what & INSPECT_NAMES) && cache_hit_has_alias(w->cache)) ||
				    ((what & INSPECT_ADDRS) && cache_hit_has_address(w->cache))
				? check_answer(w, st, what, q, cl, &ctx->m, ctx->t_ms, w->abuf,
					       ctx->out_len, &ctx->rec)
				: VERDICT_PASS;
			if (v == VERDICT_BLOCK) {
				ctx->log = true;
				ctx->out_len = sinkhole_for(w, cfg, q, cl, ctx->rec.meta, &ctx->rec);
				return ctx->out_len ? QA_ANSWER : QA_DROP;
			}
			/* Relayed: its addresses are remembered too (retro.h). */
			if (w->retro && cache_hit_has_address(w->cache))
				retro_record_answer(w->retro, w->id, q->name, q->name_len,
						    &cl->addr, ctx->t_ms, w->abuf, ctx->out_len,
						    q->question_end);
			if (v == VERDICT_LOG) {
				ctx->rec.action = BLOCKLOG_ALLOWED;
				reply_result(w->abuf, ctx->out_len, &ctx->rec);
				ctx->log = true;
				return QA_ANSWER;
			}
			if (ctx->m.verdict == VERDICT_LOG) {
				fill_log_record(&ctx->rec, q, cl, &ctx->m, ctx->t_ms);
				ctx->rec.action = BLOCKLOG_ALLOWED;
				reply_result(w->abuf, ctx->out_len, &ctx->rec);
				ctx->log = true;
			}
			return QA_ANSWER;
		}
	}
	return QA_FORWARD;
error:
	ctx->out_len = dnsmsg_answer_error(q, rcode, ede, w->abuf, sizeof(w->abuf));
	return QA_ANSWER;
}

void worker_batch_done(struct worker *w)
{
	if ((w->blocklog && blocklog_backlogged(w->blocklog, w->id)) ||
	    (w->querylog && blocklog_backlogged(w->querylog, w->id)))
		sched_yield();
}

void worker_log(struct worker *w, const struct client *cl, struct query_ctx *ctx)
{
	const struct query_log_conf *qc;

	if (ctx->log)
		submit_log(w, w->cur, &ctx->rec);
	if (likely(!w->querylog) || !ctx->answered || (!ctx->log && ctx->out_len == 0))
		return;
	qc = &w->cur->st->cfg->query_log;
	if ((ctx->log && !qc->matched) || !qlog_wants(w, qc, &ctx->q, cl))
		return;
	if (!ctx->log) {
		/* An unlisted (or allowed) name from the cache, or refused over the rate limit. */
		fill_query_record(&ctx->rec, &ctx->q, cl, ctx->t_ms, ctx->orig);
		reply_result(w->abuf, ctx->out_len, &ctx->rec);
	}
	qlog_submit(w, qc, &ctx->rec);
}

void worker_handle_query(struct worker *w, const uint8_t *pkt, size_t len,
			 const struct client *cl)
{
	struct query_ctx ctx;

	switch (worker_process(w, pkt, len, cl, &ctx)) {
	case QA_DROP:
		worker_log(w, cl, &ctx);
		return;
	case QA_ANSWER:
		/* Every answer to an EDNS version > 0 is BADVERS (its RCODE is partly in OPT). */
		send_counted(w, cl, w->abuf, ctx.out_len,
			     ctx.q.edns_version > 0 ? DNS_BADVERS : w->abuf[3] & 0x0f);
		worker_log(w, cl, &ctx);
		return;
	case QA_FORWARD:
		upstream_forward(w, &ctx.q, cl, &ctx.m, ctx.t_ms);
		return;
	}
}

/*
 * The records of a forwarded query, r with its DnsNetworkDuration (receipt to answer): to the
 * block log when it is a block-log record (block), and to the query log.
 */
static void forwarded_log(struct worker *w, struct query *qr, struct blocklog_rec *r, bool block)
{
	const struct query_log_conf *qc = &qr->ws->st->cfg->query_log;
	int64_t net = now_ms() - qr->recv_ms;

	r->net_ms = net < 0 ? 0 : net > UINT32_MAX ? UINT32_MAX : (uint32_t)net;
	r->has_net = 1;
	if (block)
		submit_log(w, qr->ws, r);
	if (w->querylog && (!block || qc->matched) && qlog_wants(w, qc, &qr->q, &qr->cl))
		qlog_submit(w, qc, r);
}

/* An upstream reply relayed to the client: its addresses are remembered (retro.h). */
static void remember_answer(struct worker *w, const struct query *qr, const uint8_t *reply,
			    size_t len)
{
	if (w->retro)
		retro_record_answer(w->retro, w->id, qr->q.name, qr->q.name_len, &qr->cl.addr,
				    qr->recv_ms, reply, len, qr->q.question_end);
}

void worker_query_done(struct query *qr, uint8_t *reply, size_t len, size_t cap)
{
	struct worker *w = qr->w;
	const struct dns_query *q = &qr->q;
	struct blocklog_rec r;

	if (reply) {
		switch (check_answer(w, qr->ws->st, inspect_what(qr->ws->st), q, &qr->cl, &qr->match,
				     qr->recv_ms, reply, len, &r)) {
		case VERDICT_BLOCK:
			/* r holds what the reply said; the reply (maybe in w->abuf) is not needed. */
			len = sinkhole_for(w, qr->ws->st->cfg, q, &qr->cl, r.meta, &r);
			worker_send(w, &qr->cl, w->abuf, len);
			forwarded_log(w, qr, &r, true);
			return;
		case VERDICT_LOG:
			remember_answer(w, qr, reply, len);
			r.action = BLOCKLOG_ALLOWED;
			reply_result(reply, len, &r);
			len = dnsmsg_relay_reply(reply, len, cap, q, answer_limit(q, &qr->cl));
			worker_send(w, &qr->cl, reply, len);
			forwarded_log(w, qr, &r, true);
			return;
		default:
			break;
		}
		remember_answer(w, qr, reply, len);
		len = dnsmsg_relay_reply(reply, len, cap, q, answer_limit(q, &qr->cl));
		worker_send(w, &qr->cl, reply, len);
	} else {
		answer_error(w, q, &qr->cl, DNS_SERVFAIL, DNS_EDE_NO_REACHABLE_AUTHORITY);
	}
	if (qr->match.verdict == VERDICT_LOG) {
		/* An `action: log` entry: the SOC sees the lookup and what the upstream said. */
		fill_log_record(&r, q, &qr->cl, &qr->match, qr->recv_ms);
		r.action = BLOCKLOG_ALLOWED;
		reply_result(reply, len, &r);
		forwarded_log(w, qr, &r, true);
		return;
	}
	if (likely(!w->querylog))
		return;
	fill_query_record(&r, q, &qr->cl, qr->recv_ms, BLOCKLOG_ORIG_FORWARD);
	reply_result(reply, len, &r);
	forwarded_log(w, qr, &r, false);
}

void worker_upstream_result(struct worker *w, const struct dns_query *q, const uint8_t *reply,
			    size_t len)
{
	if (!w->cache)
		return;
	if (reply && dnsmsg_rcode(reply, len) != DNS_SERVFAIL)
		cache_store(w->cache, q, reply, len, mono_ms());
	else
		cache_store_failure(w->cache, q, mono_ms());
	sync_cache_stats(w);
}

/* ---- lifecycle ---- */

static void close_all(struct worker *w);

static void on_stop_timer(uv_timer_t *t)
{
	struct worker *w = t->data;

	if (w->pending > 0)
		log_warn("worker", "worker %u: stopping with %u queries unanswered", w->id,
			 w->pending);
	close_all(w);
}

static void on_walk_close(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

static void close_all(struct worker *w)
{
	if (w->closed)
		return;
	w->closed = true;
	upstream_cancel_all(w);
	listen_tcp_close_all(w);
	for (size_t i = 0; i < w->n_udp; i++)
		listen_udp_close(w->udp[i]);
	w->n_udp = 0;
	/* No lookup comes any more: what is pending aggregation goes to the block log now. */
	agg_flush_all(w);
	uv_timer_stop(&w->agg_timer);
	uv_close((uv_handle_t *)&w->agg_timer, NULL);
	uv_timer_stop(&w->stop_timer);
	uv_close((uv_handle_t *)&w->stop_timer, NULL);
	uv_close((uv_handle_t *)&w->wake, NULL);
}

void worker_check_idle(struct worker *w)
{
	if (w->stopping && !w->closed && w->pending == 0 && w->tcp_clients == 0)
		close_all(w);
}

static void begin_stop(struct worker *w)
{
	if (w->stopping)
		return;
	w->stopping = true;
	/* Stop accepting; keep the sockets to send the answers still owed. */
	for (size_t i = 0; i < w->n_udp; i++)
		listen_udp_stop(w->udp[i]);
	for (size_t i = 0; i < w->n_tcp; i++)
		listen_tcp_stop(w->tcp[i]);
	w->n_tcp = 0;
	listen_tcp_drain(w);
	uv_timer_start(&w->stop_timer, on_stop_timer, STOP_GRACE_MS, 0);
	worker_check_idle(w);
}

static void on_wake(uv_async_t *a)
{
	struct worker *w = a->data;

	/* uv_async_send calls coalesce: read the state, don't count wake-ups. */
	if (atomic_load(&w->stop_requested)) {
		begin_stop(w);
		return;
	}
	adopt_state(w);
}

int worker_init(struct worker *w, unsigned id, struct state *st, struct blocklog *bl,
		const int *udp_fds, const int *tcp_fds, size_t n, state_retire_fn retire,
		void *retire_arg)
{
	int rc;

	w->id = id;
	w->blocklog = bl;
	w->retire = retire;
	w->retire_arg = retire_arg;
	w->key_seed = hash_seed();
	atomic_init(&w->mailbox, NULL);
	atomic_init(&w->stop_requested, false);
	w->cur = wstate_new(w, st);
	if (!w->cur) {
		state_release(st, retire, retire_arg);
		return -ENOMEM;
	}
	rc = uv_loop_init(&w->loop);
	if (rc < 0)
		return rc;
	w->loop_ready = true;
	uv_timer_init(&w->loop, &w->agg_timer);
	w->agg_timer.data = w;
	apply_conf(w, st->cfg);
	uv_async_init(&w->loop, &w->wake, on_wake);
	w->wake.data = w;
	uv_timer_init(&w->loop, &w->stop_timer);
	w->stop_timer.data = w;
	w->rbuf = malloc((size_t)WORKER_UDP_SLOT * WORKER_UDP_BATCH);
	if (!w->rbuf)
		return -ENOMEM;
	w->udp = calloc(n, sizeof(*w->udp));
	w->tcp = calloc(n, sizeof(*w->tcp));
	if (!w->udp || !w->tcp)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		w->udp[i] = listen_udp_start(w, udp_fds[i]);
		if (!w->udp[i])
			return -errno;
		w->n_udp++;
		w->tcp[i] = listen_tcp_start(w, tcp_fds[i]);
		if (!w->tcp[i])
			return -errno;
		w->n_tcp++;
	}
	return 0;
}

static void worker_main(void *arg)
{
	struct worker *w = arg;
	char name[16];

	/* In top -H, perf and /proc/PID/task/TID/comm. */
	snprintf(name, sizeof(name), "worker-%u", w->id);
	pthread_setname_np(pthread_self(), name);
	uv_run(&w->loop, UV_RUN_DEFAULT);
	if (w->on_exit)
		w->on_exit(w->on_exit_arg);
}

int worker_start(struct worker *w)
{
	return uv_thread_create(&w->thread, worker_main, w);
}

void worker_publish(struct worker *w, struct state *st)
{
	/* Whoever takes a state out of the mailbox owns its reference. */
	struct state *old = atomic_exchange(&w->mailbox, st);

	if (old)
		state_release(old, w->retire, w->retire_arg);
	uv_async_send(&w->wake);
}

void worker_request_stop(struct worker *w)
{
	atomic_store(&w->stop_requested, true);
	uv_async_send(&w->wake);
}

void worker_join(struct worker *w)
{
	uv_thread_join(&w->thread);
	worker_deinit(w);
}

void worker_deinit(struct worker *w)
{
	struct state *st;

	if (w->loop_ready) {
		/* Anything still open (an init that failed half way) is closed here. */
		upstream_cancel_all(w);
		listen_tcp_close_all(w);
		uv_walk(&w->loop, on_walk_close, NULL);
		uv_run(&w->loop, UV_RUN_DEFAULT);
		uv_loop_close(&w->loop);
		w->loop_ready = false;
	}
	st = atomic_exchange(&w->mailbox, NULL);
	if (st)
		state_release(st, w->retire, w->retire_arg);
	agg_flush_all(w); /* before the entries they borrow may go */
	logagg_free(w->agg);
	w->agg = NULL;
	if (w->cur)
		worker_drop_state(w, w->cur);
	w->cur = NULL;
	free(w->udp);
	free(w->tcp);
	free(w->rbuf);
	cache_free(w->cache);
	w->cache = NULL;
	ratelimit_free(w->ratelimit);
	w->ratelimit = NULL;
}
