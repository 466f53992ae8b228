/* SPDX-License-Identifier: MIT */
/**
 * The workers' counters, declared once (STATS_COUNTERS, an X-macro as dnsdist's
 * dnsdist-metrics.hh): that one list generates the per-worker struct, the sum over the
 * workers, the SIGUSR1 log line and the Prometheus text (metrics.c), so nothing is counted
 * that is never read.
 *
 * Each worker writes its own struct worker_stats, and only it: an increment is a relaxed
 * load and a relaxed store (no atomic read-modify-write, no shared cache line on the query
 * path). A reader on another thread (a scrape, SIGUSR1) loads each value relaxed: it may
 * miss the latest increments, never sees a torn value.
 */
#ifndef SINKHOLED_STATS_H
#define SINKHOLED_STATS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Lists told apart in sinkholed_blocked_total; the last slot takes the lists beyond. */
#define STATS_LIST_SLOTS 64
/** Upstreams told apart in sinkholed_upstream_queries_total; the last takes the rest. */
#define STATS_UPSTREAM_SLOTS 32

enum stats_type { STATS_COUNTER, STATS_GAUGE, STATS_HISTOGRAM };

/** sinkholed_dropped_total{reason}: queries left without an answer. */
enum stats_drop { DROP_MALFORMED, DROP_RATELIMIT, DROP_POLICY, DROP_REASONS };
/** sinkholed_forward_failures_total{reason}: SERVFAIL instead of a forwarded answer. */
enum stats_fail { FAIL_UPSTREAMS, FAIL_PENDING_FULL, FAIL_REASONS };
/** sinkholed_blocked_total{action}. */
enum stats_action { ACTION_BLOCK, ACTION_LOG, ACTIONS };
/** sinkholed_upstream_queries_total{result}: how one attempt at one upstream ended. */
enum stats_up_result { UP_OK, UP_TIMEOUT, UP_ERROR, UP_RESULTS };

/** Upper bounds of sinkholed_upstream_latency_seconds in microseconds (+Inf follows). */
#define STATS_LATENCY_BOUNDS_US                                                                    \
	500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000,      \
	    5000000
#define STATS_LATENCY_BUCKETS 13

/*
 * Label sets: the number of values (array slots) of each. The values' names are metrics.c's.
 * HIST: the buckets, then +Inf, then the sum (in microseconds).
 */
#define STATS_N_NONE 1
#define STATS_N_TRANSPORT 2 /* enum transport: udp, tcp */
#define STATS_N_RCODE 17    /* the header's RCODE 0-15, then 16 = BADVERS (EDNS) */
#define STATS_N_DROP DROP_REASONS
#define STATS_N_FAIL FAIL_REASONS
#define STATS_N_LIST_ACTION (STATS_LIST_SLOTS * ACTIONS)	    /* slot * ACTIONS + action */
#define STATS_N_UPSTREAM_RESULT (STATS_UPSTREAM_SLOTS * UP_RESULTS) /* slot * UP_RESULTS + r */
#define STATS_N_HIST (STATS_LATENCY_BUCKETS + 2)

/*
 * X(field, type, labels, metric name, help). The field names the SIGUSR1 log line's items.
 */
