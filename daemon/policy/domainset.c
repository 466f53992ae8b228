/* SPDX-License-Identifier: MIT */
#include "policy/domainset.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "util/hash.h"

/*
 * Layout. Every name lives in one arena as a record:
 *
 *	value (4 bytes, native order, unaligned) | wire length (1 byte) | wire name
 *
 * The table is open addressing with linear probing over 8-byte slots holding the name's full
 * 32-bit hash tag and its arena offset + 1 (0 = empty slot). The slot index is tag & mask, so
 * the table grows by re-placing the stored tags and never reads a name again.
 *
 * Hash. h(root) = f(seed); h(label.parent) = mix(h(parent), label). Computing it from the
 * root outward gives the hash of every suffix of a query name in one pass over its labels,
 * which is what the parent walk of domainset_match needs.
 */

#define REC_HDR 5u		/* value + length byte */
#define MAX_LABELS 128		/* a 255-byte wire name has at most 127 labels + the root */
#define MIN_SLOTS 16u
#define MIN_ARENA 256u

struct slot {
	uint32_t tag;
	uint32_t off1; /* arena offset + 1; 0 = empty */
};

struct domainset {
	struct slot *slots;
	uint32_t mask;	/* capacity - 1 (capacity is a power of two) */
	size_t count;
	size_t grow_at; /* count at which the table doubles (load factor 0.7) */
	uint8_t *arena;
	size_t used, cap;
	uint64_t seed;
	uint64_t root; /* h(root) */
};

/*
 * Blocks of at least BIG bytes (the table and arena of a large list) are anonymous mappings
 * advised to use transparent huge pages: a million names touch ~50 MB of fresh memory, and
 * faulting it in 4 KiB pages costs more than hashing the names.
 */
#define BIG ((size_t)2 << 20)

static void *big_zalloc(size_t n)
{
	void *p;

	if (n < BIG)
		return calloc(1, n);
	p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	(void)madvise(p, n, MADV_HUGEPAGE);
	return p;
}

static void big_free(void *p, size_t n)
{
	if (!p)
		return;
	if (n < BIG)
		free(p);
	else
		munmap(p, n);
}

/* Grow a block from old to n bytes (n > old); the new tail is not necessarily zeroed. */
static void *big_realloc(void *p, size_t old, size_t n)
{
	void *q;

	if (n < BIG)
		return realloc(p, n);
	if (old < BIG) {
		q = big_zalloc(n);
		if (q && old)
			memcpy(q, p, old);
		if (q)
			free(p);
		return q;
	}
	q = mremap(p, old, n, MREMAP_MAYMOVE);
	if (q == MAP_FAILED)
		return NULL;
	(void)madvise(q, n, MADV_HUGEPAGE);
	return q;
}

static inline uint64_t load64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

/* Up to 7 bytes, zero-padded; the label length is mixed in separately. */
static inline uint64_t load_tail(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	memcpy(&v, p, n);
	return v;
}

/* h(label.parent) from h(parent); p points at the label's length byte. */
static inline uint64_t mix_label(uint64_t h, const uint8_t *p)
{
	unsigned n = p[0];
	const uint8_t *s = p + 1;

	h = hash_mum(h ^ HASH_K0, (uint64_t)n ^ HASH_K1);
	for (; n >= 8; n -= 8, s += 8)
		h = hash_mum(load64(s) ^ HASH_K1, h ^ HASH_K2);
	if (n)
		h = hash_mum(load_tail(s, n) ^ HASH_K2, h ^ HASH_K0);
	return h;
}

static inline uint32_t tag_of(uint64_t h)
{
	/* mum output is well mixed in both halves; fold them. */
	return (uint32_t)(h >> 32) ^ (uint32_t)h;
}

/*
 * Check the wire structure of name[0..len) and record label offsets left to right. Returns
 * the number of labels (excluding the root), or -1 when malformed (label > 63, overruns,
 * more than MAX_LABELS labels, not ending exactly with the root label at len - 1).
 */
