/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the answer cache: TTL arithmetic, key normalisation, negative and failure
 * caching, truncation on serve, eviction under a flood, malformed replies. Replies are built
 * by hand; time is the now_ms argument (no sleeps).
 */
/* cmocka needs these first, in this order */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "cache.h"
#include "dnsmsg.h"
#include "wire.h"

#define T0 1000000 /* a start time in ms that is not 0 */
#define QR_RD 0x81 /* header byte 2 of a reply: QR, RD */
#define RA 0x80	   /* header byte 3: RA */

/* ---- building messages ---- */


static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Header and question. Counts are set by counts(). */
static void header(struct msg *m, uint16_t id, uint8_t f2, uint8_t f3, const char *name,
		   uint16_t qtype)
{
	memset(m, 0, sizeof(*m));
	put16(m, id);
	put8(m, f2);
	put8(m, f3);
	put16(m, 1);
	put16(m, 0);
	put16(m, 0);
	put16(m, 0);
	put_name(m, name);
	put16(m, qtype);
	put16(m, 1);
}

static void counts(struct msg *m, uint16_t an, uint16_t ns, uint16_t ar)
{
	m->b[6] = (uint8_t)(an >> 8);
	m->b[7] = (uint8_t)an;
	m->b[8] = (uint8_t)(ns >> 8);
	m->b[9] = (uint8_t)ns;
	m->b[10] = (uint8_t)(ar >> 8);
	m->b[11] = (uint8_t)ar;
}

/* A record owned by the question name (pointer to offset 12). */
static void rr(struct msg *m, uint16_t type, uint32_t ttl, const void *rdata, uint16_t rdlen)
{
	put16(m, 0xC00C);
	put16(m, type);
	put16(m, 1);
	m->ttl_off[m->n_rr++] = m->len;
	put32(m, ttl);
	put16(m, rdlen);
	put(m, rdata, rdlen);
}

static void rr_a(struct msg *m, uint32_t ttl, uint8_t last)
{
	const uint8_t a[4] = {192, 0, 2, last};

	rr(m, DNS_T_A, ttl, a, 4);
}

static void rr_soa(struct msg *m, uint32_t ttl, uint32_t minimum)
{
	struct msg r = {0};

	put_name(&r, "ns.example.com");
	put_name(&r, "hostmaster.example.com");
	put32(&r, 2026112801);
	put32(&r, 3600);
	put32(&r, 600);
	put32(&r, 86400);
	put32(&r, minimum);
	rr(m, DNS_T_SOA, ttl, r.b, (uint16_t)r.len);
}

/* An OPT (root owner, UDP size 1232, DO as given); returns the offset of its TTL field. */
static size_t rr_opt(struct msg *m, bool do_bit)
{
	size_t off;

	put8(m, 0);
	put16(m, DNS_T_OPT);
	put16(m, 1232);
	off = m->len;
	put8(m, 0);
	put8(m, 0);
	put8(m, do_bit ? 0x80 : 0);
	put8(m, 0);
	put16(m, 0);
	return off;
}

/* A client query and its parse. */
struct query {
	struct msg m;
	struct dns_query q;
};

enum { Q_EDNS = 1, Q_DO = 2, Q_CD = 4, Q_NORD = 8 };

static void query(struct query *t, uint16_t id, const char *name, uint16_t qtype, int opts)
{
	header(&t->m, id, (opts & Q_NORD) ? 0 : 0x01, (opts & Q_CD) ? 0x10 : 0, name, qtype);
	if (opts & (Q_EDNS | Q_DO)) {
		rr_opt(&t->m, opts & Q_DO);
		counts(&t->m, 0, 0, 1);
	}
	assert_int_equal(dnsmsg_parse_query(t->m.b, t->m.len, &t->q), QUERY_OK);
}

/* The reply to q as an upstream sends it: its own ID and the question as sent. */
static void reply(struct msg *m, const struct query *t, uint8_t rcode)
{
	header(m, 0xBEEF, QR_RD, RA | rcode, "", 0);
	m->len = DNS_HDR_LEN;
	put(m, t->m.b + DNS_HDR_LEN, t->q.question_end - DNS_HDR_LEN);
}

static struct cache_conf conf(void)
{
	return (struct cache_conf){
	    .enabled = true,
	    .size = 1 << 20,
	    .min_ttl = 0,
	    .max_ttl = 86400,
	    .negative_ttl_max = 3600,
	};
}

static struct cache_stats stats(const struct cache *c)
{
	struct cache_stats st;

	cache_get_stats(c, &st);
	return st;
}

/* Lookup that must hit; returns the answer length. */
static size_t hit(struct cache *c, const struct query *t, uint64_t now, uint8_t *out)
{
	size_t n = cache_lookup(c, &t->q, now, out, 4096, 65535);

	assert_true(n > 0);
	assert_int_equal(get16(out), t->q.id);
	return n;
}

static void miss(struct cache *c, const struct query *t, uint64_t now)
{
	uint8_t out[4096];

	assert_int_equal(cache_lookup(c, &t->q, now, out, sizeof(out), 65535), 0);
}

/* An authoritative upstream's answer (AA=1, RA=0, Z=1) is served as a recursive one's. */
static void test_recursive_flags(void **state)
{
	struct cache_conf cf = conf();
	struct cache *c = cache_new(&cf);
	struct query t;
	struct msg r;
	uint8_t out[4096];

	(void)state;
	query(&t, 0x1234, "www.example.com", DNS_T_A, Q_CD);
	reply(&r, &t, DNS_NOERROR);
	rr_a(&r, 300, 1);
	counts(&r, 1, 0, 0);
	r.b[2] |= 0x04;		   /* AA */
	r.b[3] = 0x40 | 0x20 | 0x10; /* Z, AD, CD; RA=0 */
	cache_store(c, &t.q, r.b, r.len, T0);
	hit(c, &t, T0 + 1000, out);
	assert_int_equal(out[2], 0x81);	/* QR, RD; AA=0 */
	assert_int_equal(out[3], 0xB0); /* RA, AD and CD as received, Z=0 */
	cache_free(c);
}

