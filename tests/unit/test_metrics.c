/* SPDX-License-Identifier: MIT */
/*
 * The metrics text: counters summed over workers, labels from the config's lists and
 * upstreams (stable across reloads that reorder them, escaped), the histogram's cumulative
 * buckets, list health, reloads, and the SIGUSR1 line.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "metrics.h"
#include "policy/policy.h"
#include "stats.h"
#include "worker.h"

static struct config *load(const char *yaml)
{
	struct parse_errs e = {0};
	struct config *cfg = NULL;

	if (config_load_string(yaml, strlen(yaml), "test.yaml", &cfg, &e) != 0)
		print_message("%s\n", e.n ? e.v[0].msg : "?");
	assert_non_null(cfg);
	perr_clear(&e);
	return cfg;
}

static const char config_a[] = "upstreams: [\"192.0.2.1\", \"[2001:db8::1]:5353\"]\n"
			       "blocklists:\n"
			       "  - {path: a.txt, name: alpha}\n"
			       "  - 'say \"hi\"\\'\n";
/* The same lists the other way round, and one upstream fewer. */
static const char config_b[] = "upstreams: [\"[2001:db8::1]:5353\"]\n"
			       "blocklists:\n"
			       "  - 'say \"hi\"\\'\n"
			       "  - {path: a.txt, name: alpha}\n";

/* Assert that text has line as one whole line. */
static void has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; (p = strstr(p, line)); p += n) {
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return;
	}
	print_message("missing line: %s\n---\n%s\n", line, text);
	fail();
}

static void lacks(const char *text, const char *what)
{
	if (strstr(text, what)) {
		print_message("unexpected: %s\n", what);
		fail();
	}
}

struct fixture {
	struct metrics *m;
	struct worker_stats *w[2];
	struct config *cfg;
	uint8_t list_slot[STATS_LIST_SLOTS], up_slot[STATS_UPSTREAM_SLOTS];
	struct list_stats files[2];
	struct policy_stats ps;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->m = metrics_new();
	assert_non_null(f->m);
	for (size_t i = 0; i < 2; i++) {
		f->w[i] = calloc(1, sizeof(*f->w[i]));
		assert_non_null(f->w[i]);
	}
	metrics_attach(f->m, (const struct worker_stats *const *)f->w, 2, NULL);
	f->cfg = load(config_a);
	metrics_map_labels(f->m, f->cfg, f->list_slot, f->up_slot);
	f->files[0].block = 10;
	f->files[0].allow = 2;
	f->files[1].block = 5;
	f->files[1].rejected = true;
	f->ps.n_files = 2;
	f->ps.files = f->files;
	metrics_state_loaded(f->m, f->cfg, &f->ps, 1700000000);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	metrics_free(f->m);
	free(f->w[0]);
	free(f->w[1]);
	config_free(f->cfg);
	free(f);
	return 0;
}

static char *render(struct fixture *f)
{
	size_t len = 0;
	char *text = metrics_render(f->m, &len);

	assert_non_null(text);
	assert_int_equal(strlen(text), len);
	return text;
}

