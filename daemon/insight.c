/* SPDX-License-Identifier: MIT */
#include "insight.h"

#include <ldns/ldns.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "blocklog.h"
#include "policy/policy.h"
#include "util.h"
#include "util/hash.h"
#include "util/jbuf.h"

#define MINUTE_MS 60000
#define SETS (INSIGHT_PAIRS / INSIGHT_WAYS)
#define OTHER INSIGHT_FAMILIES /* the series of the families without one of their own */
/* A copied metadata string: longer ones are cut (the API shows them, the block log has all). */
#define META_STR INSIGHT_STR
/* The key of a client: its family, then 16 address bytes. */
#define CLIENT_KEY 17

/* An entry's metadata, copied: the snapshot it comes from may be freed after the record. */
struct meta_copy {
	char malware[META_STR], category[META_STR], source[META_STR], file[META_STR];
	char id[META_STR];
	int confidence; /* -1: none */
};

/* A (client, rule) pair followed by beacon detection. */
struct pair {
	uint64_t hash;		    /* of the key; 0 with n_seen 0: an empty slot */
	int64_t last_ms;	    /* the latest record of the pair: the least recent is evicted */
	int64_t t[INSIGHT_HISTORY]; /* call-home times, ascending */
	int64_t burst_end;	    /* the latest lookup of the latest call-home */
	uint8_t n;		    /* of t */
	uint8_t family;
	uint8_t rule_len;
	bool beacon;
	uint8_t addr[16];
	uint8_t rule[DNS_MAX_NAME];
	int64_t interval_ms, jitter_ms;
	uint64_t n_seen; /* records of the pair since it has this slot */
	char malware[META_STR];
};

/* A key of the space-saving counters: its count is at most err too high. */
struct top {
	uint64_t err;
	int64_t last_ms;
	uint8_t key_len;
	uint8_t key[DNS_MAX_NAME]; /* a client's CLIENT_KEY, or a rule's wire form */
	char malware[META_STR];	   /* IOCs: the family seen with it first */
};

/* Space-saving counters; the hashes and counts, scanned per record, apart from the keys. */
struct topset {
	size_t n;
	uint64_t hash[INSIGHT_TOP_TRACKED];
	uint64_t count[INSIGHT_TOP_TRACKED];
	struct top v[INSIGHT_TOP_TRACKED];
};

/* What every record says: when, who, what, which entry. */
struct seen {
	int64_t t_ms;	/* TimeGenerated */
	uint32_t count; /* lookups */
	uint8_t family, qname_len, rule_len;
	uint8_t addr[16];
	uint8_t qname[DNS_MAX_NAME];
	uint8_t rule[DNS_MAX_NAME]; /* the entry's key (rec_rule) */
	struct meta_copy m;
};

/* One record of the query path, copied. */
struct latest {
	struct seen s;
	uint16_t port, qtype;
	uint8_t proto, action, orig, via, matched_len;
	bool beacon;
	uint8_t matched[DNS_MAX_NAME];
};

/* One retro-hunt finding, copied. */
struct finding {
	struct seen s;
	int64_t first_ms, last_ms, listed_ms;
};

struct family {
	bool used;
	char name[META_STR]; /* "" for entries that name none */
	uint64_t total;	     /* lookups in the 24 h window */
};

struct insight {
	pthread_mutex_t mu; /* everything below */
	uint64_t seed;
	int64_t started_ms;

	uint64_t records, lookups, blocked, logged, retro_findings;
	int64_t last_ms;

	/* The timeline: minute m is in row m % INSIGHT_MINUTES while m > head_min - MINUTES. */
	int64_t head_min; /* -1: no record yet */
	struct family fam[INSIGHT_FAMILIES];
	uint64_t other_total;
	uint32_t (*counts)[INSIGHT_FAMILIES + 1];

	struct topset clients, iocs;

	struct latest *latest; /* INSIGHT_LATEST, a ring: n_latest records since start */
	uint64_t n_latest;
	struct finding *findings; /* INSIGHT_RETRO, a ring */
	uint64_t n_findings;

	struct pair *pairs; /* SETS sets of INSIGHT_WAYS */
	size_t n_pairs;
};

/* ---- helpers ---- */

static void copy_str(char *dst, const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n >= META_STR)
		n = META_STR - 1;
	memcpy(dst, s ? s : "", n);
	dst[n] = '\0';
}

/* The entry's fields; ioc_id: its numeric IOC id, 0 when none (ioc_id_text). */
static void copy_meta(struct meta_copy *c, const struct ioc_meta *m, uint32_t ioc_id)
{
	char id[IOC_ID_TEXT];

	copy_str(c->malware, m ? m->malware : NULL);
	copy_str(c->category, m ? m->threat_type : NULL);
	copy_str(c->source, m ? m->source : NULL);
	copy_str(c->file, m ? m->file : NULL);
	copy_str(c->id, ioc_id_text(m, ioc_id, id));
	c->confidence = m ? m->confidence : -1;
}

