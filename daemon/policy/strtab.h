/* SPDX-License-Identifier: MIT */
/**
 * Interned strings of a policy's metadata (malware names, threat types, sources, IOC ids):
 * every distinct string is stored once, in chunks that never move, so metadata compares
 * strings by pointer. Not thread-safe for writers.
 */
#ifndef SINKHOLED_POLICY_STRTAB_H
#define SINKHOLED_POLICY_STRTAB_H

#include <stddef.h>

struct strtab {
	char **chunks;
	size_t n_chunks, cap_chunks;
	char *cur;
	size_t left;
	const char **slots; /* open addressing; NULL = empty */
	size_t mask, count;
	size_t bytes; /**< bytes of string storage allocated */
};

/**
 * The one copy of s[0..n) (cut at an embedded NUL), NUL-terminated and owned by t; NULL on
 * ENOMEM.
 */
const char *strtab_intern(struct strtab *t, const char *s, size_t n);
/**
 * A copy of s[0..n) (cut at an embedded NUL), NUL-terminated and owned by t, but not indexed:
 * for a string known to be unique (a feed's IOC id), where the index costs a cache miss or two
 * for nothing. strtab_intern() never returns it. NULL on ENOMEM.
 */
const char *strtab_copy(struct strtab *t, const char *s, size_t n);
/** A copy of n bytes at p (any bytes, byte-aligned), owned by t, not indexed; NULL on ENOMEM. */
void *strtab_bytes(struct strtab *t, const void *p, size_t n);
/** Bytes held by t (storage and index). */
size_t strtab_memory(const struct strtab *t);
/** Free everything; t may be reused after zeroing. */
void strtab_free(struct strtab *t);

#endif
