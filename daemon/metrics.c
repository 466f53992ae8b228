/* SPDX-License-Identifier: MIT */
#include "metrics.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "blocklog.h"
#include "config.h"
#include "dnsmsg.h"
#include "http.h"
#include "policy/policy.h"
#include "retro.h"
#include "util.h"

#define OTHER "(other)"

/* Names given label slots: append-only, slot n - 1 is OTHER. */
struct registry {
	char *names[STATS_LIST_SLOTS > STATS_UPSTREAM_SLOTS ? STATS_LIST_SLOTS
							    : STATS_UPSTREAM_SLOTS];
	unsigned n, cap; /* names used; slots in all (the last is OTHER) */
	bool current[STATS_LIST_SLOTS > STATS_UPSTREAM_SLOTS ? STATS_LIST_SLOTS
							     : STATS_UPSTREAM_SLOTS];
};

/* A list's health, by its label slot. */
struct list_health {
	uint64_t entries;
	int64_t last_success; /* Unix seconds; 0: never */
	uint64_t failures;
};

struct metrics {
	pthread_mutex_t mu; /* everything below but the attached workers */
	struct registry lists, upstreams;
	struct list_health health[STATS_LIST_SLOTS];
	uint64_t reloads_ok, reloads_failed;
	time_t created;

	const struct worker_stats *const *workers; /* set once, before the workers start */
	size_t n_workers;
	struct blocklog *blocklog;
	struct blocklog *querylog; /* NULL when off */
	const struct retro *retro; /* NULL when off */
};

struct metrics *metrics_new(void)
{
	struct metrics *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	pthread_mutex_init(&m->mu, NULL);
	m->lists.cap = STATS_LIST_SLOTS;
	m->upstreams.cap = STATS_UPSTREAM_SLOTS;
	m->created = time(NULL);
	return m;
}

void metrics_free(struct metrics *m)
{
	if (!m)
		return;
	for (unsigned i = 0; i < m->lists.n; i++)
		free(m->lists.names[i]);
	for (unsigned i = 0; i < m->upstreams.n; i++)
		free(m->upstreams.names[i]);
	pthread_mutex_destroy(&m->mu);
	free(m);
}

void metrics_attach(struct metrics *m, const struct worker_stats *const *workers, size_t n,
		    struct blocklog *bl)
{
	m->workers = workers;
	m->n_workers = n;
	m->blocklog = bl;
}

void metrics_set_querylog(struct metrics *m, struct blocklog *ql)
{
	m->querylog = ql;
}

void metrics_set_retro(struct metrics *m, const struct retro *r)
{
	m->retro = r;
}

/* The slot of name, given the next free one if new (the last slot when full). Under mu. */
static unsigned slot_of(struct registry *r, const char *name)
{
	char *copy;

	for (unsigned i = 0; i < r->n; i++)
		if (strcmp(r->names[i], name) == 0)
			return i;
	if (r->n + 1 >= r->cap || !(copy = strdup(name)))
		return r->cap - 1;
	r->names[r->n] = copy;
	return r->n++;
}

/* The name of slot i, or NULL when unused. Under mu. */
static const char *slot_name(const struct registry *r, unsigned i)
{
	if (i == r->cap - 1)
		return OTHER;
	return i < r->n ? r->names[i] : NULL;
}

static void upstream_name(const struct config *cfg, size_t i, char *buf, size_t len)
{
	addr_format((const struct sockaddr *)&cfg->upstreams[i], buf, len);
}

void metrics_map_labels(struct metrics *m, const struct config *cfg, uint8_t *list_slot,
			uint8_t *upstream_slot)
{
	char a[64];

	memset(list_slot, 0, STATS_LIST_SLOTS);
	memset(upstream_slot, 0, STATS_UPSTREAM_SLOTS);
	if (!m)
		return;
	pthread_mutex_lock(&m->mu);
	list_slot[STATS_LIST_SLOTS - 1] = STATS_LIST_SLOTS - 1;
	for (size_t i = 0; i < cfg->n_lists && i < STATS_LIST_SLOTS - 1; i++)
		list_slot[i] = (uint8_t)slot_of(&m->lists, cfg->lists[i].name);
	upstream_slot[STATS_UPSTREAM_SLOTS - 1] = STATS_UPSTREAM_SLOTS - 1;
	for (size_t i = 0; i < cfg->n_upstreams && i < STATS_UPSTREAM_SLOTS - 1; i++) {
		upstream_name(cfg, i, a, sizeof(a));
		upstream_slot[i] = (uint8_t)slot_of(&m->upstreams, a);
	}
	pthread_mutex_unlock(&m->mu);
}

