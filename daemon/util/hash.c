/* SPDX-License-Identifier: MIT */
#include "util/hash.h"

#include <sys/random.h>
#include <time.h>

uint64_t hash_seed(void)
{
	uint64_t seed;
	struct timespec ts;

	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) == (ssize_t)sizeof(seed))
		return seed;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return hash_mum((uint64_t)ts.tv_nsec ^ HASH_K0, (uint64_t)ts.tv_sec ^ (uintptr_t)&seed);
}
