/* SPDX-License-Identifier: MIT */
/**
 * What the dashboard shows, learnt from the block log's records as its writer thread writes
 * them (blocklog_set_observer): off the query path, the workers take no lock for it. All of
 * it lives in memory allocated once, at the start:
 *
 * - lookups per minute by malware family over the last 24 hours (INSIGHT_FAMILIES families,
 *   the rest counted as "other");
 * - the top clients and the top IOCs (space-saving counters: INSIGHT_TOP_TRACKED of each);
 * - the latest INSIGHT_LATEST records of the query path and INSIGHT_RETRO retro-hunt findings,
 *   their strings copied (a policy snapshot and its metadata may be freed after the record);
 * - beacon detection: for INSIGHT_PAIRS (client, rule) pairs, the times of their last
 *   INSIGHT_HISTORY call-homes; a pair whose intervals are steady is a beacon (README "Beacon
 *   detection" gives the rule), and each of its records gets AdditionalFields.Beacon.
 *
 * One mutex guards it: the writer thread takes it per record, the HTTP thread per answer.
 */
#ifndef SINKHOLED_INSIGHT_H
#define SINKHOLED_INSIGHT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dnsmsg.h"

struct blocklog_rec;
struct jbuf;

#define INSIGHT_MINUTES 1440   /**< the timeline: 24 h of minutes */
#define INSIGHT_FAMILIES 12    /**< families with a series of their own, besides "other" */
#define INSIGHT_TOP_TRACKED 64 /**< clients (and IOCs) counted; the API shows the top 10 */
#define INSIGHT_TOP_SHOWN 10
#define INSIGHT_LATEST 100 /**< latest records kept */
#define INSIGHT_RETRO 50   /**< latest retro-hunt findings kept */
#define INSIGHT_PAIRS 4096 /**< (client, rule) pairs followed for beacon detection */
#define INSIGHT_WAYS 8	   /**< a pair's place: one of this many slots, the least recent evicted */
#define INSIGHT_HISTORY 16 /**< call-home times kept per pair */
#define INSIGHT_STR 96	   /**< metadata strings are copied up to this many bytes (with NUL) */

/* The beacon rule (README "Beacon detection"). */
#define BEACON_MIN_INTERVALS 8	 /**< at least this many intervals (9 call-homes) */
#define BEACON_MERGE_MS 1000	 /**< lookups this close to a kept one are the same call-home */
#define BEACON_MAX_SPREAD_PCT 15 /**< median absolute deviation <= 15% of the median interval */

struct insight;

/** What beacon detection says about a pair. */
struct insight_beacon {
	int family; /**< the client: AF_INET or AF_INET6 */
	uint8_t addr[16];
	uint8_t rule[DNS_MAX_NAME]; /**< the listed domain, canonical wire form */
	uint8_t rule_len;
	int64_t interval_ms; /**< the median interval between call-homes */
	int64_t jitter_ms;   /**< the median absolute deviation of the intervals from it */
	unsigned lookups;    /**< the call-homes the decision rests on (at most INSIGHT_HISTORY) */
	int64_t last_ms;     /**< the latest call-home */
	char malware[INSIGHT_STR]; /**< the family last seen with the pair, "" for none */
};

/** Everything allocated now, never more; seed keys the hashes of clients and names. */
struct insight *insight_new(uint64_t seed);
/** NULL-safe. */
void insight_free(struct insight *in);
/** Bytes allocated (constant). */
size_t insight_memory(const struct insight *in);

/**
 * The blocklog_observe_fn: learn from rec (arg is the struct insight); for a record of a
 * beacon's pair, write `,"Beacon":{...}` into extra and return its length.
 */
size_t insight_observe(void *arg, const struct blocklog_rec *rec, char *extra, size_t cap);

/**
 * Decide on n call-home times t (ascending, Unix ms): true when they are a beacon, with its
 * interval and jitter in *b.
 */
bool insight_beacon_rule(const int64_t *t, size_t n, struct insight_beacon *b);
/** The pairs that are beacons now, up to max of them into out (latest first); how many. */
size_t insight_beacons(struct insight *in, struct insight_beacon *out, size_t max);
/** Pairs followed now (at most INSIGHT_PAIRS). */
size_t insight_pairs(struct insight *in);

/**
 * The API's views (README "Dashboard") as JSON objects appended to b, at now_ms (Unix ms; the
 * timeline ends there). insight_json_summary appends members of the summary object only.
 */
typedef void (*insight_view_fn)(struct insight *in, int64_t now_ms, struct jbuf *b);
void insight_json_summary(struct insight *in, int64_t now_ms, struct jbuf *b);
void insight_json_timeline(struct insight *in, int64_t now_ms, struct jbuf *b);
void insight_json_top(struct insight *in, int64_t now_ms, struct jbuf *b);
void insight_json_blocks(struct insight *in, int64_t now_ms, struct jbuf *b);
void insight_json_retro(struct insight *in, int64_t now_ms, struct jbuf *b);
void insight_json_beacons(struct insight *in, int64_t now_ms, struct jbuf *b);

#endif
