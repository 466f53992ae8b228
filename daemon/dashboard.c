/* SPDX-License-Identifier: MIT */
#include "dashboard.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "blocklog.h"
#include "config.h"
#include "feed.h"
#include "http.h"
#include "insight.h"
#include "log.h"
#include "policy/policy.h"
#include "util.h"
#include "util/jbuf.h"

#define MOD "http"
#define JSON_TYPE "application/json"

/* The page, embedded at build time (CMakeLists.txt, cmake/embed.cmake). */
extern const unsigned char dashboard_html[];
extern const size_t dashboard_html_len;

/*
 * The page's scripts and styles are its own (inline); it fetches only this listener's API,
 * and loads nothing from anywhere else.
 */
#define PAGE_CSP                                                                                   \
	"default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "              \
	"connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; "          \
	"frame-ancestors 'none'"

struct dashboard;
/* A view of the dashboard's own, or one of the insight's. */
typedef void (*view_fn)(struct dashboard *d, int64_t now_ms, struct jbuf *b);
struct view {
	struct dashboard *d;
	view_fn own;
	insight_view_fn of_insight;
};

/* One list's health, copied from a state. */
struct list_copy {
	char *name, *format, *copy_path; /* copy_path: a feed's copy, else NULL */
	size_t block, log, allow, expired, duplicates, invalid, skipped;
	int64_t mtime;
	bool rejected, kept;
};

struct dashboard {
	struct insight *in;
	struct blocklog *bl;
	pthread_mutex_t mu; /* guards the lists */
	struct list_copy *lists;
	size_t n_lists;
	int64_t loaded;
	struct view views[DASHBOARD_ROUTES - 1]; /* the API routes' args */
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void free_lists(struct list_copy *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].format);
		free(v[i].copy_path);
	}
	free(v);
}

struct dashboard *dashboard_new(struct insight *in, struct blocklog *bl)
{
	struct dashboard *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->in = in;
	d->bl = bl;
	pthread_mutex_init(&d->mu, NULL);
	return d;
}

void dashboard_free(struct dashboard *d)
{
	if (!d)
		return;
	free_lists(d->lists, d->n_lists);
	pthread_mutex_destroy(&d->mu);
	free(d);
}

void dashboard_set_lists(struct dashboard *d, const struct config *cfg,
			 const struct policy_stats *ps, int64_t loaded)
{
	size_t n = cfg->n_lists < ps->n_files ? cfg->n_lists : ps->n_files;
	struct list_copy *v = calloc(n ? n : 1, sizeof(*v)), *old;
	size_t n_old;
	bool nomem = !v;

	for (size_t i = 0; v && i < n; i++) {
		const struct list_stats *f = &ps->files[i];
		struct list_copy *c = &v[i];

		c->name = strdup(cfg->lists[i].name);
		c->format = strdup(f->format ? f->format : "?");
		c->copy_path = cfg->lists[i].url ? strdup(cfg->lists[i].path) : NULL;
		nomem |= !c->name || !c->format || (cfg->lists[i].url && !c->copy_path);
		c->block = f->block;
		c->log = f->log;
		c->allow = f->allow;
		c->expired = f->expired;
		c->duplicates = f->duplicates;
		c->invalid = f->invalid;
		c->skipped = f->skipped;
		c->mtime = f->mtime;
		c->rejected = f->rejected;
		c->kept = f->kept;
	}
	if (nomem) {
		log_err(MOD, "out of memory: the dashboard's lists are not updated");
		if (v)
			free_lists(v, n);
		return;
	}
	pthread_mutex_lock(&d->mu);
	old = d->lists;
	n_old = d->n_lists;
	d->lists = v;
	d->n_lists = n;
	d->loaded = loaded;
	pthread_mutex_unlock(&d->mu);
	free_lists(old, n_old);
}

/* ---- the routes ---- */

static void j_time_s(struct jbuf *b, int64_t secs)
{
	size_t cap;
	char *p = jbuf_room(b, 48, &cap);

	if (p)
		jbuf_commit(b, blocklog_json_time(secs * 1000, p, cap));
}

static void j_string(struct jbuf *b, const char *s)
{
	size_t cap, max = 1024;
	char *p = jbuf_room(b, max * 6 + 2, &cap);

	if (p)
		jbuf_commit(b, blocklog_json_str(s, max, p, cap));
}

static void serve_page(void *arg, struct http_reply *out)
{
	(void)arg;
	out->body = malloc(dashboard_html_len ? dashboard_html_len : 1);
	if (!out->body)
		return;
	memcpy(out->body, dashboard_html, dashboard_html_len);
	out->len = dashboard_html_len;
	out->content_type = "text/html; charset=utf-8";
	out->csp = PAGE_CSP;
}

