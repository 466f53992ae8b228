/* SPDX-License-Identifier: MIT */
/**
 * Hashing helpers shared by the tables of the daemon: the wyhash "mum" mixer, a byte-string
 * hash for tables whose keys the daemon chooses (interned strings, metadata), and a random
 * seed for every table whose keys a client or a feed chooses.
 */
#ifndef SINKHOLED_UTIL_HASH_H
#define SINKHOLED_UTIL_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define HASH_K0 0xa0761d6478bd642fULL
#define HASH_K1 0xe7037ed1a0b428dbULL
#define HASH_K2 0x8ebc6af09c88c6e3ULL

/** 64x64 -> 128 multiply folded to 64 bits (the wyhash "mum"). */
static inline uint64_t hash_mum(uint64_t a, uint64_t b)
{
	__uint128_t r = (__uint128_t)a * b;

	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

/**
 * Hash of data[0..n) keyed by seed (from hash_seed()): for tables whose keys a client or a
 * feed chooses, so that nobody can predict which keys collide.
 */
static inline uint64_t hash_bytes_seeded(const void *data, size_t n, uint64_t seed)
{
	const uint8_t *s = data;
	uint64_t h = hash_mum(n ^ seed ^ HASH_K0, seed ^ HASH_K1);

	for (; n >= 8; n -= 8, s += 8) {
		uint64_t v;

		memcpy(&v, s, 8);
		h = hash_mum(v ^ HASH_K1, h ^ seed);
	}
	if (n) {
		uint64_t v = 0;

		memcpy(&v, s, n);
		h = hash_mum(v ^ HASH_K0, h ^ seed);
	}
	return hash_mum(h ^ HASH_K2, seed ^ HASH_K1);
}

/** Hash of data[0..n) with a fixed key. Not for keys an attacker chooses. */
static inline uint64_t hash_bytes(const void *data, size_t n)
{
	return hash_bytes_seeded(data, n, HASH_K2);
}

/** A random 64-bit seed from the kernel (getrandom), falling back to the clock. */
uint64_t hash_seed(void);

#endif
