/* SPDX-License-Identifier: MIT */
/**
 * A compact hash set of canonical domain names, each mapped to a 64-bit value, with a
 * longest-suffix lookup that walks a query name's parents.
 *
 * Names are in canonical wire form: lowercase labels, each prefixed by its length, ending
 * with the root label (a 0 byte); "www.evil.com" is "\3www\4evil\3com\0". The set keeps its
 * own copy of every name in one arena; the table is ordered linear probing over 32-bit hash
 * tags and arena offsets, at a load of up to 0.8, so a lookup never reports a name that is not
 * stored (no false positives). A name costs 10 bytes of table, 9 of record header (its value
 * and length) and its wire form but the root byte. Hashes are seeded and computed label by label from the root,
 * so the hash of every parent of a query name comes out of one pass over it.
 *
 * Not thread-safe for writers; any number of threads may look up a set nobody writes.
 */
#ifndef SINKHOLED_DOMAINSET_H
#define SINKHOLED_DOMAINSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct domainset;

/** A new empty set; seed keys the hash. NULL on ENOMEM. */
struct domainset *domainset_new(uint64_t seed);
/** NULL-safe. */
void domainset_free(struct domainset *ds);

/**
 * Insert name (canonical wire form, len bytes including the root label) with value.
 * Returns 0 when added, 1 when the name was already there (its value is replaced and the old
 * one stored in *old if old is not NULL), -ENOMEM, or -EINVAL for a malformed name.
 */
int domainset_put(struct domainset *ds, const uint8_t *name, size_t len, uint64_t value,
		  uint64_t *old);
/**
 * Make room for names more names of bytes wire bytes in total, so that a bulk load neither
 * rehashes nor moves the arena while it inserts them. Returns 0 or -ENOMEM.
 */
int domainset_reserve(struct domainset *ds, size_t names, size_t bytes);
/**
 * name's hash in ds (same name, same set), or -1 when name is malformed. A bulk load hashes
 * each name once: domainset_hash() a few names ahead, domainset_prefetch() with it to start
 * loading the name's table slot into the cache (overlapping the misses), then
 * domainset_put_hashed() with the same hash when the name's turn comes.
 */
int64_t domainset_hash(const struct domainset *ds, const uint8_t *name, size_t len);
/** Start loading the table slot of a name whose domainset_hash() is hash. No other effect. */
void domainset_prefetch(const struct domainset *ds, int64_t hash);
/** domainset_put() of a name whose domainset_hash() is hash (-1: -EINVAL). */
int domainset_put_hashed(struct domainset *ds, const uint8_t *name, size_t len, int64_t hash,
			 uint64_t value, uint64_t *old);
/** Exact lookup; true and *value set when found. */
bool domainset_get(const struct domainset *ds, const uint8_t *name, size_t len, uint64_t *value);

/**
 * Longest stored suffix of name that starts on a label boundary at or after byte offset
 * start (0 = the whole name; start must itself be a label boundary). Returns the byte
 * offset in name where the matched suffix starts and sets *value, or -1 when no suffix
 * (not even a partial label: "notevil.com" never matches "evil.com") is stored.
 * To look for a shorter match after one at offset o: start = o + name[o] + 1.
 * Allocation-free.
 */
int domainset_match(const struct domainset *ds, const uint8_t *name, size_t len, size_t start,
		    uint64_t *value);

/**
 * Iterate over the stored names in insertion order: start with *pos = 0; each call copies the
 * next name into name (*len bytes), sets *value and returns true, or returns false at the end.
 */
bool domainset_next(const struct domainset *ds, size_t *pos, uint8_t name[255], size_t *len,
		    uint64_t *value);

/** Number of names stored. */
size_t domainset_count(const struct domainset *ds);
/** Bytes allocated (table + arena), for --check and the memory figures. */
size_t domainset_memory(const struct domainset *ds);

#endif
