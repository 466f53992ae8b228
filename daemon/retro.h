/* SPDX-License-Identifier: MIT */
/**
 * Retro-hunt: a bounded memory of the lookups that were not blocked and of the addresses their
 * answers held, checked against the entries a reload adds, so that a domain or a prefix listed
 * today finds the clients that asked for it, or were answered with it, in the last
 * `retro_hunt.window` (README "Retro-hunt").
 *
 * Two halves:
 * - Each worker hands (client, name, time) to its own single-producer/single-consumer ring
 *   (retro_record), and for an answer it relays (client, name, time, the first
 *   RETRO_ANSWER_ADDRS A/AAAA addresses) (retro_record_answer): a copy and a release store,
 *   no lock, no allocation, never blocking (a full ring drops and counts).
 * - A thread of its own drains the rings into the store, a table of (client, key) pairs with
 *   a count and the first and last lookup, keys kept once per generation as bytes: a name, or
 *   an address with the name it answered (an address key); and, when a reload publishes a new
 *   state, matches the store against the entries the new policy lists and the previous one
 *   did not, writing one block-log record per (client, rule).
 *
 * The store is RETRO_GENS generations of fixed size allocated up front: memory never grows.
 * A generation is closed when it is full or spans window / (RETRO_GENS - 1); opening a new
 * one drops the oldest. Lookups older than the window are never reported.
 */
#ifndef SINKHOLED_RETRO_H
#define SINKHOLED_RETRO_H

#include <netinet/in.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "config.h"
#include "dnsmsg.h"
#include "state.h"

struct blocklog;
struct policy;

#define RETRO_GENS 8

/* ---- the store (one thread) ---- */

struct retro_store;

/** A hash of a name (canonical wire form, len bytes) keyed by seed; tests may substitute one. */
typedef uint64_t (*retro_hash_fn)(const uint8_t *name, size_t len, uint64_t seed);

/**
 * A store of memory bytes in all (allocated now, never more) for lookups up to window_s old.
 * NULL on ENOMEM or when memory is too small for one pair per generation.
 */
struct retro_store *retro_store_new(size_t memory, unsigned window_s, uint64_t seed);
/** NULL-safe. */
void retro_store_free(struct retro_store *s);
/** Replace the name hash (tests: crafted collisions). Only on an empty store. */
void retro_store_set_hash(struct retro_store *s, retro_hash_fn fn);
/**
 * Remember one lookup of name (canonical wire form, len bytes) by the client family/addr
 * (AF_INET: 4 bytes used, AF_INET6: 16) at t_ms (Unix ms). May drop the oldest generation.
 */
void retro_store_add(struct retro_store *s, const uint8_t *name, size_t len, int family,
		     const uint8_t *addr, int64_t t_ms);
/** Bytes allocated by the store (never more than the memory it was made with). */
size_t retro_store_memory(const struct retro_store *s);
/**
 * Seconds of history the store covers at now_ms: back to its oldest generation's start (or
 * the first lookup), at most the window.
 */
int64_t retro_store_span(const struct retro_store *s, int64_t now_ms);
/**
 * Remember that the client family/addr was answered, for name (canonical wire form, len
 * bytes), with the address ans (ans_family AF_INET: 4 bytes, AF_INET6: 16) at t_ms (Unix
 * ms). Kept as an address key of its own, in the same generations and memory as the names.
 */
void retro_store_add_addr(struct retro_store *s, const uint8_t *name, size_t len, int family,
			  const uint8_t *addr, int ans_family, const uint8_t *ans, int64_t t_ms);
/** Distinct (client, key) pairs held (names and addresses), summed over the generations. */
size_t retro_store_pairs(const struct retro_store *s);

