/* SPDX-License-Identifier: MIT */
/*
 * Building DNS messages byte by byte in unit tests (crafted, often malformed, wire data).
 * Include after cmocka.h.
 */
#ifndef SINKHOLED_TEST_WIRE_H
#define SINKHOLED_TEST_WIRE_H

#include <stdint.h>
#include <string.h>

struct msg {
	uint8_t b[4096];
	size_t len;
	size_t ttl_off[64]; /* offset of the TTL field of each record a test records */
	size_t n_rr;
};

static inline void put(struct msg *m, const void *p, size_t n)
{
	assert_true(m->len + n <= sizeof(m->b));
	memcpy(m->b + m->len, p, n);
	m->len += n;
}

static inline void put8(struct msg *m, uint8_t v)
{
	put(m, &v, 1);
}

static inline void put16(struct msg *m, uint16_t v)
{
	put8(m, (uint8_t)(v >> 8));
	put8(m, (uint8_t)v);
}

static inline void put32(struct msg *m, uint32_t v)
{
	put16(m, (uint16_t)(v >> 16));
	put16(m, (uint16_t)v);
}

/* A name in presentation form ("WwW.Example.COM", "" = root) as plain labels. */
static inline void put_name(struct msg *m, const char *name)
{
	while (*name) {
		const char *dot = strchr(name, '.');
		size_t n = dot ? (size_t)(dot - name) : strlen(name);

		put8(m, (uint8_t)n);
		put(m, name, n);
		name += n + (dot ? 1 : 0);
	}
	put8(m, 0);
}

#endif