/* ---- TTL arithmetic ---- */

static void test_min_ttl_and_decrement(void **state)
{
	struct cache_conf cf = conf();
	struct cache *c = cache_new(&cf);
	struct query t;
	struct msg r;
	uint8_t out[4096];
	size_t n;

	(void)state;
	query(&t, 0x1234, "www.example.com", DNS_T_A, 0);
	reply(&r, &t, DNS_NOERROR);
	rr_a(&r, 300, 1);
	rr_a(&r, 120, 2);
	counts(&r, 2, 0, 0);
	miss(c, &t, T0);
	cache_store(c, &t.q, r.b, r.len, T0);
	assert_int_equal(stats(c).stores, 1);
	assert_int_equal(stats(c).entries, 1);

	/* At once: the TTLs as received. */
	n = hit(c, &t, T0, out);
	assert_int_equal(n, r.len);
	assert_int_equal(get32(out + r.ttl_off[0]), 300);
	assert_int_equal(get32(out + r.ttl_off[1]), 120);
	/* The rest of the reply is the stored one, but for the ID. */
	assert_memory_equal(out + 2, r.b + 2, r.len - 2);

	/* 10 s later (whole seconds: 10.999 s counts as 10) */
	hit(c, &t, T0 + 10000, out);
	assert_int_equal(get32(out + r.ttl_off[0]), 290);
	assert_int_equal(get32(out + r.ttl_off[1]), 110);
	hit(c, &t, T0 + 10999, out);
	assert_int_equal(get32(out + r.ttl_off[0]), 290);
	assert_int_equal(get32(out + r.ttl_off[1]), 110);

	/* The entry lives for the smallest TTL: 120 s. */
	hit(c, &t, T0 + 119999, out);
	assert_int_equal(get32(out + r.ttl_off[0]), 181);
	assert_int_equal(get32(out + r.ttl_off[1]), 1);
	miss(c, &t, T0 + 120000);
	assert_int_equal(stats(c).hits, 4);
	assert_int_equal(stats(c).misses, 2);
	assert_int_equal(stats(c).expired, 1);
	assert_int_equal(stats(c).entries, 0);
	cache_free(c);
}

/* Authority records count for the entry TTL, additional ones do not. */
static void test_ttl_sections(void **state)
{
	struct cache_conf cf = conf();
	struct cache *c = cache_new(&cf);
	struct query t;
	struct msg r;
	uint8_t out[4096];
	const uint8_t ns[] = "\x02ns\x07"
			     "example\x03"
			     "com";

	(void)state;
	query(&t, 7, "example.com", DNS_T_A, 0);
	reply(&r, &t, DNS_NOERROR);
	rr_a(&r, 600, 1);
	rr(&r, DNS_T_NS, 100, ns, sizeof(ns));
	rr_a(&r, 5, 2); /* glue */
	counts(&r, 1, 1, 1);
	cache_store(c, &t.q, r.b, r.len, T0);
	hit(c, &t, T0 + 6000, out);
	assert_int_equal(get32(out + r.ttl_off[0]), 594);
	assert_int_equal(get32(out + r.ttl_off[1]), 94);
	assert_int_equal(get32(out + r.ttl_off[2]), 0); /* never below 0 */
	hit(c, &t, T0 + 99999, out);
	miss(c, &t, T0 + 100000);
	cache_free(c);
}

static void test_clamp(void **state)
{
	struct cache_conf cf = conf();
	struct cache *c;
	struct query t;
	struct msg r;
	uint8_t out[4096];

	(void)state;
	cf.min_ttl = 60;
	cf.max_ttl = 200;
	c = cache_new(&cf);

	/* 1000 and 150: served as 200 and 150, entry lives 150 s */
	query(&t, 1, "a.example", DNS_T_A, 0);
	reply(&r, &t, DNS_NOERROR);
	rr_a(&r, 1000, 1);
	rr_a(&r, 150, 2);
	counts(&r, 2, 0, 0);
	cache_store(c, &t.q, r.b, r.len, T0);
	hit(c, &t, T0, out);
	assert_int_equal(get32(out + r.ttl_off[0]), 200);
	assert_int_equal(get32(out + r.ttl_off[1]), 150);
	hit(c, &t, T0 + 149999, out);
	miss(c, &t, T0 + 150000);

	/* Only 5000: capped at max_ttl */
	query(&t, 2, "b.example", DNS_T_A, 0);
	reply(&r, &t, DNS_NOERROR);
	rr_a(&r, 5000, 1);
	counts(&r, 1, 0, 0);
	cache_store(c, &t.q, r.b, r.len, T0);
	hit(c, &t, T0 + 1000, out);
	assert_int_equal(get32(out + r.ttl_off[0]), 199);
	hit(c, &t, T0 + 199999, out);
	miss(c, &t, T0 + 200000);

	/* 10 and 0: raised to min_ttl, both served as 60 */
	query(&t, 3, "c.example", DNS_T_A, 0);
	reply(&r, &t, DNS_NOERROR);
	rr_a(&r, 10, 1);
	rr_a(&r, 0, 2);
	counts(&r, 2, 0, 0);
	cache_store(c, &t.q, r.b, r.len, T0);
	hit(c, &t, T0 + 30000, out);
	assert_int_equal(get32(out + r.ttl_off[0]), 30);
	assert_int_equal(get32(out + r.ttl_off[1]), 30);
	hit(c, &t, T0 + 59999, out);
	miss(c, &t, T0 + 60000);

	/* A TTL with the top bit set is 0 (RFC 2181): raised to 60 like the others */
	query(&t, 4, "d.example", DNS_T_A, 0);
	reply(&r, &t, DNS_NOERROR);
	rr_a(&r, 0x80000000u, 1);
	counts(&r, 1, 0, 0);
	cache_store(c, &t.q, r.b, r.len, T0);
	hit(c, &t, T0, out);
	assert_int_equal(get32(out + r.ttl_off[0]), 60);
	cache_free(c);

	/* Without min_ttl, TTL 0 is not stored (and 0x80000000 is 0). */
	cf = conf();
	c = cache_new(&cf);
	query(&t, 5, "e.example", DNS_T_A, 0);
	reply(&r, &t, DNS_NOERROR);
	rr_a(&r, 300, 1);
	rr_a(&r, 0, 2);
	counts(&r, 2, 0, 0);
	cache_store(c, &t.q, r.b, r.len, T0);
	reply(&r, &t, DNS_NOERROR);
	rr_a(&r, 0xFFFFFFFFu, 1);
	counts(&r, 1, 0, 0);
	cache_store(c, &t.q, r.b, r.len, T0);
	assert_int_equal(stats(c).stores, 0);
	miss(c, &t, T0);
	cache_free(c);
}