void metrics_state_loaded(struct metrics *m, const struct config *cfg,
			  const struct policy_stats *ps, int64_t now)
{
	char a[64];

	if (!m)
		return;
	pthread_mutex_lock(&m->mu);
	memset(m->lists.current, 0, sizeof(m->lists.current));
	memset(m->upstreams.current, 0, sizeof(m->upstreams.current));
	for (size_t i = 0; i < cfg->n_lists; i++) {
		unsigned s = slot_of(&m->lists, cfg->lists[i].name);
		struct list_health *h = &m->health[s];

		m->lists.current[s] = true;
		if (s == STATS_LIST_SLOTS - 1 || i >= ps->n_files)
			continue; /* (other): no health of its own */
		h->entries = ps->files[i].block + ps->files[i].allow;
		if (ps->files[i].rejected)
			h->failures++;
		else
			h->last_success = now;
	}
	for (size_t i = 0; i < cfg->n_upstreams; i++) {
		upstream_name(cfg, i, a, sizeof(a));
		m->upstreams.current[slot_of(&m->upstreams, a)] = true;
	}
	pthread_mutex_unlock(&m->mu);
}

void metrics_list_fetched(struct metrics *m, const char *name, bool ok, int64_t now)
{
	unsigned s;

	if (!m)
		return;
	pthread_mutex_lock(&m->mu);
	s = slot_of(&m->lists, name);
	if (s != STATS_LIST_SLOTS - 1) {
		if (ok)
			m->health[s].last_success = now;
		else
			m->health[s].failures++;
	}
	pthread_mutex_unlock(&m->mu);
}

void metrics_reload_done(struct metrics *m, bool ok)
{
	if (!m)
		return;
	pthread_mutex_lock(&m->mu);
	if (ok)
		m->reloads_ok++;
	else
		m->reloads_failed++;
	pthread_mutex_unlock(&m->mu);
}

/* ---- the text format ---------------------------------------------------------------------- */

struct out {
	char *p;
	size_t len, cap;
	bool oom;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		if (o->oom)
			return;
		va_start(ap, fmt);
		n = vsnprintf(o->p + o->len, o->cap - o->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			o->oom = true;
			return;
		}
		if ((size_t)n < o->cap - o->len) {
			o->len += (size_t)n;
			return;
		}
		if (!grow_array((void **)&o->p, &o->cap, o->len + (size_t)n + 1, 1))
			o->oom = true;
	}
}

/* A label value, escaped as the text format wants (backslash, double quote, newline). */
static void put_value(struct out *o, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			put(o, "\\\\");
		else if (*s == '"')
			put(o, "\\\"");
		else if (*s == '\n')
			put(o, "\\n");
		else
			put(o, "%c", *s);
	}
}

