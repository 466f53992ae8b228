/* SPDX-License-Identifier: MIT */
/*
 * The block log's aggregation table (logagg.h): identical lookups merge within the window and
 * only then; any difference in client, name, type, entry, rule or action keeps records apart;
 * windows end at a later lookup or a flush; a full neighbourhood says so; nothing is lost.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <string.h>

#include "policy/policy.h"
#include "blocklog.h"
#include "logagg.h"

#define EMITTED_MAX 64

struct sink {
	struct blocklog_rec recs[EMITTED_MAX];
	size_t n;
};

static void emit(void *arg, const struct blocklog_rec *rec)
{
	struct sink *s = arg;

	assert_true(s->n < EMITTED_MAX);
	s->recs[s->n++] = *rec;
}

static const struct ioc_meta meta_a = {.malware = "A", .confidence = -1}, meta_b = {.malware = "B"};

static void base_rec(struct blocklog_rec *r, int64_t t_ms)
{
	static const uint8_t name[] = "\3www\4evil\3com";

	memset(r, 0, sizeof(*r));
	r->time_ms = t_ms;
	r->src_family = AF_INET;
	inet_pton(AF_INET, "10.0.0.7", r->src_addr);
	r->src_port = 40000;
	r->qtype = 1;
	r->qclass = 1;
	r->action = BLOCKLOG_BLOCKED;
	r->orig = BLOCKLOG_ORIG_ADDRESS;
	r->qname_len = sizeof(name);
	memcpy(r->qname, name, sizeof(name));
	r->rule_off = 4;
	r->meta = &meta_a;
}

static void same_key_merges(void **state)
{
	struct logagg *a = logagg_new(64, 42);
	struct sink s = {0};
	struct blocklog_rec r;

	(void)state;
	assert_non_null(a);
	base_rec(&r, 1000);
	assert_int_equal(logagg_add(a, &r, 1000, emit, &s), LOGAGG_STORED);
	for (int i = 1; i < 50; i++) {
		base_rec(&r, 1000 + i * 10);
		r.src_port = (uint16_t)(40000 + i); /* port and ID are not part of the key */
		r.txid = (uint16_t)i;
		assert_int_equal(logagg_add(a, &r, 1000, emit, &s), LOGAGG_MERGED);
	}
	assert_int_equal(s.n, 0);
	assert_int_equal(logagg_pending(a), 1);
	/* Not over yet at 1999; over at 2000. */
	assert_int_equal(logagg_flush(a, 1999, 1000, emit, &s), 0);
	assert_int_equal(logagg_flush(a, 2000, 1000, emit, &s), 1);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.recs[0].count, 50);
	assert_int_equal(s.recs[0].start_ms, 1000);
	assert_int_equal(s.recs[0].end_ms, 1490);
	assert_int_equal(s.recs[0].src_port, 40000); /* the first lookup's */
	assert_int_equal(logagg_pending(a), 0);
	logagg_free(a);
}

