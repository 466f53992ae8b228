/* SPDX-License-Identifier: MIT */
/** Small shared helpers: invariant checks, array size and growth, branch hints. */
#ifndef SINKHOLED_UTIL_H
#define SINKHOLED_UTIL_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

/**
 * Grow the array *v (elements of size bytes, *cap of them) to hold at least need elements,
 * doubling. False on ENOMEM (the array is unchanged).
 */
static inline bool grow_array(void **v, size_t *cap, size_t need, size_t size)
{
	size_t ncap;
	void *nv;

	if (need <= *cap)
		return true;
	ncap = *cap ? *cap : 16;
	while (ncap < need)
		ncap *= 2;
	nv = realloc(*v, ncap * size);
	if (!nv)
		return false;
	*v = nv;
	*cap = ncap;
	return true;
}

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/** Broken invariant: always abort, in every build. */
#define REQUIRE(x)                                                                                 \
	do {                                                                                       \
		if (unlikely(!(x))) {                                                              \
			fprintf(stderr, "sinkholed: %s:%d: requirement failed: %s\n", __FILE__,    \
				__LINE__, #x);                                                     \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/**
 * Recoverable check: false when x does not hold (logged once per call site is the caller's
 * business); aborts in debug builds so tests catch it.
 */
#ifdef NDEBUG
#define CHECK(x) (likely(x))
#else
#define CHECK(x) ((likely(x)) ? true : (REQUIRE(x), false))
#endif

#endif
