/* SPDX-License-Identifier: MIT */
/*
 * The answer cache (cache.h). One per worker, used from its loop only: no locks, no atomics.
 *
 * Layout: a chained hash table (power-of-two buckets, SipHash-1-3 with a random key per cache,
 * full key compared on a hit) and a CLOCK ring for eviction. An entry is one malloc: the
 * header below, the offsets of the TTL fields to patch, the canonical qname and the reply.
 *
 * Memory: conf->size bounds the bucket array plus, for every entry, sizeof(struct entry) +
 * 2 bytes per TTL offset + qname + reply bytes (malloc's own overhead is not counted). The
 * bucket array takes one pointer per BUCKET_BYTES of size (1/32 of it on 64-bit).
 *
 * Eviction is CLOCK (second chance): a hit sets the entry's referenced bit, the hand clears
 * set bits and evicts the first entry without one, or an expired entry whatever its bit. New
 * entries go just behind the hand, so without hits the ring behaves as FIFO.
 *
 * TTLs, in seconds, clamped to [min_ttl, max_ttl] when stored:
 * - positive (NOERROR with answers): the entry lives for the minimum TTL of the answer and
 *   authority records; additional records (glue) do not shorten it and are served with their
 *   own decremented TTL, never below 0.
 * - negative (NXDOMAIN, or NOERROR without answers: NODATA) needs an SOA in authority and
 *   lives for min(SOA TTL, SOA MINIMUM) (RFC 2308 section 5), capped at negative_ttl_max,
 *   then clamped to [min_ttl, max_ttl]. Every record's TTL is capped at that value, so the
 *   SOA is served with the negative TTL (RFC 2308 section 3).
 * - TTLs with the top bit set are 0 (RFC 2181 section 8).
 * Served TTLs are the stored ones minus the whole seconds spent in the cache; an entry
 * expires when that reaches its TTL.
 *
 * Failures (cache_store_failure) are a record without a reply: SERVFAIL (EDE 13 "Cached
 * Error" with EDNS) while active. After its period ends the record is kept, as a miss, for
 * FAIL_MEMORY_MS so that the next failure of the key doubles the period (RFC 9520).
 */
#include "cache.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

#define F_TC 0x02 /* header byte 2 */
#define F_RD 0x01
#define SOA_FIXED_LEN 20 /* SERIAL ... MINIMUM */
#define TTL_MAX_VALID 0x7fffffffu
#define MAX_MSG 65535

#define FAIL_MAX_S 300 /* RFC 9520 section 3.2: at most 5 minutes */
#define FAIL_MEMORY_MS (FAIL_MAX_S * 1000ull)
#define EDE_CACHED_ERROR 13 /* RFC 8914 */

#define BUCKET_BYTES 256
#define MIN_BUCKETS 16

enum key_flags { K_DO = 1, K_CD = 2, K_EDNS = 4 };

struct entry {
	struct entry *next;		     /* hash chain */
	struct entry *ring_prev, *ring_next; /* CLOCK ring */
	uint64_t hash;
	uint64_t stored_ms; /* when stored */
	uint64_t expire_ms; /* stored_ms + ttl * 1000 */
	uint32_t ttl;	    /* seconds */
	uint16_t qtype, qclass;
	uint16_t len;	/* reply bytes; 0 for a failure record */
	uint16_t n_ttl; /* TTL fields patched on serve */
	uint8_t flags;	/* enum key_flags */
	uint8_t name_len;
	uint8_t failures;   /* consecutive failures (failure record only) */
	bool referenced;    /* CLOCK bit: hit since the hand last passed */
	bool alias;	    /* a CNAME or DNAME in the answer section */
	bool addrs;	    /* an A or AAAA in the answer section */
	uint16_t ttl_off[]; /* n_ttl offsets, then name, then reply */
};

