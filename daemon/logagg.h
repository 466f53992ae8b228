/* SPDX-License-Identifier: MIT */
/**
 * Block-log aggregation (README "The block log"): identical lookups (same client address,
 * name, type, class, entry, rule, action and answer kind) within a window become one record
 * whose EventCount is their number and EventStartTime/EventEndTime the first and the last, so
 * that a host beaconing thousands of times a second fills neither the ring nor the SIEM.
 *
 * One table per worker, of a fixed size allocated at start: adding a lookup allocates nothing
 * and takes no lock. A record leaves the table through the caller's emit function when its
 * window is over (logagg_add() of a later identical lookup, or logagg_flush() from the worker's
 * timer), or when the caller flushes everything (stop, and before it lets go of the policy
 * snapshot the records' entries belong to). I/O-free and single-threaded.
 */
#ifndef SINKHOLED_LOGAGG_H
#define SINKHOLED_LOGAGG_H

#include <stddef.h>
#include <stdint.h>

#include "blocklog.h"

/** Receives each record leaving the table (count >= 1, start_ms and end_ms set). */
typedef void (*logagg_emit_fn)(void *arg, const struct blocklog_rec *rec);

/** What logagg_add() did with a lookup. */
enum logagg_result {
	LOGAGG_MERGED, /**< counted in a pending record */
	LOGAGG_STORED, /**< the first of its kind in the window: a new pending record */
	LOGAGG_FULL,   /**< no room near its slot: the caller logs it on its own */
};

struct logagg;

/**
 * A table of at least slots records (rounded up to a power of two), keyed with seed (the
 * clients choose the names). NULL on failure.
 */
struct logagg *logagg_new(size_t slots, uint64_t seed);
/** NULL-safe; pending records are lost (flush first). */
void logagg_free(struct logagg *a);
/**
 * Add the lookup rec (count 0 or 1, at rec->time_ms) within a window of window_ms (> 0). A
 * pending record of the same key whose window is over is emitted first and replaced.
 */
enum logagg_result logagg_add(struct logagg *a, const struct blocklog_rec *rec, int64_t window_ms,
			      logagg_emit_fn emit, void *arg);
/**
 * Emit the pending records whose window (from their first lookup) has ended by now_ms, or
 * every one with now_ms = INT64_MAX. Returns how many were emitted.
 */
size_t logagg_flush(struct logagg *a, int64_t now_ms, int64_t window_ms, logagg_emit_fn emit,
		    void *arg);
/** Records pending. */
size_t logagg_pending(const struct logagg *a);

#endif