/*
 * A record of the query path is one lookup at time_ms; a retro-hunt finding stands for count
 * lookups from start_ms to end_ms. A record that stands for several lookups is one call-home,
 * at its start.
 */
/* A record with a count (a retro-hunt finding, or lookups aggregated) starts at start_ms. */
static int64_t rec_start_ms(const struct blocklog_rec *r)
{
	return r->count > 0 ? r->start_ms : r->time_ms;
}

static uint32_t rec_lookups(const struct blocklog_rec *r)
{
	return r->count > 0 ? r->count : 1;
}

/*
 * An IP indicator's key: this byte (no wire name starts with it: a label is at most 63
 * bytes), the family, the prefix length, the network's bytes.
 */
#define RULE_IP 0xFFu

/*
 * The entry that matched (RuleName) as a key: the listed domain's wire bytes within the
 * record, or, for an IP indicator, a RULE_IP key built in buf. Sets *rule and *len.
 */
static void rec_rule(const struct blocklog_rec *r, uint8_t buf[DNS_MAX_NAME], const uint8_t **rule,
		     size_t *len)
{
	const uint8_t *base = r->qname;
	size_t l = r->qname_len, off;

	if (r->via == BLOCKLOG_VIA_IP && (r->matched_len == 4 || r->matched_len == 16)) {
		unsigned bits = r->rule_off, total = r->matched_len * 8u;

		if (bits > total)
			bits = total;
		buf[0] = RULE_IP;
		buf[1] = r->matched_len == 4 ? AF_INET : AF_INET6;
		buf[2] = (uint8_t)bits;
		memcpy(buf + 3, r->matched, r->matched_len);
		for (unsigned i = bits; i < total; i++)
			buf[3 + i / 8] &= (uint8_t)~(0x80u >> (i % 8));
		*rule = buf;
		*len = 3 + r->matched_len;
		return;
	}
	if (r->via == BLOCKLOG_VIA_CNAME && r->matched_len > 0) {
		base = r->matched;
		l = r->matched_len;
	}
	off = r->rule_off < l ? r->rule_off : 0;
	*rule = base + off;
	*len = l - off;
}

static size_t client_key(uint8_t key[CLIENT_KEY], int family, const uint8_t *addr)
{
	memset(key, 0, CLIENT_KEY);
	key[0] = (uint8_t)family;
	memcpy(key + 1, addr, family == AF_INET6 ? 16 : 4);
	return CLIENT_KEY;
}

/* ---- the timeline ---- */

/* Move the window's head to minute m, clearing the rows it passes. */
static void advance(struct insight *in, int64_t m)
{
	int64_t from = in->head_min < 0 ? m - INSIGHT_MINUTES + 1 : in->head_min + 1;

	if (from < m - INSIGHT_MINUTES + 1)
		from = m - INSIGHT_MINUTES + 1;
	for (int64_t k = from; k <= m; k++) {
		uint32_t *row = in->counts[k % INSIGHT_MINUTES];

		for (int f = 0; f < INSIGHT_FAMILIES; f++)
			in->fam[f].total -= row[f];
		in->other_total -= row[OTHER];
		memset(row, 0, sizeof(in->counts[0]));
	}
	in->head_min = m;
}

/* The series of a family: its own, a free one, or OTHER. */
static int family_slot(struct insight *in, const char *name)
{
	int free_slot = -1;

	for (int f = 0; f < INSIGHT_FAMILIES; f++) {
		if (in->fam[f].used && strncmp(in->fam[f].name, name, META_STR - 1) == 0)
			return f;
		/* A family with nothing left in the window gives its series up. */
		if (free_slot < 0 && (!in->fam[f].used || in->fam[f].total == 0))
			free_slot = f;
	}
	if (free_slot < 0)
		return OTHER;
	in->fam[free_slot].used = true;
	in->fam[free_slot].total = 0;
	copy_str(in->fam[free_slot].name, name);
	return free_slot;
}

static void count_minute(struct insight *in, int64_t t_ms, const char *family, uint32_t n)
{
	int64_t m = t_ms / MINUTE_MS;
	int f;

	if (t_ms < 0)
		return;
	if (in->head_min < 0 || m > in->head_min)
		advance(in, m);
	else if (m <= in->head_min - INSIGHT_MINUTES)
		return; /* older than the window */
	f = family_slot(in, family ? family : "");
	in->counts[m % INSIGHT_MINUTES][f] += n;
	if (f == OTHER)
		in->other_total += n;
	else
		in->fam[f].total += n;
}

/* ---- top clients and IOCs (space-saving) ---- */

