/* SPDX-License-Identifier: MIT */
#include "watch.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"

/*
 * Editors and downloaders replace a file by renaming a new one over it, which ends an inotify
 * watch on the file itself; so each directory is watched, and an event counts when it names
 * one of the watched files. Events come in bursts (write, close, rename): a short debounce
 * makes one reload of them.
 */

#define DEBOUNCE_MS 100

struct watch_dir {
	uv_fs_event_t ev;
	struct watcher *w;
	char *dir;
};

struct watcher {
	uv_loop_t *loop;
	uv_timer_t debounce;
	struct watch_dir **dirs;
	size_t n_dirs;
	char **files; /* full paths */
	size_t n_files;
	void (*on_change)(void *arg);
	void *arg;
	unsigned open; /* handles not closed yet */
	bool closing;
};

static void maybe_free(struct watcher *w)
{
	if (w->closing && w->open == 0) {
		free(w->dirs);
		free(w);
	}
}

static void on_dir_closed(uv_handle_t *h)
{
	struct watch_dir *d = h->data;
	struct watcher *w = d->w;

	free(d->dir);
	free(d);
	w->open--;
	maybe_free(w);
}

static void on_timer_closed(uv_handle_t *h)
{
	struct watcher *w = h->data;

	w->open--;
	maybe_free(w);
}

static void on_debounced(uv_timer_t *t)
{
	struct watcher *w = t->data;

	w->on_change(w->arg);
}

static void on_event(uv_fs_event_t *ev, const char *filename, int events, int status)
{
	struct watch_dir *d = ev->data;
	struct watcher *w = d->w;
	size_t dl = strlen(d->dir);
	bool hit = filename == NULL; /* the kernel did not say: take it as a change */

	(void)events;
	if (status < 0)
		return;
	for (size_t i = 0; i < w->n_files && !hit; i++) {
		const char *f = w->files[i];

		hit = strncmp(f, d->dir, dl) == 0 && f[dl] == '/' &&
		      strcmp(f + dl + 1, filename) == 0;
	}
	if (hit)
		uv_timer_start(&w->debounce, on_debounced, DEBOUNCE_MS, 0);
}

static void clear(struct watcher *w)
{
	for (size_t i = 0; i < w->n_dirs; i++) {
		uv_fs_event_stop(&w->dirs[i]->ev);
		uv_close((uv_handle_t *)&w->dirs[i]->ev, on_dir_closed);
	}
	w->n_dirs = 0;
	for (size_t i = 0; i < w->n_files; i++)
		free(w->files[i]);
	free(w->files);
	w->files = NULL;
	w->n_files = 0;
}

static int add_file(struct watcher *w, const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	struct watch_dir *d;
	int rc;

	w->files[w->n_files] = strdup(path);
	if (!w->files[w->n_files])
		return -1;
	w->n_files++;
	dir = slash == path ? strdup("/")
	      : slash	    ? strndup(path, (size_t)(slash - path))
			    : strdup(".");
	if (!dir)
		return -1;
	for (size_t i = 0; i < w->n_dirs; i++) {
		if (strcmp(w->dirs[i]->dir, dir) == 0) {
			free(dir);
			return 0;
		}
	}
	d = calloc(1, sizeof(*d));
	if (!d) {
		free(dir);
		return -1;
	}
	d->w = w;
	d->dir = dir;
	d->ev.data = d;
	uv_fs_event_init(w->loop, &d->ev);
	w->open++;
	w->dirs[w->n_dirs++] = d;
	rc = uv_fs_event_start(&d->ev, on_event, dir, 0);
	if (rc < 0)
		log_warn("watch", "cannot watch %s: %s (changes there need a reload)", dir,
			 uv_strerror(rc));
	return 0;
}

void watcher_set(struct watcher *w, const struct config *cfg)
{
	size_t n = cfg->n_lists + 1;

	clear(w);
	w->files = calloc(n, sizeof(char *));
	w->dirs = realloc(w->dirs, n * sizeof(*w->dirs));
	if (!w->files || !w->dirs)
		goto oom;
	if (add_file(w, cfg->path) < 0)
		goto oom;
	/* Not the feeds' copies: the fetcher that writes them asks for the reload itself. */
	for (size_t i = 0; i < cfg->n_lists; i++)
		if (!cfg->lists[i].url && add_file(w, cfg->lists[i].path) < 0)
			goto oom;
	return;
oom:
	log_err("watch", "out of memory: changed files need a reload (SIGHUP)");
}

struct watcher *watcher_new(uv_loop_t *loop, const struct config *cfg, void (*on_change)(void *arg),
			    void *arg)
{
	struct watcher *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->loop = loop;
	w->on_change = on_change;
	w->arg = arg;
	uv_timer_init(loop, &w->debounce);
	w->debounce.data = w;
	w->open = 1;
	watcher_set(w, cfg);
	return w;
}

void watcher_free(struct watcher *w)
{
	if (!w)
		return;
	clear(w);
	w->closing = true;
	uv_timer_stop(&w->debounce);
	uv_close((uv_handle_t *)&w->debounce, on_timer_closed);
}
