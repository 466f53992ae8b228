/* SPDX-License-Identifier: MIT */
/*
 * What the dashboard learns from the block log (insight.h): beacon detection (periodic
 * lookups with jitter among random noise are flagged with their median interval and jitter;
 * noise, bursts and retro-hunt findings are not; AdditionalFields.Beacon), bounded memory
 * with more pairs than slots, the timeline, the top counters, and the JSON views' escaping.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "blocklog.h"
#include "insight.h"
#include "policy/policy.h"
#include "util/jbuf.h"
#include "util/name.h"

#define T0 1764547200000LL /* 2025-12-01T00:00:00Z, ms */
#define SEC 1000LL

static const struct ioc_meta nanocore = {
    .malware = "NanoCore RAT",
    .threat_type = "botnet_cc",
    .source = "ThreatFox",
    .file = "blocklist.yaml",
    .confidence = 75,
    .first_seen = INT64_MIN,
    .expires = INT64_MAX,
};

/* A deterministic generator (xorshift64*), so that every run sees the same noise. */
static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static double uniform(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (double)((rng * 0x2545f4914f6cdd1dULL) >> 11) / 9007199254740992.0;
}

/* A blocked lookup of qname (rule: its last rule_labels labels) by 10.0.x.y at t_ms. */
static void make_rec(struct blocklog_rec *r, unsigned client, const char *qname, int64_t t_ms,
		     const struct ioc_meta *meta)
{
	const char *why;
	int n;

	memset(r, 0, sizeof(*r));
	r->time_ms = t_ms;
	r->src_family = AF_INET;
	r->src_addr[0] = 10;
	r->src_addr[2] = (uint8_t)(client >> 8);
	r->src_addr[3] = (uint8_t)client;
	r->src_port = 40000;
	r->proto = BLOCKLOG_UDP;
	r->action = BLOCKLOG_BLOCKED;
	r->qtype = 1;
	r->qclass = 1;
	n = name_to_wire(qname, strlen(qname), r->qname, &why);
	assert_true(n > 0);
	r->qname_len = (uint8_t)n;
	r->rule_off = 0;
	r->meta = meta;
}

