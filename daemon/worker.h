/* SPDX-License-Identifier: MIT */
/**
 * One worker thread: its libuv loop, its listeners (own SO_REUSEPORT sockets), its upstream
 * queries and its counters. The path of one query (DESIGN.md section 7) starts in
 * worker_handle_query(). Workers share nothing mutable: the main thread publishes new
 * state (config + policy) through a per-worker mailbox and wakes the loop.
 */
#ifndef SINKHOLED_WORKER_H
#define SINKHOLED_WORKER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "policy/policy.h"
#include "blocklog.h"
#include "config.h"
#include "dnsmsg.h"
#include "stats.h"
#include "state.h"

struct cache;
struct logagg;
struct metrics;
struct ratelimit;
struct retro;
struct udp_listener;
struct tcp_listener;
struct tcp_conn;
struct query;

#define WORKER_UDP_SLOT 65536
#define WORKER_UDP_BATCH 16
#define WORKER_LEADER_BUCKETS 1024

/** A worker's hold on a state, counted without atomics by the queries still using it. */
struct wstate {
	struct state *st;
	unsigned users; /**< the worker while current + its queries in flight */
	/** The label slots (stats.h) of the config's lists and upstreams, by their index. */
	uint8_t list_slot[STATS_LIST_SLOTS];
	uint8_t upstream_slot[STATS_UPSTREAM_SLOTS];
};

enum transport { TRANSPORT_UDP = 0, TRANSPORT_TCP = 1 };

/** Where an answer goes. For TCP the query holds a reference on conn. */
struct client {
	enum transport tr;
	/**
	 * The client: the peer, or the one a trusted proxy's PROXY header names. ACL, rate
	 * limit and the block log use it.
	 */
	struct sockaddr_storage addr;
	struct sockaddr_storage peer; /**< where UDP answers go: the peer that sent the query */
	/**
	 * Where the query arrived (the block log's Dst): the listener's bound address, a
	 * wildcard for a wildcard bind. Owned by the listener (UDP) or the connection (TCP),
	 * which outlive the query; NULL when not known.
	 */
	const struct sockaddr_storage *local;
	struct udp_listener *udp;
	struct tcp_conn *tcp;
};

struct worker {
	unsigned id;
	uv_thread_t thread;
	uv_loop_t loop;
	uv_async_t wake;	 /**< new state in the mailbox, or stop */
	uv_timer_t stop_timer;	 /**< bounds the graceful stop */
	struct blocklog *blocklog;
	/** The query log (a second block-log instance, own rings and writer); NULL when off */
	struct blocklog *querylog;
	/**
	 * block_log.aggregate_ms: identical lookups pending (logagg.h), all of them from cur's
	 * state; NULL until aggregation is on. Flushed by agg_timer, and in full before cur is let
	 * go and on stop.
	 */
	struct logagg *agg;
	uv_timer_t agg_timer;
	unsigned agg_period_ms;	 /**< agg_timer's period, 0 while stopped */
	struct cache *cache; /**< this worker's answer cache, NULL when disabled */
	struct ratelimit *ratelimit; /**< per-client buckets, NULL until rate_limit.qps > 0 */
	struct metrics *metrics; /**< names the label slots of new states; may be NULL */
	struct retro *retro; /**< retro-hunt: records this worker's lookups; NULL when off */
	unsigned n_workers;	     /**< workers sharing the clients (rate-limit share) */
	state_retire_fn retire;
	void *retire_arg;
	void (*on_exit)(void *arg); /**< called in the thread when its loop has ended */
	void *on_exit_arg;

	_Atomic(struct state *) mailbox; /**< next state (one ref), taken by the worker */
	atomic_bool stop_requested;
	bool stopping; /**< no new queries; finishing those in flight */
	bool closed;   /**< every handle is closing: the loop ends */
	bool loop_ready; /**< loop initialised (worker_deinit closes it) */

	struct wstate *cur; /**< state used for new queries */

	struct udp_listener **udp;
	size_t n_udp;
	struct tcp_listener **tcp;
	size_t n_tcp;
	unsigned tcp_clients;	    /**< open client connections */
	struct tcp_conn *tcp_conns; /**< their list (listen_tcp's) */

	unsigned pending;      /**< upstream queries in flight */
	struct query *queries; /**< their list (upstream's) */
	struct query *leaders[WORKER_LEADER_BUCKETS]; /**< in-flight leaders by key (upstream's) */
	/** random seed (hash_seed()) of the leaders' key hash and the query log's sample */
	uint64_t key_seed;
	uint16_t ids[256]; /**< random upstream query IDs from the kernel (upstream's) */
	unsigned ids_left; /**< unused entries at the front of ids */
	struct worker_stats stats; /**< written by this worker only (stats.h) */