static int split_labels(const uint8_t *name, size_t len, uint8_t offs[MAX_LABELS])
{
	size_t pos = 0;
	int n = 0;

	if (len == 0 || len > 255)
		return -1;
	for (;;) {
		unsigned l;

		if (pos >= len)
			return -1;
		l = name[pos];
		if (l == 0)
			return pos == len - 1 ? n : -1;
		if (l > 63 || n == MAX_LABELS)
			return -1;
		offs[n++] = (uint8_t)pos;
		pos += l + 1;
	}
}

static uint64_t hash_name(const struct domainset *ds, const uint8_t *name,
			  const uint8_t offs[MAX_LABELS], int n)
{
	uint64_t h = ds->root;

	for (int i = n - 1; i >= 0; i--)
		h = mix_label(h, name + offs[i]);
	return h;
}

static inline const uint8_t *rec_at(const struct domainset *ds, uint32_t off1)
{
	return ds->arena + (off1 - 1);
}

static inline uint32_t rec_value(const uint8_t *rec)
{
	uint32_t v;

	memcpy(&v, rec, 4);
	return v;
}

/* The slot holding name, or the empty slot where it would go. */
static struct slot *find_slot(const struct domainset *ds, uint32_t tag, const uint8_t *name,
			      size_t len)
{
	uint32_t i = tag & ds->mask;

	for (;; i = (i + 1) & ds->mask) {
		struct slot *s = &ds->slots[i];
		const uint8_t *rec;

		if (!s->off1)
			return s;
		if (s->tag != tag)
			continue;
		rec = rec_at(ds, s->off1);
		if (rec[4] == len && memcmp(rec + REC_HDR, name, len) == 0)
			return s;
	}
}

struct domainset *domainset_new(uint64_t seed)
{
	struct domainset *ds = calloc(1, sizeof(*ds));

	if (!ds)
		return NULL;
	ds->slots = calloc(MIN_SLOTS, sizeof(*ds->slots));
	if (!ds->slots)
		goto fail;
	ds->mask = MIN_SLOTS - 1;
	ds->grow_at = MIN_SLOTS * 7 / 10;
	ds->seed = seed;
	ds->root = hash_mum(seed ^ HASH_K2, HASH_K1 ^ 0x5ca1ab1eULL);
	return ds;
fail:
	free(ds);
	return NULL;
}

void domainset_free(struct domainset *ds)
{
	if (!ds)
		return;
	big_free(ds->slots, ((size_t)ds->mask + 1) * sizeof(*ds->slots));
	big_free(ds->arena, ds->cap);
	free(ds);
}

static int grow_table(struct domainset *ds)
{
	size_t ncap = ((size_t)ds->mask + 1) * 2;
	struct slot *ns;
	uint32_t nmask;

	if (ncap > ((size_t)1 << 32))
		return -ENOMEM;
	ns = big_zalloc(ncap * sizeof(*ns));
	if (!ns)
		return -ENOMEM;
	nmask = (uint32_t)(ncap - 1);
	for (size_t i = 0; i <= ds->mask; i++) {
		const struct slot *s = &ds->slots[i];
		uint32_t j;

		if (!s->off1)
			continue;
		for (j = s->tag & nmask; ns[j].off1; j = (j + 1) & nmask)
			;
		ns[j] = *s;
	}
	big_free(ds->slots, ((size_t)ds->mask + 1) * sizeof(*ds->slots));
	ds->slots = ns;
	ds->mask = nmask;
	ds->grow_at = ncap * 7 / 10;
	return 0;
}

static int reserve_arena(struct domainset *ds, size_t need, bool exact)
{
	size_t ncap;
	uint8_t *na;

	if (ds->cap - ds->used >= need)
		return 0;
	/*
	 * Double while small, then grow by an eighth: large blocks are mremap'd (no copy), and a
	 * smaller step keeps the unused tail small for big lists.
	 */
	ncap = ds->cap < MIN_ARENA ? MIN_ARENA : ds->cap;
	if (exact && ncap < ds->used + need)
		ncap = ds->used + need;
	while (ncap - ds->used < need)
		ncap += ncap < ((size_t)4 << 20) ? ncap : ncap / 8;
	if (ncap > UINT32_MAX)
		ncap = UINT32_MAX;
	if (ncap - ds->used < need)
		return -ENOMEM;
	na = big_realloc(ds->arena, ds->cap, ncap);
	if (!na)
		return -ENOMEM;
	ds->arena = na;
	ds->cap = ncap;
	return 0;
}