/** One (client, newly listed rule) finding of retro_store_match. */
struct retro_finding {
	int family;		    /**< AF_INET or AF_INET6 */
	uint8_t addr[16];	    /**< the client */
	uint8_t name[DNS_MAX_NAME]; /**< the name it asked last (DnsQuery), canonical wire form */
	uint8_t name_len;
	/**
	 * A name's rule: RuleName = name from this offset. A prefix (ans_family set): its
	 * length, RuleName = ans_addr masked to it.
	 */
	uint8_t rule_off;
	/**
	 * 0 for a listed name. For a listed prefix (an IP indicator): AF_INET or AF_INET6, and
	 * ans_addr the address of it in the answer to the last lookup (DnsResponseName).
	 */
	uint8_t ans_family;
	uint8_t ans_addr[16];
	const struct ioc_meta *meta; /**< the entry, borrowed from the new policy */
	uint32_t ioc_id;	     /**< the entry's numeric IOC id, 0: none (policy_match) */
	/**
	 * lookups of the rule's names by the client; for a prefix, its addresses in the answers
	 * relayed to the client (an answer with two of them counts twice)
	 */
	uint32_t count;
	int64_t first_ms, last_ms;   /**< the first and last of them, Unix ms */
};

/** What one match found. */
struct retro_result {
	size_t new_entries; /**< names and prefixes the new policy lists that the old one did not */
	size_t clients;	    /**< distinct clients among the findings */
	size_t findings;    /**< (client, rule) pairs, one record each */
};

typedef void (*retro_emit_fn)(const struct retro_finding *f, void *arg);

/**
 * Match the store against the entries new_p lists (blocks and `action: log`, as policy_lookup
 * decides at now_ms) whose rule old_p did not list and under which old_p did not list the name
 * either; and the address keys against the prefixes new_p lists (policy_lookup_addr: an
 * allowed prefix wins) that old_p did not list and that did not list the address either,
 * unless new_p allows the name they answered (an allowed name is never blocked by its answer).
 * Lookups older than the window are left out. emit is called once per (client, rule) with the
 * lookups summed over the rule's names, or over the prefix's addresses and names. Returns 0,
 * or -ENOMEM (nothing emitted).
 */
int retro_store_match(struct retro_store *s, const struct policy *old_p, const struct policy *new_p,
		      int64_t now_ms, retro_emit_fn emit, void *arg, struct retro_result *res);

/** "2d 4h", "3h 5m", "42s": span in seconds, into buf. Returns buf. */
char *retro_format_span(int64_t span, char *buf, size_t len);

/* ---- the service: workers' rings, the thread ---- */

/** The largest ring: lookups per worker between two drains (a quarter of `memory` at most). */
#define RETRO_RING 4096
/** The A/AAAA addresses of one answer remembered at most: the first ones of its answer section. */
#define RETRO_ANSWER_ADDRS 4

enum retro_ev_kind {
	RETRO_EV_NAME = 0,   /**< a lookup of name */
	RETRO_EV_ANSWER = 1, /**< an answer to name relayed, holding the n_ans addresses */
};

/** One lookup, or the addresses of one answer, handed over by a worker. */
struct retro_ev {
	int64_t t_ms;
	uint8_t kind; /**< enum retro_ev_kind */
	uint8_t family;
	uint8_t len;
	uint8_t n_ans; /**< RETRO_EV_ANSWER: addresses in ans */
	uint8_t addr[16];
	uint8_t ans_family[RETRO_ANSWER_ADDRS]; /**< AF_INET (4 bytes of ans used) or AF_INET6 */
	uint8_t ans[RETRO_ANSWER_ADDRS][16];
	uint8_t name[DNS_MAX_NAME];
};

/** A worker's ring; the producer's and the consumer's indexes on their own cache lines. */
struct retro_ring {
	_Alignas(64) atomic_size_t head; /**< written by the worker */
	size_t tail_seen;		 /**< the worker's last read of tail */
	atomic_uint_least64_t dropped;	 /**< lookups and answers lost to a full ring */
	_Alignas(64) atomic_size_t tail; /**< written by the retro thread */
	struct retro_ev *ev;		 /**< size slots */
	size_t size;			 /**< a power of two, at most RETRO_RING */
};

struct retro {
	struct retro_ring *rings; /**< one per worker */
	unsigned n_rings;
	/* The rest is the thread's (retro.c). */
	struct retro_priv *priv;
};

/**
 * Start the retro-hunt for n_workers workers with cfg's retro_hunt. memory covers the rings
 * too: they take at most a quarter of it (RETRO_RING slots per worker at most, 256 at least).
 * Its records go to bl's ring producer (used by nobody else); states it is handed are released
 * with retire(arg). NULL on failure (logged).
 */
