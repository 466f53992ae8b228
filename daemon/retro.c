/* SPDX-License-Identifier: MIT */
#include "retro.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "blocklog.h"
#include "log.h"
#include "policy/domainset.h"
#include "policy/ipset.h"
#include "policy/policy.h"
#include "util/hash.h"

/* ---- the store ---- */

/* Wire bytes budgeted per name: longer names fill a generation sooner. */
#define ARENA_PER_NAME 32

/*
 * An address key: this byte, the family, the address (4 or 16 bytes), then the name it
 * answered. No canonical wire name starts with it (a label is 63 bytes at most).
 */
#define ADDR_KEY 0xff
#define KEY_MAX (2 + 16 + DNS_MAX_NAME)

struct rname {
	uint64_t hash;
	uint32_t off; /* in the generation's arena */
	uint16_t len;
};

struct rpair {
	uint32_t name; /* index in names */
	uint32_t count;
	int64_t first_ms, last_ms;
	uint8_t family;
	uint8_t addr[16];
};

struct gen {
	bool used;
	int64_t start_ms;
	size_t n_names, n_pairs, arena_used;
	struct rname *names;
	struct rpair *pairs;
	uint32_t *name_idx, *pair_idx; /* open addressing: 0 = empty, else index + 1 */
	uint8_t *arena;
};

struct retro_store {
	struct gen gens[RETRO_GENS];
	unsigned cur;
	size_t cap;   /* names and pairs per generation */
	size_t slots; /* index slots per table and generation */
	size_t arena_cap;
	int64_t window_ms, gen_span_ms;
	uint64_t seed;
	retro_hash_fn hash;
	void *block;
	size_t block_size;
};

static uint64_t default_hash(const uint8_t *name, size_t len, uint64_t seed)
{
	return hash_bytes_seeded(name, len, seed);
}

/* Slot of hash h in a table of n slots (multiply-shift: n needs no power of two). */
static inline size_t slot_of(uint64_t h, size_t n)
{
	return (size_t)(((__uint128_t)h * n) >> 64);
}

struct retro_store *retro_store_new(size_t memory, unsigned window_s, uint64_t seed)
{
	struct retro_store *s;
	size_t per_gen, per_cap, cap, gen_bytes;
	uint8_t *p;

	if (memory <= sizeof(*s))
		return NULL;
	per_gen = (memory - sizeof(*s)) / RETRO_GENS;
	/* Per name-and-pair: the two records, arena bytes, two index slots in each table. */
	per_cap =
	    sizeof(struct rname) + sizeof(struct rpair) + ARENA_PER_NAME + 4 * sizeof(uint32_t);
	cap = per_gen / per_cap;
	if (cap < 1)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->cap = cap;
	s->slots = 2 * cap;
	s->arena_cap = cap * ARENA_PER_NAME;
	gen_bytes = cap * (sizeof(struct rname) + sizeof(struct rpair)) +
		    2 * s->slots * sizeof(uint32_t) + s->arena_cap;
	s->block_size = gen_bytes * RETRO_GENS;
	s->block = malloc(s->block_size);
	if (!s->block) {
		free(s);
		return NULL;
	}
	p = s->block;
	for (unsigned i = 0; i < RETRO_GENS; i++) {
		struct gen *g = &s->gens[i];

		g->pairs = (struct rpair *)p;
		p += cap * sizeof(struct rpair);
		g->names = (struct rname *)p;
		p += cap * sizeof(struct rname);
		g->name_idx = (uint32_t *)p;
		p += s->slots * sizeof(uint32_t);
		g->pair_idx = (uint32_t *)p;
		p += s->slots * sizeof(uint32_t);
		g->arena = p;
		p += s->arena_cap;
		memset(g->name_idx, 0, 2 * s->slots * sizeof(uint32_t));
	}
	s->window_ms = (int64_t)window_s * 1000;
	s->gen_span_ms = s->window_ms / (RETRO_GENS - 1);
	if (s->gen_span_ms < 1)
		s->gen_span_ms = 1;
	s->seed = seed;
	s->hash = default_hash;
	return s;
}

void retro_store_free(struct retro_store *s)
{
	if (!s)
		return;
	free(s->block);
	free(s);
}

void retro_store_set_hash(struct retro_store *s, retro_hash_fn fn)
{
	s->hash = fn;
}

size_t retro_store_memory(const struct retro_store *s)
{
	return sizeof(*s) + s->block_size;
}

size_t retro_store_pairs(const struct retro_store *s)
{
	size_t n = 0;

	for (unsigned i = 0; i < RETRO_GENS; i++)
		n += s->gens[i].used ? s->gens[i].n_pairs : 0;
	return n;
}