/* Observe a lookup; returns the length of the Beacon member added (0: none), text in out. */
static size_t lookup(struct insight *in, unsigned client, const char *qname, int64_t t_ms,
		     char *out, size_t cap)
{
	struct blocklog_rec r;

	make_rec(&r, client, qname, t_ms, &nanocore);
	return insight_observe(in, &r, out, cap);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* The reference: median and median absolute deviation of the intervals of t, with qsort. */
static void reference(const int64_t *t, size_t n, int64_t *med, int64_t *mad)
{
	int64_t d[64], dev[64];
	size_t k = n - 1;

	for (size_t i = 0; i < k; i++)
		d[i] = t[i + 1] - t[i];
	qsort(d, k, sizeof(d[0]), cmp_i64);
	*med = k % 2 ? d[k / 2] : (d[k / 2 - 1] + d[k / 2]) / 2;
	for (size_t i = 0; i < k; i++)
		dev[i] = llabs(d[i] - *med);
	qsort(dev, k, sizeof(dev[0]), cmp_i64);
	*mad = k % 2 ? dev[k / 2] : (dev[k / 2 - 1] + dev[k / 2]) / 2;
}

static void test_rule_periodic_with_jitter(void **state)
{
	int64_t t[INSIGHT_HISTORY], med, mad;
	struct insight_beacon b;

	(void)state;
	/* Every 60 s, each call-home up to 4 s early or late (Cobalt Strike's jitter, ~7%). */
	for (size_t i = 0; i < INSIGHT_HISTORY; i++)
		t[i] = T0 + (int64_t)i * 60 * SEC + (int64_t)((uniform() - 0.5) * 8000);
	assert_true(insight_beacon_rule(t, INSIGHT_HISTORY, &b));
	reference(t, INSIGHT_HISTORY, &med, &mad);
	assert_int_equal(b.interval_ms, med);
	assert_int_equal(b.jitter_ms, mad);
	assert_true(llabs(b.interval_ms - 60 * SEC) <= 3 * SEC);
	assert_true(b.jitter_ms > 0 && b.jitter_ms <= 4 * SEC);
	assert_int_equal(b.lookups, INSIGHT_HISTORY);

	/* 8 intervals are enough, 7 are not. */
	assert_true(insight_beacon_rule(t, BEACON_MIN_INTERVALS + 1, &b));
	assert_false(insight_beacon_rule(t, BEACON_MIN_INTERVALS, &b));

	/* A missed call-home (one interval twice as long) does not hide it. */
	for (size_t i = 8; i < INSIGHT_HISTORY; i++)
		t[i] += 60 * SEC;
	assert_true(insight_beacon_rule(t, INSIGHT_HISTORY, &b));
	assert_true(llabs(b.interval_ms - 60 * SEC) <= 3 * SEC);

	/* 50% jitter is too much. */
	for (size_t i = 0; i < INSIGHT_HISTORY; i++)
		t[i] = T0 + (int64_t)i * 60 * SEC + (int64_t)(uniform() * 60000);
	assert_false(insight_beacon_rule(t, INSIGHT_HISTORY, &b));
}

/* Random lookups (a Poisson process, mean interval 60 s) are never steady enough. */
static void test_rule_noise(void **state)
{
	int64_t t[INSIGHT_HISTORY];
	struct insight_beacon b;
	int flagged = 0;

	(void)state;
	for (int run = 0; run < 1000; run++) {
		int64_t now = T0;

		for (size_t i = 0; i < INSIGHT_HISTORY; i++) {
			now += (int64_t)(-log(1.0 - uniform()) * 60000) + 1000;
			t[i] = now;
		}
		flagged += insight_beacon_rule(t, INSIGHT_HISTORY, &b);
	}
	assert_int_equal(flagged, 0);
}

/*
 * One beacon among noise, through the observer: 300 clients look up 40 rules at random times
 * for 20 minutes, and 10.0.0.7 looks up www.c2.test every 30 s (+-1 s). Only that pair is
 * flagged, its records carry AdditionalFields.Beacon from the 9th call-home on, with the right
 * interval and jitter.
 */
static void test_observe_flags_planted_beacon(void **state)
{
	struct insight *in = insight_new(42);
	struct insight_beacon found[8];
	int64_t times[64], med, mad;
	size_t n_times = 0, n;
	char extra[256], want[256], name[64];
	int64_t next_beacon = T0 + 5 * SEC;

	(void)state;
	assert_non_null(in);
	for (int64_t now = T0; now < T0 + 20 * 60 * SEC; now += 250) {
		if (uniform() < 0.5) {
			snprintf(name, sizeof(name), "n%d.noise%d.test", (int)(uniform() * 5),
				 (int)(uniform() * 40));
			assert_int_equal(lookup(in, 100 + (unsigned)(uniform() * 300), name, now,
						extra, sizeof(extra)),
					 0);
		}
		if (now >= next_beacon) {
			size_t len;

			times[n_times++] = now;
			len = lookup(in, 7, "c2.test", now, extra, sizeof(extra));
			/* Its AAAA lookup right after: the same call-home. */
			lookup(in, 7, "c2.test", now + 3, extra, sizeof(extra));
			if (n_times <= BEACON_MIN_INTERVALS) {
				assert_int_equal(len, 0);
			} else {
				size_t k =
				    n_times > INSIGHT_HISTORY ? n_times - INSIGHT_HISTORY : 0;

				reference(times + k, n_times - k, &med, &mad);
				snprintf(want, sizeof(want),
					 ",\"Beacon\":{\"IntervalSeconds\":%lld.%03lld,"
					 "\"JitterSeconds\":%lld.%03lld,\"Lookups\":%zu}",
					 (long long)(med / 1000), (long long)(med % 1000),
					 (long long)(mad / 1000), (long long)(mad % 1000),
					 n_times - k);
				assert_string_equal(extra, want);
			}
			next_beacon = now + 30 * SEC + (int64_t)((uniform() - 0.5) * 2000);
		}
	}
	n = insight_beacons(in, found, 8);
	assert_int_equal(n, 1);
	assert_int_equal(found[0].addr[3], 7);
	assert_int_equal(found[0].rule_len, 9); /* c2.test */
	assert_true(llabs(found[0].interval_ms - 30 * SEC) <= SEC);
	assert_true(found[0].jitter_ms <= SEC);
	assert_string_equal(found[0].malware, "NanoCore RAT");
	insight_free(in);
}

/* A burst (many lookups close together, however long) is one call-home: never a beacon. */
static void test_observe_burst(void **state)
{
	struct insight *in = insight_new(1);
	struct insight_beacon found[4];
	char extra[256];

	(void)state;
	/* 2000 lookups 100-900 ms apart: one call-home. */
	for (int64_t i = 0, t = T0; i < 2000; i++, t += 100 + (int64_t)(uniform() * 800))
		assert_int_equal(lookup(in, 1, "burst.test", t, extra, sizeof(extra)), 0);
	/* Ten bursts of 50 lookups, 20 minutes apart but at random offsets: no steady interval. */
	for (int k = 0; k < 10; k++) {
		int64_t t = T0 + 3600 * SEC + k * 1200 * SEC + (int64_t)(uniform() * 900 * SEC);

		for (int i = 0; i < 50; i++)
			assert_int_equal(
			    lookup(in, 2, "burst.test", t + i * 10, extra, sizeof(extra)), 0);
	}
	assert_int_equal(insight_beacons(in, found, 4), 0);
	insight_free(in);
}

/*
 * A retro-hunt finding adds no call-home (it knows only its first and last lookup), and
 * carries Beacon only when its pair is a beacon by its blocked lookups.
 */
static void test_retro_records(void **state)
{
	struct insight *in = insight_new(3);
	struct blocklog_rec r;
	char extra[256];

	(void)state;
	for (int i = 0; i < 20; i++) {
		make_rec(&r, 9, "www.late.test", T0 + i * 60 * SEC, &nanocore);
		r.proto = BLOCKLOG_RETRO;
		r.action = BLOCKLOG_ALLOWED;
		r.count = 5;
		r.start_ms = T0 + i * 60 * SEC;
		r.end_ms = r.start_ms + 10 * SEC;
		r.rule_off = 4;
		assert_int_equal(insight_observe(in, &r, extra, sizeof(extra)), 0);
	}
	for (int i = 0; i < 9; i++) {
		make_rec(&r, 9, "www.late.test", T0 + 3600 * SEC + i * 10 * SEC, &nanocore);
		r.rule_off = 4;
		insight_observe(in, &r, extra, sizeof(extra));
	}
	assert_string_equal(extra,
			    ",\"Beacon\":{\"IntervalSeconds\":10.000,\"JitterSeconds\":0.000,"
			    "\"Lookups\":9}");
	make_rec(&r, 9, "other.late.test", T0 + 3700 * SEC, &nanocore);
	r.proto = BLOCKLOG_RETRO;
	r.rule_off = 6;
	r.count = 3;
	assert_true(insight_observe(in, &r, extra, sizeof(extra)) > 0); /* late.test too */
	r.src_addr[3] = 10;						/* another client */
	assert_int_equal(insight_observe(in, &r, extra, sizeof(extra)), 0);
	insight_free(in);
}

/* More pairs than slots: memory stays what it was, and a recent beacon is still followed. */
static void test_bounded_memory(void **state)
{
	struct insight *in = insight_new(7);
	size_t mem = insight_memory(in);
	struct insight_beacon found[4];
	char extra[256], name[64];
	unsigned noise = 0;

	(void)state;
	for (int i = 0; i < 24; i++) {
		int64_t t = T0 + i * 60 * SEC;

		/* INSIGHT_PAIRS / 8 new pairs between two call-homes: 3 x INSIGHT_PAIRS in all. */
		for (int j = 0; j < INSIGHT_PAIRS / 8; j++, noise++) {
			snprintf(name, sizeof(name), "n%u.test", noise);
			lookup(in, noise % 5000, name, t + 1000 + j, extra, sizeof(extra));
		}
		lookup(in, 7, "c2.test", t, extra, sizeof(extra));
		assert_true(insight_pairs(in) <= INSIGHT_PAIRS);
	}
	assert_int_equal(insight_memory(in), mem);
	assert_int_equal(insight_pairs(in), INSIGHT_PAIRS);
	assert_int_equal(insight_beacons(in, found, 4), 1);
	assert_int_equal(found[0].interval_ms, 60 * SEC);
	insight_free(in);
}

/* The timeline: per minute and family, "other" beyond INSIGHT_FAMILIES, 24 h window. */
static void test_timeline(void **state)
{
	struct insight *in = insight_new(5);
	struct ioc_meta fam[INSIGHT_FAMILIES + 3];
	char names[INSIGHT_FAMILIES + 3][32], extra[256];
	struct blocklog_rec r;
	struct jbuf b = {0};
	int64_t now = T0 + 2 * 86400 * SEC;
	size_t len;
	char *text;

	(void)state;
	for (int f = 0; f < INSIGHT_FAMILIES + 3; f++) {
		fam[f] = nanocore;
		snprintf(names[f], sizeof(names[f]), "Family %02d", f);
		fam[f].malware = names[f];
	}
	/* Older than 24 h: not in the timeline. */
	make_rec(&r, 1, "old.test", now - 86400 * SEC - 120 * SEC, &fam[0]);
	insight_observe(in, &r, extra, sizeof(extra));
	for (int f = 0; f < INSIGHT_FAMILIES + 3; f++) {
		make_rec(&r, 1, "x.test", now - 600 * SEC, &fam[f]);
		insight_observe(in, &r, extra, sizeof(extra));
	}
	make_rec(&r, 1, "x.test", now - 5 * SEC, &fam[0]);
	insight_observe(in, &r, extra, sizeof(extra));
	make_rec(&r, 1, "x.test", now - 4 * SEC, NULL);
	insight_observe(in, &r, extra, sizeof(extra));
	insight_json_timeline(in, now, &b);
	text = jbuf_take(&b, &len);
	assert_non_null(text);
	/*
	 * Family 00: 1 ten minutes ago and 1 in the last minute; the families past the 12th,
	 * and the lookup without one, are "other".
	 */
	assert_non_null(strstr(text, "{\"family\":\"Family 00\",\"other\":false,\"counts\":["));
	assert_non_null(strstr(text, ",1,0,0,0,0,0,0,0,0,1,0],\"total\":2}"));
	assert_null(strstr(text, "Family 12"));
	assert_non_null(strstr(text, "{\"family\":null,\"other\":true,\"counts\":["));
	assert_non_null(strstr(text, "],\"total\":4}"));
	free(text);
	insight_free(in);
}

/* Space-saving: the heavy hitters are on top with their counts, among many light keys. */
static void test_top(void **state)
{
	struct insight *in = insight_new(9);
	struct jbuf b = {0};
	char extra[256], name[64];
	size_t len;
	char *text;

	(void)state;
	for (int i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "light%d.test", i);
		lookup(in, 1000 + (unsigned)i, name, T0 + i, extra, sizeof(extra));
		if (i % 10 == 0)
			lookup(in, 1, "heavy.test", T0 + i, extra, sizeof(extra));
		if (i % 25 == 0)
			lookup(in, 2, "second.test", T0 + i, extra, sizeof(extra));
	}
	insight_json_top(in, T0, &b);
	text = jbuf_take(&b, &len);
	assert_non_null(text);
	assert_non_null(strstr(text, "{\"clients\":[{\"SrcIpAddr\":\"10.0.0.1\",\"lookups\":"));
	assert_non_null(strstr(text, "{\"SrcIpAddr\":\"10.0.0.2\",\"lookups\":"));
	assert_non_null(strstr(text, "\"iocs\":[{\"RuleName\":\"heavy.test\",\"ThreatName\":"
				     "\"NanoCore RAT\",\"lookups\":"));
	/* Counted exactly: a heavy hitter never falls out (500 of 5700 lookups). */
	assert_non_null(strstr(text, "\"heavy.test\",\"ThreatName\":\"NanoCore RAT\","
				     "\"lookups\":500,"));
	free(text);
	insight_free(in);
}