/* The OPT's TTL field (extended rcode, version, flags) is not a TTL: never decremented. */
static void test_opt_untouched(void **state)
{
	struct cache_conf cf = conf();
	struct cache *c = cache_new(&cf);
	struct query t;
	struct msg r;
	uint8_t out[4096];
	size_t opt;

	(void)state;
	query(&t, 9, "www.example.com", DNS_T_A, Q_DO);
	reply(&r, &t, DNS_NOERROR);
	rr_a(&r, 300, 1);
	opt = rr_opt(&r, true);
	counts(&r, 1, 0, 1);
	cache_store(c, &t.q, r.b, r.len, T0);
	hit(c, &t, T0 + 100000, out);
	assert_int_equal(get32(out + r.ttl_off[0]), 200);
	assert_int_equal(get32(out + opt), 0x00008000);
	assert_memory_equal(out + opt - 5, r.b + opt - 5, r.len - (opt - 5));
	cache_free(c);
}

/* ---- the key ---- */

static void test_key_case_and_id(void **state)
{
	struct cache_conf cf = conf();
	struct cache *c = cache_new(&cf);
	struct query mixed, lower, upper;
	struct msg r;
	uint8_t out[4096];
	size_t n, qlen;

	(void)state;
	query(&mixed, 0x1111, "WwW.ExAmPlE.cOm", DNS_T_A, 0);
	query(&lower, 0x2222, "www.example.com", DNS_T_A, 0);
	query(&upper, 0x3333, "WWW.EXAMPLE.COM", DNS_T_A, Q_NORD);
	qlen = mixed.q.question_end - DNS_HDR_LEN;
	reply(&r, &mixed, DNS_NOERROR); /* the upstream echoes the case it was sent */
	rr_a(&r, 300, 1);
	counts(&r, 1, 0, 0);
	cache_store(c, &mixed.q, r.b, r.len, T0);

	n = hit(c, &lower, T0 + 1000, out);
	assert_int_equal(n, r.len);
	assert_int_equal(get16(out), 0x2222);
	assert_memory_equal(out + DNS_HDR_LEN, lower.m.b + DNS_HDR_LEN, qlen);
	assert_int_equal(out[2] & 0x01, 1); /* RD echoed */
	assert_int_equal(get32(out + r.ttl_off[0]), 299);

	n = hit(c, &upper, T0 + 2000, out);
	assert_int_equal(get16(out), 0x3333);
	assert_memory_equal(out + DNS_HDR_LEN, upper.m.b + DNS_HDR_LEN, qlen);
	assert_int_equal(out[2] & 0x01, 0); /* this client sent RD=0 */
	assert_int_equal(out[2] & 0x80, 0x80);

	n = hit(c, &mixed, T0 + 3000, out);
	assert_int_equal(get16(out), 0x1111);
	assert_memory_equal(out + DNS_HDR_LEN, mixed.m.b + DNS_HDR_LEN, qlen);
	assert_int_equal(stats(c).entries, 1);
	assert_int_equal(stats(c).hits, 3);
	cache_free(c);
}

static void test_key_fields(void **state)
{
	static const struct {
		const char *name;
		uint16_t qtype;
		int opts;
	} keys[] = {
	    {"www.example.com", DNS_T_A, 0},
	    {"www.example.com", DNS_T_AAAA, 0},
	    {"www.example.com", DNS_T_A, Q_EDNS},
	    {"www.example.com", DNS_T_A, Q_DO},
	    {"www.example.com", DNS_T_A, Q_CD},
	    {"www.example.com", DNS_T_A, Q_DO | Q_CD},
	    {"www.example.com.example.com", DNS_T_A, 0},
	    {"ww.example.com", DNS_T_A, 0},
	    {"example.com", DNS_T_A, 0},
	};
	struct cache_conf cf = conf();
	struct cache *c = cache_new(&cf);
	struct query t;
	struct msg r;
	uint8_t out[4096];

	(void)state;
	/* Each key gets its own entry, told apart by the address in it. */
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		query(&t, (uint16_t)i, keys[i].name, keys[i].qtype, keys[i].opts);
		for (size_t j = i; j < sizeof(keys) / sizeof(keys[0]); j++) {
			struct query u;

			query(&u, 1, keys[j].name, keys[j].qtype, keys[j].opts);
			miss(c, &u, T0);
		}
		reply(&r, &t, DNS_NOERROR);
		rr_a(&r, 300, (uint8_t)i);
		if (keys[i].opts & (Q_EDNS | Q_DO)) {
			rr_opt(&r, keys[i].opts & Q_DO);
			counts(&r, 1, 0, 1);
		} else {
			counts(&r, 1, 0, 0);
		}
		cache_store(c, &t.q, r.b, r.len, T0);
	}
	assert_int_equal(stats(c).entries, sizeof(keys) / sizeof(keys[0]));
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		size_t n;

		query(&t, 0x4000, keys[i].name, keys[i].qtype, keys[i].opts);
		n = hit(c, &t, T0, out);
		/* the last byte of the address, before the OPT if any */
		assert_int_equal(out[n - 1 - ((keys[i].opts & (Q_EDNS | Q_DO)) ? 11 : 0)], i);
	}
	/* Another qclass is another key. */
	query(&t, 1, "www.example.com", DNS_T_A, 0);
	t.m.b[t.q.question_end - 1] = 3; /* CH */
	assert_int_equal(dnsmsg_parse_query(t.m.b, t.m.len, &t.q), QUERY_OK);
	miss(c, &t, T0);
	cache_free(c);
}

