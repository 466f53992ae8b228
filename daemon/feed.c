/* SPDX-License-Identifier: MIT */
#include "feed.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <pwd.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "metrics.h"
#include "perr.h"
#include "policy/policy.h"
#include "util.h"
#include "util/readfile.h"

/*
 * Why a thread of its own with blocking transfers (curl_easy_perform), not the main loop with
 * curl's multi interface: feeds are few and change hourly, so one transfer at a time is plenty
 * and also guarantees one fetch per feed at a time; and the checking of a new body (parsing a
 * list of a million names) must run off the loops anyway. Stopping abandons a transfer in
 * flight through the progress callback.
 */

#define BACKOFF_FIRST 10 /* seconds before the first retry; doubling up to refresh */
#define STALE_FACTOR 3	 /* a copy older than 3 x refresh is stale */
#define STALE_REPEAT 3600
#define MAX_WAIT 60 /* the thread looks at the clock (stale copies) at least this often */

struct feed {
	struct list_conf lc; /* a copy: the config's own goes with its state */
	char *meta_path;     /* <path>.meta: the validators of the copy (ETag, Last-Modified) */
	char *status_path;   /* <path>.status: when the last fetch ran, and its result */
	char *tmp_path;	     /* where a new copy is written before the rename */
	int64_t next;	     /* when to fetch (Unix seconds) */
	int64_t last_ok;     /* the copy was last confirmed current (fetched or 304); 0: never */
	int64_t added;	     /* when the fetcher took the feed on (for a feed with no copy) */
	int64_t stale_warned;
	unsigned failures; /* in a row */
	size_t entries;	   /* of the copy in use, SIZE_MAX until known */
};

struct fetcher {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;	      /* under mu */
	struct feed *pending; /* a new feed set from fetcher_configure(), under mu */
	size_t n_pending;
	bool have_pending;
	atomic_bool abandon; /* stop: the transfer in flight gives up */
	_Atomic(struct metrics *) metrics; /* where fetch results are counted, or NULL */

	struct feed *feeds; /* the thread's own */
	size_t n_feeds;

	uv_async_t async;
	atomic_bool changed;
	void (*on_change)(void *arg);
	void *arg;
};

/* ---- one feed ----------------------------------------------------------------------------- */

static void feed_deinit(struct feed *f)
{
	config_list_deinit(&f->lc);
	free(f->meta_path);
	free(f->status_path);
	free(f->tmp_path);
}

static void feeds_free(struct feed *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		feed_deinit(&v[i]);
	free(v);
}

/* The feeds of cfg, scheduled from their copies' age. NULL with *n = 0 when there are none. */
static struct feed *feeds_of(const struct config *cfg, size_t *n)
{
	struct feed *v;
	size_t k = 0;
	int64_t now = time(NULL);

	*n = 0;
	for (size_t i = 0; i < cfg->n_lists; i++)
		k += cfg->lists[i].url != NULL;
	if (!k)
		return NULL;
	v = calloc(k, sizeof(*v));
	if (!v)
		return NULL;
	for (size_t i = 0; i < cfg->n_lists; i++) {
		const struct list_conf *lc = &cfg->lists[i];
		struct feed *f = &v[*n];
		struct stat st;

		if (!lc->url)
			continue;
		if (config_list_copy(&f->lc, lc) < 0 ||
		    asprintf(&f->meta_path, "%s.meta", lc->path) < 0 ||
		    asprintf(&f->status_path, "%s.status", lc->path) < 0 ||
		    asprintf(&f->tmp_path, "%s.tmp", lc->path) < 0) {
			feeds_free(v, *n + 1);
			*n = 0;
			return NULL;
		}
		f->entries = SIZE_MAX;
		f->next = now;
		f->added = now;
		if (stat(lc->path, &st) == 0) {
			f->last_ok = st.st_mtime;
			if (st.st_mtime + (int64_t)lc->refresh_s > now)
				f->next = st.st_mtime + lc->refresh_s;
		}
		(*n)++;
	}
	return v;
}

