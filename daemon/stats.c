/* SPDX-License-Identifier: MIT */
#include "stats.h"

#include <stdio.h>
#include <string.h>

#include "util.h"

static const uint64_t latency_bounds_us[STATS_LATENCY_BUCKETS] = {STATS_LATENCY_BOUNDS_US};

void stats_sum(struct stats_total *out, const struct worker_stats *const *v, size_t n)
{
	memset(out, 0, sizeof(*out));
	for (size_t w = 0; w < n; w++) {
#define STATS_ADD(f, type, labels, name, help)                                                     \
	for (size_t i = 0; i < STATS_N_##labels; i++)                                              \
		out->f[i] += atomic_load_explicit(&v[w]->f[i], memory_order_relaxed);
		STATS_COUNTERS(STATS_ADD)
#undef STATS_ADD
	}
}

void stats_observe_latency(struct worker_stats *s, uint64_t us)
{
	size_t b = 0;

	while (b < STATS_LATENCY_BUCKETS && us > latency_bounds_us[b])
		b++;
	STAT_ADD_AT(s, upstream_latency, b, 1);
	STAT_ADD_AT(s, upstream_latency, STATS_N_HIST - 1, us);
}

/* The log line's number for one counter: every label summed; a histogram's count. */
static uint64_t total(const uint64_t *v, size_t n, enum stats_type type)
{
	uint64_t sum = 0;

	if (type == STATS_HISTOGRAM)
		n--; /* the last slot is the sum of the observations */
	for (size_t i = 0; i < n; i++)
		sum += v[i];
	return sum;
}

char *stats_format_line(const struct stats_total *t, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
#define STATS_ITEM(f, type, labels, name, help)                                                    \
	if (o < len)                                                                               \
		o += (size_t)snprintf(buf + o, len - o, "%s" #f " %llu", o ? ", " : "",            \
				      (unsigned long long)total(t->f, STATS_N_##labels, type));
	STATS_COUNTERS(STATS_ITEM)
#undef STATS_ITEM
	return buf;
}