/* Storing the same key again replaces the entry. */
static void test_replace(void **state)
{
	struct cache_conf cf = conf();
	struct cache *c = cache_new(&cf);
	struct query t;
	struct msg r;
	uint8_t out[4096];
	size_t bytes;

	(void)state;
	query(&t, 1, "www.example.com", DNS_T_A, 0);
	reply(&r, &t, DNS_NOERROR);
	rr_a(&r, 300, 1);
	counts(&r, 1, 0, 0);
	cache_store(c, &t.q, r.b, r.len, T0);
	bytes = stats(c).bytes;
	reply(&r, &t, DNS_NOERROR);
	rr_a(&r, 50, 2);
	counts(&r, 1, 0, 0);
	cache_store(c, &t.q, r.b, r.len, T0 + 5000);
	assert_int_equal(stats(c).entries, 1);
	assert_int_equal(stats(c).stores, 2);
	assert_int_equal(stats(c).bytes, bytes);
	hit(c, &t, T0 + 10000, out);
	assert_int_equal(get32(out + r.ttl_off[0]), 45);
	assert_int_equal(out[r.len - 1], 2);
	miss(c, &t, T0 + 55000);
	cache_free(c);
}

/* ---- negative caching ---- */

static void test_nxdomain(void **state)
{
	struct cache_conf cf = conf();
	struct cache *c = cache_new(&cf);
	struct query t;
	struct msg r;
	uint8_t out[4096];

	(void)state;
	/* min(SOA TTL 3600, MINIMUM 300) = 300; the SOA is served with that TTL */
	query(&t, 1, "nope.example.com", DNS_T_A, 0);
	reply(&r, &t, DNS_NXDOMAIN);
	rr_soa(&r, 3600, 300);
	counts(&r, 0, 1, 0);
	cache_store(c, &t.q, r.b, r.len, T0);
	hit(c, &t, T0, out);
	assert_int_equal(out[3] & 0x0F, DNS_NXDOMAIN);
	assert_int_equal(get32(out + r.ttl_off[0]), 300);
	hit(c, &t, T0 + 10000, out);
	assert_int_equal(get32(out + r.ttl_off[0]), 290);
	/* MINIMUM is untouched */
	assert_int_equal(get32(out + r.len - 4), 300);
	hit(c, &t, T0 + 299999, out);
	miss(c, &t, T0 + 300000);

	/* SOA TTL below MINIMUM: the SOA TTL */
	query(&t, 2, "nope2.example.com", DNS_T_A, 0);
	reply(&r, &t, DNS_NXDOMAIN);
	rr_soa(&r, 30, 900);
	counts(&r, 0, 1, 0);
	cache_store(c, &t.q, r.b, r.len, T0);
	hit(c, &t, T0 + 29999, out);
	assert_int_equal(get32(out + r.ttl_off[0]), 1);
	miss(c, &t, T0 + 30000);
	cache_free(c);

	/* Capped by negative_ttl_max */
	cf.negative_ttl_max = 100;
	c = cache_new(&cf);
	query(&t, 3, "nope3.example.com", DNS_T_A, 0);
	reply(&r, &t, DNS_NXDOMAIN);
	rr_soa(&r, 3600, 300);
	counts(&r, 0, 1, 0);
	cache_store(c, &t.q, r.b, r.len, T0);
	hit(c, &t, T0, out);
	assert_int_equal(get32(out + r.ttl_off[0]), 100);
	hit(c, &t, T0 + 99999, out);
	miss(c, &t, T0 + 100000);
	cache_free(c);

	/* negative_ttl_max 0: negative answers are not cached (without min_ttl) */
	cf.negative_ttl_max = 0;
	c = cache_new(&cf);
	cache_store(c, &t.q, r.b, r.len, T0);
	assert_int_equal(stats(c).stores, 0);
	cache_free(c);

	/* min_ttl raises it */
	cf.negative_ttl_max = 100;
	cf.min_ttl = 150;
	c = cache_new(&cf);
	cache_store(c, &t.q, r.b, r.len, T0);
	hit(c, &t, T0, out);
	assert_int_equal(get32(out + r.ttl_off[0]), 150);
	hit(c, &t, T0 + 149999, out);
	miss(c, &t, T0 + 150000);
	cache_free(c);
}

static void test_nodata(void **state)
{
	struct cache_conf cf = conf();
	struct cache *c = cache_new(&cf);
	struct query t;
	struct msg r;
	uint8_t out[4096];

	(void)state;
	query(&t, 1, "www.example.com", DNS_T_AAAA, Q_EDNS);
	reply(&r, &t, DNS_NOERROR);
	rr_soa(&r, 60, 600);
	rr_opt(&r, false);
	counts(&r, 0, 1, 1);
	cache_store(c, &t.q, r.b, r.len, T0);
	hit(c, &t, T0 + 20000, out);
	assert_int_equal(out[3] & 0x0F, DNS_NOERROR);
	assert_int_equal(get16(out + 6), 0);
	assert_int_equal(get32(out + r.ttl_off[0]), 40);
	miss(c, &t, T0 + 60000);
	cache_free(c);
}

