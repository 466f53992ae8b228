/* SPDX-License-Identifier: MIT */
/**
 * Per-client rate limiting: a token bucket per client prefix (IPv4 /32, IPv6 /56 by
 * default). One table per worker, fixed size, allocation-free after creation: when it is
 * full, the least recently seen client in the probed window is forgotten (it starts again
 * with a full bucket), so memory never grows with the number of clients.
 */
#ifndef SINKHOLED_RATELIMIT_H
#define SINKHOLED_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

enum ratelimit_action { RATELIMIT_REFUSED = 0, RATELIMIT_DROP = 1 };

/** The `rate_limit:` config section. qps 0 = no limit. */
struct ratelimit_conf {
	uint32_t qps;		      /**< sustained queries per second per client, 0 = off */
	uint32_t burst;		      /**< bucket size (queries), default = qps * 2 */
	uint8_t ipv4_prefix;	      /**< default 32 */
	uint8_t ipv6_prefix;	      /**< default 56 */
	enum ratelimit_action action; /**< over the limit: REFUSED (default) or drop */
};

enum ratelimit_verdict {
	RATELIMIT_PASS = 0,    /**< within the limit */
	RATELIMIT_LIMITED,     /**< over the limit */
	RATELIMIT_LIMITED_LOG, /**< over the limit, and this client was not reported this minute */
};

struct ratelimit;

/** A table for about `clients` clients at once (rounded up to a power of two). */
struct ratelimit *ratelimit_new(size_t clients);
/** NULL-safe. */
void ratelimit_free(struct ratelimit *rl);

/**
 * Charge one query of the client at sa (AF_INET or AF_INET6; IPv4-mapped IPv6 counts as
 * IPv4) at now_ms (monotonic). share divides the rate and burst (the number of workers
 * sharing the client's traffic; 1 when alone). Allocation-free.
 */
enum ratelimit_verdict ratelimit_check(struct ratelimit *rl, const struct ratelimit_conf *conf,
				       unsigned share, const struct sockaddr *sa, uint64_t now_ms);

#endif
