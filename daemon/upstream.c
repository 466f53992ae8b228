/* SPDX-License-Identifier: MIT */
#include "upstream.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <uv.h>

#include "addr.h"
#include "listen_tcp.h"
#include "log.h"
#include "util.h"
#include "util/hash.h"

#define TCP_REPLY_MAX (2 + 65535)

/* One try at one upstream: a UDP exchange, possibly followed by a TCP one after TC=1. */
struct attempt {
	struct query *qr;
	const struct sockaddr *to;
	uv_udp_t udp;
	uv_udp_send_t send;
	uv_timer_t timer;
	uv_tcp_t tcp;
	uv_connect_t connect;
	uv_write_t write;
	unsigned handles; /**< initialised handles not yet closed */
	bool closing, udp_open, tcp_open;
	uint16_t id;
	uint8_t slot;	  /**< the upstream's label slot (stats.h) */
	uint64_t sent_ns; /**< uv_hrtime() when the query went out: the latency's start */
	uint8_t *rbuf; /**< TCP reply being read */
	size_t rlen;
	size_t qlen;	/**< bytes of the query after the 2-byte TCP length */
	uint8_t out[];	/**< 2-byte length + the query sent upstream */
};

static void attempt_start(struct query *qr);

/* ---- coalescing of identical queries in flight ---- */

uint32_t upstream_key_hash(const struct dns_query *q, uint64_t seed)
{
	uint64_t h = hash_bytes_seeded(q->name, q->name_len, seed);
	uint64_t rest = (uint64_t)q->qtype << 32 | (uint64_t)q->qclass << 16 |
			(uint64_t)(q->edns_do | q->cd << 1 | q->edns << 2);

	/* Seeded: the names are the client's choice, and must not be made to share a bucket. */
	h = hash_mum(h ^ rest, seed ^ HASH_K2);
	return (uint32_t)(h ^ h >> 32);
}

static bool same_key(const struct dns_query *a, const struct dns_query *b)
{
	return a->name_len == b->name_len && a->qtype == b->qtype && a->qclass == b->qclass &&
	       a->edns_do == b->edns_do && a->cd == b->cd && a->edns == b->edns &&
	       memcmp(a->name, b->name, a->name_len) == 0;
}

static struct query **bucket(struct worker *w, uint32_t hash)
{
	return &w->leaders[hash & (WORKER_LEADER_BUCKETS - 1)];
}

static struct query *find_leader(struct worker *w, const struct dns_query *q, uint32_t hash)
{
	struct query *l;

	for (l = *bucket(w, hash); l; l = l->hnext)
		if (l->key_hash == hash && same_key(&l->q, q))
			return l;
	return NULL;
}

static void leader_remove(struct query *qr)
{
	struct query **pp;

	if (!qr->in_table)
		return;
	for (pp = bucket(qr->w, qr->key_hash); *pp; pp = &(*pp)->hnext) {
		if (*pp == qr) {
			*pp = qr->hnext;
			break;
		}
	}
	qr->in_table = false;
}

static void query_unref(struct query *qr)
{
	struct worker *w = qr->w;

	REQUIRE(qr->refs > 0);
	if (--qr->refs > 0)
		return;
	if (qr->prev)
		qr->prev->next = qr->next;
	else
		w->queries = qr->next;
	if (qr->next)
		qr->next->prev = qr->prev;
	if (qr->cl.tr == TRANSPORT_TCP)
		listen_tcp_release(qr->cl.tcp);
	worker_drop_state(w, qr->ws);
	free(qr);
	w->pending--;
	worker_check_idle(w);
}

static void on_attempt_close(uv_handle_t *h)
{
	struct attempt *att = h->data;

	if (--att->handles > 0)
		return;
	query_unref(att->qr);
	free(att->rbuf);
	free(att);
}

/* Close the attempt's handles; it frees itself (and drops its query ref) when all are closed. */
static void attempt_close(struct attempt *att)
{
	if (att->closing)
		return;
	att->closing = true;
	if (att->qr->att == att)
		att->qr->att = NULL;
	uv_timer_stop(&att->timer);
	uv_close((uv_handle_t *)&att->timer, on_attempt_close);
	if (att->udp_open)
		uv_close((uv_handle_t *)&att->udp, on_attempt_close);
	if (att->tcp_open)
		uv_close((uv_handle_t *)&att->tcp, on_attempt_close);
}