static void test_negative_without_soa(void **state)
{
	const uint8_t ns[] = "\x02ns\x07"
			     "example\x03"
			     "com";
	struct cache_conf cf = conf();
	struct cache *c = cache_new(&cf);
	struct query t;
	struct msg r;

	(void)state;
	query(&t, 1, "nope.example.com", DNS_T_A, 0);
	reply(&r, &t, DNS_NXDOMAIN);
	counts(&r, 0, 0, 0);
	cache_store(c, &t.q, r.b, r.len, T0);
	reply(&r, &t, DNS_NXDOMAIN);
	rr(&r, DNS_T_NS, 300, ns, sizeof(ns));
	counts(&r, 0, 1, 0);
	cache_store(c, &t.q, r.b, r.len, T0);
	reply(&r, &t, DNS_NOERROR); /* NODATA, no SOA */
	counts(&r, 0, 0, 0);
	cache_store(c, &t.q, r.b, r.len, T0);
	miss(c, &t, T0);
	assert_int_equal(stats(c).stores, 0);
	assert_int_equal(stats(c).entries, 0);
	cache_free(c);
}

/* ---- replies that are not stored ---- */

static void test_not_stored(void **state)
{
	struct cache_conf cf = conf();
	struct cache *c = cache_new(&cf);
	struct query t, other;
	struct msg r;

	(void)state;
	query(&t, 1, "www.example.com", DNS_T_A, Q_EDNS);
	query(&other, 1, "www.example.org", DNS_T_A, Q_EDNS);

	/* TC=1 */
	reply(&r, &t, DNS_NOERROR);
	r.b[2] |= 0x02;
	rr_a(&r, 300, 1);
	counts(&r, 1, 0, 0);
	cache_store(c, &t.q, r.b, r.len, T0);

	/* SERVFAIL, REFUSED, FORMERR: cache_store does not keep them */
	for (uint8_t rcode = 1; rcode <= 5; rcode++) {
		if (rcode == DNS_NXDOMAIN)
			continue;
		reply(&r, &t, rcode);
		rr_soa(&r, 300, 300);
		counts(&r, 0, 1, 0);
		cache_store(c, &t.q, r.b, r.len, T0);
	}

	/* BADVERS: rcode 0 in the header, 1 in the OPT's extended rcode */
	reply(&r, &t, DNS_NOERROR);
	rr_a(&r, 300, 1);
	r.b[rr_opt(&r, false)] = 1;
	counts(&r, 1, 0, 1);
	cache_store(c, &t.q, r.b, r.len, T0);

	/* Another question; QR=0; opcode 2 */
	reply(&r, &other, DNS_NOERROR);
	rr_a(&r, 300, 1);
	counts(&r, 1, 0, 0);
	cache_store(c, &t.q, r.b, r.len, T0);
	reply(&r, &t, DNS_NOERROR);
	rr_a(&r, 300, 1);
	counts(&r, 1, 0, 0);
	r.b[2] &= 0x7F;
	cache_store(c, &t.q, r.b, r.len, T0);
	r.b[2] |= 0x80 | (2 << 3);
	cache_store(c, &t.q, r.b, r.len, T0);

	/* Shorter than a header */
	cache_store(c, &t.q, r.b, 11, T0);

	assert_int_equal(stats(c).stores, 0);
	assert_int_equal(stats(c).entries, 0);
	miss(c, &t, T0);
	cache_free(c);
}

/* An entry larger than an eighth of the cache is not stored. */
static void test_too_large(void **state)
{
	struct cache_conf cf = conf();
	struct cache *c;
	struct query t;
	struct msg r;
	uint8_t txt[255];

	(void)state;
	cf.size = 16384; /* at most 2048 bytes per entry */
	c = cache_new(&cf);
	memset(txt, 'x', sizeof(txt));
	txt[0] = 254;
	query(&t, 1, "big.example", DNS_T_TXT, 0);
	reply(&r, &t, DNS_NOERROR);
	for (int i = 0; i < 8; i++)
		rr(&r, DNS_T_TXT, 300, txt, sizeof(txt));
	counts(&r, 8, 0, 0);
	assert_true(r.len > 2048);
	cache_store(c, &t.q, r.b, r.len, T0);
	assert_int_equal(stats(c).stores, 0);
	/* 6 records fit */
	reply(&r, &t, DNS_NOERROR);
	for (int i = 0; i < 6; i++)
		rr(&r, DNS_T_TXT, 300, txt, sizeof(txt));
	counts(&r, 6, 0, 0);
	cache_store(c, &t.q, r.b, r.len, T0);
	assert_int_equal(stats(c).stores, 1);
	cache_free(c);
}

/* Bytes after the last record are not stored nor served. */
static void test_trailing_bytes(void **state)
{
	struct cache_conf cf = conf();
	struct cache *c = cache_new(&cf);
	struct query t;
	struct msg r;
	uint8_t out[4096];
	size_t len;

	(void)state;
	query(&t, 1, "www.example.com", DNS_T_A, 0);
	reply(&r, &t, DNS_NOERROR);
	rr_a(&r, 300, 1);
	counts(&r, 1, 0, 0);
	len = r.len;
	put32(&r, 0xDEADBEEF);
	cache_store(c, &t.q, r.b, r.len, T0);
	assert_int_equal(hit(c, &t, T0, out), len);
	cache_free(c);
}

/* ---- failures (RFC 9520) ---- */

