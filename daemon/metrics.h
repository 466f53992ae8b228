/* SPDX-License-Identifier: MIT */
/**
 * The daemon's metrics in the Prometheus text format (version 0.0.4), and the SIGUSR1 line:
 * the workers' counters (stats.h, summed on demand), the block log's, the lists' health,
 * reloads, the build and the process.
 *
 * Labels stay bounded and cheap on the query path: the lists and upstreams of the config are
 * given small label slots here, by name and once per state (metrics_map_labels), so a worker
 * counts a blocked query by its list with one array index, and a list keeps its slot (and its
 * counts) when a reload adds, removes or reorders lists. STATS_LIST_SLOTS - 1 lists (and
 * STATS_UPSTREAM_SLOTS - 1 upstreams) get slots of their own; any beyond share the last one,
 * labelled "(other)".
 *
 * Thread-safe: the main thread reports loads and reloads, the feed thread fetches, workers
 * map labels when they adopt a state, the HTTP thread renders.
 */
#ifndef SINKHOLED_METRICS_H
#define SINKHOLED_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stats.h"

struct blocklog;
struct retro;
struct config;
struct http_reply;
struct policy_stats;
struct metrics;

/** A new registry with no workers. NULL on ENOMEM. */
struct metrics *metrics_new(void);
/** NULL-safe. Only once nothing else uses it (workers, HTTP thread, fetcher stopped). */
void metrics_free(struct metrics *m);

/**
 * The workers' counters (n of them, borrowed until metrics_free) and the block log whose
 * counts are reported (may be NULL). Call before any of them starts.
 */
void metrics_attach(struct metrics *m, const struct worker_stats *const *workers, size_t n,
		    struct blocklog *bl);
/** Report the query log's records written and dropped (ql may be NULL: off). */
void metrics_set_querylog(struct metrics *m, struct blocklog *ql);
/** Report the retro-hunt's history span, findings and dropped lookups (r may be NULL). */
void metrics_set_retro(struct metrics *m, const struct retro *r);

/**
 * The label slots of cfg's lists (list_slot, STATS_LIST_SLOTS entries, by the index in
 * cfg->lists) and upstreams (upstream_slot, STATS_UPSTREAM_SLOTS, by cfg->upstreams' index),
 * giving new names the next free slots. Indexes beyond the arrays are the caller's to map to
 * the last entry. m NULL: every slot 0. Takes a mutex; allocates the first time a name is
 * seen (a reload, never a query).
 */
void metrics_map_labels(struct metrics *m, const struct config *cfg, uint8_t *list_slot,
			uint8_t *upstream_slot);

/**
 * A state was loaded from cfg with the lists of ps (at startup or by a reload) at now (Unix
 * seconds): cfg's lists and upstreams are the current ones; per list its entries, and a
 * success (the list's version was accepted) or a load failure (rejected).
 */
void metrics_state_loaded(struct metrics *m, const struct config *cfg,
			  const struct policy_stats *ps, int64_t now);
/** A fetch of the feed called name ended at now: ok (a new copy, or not modified) or not. */
void metrics_list_fetched(struct metrics *m, const char *name, bool ok, int64_t now);
/** A reload ended: ok (a new state is in use) or failed (the previous one is kept). */
void metrics_reload_done(struct metrics *m, bool ok);

/**
 * Every metric in the Prometheus text format, in a malloc'd NUL-terminated string (its
 * length in *len). NULL on ENOMEM.
 */
char *metrics_render(struct metrics *m, size_t *len);
/** The http_route handler of GET /metrics: arg is the struct metrics. */
void metrics_serve(void *arg, struct http_reply *out);
/** The SIGUSR1 line: the counters (stats_format_line), the block log's, the reloads. */
char *metrics_format_line(struct metrics *m, char *buf, size_t len);

#endif