static void view_summary(struct dashboard *d, int64_t now, struct jbuf *b)
{
	jbuf_str(b, "{\"version\":\"" SINKHOLED_VERSION "\",");
	insight_json_summary(d->in, now, b);
	jbuf_str(b, ",\"block_log\":{\"written\":");
	jbuf_int(b, (int64_t)blocklog_written(d->bl));
	jbuf_str(b, ",\"dropped\":");
	jbuf_int(b, (int64_t)blocklog_dropped(d->bl));
	jbuf_str(b, "}}");
}

static void view_lists(struct dashboard *d, int64_t at_ms, struct jbuf *b)
{
	int64_t now = at_ms / 1000;

	pthread_mutex_lock(&d->mu);
	jbuf_str(b, "{\"loaded\":");
	if (d->loaded)
		j_time_s(b, d->loaded);
	else
		jbuf_str(b, "null");
	jbuf_str(b, ",\"lists\":[");
	for (size_t i = 0; i < d->n_lists; i++) {
		const struct list_copy *c = &d->lists[i];
		char result[900];
		int64_t when;

		jbuf_str(b, i ? ",{\"name\":" : "{\"name\":");
		j_string(b, c->name);
		jbuf_str(b, ",\"format\":");
		j_string(b, c->format);
		jbuf_str(b, c->copy_path ? ",\"feed\":true" : ",\"feed\":false");
		jbuf_member_int(b, ",\"entries\":", (int64_t)(c->block + c->allow));
		jbuf_member_int(b, ",\"block\":", (int64_t)c->block);
		jbuf_member_int(b, ",\"log_only\":", (int64_t)c->log);
		jbuf_member_int(b, ",\"allow\":", (int64_t)c->allow);
		jbuf_member_int(b, ",\"expired\":", (int64_t)c->expired);
		jbuf_member_int(b, ",\"duplicates\":", (int64_t)c->duplicates);
		jbuf_member_int(b, ",\"invalid\":", (int64_t)c->invalid);
		jbuf_member_int(b, ",\"skipped\":", (int64_t)c->skipped);
		jbuf_str(b, ",\"status\":");
		jbuf_str(b, c->kept	  ? "\"rejected, previous version in use\""
			    : c->rejected ? "\"rejected\""
					  : "\"ok\"");
		jbuf_str(b, ",\"file_time\":");
		if (c->mtime) {
			j_time_s(b, c->mtime);
			jbuf_str(b, ",\"age_seconds\":");
			jbuf_int(b, now - c->mtime < 0 ? 0 : now - c->mtime);
		} else {
			jbuf_str(b, "null,\"age_seconds\":null");
		}
		jbuf_str(b, ",\"last_fetch\":");
		if (c->copy_path && feed_status(c->copy_path, &when, result, sizeof(result)) == 0) {
			jbuf_str(b, "{\"result\":");
			j_string(b, result);
			jbuf_str(b, ",\"time\":");
			j_time_s(b, when);
			jbuf_str(b, ",\"age_seconds\":");
			jbuf_int(b, now - when < 0 ? 0 : now - when);
			jbuf_str(b, "}");
		} else {
			jbuf_str(b, "null");
		}
		jbuf_str(b, "}");
	}
	jbuf_str(b, "]}");
	pthread_mutex_unlock(&d->mu);
}

/* GET of an API route: its view, as JSON. */
static void serve_view(void *arg, struct http_reply *out)
{
	const struct view *v = arg;
	struct jbuf b = {0};

	if (v->own)
		v->own(v->d, now_ms(), &b);
	else
		v->of_insight(v->d->in, now_ms(), &b);
	jbuf_str(&b, "\n");
	out->content_type = JSON_TYPE;
	out->body = jbuf_take(&b, &out->len);
}

void dashboard_routes(struct dashboard *d, struct http_route *routes)
{
	static const struct {
		const char *path;
		view_fn own;
		insight_view_fn of_insight;
	} api[DASHBOARD_ROUTES - 1] = {
	    {"/api/summary", view_summary, NULL},
	    {"/api/timeline", NULL, insight_json_timeline},
	    {"/api/top", NULL, insight_json_top},
	    {"/api/blocks", NULL, insight_json_blocks},
	    {"/api/retro", NULL, insight_json_retro},
	    {"/api/beacons", NULL, insight_json_beacons},
	    {"/api/lists", view_lists, NULL},
	};

	routes[0] = (struct http_route){"/", serve_page, d};
	for (size_t i = 0; i < ARRAY_SIZE(api); i++) {
		d->views[i] = (struct view){d, api[i].own, api[i].of_insight};
		routes[i + 1] = (struct http_route){api[i].path, serve_view, &d->views[i]};
	}
}