/* Names and metadata with any byte are escaped as the block log escapes them. */
static void test_json_escaping(void **state)
{
	struct insight *in = insight_new(11);
	struct ioc_meta m = nanocore;
	struct blocklog_rec r;
	struct jbuf b = {0};
	char extra[256];
	size_t len;
	char *text;
	static const uint8_t hostile[] = {11,  '<', 's', '>', '"', 'q', 0x01, '\\', 0xff,
					  '&', '/', '>', 4,   't', 'e', 's',  't',  0};

	(void)state;
	m.malware = "Bad \"RAT\"\n<script>";
	make_rec(&r, 1, "x.test", T0, &m);
	memcpy(r.qname, hostile, sizeof(hostile));
	r.qname_len = sizeof(hostile);
	r.rule_off = 12;
	insight_observe(in, &r, extra, sizeof(extra));
	insight_json_blocks(in, T0, &b);
	insight_json_top(in, T0, &b);
	text = jbuf_take(&b, &len);
	assert_non_null(text);
	assert_non_null(strstr(text, "\"DnsQuery\":\"<s>\\\\034q\\\\001\\\\092\\\\255&/>.test\""));
	assert_non_null(strstr(text, "\"ThreatName\":\"Bad \\\"RAT\\\"\\u000a<script>\""));
	assert_non_null(strstr(text, "\"RuleName\":\"test\""));
	/* No raw control byte or unescaped quote got through. */
	for (size_t i = 0; i < len; i++)
		assert_true((unsigned char)text[i] >= 0x20);
	free(text);
	insight_free(in);
}

