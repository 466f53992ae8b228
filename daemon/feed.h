/* SPDX-License-Identifier: MIT */
/**
 * Feeds: the lists of the config with a url:, fetched over HTTP(S) with libcurl into
 * state_dir/feeds/<name> on their own schedule, by one thread of their own (a slow or hanging
 * server never delays a query, a reload or another signal).
 *
 * A new body is fetched conditionally (ETag / If-Modified-Since, kept in <name>.meta), checked
 * like a reload would check it (policy_validate: errors, invalid share, empty where the copy
 * in use has entries), and only then replaces the copy (write, fsync, rename): a broken or
 * hostile answer never replaces a good copy. Every fetch ends with one health line on stderr.
 */
#ifndef SINKHOLED_FEED_H
#define SINKHOLED_FEED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct config;
struct fetcher;
struct metrics;

/**
 * The last fetch of the feed whose copy is at copy_path, as "RESULT, Ns ago" (or "never
 * fetched") into buf: for the per-list health lines and --check. Returns buf.
 */
char *feed_last_fetch(const char *copy_path, int64_t now, char *buf, size_t len);
/**
 * The last fetch of the feed whose copy is at copy_path: when it ended (Unix seconds) and its
 * result ("200 OK, 412 entries", "304 not modified", an error) into result. 0, or a negative
 * errno when it was never fetched.
 */
int feed_status(const char *copy_path, int64_t *when, char *result, size_t len);

/** Call once, before any thread starts (libcurl's global init). */
int feed_global_init(void);
/** After every fetcher stopped. */
void feed_global_cleanup(void);

/**
 * A fetcher for the feeds of cfg, started at once. on_change(arg) runs on loop's thread when
 * a feed's copy was replaced (then reload). NULL on failure (errno set).
 */
struct fetcher *fetcher_start(uv_loop_t *loop, const struct config *cfg,
			      void (*on_change)(void *arg), void *arg);
/** Follow a reloaded config: feeds added, removed or changed (thread-safe). */
void fetcher_configure(struct fetcher *f, const struct config *cfg);
/** Report every fetch's result to m (may be NULL) from now on (thread-safe). */
void fetcher_set_metrics(struct fetcher *f, struct metrics *m);
/** Stop the thread (a fetch in flight is abandoned) and close the async handle; then free. */
void fetcher_stop(struct fetcher *f);

/**
 * Fetch every feed of cfg once, now, in the calling thread (`sinkholed fetch`); with
 * missing_required, only the required feeds that have no copy yet (before the first load).
 * Returns the number of feeds that failed (0: every copy is current).
 */
int feed_fetch_all(const struct config *cfg, bool missing_required);

/**
 * Create state_dir/feeds when cfg has feeds, owned by user when that is set and we are root.
 * 0 or a negative errno.
 */
int feed_prepare_state_dir(const struct config *cfg, const char *user);

#endif
