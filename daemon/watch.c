/* SPDX-License-Identifier: MIT */
#include "watch.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "config.h"
#include "log.h"

/*
 * Editors and downloaders replace a file by renaming a new one over it, which ends an inotify
 * watch on the file itself; so each directory is watched, and an event counts when it names
 * one of the watched files. Events come in bursts (close, rename): a short debounce makes one
 * reload of them.
 *
 * A file counts as changed when a writer closes it (IN_CLOSE_WRITE: rewritten in place), when
 * one is renamed into place, created, deleted or renamed away, or its attributes change; not
 * on each write (IN_MODIFY, which uv_fs_event cannot leave out): a file written in place is
 * read once it is complete, and a busy file in a watched directory (a log next to the config)
 * does not wake the daemon for every write.
 */
#define WATCH_MASK                                                                                 \
	(IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_ATTRIB |         \
	 IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)

#define DEBOUNCE_MS 100

struct watch_dir {
	int wd; /* inotify watch descriptor, -1 when the directory could not be watched */
	char *dir;
};

struct watcher {
	uv_loop_t *loop;
	uv_timer_t debounce;
	int fd;	       /* inotify instance, -1 when there is none */
	uv_poll_t poll; /* fd readable: events to read */
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
		if (w->fd >= 0)
			close(w->fd);
		free(w->dirs);
		free(w);
	}
}

static void on_closed(uv_handle_t *h)
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

/* Does the event name (NULL: not said) in directory d name a watched file? */
static bool names_watched(const struct watcher *w, const struct watch_dir *d, const char *name)
{
	size_t dl = strlen(d->dir);

	if (!name || !*name)
		return true; /* about the directory itself: take it as a change */
	for (size_t i = 0; i < w->n_files; i++) {
		const char *f = w->files[i];

		if (strncmp(f, d->dir, dl) == 0 && f[dl] == '/' && strcmp(f + dl + 1, name) == 0)
			return true;
	}
	return false;
}

static void on_readable(uv_poll_t *p, int status, int events)
{
	struct watcher *w = p->data;
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool hit = false;
	ssize_t n;

	(void)events;
	if (status < 0)
		return;
	while ((n = read(w->fd, buf, sizeof(buf))) > 0) {
		for (char *q = buf; q < buf + n;) {
			const struct inotify_event *e = (const struct inotify_event *)(void *)q;

			q += sizeof(*e) + e->len;
			if (e->mask & IN_Q_OVERFLOW) {
				hit = true; /* events were lost: one of them may have been ours */
				continue;
			}
			if (e->mask & IN_IGNORED)
				continue; /* a watch removed (a reload's new set, or its directory gone) */
			for (size_t i = 0; i < w->n_dirs && !hit; i++)
				if (w->dirs[i]->wd == e->wd)
					hit = names_watched(w, w->dirs[i], e->len ? e->name : NULL);
		}
	}
	if (hit)
		uv_timer_start(&w->debounce, on_debounced, DEBOUNCE_MS, 0);
}

static void clear(struct watcher *w)
{
	for (size_t i = 0; i < w->n_dirs; i++) {
		if (w->dirs[i]->wd >= 0)
			(void)inotify_rm_watch(w->fd, w->dirs[i]->wd);
		free(w->dirs[i]->dir);
		free(w->dirs[i]);
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
	d->dir = dir;
	d->wd = w->fd >= 0 ? inotify_add_watch(w->fd, dir, WATCH_MASK) : -1;
	if (d->wd < 0)
		log_warn("watch", "cannot watch %s: %s (changes there need a reload)", dir,
			 strerror(w->fd >= 0 ? errno : ENOSYS));
	/* inotify gives a directory watched twice (two spellings) one descriptor: both match. */
	w->dirs[w->n_dirs++] = d;
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
	w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->fd < 0) {
		log_warn("watch", "cannot watch files: %s (changes need a reload)", strerror(errno));
	} else if (uv_poll_init(loop, &w->poll, w->fd) == 0) {
		w->poll.data = w;
		w->open++;
		(void)uv_poll_start(&w->poll, UV_READABLE, on_readable);
	} else {
		log_warn("watch", "cannot watch files (changes need a reload)");
		close(w->fd);
		w->fd = -1;
	}
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
	uv_close((uv_handle_t *)&w->debounce, on_closed);
	if (w->fd >= 0) {
		uv_poll_stop(&w->poll);
		uv_close((uv_handle_t *)&w->poll, on_closed);
	}
}