/* A body being received, at most max bytes. */
struct body {
	char *buf;
	size_t len, cap, max;
	bool too_big;
	atomic_bool *abandon;
};

static size_t on_data(char *p, size_t size, size_t nmemb, void *arg)
{
	struct body *b = arg;
	size_t n = size * nmemb;

	if (n > b->max - b->len) {
		b->too_big = true;
		return 0;
	}
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 65536;
		char *nb;

		while (cap < b->len + n)
			cap *= 2;
		if (cap > b->max)
			cap = b->max;
		nb = realloc(b->buf, cap);
		if (!nb)
			return 0;
		b->buf = nb;
		b->cap = cap;
	}
	memcpy(b->buf + b->len, p, n);
	b->len += n;
	return n;
}

static int on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	struct body *b = arg;

	(void)dt, (void)dn, (void)ut, (void)un;
	return b->abandon && atomic_load(b->abandon);
}

/* The validators stored with the copy: "etag\tVALUE" and "last-modified\tVALUE" lines. */
static void read_meta(const struct feed *f, char *etag, char *lm, size_t len)
{
	FILE *fp = fopen(f->meta_path, "re");
	char line[512];

	etag[0] = lm[0] = 0;
	if (!fp)
		return;
	while (fgets(line, sizeof(line), fp)) {
		char *tab = strchr(line, '\t'), *nl = strchr(line, '\n');

		if (!tab)
			continue;
		if (nl)
			*nl = 0;
		*tab++ = 0;
		if (strcmp(line, "etag") == 0)
			snprintf(etag, len, "%s", tab);
		else if (strcmp(line, "last-modified") == 0)
			snprintf(lm, len, "%s", tab);
	}
	fclose(fp);
}

/* Write len bytes to path durably: a temporary file, fsync, rename, fsync of the directory. */
static int write_durably(const char *path, const char *tmp, const char *data, size_t len)
{
	char dir[4096];
	const char *slash;
	int fd, rc = 0;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0)
		return -errno;
	for (size_t off = 0; off < len;) {
		ssize_t w = write(fd, data + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			rc = -errno;
			break;
		}
		off += (size_t)w;
	}
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	if (rc < 0) {
		unlink(tmp);
		return rc;
	}
	slash = strrchr(path, '/');
	if (slash && (size_t)(slash - path) < sizeof(dir)) {
		memcpy(dir, path, (size_t)(slash - path));
		dir[slash - path] = 0;
		fd = open(*dir ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd >= 0) {
			(void)fsync(fd);
			close(fd);
		}
	}
	return 0;
}

static void write_meta(const struct feed *f, const char *etag, const char *lm)
{
	char buf[1200];
	int n = snprintf(buf, sizeof(buf), "etag\t%s\nlast-modified\t%s\n", etag, lm);
	char tmp[4200];

	snprintf(tmp, sizeof(tmp), "%s.tmp", f->meta_path);
	if (n > 0 && (size_t)n < sizeof(buf))
		(void)write_durably(f->meta_path, tmp, buf, (size_t)n);
}

/* The last fetch's time and result, for the health lines (feed_last_fetch). */
static void write_status(const struct feed *f, int64_t when, const char *result)
{
	char buf[900], tmp[4200];
	int n = snprintf(buf, sizeof(buf), "%lld\t%s\n", (long long)when, result);

	snprintf(tmp, sizeof(tmp), "%s.tmp", f->status_path);
	if (n > 0 && (size_t)n < sizeof(buf))
		(void)write_durably(f->status_path, tmp, buf, (size_t)n);
}