	/**
	 * The reused UDP receive buffer: WORKER_UDP_BATCH slots of 64 KiB, so that libuv reads a
	 * batch of client datagrams with one recvmmsg(2). Upstream replies use the first slot.
	 */
	uint8_t *rbuf;
	uint8_t abuf[65536 + 2];  /**< scratch for synthesized answers */
};

/**
 * Set up a zeroed worker in the calling thread: its loop, and listeners wrapping the already
 * bound fds (udp_fds and tcp_fds, n each; the worker takes ownership). st: the initial state,
 * one reference taken over (even on failure). Returns 0 or a negative errno; after a failure
 * call worker_deinit().
 */
int worker_init(struct worker *w, unsigned id, struct state *st, struct blocklog *bl,
		const int *udp_fds, const int *tcp_fds, size_t n, state_retire_fn retire,
		void *retire_arg);
/** Start the worker thread running its loop. */
int worker_start(struct worker *w);
/** Hand a new state (one reference taken over) to the worker; thread-safe. */
void worker_publish(struct worker *w, struct state *st);
/** Ask for a graceful stop (stop reading, finish in-flight queries for up to 2 s). */
void worker_request_stop(struct worker *w);
/** Join the thread, then worker_deinit() (after worker_request_stop). */
void worker_join(struct worker *w);
/** Close whatever is open, free the loop's resources, drop the state references. */
void worker_deinit(struct worker *w);

/* Used by the listeners and upstream. */

enum query_action {
	QA_DROP,    /**< nothing to send */
	QA_ANSWER,  /**< the answer is in w->abuf (ctx->out_len bytes) */
	QA_FORWARD, /**< go upstream with ctx->q */
};

/** The outcome of worker_process() for one packet. */
struct query_ctx {
	struct dns_query q;	   /**< the parsed query (borrows the packet) */
	struct policy_match m;	   /**< the policy decision */
	int64_t t_ms;		   /**< Unix time of receipt, ms */
	size_t out_len;		   /**< QA_ANSWER: bytes in w->abuf */
	bool log;		   /**< rec is a block-log record to submit */
	/** Parsed and let in (not an error): its answer, if any, goes to the query log */
	bool answered;
	/** The query log's DvcOriginalAction when rec is no block-log record: CACHE, RATELIMITED */
	uint8_t orig;
	struct blocklog_rec rec;
};

/**
 * The I/O-free part of handling one query: parse, ACL, policy, sinkhole answer or cache hit.
 * Allocation-free, lock-free, no syscall (the clocks are vDSO reads).
 */
enum query_action worker_process(struct worker *w, const uint8_t *pkt, size_t len,
				 const struct client *cl, struct query_ctx *ctx);
/**
 * After worker_process() (anything but QA_FORWARD): hand its block-log record to the block
 * log, aggregated with identical lookups, and the query-log record of an answered query to the
 * query log. Allocation-free.
 */
void worker_log(struct worker *w, const struct client *cl, struct query_ctx *ctx);
/**
 * After a batch of queries is answered: when a log writer is falling behind (its ring from this
 * worker more than half full), give it the CPU (sched_yield). A writer that shares this
 * worker's core would otherwise only get its turn after the ring had overflowed and records had
 * been dropped; on a core of its own the yield returns at once. Nothing waits.
 */
void worker_batch_done(struct worker *w);
/**
 * Handle one query packet from a client: worker_process(), then send the answer and its
 * block-log record, or forward. pkt is only borrowed for the call.
 */
void worker_handle_query(struct worker *w, const uint8_t *pkt, size_t len,
			 const struct client *cl);
/** Send an answer to a client (UDP or TCP framing); data is copied if it must wait. */
void worker_send(struct worker *w, const struct client *cl, const uint8_t *data, size_t len);
/** A query's hold on the current state. */
struct wstate *worker_hold_state(struct worker *w);
/** Drop a hold taken by worker_hold_state. */
void worker_drop_state(struct worker *w, struct wstate *ws);
/**
 * A forwarded query is finished: answer the client with reply (len bytes in a buffer of cap
 * bytes, modified in place), or SERVFAIL when reply is NULL; log it if it was a VERDICT_LOG
 * lookup. Resources are upstream's to release.
 */
void worker_query_done(struct query *qr, uint8_t *reply, size_t len, size_t cap);
/**
 * The upstream outcome of a leader query, once for all the clients waiting for it: reply
 * (as received, len bytes) or NULL when every upstream failed. Feeds the cache.
 */
void worker_upstream_result(struct worker *w, const struct dns_query *q, const uint8_t *reply,
			    size_t len);
/** Called when the worker has nothing left in flight: lets a stopping worker finish. */
void worker_check_idle(struct worker *w);

#endif
