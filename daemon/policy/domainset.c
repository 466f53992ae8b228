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
 *	value (8 bytes, native order, unaligned) | wire length (1 byte) | wire name but its root
 *
 * (the final 0 byte of every name is not stored).
 *
 * The table is ordered linear probing (Amble and Knuth, 1974) over 8-byte slots holding the
 * name's full 32-bit hash tag and its arena offset + 1 (0 = empty slot). A tag's home slot is
 * tag * cap / 2^32, which grows with the tag, and every run of occupied slots is kept sorted
 * by tag, so the whole table is: a lookup stops at the first empty slot or greater tag, and
 * an absent name costs as few probes as a present one. That allows a high load (up to 0.8:
 * 10 bytes of table per name, where a power-of-two table at 0.35-0.7 takes 11-23) and any
 * capacity, so a bulk load sizes the table to its count. Slots past cap take the runs that
 * spill over its end (there is no wrap-around); the last slot is always empty, which ends
 * every probe. Growing re-places the stored tags in one pass and never reads a name again.
 *
 * Hash. h(root) = f(seed); h(label.parent) = mix(h(parent), label). Computing it from the
 * root outward gives the hash of every suffix of a query name in one pass over its labels,
 * which is what the parent walk of domainset_match needs.
 */

#define REC_HDR 9u		/* value + length byte */
#define MAX_LABELS 128		/* a 255-byte wire name has at most 127 labels + the root */
#define MIN_SLOTS 16u
#define MIN_ARENA 256u
#define MIN_TAIL 16u		/* slots past cap, at least: they take the runs that spill over */
/* The table grows when count exceeds cap * LOAD_NUM / LOAD_DEN. */
#define LOAD_NUM 4u
#define LOAD_DEN 5u

/*
 * Tests build this file with tags narrowed (fewer bits, or all of them high), so that names
 * collide, runs grow long and spill over the end (tests/CMakeLists.txt: test_domainset_*).
 */
#ifndef DOMAINSET_TAG_MASK
#define DOMAINSET_TAG_MASK 0xffffffffu
#endif
#ifndef DOMAINSET_TAG_SET
#define DOMAINSET_TAG_SET 0u
#endif

struct slot {
	uint32_t tag;
	uint32_t off1; /* arena offset + 1; 0 = empty */
};

struct domainset {
	struct slot *slots; /* nslots: cap home slots, then the tail */
	uint32_t cap;	    /* home slots: home(tag) = tag * cap >> 32 */
	size_t nslots;	    /* cap + the tail; slots[nslots - 1] is always empty */
	size_t count;
	size_t grow_at; /* count beyond which the table grows (load 0.8) */
	uint8_t *arena;
	size_t used, acap;
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
	return (((uint32_t)(h >> 32) ^ (uint32_t)h) & DOMAINSET_TAG_MASK) | DOMAINSET_TAG_SET;
}

