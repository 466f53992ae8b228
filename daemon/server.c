/* SPDX-License-Identifier: MIT */
/*
 * The daemon's life: startup order, signals, reload orchestration, stop, one cleanup path.
 *
 * Startup: load config and blocklists (fail fast, exit 2), open the block log, bind one UDP
 * and one TCP socket per listen address per worker (sockets.c; bind errors exit 1), drop
 * privileges, start the workers, the feed fetcher and the file watcher, then run the main loop
 * for signals. A reload builds the new state in the thread pool and publishes it to every
 * worker's mailbox; the old state is freed (after the block log has written every record that
 * borrows from it) when its last holder lets go.
 */
#include "server.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "addr.h"
#include "blocklog.h"
#include "config.h"
#include "dashboard.h"
#include "feed.h"
#include "http.h"
#include "insight.h"
#include "log.h"
#include "metrics.h"
#include "notify.h"
#include "perr.h"
#include "policy/policy.h"
#include "retro.h"
#include "sockets.h"
#include "state.h"
#include "util.h"
#include "util/hash.h"
#include "watch.h"
#include "worker.h"

#define BLOCKLOG_QUEUE 8192 /* records per worker */
#define QUERYLOG_QUEUE 16384 /* records per worker: every answered query at full rate */

struct server {
	const char *config_path;
	uv_loop_t *loop;
	struct worker *workers;
	unsigned n_workers;
	struct blocklog *blocklog;
	struct blocklog *querylog; /**< `query_log:`, NULL when off */
	struct state *cur;	 /**< the current state (one reference held here) */
	struct fetcher *fetcher; /**< fetches the feeds, off the loops */
	struct watcher *watcher; /**< with `watch: true`, NULL otherwise */
	struct metrics *metrics; /**< the counters' registry, read by SIGUSR1 and /metrics */
	const struct worker_stats **wstats; /**< each worker's counters, for metrics */
	struct http *http;	 /**< the `http:` listener, NULL when off */
	struct retro *retro;	 /**< the retro-hunt, NULL when off */
	struct insight *insight; /**< what the dashboard shows, fed by the block log; or NULL */
	struct dashboard *dash;	 /**< the dashboard's routes, NULL without `http:` */
	struct http_route routes[1 + DASHBOARD_ROUTES];

	uv_signal_t sig_hup, sig_term, sig_int, sig_usr1;
	uv_async_t retire_async;
	uv_timer_t exit_timer;
	uv_timer_t watchdog; /**< WATCHDOG=1 to the service manager, when it asks for it */

	/* Reload: one at a time; a SIGHUP during one asks for another. */
	uv_work_t reload_req;
	bool reloading, reload_again, stopping;
	struct state *reload_new;
	struct parse_errs reload_errs, reload_warns;

	/* States whose last reference is gone, waiting to be freed (pushed from any thread). */
	_Atomic(struct state *) retired;
	atomic_bool no_async; /**< shutting down: retired states are drained at exit */
	atomic_uint workers_exited;
};

struct retire_work {
	uv_work_t req;
	struct server *srv;
	struct state *list;
};

/* ---- state: config + policy ---- */

/* May run on any thread: queue the state for the main thread to free. */
static void on_state_retired(struct state *st, void *arg)
{
	struct server *srv = arg;
	struct state *head = atomic_load(&srv->retired);

	do {
		st->retire_next = head;
	} while (!atomic_compare_exchange_weak(&srv->retired, &head, st));
	if (!atomic_load(&srv->no_async))
		uv_async_send(&srv->retire_async);
}

/* Thread pool: records that borrow the states' IOC metadata must be written first. */
static void retire_work(uv_work_t *req)
{
	struct retire_work *rw = req->data;
	struct state *st, *next;

	blocklog_sync(rw->srv->blocklog);
	if (rw->srv->querylog)
		blocklog_sync(rw->srv->querylog);
	for (st = rw->list; st; st = next) {
		next = st->retire_next;
		state_free(st);
	}
}

static void retire_after(uv_work_t *req, int status)
{
	(void)status;
	free(req->data);
}

static void on_retire(uv_async_t *a)
{
	struct server *srv = a->data;
	struct state *list = atomic_exchange(&srv->retired, NULL);
	struct retire_work *rw;

	if (!list)
		return;
	rw = calloc(1, sizeof(*rw));
	if (rw) {
		rw->srv = srv;
		rw->list = list;
		rw->req.data = rw;
		if (uv_queue_work(srv->loop, &rw->req, retire_work, retire_after) == 0)
			return;
		free(rw);
	}
	/* Could not queue: free here, rather than leak. */
	struct retire_work local = {.srv = srv, .list = list};
	local.req.data = &local;
	retire_work(&local.req);
}