struct cache {
	struct cache_conf conf;
	struct entry **buckets;
	size_t mask;	    /* buckets - 1 */
	size_t table_bytes; /* the bucket array, counted in stats.bytes */
	size_t entry_bytes; /* sum of entry_size() */
	struct entry *hand; /* CLOCK hand, NULL when empty */
	uint64_t seed[2];
	struct cache_stats st; /* bytes is computed by cache_get_stats */
	bool last_alias;       /* the answer of the last hit has a CNAME or DNAME */
	bool last_addrs;       /* the answer of the last hit has an A or AAAA */
};

/* The lookup key, gathered into one buffer for hashing. */
struct key {
	uint8_t buf[DNS_MAX_NAME + 5]; /* name, qtype, qclass, flags */
	size_t len;
	uint64_t hash;
	uint8_t flags;
};

static inline uint8_t *entry_name(struct entry *e)
{
	return (uint8_t *)(e->ttl_off + e->n_ttl);
}

static inline uint8_t *entry_reply(struct entry *e)
{
	return entry_name(e) + e->name_len;
}

static inline size_t entry_size(size_t n_ttl, size_t name_len, size_t len)
{
	return sizeof(struct entry) + n_ttl * sizeof(uint16_t) + name_len + len;
}

/* ---- hashing --------------------------------------------------------------------------- */