/* Open the next generation at t_ms, dropping what it held (the oldest lookups). */
static void rotate(struct retro_store *s, int64_t t_ms)
{
	struct gen *g;

	s->cur = (s->cur + 1) % RETRO_GENS;
	g = &s->gens[s->cur];
	if (g->used && g->n_pairs)
		memset(g->name_idx, 0, 2 * s->slots * sizeof(uint32_t));
	g->used = true;
	g->start_ms = t_ms;
	g->n_names = g->n_pairs = g->arena_used = 0;
}

/* Index of key (a name or an address key, len bytes, hashed h) in generation g, added if new. */
static uint32_t get_name(struct retro_store *s, struct gen *g, const uint8_t *name, size_t len,
			 uint64_t h)
{
	size_t i = slot_of(h, s->slots);
	struct rname *n;

	for (;;) {
		uint32_t v = g->name_idx[i];

		if (!v)
			break;
		n = &g->names[v - 1];
		/* The bytes decide: names whose hashes collide stay apart. */
		if (n->hash == h && n->len == len && memcmp(g->arena + n->off, name, len) == 0)
			return v - 1;
		if (++i == s->slots)
			i = 0;
	}
	n = &g->names[g->n_names];
	n->hash = h;
	n->off = (uint32_t)g->arena_used;
	n->len = (uint16_t)len;
	memcpy(g->arena + g->arena_used, name, len);
	g->arena_used += len;
	g->name_idx[i] = (uint32_t)++g->n_names;
	return (uint32_t)(g->n_names - 1);
}

static inline size_t addr_len(int family)
{
	return family == AF_INET6 ? 16 : 4;
}

/*
 * One lookup to count: a key (a name, or an address key) and the client that asked, with both
 * hashes computed before it is counted, so that its slots in the two tables can be fetched
 * from memory meanwhile (stage()). A store of tens of MiB misses the caches on nearly every
 * probe: this is most of what recording costs.
 */
struct staged {
	uint64_t h;  /* of the key */
	uint64_t ph; /* of the (key, client) pair */
	int64_t t_ms;
	uint16_t len;
	uint8_t family;
	uint8_t addr[16]; /* the client, zero-padded */
	uint8_t key[KEY_MAX];
};

/* Hash k (key, len, family and addr set) and fetch its slots in the current generation. */
static void stage(const struct retro_store *s, struct staged *k)
{
	const struct gen *g = &s->gens[s->cur];

	k->h = s->hash(k->key, k->len, s->seed);
	/* From the key's hash, not its index: known before the name table is probed. */
	k->ph = hash_mum(hash_bytes_seeded(k->addr, 16, s->seed ^ k->family), k->h ^ HASH_K2);
	__builtin_prefetch(&g->name_idx[slot_of(k->h, s->slots)]);
	__builtin_prefetch(&g->pair_idx[slot_of(k->ph, s->slots)]);
}

/* Set k's client; false for a family that is neither IPv4 nor IPv6. */
static bool stage_client(struct staged *k, int family, const uint8_t *addr, int64_t t_ms)
{
	if (family != AF_INET && family != AF_INET6)
		return false;
	memset(k->addr, 0, sizeof(k->addr));
	memcpy(k->addr, addr, addr_len(family));
	k->family = (uint8_t)family;
	k->t_ms = t_ms;
	return true;
}

/* k for a lookup of name; false if it is no name. */
static bool stage_name(struct staged *k, const uint8_t *name, size_t len, int family,
		       const uint8_t *addr, int64_t t_ms)
{
	if (len == 0 || len > DNS_MAX_NAME || !stage_client(k, family, addr, t_ms))
		return false;
	memcpy(k->key, name, len);
	k->len = (uint16_t)len;
	return true;
}

/* k for an answer of ans (ans_family) for name; false if either is not one. */
static bool stage_addr(struct staged *k, const uint8_t *name, size_t len, int family,
		       const uint8_t *addr, int ans_family, const uint8_t *ans, int64_t t_ms)
{
	size_t al = addr_len(ans_family);

	if (len == 0 || len > DNS_MAX_NAME || (ans_family != AF_INET && ans_family != AF_INET6) ||
	    !stage_client(k, family, addr, t_ms))
		return false;
	k->key[0] = ADDR_KEY;
	k->key[1] = (uint8_t)ans_family;
	memcpy(k->key + 2, ans, al);
	memcpy(k->key + 2 + al, name, len);
	k->len = (uint16_t)(2 + al + len);
	return true;
}