/* List i's health line: its counts and, for a feed, its last fetch. */
static char *list_health(const struct state *st, size_t i, char *buf, size_t len)
{
	const struct policy_stats *ps = policy_stats(st->policy);
	const struct list_conf *lc = &st->cfg->lists[i];
	int64_t now = time(NULL);
	size_t o;

	policy_list_health(&ps->files[i], now, buf, len);
	o = strlen(buf);
	if (lc->url && o + 16 < len) {
		memcpy(buf + o, "; last fetch: ", 15);
		feed_last_fetch(lc->path, now, buf + o + 14, len - o - 14);
	}
	return buf;
}

static void print_stats(const struct state *st)
{
	const struct policy_stats *ps = policy_stats(st->policy);
	char line[1536];

	printf("blocklists: %zu list(s)\n", ps->n_files);
	for (size_t i = 0; i < ps->n_files; i++)
		printf("  %s\n", list_health(st, i, line, sizeof(line)));
	printf("total: %zu blocked names, %zu allowed names, %zu blocked prefixes, %zu allowed "
	       "prefixes, %zu KiB\n",
	       ps->block, ps->allow, ps->block_ip, ps->allow_ip, (ps->memory + 1023) / 1024);
}

/* One health line per list after a load. */
static void log_lists(const struct state *st)
{
	const struct policy_stats *ps = policy_stats(st->policy);
	char line[1536];

	for (size_t i = 0; i < ps->n_files; i++)
		log_msg(ps->files[i].rejected ? LOG_WARN : LOG_INFO, "list", "%s",
			list_health(st, i, line, sizeof(line)));
}

/* ---- reload ---- */

static bool addr_lists_equal(const struct sockaddr_storage *a, size_t na,
			     const struct sockaddr_storage *b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (!addr_equal((const struct sockaddr *)&a[i], (const struct sockaddr *)&b[i]))
			return false;
	return true;
}

/* Settings that only a restart applies are reported, never silently ignored. */
static void report_restart_needed(const struct config *old, const struct config *new)
{
	if (!addr_lists_equal(old->listen, old->n_listen, new->listen, new->n_listen))
		log_warn("main", "reload: `listen` changed; restart sinkholed to apply it");
	if (old->workers != new->workers)
		log_warn("main", "reload: `workers` changed; restart sinkholed to apply it");
	if (old->udp_receive_buffer != new->udp_receive_buffer ||
	    old->udp_send_buffer != new->udp_send_buffer)
		log_warn("main", "reload: `udp` buffers changed; restart sinkholed to apply them");
	if (strcmp(old->blocklog_path, new->blocklog_path) != 0)
		log_warn("main", "reload: `block_log.path` changed; restart sinkholed to apply it");
	if ((old->query_log.path == NULL) != (new->query_log.path == NULL) ||
	    (old->query_log.path && strcmp(old->query_log.path, new->query_log.path) != 0))
		log_warn("main", "reload: `query_log.path` changed; restart sinkholed to apply it");
	if (old->http.enabled != new->http.enabled ||
	    (new->http.enabled && !addr_equal((const struct sockaddr *)&old->http.listen,
					      (const struct sockaddr *)&new->http.listen)))
		log_warn("main", "reload: `http.listen` changed; restart sinkholed to apply it");
	if (old->retro.enabled != new->retro.enabled || old->retro.memory != new->retro.memory ||
	    old->retro.window_s != new->retro.window_s)
		log_warn("main", "reload: `retro_hunt` changed; restart sinkholed to apply it");
	if ((old->user == NULL) != (new->user == NULL) ||
	    (old->user && strcmp(old->user, new->user) != 0) || old->allow_root != new->allow_root)
		log_warn("main",
			 "reload: `user`/`allow_root` changed; restart sinkholed to apply it");
}

static void publish(struct server *srv, struct state *st)
{
	struct state *old = srv->cur;

	atomic_store(&st->refs, 1 + srv->n_workers);
	srv->cur = st;
	for (unsigned i = 0; i < srv->n_workers; i++)
		worker_publish(&srv->workers[i], st);
	state_release(old, on_state_retired, srv);
}