static inline uint64_t rotl(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

static inline void sipround(uint64_t v[4])
{
	v[0] += v[1];
	v[1] = rotl(v[1], 13) ^ v[0];
	v[0] = rotl(v[0], 32);
	v[2] += v[3];
	v[3] = rotl(v[3], 16) ^ v[2];
	v[0] += v[3];
	v[3] = rotl(v[3], 21) ^ v[0];
	v[2] += v[1];
	v[1] = rotl(v[1], 17) ^ v[2];
	v[2] = rotl(v[2], 32);
}

/* SipHash-1-3: keyed, so clients cannot aim many names at one bucket. */
static uint64_t siphash13(const uint64_t k[2], const uint8_t *in, size_t len)
{
	uint64_t v[4] = {
	    0x736f6d6570736575ULL ^ k[0],
	    0x646f72616e646f6dULL ^ k[1],
	    0x6c7967656e657261ULL ^ k[0],
	    0x7465646279746573ULL ^ k[1],
	};
	uint64_t m, last = (uint64_t)len << 56;
	size_t i = 0;

	for (; len - i >= 8; i += 8) {
		m = 0;
		for (int j = 0; j < 8; j++)
			m |= (uint64_t)in[i + j] << (8 * j);
		v[3] ^= m;
		sipround(v);
		v[0] ^= m;
	}
	for (int j = 0; i + (size_t)j < len; j++)
		last |= (uint64_t)in[i + j] << (8 * j);
	v[3] ^= last;
	sipround(v);
	v[0] ^= last;
	v[2] ^= 0xff;
	sipround(v);
	sipround(v);
	sipround(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

static void make_key(const struct cache *c, const struct dns_query *q, struct key *k)
{
	size_t n = q->name_len;

	k->flags = (uint8_t)((q->edns_do ? K_DO : 0) | (q->cd ? K_CD : 0) | (q->edns ? K_EDNS : 0));
	memcpy(k->buf, q->name, n);
	k->buf[n++] = (uint8_t)(q->qtype >> 8);
	k->buf[n++] = (uint8_t)q->qtype;
	k->buf[n++] = (uint8_t)(q->qclass >> 8);
	k->buf[n++] = (uint8_t)q->qclass;
	k->buf[n++] = k->flags;
	k->len = n;
	k->hash = siphash13(c->seed, k->buf, n);
}

static bool key_equal(struct entry *e, const struct dns_query *q, const struct key *k)
{
	return e->hash == k->hash && e->qtype == q->qtype && e->qclass == q->qclass &&
	       e->flags == k->flags && e->name_len == q->name_len &&
	       memcmp(entry_name(e), q->name, q->name_len) == 0;
}

static struct entry *find(const struct cache *c, const struct dns_query *q, const struct key *k)
{
	for (struct entry *e = c->buckets[k->hash & c->mask]; e; e = e->next)
		if (key_equal(e, q, k))
			return e;
	return NULL;
}

/* ---- the table and the CLOCK ring ---------------------------------------------------------- */

static void ring_insert(struct cache *c, struct entry *e)
{
	if (!c->hand) {
		e->ring_prev = e->ring_next = e;
		c->hand = e;
		return;
	}
	/* Just behind the hand: the last entry it will reach. */
	e->ring_next = c->hand;
	e->ring_prev = c->hand->ring_prev;
	c->hand->ring_prev->ring_next = e;
	c->hand->ring_prev = e;
}

static void ring_remove(struct cache *c, struct entry *e)
{
	if (e->ring_next == e) {
		c->hand = NULL;
		return;
	}
	e->ring_prev->ring_next = e->ring_next;
	e->ring_next->ring_prev = e->ring_prev;
	if (c->hand == e)
		c->hand = e->ring_next;
}

static void link_entry(struct cache *c, struct entry *e)
{
	struct entry **b = &c->buckets[e->hash & c->mask];

	e->next = *b;
	*b = e;
	ring_insert(c, e);
	c->entry_bytes += entry_size(e->n_ttl, e->name_len, e->len);
	c->st.entries++;
}

static void remove_entry(struct cache *c, struct entry *e)
{
	struct entry **pp = &c->buckets[e->hash & c->mask];

	while (*pp != e)
		pp = &(*pp)->next;
	*pp = e->next;
	ring_remove(c, e);
	c->entry_bytes -= entry_size(e->n_ttl, e->name_len, e->len);
	c->st.entries--;
	free(e);
}

/* A record is dead when it can no longer answer nor (failures) inform the next backoff. */
static bool is_dead(const struct entry *e, uint64_t now_ms)
{
	if (e->len == 0)
		return now_ms >= e->expire_ms + FAIL_MEMORY_MS;
	return now_ms >= e->expire_ms;
}

/* Evict one entry (the ring is not empty): the first dead or unreferenced one. */
static void evict_one(struct cache *c, uint64_t now_ms)
{
	struct entry *e = c->hand;

	while (e->referenced && !is_dead(e, now_ms)) {
		e->referenced = false;
		e = e->ring_next;
	}
	c->hand = e;
	remove_entry(c, e);
	c->st.evictions++;
}

static size_t budget(const struct cache *c)
{
	return c->conf.size > c->table_bytes ? c->conf.size - c->table_bytes : 0;
}

static void make_room(struct cache *c, size_t need, uint64_t now_ms)
{
	while (c->hand && c->entry_bytes + need > budget(c))
		evict_one(c, now_ms);
}

static void flush(struct cache *c)
{
	while (c->hand)
		remove_entry(c, c->hand);
}

static size_t bucket_count(size_t size)
{
	size_t n = MIN_BUCKETS;

	while (n <= SIZE_MAX / 2 && n * 2 <= size / BUCKET_BYTES)
		n *= 2;
	return n;
}

/* Move every entry into a table sized for size; keeps the old one on ENOMEM. */
static void resize_table(struct cache *c, size_t size)
{
	size_t n = bucket_count(size);
	struct entry **nb;
	struct entry *e;

	if (c->buckets && n == c->mask + 1)
		return;
	nb = calloc(n, sizeof(*nb));
	if (!nb)
		return;
	if (c->hand) {
		e = c->hand;
		do {
			e->next = nb[e->hash & (n - 1)];
			nb[e->hash & (n - 1)] = e;
			e = e->ring_next;
		} while (e != c->hand);
	}
	free(c->buckets);
	c->buckets = nb;
	c->mask = n - 1;
	c->table_bytes = n * sizeof(*nb);
}

static void random_seed(uint64_t seed[2])
{
	struct timespec ts;

	if (getrandom(seed, 2 * sizeof(seed[0]), GRND_NONBLOCK) == (ssize_t)(2 * sizeof(seed[0])))
		return;
	/* No entropy yet (early boot): still a per-process key, if a guessable one. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	seed[0] = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ULL ^ (uint64_t)(uintptr_t)seed;
	seed[1] = (uint64_t)ts.tv_sec * 0xc2b2ae3d27d4eb4fULL ^ (uint64_t)getpid();
}

/* ---- reading a reply ----------------------------------------------------------------------- */


/* What a walk over the records of a reply found. */
struct scan {
	uint16_t *ttl_off; /* where to record TTL offsets; NULL to only count */
	size_t n_ttl;
	size_t end;	  /* offset after the last record: trailing bytes are not stored */
	uint32_t min_ttl; /* minimum TTL of answer and authority records, UINT32_MAX if none */
	bool soa;	  /* the first SOA of the authority section: */
	uint32_t soa_ttl, soa_minimum;
	bool opt;
	bool alias;	   /* a CNAME or DNAME in the answer section */
	bool addrs;	   /* an A or AAAA in the answer section */
	uint8_t ext_rcode; /* upper 8 bits of the rcode, from the OPT */
};

/* A record's TTL as RFC 2181 section 8 reads it: above 2^31 - 1 counts as 0. */
static uint32_t rr_ttl(uint32_t ttl)
{
	return ttl > TTL_MAX_VALID ? 0 : ttl;
}

/* Bounds-checked walk over every record after the question; false when malformed. */
static bool scan_reply(const uint8_t *p, size_t len, size_t off, struct scan *s)
{
	unsigned an = dns_get16(p + 6), ns = dns_get16(p + 8), ar = dns_get16(p + 10);

	s->n_ttl = 0;
	s->min_ttl = UINT32_MAX;
	s->soa = s->opt = s->alias = s->addrs = false;
	s->ext_rcode = 0;
	for (unsigned i = 0; i < an + ns + ar; i++) {
		struct dns_rr rr;
		uint32_t ttl;

		off = dnsmsg_next_rr(p, len, off, &rr);
		if (!off)
			return false;
		if (rr.type == DNS_T_OPT) {
			/* Only one, in the additional section, owned by the root (RFC 6891). */
			if (i < an + ns || s->opt || rr.fixed != rr.owner + 1 || p[rr.owner] != 0)
				return false;
			s->opt = true;
			s->ext_rcode = p[rr.fixed + 4];
			continue;
		}
		if (i < an && (rr.type == DNS_T_CNAME || rr.type == DNS_T_DNAME))
			s->alias = true;
		if (i < an && (rr.type == DNS_T_A || rr.type == DNS_T_AAAA))
			s->addrs = true;
		ttl = rr_ttl(rr.ttl);
		if (s->ttl_off)
			s->ttl_off[s->n_ttl] = (uint16_t)(rr.fixed + 4);
		s->n_ttl++;
		if (i < an + ns && ttl < s->min_ttl)
			s->min_ttl = ttl;
		if (i >= an && i < an + ns && rr.type == DNS_T_SOA && !s->soa) {
			size_t rd_end = rr.rdata + rr.rdlen;
			size_t r = dnsmsg_skip_name(p, rd_end, rr.rdata);

			r = r ? dnsmsg_skip_name(p, rd_end, r) : 0;
			if (!r || rd_end - r != SOA_FIXED_LEN)
				return false;
			s->soa = true;
			s->soa_ttl = ttl;
			s->soa_minimum = dns_get32(p + rd_end - 4);
		}
	}
	s->end = off;
	return true;
}

static uint32_t clamp_ttl(const struct cache_conf *cf, uint32_t ttl)
{
	if (ttl < cf->min_ttl)
		ttl = cf->min_ttl;
	return ttl > cf->max_ttl ? cf->max_ttl : ttl;
}

/*
 * The entry TTL of a reply (0: not cacheable), per the rules at the top of this file.
 * *negative is set for NXDOMAIN/NODATA.
 */
static uint32_t entry_ttl(const struct cache_conf *cf, const uint8_t *p, const struct scan *s,
			  bool *negative)
{
	int rcode = p[3] & 0x0F;
	uint32_t ttl;

	*negative = false;
	if (s->ext_rcode || (rcode != DNS_NOERROR && rcode != DNS_NXDOMAIN))
		return 0;
	if (rcode == DNS_NOERROR && dns_get16(p + 6) > 0)
		return clamp_ttl(cf, s->min_ttl);
	*negative = true;
	if (!s->soa)
		return 0; /* RFC 2308 section 5: without an SOA, not cached */
	ttl = s->soa_ttl < s->soa_minimum ? s->soa_ttl : s->soa_minimum;
	if (ttl > cf->negative_ttl_max)
		ttl = cf->negative_ttl_max;
	return clamp_ttl(cf, ttl);
}

/* ---- public interface ---------------------------------------------------------------------- */

struct cache *cache_new(const struct cache_conf *conf)
{
	struct cache *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->conf = *conf;
	resize_table(c, conf->size);
	if (!c->buckets) {
		free(c);
		return NULL;
	}
	random_seed(c->seed);
	return c;
}

void cache_free(struct cache *c)
{
	if (!c)
		return;
	flush(c);
	free(c->buckets);
	free(c);
}

void cache_reconfigure(struct cache *c, const struct cache_conf *conf)
{
	c->conf = *conf;
	if (!conf->enabled) {
		flush(c);
		return;
	}
	resize_table(c, conf->size);
	/* now = 0: nothing counts as expired, the hand just evicts in CLOCK order. */
	make_room(c, 0, 0);
}

/* Served TTL: the stored one minus the whole seconds since the entry was stored. */
static void patch_ttls(struct entry *e, uint8_t *out, uint32_t elapsed)
{
	const uint8_t *stored = entry_reply(e);

	for (size_t i = 0; i < e->n_ttl; i++) {
		uint16_t off = e->ttl_off[i];
		uint32_t ttl = dns_get32(stored + off);

		dns_set32(out + off, ttl > elapsed ? ttl - elapsed : 0);
	}
}

size_t cache_lookup(struct cache *c, const struct dns_query *q, uint64_t now_ms, uint8_t *out,
		    size_t cap, size_t limit)
{
	struct entry *e;
	struct key k;
	uint64_t age;
	size_t n;

	if (!c->conf.enabled || q->question_end <= DNS_HDR_LEN)
		return 0;
	make_key(c, q, &k);
	e = find(c, q, &k);
	if (!e)
		goto miss;
	if (is_dead(e, now_ms)) {
		remove_entry(c, e);
		c->st.expired++;
		goto miss;
	}
	if (e->len == 0) {
		/* A failure record: SERVFAIL while active, then a miss (kept for the backoff). */
		if (now_ms >= e->expire_ms)
			goto miss;
		n = dnsmsg_answer_error(q, DNS_SERVFAIL, q->edns ? EDE_CACHED_ERROR : DNS_EDE_NONE,
					out, cap);
		if (!n)
			goto miss;
		goto hit;
	}
	if (cap < e->len)
		goto miss;
	age = now_ms > e->stored_ms ? (now_ms - e->stored_ms) / 1000 : 0;
	memcpy(out, entry_reply(e), e->len);
	patch_ttls(e, out, (uint32_t)age);
	/* RD is the client's (the stored copy has the RD of whoever asked first). */
	out[2] = (uint8_t)((out[2] & ~F_RD) | (q->rd ? F_RD : 0));
	n = dnsmsg_relay_reply(out, e->len, cap, q, limit);
	if (!n)
		goto miss;
hit:
	e->referenced = true;
	c->last_alias = e->alias;
	c->last_addrs = e->addrs;
	c->st.hits++;
	return n;
miss:
	c->st.misses++;
	return 0;
}

bool cache_hit_has_alias(const struct cache *c)
{
	return c->last_alias;
}

bool cache_hit_has_address(const struct cache *c)
{
	return c->last_addrs;
}

/* A new entry for q with room for n_ttl offsets and len reply bytes, or NULL. */
static struct entry *entry_new(const struct dns_query *q, const struct key *k, size_t n_ttl,
			       size_t len)
{
	struct entry *e = malloc(entry_size(n_ttl, q->name_len, len));

	if (!e)
		return NULL;
	memset(e, 0, sizeof(*e));
	e->hash = k->hash;
	e->qtype = q->qtype;
	e->qclass = q->qclass;
	e->flags = k->flags;
	e->name_len = q->name_len;
	e->n_ttl = (uint16_t)n_ttl;
	e->len = (uint16_t)len;
	memcpy(entry_name(e), q->name, q->name_len);
	return e;
}

static void insert(struct cache *c, struct entry *e, uint64_t now_ms)
{
	make_room(c, entry_size(e->n_ttl, e->name_len, e->len), now_ms);
	link_entry(c, e);
	c->st.stores++;
}

void cache_store(struct cache *c, const struct dns_query *q, const uint8_t *reply, size_t len,
		 uint64_t now_ms)
{
	struct entry *e, *old;
	struct scan s = {0};
	size_t qend, size;
	uint32_t ttl;
	struct key k;
	uint8_t *r;
	bool negative;

	if (!c->conf.enabled || q->question_end <= DNS_HDR_LEN || len < DNS_HDR_LEN ||
	    len > MAX_MSG || (reply[2] & F_TC))
		return;
	/* reply_matches checks QR, opcode, QDCOUNT 1, and a plain-label qname equal to q's. */
	if (!dnsmsg_reply_matches(reply, len, dns_get16(reply), q))
		return;
	qend = DNS_HDR_LEN + q->name_len + 4;
	if (!scan_reply(reply, len, qend, &s))
		return;
	make_key(c, q, &k);
	old = find(c, q, &k);
	ttl = entry_ttl(&c->conf, reply, &s, &negative);
	size = entry_size(s.n_ttl, q->name_len, s.end);
	if (ttl == 0 || size > c->conf.size / 8) {
		/* Not stored; a stale entry or a failure record for the key is now out of date. */
		if (old)
			remove_entry(c, old);
		return;
	}
	e = entry_new(q, &k, s.n_ttl, s.end);
	if (!e)
		return;
	if (old)
		remove_entry(c, old);
	r = entry_reply(e);
	memcpy(r, reply, s.end);
	s.ttl_off = e->ttl_off;
	REQUIRE(scan_reply(r, s.end, qend, &s) && s.n_ttl == e->n_ttl);
	for (size_t i = 0; i < e->n_ttl; i++) {
		uint8_t *t = r + e->ttl_off[i];
		uint32_t v = clamp_ttl(&c->conf, rr_ttl(dns_get32(t)));

		dns_set32(t, negative && v > ttl ? ttl : v);
	}
	e->ttl = ttl;
	e->alias = s.alias;
	e->addrs = s.addrs;
	e->stored_ms = now_ms;
	e->expire_ms = now_ms + (uint64_t)ttl * 1000;
	insert(c, e, now_ms);
}

void cache_store_failure(struct cache *c, const struct dns_query *q, uint64_t now_ms)
{
	struct entry *e;
	struct key k;
	unsigned failures = 1;
	uint32_t ttl;

	if (!c->conf.enabled || q->question_end <= DNS_HDR_LEN)
		return;
	make_key(c, q, &k);
	e = find(c, q, &k);
	if (e && !is_dead(e, now_ms)) {
		/*
		 * A valid answer is still cached: keep serving it. A failure record still active:
		 * this failure is of a query sent before it began, not a new consecutive one.
		 */
		if (e->len > 0 || now_ms < e->expire_ms)
			return;
		failures = e->failures < UINT8_MAX ? e->failures + 1u : UINT8_MAX;
	} else if (e) {
		remove_entry(c, e);
		e = NULL;
	}
	/* 1 s, 2 s, 4 s, ... 256 s, then 300 s. */
	ttl = failures > 9 ? FAIL_MAX_S : 1u << (failures - 1);
	if (!e) {
		e = entry_new(q, &k, 0, 0);
		if (!e)
			return;
		insert(c, e, now_ms);
	} else {
		c->st.stores++;
	}
	e->failures = (uint8_t)failures;
	e->ttl = ttl;
	e->stored_ms = now_ms;
	e->expire_ms = now_ms + (uint64_t)ttl * 1000;
}

void cache_get_stats(const struct cache *c, struct cache_stats *out)
{
	*out = c->st;
	out->bytes = c->entry_bytes + c->table_bytes;
}