/* Count the lookup k (stage()d). */
static void add_key(struct retro_store *s, const struct staged *k)
{
	struct gen *g = &s->gens[s->cur];
	const uint8_t *a = k->addr;
	int family = k->family;
	int64_t t_ms = k->t_ms;
	size_t len = k->len;
	struct rpair *p;
	uint32_t ni;
	size_t i;

	if (!g->used) {
		g->used = true;
		g->start_ms = t_ms;
	}
	if (t_ms - g->start_ms >= s->gen_span_ms || g->n_pairs == s->cap || g->n_names == s->cap ||
	    g->arena_used + len > s->arena_cap) {
		rotate(s, t_ms);
		g = &s->gens[s->cur];
	}
	ni = get_name(s, g, k->key, len, k->h);
	i = slot_of(k->ph, s->slots);
	for (;;) {
		uint32_t v = g->pair_idx[i];

		if (!v)
			break;
		p = &g->pairs[v - 1];
		if (p->name == ni && p->family == family && memcmp(p->addr, a, 16) == 0) {
			p->count++;
			if (t_ms < p->first_ms)
				p->first_ms = t_ms;
			if (t_ms > p->last_ms)
				p->last_ms = t_ms;
			return;
		}
		if (++i == s->slots)
			i = 0;
	}
	p = &g->pairs[g->n_pairs];
	p->name = ni;
	p->count = 1;
	p->first_ms = p->last_ms = t_ms;
	p->family = (uint8_t)family;
	memcpy(p->addr, a, 16);
	g->pair_idx[i] = (uint32_t)++g->n_pairs;
}

void retro_store_add(struct retro_store *s, const uint8_t *name, size_t len, int family,
		     const uint8_t *addr, int64_t t_ms)
{
	struct staged k;

	if (!stage_name(&k, name, len, family, addr, t_ms))
		return;
	stage(s, &k);
	add_key(s, &k);
}

void retro_store_add_addr(struct retro_store *s, const uint8_t *name, size_t len, int family,
			  const uint8_t *addr, int ans_family, const uint8_t *ans, int64_t t_ms)
{
	struct staged k;

	if (!stage_addr(&k, name, len, family, addr, ans_family, ans, t_ms))
		return;
	stage(s, &k);
	add_key(s, &k);
}

int64_t retro_store_span(const struct retro_store *s, int64_t now_ms)
{
	int64_t oldest = INT64_MAX, span;

	for (unsigned i = 0; i < RETRO_GENS; i++)
		if (s->gens[i].used && s->gens[i].start_ms < oldest)
			oldest = s->gens[i].start_ms;
	if (oldest == INT64_MAX || oldest >= now_ms)
		return 0;
	span = now_ms - oldest;
	return (span < s->window_ms ? span : s->window_ms) / 1000;
}

char *retro_format_span(int64_t span, char *buf, size_t len)
{
	if (span >= 86400)
		snprintf(buf, len, "%lldd %lldh", (long long)(span / 86400),
			 (long long)(span % 86400 / 3600));
	else if (span >= 3600)
		snprintf(buf, len, "%lldh %lldm", (long long)(span / 3600),
			 (long long)(span % 3600 / 60));
	else if (span >= 60)
		snprintf(buf, len, "%lldm %llds", (long long)(span / 60), (long long)(span % 60));
	else
		snprintf(buf, len, "%llds", (long long)span);
	return buf;
}

/* A pair whose key a new entry lists, before the (client, rule) merge. */
struct cand {
	uint64_t client_h, rule_h; /* sort keys: most comparisons end on them */
	const struct gen *g;
	const struct rpair *p;
	const struct ioc_meta *meta;
	uint32_t ioc_id;
	uint8_t rule_off; /* a name: the rule's offset in it; an address key: the prefix length */
};

struct name_res {
	int16_t rule_off; /* -1: nothing new lists the key */
	uint32_t ioc_id;
	const struct ioc_meta *meta;
	uint64_t rule_h;
};

static inline const uint8_t *key_of(const struct cand *c)
{
	return c->g->arena + c->g->names[c->p->name].off;
}

/*
 * Compare the prefixes of length bits_a and bits_b of the address keys ka and kb: by family,
 * length, then the address bits within the length.
 */
