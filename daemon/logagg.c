/* SPDX-License-Identifier: MIT */
#include "logagg.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "util/hash.h"

/*
 * A lookup is placed in the slot of its key's hash or one of the PROBE_MAX after it (linear
 * probing, no tombstones: an emitted record leaves its slot empty, and a key is looked for in
 * every probed slot, empty or not). Bounded, so that a table full of other keys costs a lookup
 * PROBE_MAX comparisons at most.
 */
#define PROBE_MAX 8

/*
 * What makes lookups identical besides the names, packed for comparing with one memcmp():
 * the entry, the client's address (an IPv4 one zero-padded), type, class, and what was done.
 */
struct key {
	const void *meta;
	uint32_t ioc_id; /* entries of one submission share their meta */
	uint64_t addr[2];
	uint16_t qtype, qclass;
	uint8_t family, action, orig, via, rule_off, qname_len, matched_len, unlisted;
};

struct slot {
	struct key key;		 /* rec's; rec.count == 0: the slot is free */
	uint64_t hash;		 /* of the key and the names */
	struct blocklog_rec rec; /* the first lookup, with count and end_ms kept up to date */
};

struct logagg {
	struct slot *slots;
	size_t mask;
	size_t pending;
	uint64_t seed;
};

struct logagg *logagg_new(size_t slots, uint64_t seed)
{
	struct logagg *a = calloc(1, sizeof(*a));
	size_t cap = PROBE_MAX;

	if (!a)
		return NULL;
	while (cap < slots && cap <= SIZE_MAX / 2 / sizeof(struct slot))
		cap <<= 1;
	a->slots = calloc(cap, sizeof(*a->slots));
	if (!a->slots) {
		free(a);
		return NULL;
	}
	a->mask = cap - 1;
	a->seed = seed;
	return a;
}

void logagg_free(struct logagg *a)
{
	if (!a)
		return;
	free(a->slots);
	free(a);
}

static void key_of(const struct blocklog_rec *r, struct key *k)
{
	memset(k, 0, sizeof(*k)); /* the padding too: keys are compared whole */
	k->meta = r->meta;
	k->ioc_id = r->ioc_id;
	if (r->src_family == AF_INET6)
		memcpy(k->addr, r->src_addr, 16);
	else
		memcpy(k->addr, r->src_addr, 4);
	k->qtype = r->qtype;
	k->qclass = r->qclass;
	k->family = r->src_family;
	k->action = r->action;
	k->orig = r->orig;
	k->via = r->via;
	k->rule_off = r->rule_off;
	k->qname_len = r->qname_len;
	k->matched_len = r->via == BLOCKLOG_VIA_CNAME ? r->matched_len : 0;
	k->unlisted = r->unlisted;
}

/* The key's words fold into the seed of the name's hash: one pass over the bytes. */
static uint64_t key_hash(const struct logagg *a, const struct blocklog_rec *r, const struct key *k)
{
	uint64_t rest, h;

	memcpy(&rest, &k->qtype, sizeof(rest));
	h = hash_mum(k->addr[0] ^ a->seed ^ (uintptr_t)k->meta ^ (uint64_t)k->ioc_id << 32,
		     k->addr[1] ^ rest ^ HASH_K1);
	h = hash_bytes_seeded(r->qname, r->qname_len, h);
	if (k->matched_len)
		h = hash_bytes_seeded(r->matched, k->matched_len, h);
	return h;
}

static bool same_key(const struct slot *s, const struct blocklog_rec *r, const struct key *k)
{
	return memcmp(&s->key, k, sizeof(*k)) == 0 &&
	       memcmp(s->rec.qname, r->qname, r->qname_len) == 0 &&
	       (k->matched_len == 0 || memcmp(s->rec.matched, r->matched, k->matched_len) == 0);
}

static void emit_slot(struct logagg *a, struct slot *s, logagg_emit_fn emit, void *arg)
{
	emit(arg, &s->rec);
	s->rec.count = 0;
	a->pending--;
}

static void store(struct logagg *a, struct slot *s, const struct blocklog_rec *rec,
		  const struct key *k, uint64_t h)
{
	s->key = *k;
	s->hash = h;
	blocklog_rec_copy(&s->rec, rec);
	s->rec.count = 1;
	s->rec.start_ms = s->rec.end_ms = rec->time_ms;
	a->pending++;
}

enum logagg_result logagg_add(struct logagg *a, const struct blocklog_rec *rec, int64_t window_ms,
			      logagg_emit_fn emit, void *arg)
{
	struct slot *free_slot = NULL;
	struct key k;
	uint64_t h;

	key_of(rec, &k);
	h = key_hash(a, rec, &k);
	for (size_t i = 0; i < PROBE_MAX; i++) {
		struct slot *s = &a->slots[(h + i) & a->mask];

		if (s->rec.count == 0) {
			if (!free_slot)
				free_slot = s;
			continue;
		}
		if (s->hash != h || !same_key(s, rec, &k))
			continue;
		if (rec->time_ms - s->rec.start_ms >= window_ms) {
			/* Its window is over: that record goes, this lookup starts the next. */
			emit_slot(a, s, emit, arg);
			store(a, s, rec, &k, h);
			return LOGAGG_STORED;
		}
		s->rec.count++;
		if (rec->time_ms > s->rec.end_ms)
			s->rec.end_ms = rec->time_ms;
		return LOGAGG_MERGED;
	}
	if (!free_slot)
		return LOGAGG_FULL;
	store(a, free_slot, rec, &k, h);
	return LOGAGG_STORED;
}

size_t logagg_flush(struct logagg *a, int64_t now_ms, int64_t window_ms, logagg_emit_fn emit,
		    void *arg)
{
	size_t n = 0;

	for (size_t i = 0; i <= a->mask && a->pending > 0; i++) {
		struct slot *s = &a->slots[i];

		if (s->rec.count == 0)
			continue;
		if (now_ms != INT64_MAX && now_ms - s->rec.start_ms < window_ms)
			continue;
		emit_slot(a, s, emit, arg);
		n++;
	}
	return n;
}

size_t logagg_pending(const struct logagg *a)
{
	return a->pending;
}