int domainset_put(struct domainset *ds, const uint8_t *name, size_t len, uint32_t value,
		  uint32_t *old)
{
	uint8_t offs[MAX_LABELS];
	struct slot *s;
	uint32_t tag;
	uint8_t *rec;
	int n, rc;

	n = split_labels(name, len, offs);
	if (n <= 0)
		return -EINVAL;
	tag = tag_of(hash_name(ds, name, offs, n));
	s = find_slot(ds, tag, name, len);
	if (s->off1) {
		rec = ds->arena + (s->off1 - 1);
		if (old)
			*old = rec_value(rec);
		memcpy(rec, &value, 4);
		return 1;
	}
	if (ds->count + 1 > ds->grow_at) {
		rc = grow_table(ds);
		if (rc)
			return rc;
		s = find_slot(ds, tag, name, len);
	}
	rc = reserve_arena(ds, REC_HDR + len, false);
	if (rc)
		return rc;
	rec = ds->arena + ds->used;
	memcpy(rec, &value, 4);
	rec[4] = (uint8_t)len;
	memcpy(rec + REC_HDR, name, len);
	s->tag = tag;
	s->off1 = (uint32_t)(ds->used + 1);
	ds->used += REC_HDR + len;
	ds->count++;
	return 0;
}

int domainset_reserve(struct domainset *ds, size_t names, size_t bytes)
{
	size_t want = ds->count + names;
	int rc;

	while (want > ds->grow_at) {
		rc = grow_table(ds);
		if (rc)
			return rc;
	}
	return reserve_arena(ds, bytes + names * REC_HDR, true);
}

void domainset_prefetch(const struct domainset *ds, const uint8_t *name, size_t len)
{
	uint8_t offs[MAX_LABELS];
	int n = split_labels(name, len, offs);

	if (n > 0)
		__builtin_prefetch(&ds->slots[tag_of(hash_name(ds, name, offs, n)) & ds->mask]);
}

bool domainset_get(const struct domainset *ds, const uint8_t *name, size_t len, uint32_t *value)
{
	uint8_t offs[MAX_LABELS];
	const struct slot *s;
	int n;

	n = split_labels(name, len, offs);
	if (n <= 0 || ds->count == 0)
		return false;
	s = find_slot(ds, tag_of(hash_name(ds, name, offs, n)), name, len);
	if (!s->off1)
		return false;
	if (value)
		*value = rec_value(rec_at(ds, s->off1));
	return true;
}

int domainset_match(const struct domainset *ds, const uint8_t *name, size_t len, size_t start,
		    uint32_t *value)
{
	uint8_t offs[MAX_LABELS];
	uint32_t tags[MAX_LABELS];
	uint64_t h;
	int n, first;

	n = split_labels(name, len, offs);
	if (n <= 0 || ds->count == 0)
		return -1;
	/* start must be one of the label offsets (or the root: nothing to match). */
	for (first = 0; first < n && offs[first] < start; first++)
		;
	if (first == n || offs[first] != start)
		return -1;
	h = ds->root;
	for (int i = n - 1; i >= first; i--) {
		h = mix_label(h, name + offs[i]);
		tags[i] = tag_of(h);
	}
	for (int i = first; i < n; i++) {
		const struct slot *s = find_slot(ds, tags[i], name + offs[i], len - offs[i]);

		if (s->off1) {
			if (value)
				*value = rec_value(rec_at(ds, s->off1));
			return offs[i];
		}
	}
	return -1;
}

size_t domainset_count(const struct domainset *ds)
{
	return ds->count;
}

size_t domainset_memory(const struct domainset *ds)
{
	return sizeof(*ds) + ((size_t)ds->mask + 1) * sizeof(struct slot) + ds->cap;
}

bool domainset_next(const struct domainset *ds, size_t *pos, const uint8_t **name, size_t *len,
		    uint32_t *value)
{
	const uint8_t *rec;

	if (*pos >= ds->used)
		return false;
	rec = ds->arena + *pos;
	*value = rec_value(rec);
	*len = rec[4];
	*name = rec + REC_HDR;
	*pos += REC_HDR + rec[4];
	return true;
}