static int cmp_prefix(const uint8_t *ka, unsigned bits_a, const uint8_t *kb, unsigned bits_b)
{
	unsigned full = bits_a / 8, rest = bits_a % 8;
	uint8_t mask, x, y;
	int c;

	if (ka[1] != kb[1])
		return ka[1] < kb[1] ? -1 : 1;
	if (bits_a != bits_b)
		return bits_a < bits_b ? -1 : 1;
	c = memcmp(ka + 2, kb + 2, full);
	if (c || !rest)
		return c;
	mask = (uint8_t)(0xff << (8 - rest));
	x = ka[2 + full] & mask;
	y = kb[2 + full] & mask;
	return x == y ? 0 : x < y ? -1 : 1;
}

static int cmp_rule(const struct cand *a, const struct cand *b)
{
	const struct rname *na = &a->g->names[a->p->name], *nb = &b->g->names[b->p->name];
	const uint8_t *ka = key_of(a), *kb = key_of(b);
	size_t la, lb;

	/* Prefixes after names. */
	if (ka[0] == ADDR_KEY || kb[0] == ADDR_KEY) {
		if (ka[0] != kb[0])
			return ka[0] == ADDR_KEY ? 1 : -1;
		return cmp_prefix(ka, a->rule_off, kb, b->rule_off);
	}
	la = na->len - a->rule_off;
	lb = nb->len - b->rule_off;
	if (la != lb)
		return la < lb ? -1 : 1;
	return memcmp(ka + a->rule_off, kb + b->rule_off, la);
}

static int cmp_client(const struct cand *a, const struct cand *b)
{
	if (a->p->family != b->p->family)
		return a->p->family < b->p->family ? -1 : 1;
	return memcmp(a->p->addr, b->p->addr, 16);
}

/* By client, then rule: the hashes first, the bytes decide between equal hashes. */
static int cmp_cand(const void *x, const void *y)
{
	const struct cand *a = x, *b = y;
	int c;

	if (a->client_h != b->client_h)
		return a->client_h < b->client_h ? -1 : 1;
	c = cmp_client(a, b);
	if (c)
		return c;
	if (a->rule_h != b->rule_h)
		return a->rule_h < b->rule_h ? -1 : 1;
	return cmp_rule(a, b);
}

/* Does old_p list this name already (then its lookups were handled as listed back then)? */
static bool listed_before(const struct policy *old_p, const struct domainset *old_block,
			  const uint8_t *name, size_t len, int off, int64_t now)
{
	struct policy_match m;

	if (domainset_get(old_block, name + off, len - (size_t)off, NULL))
		return true;
	policy_lookup(old_p, name, len, now, &m);
	return m.verdict == VERDICT_BLOCK || m.verdict == VERDICT_LOG;
}

/* Does set hold exactly the prefix of length bits of addr? */
static bool has_prefix(const struct ipset *set, int family, const uint8_t *addr, unsigned bits)
{
	unsigned b;
	uint64_t v;

	return ipset_match(set, family, addr, bits, &b, &v) && b == bits;
}

/*
 * The rule that newly lists the address key (len bytes) into *r: a prefix new_p lists (BLOCK
 * or LOG) under which old_p listed neither the address nor the prefix, the name it answered
 * not allowed by new_p. Else r->rule_off is -1.
 */
static void match_addr_key(const struct policy *old_p, const struct ipset *old_block,
			   const struct policy *new_p, const uint8_t *key, size_t len, int64_t now,
			   struct name_res *r)
{
	int family = key[1];
	size_t al = addr_len(family);
	const uint8_t *a = key + 2;
	struct policy_match m, o;
	uint8_t rule[18] = {0};
	unsigned bits;

	r->rule_off = -1;
	policy_lookup_addr(new_p, family, a, now, &m);
	if (m.verdict != VERDICT_BLOCK && m.verdict != VERDICT_LOG)
		return;
	bits = (unsigned)m.rule_off;
	policy_lookup_addr(old_p, family, a, now, &o);
	if (o.verdict == VERDICT_BLOCK || o.verdict == VERDICT_LOG ||
	    has_prefix(old_block, family, a, bits))
		return;
	/* An allowed name is never blocked by its answer. */
	policy_lookup(new_p, a + al, len - 2 - al, now, &o);
	if (o.verdict == VERDICT_ALLOW)
		return;
	r->rule_off = (int16_t)bits;
	r->meta = m.meta;
	r->ioc_id = m.ioc_id;
	/* The rule: family, length, the address masked to it. */
	rule[0] = (uint8_t)family;
	rule[1] = (uint8_t)bits;
	memcpy(rule + 2, a, bits / 8);
	if (bits % 8)
		rule[2 + bits / 8] = a[bits / 8] & (uint8_t)(0xff << (8 - bits % 8));
	r->rule_h = hash_bytes(rule, sizeof(rule));
}