static void differences_do_not_merge(void **state)
{
	struct logagg *a = logagg_new(64, 7);
	struct sink s = {0};
	struct blocklog_rec r;
	size_t n_keys = 0;

	(void)state;
	base_rec(&r, 0);
	assert_int_equal(logagg_add(a, &r, 1000, emit, &s), LOGAGG_STORED);
	n_keys++;
	base_rec(&r, 1);
	r.src_addr[3] = 8; /* another client */
	assert_int_equal(logagg_add(a, &r, 1000, emit, &s), LOGAGG_STORED);
	n_keys++;
	base_rec(&r, 2);
	r.src_family = AF_INET6; /* the same bytes, another family */
	assert_int_equal(logagg_add(a, &r, 1000, emit, &s), LOGAGG_STORED);
	n_keys++;
	base_rec(&r, 3);
	r.qname[1] = 'x'; /* another name */
	assert_int_equal(logagg_add(a, &r, 1000, emit, &s), LOGAGG_STORED);
	n_keys++;
	base_rec(&r, 4);
	r.qtype = 28; /* another type */
	assert_int_equal(logagg_add(a, &r, 1000, emit, &s), LOGAGG_STORED);
	n_keys++;
	base_rec(&r, 5);
	r.meta = &meta_b; /* another entry */
	assert_int_equal(logagg_add(a, &r, 1000, emit, &s), LOGAGG_STORED);
	n_keys++;
	base_rec(&r, 5);
	r.ioc_id = 1600001; /* another entry of meta_a's submission (a ThreatFox IOC id) */
	assert_int_equal(logagg_add(a, &r, 1000, emit, &s), LOGAGG_STORED);
	n_keys++;
	base_rec(&r, 6);
	r.rule_off = 0; /* another rule */
	assert_int_equal(logagg_add(a, &r, 1000, emit, &s), LOGAGG_STORED);
	n_keys++;
	base_rec(&r, 7);
	r.action = BLOCKLOG_DROPPED; /* another action */
	assert_int_equal(logagg_add(a, &r, 1000, emit, &s), LOGAGG_STORED);
	n_keys++;
	base_rec(&r, 8);
	r.orig = BLOCKLOG_ORIG_RATELIMITED; /* done for another reason */
	assert_int_equal(logagg_add(a, &r, 1000, emit, &s), LOGAGG_STORED);
	n_keys++;
	assert_int_equal(logagg_pending(a), n_keys);
	/* Each of them again: merged into its own. */
	base_rec(&r, 9);
	assert_int_equal(logagg_add(a, &r, 1000, emit, &s), LOGAGG_MERGED);
	base_rec(&r, 10);
	r.qtype = 28;
	assert_int_equal(logagg_add(a, &r, 1000, emit, &s), LOGAGG_MERGED);
	assert_int_equal(logagg_flush(a, INT64_MAX, 0, emit, &s), n_keys);
	assert_int_equal(s.n, n_keys);
	{
		uint32_t sum = 0;

		for (size_t i = 0; i < s.n; i++)
			sum += s.recs[i].count;
		assert_int_equal(sum, n_keys + 2);
	}
	logagg_free(a);
}

/* A lookup after the window: the pending record goes, the lookup starts a new one. */
static void window_expiry(void **state)
{
	struct logagg *a = logagg_new(16, 1);
	struct sink s = {0};
	struct blocklog_rec r;

	(void)state;
	base_rec(&r, 5000);
	logagg_add(a, &r, 100, emit, &s);
	base_rec(&r, 5099);
	assert_int_equal(logagg_add(a, &r, 100, emit, &s), LOGAGG_MERGED);
	base_rec(&r, 5100);
	assert_int_equal(logagg_add(a, &r, 100, emit, &s), LOGAGG_STORED);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.recs[0].count, 2);
	assert_int_equal(s.recs[0].start_ms, 5000);
	assert_int_equal(s.recs[0].end_ms, 5099);
	assert_int_equal(logagg_pending(a), 1);
	assert_int_equal(logagg_flush(a, INT64_MAX, 0, emit, &s), 1);
	assert_int_equal(s.recs[1].count, 1);
	assert_int_equal(s.recs[1].start_ms, 5100);
	assert_int_equal(s.recs[1].end_ms, 5100);
	logagg_free(a);
}

/*
 * More distinct keys than the table holds: some are refused (LOGAGG_FULL, the caller logs them
 * alone), none is lost or merged into another, and identical ones still merge.
 */
static void table_full(void **state)
{
	struct logagg *a = logagg_new(8, 3);
	static struct sink s;
	struct blocklog_rec r;
	unsigned stored = 0, full = 0;

	(void)state;
	s.n = 0;
	for (unsigned i = 0; i < 40; i++) {
		base_rec(&r, 0);
		r.src_addr[2] = (uint8_t)i;
		switch (logagg_add(a, &r, 1000, emit, &s)) {
		case LOGAGG_STORED:
			stored++;
			break;
		case LOGAGG_FULL:
			full++;
			break;
		case LOGAGG_MERGED:
			fail_msg("distinct keys merged");
		}
	}
	assert_int_equal(stored, 8);
	assert_int_equal(full, 32);
	assert_int_equal(logagg_pending(a), 8);
	assert_int_equal(s.n, 0);
	/* A stored key still merges. */
	base_rec(&r, 1);
	r.src_addr[2] = 0;
	assert_int_equal(logagg_add(a, &r, 1000, emit, &s), LOGAGG_MERGED);
	assert_int_equal(logagg_flush(a, INT64_MAX, 0, emit, &s), 8);
	/* Emptied: room again. */
	base_rec(&r, 2);
	r.src_addr[2] = 39;
	assert_int_equal(logagg_add(a, &r, 1000, emit, &s), LOGAGG_STORED);
	logagg_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(same_key_merges),
		cmocka_unit_test(differences_do_not_merge),
		cmocka_unit_test(window_expiry),
		cmocka_unit_test(table_full),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