static void reload_work(uv_work_t *req)
{
	struct server *srv = req->data;

	perr_clear(&srv->reload_errs);
	perr_clear(&srv->reload_warns);
	srv->reload_new =
	    state_load(srv->config_path, srv->cur, &srv->reload_errs, &srv->reload_warns);
}

static void start_reload(struct server *srv);

/* A feed's copy or a watched file changed: reload, as SIGHUP does. */
static void on_lists_changed(void *arg)
{
	struct server *srv = arg;

	log_info("main", "a list or the config changed");
	start_reload(srv);
}

/* The fetcher and the watcher follow the current config. */
static void follow_config(struct server *srv)
{
	const struct config *cfg = srv->cur->cfg;

	if (srv->fetcher)
		fetcher_configure(srv->fetcher, cfg);
	if (cfg->watch && !srv->watcher)
		srv->watcher = watcher_new(srv->loop, cfg, on_lists_changed, srv);
	else if (cfg->watch)
		watcher_set(srv->watcher, cfg);
	else if (srv->watcher) {
		watcher_free(srv->watcher);
		srv->watcher = NULL;
	}
}

/* READY=1 and a STATUS= line saying what is loaded (and which lists kept an old version). */
static void notify_status(const struct server *srv, const char *what)
{
	const struct policy_stats *ps = policy_stats(srv->cur->policy);
	size_t kept = 0;

	for (size_t i = 0; i < ps->n_files; i++)
		kept += ps->files[i].kept || ps->files[i].rejected;
	notify_send("READY=1\nSTATUS=%s: %zu blocked names, %zu allowed, from %zu lists%s", what,
		    ps->block, ps->allow, ps->n_files,
		    kept ? " (some rejected: see the log)" : "");
}

static void reload_after(uv_work_t *req, int status)
{
	struct server *srv = req->data;
	struct state *st = srv->reload_new, *old;
	const struct policy_stats *ps;

	srv->reloading = false;
	srv->reload_new = NULL;
	if (status < 0 || srv->stopping) {
		if (st)
			state_free(st);
		return;
	}
	perr_log_level(&srv->reload_warns, "reload", LOG_WARN);
	perr_log(&srv->reload_errs, "reload");
	if (!st) {
		char first[400] = "";

		if (srv->reload_errs.n)
			perr_format(&srv->reload_errs.v[0], first, sizeof(first));
		log_err("main", "reload failed: still serving with the previous configuration and "
				"blocklists");
		notify_send("READY=1\nSTATUS=reload failed, serving the previous configuration: %s",
			    first);
		metrics_reload_done(srv->metrics, false);
	} else {
		report_restart_needed(srv->cur->cfg, st->cfg);
		log_set_level(st->cfg->log_level);
		blocklog_set_dvc(srv->blocklog, st->cfg->dvc);
		if (srv->querylog)
			blocklog_set_dvc(srv->querylog, st->cfg->dvc);
		ps = policy_stats(st->policy);
		for (size_t i = 0; i < ps->n_files; i++)
			if (ps->files[i].kept)
				log_err("main",
					"reload: %s is not valid: still using its previous "
					"version (%zu entries)",
					ps->files[i].file, ps->files[i].block + ps->files[i].allow);
		log_lists(st);
		metrics_state_loaded(srv->metrics, st->cfg, ps, time(NULL));
		metrics_reload_done(srv->metrics, true);
		if (srv->dash)
			dashboard_set_lists(srv->dash, st->cfg, ps, time(NULL));
		http_set_access(srv->http, &st->cfg->http);
		old = srv->cur;
		if (srv->retro)
			atomic_fetch_add(&old->refs, 1); /* the retro-hunt's, with one on st */
		publish(srv, st);
		if (srv->retro) {
			atomic_fetch_add(&st->refs, 1);
			retro_check(srv->retro, old, st);
		}
		if (srv->retro) {
			char span[32];

			retro_format_span(retro_span(srv->retro), span, sizeof(span));
			log_info("main",
				 "reloaded: %zu blocked names, %zu allowed names from %zu file(s); "
				 "retro-hunt history covers %s",
				 ps->block, ps->allow, ps->n_files, span);
		} else {
			log_info("main",
				 "reloaded: %zu blocked names, %zu allowed names from %zu file(s)",
				 ps->block, ps->allow, ps->n_files);
		}
		notify_status(srv, "reloaded");
		follow_config(srv);
	}
	perr_clear(&srv->reload_errs);
	perr_clear(&srv->reload_warns);
	if (srv->reload_again) {
		srv->reload_again = false;
		start_reload(srv);
	}
}

