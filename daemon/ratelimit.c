/* SPDX-License-Identifier: MIT */
#include "ratelimit.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define PROBE 8		   /* slots looked at for a client before one is replaced */
#define MILLI 1000u	   /* tokens are counted in thousandths */
#define LOG_EVERY_MS 60000 /* a limited client is reported at most once a minute */

struct bucket {
	uint8_t key[17];   /* family byte + the client's prefix (host bits zero) */
	bool used;
	uint32_t tokens;   /* in thousandths of a query */
	uint64_t last_ms;  /* last refill */
	uint64_t logged_ms; /* last report, 0 = never */
};

struct ratelimit {
	struct bucket *v;
	size_t mask;
	uint64_t seed;
};

struct ratelimit *ratelimit_new(size_t clients)
{
	struct ratelimit *rl = calloc(1, sizeof(*rl));
	size_t n = 64;

	if (!rl)
		return NULL;
	while (n < clients)
		n <<= 1;
	rl->v = calloc(n, sizeof(*rl->v));
	if (!rl->v) {
		free(rl);
		return NULL;
	}
	rl->mask = n - 1;
	if (getrandom(&rl->seed, sizeof(rl->seed), GRND_NONBLOCK) != sizeof(rl->seed))
		rl->seed = (uint64_t)(uintptr_t)rl * 0x9e3779b97f4a7c15ULL;
	return rl;
}

void ratelimit_free(struct ratelimit *rl)
{
	if (!rl)
		return;
	free(rl->v);
	free(rl);
}

/* The client's prefix as a key; false for families we do not limit. */
static bool make_key(const struct ratelimit_conf *conf, const struct sockaddr *sa, uint8_t key[17])
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	const uint8_t *a;
	unsigned bits, bytes;

	memset(key, 0, 17);
	if (sa->sa_family == AF_INET) {
		a = (const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr;
		key[0] = 4;
		bits = conf->ipv4_prefix;
		bytes = 4;
	} else if (sa->sa_family == AF_INET6) {
		a = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
		if (memcmp(a, mapped, 12) == 0) {
			a += 12;
			key[0] = 4;
			bits = conf->ipv4_prefix;
			bytes = 4;
		} else {
			key[0] = 6;
			bits = conf->ipv6_prefix;
			bytes = 16;
		}
	} else {
		return false;
	}
	if (bits > bytes * 8)
		bits = bytes * 8;
	memcpy(key + 1, a, bits / 8);
	if (bits % 8)
		key[1 + bits / 8] = a[bits / 8] & (uint8_t)(0xff00u >> (bits % 8));
	return true;
}

static uint64_t key_hash(uint64_t seed, const uint8_t key[17])
{
	uint64_t h = seed ^ 0xcbf29ce484222325ULL;

	for (int i = 0; i < 17; i++)
		h = (h ^ key[i]) * 0x100000001b3ULL;
	return h ^ (h >> 29);
}

/* The client's bucket, or a fresh one replacing the least recently seen in the window. */
static struct bucket *find(struct ratelimit *rl, const uint8_t key[17], uint64_t now_ms,
			   uint32_t full)
{
	size_t i = (size_t)key_hash(rl->seed, key) & rl->mask;
	struct bucket *victim = NULL;

	for (int p = 0; p < PROBE; p++, i = (i + 1) & rl->mask) {
		struct bucket *b = &rl->v[i];
		if (b->used && memcmp(b->key, key, 17) == 0)
			return b;
		if (!b->used) {
			victim = b;
			break;
		}
		if (!victim || b->last_ms < victim->last_ms)
			victim = b;
	}
	memcpy(victim->key, key, 17);
	victim->used = true;
	victim->tokens = full;
	victim->last_ms = now_ms;
	victim->logged_ms = 0;
	return victim;
}

enum ratelimit_verdict ratelimit_check(struct ratelimit *rl, const struct ratelimit_conf *conf,
				       unsigned share, const struct sockaddr *sa, uint64_t now_ms)
{
	uint8_t key[17];
	uint64_t rate, full, tokens;
	struct bucket *b;

	if (conf->qps == 0 || !make_key(conf, sa, key))
		return RATELIMIT_PASS;
	if (share == 0)
		share = 1;
	/* Each worker sees about 1/share of a client's queries (SO_REUSEPORT spreads them). */
	rate = (uint64_t)conf->qps * MILLI / share;		/* thousandths per second */
	full = (uint64_t)(conf->burst ? conf->burst : 2 * conf->qps) * MILLI / share;
	if (rate == 0)
		rate = 1;
	if (full < MILLI)
		full = MILLI;
	b = find(rl, key, now_ms, (uint32_t)full);
	tokens = b->tokens;
	if (now_ms > b->last_ms) {
		tokens += (now_ms - b->last_ms) * rate / 1000;
		b->last_ms = now_ms;
	}
	if (tokens > full)
		tokens = full;
	if (tokens >= MILLI) {
		b->tokens = (uint32_t)(tokens - MILLI);
		return RATELIMIT_PASS;
	}
	b->tokens = (uint32_t)tokens;
	if (b->logged_ms == 0 || now_ms - b->logged_ms >= LOG_EVERY_MS) {
		b->logged_ms = now_ms ? now_ms : 1;
		return RATELIMIT_LIMITED_LOG;
	}
	return RATELIMIT_LIMITED;
}
