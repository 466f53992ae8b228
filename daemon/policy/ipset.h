/* SPDX-License-Identifier: MIT */
/**
 * A compact set of IPv4 and IPv6 prefixes, each mapped to a 64-bit value, with a
 * longest-prefix lookup for the addresses found in upstream answers.
 *
 * Two phases. While building, ipset_put() adds prefixes (a hash table finds the ones given
 * twice). ipset_freeze() then lays the set out for lookups and frees the build tables: per
 * family and per prefix length present, a sorted array of network addresses with their
 * values (12 bytes per IPv4 prefix, 24 per IPv6 one). A lookup tries the lengths present,
 * longest first, with one binary search each: no scan, no allocation.
 *
 * Prefixes are canonical: the bits beyond the prefix length are zero. ipset_put() rejects
 * others (-EINVAL) rather than widen a typo; the formats report them where they are written.
 *
 * Not thread-safe for writers; any number of threads may look up a frozen set.
 */
#ifndef SINKHOLED_POLICY_IPSET_H
#define SINKHOLED_POLICY_IPSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "acl.h"

struct ipset;

/** A new empty set being built; seed keys the build hash. NULL on ENOMEM. */
struct ipset *ipset_new(uint64_t seed);
/** NULL-safe. */
void ipset_free(struct ipset *s);

/**
 * Add prefix p (AF_INET with bits 0-32 or AF_INET6 with 0-128, host bits zero) with value.
 * Returns 0 when added, 1 when p was there already (its value is replaced, the old one stored
 * in *old if old is not NULL), -ENOMEM, or -EINVAL (bad family or length, host bits set).
 * Only before ipset_freeze().
 */
int ipset_put(struct ipset *s, const struct acl_prefix *p, uint64_t value, uint64_t *old);
/**
 * Hint that p is about to be put: start loading its table slot into the cache (bulk loads
 * issue it a few prefixes ahead to overlap the cache misses). No effect otherwise.
 */
void ipset_prefetch(const struct ipset *s, const struct acl_prefix *p);
/** Make room for n more prefixes (a bulk load then does not rehash). 0 or -ENOMEM. */
int ipset_reserve(struct ipset *s, size_t n);
/**
 * Lay the set out for lookups and drop the build tables: no more puts. Returns 0 or -ENOMEM
 * (the set is then unchanged, still being built). Idempotent.
 */
int ipset_freeze(struct ipset *s);

/**
 * The longest stored prefix of length at most max_bits that contains addr (family AF_INET:
 * 4 bytes, AF_INET6: 16, network order): true with its length in *bits and its value in
 * *value. To look for a shorter match after one of length b > 0: max_bits = b - 1.
 * A set not frozen yet matches nothing. Allocation-free.
 */
bool ipset_match(const struct ipset *s, int family, const uint8_t *addr, unsigned max_bits,
		 unsigned *bits, uint64_t *value);

/**
 * Iterate over a frozen set (IPv4 then IPv6, by length, then address): start with *pos = 0;
 * each call sets *p and *value of the next prefix and returns true, or false at the end.
 */
bool ipset_next(const struct ipset *s, size_t *pos, struct acl_prefix *p, uint64_t *value);

/** Number of prefixes stored. */
size_t ipset_count(const struct ipset *s);
/** Bytes allocated, for --check and the memory figures. */
size_t ipset_memory(const struct ipset *s);

#endif