/*
 * The query is answered (reply) or has failed everywhere (reply NULL): answer its followers
 * (each from a copy, since relaying rewrites ID and question case), then the leader itself.
 */
static void query_finish(struct query *qr, uint8_t *reply, size_t len, size_t cap)
{
	struct worker *w = qr->w;
	struct query *f, *next;

	qr->done = true;
	leader_remove(qr);
	worker_upstream_result(w, &qr->q, reply, len);
	for (f = qr->followers; f; f = next) {
		next = f->fnext;
		f->done = true;
		if (reply && len <= sizeof(w->abuf)) {
			memcpy(w->abuf, reply, len);
			worker_query_done(f, w->abuf, len, sizeof(w->abuf));
		} else {
			worker_query_done(f, NULL, 0, 0);
		}
		query_unref(f);
	}
	qr->followers = NULL;
	worker_query_done(qr, reply, len, cap);
	query_unref(qr); /* the in-flight reference */
}

/* How the attempt ended, counted by upstream and result. */
static void count_result(struct attempt *att, enum stats_up_result r)
{
	STAT_INC_AT(att->qr->w, upstream_queries, att->slot * UP_RESULTS + r);
}

/* This upstream did not answer usefully: try the next one, or give up. */
static void attempt_fail(struct attempt *att, enum stats_up_result r, const char *why)
{
	struct query *qr = att->qr;

	count_result(att, r);
	if (log_enabled(LOG_DEBUG)) {
		char a[64];
		addr_format(att->to, a, sizeof(a));
		log_debug("upstream", "%s: %s", a, why);
	}
	attempt_close(att);
	qr->next_upstream++;
	attempt_start(qr);
}

static void attempt_done(struct attempt *att, uint8_t *reply, size_t len, size_t cap)
{
	struct query *qr = att->qr;

	count_result(att, UP_OK);
	stats_observe_latency(&qr->w->stats, (uv_hrtime() - att->sent_ns) / 1000);
	attempt_close(att);
	query_finish(qr, reply, len, cap);
}

static void on_timeout(uv_timer_t *t)
{
	struct attempt *att = t->data;

	attempt_fail(att, UP_TIMEOUT, "timed out");
}

/* ---- TCP (after a truncated UDP reply) ---- */

static void on_tcp_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct attempt *att = h->data;

	(void)suggested;
	if (!att->rbuf)
		att->rbuf = malloc(TCP_REPLY_MAX);
	if (!att->rbuf || att->rlen >= TCP_REPLY_MAX) {
		*buf = uv_buf_init(NULL, 0);
		return;
	}
	*buf = uv_buf_init((char *)att->rbuf + att->rlen, (unsigned)(TCP_REPLY_MAX - att->rlen));
}

static void on_tcp_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct attempt *att = s->data;
	size_t flen;

	(void)buf;
	if (att->closing || nread == 0)
		return;
	if (nread < 0) {
		attempt_fail(att, UP_ERROR,
			     nread == UV_EOF ? "TCP connection closed" : uv_strerror((int)nread));
		return;
	}
	att->rlen += (size_t)nread;
	if (att->rlen < 2)
		return;
	flen = dns_get16(att->rbuf);
	if (att->rlen < 2 + flen)
		return;
	if (!dnsmsg_reply_matches(att->rbuf + 2, flen, att->id, &att->qr->q)) {
		STAT_INC(att->qr->w, upstream_mismatched);
		attempt_fail(att, UP_ERROR, "TCP reply does not match the query");
		return;
	}
	attempt_done(att, att->rbuf + 2, flen, TCP_REPLY_MAX - 2);
}

static void on_tcp_write(uv_write_t *req, int status)
{
	struct attempt *att = req->data;

	if (status < 0 && !att->closing)
		attempt_fail(att, UP_ERROR, uv_strerror(status));
}