/*
 * ThreatId: an entry's numeric IOC id (a ThreatFox row's, its metadata shared with its
 * submission) in the latest blocks and the retro-hunt findings; else the metadata's text id.
 */
static void test_ioc_id(void **state)
{
	struct insight *in = insight_new(13);
	struct ioc_meta text_id = nanocore;
	struct blocklog_rec r;
	struct jbuf b = {0};
	char extra[256];
	size_t len;
	char *text;

	(void)state;
	make_rec(&r, 1, "a1.test", T0, &nanocore);
	r.ioc_id = 1600001;
	insight_observe(in, &r, extra, sizeof(extra));
	make_rec(&r, 2, "a2.test", T0 + SEC, &nanocore);
	r.ioc_id = 4294967295u;
	r.proto = BLOCKLOG_RETRO;
	r.count = 3;
	r.start_ms = T0 - 10 * SEC;
	r.end_ms = T0 - SEC;
	r.listed_ms = T0;
	insight_observe(in, &r, extra, sizeof(extra));
	text_id.id = "abc-7";
	make_rec(&r, 3, "s1.test", T0 + 2 * SEC, &text_id);
	insight_observe(in, &r, extra, sizeof(extra));
	insight_json_blocks(in, T0 + 3 * SEC, &b);
	text = jbuf_take(&b, &len);
	assert_non_null(text);
	assert_non_null(strstr(text, "\"ThreatId\":\"1600001\","));
	assert_non_null(strstr(text, "\"ThreatId\":\"abc-7\","));
	free(text);
	insight_json_retro(in, T0 + 3 * SEC, &b);
	text = jbuf_take(&b, &len);
	assert_non_null(text);
	assert_non_null(strstr(text, "\"ThreatId\":\"4294967295\","));
	free(text);
	insight_free(in);
}

