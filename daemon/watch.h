/* SPDX-License-Identifier: MIT */
/**
 * Watching the config file and the lists (`watch: true`): a change to any of them, written in
 * place (when its writer closes it) or renamed into place, calls back once after a short
 * debounce, on the loop's thread.
 * The caller reloads through the same path as SIGHUP.
 */
#ifndef SINKHOLED_WATCH_H
#define SINKHOLED_WATCH_H

#include <uv.h>

struct config;
struct watcher;

/** Watch cfg's config file and lists; on_change(arg) after they change. NULL on ENOMEM. */
struct watcher *watcher_new(uv_loop_t *loop, const struct config *cfg,
			    void (*on_change)(void *arg), void *arg);
/** Watch the files of a reloaded config instead. */
void watcher_set(struct watcher *w, const struct config *cfg);
/** Stop watching; freed once its handles are closed (the loop must run). NULL-safe. */
void watcher_free(struct watcher *w);

#endif