static void on_tcp_connect(uv_connect_t *req, int status)
{
	struct attempt *att = req->data;
	uv_buf_t b = uv_buf_init((char *)att->out, (unsigned)(att->qlen + 2));
	int rc;

	if (att->closing)
		return;
	if (status < 0) {
		attempt_fail(att, UP_ERROR, uv_strerror(status));
		return;
	}
	att->write.data = att;
	rc = uv_write(&att->write, (uv_stream_t *)&att->tcp, &b, 1, on_tcp_write);
	if (rc == 0)
		rc = uv_read_start((uv_stream_t *)&att->tcp, on_tcp_alloc, on_tcp_read);
	if (rc < 0)
		attempt_fail(att, UP_ERROR, uv_strerror(rc));
}

static void retry_over_tcp(struct attempt *att)
{
	struct query *qr = att->qr;
	int rc;

	STAT_INC(qr->w, upstream_tcp_retries);
	uv_udp_recv_stop(&att->udp);
	rc = uv_tcp_init(&qr->w->loop, &att->tcp);
	if (rc < 0) {
		attempt_fail(att, UP_ERROR, uv_strerror(rc));
		return;
	}
	att->tcp.data = att;
	att->tcp_open = true;
	att->handles++;
	att->connect.data = att;
	rc = uv_tcp_connect(&att->connect, &att->tcp, att->to, on_tcp_connect);
	if (rc < 0) {
		attempt_fail(att, UP_ERROR, uv_strerror(rc));
		return;
	}
	/* The TCP exchange gets a full timeout of its own. */
	uv_timer_start(&att->timer, on_timeout, qr->ws->st->cfg->upstream_timeout_ms, 0);
}

/* ---- UDP ---- */

static void on_udp_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct attempt *att = h->data;

	(void)suggested;
	/* The worker's receive buffer: a reply is consumed before the next read. */
	*buf = uv_buf_init((char *)att->qr->w->rbuf, WORKER_UDP_SLOT);
}

static void on_udp_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf,
			const struct sockaddr *from, unsigned flags)
{
	struct attempt *att = h->data;
	uint8_t *reply = (uint8_t *)buf->base;

	if (att->closing || att->tcp_open)
		return;
	if (nread < 0) {
		/* e.g. ECONNREFUSED from an ICMP port unreachable: nobody serves there. */
		attempt_fail(att, UP_ERROR, uv_strerror((int)nread));
		return;
	}
	if (nread == 0 || !from)
		return;
	if ((flags & UV_UDP_PARTIAL) || !addr_equal(from, att->to) ||
	    !dnsmsg_reply_matches(reply, (size_t)nread, att->id, &att->qr->q)) {
		/* Spoofing attempt or a late reply: ignore it and keep waiting (RFC 5452). */
		STAT_INC(att->qr->w, upstream_mismatched);
		return;
	}
	if (dnsmsg_is_truncated(reply, (size_t)nread)) {
		retry_over_tcp(att);
		return;
	}
	attempt_done(att, reply, (size_t)nread, WORKER_UDP_SLOT);
}

static void on_udp_send(uv_udp_send_t *req, int status)
{
	struct attempt *att = req->data;

	if (status < 0 && status != UV_ECANCELED && !att->closing)
		attempt_fail(att, UP_ERROR, uv_strerror(status));
}

/*
 * A random query ID (RFC 5452) from the kernel's CSPRNG. getrandom(2) is called for 256 IDs
 * at a time: one syscall per forwarded query saved (glibc's arc4random() makes one per call).
 */
static uint16_t random_id(struct worker *w)
{
	if (w->ids_left == 0) {
		if (getrandom(w->ids, sizeof(w->ids), 0) != (ssize_t)sizeof(w->ids))
			return (uint16_t)arc4random(); /* cannot fail for 512 bytes; just in case */
		w->ids_left = sizeof(w->ids) / sizeof(w->ids[0]);
	}
	return w->ids[--w->ids_left];
}