struct retro *retro_start(const struct retro_conf *cfg, unsigned n_workers, struct blocklog *bl,
			  unsigned producer, state_retire_fn retire, void *retire_arg);
/**
 * Stop the thread (a match in progress finishes), release the states of pending checks, free.
 * NULL-safe. No worker may record any more.
 */
void retro_stop(struct retro *r);
/**
 * A reload published new over old: check the lookups against what new lists and old did not,
 * in the retro thread. Takes over one reference on each. When a check is still waiting, it
 * becomes one from its old state to new (reloads faster than matching hold no more states).
 * Thread-safe.
 */
void retro_check(struct retro *r, struct state *old, struct state *new);
/** Seconds of history covered now (the metrics gauge); thread-safe. */
int64_t retro_span(const struct retro *r);
/** Lookups (and answers) dropped by full rings, and retro-hunt records written, since the start. */
uint64_t retro_dropped(const struct retro *r);
uint64_t retro_findings(const struct retro *r);

/**
 * The producer's next slot of rg (head h), or NULL when the ring is full (counted).
 * retro_ring_commit() hands it over. The worker's side only.
 */
static inline struct retro_ev *retro_ring_slot(struct retro_ring *rg, size_t h)
{
	if (h - rg->tail_seen >= rg->size) {
		rg->tail_seen = atomic_load_explicit(&rg->tail, memory_order_acquire);
		if (h - rg->tail_seen >= rg->size) {
			atomic_store_explicit(
			    &rg->dropped,
			    atomic_load_explicit(&rg->dropped, memory_order_relaxed) + 1,
			    memory_order_relaxed);
			return NULL;
		}
	}
	return &rg->ev[h & (rg->size - 1)];
}

/** Fill in the client ss, the time and the name of slot e. */
static inline void retro_ev_fill(struct retro_ev *e, const uint8_t *name, size_t len,
				 const struct sockaddr_storage *ss, int64_t t_ms)
{
	e->t_ms = t_ms;
	e->len = (uint8_t)len;
	if (ss->ss_family == AF_INET6) {
		e->family = AF_INET6;
		memcpy(e->addr, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
	} else {
		e->family = AF_INET;
		memcpy(e->addr, &((const struct sockaddr_in *)ss)->sin_addr, 4);
	}
	memcpy(e->name, name, len);
}

/** Hand the slot of head h over to the retro thread (a release store). */
static inline void retro_ring_commit(struct retro_ring *rg, size_t h)
{
	atomic_store_explicit(&rg->head, h + 1, memory_order_release);
}

/**
 * Hand one lookup of name (len bytes) by client ss at t_ms to worker i's ring. Lock-free,
 * allocation-free, never blocks: a full ring drops it (counted).
 */
static inline void retro_record(struct retro *r, unsigned i, const uint8_t *name, size_t len,
				const struct sockaddr_storage *ss, int64_t t_ms)
{
	struct retro_ring *rg = &r->rings[i];
	size_t h = atomic_load_explicit(&rg->head, memory_order_relaxed);
	struct retro_ev *e = retro_ring_slot(rg, h);

	if (!e)
		return;
	retro_ev_fill(e, name, len, ss, t_ms);
	e->kind = RETRO_EV_NAME;
	retro_ring_commit(rg, h);
}

/**
 * Hand the addresses of an answer relayed to client ss for name (len bytes, the lookup of
 * t_ms) to worker i's ring: msg (msg_len bytes) is the answer, its answer section starts at
 * byte off. Its first RETRO_ANSWER_ADDRS A and AAAA records of class IN are taken (an
 * IPv4-mapped AAAA as its IPv4 address); an answer without any hands over nothing; a
 * malformed record ends the walk. Lock-free, allocation-free, never blocks: a full ring drops
 * it (counted).
 */
void retro_record_answer(struct retro *r, unsigned i, const uint8_t *name, size_t len,
			 const struct sockaddr_storage *ss, int64_t t_ms, const uint8_t *msg,
			 size_t msg_len, size_t off);

#endif