static void start_reload(struct server *srv)
{
	if (srv->stopping)
		return;
	if (srv->reloading) {
		srv->reload_again = true;
		return;
	}
	log_info("main", "reloading %s", srv->config_path);
	notify_send("RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=reloading %s",
		    (unsigned long long)notify_monotonic_usec(), srv->config_path);
	srv->reloading = true;
	srv->reload_req.data = srv;
	if (uv_queue_work(srv->loop, &srv->reload_req, reload_work, reload_after) != 0) {
		srv->reloading = false;
		log_err("main", "reload: cannot queue work");
	}
}

/* ---- signals and stop ---- */

static void log_counters(const struct server *srv)
{
	char line[2048];

	log_info("main", "stats: %s", metrics_format_line(srv->metrics, line, sizeof(line)));
}

static void on_exit_poll(uv_timer_t *t)
{
	struct server *srv = t->data;

	if (atomic_load(&srv->workers_exited) < srv->n_workers)
		return;
	/* Every worker is done: let the main loop end (after a reload in flight, if any). */
	uv_close((uv_handle_t *)t, NULL);
	atomic_store(&srv->no_async, true);
	uv_close((uv_handle_t *)&srv->retire_async, NULL);
}

static void begin_stop(struct server *srv)
{
	if (srv->stopping)
		return;
	srv->stopping = true;
	log_info("main", "stopping: finishing queries in flight");
	notify_send("STOPPING=1\nSTATUS=stopping");
	uv_close((uv_handle_t *)&srv->watchdog, NULL);
	http_stop(srv->http);
	srv->http = NULL;
	fetcher_stop(srv->fetcher);
	srv->fetcher = NULL;
	watcher_free(srv->watcher);
	srv->watcher = NULL;
	for (unsigned i = 0; i < srv->n_workers; i++)
		worker_request_stop(&srv->workers[i]);
	uv_close((uv_handle_t *)&srv->sig_hup, NULL);
	uv_close((uv_handle_t *)&srv->sig_term, NULL);
	uv_close((uv_handle_t *)&srv->sig_int, NULL);
	uv_close((uv_handle_t *)&srv->sig_usr1, NULL);
	uv_timer_start(&srv->exit_timer, on_exit_poll, 20, 20);
}

static void on_signal(uv_signal_t *h, int signum)
{
	struct server *srv = h->data;

	switch (signum) {
	case SIGHUP:
		start_reload(srv);
		break;
	case SIGUSR1:
		log_info("main", srv->querylog ? "reopening the block log and the query log"
					       : "reopening the block log");
		blocklog_reopen(srv->blocklog);
		if (srv->querylog)
			blocklog_reopen(srv->querylog);
		log_counters(srv);
		break;
	default:
		begin_stop(srv);
		break;
	}
}

/* Feeds marked required that have no copy yet are fetched before the first load. */
static void fetch_missing_required(const char *path)
{
	struct parse_errs errs = {0};
	struct config *cfg = NULL;

	if (config_load(path, &cfg, &errs) == 0 && feed_prepare_state_dir(cfg, NULL) == 0)
		feed_fetch_all(cfg, true);
	perr_clear(&errs); /* reported by the load that follows */
	config_free(cfg);
}

int server_fetch(const char *path)
{
	struct parse_errs errs = {0};
	struct config *cfg = NULL;
	int failed, rc;

	if (config_load(path, &cfg, &errs) != 0) {
		perr_log(&errs, "config");
		perr_clear(&errs);
		return EXIT_INVALID;
	}
	log_set_level(cfg->log_level);
	rc = feed_global_init();
	if (rc == 0)
		rc = feed_prepare_state_dir(cfg, NULL);
	if (rc < 0) {
		log_err("feed", "cannot create %s/feeds: %s", cfg->state_dir, strerror(-rc));
		config_free(cfg);
		return EXIT_RUNTIME;
	}
	failed = feed_fetch_all(cfg, false);
	config_free(cfg);
	feed_global_cleanup();
	return failed ? EXIT_RUNTIME : EXIT_OK;
}

static void on_worker_exit(void *arg)
{
	struct server *srv = arg;

	atomic_fetch_add(&srv->workers_exited, 1);
}