int feed_status(const char *copy_path, int64_t *when, char *result, size_t len)
{
	char path[4200], line[900], *tab, *nl;
	FILE *fp;
	int rc = -ENOENT;

	snprintf(path, sizeof(path), "%s.status", copy_path);
	fp = fopen(path, "re");
	if (!fp)
		return -errno;
	if (fgets(line, sizeof(line), fp) && (tab = strchr(line, '\t'))) {
		*tab++ = 0;
		nl = strchr(tab, '\n');
		if (nl)
			*nl = 0;
		*when = strtoll(line, NULL, 10);
		snprintf(result, len, "%s", tab);
		rc = 0;
	}
	fclose(fp);
	return rc;
}

char *feed_last_fetch(const char *copy_path, int64_t now, char *buf, size_t len)
{
	char result[900];
	int64_t when;

	if (feed_status(copy_path, &when, result, sizeof(result)) == 0)
		snprintf(buf, len, "%s, %llds ago", result, (long long)(now - when));
	else
		snprintf(buf, len, "never fetched");
	return buf;
}

/* A response header's value (without CR/LF) into out, or "". */
static void header_value(CURL *h, const char *name, char *out, size_t len)
{
	struct curl_header *hd;

	out[0] = 0;
	if (curl_easy_header(h, name, 0, CURLH_HEADER, -1, &hd) == CURLHE_OK && hd->value &&
	    !strpbrk(hd->value, "\r\n\t"))
		snprintf(out, len, "%s", hd->value);
}

/* Entries of the copy in use, learnt once by checking it like a new body. */
static void learn_entries(struct feed *f, int64_t now)
{
	struct parse_errs errs = {0}, warns = {0};
	struct list_stats st;
	char *text;
	size_t len;
	bool mapped;

	if (f->entries != SIZE_MAX)
		return;
	f->entries = 0;
	if (readfile(f->lc.path, &text, &len, &mapped) < 0)
		return;
	if (policy_validate(&f->lc, text, len, now, 0, &errs, &warns, &st))
		f->entries = st.block + st.allow;
	readfile_release(text, len, mapped);
	perr_clear(&errs);
	perr_clear(&warns);
}

static void age_text(int64_t secs, char *buf, size_t len)
{
	if (secs < 0)
		snprintf(buf, len, "no copy");
	else if (secs < 120)
		snprintf(buf, len, "%llds old", (long long)secs);
	else if (secs < 7200)
		snprintf(buf, len, "%lldm old", (long long)secs / 60);
	else if (secs < 172800)
		snprintf(buf, len, "%lldh old", (long long)secs / 3600);
	else
		snprintf(buf, len, "%lldd old", (long long)secs / 86400);
}

/*
 * Fetch f once. Returns 1 when a new copy replaced the old one, 0 when the copy is current
 * (not modified), -1 on failure (the copy in use is kept). Logs one health line.
 */
