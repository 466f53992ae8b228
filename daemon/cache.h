/* SPDX-License-Identifier: MIT */
/**
 * The answer cache: upstream replies kept in memory and served with decremented TTLs.
 * One cache per worker (no locks); bounded in bytes, with eviction under pressure.
 *
 * Key: (canonical qname, qtype, qclass, DO bit, CD bit, EDNS present). Positive answers live
 * for the minimum TTL of their RRsets (clamped to [min_ttl, max_ttl]); NXDOMAIN and NODATA for
 * min(SOA TTL, SOA MINIMUM) capped at negative_ttl_max (RFC 2308); failures (SERVFAIL, every
 * upstream timed out) for a short time that backs off, never above 5 minutes (RFC 9520).
 * Truncated replies are never stored. The policy check comes before the cache, so a name
 * blocked by a reload is never answered from here.
 */
#ifndef SINKHOLED_CACHE_H
#define SINKHOLED_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dnsmsg.h"

/** The `cache:` config section. */
struct cache_conf {
	bool enabled;		   /**< default true */
	size_t size;		   /**< max bytes of cached data incl. per-entry overhead; default 64 MiB */
	uint32_t min_ttl;	   /**< default 0 */
	uint32_t max_ttl;	   /**< default 86400 */
	uint32_t negative_ttl_max; /**< default 3600 */
};

struct cache;

/** A new empty cache bounded by conf->size bytes. NULL on ENOMEM. */
struct cache *cache_new(const struct cache_conf *conf);
/** NULL-safe. */
void cache_free(struct cache *c);
/** Apply new TTL limits and size (reload); shrinking evicts at once. */
void cache_reconfigure(struct cache *c, const struct cache_conf *conf);

/**
 * Serve q from the cache: on a hit, write the client's answer into out (cap bytes): the
 * stored reply with the client's ID and question bytes (letter case), every RR TTL (not the
 * OPT's) decreased by the time spent in the cache, cut to limit with TC=1 like
 * dnsmsg_relay_reply. Returns its length, or 0 on a miss (or expired entry).
 * now_ms is a monotonic clock in milliseconds. Allocation-free.
 */
size_t cache_lookup(struct cache *c, const struct dns_query *q, uint64_t now_ms, uint8_t *out,
		    size_t cap, size_t limit);

/**
 * Whether the answer of the last cache_lookup() hit has a CNAME or DNAME record in its answer
 * section (so that only those are inspected, worker.c). Undefined before a hit.
 */
bool cache_hit_has_alias(const struct cache *c);
/** Whether the answer of the last hit has an A or AAAA record in its answer section. */
bool cache_hit_has_address(const struct cache *c);

/**
 * Store an accepted upstream reply for q (as received from upstream: any ID, question case
 * of the query that was sent). Not stored: TC=1, rcodes other than NOERROR/NXDOMAIN (use
 * cache_store_failure for SERVFAIL), NODATA/NXDOMAIN without SOA (RFC 2308 section 5:
 * not cached), TTL 0 after clamping, an entry larger than an eighth of the cache.
 */
void cache_store(struct cache *c, const struct dns_query *q, const uint8_t *reply, size_t len,
		 uint64_t now_ms);

/**
 * Remember that q could not be resolved (SERVFAIL from upstream, or every upstream failed):
 * cache_lookup then answers SERVFAIL for a short time: 1 s after the first failure, doubling
 * with each consecutive failure of the same key, at most 300 s (RFC 9520). A later successful
 * cache_store resets it.
 */
void cache_store_failure(struct cache *c, const struct dns_query *q, uint64_t now_ms);

/** Counters, for stats and tests. */
struct cache_stats {
	uint64_t hits, misses, stores, evictions, expired;
	size_t entries, bytes;
};
void cache_get_stats(const struct cache *c, struct cache_stats *out);

#endif