static void test_failure_backoff(void **state)
{
	static const uint32_t want[] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300};
	struct cache_conf cf = conf();
	struct cache *c = cache_new(&cf);
	struct query t;
	struct msg r;
	uint8_t out[4096];
	uint64_t now = T0;
	size_t n;

	(void)state;
	query(&t, 0xABCD, "down.example", DNS_T_A, 0);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		cache_store_failure(c, &t.q, now);
		n = hit(c, &t, now, out);
		assert_int_equal(n, t.q.question_end); /* header + question, no records */
		assert_int_equal(out[3] & 0x0F, DNS_SERVFAIL);
		assert_int_equal(get16(out + 4), 1);
		assert_memory_equal(out + DNS_HDR_LEN, t.m.b + DNS_HDR_LEN, n - DNS_HDR_LEN);
		/* A failure of a query sent before the record: not a new consecutive one. */
		cache_store_failure(c, &t.q, now + 1);
		hit(c, &t, now + want[i] * 1000 - 1, out);
		now += want[i] * 1000;
		miss(c, &t, now);
	}
	assert_int_equal(stats(c).entries, 1);

	/* A success resets the backoff. */
	reply(&r, &t, DNS_NOERROR);
	rr_a(&r, 10, 1);
	counts(&r, 1, 0, 0);
	cache_store(c, &t.q, r.b, r.len, now);
	hit(c, &t, now, out);
	assert_int_equal(out[3] & 0x0F, DNS_NOERROR);
	/* A failure does not replace a valid answer. */
	cache_store_failure(c, &t.q, now + 1000);
	hit(c, &t, now + 1000, out);
	assert_int_equal(out[3] & 0x0F, DNS_NOERROR);
	now += 10000;
	miss(c, &t, now);
	cache_store_failure(c, &t.q, now);
	hit(c, &t, now + 999, out);
	assert_int_equal(out[3] & 0x0F, DNS_SERVFAIL);
	miss(c, &t, now + 1000);
	cache_store_failure(c, &t.q, now + 1000);
	hit(c, &t, now + 2999, out);
	miss(c, &t, now + 3000);

	/* Failures more than 5 minutes apart are not consecutive: back to 1 s. */
	now += 3000 + 300000;
	cache_store_failure(c, &t.q, now);
	hit(c, &t, now + 999, out);
	miss(c, &t, now + 1000);
	cache_free(c);
}

static void test_failure_edns(void **state)
{
	struct cache_conf cf = conf();
	struct cache *c = cache_new(&cf);
	struct query t;
	uint8_t out[4096];
	size_t n;

	(void)state;
	query(&t, 0x0102, "down.example", DNS_T_A, Q_DO | Q_CD);
	cache_store_failure(c, &t.q, T0);
	n = hit(c, &t, T0, out);
	assert_int_equal(out[3] & 0x0F, DNS_SERVFAIL);
	assert_int_equal(out[3] & 0x10, 0x10); /* CD echoed */
	assert_int_equal(get16(out + 10), 1);
	/* OPT: DO echoed, EDE 13 "Cached Error" */
	assert_int_equal(n, t.q.question_end + 11 + 6);
	assert_int_equal(get16(out + n - 17 + 1), DNS_T_OPT);
	assert_int_equal(out[n - 17 + 7], 0x80);
	assert_int_equal(get16(out + n - 4), 2);
	assert_int_equal(get16(out + n - 2), 13);
	/* Other keys are unaffected. */
	query(&t, 0x0102, "down.example", DNS_T_A, Q_DO);
	miss(c, &t, T0);
	cache_free(c);
}

/* ---- serving ---- */

static void test_truncate_on_serve(void **state)
{
	struct cache_conf cf = conf();
	struct cache *c = cache_new(&cf);
	struct query t, e;
	struct msg r;
	uint8_t out[4096];
	size_t n;

	(void)state;
	query(&t, 0x5555, "many.example", DNS_T_A, 0);
	reply(&r, &t, DNS_NOERROR);
	for (int i = 0; i < 40; i++)
		rr_a(&r, 300, (uint8_t)i);
	counts(&r, 40, 0, 0);
	assert_true(r.len > 512);
	cache_store(c, &t.q, r.b, r.len, T0);

	n = cache_lookup(c, &t.q, T0, out, sizeof(out), t.q.udp_limit);
	assert_int_equal(n, t.q.question_end);
	assert_int_equal(get16(out), 0x5555);
	assert_int_equal(out[2] & 0x02, 0x02);
	assert_int_equal(get16(out + 6), 0);
	assert_int_equal(get16(out + 10), 0);
	/* Over TCP: all of it */
	n = cache_lookup(c, &t.q, T0, out, sizeof(out), 65535);
	assert_int_equal(n, r.len);
	assert_int_equal(out[2] & 0x02, 0);
	/* Not enough room in out: a miss */
	assert_int_equal(cache_lookup(c, &t.q, T0, out, r.len - 1, 65535), 0);
	assert_int_equal(stats(c).misses, 1);

	/* With EDNS the truncated answer keeps an OPT */
	query(&e, 0x6666, "many.example", DNS_T_A, Q_EDNS);
	reply(&r, &e, DNS_NOERROR);
	for (int i = 0; i < 40; i++)
		rr_a(&r, 300, (uint8_t)i);
	rr_opt(&r, false);
	counts(&r, 40, 0, 1);
	cache_store(c, &e.q, r.b, r.len, T0);
	n = cache_lookup(c, &e.q, T0, out, sizeof(out), 512);
	assert_int_equal(n, e.q.question_end + 11);
	assert_int_equal(out[2] & 0x02, 0x02);
	assert_int_equal(get16(out + 10), 1);
	cache_free(c);
}