/*
 * The first load. A list that is not required (a feed) may fail without stopping the daemon:
 * its errors are logged and it starts without it. --check accepts nothing that fails.
 */
static struct state *load_first(const char *path, bool check)
{
	struct parse_errs errs = {0}, warns = {0};
	struct state *st;

	if (!check)
		fetch_missing_required(path);
	st = state_load(path, NULL, &errs, &warns);
	perr_log_level(&warns, "config", LOG_WARN);
	perr_log(&errs, "config");
	perr_clear(&warns);
	if (!st || (check && errs.n + errs.dropped)) {
		fprintf(stderr, "sinkholed: %s is not valid\n", path);
		if (st)
			state_free(st);
		st = NULL;
	}
	perr_clear(&errs);
	return st;
}

int server_check(const char *config_path)
{
	struct state *st;

	if (feed_global_init() < 0)
		return EXIT_RUNTIME;
	st = load_first(config_path, true);
	if (!st)
		return EXIT_INVALID;
	printf("%s: OK\n", config_path);
	print_stats(st);
	state_free(st);
	feed_global_cleanup();
	return EXIT_OK;
}

static void init_loop(struct server *srv)
{
	srv->loop = uv_default_loop();
	uv_async_init(srv->loop, &srv->retire_async, on_retire);
	srv->retire_async.data = srv;
	uv_timer_init(srv->loop, &srv->exit_timer);
	srv->exit_timer.data = srv;
	uv_timer_init(srv->loop, &srv->watchdog);
	uv_signal_init(srv->loop, &srv->sig_hup);
	uv_signal_init(srv->loop, &srv->sig_term);
	uv_signal_init(srv->loop, &srv->sig_int);
	uv_signal_init(srv->loop, &srv->sig_usr1);
	srv->sig_hup.data = srv->sig_term.data = srv->sig_int.data = srv->sig_usr1.data = srv;
	uv_signal_start(&srv->sig_hup, on_signal, SIGHUP);
	uv_signal_start(&srv->sig_term, on_signal, SIGTERM);
	uv_signal_start(&srv->sig_int, on_signal, SIGINT);
	uv_signal_start(&srv->sig_usr1, on_signal, SIGUSR1);
}

static void on_watchdog(uv_timer_t *t)
{
	(void)t;
	notify_send("WATCHDOG=1");
}

/* Start the workers on the bound sockets; returns how many started. */
static unsigned start_workers(struct server *srv, struct state *st, struct sockets *socks)
{
	unsigned started;

	/* Each worker holds a reference to the initial state; main holds one. */
	atomic_store(&st->refs, 1 + srv->n_workers);
	for (started = 0; started < srv->n_workers; started++) {
		struct worker *w = &srv->workers[started];
		int *udp = sockets_udp(socks, started), *tcp = sockets_tcp(socks, started);
		int rc;

		w->on_exit = on_worker_exit;
		w->on_exit_arg = srv;
		w->metrics = srv->metrics;
		w->n_workers = srv->n_workers;
		w->querylog = srv->querylog;
		rc = worker_init(w, started, st, srv->blocklog, udp, tcp, socks->n_listen,
				 on_state_retired, srv);
		/* The worker owns its sockets now, whatever happened. */
		for (size_t j = 0; j < socks->n_listen; j++)
			udp[j] = tcp[j] = -1;
		if (rc != 0 || worker_start(w) != 0) {
			log_err("main", "cannot start worker %u", started);
			worker_deinit(w);
			break;
		}
	}
	if (started < srv->n_workers) {
		/* Give back the references and sockets of the workers never tried. */
		for (unsigned i = started + 1; i < srv->n_workers; i++)
			state_release(st, on_state_retired, srv);
		sockets_close(socks, started + 1);
	}
	return started;
}

/* After the loop: join the workers and free every state. */
static void finish(struct server *srv, unsigned started)
{
	struct state *list, *next;

	for (unsigned i = 0; i < started; i++)
		worker_join(&srv->workers[i]);
	atomic_store(&srv->no_async, true);
	retro_stop(srv->retro); /* its states go to the retired list */
	srv->retro = NULL;
	log_counters(srv);
	if (srv->cur)
		state_release(srv->cur, on_state_retired, srv);
	list = atomic_exchange(&srv->retired, NULL);
	blocklog_sync(srv->blocklog);
	if (srv->querylog)
		blocklog_sync(srv->querylog);
	for (; list; list = next) {
		next = list->retire_next;
		state_free(list);
	}
	uv_loop_close(srv->loop);
}