/* An aggregated record (identical lookups within block_log.aggregate_ms) counts its lookups. */
static void test_aggregated_record(void **state)
{
	struct insight *in = insight_new(15);
	struct blocklog_rec r;
	struct jbuf b = {0};
	char extra[256];
	size_t len;
	char *text;

	(void)state;
	make_rec(&r, 7, "flood.test", T0 + 900, &nanocore);
	r.count = 25;
	r.start_ms = T0;
	r.end_ms = T0 + 900;
	insight_observe(in, &r, extra, sizeof(extra));
	make_rec(&r, 7, "flood.test", T0 + 2 * SEC, &nanocore);
	insight_observe(in, &r, extra, sizeof(extra));
	insight_json_top(in, T0, &b);
	insight_json_blocks(in, T0, &b);
	text = jbuf_take(&b, &len);
	assert_non_null(text);
	assert_non_null(strstr(text, "{\"SrcIpAddr\":\"10.0.0.7\",\"lookups\":26,"));
	assert_non_null(strstr(text, "\"iocs\":[{\"RuleName\":\"flood.test\",\"ThreatName\":"
				     "\"NanoCore RAT\",\"lookups\":26,"));
	assert_non_null(strstr(text, "\"EventCount\":25,"));
	free(text);
	insight_free(in);
}

/*
 * An IP indicator hit: RuleName is the listed prefix (the address masked to its length),
 * MatchedVia ip with the address found; two addresses in one prefix are one IOC.
 */