/* Names and prefixes new_p lists that old_p does not. */
static size_t count_new(const struct policy *old_p, const struct policy *new_p)
{
	const struct domainset *nb = policy_block_set(new_p), *ob = policy_block_set(old_p);
	const struct ipset *nbi = policy_block_ipset(new_p), *obi = policy_block_ipset(old_p);
	struct acl_prefix pfx;
	size_t n = 0, pos = 0;
	uint8_t name[255];
	size_t len;
	uint64_t v;

	while (domainset_next(nb, &pos, name, &len, &v))
		n += !domainset_get(ob, name, len, NULL);
	pos = 0;
	while (ipset_next(nbi, &pos, &pfx, &v))
		n += !has_prefix(obi, pfx.family, pfx.addr, pfx.bits);
	return n;
}

int retro_store_match(struct retro_store *s, const struct policy *old_p, const struct policy *new_p,
		      int64_t now_ms, retro_emit_fn emit, void *arg, struct retro_result *res)
{
	const struct domainset *ob = policy_block_set(old_p);
	const struct ipset *obi = policy_block_ipset(old_p);
	int64_t now = now_ms / 1000, oldest = now_ms - s->window_ms;
	struct name_res *nr = malloc(s->cap * sizeof(*nr));
	struct cand *c = NULL;
	size_t n = 0, cap = 0;

	memset(res, 0, sizeof(*res));
	if (!nr)
		return -ENOMEM;
	res->new_entries = count_new(old_p, new_p);
	for (unsigned gi = 0; gi < RETRO_GENS && res->new_entries; gi++) {
		const struct gen *g = &s->gens[gi];

		if (!g->used)
			continue;
		for (size_t i = 0; i < g->n_names; i++) {
			const uint8_t *nm = g->arena + g->names[i].off;
			size_t nl = g->names[i].len;
			struct policy_match m;

			if (nm[0] == ADDR_KEY) {
				match_addr_key(old_p, obi, new_p, nm, nl, now, &nr[i]);
				continue;
			}
			nr[i].rule_off = -1;
			policy_lookup(new_p, nm, nl, now, &m);
			if ((m.verdict != VERDICT_BLOCK && m.verdict != VERDICT_LOG) ||
			    listed_before(old_p, ob, nm, nl, m.rule_off, now))
				continue;
			nr[i].rule_off = (int16_t)m.rule_off;
			nr[i].meta = m.meta;
			nr[i].ioc_id = m.ioc_id;
			nr[i].rule_h = hash_bytes(nm + m.rule_off, nl - (size_t)m.rule_off);
		}
		for (size_t i = 0; i < g->n_pairs; i++) {
			const struct rpair *p = &g->pairs[i];

			if (nr[p->name].rule_off < 0 || p->last_ms < oldest)
				continue;
			if (n == cap) {
				size_t nc = cap ? 2 * cap : 256;
				struct cand *t = realloc(c, nc * sizeof(*c));

				if (!t) {
					free(c);
					free(nr);
					return -ENOMEM;
				}
				c = t;
				cap = nc;
			}
			c[n++] = (struct cand){
			    .client_h = hash_bytes(p->addr, 16) ^ p->family,
			    .rule_h = nr[p->name].rule_h,
			    .g = g,
			    .p = p,
			    .meta = nr[p->name].meta,
			    .ioc_id = nr[p->name].ioc_id,
			    .rule_off = (uint8_t)nr[p->name].rule_off,
			};
		}
	}
	free(nr);
	if (n)
		qsort(c, n, sizeof(*c), cmp_cand);
	for (size_t i = 0; i < n;) {
		struct retro_finding f = {0};
		const struct cand *last = &c[i];
		const uint8_t *key;
		size_t j, klen;

		f.family = c[i].p->family;
		memcpy(f.addr, c[i].p->addr, 16);
		f.meta = c[i].meta;
		f.ioc_id = c[i].ioc_id;
		f.first_ms = INT64_MAX;
		f.last_ms = INT64_MIN;
		for (j = i; j < n && cmp_cand(&c[i], &c[j]) == 0; j++) {
			f.count += c[j].p->count;
			if (c[j].p->first_ms < f.first_ms)
				f.first_ms = c[j].p->first_ms;
			if (c[j].p->last_ms > f.last_ms) {
				f.last_ms = c[j].p->last_ms;
				last = &c[j];
			}
		}
		key = key_of(last);
		klen = last->g->names[last->p->name].len;
		if (key[0] == ADDR_KEY) {
			/* The address and the name of the last answer. */
			size_t al = addr_len(key[1]);

			f.ans_family = key[1];
			memcpy(f.ans_addr, key + 2, al);
			key += 2 + al;
			klen -= 2 + al;
		}
		f.name_len = (uint8_t)klen;
		memcpy(f.name, key, klen);
		f.rule_off = last->rule_off;
		if (i == 0 || cmp_client(&c[i - 1], &c[i]) != 0)
			res->clients++;
		res->findings++;
		emit(&f, arg);
		i = j;
	}
	free(c);
	return 0;
}