/*
 * The metrics registry over the workers' counters, and the `http:` listener's socket (bound
 * now, before privileges are dropped; served once the workers run). 0 or -1 (logged).
 */
static int prepare_metrics(struct server *srv, const struct state *st, int *http_fd)
{
	const struct config *cfg = st->cfg;
	char a[64];

	srv->metrics = metrics_new();
	srv->wstats = calloc(srv->n_workers, sizeof(*srv->wstats));
	if (!srv->metrics || !srv->wstats) {
		log_err("main", "out of memory");
		return -1;
	}
	for (unsigned i = 0; i < srv->n_workers; i++)
		srv->wstats[i] = &srv->workers[i].stats;
	metrics_attach(srv->metrics, srv->wstats, srv->n_workers, srv->blocklog);
	metrics_set_querylog(srv->metrics, srv->querylog);
	metrics_state_loaded(srv->metrics, cfg, policy_stats(st->policy), time(NULL));
	if (!cfg->http.enabled)
		return 0;
	addr_format((const struct sockaddr *)&cfg->http.listen, a, sizeof(a));
	*http_fd = http_bind(&cfg->http.listen);
	if (*http_fd < 0) {
		log_err("main", "cannot bind HTTP %s: %s", a, strerror(-*http_fd));
		return -1;
	}
	return 0;
}

/*
 * With `http:`, the dashboard's data: learnt by the block log's writer from every record it
 * writes (before any is submitted). Without memory the listener serves /metrics alone.
 */
static void start_insight(struct server *srv)
{
	if (!srv->cur->cfg->http.enabled)
		return;
	srv->insight = insight_new(hash_seed());
	srv->dash = srv->insight ? dashboard_new(srv->insight, srv->blocklog) : NULL;
	if (!srv->dash) {
		log_err("main", "out of memory: no dashboard");
		insight_free(srv->insight);
		srv->insight = NULL;
		return;
	}
	blocklog_set_observer(srv->blocklog, insight_observe, srv->insight);
	dashboard_set_lists(srv->dash, srv->cur->cfg, policy_stats(srv->cur->policy), time(NULL));
}

/* Serve /metrics and the dashboard on the bound socket. */
static void start_http(struct server *srv, int fd)
{
	size_t n = 1;
	char a[64];

	if (fd < 0)
		return;
	srv->routes[0] = (struct http_route){"/metrics", metrics_serve, srv->metrics};
	if (srv->dash) {
		dashboard_routes(srv->dash, srv->routes + 1);
		n += DASHBOARD_ROUTES;
	}
	srv->http = http_start(fd, srv->routes, n, &srv->cur->cfg->http);
	addr_format((const struct sockaddr *)&srv->cur->cfg->http.listen, a, sizeof(a));
	if (srv->http)
		log_info("main", "serving metrics on http://%s/metrics%s", a,
			 srv->dash ? " and the dashboard on /" : "");
}