static void put_header(struct out *o, const char *name, const char *help, const char *type)
{
	put(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{label="value"} v, or name v without a label. */
static void put_sample(struct out *o, const char *name, const char *label, const char *value,
		       uint64_t v)
{
	put(o, "%s", name);
	if (label) {
		put(o, "{%s=\"", label);
		put_value(o, value);
		put(o, "\"}");
	}
	put(o, " %llu\n", (unsigned long long)v);
}

enum label_set {
	L_NONE,
	L_TRANSPORT,
	L_RCODE,
	L_DROP,
	L_FAIL,
	L_LIST_ACTION,
	L_UPSTREAM_RESULT,
	L_HIST
};

struct counter_def {
	const char *name, *help;
	enum stats_type type;
	enum label_set labels;
	size_t n;      /* slots */
	size_t offset; /* in struct stats_total */
};

static const struct counter_def counters[] = {
#define STATS_DEF(f, type, labels, name, help)                                                     \
	{name, help, type, L_##labels, STATS_N_##labels, offsetof(struct stats_total, f)},
    STATS_COUNTERS(STATS_DEF)
#undef STATS_DEF
};

static const char *const transport_names[STATS_N_TRANSPORT] = {"udp", "tcp"};
static const char *const rcode_names[STATS_N_RCODE] = {
    "NOERROR",	"FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP",  "REFUSED",
    "YXDOMAIN", "YXRRSET", "NXRRSET",  "NOTAUTH",  "NOTZONE", "DSOTYPENI",
    "RCODE12",	"RCODE13", "RCODE14",  "RCODE15",  "BADVERS",
};
static const char *const drop_names[DROP_REASONS] = {"malformed", "ratelimit", "policy"};
static const char *const fail_names[FAIL_REASONS] = {"upstreams_failed", "pending_full"};
static const char *const action_names[ACTIONS] = {"block", "log"};
static const char *const result_names[UP_RESULTS] = {"ok", "timeout", "error"};
static const uint64_t latency_bounds_us[STATS_LATENCY_BUCKETS] = {STATS_LATENCY_BOUNDS_US};

/* Two labels: name{l1="v1",l2="v2"} v. */
static void put_sample2(struct out *o, const char *name, const char *l1, const char *v1,
			const char *l2, const char *v2, uint64_t v)
{
	put(o, "%s{%s=\"", name, l1);
	put_value(o, v1);
	put(o, "\",%s=\"", l2);
	put_value(o, v2);
	put(o, "\"} %llu\n", (unsigned long long)v);
}

/* Slots of a per-list or per-upstream counter: current names always, others when counted. */
static void put_by_slot(struct out *o, const struct counter_def *d, const uint64_t *v,
			const struct registry *r, const char *what, const char *label2,
			const char *const *names2, size_t n2)
{
	for (unsigned s = 0; s < r->cap; s++) {
		const char *name = slot_name(r, s);
		uint64_t sum = 0;

		if (!name)
			continue;
		for (size_t j = 0; j < n2; j++)
			sum += v[s * n2 + j];
		if (!r->current[s] && sum == 0)
			continue;
		for (size_t j = 0; j < n2; j++)
			put_sample2(o, d->name, label2, names2[j], what, name, v[s * n2 + j]);
	}
}

static void put_histogram(struct out *o, const struct counter_def *d, const uint64_t *v)
{
	char name[128];
	uint64_t cum = 0;

	snprintf(name, sizeof(name), "%s_bucket", d->name);
	for (size_t b = 0; b < STATS_LATENCY_BUCKETS; b++) {
		char le[32];

		cum += v[b];
		snprintf(le, sizeof(le), "%g", (double)latency_bounds_us[b] / 1e6);
		put_sample(o, name, "le", le, cum);
	}
	cum += v[STATS_LATENCY_BUCKETS];
	put_sample(o, name, "le", "+Inf", cum);
	put(o, "%s_sum %.6f\n", d->name, (double)v[STATS_N_HIST - 1] / 1e6);
	put(o, "%s_count %llu\n", d->name, (unsigned long long)cum);
}

static void put_counter(struct out *o, struct metrics *m, const struct counter_def *d,
			const struct stats_total *t)
{
	const uint64_t *v = (const uint64_t *)((const char *)t + d->offset);

	put_header(o, d->name, d->help,
		   d->type == STATS_GAUGE	? "gauge"
		   : d->type == STATS_HISTOGRAM ? "histogram"
						: "counter");
	switch (d->labels) {
	case L_NONE:
		put_sample(o, d->name, NULL, NULL, v[0]);
		break;
	case L_TRANSPORT:
		for (size_t i = 0; i < d->n; i++)
			put_sample(o, d->name, "transport", transport_names[i], v[i]);
		break;
	case L_RCODE:
		/* The usual ones always, the rare ones once they happen. */
		for (size_t i = 0; i < d->n; i++)
			if (i <= DNS_REFUSED || v[i])
				put_sample(o, d->name, "rcode", rcode_names[i], v[i]);
		break;
	case L_DROP:
		for (size_t i = 0; i < d->n; i++)
			put_sample(o, d->name, "reason", drop_names[i], v[i]);
		break;
	case L_FAIL:
		for (size_t i = 0; i < d->n; i++)
			put_sample(o, d->name, "reason", fail_names[i], v[i]);
		break;
	case L_LIST_ACTION:
		put_by_slot(o, d, v, &m->lists, "list", "action", action_names, ACTIONS);
		break;
	case L_UPSTREAM_RESULT:
		put_by_slot(o, d, v, &m->upstreams, "upstream", "result", result_names, UP_RESULTS);
		break;
	case L_HIST:
		put_histogram(o, d, v);
		break;
	}
}

static void put_lists(struct out *o, struct metrics *m)
{
	static const char *const names[] = {
	    "sinkholed_list_entries",
	    "sinkholed_list_last_success_timestamp_seconds",
	    "sinkholed_list_load_failures_total",
	};
	static const char *const helps[] = {
	    "Entries (block, log and allow) of the list's version in use",
	    "When the list's last version was accepted, or a feed's copy last confirmed current",
	    "Versions of the list rejected at a load, and failed fetches of a feed",
	};
	static const char *const types[] = {"gauge", "gauge", "counter"};

	for (size_t k = 0; k < ARRAY_SIZE(names); k++) {
		put_header(o, names[k], helps[k], types[k]);
		for (unsigned s = 0; s + 1 < m->lists.cap; s++) {
			const struct list_health *h = &m->health[s];
			const char *name = slot_name(&m->lists, s);

			if (!name || !m->lists.current[s])
				continue;
			put_sample(o, names[k], "list", name,
				   k == 0   ? h->entries
				   : k == 1 ? (uint64_t)(h->last_success > 0 ? h->last_success : 0)
					    : h->failures);
		}
	}
}

/* ---- the process ---------------------------------------------------------------------- */

static long open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	long n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the directory's own fd */
}

static long long resident_bytes(void)
{
	long long size, rss;
	FILE *f = fopen("/proc/self/statm", "re");
	int ok;

	if (!f)
		return -1;
	ok = fscanf(f, "%lld %lld", &size, &rss) == 2;
	fclose(f);
	return ok ? rss * sysconf(_SC_PAGESIZE) : -1;
}

/* Unix time the process started: /proc/self/stat's starttime after /proc/stat's btime. */
static double start_time(const struct metrics *m)
{
	char buf[1024], *p;
	unsigned long long start = 0, btime = 0;
	long hz = sysconf(_SC_CLK_TCK);
	FILE *f = fopen("/proc/self/stat", "re");
	size_t n = 0;

	if (f) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
	/* After the command name's closing parenthesis: field 3 on; starttime is field 22. */
	p = strrchr(buf, ')');
	if (p && sscanf(p + 2,
			"%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d "
			"%*d %*d %*d %*d %llu",
			&start) != 1)
		start = 0;
	f = fopen("/proc/stat", "re");
	if (f) {
		while (fgets(buf, sizeof(buf), f))
			if (sscanf(buf, "btime %llu", &btime) == 1)
				break;
		fclose(f);
	}
	if (!start || !btime || hz <= 0)
		return (double)m->created;
	return (double)btime + (double)start / (double)hz;
}

static void put_process(struct out *o, const struct metrics *m)
{
	struct rusage ru;
	struct rlimit rl;
	long fds = open_fds();
	long long rss = resident_bytes();

	if (getrusage(RUSAGE_SELF, &ru) == 0) {
		put_header(o, "process_cpu_seconds_total", "User and system CPU time spent",
			   "counter");
		put(o, "process_cpu_seconds_total %.6f\n",
		    (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
			(double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
	}
	if (rss >= 0) {
		put_header(o, "process_resident_memory_bytes", "Resident memory size in bytes",
			   "gauge");
		put(o, "process_resident_memory_bytes %lld\n", rss);
	}
	if (fds >= 0) {
		put_header(o, "process_open_fds", "Open file descriptors", "gauge");
		put(o, "process_open_fds %ld\n", fds);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
		put_header(o, "process_max_fds", "Maximum number of open file descriptors",
			   "gauge");
		put(o, "process_max_fds %llu\n", (unsigned long long)rl.rlim_cur);
	}
	put_header(o, "process_start_time_seconds", "Start time of the process since the epoch",
		   "gauge");
	put(o, "process_start_time_seconds %.2f\n", start_time(m));
}

char *metrics_render(struct metrics *m, size_t *len)
{
	struct out o = {.cap = 16384};
	struct stats_total *t = malloc(sizeof(*t));

	o.p = malloc(o.cap);
	if (!t || !o.p) {
		free(t);
		free(o.p);
		return NULL;
	}
	stats_sum(t, m->workers, m->n_workers);
	pthread_mutex_lock(&m->mu);
	put_header(&o, "sinkholed_build_info", "The running version of sinkholed (always 1)",
		   "gauge");
	put_sample(&o, "sinkholed_build_info", "version", SINKHOLED_VERSION, 1);
	for (size_t i = 0; i < ARRAY_SIZE(counters); i++)
		put_counter(&o, m, &counters[i], t);
	put_header(&o, "sinkholed_blocklog_records_total",
		   "Block-log records written, or dropped (queue full, write failed)", "counter");
	put_sample(&o, "sinkholed_blocklog_records_total", "result", "written",
		   m->blocklog ? blocklog_written(m->blocklog) : 0);
	put_sample(&o, "sinkholed_blocklog_records_total", "result", "dropped",
		   m->blocklog ? blocklog_dropped(m->blocklog) : 0);
	put_header(&o, "sinkholed_blocklog_dropped_events_total",
		   "Lookups the dropped block-log records stood for (the sum of their EventCount)",
		   "counter");
	put_sample(&o, "sinkholed_blocklog_dropped_events_total", NULL, NULL,
		   m->blocklog ? blocklog_dropped_events(m->blocklog) : 0);
	if (m->querylog) {
		put_header(&o, "sinkholed_querylog_records_total",
			   "Query-log records written, or dropped (queue full, write failed)",
			   "counter");
		put_sample(&o, "sinkholed_querylog_records_total", "result", "written",
			   blocklog_written(m->querylog));
		put_sample(&o, "sinkholed_querylog_records_total", "result", "dropped",
			   blocklog_dropped(m->querylog));
	}
	if (m->retro) {
		put_header(&o, "sinkholed_retro_hunt_history_seconds",
			   "How far back the retro-hunt remembers lookups (at most the window)",
			   "gauge");
		put_sample(&o, "sinkholed_retro_hunt_history_seconds", NULL, NULL,
			   (uint64_t)retro_span(m->retro));
		put_header(&o, "sinkholed_retro_hunt_findings_total",
			   "Retro-hunt records: a client that looked up a name listed later",
			   "counter");
		put_sample(&o, "sinkholed_retro_hunt_findings_total", NULL, NULL,
			   retro_findings(m->retro));
		put_header(&o, "sinkholed_retro_hunt_dropped_total",
			   "Lookups the retro-hunt could not remember (a worker's ring was full)",
			   "counter");
		put_sample(&o, "sinkholed_retro_hunt_dropped_total", NULL, NULL,
			   retro_dropped(m->retro));
	}
	put_header(&o, "sinkholed_reloads_total",
		   "Reloads (SIGHUP, a changed file or feed): ok, or failed and the previous "
		   "state kept",
		   "counter");
	put_sample(&o, "sinkholed_reloads_total", "result", "ok", m->reloads_ok);
	put_sample(&o, "sinkholed_reloads_total", "result", "failed", m->reloads_failed);
	put_lists(&o, m);
	pthread_mutex_unlock(&m->mu);
	put_process(&o, m);
	free(t);
	if (o.oom) {
		free(o.p);
		return NULL;
	}
	*len = o.len;
	return o.p;
}

void metrics_serve(void *arg, struct http_reply *out)
{
	out->content_type = "text/plain; version=0.0.4; charset=utf-8";
	out->body = metrics_render(arg, &out->len);
}

char *metrics_format_line(struct metrics *m, char *buf, size_t len)
{
	struct stats_total *t = malloc(sizeof(*t));
	size_t o;

	if (!t) {
		snprintf(buf, len, "out of memory");
		return buf;
	}
	stats_sum(t, m->workers, m->n_workers);
	stats_format_line(t, buf, len);
	free(t);
	o = strlen(buf);
	pthread_mutex_lock(&m->mu);
	snprintf(buf + o, len - o,
		 ", blocklog_written %llu, blocklog_dropped %llu, blocklog_dropped_events %llu, "
		 "querylog_written %llu, querylog_dropped %llu, reloads_ok %llu, "
		 "reloads_failed %llu",
		 (unsigned long long)(m->blocklog ? blocklog_written(m->blocklog) : 0),
		 (unsigned long long)(m->blocklog ? blocklog_dropped(m->blocklog) : 0),
		 (unsigned long long)(m->blocklog ? blocklog_dropped_events(m->blocklog) : 0),
		 (unsigned long long)(m->querylog ? blocklog_written(m->querylog) : 0),
		 (unsigned long long)(m->querylog ? blocklog_dropped(m->querylog) : 0),
		 (unsigned long long)m->reloads_ok, (unsigned long long)m->reloads_failed);
	pthread_mutex_unlock(&m->mu);
	return buf;
}