static int fetch_one(struct feed *f, atomic_bool *abandon)
{
	char etag[512], lm[512], new_etag[512], new_lm[512], err[CURL_ERROR_SIZE] = "", age[32];
	char result[700];
	struct body b = {.max = f->lc.max_size, .abandon = abandon};
	struct curl_slist *hdrs = NULL;
	struct parse_errs errs = {0}, warns = {0};
	struct list_stats st = {0};
	int64_t now = time(NULL);
	long status = 0;
	CURL *h;
	CURLcode rc;
	int ret = -1;

	learn_entries(f, now);
	read_meta(f, etag, lm, sizeof(etag));
	h = curl_easy_init();
	if (!h) {
		snprintf(result, sizeof(result), "error: cannot start a transfer");
		goto out;
	}
	for (size_t i = 0; i < f->lc.n_headers; i++)
		hdrs = curl_slist_append(hdrs, f->lc.headers[i]);
	if (access(f->lc.path, R_OK) == 0) {
		char line[600];

		if (etag[0]) {
			snprintf(line, sizeof(line), "If-None-Match: %s", etag);
			hdrs = curl_slist_append(hdrs, line);
		}
		if (lm[0]) {
			snprintf(line, sizeof(line), "If-Modified-Since: %s", lm);
			hdrs = curl_slist_append(hdrs, line);
		}
	}
	curl_easy_setopt(h, CURLOPT_URL, f->lc.url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, ""); /* gzip and deflate: what it has */
	curl_easy_setopt(h, CURLOPT_USERAGENT, "sinkholed/" SINKHOLED_VERSION);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT,
			 (long)(f->lc.timeout_s < 10 ? f->lc.timeout_s : 10));
	curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)f->lc.timeout_s);
	curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)f->lc.max_size);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, &b);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, err);
	if (f->lc.ca_file)
		curl_easy_setopt(h, CURLOPT_CAINFO, f->lc.ca_file);
	rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	if (rc != CURLE_OK) {
		if (b.too_big || rc == CURLE_FILESIZE_EXCEEDED)
			snprintf(result, sizeof(result), "error: larger than max_size (%llu bytes)",
				 (unsigned long long)f->lc.max_size);
		else
			snprintf(result, sizeof(result), "error: %s",
				 err[0] ? err : curl_easy_strerror(rc));
		goto out;
	}
	if (status == 304) {
		/* Current: the copy's time says when it was last confirmed. */
		(void)utimensat(AT_FDCWD, f->lc.path, NULL, 0);
		f->last_ok = now;
		snprintf(result, sizeof(result), "not modified (HTTP 304)");
		st.block = f->entries;
		ret = 0;
		goto out;
	}
	if (status != 200) {
		snprintf(result, sizeof(result), "error: HTTP %ld", status);
		goto out;
	}
	header_value(h, "ETag", new_etag, sizeof(new_etag));
	header_value(h, "Last-Modified", new_lm, sizeof(new_lm));
	if (!policy_validate(&f->lc, b.buf ? b.buf : "", b.len, now,
			     f->entries == SIZE_MAX ? 0 : f->entries, &errs, &warns, &st)) {
		char first[400] = "rejected";

		if (errs.n)
			perr_format(&errs.v[0], first, sizeof(first));
		snprintf(result, sizeof(result), "HTTP 200 but not used (%zu bytes): %s", b.len,
			 first);
		goto out;
	}
	if (write_durably(f->lc.path, f->tmp_path, b.buf ? b.buf : "", b.len) < 0) {
		snprintf(result, sizeof(result), "error: cannot write %s: %s", f->lc.path,
			 strerror(errno));
		goto out;
	}
	write_meta(f, new_etag, new_lm);
	f->entries = st.block + st.allow;
	f->last_ok = now;
	snprintf(result, sizeof(result), "HTTP 200, %zu bytes", b.len);
	ret = 1;
out:
	perr_log_level(&warns, "feed", LOG_WARN);
	if (ret < 0)
		perr_log(&errs, "feed");
	perr_clear(&errs);
	perr_clear(&warns);
	if (h)
		curl_easy_cleanup(h);
	curl_slist_free_all(hdrs);
	free(b.buf);
	age_text(f->last_ok ? now - f->last_ok : -1, age, sizeof(age));
	write_status(f, now, result);
	if (ret >= 0) {
		f->failures = 0;
		f->next = now + f->lc.refresh_s;
		log_info("feed",
			 "%s: %s; %zu entries, %zu invalid, %zu skipped, %zu expired; copy %s",
			 f->lc.name, result, ret ? st.block + st.allow : f->entries, st.invalid,
			 st.skipped, st.expired, age);
	} else {
		unsigned delay = BACKOFF_FIRST;

		for (unsigned i = 0; i < f->failures && delay < f->lc.refresh_s; i++)
			delay *= 2;
		if (delay > f->lc.refresh_s)
			delay = f->lc.refresh_s;
		f->failures++;
		f->next = now + delay;
		log_err("feed", "%s: %s; keeping the copy in use (%s), next try in %us", f->lc.name,
			result, age, delay);
	}
	return ret;
}

/* ---- the thread --------------------------------------------------------------------------- */