static void attempt_start(struct query *qr)
{
	struct worker *w = qr->w;
	const struct config *cfg = qr->ws->st->cfg;
	struct attempt *att;
	uv_buf_t b;
	int rc;

	if (qr->next_upstream >= cfg->n_upstreams) {
		STAT_INC_AT(w, forward_failures, FAIL_UPSTREAMS);
		query_finish(qr, NULL, 0, 0);
		return;
	}
	att = calloc(1, sizeof(*att) + 2 + qr->q.len);
	if (!att) {
		STAT_INC_AT(w, forward_failures, FAIL_UPSTREAMS);
		query_finish(qr, NULL, 0, 0);
		return;
	}
	att->qr = qr;
	att->to = (const struct sockaddr *)&cfg->upstreams[qr->next_upstream];
	att->slot = qr->ws->upstream_slot[qr->next_upstream < STATS_UPSTREAM_SLOTS
					      ? qr->next_upstream
					      : STATS_UPSTREAM_SLOTS - 1];
	att->sent_ns = uv_hrtime();
	att->id = random_id(w);
	att->qlen = dnsmsg_forward_query(&qr->q, att->id, att->out + 2, qr->q.len);
	dns_set16(att->out, (uint16_t)att->qlen);
	qr->att = att;
	qr->refs++;

	uv_timer_init(&w->loop, &att->timer);
	att->timer.data = att;
	att->handles = 1;
	rc = uv_udp_init(&w->loop, &att->udp);
	if (rc == 0) {
		att->udp.data = att;
		att->udp_open = true;
		att->handles++;
		/* Connecting binds a fresh ephemeral port (random source port, RFC 5452) and
		 * makes the kernel drop datagrams from any other address. */
		rc = uv_udp_connect(&att->udp, att->to);
	}
	if (rc == 0)
		rc = uv_udp_recv_start(&att->udp, on_udp_alloc, on_udp_recv);
	if (rc == 0) {
		att->send.data = att;
		b = uv_buf_init((char *)att->out + 2, (unsigned)att->qlen);
		rc = uv_udp_send(&att->send, &att->udp, &b, 1, NULL, on_udp_send);
	}
	if (rc == 0)
		rc = uv_timer_start(&att->timer, on_timeout, cfg->upstream_timeout_ms, 0);
	if (rc < 0)
		attempt_fail(att, UP_ERROR, uv_strerror(rc));
}

void upstream_forward(struct worker *w, const struct dns_query *q, const struct client *cl,
		      const struct policy_match *m, int64_t recv_ms)
{
	struct query *qr;

	if (w->pending >= w->cur->st->cfg->max_pending ||
	    !(qr = malloc(sizeof(*qr) + q->len))) {
		uint8_t *out = w->abuf;
		size_t n;

		STAT_INC_AT(w, forward_failures, FAIL_PENDING_FULL);
		n = dnsmsg_answer_error(q, DNS_SERVFAIL, DNS_EDE_NONE, out, sizeof(w->abuf));
		worker_send(w, cl, out, n);
		return;
	}
	memset(qr, 0, sizeof(*qr));
	memcpy(qr->pkt, q->pkt, q->len);
	qr->q = *q;
	qr->q.pkt = qr->pkt;
	qr->w = w;
	qr->cl = *cl;
	qr->match = *m;
	qr->recv_ms = recv_ms;
	qr->refs = 1;
	qr->ws = worker_hold_state(w);
	if (cl->tr == TRANSPORT_TCP)
		listen_tcp_hold(cl->tcp);
	qr->next = w->queries;
	if (w->queries)
		w->queries->prev = qr;
	w->queries = qr;
	w->pending++;

	qr->key_hash = upstream_key_hash(&qr->q, w->key_seed);
	qr->leader = find_leader(w, &qr->q, qr->key_hash);
	if (qr->leader) {
		/* The same question is already on its way upstream: wait for that answer. */
		STAT_INC(w, coalesced);
		qr->fnext = qr->leader->followers;
		qr->leader->followers = qr;
		return;
	}
	qr->hnext = *bucket(w, qr->key_hash);
	*bucket(w, qr->key_hash) = qr;
	qr->in_table = true;
	STAT_INC(w, forwarded);
	attempt_start(qr);
}

void upstream_cancel_all(struct worker *w)
{
	struct query *qr, *next;

	for (qr = w->queries; qr; qr = next) {
		next = qr->next;
		if (qr->done)
			continue;
		qr->done = true;
		leader_remove(qr);
		if (qr->att)
			attempt_close(qr->att);
		query_unref(qr); /* the in-flight reference: no answer */
	}
}