static void test_sums_and_labels(void **state)
{
	struct fixture *f = *state;
	char *text;

	STAT_ADD_AT(f->w[0], queries, TRANSPORT_UDP, 7);
	STAT_ADD_AT(f->w[1], queries, TRANSPORT_UDP, 3);
	STAT_ADD_AT(f->w[1], queries, TRANSPORT_TCP, 2);
	STAT_ADD_AT(f->w[0], responses, 3, 4);	/* NXDOMAIN */
	STAT_ADD_AT(f->w[1], responses, 16, 1); /* BADVERS */
	STAT_ADD_AT(f->w[0], blocked, f->list_slot[0] * ACTIONS + ACTION_BLOCK, 5);
	STAT_ADD_AT(f->w[1], blocked, f->list_slot[1] * ACTIONS + ACTION_LOG, 6);
	STAT_ADD_AT(f->w[0], upstream_queries, f->up_slot[1] * UP_RESULTS + UP_TIMEOUT, 2);
	STAT_SET(f->w[0], cache_bytes, 100);
	STAT_SET(f->w[1], cache_bytes, 23);
	text = render(f);
	has_line(text, "# TYPE sinkholed_queries_total counter");
	has_line(text, "sinkholed_queries_total{transport=\"udp\"} 10");
	has_line(text, "sinkholed_queries_total{transport=\"tcp\"} 2");
	has_line(text, "sinkholed_responses_total{rcode=\"NOERROR\"} 0");
	has_line(text, "sinkholed_responses_total{rcode=\"NXDOMAIN\"} 4");
	has_line(text, "sinkholed_responses_total{rcode=\"BADVERS\"} 1");
	lacks(text, "rcode=\"YXDOMAIN\""); /* rare rcodes only once they happen */
	has_line(text, "sinkholed_blocked_total{action=\"block\",list=\"alpha\"} 5");
	has_line(text, "sinkholed_blocked_total{action=\"log\",list=\"say \\\"hi\\\"\\\\\"} 6");
	has_line(text, "sinkholed_upstream_queries_total{result=\"timeout\",upstream=\"[2001:db8::"
		       "1]:5353\"} 2");
	has_line(text,
		 "sinkholed_upstream_queries_total{result=\"ok\",upstream=\"192.0.2.1:53\"} 0");
	has_line(text, "# TYPE sinkholed_cache_bytes gauge");
	has_line(text, "sinkholed_cache_bytes 123");
	has_line(text, "sinkholed_build_info{version=\"" SINKHOLED_VERSION "\"} 1");
	has_line(text, "sinkholed_blocklog_records_total{result=\"written\"} 0");
	has_line(text, "# TYPE process_start_time_seconds gauge");
	lacks(text, "(other)\",action"); /* the overflow slot only when counted */
	free(text);
}

static void test_histogram(void **state)
{
	struct fixture *f = *state;
	char *text;

	stats_observe_latency(f->w[0], 300);	 /* <= 0.0005 */
	stats_observe_latency(f->w[1], 1000);	 /* <= 0.001, on the bound */
	stats_observe_latency(f->w[0], 40000);	 /* <= 0.05 */
	stats_observe_latency(f->w[1], 9000000); /* +Inf only */
	text = render(f);
	has_line(text, "# TYPE sinkholed_upstream_latency_seconds histogram");
	has_line(text, "sinkholed_upstream_latency_seconds_bucket{le=\"0.0005\"} 1");
	has_line(text, "sinkholed_upstream_latency_seconds_bucket{le=\"0.001\"} 2");
	has_line(text, "sinkholed_upstream_latency_seconds_bucket{le=\"0.025\"} 2");
	has_line(text, "sinkholed_upstream_latency_seconds_bucket{le=\"0.05\"} 3");
	has_line(text, "sinkholed_upstream_latency_seconds_bucket{le=\"5\"} 3");
	has_line(text, "sinkholed_upstream_latency_seconds_bucket{le=\"+Inf\"} 4");
	has_line(text, "sinkholed_upstream_latency_seconds_count 4");
	has_line(text, "sinkholed_upstream_latency_seconds_sum 9.041300");
	free(text);
}