/* ---- the service ---- */

void retro_record_answer(struct retro *r, unsigned i, const uint8_t *name, size_t len,
			 const struct sockaddr_storage *ss, int64_t t_ms, const uint8_t *msg,
			 size_t msg_len, size_t off)
{
	static const uint8_t mapped[12] = {[10] = 0xff, [11] = 0xff};
	struct retro_ring *rg = &r->rings[i];
	size_t h = atomic_load_explicit(&rg->head, memory_order_relaxed);
	struct retro_ev *e;
	unsigned an, n = 0;

	if (msg_len < DNS_HDR_LEN || off > msg_len)
		return;
	an = dns_get16(msg + 6);
	if (!an || !(e = retro_ring_slot(rg, h)))
		return;
	/* Straight into the slot: nothing is handed over until the commit. */
	for (unsigned k = 0; k < an && n < RETRO_ANSWER_ADDRS; k++) {
		const uint8_t *rd;
		uint16_t type, rdlen;
		size_t o;

		/*
		 * dnsmsg_next_rr() inline, on the query path: an owner that is one pointer (as
		 * upstreams compress them), well formed when backward, costs no call.
		 */
		if (off < msg_len && (msg[off] & 0xc0) == 0xc0) {
			size_t target;

			if (msg_len - off < 2)
				break;
			target = (size_t)(msg[off] & 0x3f) << 8 | msg[off + 1];
			if (target < DNS_HDR_LEN || target >= off)
				break;
			o = off + 2;
		} else if (!(o = dnsmsg_skip_name(msg, msg_len, off))) {
			break;
		}
		if (msg_len - o < DNS_RR_FIXED_LEN)
			break;
		type = dns_get16(msg + o);
		rdlen = dns_get16(msg + o + 8);
		rd = msg + o + DNS_RR_FIXED_LEN;
		off = o + DNS_RR_FIXED_LEN + rdlen;
		if (off > msg_len)
			break;
		if (dns_get16(msg + o + 2) != 1) /* class IN only */
			continue;
		if (type == DNS_T_A && rdlen == 4) {
			e->ans_family[n] = AF_INET;
			memcpy(e->ans[n++], rd, 4);
		} else if (type == DNS_T_AAAA && rdlen == 16) {
			/* An IPv4-mapped AAAA is that IPv4 address, as the inspection takes it. */
			if (memcmp(rd, mapped, sizeof(mapped)) == 0) {
				e->ans_family[n] = AF_INET;
				memcpy(e->ans[n++], rd + 12, 4);
			} else {
				e->ans_family[n] = AF_INET6;
				memcpy(e->ans[n++], rd, 16);
			}
		}
	}
	if (!n)
		return;
	retro_ev_fill(e, name, len, ss, t_ms);
	e->kind = RETRO_EV_ANSWER;
	e->n_ans = (uint8_t)n;
	retro_ring_commit(rg, h);
}

#define DRAIN_MS 20

struct job {
	struct job *next;
	struct state *old, *new;
	int64_t listed_ms;
};

struct retro_priv {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
	struct job *jobs, **jobs_tail;
	struct retro_store *store;
	struct blocklog *bl;
	unsigned producer;
	state_retire_fn retire;
	void *retire_arg;
	atomic_int_least64_t span;
	atomic_uint_least64_t findings;
	int64_t listed_ms; /* of the job being matched */
};

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Lookups staged ahead of the one being counted (their table slots being fetched). */
#define AHEAD 8