int server_run(const char *config_path)
{
	struct server srv = {.config_path = config_path};
	struct sockets socks = {0};
	unsigned started = 0, n;
	struct state *st;
	int rc = EXIT_RUNTIME, http_fd = -1;

	/*
	 * Until the loop's handlers are installed, a reload or reopen request (systemd's
	 * ExecReload, logrotate) must not kill the daemon: what is being loaded is current.
	 */
	signal(SIGHUP, SIG_IGN);
	signal(SIGUSR1, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	if (feed_global_init() < 0) {
		log_err("main", "cannot initialise libcurl");
		return EXIT_RUNTIME;
	}
	st = load_first(config_path, false);
	if (!st) {
		feed_global_cleanup();
		return EXIT_INVALID;
	}
	log_set_level(st->cfg->log_level);
	log_lists(st);
	srv.cur = st;

	n = st->cfg->workers;
	if (n == 0) {
		long c = sysconf(_SC_NPROCESSORS_ONLN);
		n = c > 0 ? (unsigned)c : 1;
	}
	/* One ring per worker (and the retro-hunt): records are handed over without a lock. */
	srv.blocklog = blocklog_new(st->cfg->blocklog_path, st->cfg->dvc, BLOCKLOG_QUEUE,
				    n + st->cfg->retro.enabled);
	if (!srv.blocklog) {
		log_err("main", "cannot open block log %s: %s", st->cfg->blocklog_path,
			strerror(errno));
		goto out;
	}
	blocklog_name_thread(srv.blocklog, "blocklog");
	/* The query log: its own rings and writer, so its volume never costs a block record. */
	if (st->cfg->query_log.path) {
		srv.querylog =
		    blocklog_new(st->cfg->query_log.path, st->cfg->dvc, QUERYLOG_QUEUE, n);
		if (!srv.querylog) {
			log_err("main", "cannot open query log %s: %s", st->cfg->query_log.path,
				strerror(errno));
			goto out;
		}
		blocklog_name_thread(srv.querylog, "querylog");
	}
	srv.n_workers = n;
	srv.workers = calloc(n, sizeof(*srv.workers));
	/* Every socket is bound before privileges are dropped and before any thread starts. */
	if (!srv.workers || sockets_bind(&socks, st->cfg, n) != 0 ||
	    prepare_metrics(&srv, st, &http_fd) != 0)
		goto out;
	rc = feed_prepare_state_dir(st->cfg, st->cfg->user);
	if (rc < 0)
		log_err("feed", "cannot create %s/feeds: %s (feeds cannot be fetched)",
			st->cfg->state_dir, strerror(-rc));
	rc = EXIT_RUNTIME;
	if (sockets_drop_privileges(st->cfg) != 0)
		goto out;

	init_loop(&srv);
	start_insight(&srv);
	if (st->cfg->retro.enabled) {
		srv.retro =
		    retro_start(&st->cfg->retro, n, srv.blocklog, n, on_state_retired, &srv);
		for (unsigned i = 0; i < n; i++)
			srv.workers[i].retro = srv.retro;
		metrics_set_retro(srv.metrics, srv.retro);
	}
	started = start_workers(&srv, st, &socks);
	st = NULL; /* held by the workers and srv.cur from here on */
	if (started < n) {
		srv.n_workers = started;
		begin_stop(&srv);
		uv_run(srv.loop, UV_RUN_DEFAULT);
		finish(&srv, started);
		goto out;
	}
	for (size_t i = 0; i < srv.cur->cfg->n_listen; i++) {
		char a[64];

		addr_format((const struct sockaddr *)&srv.cur->cfg->listen[i], a, sizeof(a));
		log_info("main", "listening on %s (UDP and TCP), %u worker(s)", a, n);
	}
	start_http(&srv, http_fd);
	http_fd = -1;
	srv.fetcher = fetcher_start(srv.loop, srv.cur->cfg, on_lists_changed, &srv);
	if (!srv.fetcher)
		log_err("feed", "cannot start the feed fetcher: feeds are not refreshed");
	fetcher_set_metrics(srv.fetcher, srv.metrics);
	if (srv.cur->cfg->watch)
		srv.watcher = watcher_new(srv.loop, srv.cur->cfg, on_lists_changed, &srv);
	log_info("main", "%zu blocked names, %zu allowed names, %zu blocked prefixes; block log: %s",
		 policy_stats(srv.cur->policy)->block, policy_stats(srv.cur->policy)->allow,
		 policy_stats(srv.cur->policy)->block_ip, srv.cur->cfg->blocklog_path);
	if (srv.querylog)
		log_info("main", "query log: %s (sample %g)", srv.cur->cfg->query_log.path,
			 srv.cur->cfg->query_log.sample);
	/* Lists loaded, sockets bound, workers serving: ready. */
	notify_status(&srv, "serving");
	if (notify_watchdog_usec()) {
		uint64_t ms = notify_watchdog_usec() / 2000;

		uv_timer_start(&srv.watchdog, on_watchdog, 0, ms ? ms : 1);
	}
	uv_run(srv.loop, UV_RUN_DEFAULT);
	finish(&srv, started);
	rc = EXIT_OK;
out:
	if (st)
		state_free(st); /* never handed to a worker */
	sockets_free(&socks);
	if (http_fd >= 0)
		close(http_fd);
	http_stop(srv.http);
	dashboard_free(srv.dash);
	blocklog_free(srv.blocklog);
	blocklog_free(srv.querylog);
	insight_free(srv.insight); /* the block log's writer used it until now */
	metrics_free(srv.metrics);
	free(srv.wstats);
	free(srv.workers);
	perr_clear(&srv.reload_errs);
	perr_clear(&srv.reload_warns);
	feed_global_cleanup();
	if (rc == EXIT_OK)
		log_info("main", "stopped");
	return rc;
}