/* A reload that reorders the lists keeps each list's slot, and with it its counts. */
static void test_reload_keeps_slots(void **state)
{
	struct fixture *f = *state;
	struct config *b = load(config_b);
	uint8_t ls[STATS_LIST_SLOTS], us[STATS_UPSTREAM_SLOTS];
	char *text;

	metrics_map_labels(f->m, b, ls, us);
	assert_int_equal(ls[0], f->list_slot[1]);
	assert_int_equal(ls[1], f->list_slot[0]);
	assert_int_equal(us[0], f->up_slot[1]);
	STAT_ADD_AT(f->w[0], blocked, ls[1] * ACTIONS + ACTION_BLOCK, 1);
	STAT_ADD_AT(f->w[0], blocked, f->list_slot[0] * ACTIONS + ACTION_BLOCK, 2);
	f->files[0].block = 50; /* the quoted list's new version, now accepted */
	f->files[0].allow = 0;
	f->files[0].rejected = false;
	f->files[1].block = 11; /* alpha */
	f->files[1].rejected = false;
	metrics_state_loaded(f->m, b, &f->ps, 1700000100);
	metrics_reload_done(f->m, true);
	metrics_reload_done(f->m, false);
	metrics_list_fetched(f->m, "alpha", false, 1700000200);
	text = render(f);
	has_line(text, "sinkholed_blocked_total{action=\"block\",list=\"alpha\"} 3");
	/* An upstream no longer configured, and never counted, is left out. */
	lacks(text, "upstream=\"192.0.2.1:53\"");
	has_line(text, "sinkholed_list_entries{list=\"alpha\"} 11");
	has_line(text, "sinkholed_list_entries{list=\"say \\\"hi\\\"\\\\\"} 50");
	has_line(text, "sinkholed_list_last_success_timestamp_seconds{list=\"alpha\"} 1700000100");
	has_line(text, "sinkholed_list_last_success_timestamp_seconds{list=\"say \\\"hi\\\"\\\\\"} "
		       "1700000100");
	has_line(text, "sinkholed_list_load_failures_total{list=\"alpha\"} 1");
	has_line(text, "sinkholed_list_load_failures_total{list=\"say \\\"hi\\\"\\\\\"} 1");
	has_line(text, "sinkholed_reloads_total{result=\"ok\"} 1");
	has_line(text, "sinkholed_reloads_total{result=\"failed\"} 1");
	free(text);
	config_free(b);
}

/* More lists than slots: the rest share "(other)". */
static void test_overflow(void **state)
{
	struct fixture *f = *state;
	char yaml[16384], *text;
	size_t o = 0;
	struct config *c;
	uint8_t ls[STATS_LIST_SLOTS], us[STATS_UPSTREAM_SLOTS];

	o += (size_t)snprintf(yaml + o, sizeof(yaml) - o, "upstreams: [192.0.2.1]\nblocklists:\n");
	for (int i = 0; i < STATS_LIST_SLOTS + 5; i++)
		o += (size_t)snprintf(yaml + o, sizeof(yaml) - o, "  - l%d.txt\n", i);
	c = load(yaml);
	metrics_map_labels(f->m, c, ls, us);
	/* alpha and the quoted one hold two slots: l0.txt .. l60.txt get the rest. */
	assert_int_equal(ls[STATS_LIST_SLOTS - 1], STATS_LIST_SLOTS - 1);
	assert_int_equal(ls[STATS_LIST_SLOTS - 2], STATS_LIST_SLOTS - 1);
	assert_int_not_equal(ls[0], STATS_LIST_SLOTS - 1);
	STAT_ADD_AT(f->w[1], blocked, (STATS_LIST_SLOTS - 1) * ACTIONS + ACTION_BLOCK, 9);
	text = render(f);
	has_line(text, "sinkholed_blocked_total{action=\"block\",list=\"(other)\"} 9");
	free(text);
	config_free(c);
}

static void test_log_line(void **state)
{
	struct fixture *f = *state;
	char line[2048];

	STAT_ADD_AT(f->w[0], queries, TRANSPORT_UDP, 7);
	STAT_ADD_AT(f->w[1], queries, TRANSPORT_TCP, 2);
	STAT_ADD_AT(f->w[1], blocked, 3, 4);
	stats_observe_latency(f->w[0], 300);
	metrics_format_line(f->m, line, sizeof(line));
	assert_non_null(strstr(line, "queries 9, responses 0, dropped 0, blocked 4, "));
	assert_non_null(strstr(line, "upstream_latency 1, "));
	assert_non_null(strstr(line, "blocklog_written 0, blocklog_dropped 0, "
				     "blocklog_dropped_events 0, querylog_written 0, "
				     "querylog_dropped 0, reloads_ok 0"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_sums_and_labels, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_histogram, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reload_keeps_slots, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_overflow, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_log_line, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