static void drain(struct retro *r)
{
	struct retro_store *s = r->priv->store;
	struct staged ring[AHEAD], *k;
	unsigned first = 0, n = 0;

	for (unsigned i = 0; i < r->n_rings; i++) {
		struct retro_ring *rg = &r->rings[i];
		size_t t = atomic_load_explicit(&rg->tail, memory_order_relaxed);
		size_t h = atomic_load_explicit(&rg->head, memory_order_acquire);

		for (; t != h; t++) {
			const struct retro_ev *e = &rg->ev[t & (rg->size - 1)];
			bool answer = e->kind == RETRO_EV_ANSWER;
			unsigned keys = answer ? e->n_ans : 1;

			for (unsigned a = 0; a < keys && a < RETRO_ANSWER_ADDRS; a++) {
				k = &ring[(first + n) % AHEAD];
				if (answer ? !stage_addr(k, e->name, e->len, e->family, e->addr,
							 e->ans_family[a], e->ans[a], e->t_ms)
					   : !stage_name(k, e->name, e->len, e->family, e->addr,
							 e->t_ms))
					continue;
				stage(s, k);
				if (++n == AHEAD) {
					add_key(s, &ring[first]);
					first = (first + 1) % AHEAD;
					n--;
				}
			}
		}
		/* The staged lookups are copies: the slots can go back to the worker. */
		atomic_store_explicit(&rg->tail, t, memory_order_release);
	}
	for (; n; n--, first = (first + 1) % AHEAD)
		add_key(s, &ring[first]);
}

/* One block-log record per finding; the writer may be busy: wait for room (our own thread). */
static void emit_record(const struct retro_finding *f, void *arg)
{
	struct retro *r = arg;
	struct blocklog_rec rec;

	memset(&rec, 0, sizeof(rec));
	rec.time_ms = wall_ms();
	rec.src_family = (uint8_t)f->family;
	memcpy(rec.src_addr, f->addr, 16);
	rec.proto = BLOCKLOG_RETRO;
	rec.action = BLOCKLOG_ALLOWED;
	rec.qname_len = f->name_len;
	memcpy(rec.qname, f->name, f->name_len);
	rec.rule_off = f->rule_off;
	if (f->ans_family) {
		/* An IP indicator: the listed address found in the answer, the prefix's length. */
		rec.via = BLOCKLOG_VIA_IP;
		rec.matched_len = f->ans_family == AF_INET ? 4 : 16;
		memcpy(rec.matched, f->ans_addr, rec.matched_len);
	}
	rec.meta = f->meta;
	rec.ioc_id = f->ioc_id;
	rec.count = f->count;
	rec.start_ms = f->first_ms;
	rec.end_ms = f->last_ms;
	rec.listed_ms = r->priv->listed_ms;
	for (int tries = 0; tries < 10000; tries++) {
		if (blocklog_submit(r->priv->bl, r->priv->producer, &rec) == 0)
			break;
		usleep(1000);
	}
	atomic_fetch_add(&r->priv->findings, 1);
}

static void run_job(struct retro *r, struct job *j)
{
	struct retro_priv *pv = r->priv;
	struct retro_result res;
	int64_t now = wall_ms();
	char span[32];

	drain(r);
	pv->listed_ms = j->listed_ms;
	if (retro_store_match(pv->store, j->old->policy, j->new->policy, now, emit_record, r,
			      &res) < 0) {
		log_err("retro", "retro-hunt: out of memory matching the new entries");
	} else {
		atomic_store(&pv->span, retro_store_span(pv->store, now));
		log_info("retro",
			 "retro-hunt: %zu new entries checked, %zu clients matched (%zu records), "
			 "history covers %s",
			 res.new_entries, res.clients, res.findings,
			 retro_format_span(retro_store_span(pv->store, now), span, sizeof(span)));
	}
	state_release(j->old, pv->retire, pv->retire_arg);
	state_release(j->new, pv->retire, pv->retire_arg);
	free(j);
}

static void *retro_main(void *arg)
{
	struct retro *r = arg;
	struct retro_priv *pv = r->priv;

	pthread_mutex_lock(&pv->mu);
	while (!pv->stop) {
		struct job *jobs = pv->jobs, *next;
		struct timespec ts;

		if (!jobs) {
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += DRAIN_MS * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&pv->cv, &pv->mu, &ts);
			jobs = pv->jobs;
		}
		pv->jobs = NULL;
		pv->jobs_tail = &pv->jobs;
		pthread_mutex_unlock(&pv->mu);
		drain(r);
		atomic_store(&pv->span, retro_store_span(pv->store, wall_ms()));
		for (; jobs; jobs = next) {
			next = jobs->next;
			run_job(r, jobs);
		}
		pthread_mutex_lock(&pv->mu);
	}
	pthread_mutex_unlock(&pv->mu);
	return NULL;
}

static void free_retro(struct retro *r)
{
	if (r->rings)
		for (unsigned i = 0; i < r->n_rings; i++)
			free(r->rings[i].ev);
	free(r->rings);
	if (r->priv)
		retro_store_free(r->priv->store);
	free(r->priv);
	free(r);
}