static inline size_t home(const struct domainset *ds, uint32_t tag)
{
	return (size_t)(((uint64_t)tag * ds->cap) >> 32);
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

static inline uint64_t rec_value(const uint8_t *rec)
{
	uint64_t v;

	memcpy(&v, rec, 8);
	return v;
}

/*
 * The slot holding name; else NULL, and *at (if not NULL) is where it would go: the first slot
 * of its run with a greater tag, or the empty slot ending the run.
 */
static struct slot *find_slot(const struct domainset *ds, uint32_t tag, const uint8_t *name,
			      size_t len, size_t *at)
{
	size_t i = home(ds, tag);

	for (;; i++) {
		struct slot *s = &ds->slots[i];
		const uint8_t *rec;

		if (!s->off1 || s->tag > tag)
			break;
		if (s->tag != tag)
			continue;
		rec = rec_at(ds, s->off1);
		if (rec[REC_HDR - 1] == len && memcmp(rec + REC_HDR, name, len - 1) == 0)
			return s;
	}
	if (at)
		*at = i;
	return NULL;
}

struct domainset *domainset_new(uint64_t seed)
{
	struct domainset *ds = calloc(1, sizeof(*ds));

	if (!ds)
		return NULL;
	ds->slots = calloc(MIN_SLOTS + MIN_TAIL, sizeof(*ds->slots));
	if (!ds->slots)
		goto fail;
	ds->cap = MIN_SLOTS;
	ds->nslots = MIN_SLOTS + MIN_TAIL;
	ds->grow_at = MIN_SLOTS * LOAD_NUM / LOAD_DEN;
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
	big_free(ds->slots, ds->nslots * sizeof(*ds->slots));
	big_free(ds->arena, ds->acap);
	free(ds);
}

/*
 * Re-place every stored tag into a table of ncap home slots. The slots hold the tags in
 * order, so each goes to its new home or right after the one placed before it: one pass to
 * find how far the last run spills over, one to place.
 */
static int resize_table(struct domainset *ds, size_t ncap)
{
	size_t next = 0, nslots;
	struct slot *ns;

	if (ncap > UINT32_MAX)
		return -ENOMEM;
	for (size_t i = 0; i < ds->nslots; i++) {
		size_t h;

		if (!ds->slots[i].off1)
			continue;
		h = (size_t)(((uint64_t)ds->slots[i].tag * ncap) >> 32);
		next = (h > next ? h : next) + 1;
	}
	nslots = (next > ncap ? next : ncap) + MIN_TAIL;
	ns = big_zalloc(nslots * sizeof(*ns));
	if (!ns)
		return -ENOMEM;
	next = 0;
	for (size_t i = 0; i < ds->nslots; i++) {
		size_t h;

		if (!ds->slots[i].off1)
			continue;
		h = (size_t)(((uint64_t)ds->slots[i].tag * ncap) >> 32);
		if (h < next)
			h = next;
		ns[h] = ds->slots[i];
		next = h + 1;
	}
	big_free(ds->slots, ds->nslots * sizeof(*ds->slots));
	ds->slots = ns;
	ds->cap = (uint32_t)ncap;
	ds->nslots = nslots;
	ds->grow_at = ncap * LOAD_NUM / LOAD_DEN;
	return 0;
}

/* Room for a run to spill one slot further: the tail doubles (nothing moves). */
static int grow_tail(struct domainset *ds)
{
	size_t n = ds->nslots + (ds->nslots - ds->cap);
	struct slot *ns = big_realloc(ds->slots, ds->nslots * sizeof(*ns), n * sizeof(*ns));

	if (!ns)
		return -ENOMEM;
	memset(ns + ds->nslots, 0, (n - ds->nslots) * sizeof(*ns));
	ds->slots = ns;
	ds->nslots = n;
	return 0;
}

static int reserve_arena(struct domainset *ds, size_t need, bool exact)
{
	size_t ncap;
	uint8_t *na;

	if (ds->acap - ds->used >= need)
		return 0;
	/*
	 * Double while small, then grow by an eighth: large blocks are mremap'd (no copy), and a
	 * smaller step keeps the unused tail small for big lists.
	 */
	ncap = ds->acap < MIN_ARENA ? MIN_ARENA : ds->acap;
	if (exact && ncap < ds->used + need)
		ncap = ds->used + need;
	while (ncap - ds->used < need)
		ncap += ncap < ((size_t)4 << 20) ? ncap : ncap / 8;
	if (ncap > UINT32_MAX)
		ncap = UINT32_MAX;
	if (ncap - ds->used < need)
		return -ENOMEM;
	na = big_realloc(ds->arena, ds->acap, ncap);
	if (!na)
		return -ENOMEM;
	ds->arena = na;
	ds->acap = ncap;
	return 0;
}

int64_t domainset_hash(const struct domainset *ds, const uint8_t *name, size_t len)
{
	uint8_t offs[MAX_LABELS];
	int n = split_labels(name, len, offs);

	return n <= 0 ? -1 : (int64_t)tag_of(hash_name(ds, name, offs, n));
}

int domainset_put(struct domainset *ds, const uint8_t *name, size_t len, uint64_t value,
		  uint64_t *old)
{
	return domainset_put_hashed(ds, name, len, domainset_hash(ds, name, len), value, old);
}

int domainset_put_hashed(struct domainset *ds, const uint8_t *name, size_t len, int64_t hash,
			 uint64_t value, uint64_t *old)
{
	struct slot *s;
	size_t at, end;
	uint32_t tag;
	uint8_t *rec;
	int rc;

	if (hash < 0)
		return -EINVAL;
	tag = (uint32_t)hash;
	s = find_slot(ds, tag, name, len, &at);
	if (s) {
		rec = ds->arena + (s->off1 - 1);
		if (old)
			*old = rec_value(rec);
		memcpy(rec, &value, 8);
		return 1;
	}
	if (ds->count + 1 > ds->grow_at) {
		rc = resize_table(ds, (size_t)ds->cap * 2);
		if (rc)
			return rc;
		(void)find_slot(ds, tag, name, len, &at);
	}
	rc = reserve_arena(ds, REC_HDR + len - 1, false);
	if (rc)
		return rc;
	/* Shift the rest of the run one slot on; the last slot must stay empty. */
	for (end = at; ds->slots[end].off1; end++)
		;
	if (end + 1 == ds->nslots && (rc = grow_tail(ds)) < 0)
		return rc;
	memmove(&ds->slots[at + 1], &ds->slots[at], (end - at) * sizeof(*ds->slots));
	rec = ds->arena + ds->used;
	memcpy(rec, &value, 8);
	rec[REC_HDR - 1] = (uint8_t)len;
	memcpy(rec + REC_HDR, name, len - 1);
	ds->slots[at].tag = tag;
	ds->slots[at].off1 = (uint32_t)(ds->used + 1);
	ds->used += REC_HDR + len - 1;
	ds->count++;
	return 0;
}

int domainset_reserve(struct domainset *ds, size_t names, size_t bytes)
{
	size_t want = ds->count + names;
	int rc;

	/* To the count, at the highest load (at least a quarter more, when many lists add up). */
	if (want > ds->grow_at) {
		size_t ncap = want * LOAD_DEN / LOAD_NUM + 1;

		if (ncap < (size_t)ds->cap + ds->cap / 4)
			ncap = (size_t)ds->cap + ds->cap / 4;
		rc = resize_table(ds, ncap);
		if (rc)
			return rc;
	}
	return reserve_arena(ds, bytes + names * (REC_HDR - 1), true);
}

void domainset_prefetch(const struct domainset *ds, int64_t hash)
{
	if (hash >= 0)
		__builtin_prefetch(&ds->slots[home(ds, (uint32_t)hash)]);
}

bool domainset_get(const struct domainset *ds, const uint8_t *name, size_t len, uint64_t *value)
{
	uint8_t offs[MAX_LABELS];
	const struct slot *s;
	int n;

	n = split_labels(name, len, offs);
	if (n <= 0 || ds->count == 0)
		return false;
	s = find_slot(ds, tag_of(hash_name(ds, name, offs, n)), name, len, NULL);
	if (!s)
		return false;
	if (value)
		*value = rec_value(rec_at(ds, s->off1));
	return true;
}

int domainset_match(const struct domainset *ds, const uint8_t *name, size_t len, size_t start,
		    uint64_t *value)
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
		const struct slot *s = find_slot(ds, tags[i], name + offs[i], len - offs[i], NULL);

		if (s) {
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
	return sizeof(*ds) + ds->nslots * sizeof(struct slot) + ds->acap;
}

bool domainset_next(const struct domainset *ds, size_t *pos, uint8_t name[255], size_t *len,
		    uint64_t *value)
{
	const uint8_t *rec;

	if (*pos >= ds->used)
		return false;
	rec = ds->arena + *pos;
	*value = rec_value(rec);
	*len = rec[REC_HDR - 1];
	memcpy(name, rec + REC_HDR, *len - 1);
	name[*len - 1] = 0;
	*pos += REC_HDR + *len - 1;
	return true;
}