#define STATS_COUNTERS(X)                                                                          \
	X(queries, STATS_COUNTER, TRANSPORT, "sinkholed_queries_total",                            \
	  "DNS queries received from clients, by transport")                                       \
	X(responses, STATS_COUNTER, RCODE, "sinkholed_responses_total",                            \
	  "Responses sent to clients, by rcode")                                                   \
	X(dropped, STATS_COUNTER, DROP, "sinkholed_dropped_total",                                 \
	  "Queries left without an answer, by reason")                                             \
	X(blocked, STATS_COUNTER, LIST_ACTION, "sinkholed_blocked_total",                          \
	  "Queries that matched a block-list entry, by the entry's action and list")               \
	X(allowed, STATS_COUNTER, NONE, "sinkholed_allowed_total",                                 \
	  "Queries for a name on an allow list (never blocked)")                                   \
	X(acl_refused, STATS_COUNTER, NONE, "sinkholed_acl_refused_total",                         \
	  "Queries refused because the client is outside access.allow")                            \
	X(ratelimited, STATS_COUNTER, NONE, "sinkholed_ratelimited_total",                         \
	  "Queries over a client's rate limit (refused or dropped)")                               \
	X(cache_hits, STATS_COUNTER, NONE, "sinkholed_cache_hits_total",                           \
	  "Queries answered from the cache")                                                       \
	X(cache_misses, STATS_COUNTER, NONE, "sinkholed_cache_misses_total",                       \
	  "Cache lookups that found no answer")                                                    \
	X(cache_inserts, STATS_COUNTER, NONE, "sinkholed_cache_inserts_total",                     \
	  "Answers and failures stored in the cache")                                              \
	X(cache_evictions, STATS_COUNTER, NONE, "sinkholed_cache_evictions_total",                 \
	  "Cache entries evicted to make room")                                                    \
	X(cache_bytes, STATS_GAUGE, NONE, "sinkholed_cache_bytes",                                 \
	  "Bytes held by the caches of all workers")                                               \
	X(forwarded, STATS_COUNTER, NONE, "sinkholed_forwarded_total",                             \
	  "Queries sent upstream (one per distinct question in flight)")                           \
	X(coalesced, STATS_COUNTER, NONE, "sinkholed_coalesced_total",                             \
	  "Queries that waited for the answer to an identical one already upstream")               \
	X(forward_failures, STATS_COUNTER, FAIL, "sinkholed_forward_failures_total",               \
	  "Forwarded queries answered SERVFAIL, by reason")                                        \
	X(upstream_queries, STATS_COUNTER, UPSTREAM_RESULT, "sinkholed_upstream_queries_total",    \
	  "Attempts at an upstream, by upstream and result")                                       \
	X(upstream_latency, STATS_HISTOGRAM, HIST, "sinkholed_upstream_latency_seconds",           \
	  "Time from sending a query to an upstream to its accepted answer")                       \
	X(upstream_mismatched, STATS_COUNTER, NONE, "sinkholed_upstream_mismatched_total",         \
	  "Upstream replies ignored: wrong source, ID or question (RFC 5452)")                     \
	X(upstream_tcp_retries, STATS_COUNTER, NONE, "sinkholed_upstream_tcp_retries_total",       \
	  "Truncated upstream replies retried over TCP")                                           \
	X(tcp_refused, STATS_COUNTER, NONE, "sinkholed_tcp_refused_total",                         \
	  "Client TCP connections refused: over tcp.max_connections or tcp.max_per_client")         \
	X(blocklog_aggregated, STATS_COUNTER, NONE, "sinkholed_blocklog_aggregated_total",         \
	  "Lookups counted in the EventCount of an earlier identical block-log record")            \
	X(blocklog_aggregate_full, STATS_COUNTER, NONE, "sinkholed_blocklog_aggregate_full_total", \
	  "Block-log records written unaggregated: the worker's aggregation table had no room")

/** One worker's counters; written by that worker only. */
struct worker_stats {
#define STATS_FIELD(f, type, labels, name, help) _Atomic uint64_t f[STATS_N_##labels];
	STATS_COUNTERS(STATS_FIELD)
#undef STATS_FIELD
	/* The cache's own counters when last copied (worker-private). */
	uint64_t cache_seen_inserts, cache_seen_evictions;
};

/** The sum over the workers (plain numbers, same layout). */
struct stats_total {
#define STATS_FIELD(f, type, labels, name, help) uint64_t f[STATS_N_##labels];
	STATS_COUNTERS(STATS_FIELD)
#undef STATS_FIELD
};

/** Add n to slot i of counter field (worker thread only). */
#define STAT_ADD_AT(s, field, i, n)                                                                \
	atomic_store_explicit(&(s)->field[i],                                                      \
			      atomic_load_explicit(&(s)->field[i], memory_order_relaxed) + (n),    \
			      memory_order_relaxed)
/** Set gauge field to v (worker thread only). */
#define STAT_SET(s, field, v) atomic_store_explicit(&(s)->field[0], (v), memory_order_relaxed)
/** Count one in the worker's unlabelled counter field. */
#define STAT_INC(w, field) STAT_ADD_AT(&(w)->stats, field, 0, 1)
/** Count one in slot i of the worker's labelled counter field. */
#define STAT_INC_AT(w, field, i) STAT_ADD_AT(&(w)->stats, field, i, 1)

/** Add the counters of the n workers' stats v[0..n) into *out (zeroed first). */
void stats_sum(struct stats_total *out, const struct worker_stats *const *v, size_t n);
/** Record one upstream latency (microseconds) in s's histogram (worker thread only). */
void stats_observe_latency(struct worker_stats *s, uint64_t us);
/**
 * One line "queries N, responses N, ..." of the totals (labels summed; a histogram gives
 * its count) into buf. Returns buf.
 */
char *stats_format_line(const struct stats_total *t, char *buf, size_t len);

#endif