static void check_stale(struct fetcher *ft, int64_t now)
{
	for (size_t i = 0; i < ft->n_feeds; i++) {
		struct feed *f = &ft->feeds[i];
		int64_t limit = (int64_t)STALE_FACTOR * f->lc.refresh_s;
		char age[32];

		if (now - (f->last_ok ? f->last_ok : f->added) <= limit ||
		    now - f->stale_warned < STALE_REPEAT)
			continue;
		f->stale_warned = now;
		age_text(f->last_ok ? now - f->last_ok : -1, age, sizeof(age));
		log_warn("feed",
			 "%s is stale: not refreshed for over %u x its refresh (%us); copy %s",
			 f->lc.name, STALE_FACTOR, f->lc.refresh_s, age);
	}
}

/* Take the feed set of the last fetcher_configure(), keeping the state of feeds that stay. */
static void adopt(struct fetcher *ft)
{
	for (size_t i = 0; i < ft->n_pending; i++) {
		struct feed *nf = &ft->pending[i];

		for (size_t j = 0; j < ft->n_feeds; j++) {
			const struct feed *of = &ft->feeds[j];

			if (strcmp(of->lc.name, nf->lc.name) != 0 ||
			    strcmp(of->lc.url, nf->lc.url) != 0)
				continue;
			nf->next = of->next;
			nf->last_ok = of->last_ok;
			nf->failures = of->failures;
			nf->entries = of->entries;
			nf->stale_warned = of->stale_warned;
			nf->added = of->added;
			if (nf->lc.refresh_s < of->lc.refresh_s && !of->failures)
				nf->next =
				    of->next - (int64_t)(of->lc.refresh_s - nf->lc.refresh_s);
		}
	}
	feeds_free(ft->feeds, ft->n_feeds);
	ft->feeds = ft->pending;
	ft->n_feeds = ft->n_pending;
	ft->pending = NULL;
	ft->n_pending = 0;
	ft->have_pending = false;
}

static void *fetcher_main(void *arg)
{
	struct fetcher *ft = arg;

	pthread_mutex_lock(&ft->mu);
	while (!ft->stop) {
		int64_t now = time(NULL), due = now + MAX_WAIT;
		struct feed *next = NULL;
		struct timespec ts;

		if (ft->have_pending)
			adopt(ft);
		for (size_t i = 0; i < ft->n_feeds; i++) {
			if (ft->feeds[i].next < due) {
				due = ft->feeds[i].next;
				next = &ft->feeds[i];
			}
		}
		if (next && due <= now) {
			int r;

			pthread_mutex_unlock(&ft->mu);
			r = fetch_one(next, &ft->abandon);
			if (!atomic_load(&ft->abandon))
				metrics_list_fetched(atomic_load(&ft->metrics), next->lc.name,
						     r >= 0, time(NULL));
			if (r > 0) {
				atomic_store(&ft->changed, true);
				uv_async_send(&ft->async);
			}
			check_stale(ft, time(NULL));
			pthread_mutex_lock(&ft->mu);
			continue;
		}
		ts.tv_sec = (time_t)due;
		ts.tv_nsec = 0;
		pthread_cond_timedwait(&ft->cv, &ft->mu, &ts);
		pthread_mutex_unlock(&ft->mu);
		check_stale(ft, time(NULL));
		pthread_mutex_lock(&ft->mu);
	}
	pthread_mutex_unlock(&ft->mu);
	return NULL;
}

static void on_async(uv_async_t *a)
{
	struct fetcher *ft = a->data;

	if (atomic_exchange(&ft->changed, false))
		ft->on_change(ft->arg);
}

int feed_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -ENOMEM;
}

void feed_global_cleanup(void)
{
	curl_global_cleanup();
}