/* Count add lookups of key at t_ms; its entry, *fresh when the key just got it. */
static struct top *top_count(struct topset *t, const uint8_t *key, size_t key_len, uint64_t hash,
			     uint32_t add, int64_t t_ms, bool *fresh)
{
	size_t i, min = 0;

	for (i = 0; i < t->n; i++)
		if (t->hash[i] == hash && t->v[i].key_len == key_len &&
		    memcmp(t->v[i].key, key, key_len) == 0)
			break;
	*fresh = i == t->n;
	if (*fresh) {
		if (t->n < INSIGHT_TOP_TRACKED) {
			i = t->n++;
			t->count[i] = t->v[i].err = 0;
		} else {
			/* Replace the smallest: the newcomer inherits its count as the error. */
			for (i = 1; i < t->n; i++)
				if (t->count[i] < t->count[min])
					min = i;
			i = min;
			t->v[i].err = t->count[i];
		}
		t->hash[i] = hash;
		t->v[i].key_len = (uint8_t)key_len;
		memcpy(t->v[i].key, key, key_len);
		t->v[i].malware[0] = '\0';
		t->v[i].last_ms = 0;
	}
	t->count[i] += add;
	if (t_ms > t->v[i].last_ms)
		t->v[i].last_ms = t_ms;
	return &t->v[i];
}

/* ---- beacon detection ---- */