struct retro *retro_start(const struct retro_conf *cfg, unsigned n_workers, struct blocklog *bl,
			  unsigned producer, state_retire_fn retire, void *retire_arg)
{
	size_t slots = RETRO_RING, rings;
	struct retro *r = calloc(1, sizeof(*r));
	struct retro_priv *pv;

	while (slots > 256 && (size_t)n_workers * slots * sizeof(struct retro_ev) > cfg->memory / 4)
		slots /= 2;
	rings = (size_t)n_workers * slots * sizeof(struct retro_ev);

	if (!r)
		goto oom;
	r->n_rings = n_workers;
	r->rings = aligned_alloc(64, n_workers * sizeof(*r->rings));
	pv = r->priv = calloc(1, sizeof(*pv));
	if (!r->rings || !pv)
		goto oom;
	memset(r->rings, 0, n_workers * sizeof(*r->rings));
	for (unsigned i = 0; i < n_workers; i++) {
		r->rings[i].size = slots;
		r->rings[i].ev = malloc(slots * sizeof(struct retro_ev));
		if (!r->rings[i].ev)
			goto oom;
	}
	if (cfg->memory < rings + (1u << 16)) {
		log_err("retro",
			"retro_hunt.memory (%zu bytes) is too small: %u workers' rings take %zu; "
			"retro-hunt is off",
			cfg->memory, n_workers, rings);
		free_retro(r);
		return NULL;
	}
	pv->store = retro_store_new(cfg->memory - rings, cfg->window_s, hash_seed());
	if (!pv->store)
		goto oom;
	pv->bl = bl;
	pv->producer = producer;
	pv->retire = retire;
	pv->retire_arg = retire_arg;
	pv->jobs_tail = &pv->jobs;
	pthread_mutex_init(&pv->mu, NULL);
	pthread_cond_init(&pv->cv, NULL);
	if (pthread_create(&pv->thread, NULL, retro_main, r) != 0) {
		pthread_mutex_destroy(&pv->mu);
		pthread_cond_destroy(&pv->cv);
		goto oom;
	}
	pthread_setname_np(pv->thread, "retro");
	return r;
oom:
	log_err("retro", "cannot start the retro-hunt: out of memory");
	if (r)
		free_retro(r);
	return NULL;
}

void retro_stop(struct retro *r)
{
	struct retro_priv *pv;
	struct job *j, *next;

	if (!r)
		return;
	pv = r->priv;
	pthread_mutex_lock(&pv->mu);
	pv->stop = true;
	pthread_cond_signal(&pv->cv);
	pthread_mutex_unlock(&pv->mu);
	pthread_join(pv->thread, NULL);
	for (j = pv->jobs; j; j = next) {
		next = j->next;
		state_release(j->old, pv->retire, pv->retire_arg);
		state_release(j->new, pv->retire, pv->retire_arg);
		free(j);
	}
	pthread_mutex_destroy(&pv->mu);
	pthread_cond_destroy(&pv->cv);
	free_retro(r);
}

void retro_check(struct retro *r, struct state *old, struct state *new)
{
	struct retro_priv *pv = r->priv;
	struct job *j = calloc(1, sizeof(*j));

	if (!j) {
		log_err("retro", "retro-hunt: out of memory: the new entries are not checked");
		state_release(old, pv->retire, pv->retire_arg);
		state_release(new, pv->retire, pv->retire_arg);
		return;
	}
	j->old = old;
	j->new = new;
	j->listed_ms = wall_ms();
	pthread_mutex_lock(&pv->mu);
	if (pv->jobs) {
		/*
		 * A check not started yet: check from its old state to this new one instead, so
		 * that reloads faster than the matching never pile up states.
		 */
		struct state *skipped = pv->jobs->new;

		pv->jobs->new = new;
		pthread_mutex_unlock(&pv->mu);
		state_release(skipped, pv->retire, pv->retire_arg);
		state_release(old, pv->retire, pv->retire_arg);
		free(j);
		return;
	}
	*pv->jobs_tail = j;
	pv->jobs_tail = &j->next;
	pthread_cond_signal(&pv->cv);
	pthread_mutex_unlock(&pv->mu);
}

int64_t retro_span(const struct retro *r)
{
	return r ? atomic_load(&r->priv->span) : 0;
}

uint64_t retro_dropped(const struct retro *r)
{
	uint64_t n = 0;

	for (unsigned i = 0; r && i < r->n_rings; i++)
		n += atomic_load_explicit(&r->rings[i].dropped, memory_order_relaxed);
	return n;
}

uint64_t retro_findings(const struct retro *r)
{
	return r ? atomic_load(&r->priv->findings) : 0;
}