/* The served answer parses (ldns) with the client's ID and decremented TTLs. */
static void test_served_parses(void **state)
{
	struct cache_conf cf = conf();
	struct cache *c = cache_new(&cf);
	struct query t;
	struct msg r;
	uint8_t out[4096];
	ldns_pkt *p = NULL;
	size_t n;

	(void)state;
	query(&t, 0x7777, "Www.Example.Com", DNS_T_A, Q_DO);
	reply(&r, &t, DNS_NOERROR);
	rr_a(&r, 3600, 1);
	rr_soa(&r, 7200, 60);
	rr_opt(&r, true);
	counts(&r, 1, 1, 1);
	cache_store(c, &t.q, r.b, r.len, T0);
	n = hit(c, &t, T0 + 600000, out);
	assert_int_equal(ldns_wire2pkt(&p, out, n), LDNS_STATUS_OK);
	assert_int_equal(ldns_pkt_id(p), 0x7777);
	assert_int_equal(ldns_rr_ttl(ldns_rr_list_rr(ldns_pkt_answer(p), 0)), 3000);
	assert_int_equal(ldns_rr_ttl(ldns_rr_list_rr(ldns_pkt_authority(p), 0)), 6600);
	assert_true(ldns_pkt_edns_do(p));
	ldns_pkt_free(p);
	cache_free(c);
}

/* ---- eviction ---- */

static void name_of(char *buf, size_t len, int i)
{
	snprintf(buf, len, "host-%d.flood.example", i);
}

static void test_eviction_flood(void **state)
{
	struct cache_conf cf = conf();
	struct cache *c;
	struct cache_stats st;
	struct query t;
	struct msg r;
	uint8_t out[4096];
	char name[64];

	(void)state;
	cf.size = 64 * 1024;
	c = cache_new(&cf);
	assert_true(stats(c).bytes <= cf.size);
	for (int i = 0; i < 10000; i++) {
		name_of(name, sizeof(name), i);
		query(&t, 1, name, DNS_T_A, 0);
		reply(&r, &t, DNS_NOERROR);
		rr_a(&r, 300, 1);
		counts(&r, 1, 0, 0);
		cache_store(c, &t.q, r.b, r.len, T0 + (uint64_t)i);
		assert_true(stats(c).bytes <= cf.size);
		/* A name that keeps being asked for survives (CLOCK second chance). */
		if (i % 50 == 0) {
			query(&t, 2, "host-0.flood.example", DNS_T_A, 0);
			hit(c, &t, T0 + (uint64_t)i, out);
		}
	}
	st = stats(c);
	assert_int_equal(st.stores, 10000);
	assert_true(st.entries > 100);
	assert_int_equal(st.evictions, 10000 - st.entries);
	/* The most recent ones are there, the oldest (but the hot one) are gone. */
	for (int i = 9999; i > 9999 - 50; i--) {
		name_of(name, sizeof(name), i);
		query(&t, 1, name, DNS_T_A, 0);
		hit(c, &t, T0 + 10000, out);
	}
	for (int i = 1; i < 100; i++) {
		name_of(name, sizeof(name), i);
		query(&t, 1, name, DNS_T_A, 0);
		miss(c, &t, T0 + 10000);
	}
	query(&t, 1, "host-0.flood.example", DNS_T_A, 0);
	hit(c, &t, T0 + 10000, out);

	/* Shrinking evicts at once; disabling empties it. */
	cf.size = 16 * 1024;
	cache_reconfigure(c, &cf);
	st = stats(c);
	assert_true(st.bytes <= cf.size);
	assert_true(st.entries > 10);
	query(&t, 1, "host-9999.flood.example", DNS_T_A, 0);
	hit(c, &t, T0 + 10000, out);
	cf.enabled = false;
	cache_reconfigure(c, &cf);
	assert_int_equal(stats(c).entries, 0);
	miss(c, &t, T0 + 10000);
	cache_free(c);
}

/* Expired entries go first when room is needed, whatever their referenced bit. */
static void test_eviction_prefers_expired(void **state)
{
	struct cache_conf cf = conf();
	struct cache *c;
	struct query t;
	struct msg r;
	uint8_t out[4096];
	char name[64];
	int i;

	(void)state;
	cf.size = 64 * 1024;
	c = cache_new(&cf);
	/* Fill: even names live 300 s, odd ones 10 s; host-0 is evicted to make room. */
	for (i = 0; stats(c).evictions == 0; i++) {
		name_of(name, sizeof(name), i);
		query(&t, 1, name, DNS_T_A, 0);
		reply(&r, &t, DNS_NOERROR);
		rr_a(&r, i % 2 ? 10 : 300, 1);
		counts(&r, 1, 0, 0);
		cache_store(c, &t.q, r.b, r.len, T0);
	}
	/* Every entry referenced. */
	for (int j = 1; j < i; j++) {
		name_of(name, sizeof(name), j);
		query(&t, 1, name, DNS_T_A, 0);
		hit(c, &t, T0, out);
	}
	/* 20 s later, 50 new names take the room of expired odd ones only. */
	for (int j = i; j < i + 50; j++) {
		name_of(name, sizeof(name), j);
		query(&t, 1, name, DNS_T_A, 0);
		reply(&r, &t, DNS_NOERROR);
		rr_a(&r, 300, 1);
		counts(&r, 1, 0, 0);
		cache_store(c, &t.q, r.b, r.len, T0 + 20000);
	}
	assert_true(stats(c).evictions >= 51);
	for (int j = 2; j < i + 50; j += (j < i ? 2 : 1)) {
		name_of(name, sizeof(name), j);
		query(&t, 1, name, DNS_T_A, 0);
		hit(c, &t, T0 + 20000, out);
	}
	cache_free(c);
}

/* ---- malformed replies ---- */