int feed_prepare_state_dir(const struct config *cfg, const char *user)
{
	char dir[4096];
	struct passwd *pw = user ? getpwnam(user) : NULL;
	bool any = false;

	for (size_t i = 0; i < cfg->n_lists; i++)
		any = any || cfg->lists[i].url;
	if (!any)
		return 0;
	if (mkdir(cfg->state_dir, 0750) < 0 && errno != EEXIST)
		return -errno;
	snprintf(dir, sizeof(dir), "%s/feeds", cfg->state_dir);
	if (mkdir(dir, 0750) < 0 && errno != EEXIST)
		return -errno;
	/* The daemon writes there after it switched to `user:`. */
	if (pw && geteuid() == 0 &&
	    (chown(cfg->state_dir, pw->pw_uid, pw->pw_gid) < 0 ||
	     chown(dir, pw->pw_uid, pw->pw_gid) < 0))
		return -errno;
	return 0;
}

struct fetcher *fetcher_start(uv_loop_t *loop, const struct config *cfg,
			      void (*on_change)(void *arg), void *arg)
{
	struct fetcher *ft = calloc(1, sizeof(*ft));
	pthread_condattr_t ca;

	if (!ft)
		return NULL;
	ft->on_change = on_change;
	ft->arg = arg;
	ft->feeds = feeds_of(cfg, &ft->n_feeds);
	pthread_mutex_init(&ft->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_cond_init(&ft->cv, &ca); /* CLOCK_REALTIME: the schedule is in Unix seconds */
	pthread_condattr_destroy(&ca);
	if (uv_async_init(loop, &ft->async, on_async) < 0)
		goto fail;
	ft->async.data = ft;
	if (pthread_create(&ft->thread, NULL, fetcher_main, ft) != 0) {
		uv_close((uv_handle_t *)&ft->async, NULL);
		goto fail;
	}
	pthread_setname_np(ft->thread, "feeds");
	return ft;
fail:
	feeds_free(ft->feeds, ft->n_feeds);
	free(ft);
	errno = ENOMEM;
	return NULL;
}

void fetcher_set_metrics(struct fetcher *ft, struct metrics *m)
{
	if (ft)
		atomic_store(&ft->metrics, m);
}

void fetcher_configure(struct fetcher *ft, const struct config *cfg)
{
	size_t n;
	struct feed *v = feeds_of(cfg, &n);
	bool any = false;

	for (size_t i = 0; i < cfg->n_lists; i++)
		any = any || cfg->lists[i].url;
	if (any && !v) {
		log_err("feed", "out of memory: the feeds keep their previous settings");
		return;
	}
	pthread_mutex_lock(&ft->mu);
	feeds_free(ft->pending, ft->n_pending);
	ft->pending = v;
	ft->n_pending = n;
	ft->have_pending = true;
	pthread_cond_signal(&ft->cv);
	pthread_mutex_unlock(&ft->mu);
}

static void on_async_closed(uv_handle_t *h)
{
	struct fetcher *ft = h->data;

	pthread_mutex_destroy(&ft->mu);
	pthread_cond_destroy(&ft->cv);
	feeds_free(ft->feeds, ft->n_feeds);
	feeds_free(ft->pending, ft->n_pending);
	free(ft);
}

void fetcher_stop(struct fetcher *ft)
{
	if (!ft)
		return;
	pthread_mutex_lock(&ft->mu);
	ft->stop = true;
	atomic_store(&ft->abandon, true);
	pthread_cond_signal(&ft->cv);
	pthread_mutex_unlock(&ft->mu);
	pthread_join(ft->thread, NULL);
	uv_close((uv_handle_t *)&ft->async, on_async_closed);
}

int feed_fetch_all(const struct config *cfg, bool missing_required)
{
	size_t n;
	struct feed *v = feeds_of(cfg, &n);
	int failed = 0;

	if (!v)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (missing_required && (!v[i].lc.required || access(v[i].lc.path, F_OK) == 0))
			continue;
		failed += fetch_one(&v[i], NULL) < 0;
	}
	feeds_free(v, n);
	return failed;
}