static void test_ip_hits(void **state)
{
	struct insight *in = insight_new(13);
	struct blocklog_rec r;
	struct jbuf b = {0};
	char extra[256];
	size_t len;
	char *text;
	static const uint8_t a1[4] = {192, 0, 2, 77}, a2[4] = {192, 0, 2, 78};
	static const uint8_t a6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5};

	(void)state;
	for (int i = 0; i < 3; i++) {
		make_rec(&r, 1, "cloaked.example", T0 + i * SEC, &nanocore);
		r.via = BLOCKLOG_VIA_IP;
		r.matched_len = 4;
		memcpy(r.matched, i ? a2 : a1, 4);
		r.rule_off = 24;
		insight_observe(in, &r, extra, sizeof(extra));
	}
	make_rec(&r, 2, "v6.example", T0 + 5 * SEC, &nanocore);
	r.via = BLOCKLOG_VIA_IP;
	r.matched_len = 16;
	memcpy(r.matched, a6, 16);
	r.rule_off = 128;
	insight_observe(in, &r, extra, sizeof(extra));
	insight_json_blocks(in, T0, &b);
	insight_json_top(in, T0, &b);
	text = jbuf_take(&b, &len);
	assert_non_null(text);
	assert_non_null(strstr(text, "\"DnsQuery\":\"cloaked.example\""));
	assert_non_null(strstr(text, "\"RuleName\":\"192.0.2.0/24\",\"MatchedVia\":\"ip\","
				     "\"MatchedName\":null,\"DnsResponseName\":\"192.0.2.78\""));
	assert_non_null(strstr(text, "\"RuleName\":\"2001:db8::5\",\"MatchedVia\":\"ip\","
				     "\"MatchedName\":null,\"DnsResponseName\":\"2001:db8::5\""));
	assert_non_null(strstr(text, "\"iocs\":[{\"RuleName\":\"192.0.2.0/24\",\"ThreatName\":"
				     "\"NanoCore RAT\",\"lookups\":3,"));
	free(text);
	insight_free(in);
}

/*
 * Through the block log's writer (blocklog_set_observer): a beacon's records get
 * AdditionalFields.Beacon as the last member, from the 9th call-home on, and stay whole lines.
 */
static void test_block_log_carries_beacon(void **state)
{
	char path[] = "/tmp/test_insight_XXXXXX", *data, *line;
	struct insight *in = insight_new(13);
	struct blocklog *bl;
	struct blocklog_rec r;
	size_t len = 0, cap = 0;
	int fd = mkstemp(path), n = 0;
	FILE *f;

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	bl = blocklog_new(path, "dns1", 64, 1);
	assert_non_null(bl);
	blocklog_set_observer(bl, insight_observe, in);
	for (int i = 0; i < 10; i++) {
		make_rec(&r, 5, "www.c2.test", T0 + i * 30 * SEC, &nanocore);
		r.rule_off = 4;
		assert_int_equal(blocklog_submit(bl, 0, &r), 0);
	}
	blocklog_sync(bl);
	f = fopen(path, "r");
	assert_non_null(f);
	data = NULL;
	for (int i = 0; getline(&data, &cap, f) > 0; i++, n++) {
		char want[256];

		line = data;
		len = strlen(line);
		assert_memory_equal(line + len - 3, "}}\n", 3);
		if (i < 8) {
			assert_null(strstr(line, "Beacon"));
			continue;
		}
		snprintf(want, sizeof(want),
			 "\"ListFile\":\"blocklist.yaml\",\"Beacon\":{\"IntervalSeconds\":30.000,"
			 "\"JitterSeconds\":0.000,\"Lookups\":%d}}}\n",
			 i + 1);
		assert_non_null(strstr(line, want));
		assert_string_equal(strstr(line, want), want);
	}
	assert_int_equal(n, 10);
	free(data);
	fclose(f);
	blocklog_free(bl);
	insight_free(in);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rule_periodic_with_jitter),
	    cmocka_unit_test(test_rule_noise),
	    cmocka_unit_test(test_observe_flags_planted_beacon),
	    cmocka_unit_test(test_observe_burst),
	    cmocka_unit_test(test_retro_records),
	    cmocka_unit_test(test_bounded_memory),
	    cmocka_unit_test(test_timeline),
	    cmocka_unit_test(test_top),
	    cmocka_unit_test(test_json_escaping),
	    cmocka_unit_test(test_ioc_id),
	    cmocka_unit_test(test_ip_hits),
	    cmocka_unit_test(test_aggregated_record),
	    cmocka_unit_test(test_block_log_carries_beacon),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