static void sort_i64(int64_t *v, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		int64_t x = v[i];
		size_t j = i;

		for (; j > 0 && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
}

/* The median of v (n > 0; reordered): the mean of the middle two for an even n. */
static int64_t median(int64_t *v, size_t n)
{
	sort_i64(v, n);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

bool insight_beacon_rule(const int64_t *t, size_t n, struct insight_beacon *b)
{
	int64_t d[INSIGHT_HISTORY], dev[INSIGHT_HISTORY], m, mad;
	size_t k;

	if (n > INSIGHT_HISTORY) {
		t += n - INSIGHT_HISTORY;
		n = INSIGHT_HISTORY;
	}
	b->interval_ms = b->jitter_ms = 0;
	b->lookups = (unsigned)n;
	b->last_ms = n ? t[n - 1] : 0;
	if (n < BEACON_MIN_INTERVALS + 1)
		return false;
	k = n - 1;
	for (size_t i = 0; i < k; i++)
		d[i] = t[i + 1] - t[i];
	m = median(d, k);
	for (size_t i = 0; i < k; i++)
		dev[i] = d[i] > m ? d[i] - m : m - d[i];
	mad = median(dev, k);
	b->interval_ms = m;
	b->jitter_ms = mad;
	b->lookups = (unsigned)n;
	b->last_ms = t[n - 1];
	return m >= BEACON_MERGE_MS && mad * 100 <= m * BEACON_MAX_SPREAD_PCT;
}

/* The pair of (client, rule), found or given a slot (evicting its set's least recent). */
static struct pair *pair_get(struct insight *in, int family, const uint8_t *addr,
			     const uint8_t *rule, size_t rule_len)
{
	uint8_t key[CLIENT_KEY + DNS_MAX_NAME];
	size_t klen = client_key(key, family, addr);
	uint64_t hash;
	struct pair *set, *victim;

	memcpy(key + klen, rule, rule_len);
	hash = hash_bytes_seeded(key, klen + rule_len, in->seed) | 1; /* 0 marks a free slot */
	set = &in->pairs[(hash >> 1) % SETS * INSIGHT_WAYS];
	victim = &set[0];
	for (size_t w = 0; w < INSIGHT_WAYS; w++) {
		struct pair *p = &set[w];

		if (p->hash == hash && p->family == key[0] && p->rule_len == rule_len &&
		    memcmp(p->addr, key + 1, 16) == 0 && memcmp(p->rule, rule, rule_len) == 0)
			return p;
		if (victim->hash != 0 && (p->hash == 0 || p->last_ms < victim->last_ms))
			victim = p;
	}
	if (victim->hash == 0)
		in->n_pairs++;
	memset(victim, 0, sizeof(*victim));
	victim->hash = hash;
	victim->family = key[0];
	memcpy(victim->addr, key + 1, 16);
	victim->rule_len = (uint8_t)rule_len;
	memcpy(victim->rule, rule, rule_len);
	return victim;
}

/* Keep call-home t (ascending order). False when it is one already kept or older than all. */
static bool pair_add(struct pair *p, int64_t t)
{
	size_t i = p->n;

	/*
	 * Lookups less than BEACON_MERGE_MS apart (A and AAAA, retries, a burst of any length)
	 * are one call-home, at the first of them.
	 */
	if (i > 0 && t >= p->t[i - 1] && t < p->burst_end + BEACON_MERGE_MS) {
		if (t > p->burst_end)
			p->burst_end = t;
		return false;
	}
	while (i > 0 && p->t[i - 1] > t)
		i--;
	/* Records come in order per worker only: a late one close to a kept one merges too. */
	if ((i > 0 && t - p->t[i - 1] < BEACON_MERGE_MS) ||
	    (i < p->n && p->t[i] - t < BEACON_MERGE_MS))
		return false;
	if (i == p->n)
		p->burst_end = t;
	if (p->n == INSIGHT_HISTORY) {
		if (i == 0)
			return false;
		memmove(p->t, p->t + 1, (i - 1) * sizeof(p->t[0]));
		p->t[i - 1] = t;
	} else {
		memmove(p->t + i + 1, p->t + i, (p->n - i) * sizeof(p->t[0]));
		p->t[i] = t;
		p->n++;
	}
	return true;
}

/* ---- the observer ---- */

static void copy_seen(struct seen *s, const struct blocklog_rec *r, const uint8_t *rule,
		      size_t rule_len)
{
	s->t_ms = r->time_ms;
	s->count = rec_lookups(r);
	s->family = r->src_family;
	memcpy(s->addr, r->src_addr, 16);
	s->qname_len = r->qname_len;
	memcpy(s->qname, r->qname, r->qname_len);
	s->rule_len = (uint8_t)rule_len;
	memcpy(s->rule, rule, rule_len);
	copy_meta(&s->m, r->meta, r->ioc_id);
}

static void observe_query(struct insight *in, const struct blocklog_rec *r, struct pair *p,
			  const uint8_t *rule, size_t rule_len)
{
	struct latest *l = &in->latest[in->n_latest++ % INSIGHT_LATEST];
	uint32_t n = rec_lookups(r);

	in->lookups += n;
	if (r->action == BLOCKLOG_ALLOWED)
		in->logged += n;
	else
		in->blocked += n;
	count_minute(in, r->time_ms, r->meta ? r->meta->malware : NULL, n);
	copy_seen(&l->s, r, rule, rule_len);
	l->port = r->src_port;
	l->qtype = r->qtype;
	l->proto = r->proto;
	l->action = r->action;
	l->orig = r->orig;
	l->via = r->via;
	l->matched_len = r->via == BLOCKLOG_VIA_CNAME || r->via == BLOCKLOG_VIA_IP ? r->matched_len : 0;
	memcpy(l->matched, r->matched, l->matched_len);
	l->beacon = p->beacon;
}

static void observe_retro(struct insight *in, const struct blocklog_rec *r, const uint8_t *rule,
			  size_t rule_len)
{
	struct finding *f = &in->findings[in->n_findings++ % INSIGHT_RETRO];

	in->retro_findings++;
	copy_seen(&f->s, r, rule, rule_len);
	f->first_ms = r->start_ms;
	f->last_ms = r->end_ms;
	f->listed_ms = r->listed_ms;
}

size_t insight_observe(void *arg, const struct blocklog_rec *r, char *extra, size_t cap)
{
	struct insight *in = arg;
	uint8_t key[CLIENT_KEY], rule_buf[DNS_MAX_NAME];
	const uint8_t *rule;
	size_t rule_len, n = 0;
	struct pair *p;
	struct top *ioc;
	bool fresh;
	bool retro = r->proto == BLOCKLOG_RETRO;
	int64_t t = rec_start_ms(r);

	rec_rule(r, rule_buf, &rule, &rule_len);
	client_key(key, r->src_family, r->src_addr);
	pthread_mutex_lock(&in->mu);
	in->records++;
	if (r->time_ms > in->last_ms)
		in->last_ms = r->time_ms;
	p = pair_get(in, r->src_family, r->src_addr, rule, rule_len);
	if (p->n_seen++ == 0)
		copy_str(p->malware, r->meta ? r->meta->malware : NULL);
	if (r->time_ms > p->last_ms)
		p->last_ms = r->time_ms;
	/*
	 * A retro-hunt finding only knows its first and last lookup and their count: it tells
	 * nothing about intervals, and adds no call-home. Its pair's blocked lookups do.
	 */
	if (!retro && pair_add(p, t)) {
		struct insight_beacon b;

		p->beacon = insight_beacon_rule(p->t, p->n, &b);
		p->interval_ms = b.interval_ms;
		p->jitter_ms = b.jitter_ms;
	}
	if (retro) {
		observe_retro(in, r, rule, rule_len);
	} else {
		observe_query(in, r, p, rule, rule_len);
		top_count(&in->clients, key, CLIENT_KEY,
			  hash_bytes_seeded(key, CLIENT_KEY, in->seed), rec_lookups(r), r->time_ms,
			  &fresh);
		ioc = top_count(&in->iocs, rule, rule_len,
				hash_bytes_seeded(rule, rule_len, in->seed), rec_lookups(r),
				r->time_ms, &fresh);
		if (fresh)
			copy_str(ioc->malware, r->meta ? r->meta->malware : NULL);
	}
	if (p->beacon) {
		int len =
		    snprintf(extra, cap,
			     ",\"Beacon\":{\"IntervalSeconds\":%lld.%03lld,\"JitterSeconds\":"
			     "%lld.%03lld,\"Lookups\":%u}",
			     (long long)(p->interval_ms / 1000), (long long)(p->interval_ms % 1000),
			     (long long)(p->jitter_ms / 1000), (long long)(p->jitter_ms % 1000),
			     (unsigned)p->n);

		n = len > 0 && (size_t)len < cap ? (size_t)len : 0;
	}
	pthread_mutex_unlock(&in->mu);
	return n;
}

/* ---- life ---- */

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct insight *insight_new(uint64_t seed)
{
	struct insight *in = calloc(1, sizeof(*in));

	if (!in)
		return NULL;
	pthread_mutex_init(&in->mu, NULL);
	in->seed = seed;
	in->head_min = -1;
	in->started_ms = wall_ms();
	in->counts = calloc(INSIGHT_MINUTES, sizeof(in->counts[0]));
	in->latest = calloc(INSIGHT_LATEST, sizeof(in->latest[0]));
	in->findings = calloc(INSIGHT_RETRO, sizeof(in->findings[0]));
	in->pairs = calloc(INSIGHT_PAIRS, sizeof(in->pairs[0]));
	if (!in->counts || !in->latest || !in->findings || !in->pairs) {
		insight_free(in);
		return NULL;
	}
	return in;
}

void insight_free(struct insight *in)
{
	if (!in)
		return;
	pthread_mutex_destroy(&in->mu);
	free(in->counts);
	free(in->latest);
	free(in->findings);
	free(in->pairs);
	free(in);
}

size_t insight_memory(const struct insight *in)
{
	(void)in;
	return sizeof(struct insight) + INSIGHT_MINUTES * sizeof(in->counts[0]) +
	       INSIGHT_LATEST * sizeof(struct latest) + INSIGHT_RETRO * sizeof(struct finding) +
	       INSIGHT_PAIRS * sizeof(struct pair);
}

size_t insight_pairs(struct insight *in)
{
	size_t n;

	pthread_mutex_lock(&in->mu);
	n = in->n_pairs;
	pthread_mutex_unlock(&in->mu);
	return n;
}

/* Beacons into out (up to max), latest first. Under mu. */
static size_t beacons_locked(struct insight *in, struct insight_beacon *out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < INSIGHT_PAIRS; i++) {
		const struct pair *p = &in->pairs[i];
		struct insight_beacon b;
		size_t j;

		if (p->hash == 0 || !p->beacon)
			continue;
		b.family = p->family;
		memcpy(b.addr, p->addr, 16);
		memcpy(b.rule, p->rule, p->rule_len);
		b.rule_len = p->rule_len;
		b.interval_ms = p->interval_ms;
		b.jitter_ms = p->jitter_ms;
		b.lookups = p->n;
		b.last_ms = p->n ? p->t[p->n - 1] : p->last_ms;
		memcpy(b.malware, p->malware, sizeof(b.malware));
		/* Insert by last_ms, descending; the oldest fall off the end. */
		for (j = n; j > 0 && out[j - 1].last_ms < b.last_ms; j--)
			if (j < max)
				out[j] = out[j - 1];
		if (j < max) {
			out[j] = b;
			if (n < max)
				n++;
		}
	}
	return n;
}

size_t insight_beacons(struct insight *in, struct insight_beacon *out, size_t max)
{
	size_t n;

	pthread_mutex_lock(&in->mu);
	n = beacons_locked(in, out, max);
	pthread_mutex_unlock(&in->mu);
	return n;
}

/* ---- JSON ---- */

/* Room enough for any name in presentation form, escaped (\DDD, its backslash doubled). */
#define NAME_JSON_MAX (DNS_MAX_NAME * 5 + 8)

static void j_name(struct jbuf *b, const uint8_t *name, size_t off, size_t len)
{
	size_t cap;
	char *p = jbuf_room(b, NAME_JSON_MAX, &cap);

	if (p)
		jbuf_commit(b, blocklog_json_name(name, off, len, p, cap));
}

/* An entry's key (rec_rule) as RuleName: the listed domain, or an IP indicator's prefix. */
static void j_rule(struct jbuf *b, const uint8_t *rule, size_t len)
{
	size_t cap;
	char *p;

	if (len < 3 || rule[0] != RULE_IP) {
		j_name(b, rule, 0, len);
		return;
	}
	p = jbuf_room(b, 64, &cap);
	if (p)
		jbuf_commit(b, blocklog_json_prefix(rule[1], rule + 3, rule[2], p, cap));
}

/* A copied string, null when empty. */
static void j_str(struct jbuf *b, const char *s)
{
	size_t cap;
	char *p;

	if (!s[0]) {
		jbuf_str(b, "null");
		return;
	}
	p = jbuf_room(b, META_STR * 6 + 2, &cap);
	if (p)
		jbuf_commit(b, blocklog_json_str(s, META_STR * 6, p, cap));
}

static void j_addr(struct jbuf *b, int family, const uint8_t *addr)
{
	size_t cap;
	char *p = jbuf_room(b, 64, &cap);

	if (p)
		jbuf_commit(b, blocklog_json_addr(family, addr, p, cap));
}

static void j_time(struct jbuf *b, int64_t t_ms)
{
	size_t cap;
	char *p = jbuf_room(b, 48, &cap);

	if (p)
		jbuf_commit(b, blocklog_json_time(t_ms, p, cap));
}

static void j_meta(struct jbuf *b, const struct meta_copy *m)
{
	jbuf_str(b, ",\"ThreatName\":");
	j_str(b, m->malware);
	jbuf_str(b, ",\"ThreatCategory\":");
	j_str(b, m->category);
	jbuf_str(b, ",\"ThreatConfidence\":");
	if (m->confidence >= 0)
		jbuf_int(b, m->confidence);
	else
		jbuf_str(b, "null");
	jbuf_str(b, ",\"ThreatId\":");
	j_str(b, m->id);
	jbuf_str(b, ",\"ListSource\":");
	j_str(b, m->source);
	jbuf_str(b, ",\"ListFile\":");
	j_str(b, m->file);
}

/* Opens the object of entry i of a list with what every record says. */
static void j_seen(struct jbuf *b, uint64_t i, const struct seen *s)
{
	jbuf_str(b, i ? ",{\"TimeGenerated\":" : "{\"TimeGenerated\":");
	j_time(b, s->t_ms);
	jbuf_str(b, ",\"EventCount\":");
	jbuf_int(b, s->count);
	jbuf_str(b, ",\"SrcIpAddr\":");
	j_addr(b, s->family, s->addr);
	jbuf_str(b, ",\"DnsQuery\":");
	j_name(b, s->qname, 0, s->qname_len);
}

void insight_json_summary(struct insight *in, int64_t now_ms, struct jbuf *b)
{
	uint64_t window = 0;
	size_t beacons = 0;

	pthread_mutex_lock(&in->mu);
	for (int f = 0; f < INSIGHT_FAMILIES; f++)
		window += in->fam[f].total;
	window += in->other_total;
	for (size_t i = 0; i < INSIGHT_PAIRS; i++)
		beacons += in->pairs[i].hash != 0 && in->pairs[i].beacon;
	jbuf_str(b, "\"now\":");
	j_time(b, now_ms);
	jbuf_str(b, ",\"started\":");
	j_time(b, in->started_ms);
	jbuf_str(b, ",\"last_record\":");
	if (in->records)
		j_time(b, in->last_ms);
	else
		jbuf_str(b, "null");
	jbuf_member_int(b, ",\"records\":", (int64_t)in->records);
	jbuf_member_int(b, ",\"lookups\":", (int64_t)in->lookups);
	jbuf_member_int(b, ",\"blocked\":", (int64_t)in->blocked);
	jbuf_member_int(b, ",\"logged\":", (int64_t)in->logged);
	jbuf_member_int(b, ",\"lookups_24h\":", (int64_t)window);
	jbuf_member_int(b, ",\"retro_findings\":", (int64_t)in->retro_findings);
	jbuf_member_int(b, ",\"beacons\":", (int64_t)beacons);
	jbuf_member_int(b, ",\"pairs\":", (int64_t)in->n_pairs);
	pthread_mutex_unlock(&in->mu);
}

void insight_json_timeline(struct insight *in, int64_t now_ms, struct jbuf *b)
{
	int64_t now_min = now_ms / MINUTE_MS, first = now_min - INSIGHT_MINUTES + 1;
	bool any = false;

	pthread_mutex_lock(&in->mu);
	jbuf_str(b, "{\"start\":");
	j_time(b, first * MINUTE_MS);
	jbuf_str(b, ",\"step_seconds\":60,\"minutes\":");
	jbuf_int(b, INSIGHT_MINUTES);
	jbuf_str(b, ",\"series\":[");
	for (int f = 0; f <= OTHER; f++) {
		uint64_t total = 0;

		if (f < OTHER && (!in->fam[f].used || in->fam[f].total == 0))
			continue;
		if (f == OTHER && in->other_total == 0)
			continue;
		jbuf_str(b, any ? ",{\"family\":" : "{\"family\":");
		any = true;
		if (f == OTHER)
			jbuf_str(b, "null,\"other\":true");
		else if (!in->fam[f].name[0])
			jbuf_str(b, "null,\"other\":false");
		else {
			j_str(b, in->fam[f].name);
			jbuf_str(b, ",\"other\":false");
		}
		jbuf_str(b, ",\"counts\":[");
		for (int64_t m = first; m <= now_min; m++) {
			uint32_t c = 0;

			if (in->head_min >= 0 && m <= in->head_min &&
			    m > in->head_min - INSIGHT_MINUTES && m >= 0)
				c = in->counts[m % INSIGHT_MINUTES][f];
			total += c;
			if (m > first)
				jbuf_mem(b, ",", 1);
			jbuf_int(b, c);
		}
		jbuf_str(b, "],\"total\":");
		jbuf_int(b, (int64_t)total);
		jbuf_str(b, "}");
	}
	jbuf_str(b, "]}");
	pthread_mutex_unlock(&in->mu);
}

/* The top INSIGHT_TOP_SHOWN of t by count, as indexes into idx; how many. */
static size_t top_order(const struct topset *t, size_t idx[INSIGHT_TOP_TRACKED])
{
	for (size_t i = 0; i < t->n; i++) {
		size_t j = i;

		for (; j > 0 && t->count[idx[j - 1]] < t->count[i]; j--)
			idx[j] = idx[j - 1];
		idx[j] = i;
	}
	return t->n < INSIGHT_TOP_SHOWN ? t->n : INSIGHT_TOP_SHOWN;
}

/* Entry i's counts, closing its object. */
static void j_top_counts(struct jbuf *b, const struct topset *t, size_t i)
{
	jbuf_member_int(b, ",\"lookups\":", (int64_t)t->count[i]);
	jbuf_member_int(b, ",\"overcount\":", (int64_t)t->v[i].err);
	jbuf_str(b, ",\"last\":");
	j_time(b, t->v[i].last_ms);
	jbuf_str(b, "}");
}

void insight_json_top(struct insight *in, int64_t now_ms, struct jbuf *b)
{
	size_t idx[INSIGHT_TOP_TRACKED], n;

	(void)now_ms;
	pthread_mutex_lock(&in->mu);
	jbuf_str(b, "{\"clients\":[");
	n = top_order(&in->clients, idx);
	for (size_t i = 0; i < n; i++) {
		const struct top *e = &in->clients.v[idx[i]];

		jbuf_str(b, i ? ",{\"SrcIpAddr\":" : "{\"SrcIpAddr\":");
		j_addr(b, e->key[0], e->key + 1);
		j_top_counts(b, &in->clients, idx[i]);
	}
	jbuf_str(b, "],\"iocs\":[");
	n = top_order(&in->iocs, idx);
	for (size_t i = 0; i < n; i++) {
		const struct top *e = &in->iocs.v[idx[i]];

		jbuf_str(b, i ? ",{\"RuleName\":" : "{\"RuleName\":");
		j_rule(b, e->key, e->key_len);
		jbuf_str(b, ",\"ThreatName\":");
		j_str(b, e->malware);
		j_top_counts(b, &in->iocs, idx[i]);
	}
	jbuf_str(b, "]}");
	pthread_mutex_unlock(&in->mu);
}

void insight_json_blocks(struct insight *in, int64_t now_ms, struct jbuf *b)
{
	uint64_t n;

	(void)now_ms;
	pthread_mutex_lock(&in->mu);
	n = in->n_latest < INSIGHT_LATEST ? in->n_latest : INSIGHT_LATEST;
	jbuf_str(b, "{\"total\":");
	jbuf_int(b, (int64_t)in->records - (int64_t)in->retro_findings);
	jbuf_str(b, ",\"blocks\":[");
	for (uint64_t i = 0; i < n; i++) {
		const struct latest *l = &in->latest[(in->n_latest - 1 - i) % INSIGHT_LATEST];
		const ldns_rr_descriptor *desc = ldns_rr_descript(l->qtype);
		bool cname = l->via == BLOCKLOG_VIA_CNAME && l->matched_len > 0;
		bool ip = l->via == BLOCKLOG_VIA_IP && (l->matched_len == 4 || l->matched_len == 16);

		j_seen(b, i, &l->s);
		jbuf_str(b, ",\"SrcPortNumber\":");
		jbuf_int(b, l->port);
		jbuf_str(b, l->proto == BLOCKLOG_TCP ? ",\"NetworkProtocol\":\"TCP\""
						     : ",\"NetworkProtocol\":\"UDP\"");
		jbuf_str(b, ",\"DnsQueryType\":");
		jbuf_int(b, l->qtype);
		jbuf_str(b, ",\"DnsQueryTypeName\":\"");
		if (desc && desc->_name) {
			jbuf_str(b, desc->_name);
		} else {
			jbuf_str(b, "TYPE");
			jbuf_int(b, l->qtype);
		}
		jbuf_str(b, l->action == BLOCKLOG_ALLOWED ? "\",\"DvcAction\":\"Allowed\""
							  : "\",\"DvcAction\":\"Blocked\"");
		jbuf_str(b, ",\"DvcOriginalAction\":\"");
		jbuf_str(b, blocklog_orig_name(l->orig));
		jbuf_str(b, "\",\"RuleName\":");
		j_rule(b, l->s.rule, l->s.rule_len);
		if (ip) {
			jbuf_str(b, ",\"MatchedVia\":\"ip\",\"MatchedName\":null,\"DnsResponseName\":");
			j_addr(b, l->matched_len == 4 ? AF_INET : AF_INET6, l->matched);
		} else {
			jbuf_str(b, cname ? ",\"MatchedVia\":\"cname\",\"MatchedName\":"
					  : ",\"MatchedVia\":\"qname\",\"MatchedName\":null");
			if (cname)
				j_name(b, l->matched, 0, l->matched_len);
		}
		j_meta(b, &l->s.m);
		jbuf_str(b, l->beacon ? ",\"Beacon\":true}" : ",\"Beacon\":false}");
	}
	jbuf_str(b, "]}");
	pthread_mutex_unlock(&in->mu);
}

void insight_json_retro(struct insight *in, int64_t now_ms, struct jbuf *b)
{
	uint64_t n;

	(void)now_ms;
	pthread_mutex_lock(&in->mu);
	n = in->n_findings < INSIGHT_RETRO ? in->n_findings : INSIGHT_RETRO;
	jbuf_str(b, "{\"total\":");
	jbuf_int(b, (int64_t)in->retro_findings);
	jbuf_str(b, ",\"findings\":[");
	for (uint64_t i = 0; i < n; i++) {
		const struct finding *f = &in->findings[(in->n_findings - 1 - i) % INSIGHT_RETRO];

		j_seen(b, i, &f->s);
		jbuf_str(b, ",\"RuleName\":");
		j_rule(b, f->s.rule, f->s.rule_len);
		jbuf_str(b, ",\"EventStartTime\":");
		j_time(b, f->first_ms);
		jbuf_str(b, ",\"EventEndTime\":");
		j_time(b, f->last_ms);
		jbuf_str(b, ",\"ListedTime\":");
		j_time(b, f->listed_ms);
		j_meta(b, &f->s.m);
		jbuf_str(b, "}");
	}
	jbuf_str(b, "]}");
	pthread_mutex_unlock(&in->mu);
}

void insight_json_beacons(struct insight *in, int64_t now_ms, struct jbuf *b)
{
	struct insight_beacon *v = malloc(INSIGHT_TOP_TRACKED * sizeof(*v));
	size_t n;

	(void)now_ms;
	if (!v) {
		b->oom = true;
		return;
	}
	pthread_mutex_lock(&in->mu);
	n = beacons_locked(in, v, INSIGHT_TOP_TRACKED);
	jbuf_str(b, "{\"rule\":{\"min_intervals\":");
	jbuf_int(b, BEACON_MIN_INTERVALS);
	jbuf_str(b, ",\"history\":");
	jbuf_int(b, INSIGHT_HISTORY);
	jbuf_str(b, ",\"max_spread_percent\":");
	jbuf_int(b, BEACON_MAX_SPREAD_PCT);
	jbuf_str(b, ",\"merge_seconds\":");
	jbuf_ms_as_s(b, BEACON_MERGE_MS);
	jbuf_str(b, "},\"beacons\":[");
	for (size_t i = 0; i < n; i++) {
		const struct insight_beacon *e = &v[i];

		jbuf_str(b, i ? ",{\"SrcIpAddr\":" : "{\"SrcIpAddr\":");
		j_addr(b, e->family, e->addr);
		jbuf_str(b, ",\"RuleName\":");
		j_rule(b, e->rule, e->rule_len);
		jbuf_str(b, ",\"ThreatName\":");
		j_str(b, e->malware);
		jbuf_str(b, ",\"IntervalSeconds\":");
		jbuf_ms_as_s(b, e->interval_ms);
		jbuf_str(b, ",\"JitterSeconds\":");
		jbuf_ms_as_s(b, e->jitter_ms);
		jbuf_str(b, ",\"Lookups\":");
		jbuf_int(b, e->lookups);
		jbuf_str(b, ",\"LastSeen\":");
		j_time(b, e->last_ms);
		jbuf_str(b, "}");
	}
	jbuf_str(b, "]}");
	pthread_mutex_unlock(&in->mu);
	free(v);
}
