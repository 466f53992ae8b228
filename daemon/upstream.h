/* SPDX-License-Identifier: MIT */
/**
 * Forwarding to the upstream resolvers (DESIGN.md section 5, RFC 5452): each attempt uses a
 * fresh random ID and a fresh socket (random source port, connected, so only the upstream's
 * address and port reach it); a reply is accepted only if ID and question match. A truncated
 * reply is retried over TCP; a timeout or error moves to the next upstream in order; when all
 * fail the client gets SERVFAIL. Pending state is bounded by max_pending and the timeouts.
 */
#ifndef SINKHOLED_UPSTREAM_H
#define SINKHOLED_UPSTREAM_H

#include <stddef.h>
#include <stdint.h>

#include "policy/policy.h"
#include "dnsmsg.h"
#include "worker.h"

struct attempt;

/** A client query being forwarded; owns a copy of the client's packet. */
struct query {
	struct worker *w;
	struct wstate *ws;	   /**< the state (upstreams, policy) this query started with */
	struct client cl;	   /**< where the answer goes */
	struct policy_match match; /**< VERDICT_LOG: logged when the answer comes */
	struct dns_query q;	   /**< q.pkt points to pkt */
	struct query *next, *prev; /**< the worker's queries in flight */
	struct attempt *att;	   /**< the current attempt, NULL when none */
	unsigned next_upstream;	   /**< index of the upstream the next attempt uses */
	/*
	 * Coalescing: the first query for a key (name, type, class, DO, CD, EDNS) leads and
	 * goes upstream; identical queries arriving meanwhile follow it and get its answer.
	 */
	struct query *leader;	   /**< the query this one follows, NULL for a leader */
	struct query *followers;   /**< a leader's followers (linked by fnext) */
	struct query *fnext;
	struct query *hnext;	   /**< chain in the worker's table of leaders */
	uint32_t key_hash;
	bool in_table;		   /**< a leader still in the worker's table */
	unsigned refs;		   /**< in flight + attempts not yet closed */
	bool done;		   /**< answered, failed or cancelled: no longer in flight */
	int64_t recv_ms;	   /**< Unix time of receipt, for the block log */
	uint8_t pkt[];
};

/**
 * Forward q (parsed from a packet the caller owns) for client cl; m is the policy decision
 * (VERDICT_LOG lookups are logged when the answer comes). Answers SERVFAIL at once when the
 * worker has max_pending queries in flight.
 */
void upstream_forward(struct worker *w, const struct dns_query *q, const struct client *cl,
		      const struct policy_match *m, int64_t recv_ms);
/**
 * The coalescing table's hash of q's key (name, type, class, DO, CD, EDNS), keyed by seed
 * (the worker's key_seed): names a client crafts cannot be made to share a bucket.
 */
uint32_t upstream_key_hash(const struct dns_query *q, uint64_t seed);
/** Abandon every query in flight (end of a graceful stop): no answer is sent. */
void upstream_cancel_all(struct worker *w);

#endif