static void test_malformed(void **state)
{
	struct cache_conf cf = conf();
	struct cache *c = cache_new(&cf);
	struct query t;
	struct msg r, good;
	size_t qend;

	(void)state;
	query(&t, 1, "www.example.com", DNS_T_A, 0);
	qend = t.q.question_end;
	reply(&good, &t, DNS_NOERROR);
	rr_a(&good, 300, 1);
	counts(&good, 1, 0, 0);

	/* A record cut at every length */
	for (size_t len = qend; len < good.len; len++)
		cache_store(c, &t.q, good.b, len, T0);

	/* RDLENGTH past the end */
	r = good;
	r.b[r.len - 5] = 5;
	cache_store(c, &t.q, r.b, r.len, T0);
	/* More records announced than present */
	r = good;
	counts(&r, 2, 0, 0);
	cache_store(c, &t.q, r.b, r.len, T0);
	counts(&r, 1, 1, 0);
	cache_store(c, &t.q, r.b, r.len, T0);

	/* Owner: a pointer to itself, a forward pointer, a pointer into the header */
	r = good;
	r.b[qend] = (uint8_t)(0xC0 | qend >> 8);
	r.b[qend + 1] = (uint8_t)qend;
	cache_store(c, &t.q, r.b, r.len, T0);
	r.b[qend + 1] = (uint8_t)(qend + 2);
	cache_store(c, &t.q, r.b, r.len, T0);
	r.b[qend + 1] = 4;
	cache_store(c, &t.q, r.b, r.len, T0);
	/* Reserved label type 01 */
	r.b[qend] = 0x40;
	cache_store(c, &t.q, r.b, r.len, T0);

	/* A pointer loop inside the SOA rdata */
	reply(&r, &t, DNS_NXDOMAIN);
	put16(&r, 0xC00C);
	put16(&r, DNS_T_SOA);
	put16(&r, 1);
	put32(&r, 300);
	put16(&r, 2 + 2 + 20);
	put16(&r, (uint16_t)(0xC000 | r.len)); /* MNAME points to itself */
	put16(&r, 0xC00C);
	for (int i = 0; i < 5; i++)
		put32(&r, 300);
	counts(&r, 0, 1, 0);
	cache_store(c, &t.q, r.b, r.len, T0);
	/* SOA rdata too short / too long for its names */
	reply(&r, &t, DNS_NXDOMAIN);
	rr_soa(&r, 300, 300);
	counts(&r, 0, 1, 0);
	r.b[r.ttl_off[0] + 5]--;
	r.len--;
	cache_store(c, &t.q, r.b, r.len, T0);
	r.b[r.ttl_off[0] + 5] += 2;
	put16(&r, 0);
	cache_store(c, &t.q, r.b, r.len, T0);

	/* OPT in the answer section; two OPTs; OPT with a non-root owner */
	reply(&r, &t, DNS_NOERROR);
	rr_opt(&r, false);
	rr_a(&r, 300, 1);
	counts(&r, 2, 0, 0);
	cache_store(c, &t.q, r.b, r.len, T0);
	reply(&r, &t, DNS_NOERROR);
	rr_a(&r, 300, 1);
	rr_opt(&r, false);
	rr_opt(&r, false);
	counts(&r, 1, 0, 2);
	cache_store(c, &t.q, r.b, r.len, T0);
	reply(&r, &t, DNS_NOERROR);
	rr_a(&r, 300, 1);
	put16(&r, 0xC00C);
	put16(&r, DNS_T_OPT);
	put16(&r, 1232);
	put32(&r, 0);
	put16(&r, 0);
	counts(&r, 1, 0, 1);
	cache_store(c, &t.q, r.b, r.len, T0);

	/* A compressed question (the query's is plain) */
	r = good;
	r.b[DNS_HDR_LEN] = 0xC0;
	r.b[DNS_HDR_LEN + 1] = 0x0C;
	cache_store(c, &t.q, r.b, r.len, T0);

	assert_int_equal(stats(c).stores, 0);
	cache_store(c, &t.q, good.b, good.len, T0);
	assert_int_equal(stats(c).stores, 1);

	/* Random bytes after a valid question: no crash, and whatever is stored is served. */
	srand(42);
	for (int i = 0; i < 5000; i++) {
		uint8_t out[4096];

		r = good;
		r.len = qend + (size_t)(rand() % 80);
		for (size_t j = qend; j < r.len; j++)
			r.b[j] = (uint8_t)rand();
		counts(&r, (uint16_t)(rand() % 3), (uint16_t)(rand() % 3), (uint16_t)(rand() % 3));
		cache_store(c, &t.q, r.b, r.len, T0 + (uint64_t)i * 1000);
		cache_lookup(c, &t.q, T0 + (uint64_t)i * 1000 + 500, out, sizeof(out), 512);
	}
	cache_free(c);
}

static void test_disabled(void **state)
{
	struct cache_conf cf = conf();
	struct cache *c;
	struct query t;
	struct msg r;

	(void)state;
	cf.enabled = false;
	c = cache_new(&cf);
	query(&t, 1, "www.example.com", DNS_T_A, 0);
	reply(&r, &t, DNS_NOERROR);
	rr_a(&r, 300, 1);
	counts(&r, 1, 0, 0);
	cache_store(c, &t.q, r.b, r.len, T0);
	cache_store_failure(c, &t.q, T0);
	miss(c, &t, T0);
	assert_int_equal(stats(c).entries, 0);
	assert_int_equal(stats(c).stores, 0);
	cache_free(c);
	cache_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_recursive_flags),
	    cmocka_unit_test(test_min_ttl_and_decrement),
	    cmocka_unit_test(test_ttl_sections),
	    cmocka_unit_test(test_clamp),
	    cmocka_unit_test(test_opt_untouched),
	    cmocka_unit_test(test_key_case_and_id),
	    cmocka_unit_test(test_key_fields),
	    cmocka_unit_test(test_replace),
	    cmocka_unit_test(test_nxdomain),
	    cmocka_unit_test(test_nodata),
	    cmocka_unit_test(test_negative_without_soa),
	    cmocka_unit_test(test_not_stored),
	    cmocka_unit_test(test_too_large),
	    cmocka_unit_test(test_trailing_bytes),
	    cmocka_unit_test(test_failure_backoff),
	    cmocka_unit_test(test_failure_edns),
	    cmocka_unit_test(test_truncate_on_serve),
	    cmocka_unit_test(test_served_parses),
	    cmocka_unit_test(test_eviction_flood),
	    cmocka_unit_test(test_eviction_prefers_expired),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_disabled),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
