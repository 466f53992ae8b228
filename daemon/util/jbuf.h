/* SPDX-License-Identifier: MIT */
/**
 * A growing text buffer for JSON answers (the dashboard's API): appends never fail, an
 * allocation failure is remembered and the result is then NULL. Strings that come from a
 * query or a list are escaped with the block log's helpers (blocklog.h) before they get here.
 */
#ifndef SINKHOLED_UTIL_JBUF_H
#define SINKHOLED_UTIL_JBUF_H

#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct jbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

/** Room for n more bytes (and a NUL); false after an allocation failure. */
static inline bool jbuf_reserve(struct jbuf *b, size_t n)
{
	size_t cap;
	char *p;

	if (b->oom)
		return false;
	if (b->len + n + 1 <= b->cap)
		return true;
	cap = b->cap ? b->cap : 4096;
	while (cap < b->len + n + 1)
		cap *= 2;
	p = realloc(b->p, cap);
	if (!p) {
		b->oom = true;
		return false;
	}
	b->p = p;
	b->cap = cap;
	return true;
}

static inline void jbuf_mem(struct jbuf *b, const char *s, size_t n)
{
	if (!jbuf_reserve(b, n))
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static inline void jbuf_str(struct jbuf *b, const char *s)
{
	jbuf_mem(b, s, strlen(s));
}

static inline void jbuf_int(struct jbuf *b, int64_t v)
{
	char tmp[24];

	jbuf_mem(b, tmp, (size_t)snprintf(tmp, sizeof(tmp), "%" PRId64, v));
}

/** A member: key (its quotes and colon, and the comma before it if any), then v. */
static inline void jbuf_member_int(struct jbuf *b, const char *key, int64_t v)
{
	jbuf_str(b, key);
	jbuf_int(b, v);
}

/** v / 1000 with three decimals (milliseconds as seconds). */
static inline void jbuf_ms_as_s(struct jbuf *b, int64_t v)
{
	char tmp[32];

	jbuf_mem(b, tmp,
		 (size_t)snprintf(tmp, sizeof(tmp), "%s%" PRId64 ".%03" PRId64, v < 0 ? "-" : "",
				  (v < 0 ? -v : v) / 1000, (v < 0 ? -v : v) % 1000));
}

/**
 * Room for up to n bytes written in place: a pointer to them (*cap: how many), NULL after an
 * allocation failure. jbuf_commit() then adds what was written.
 */
static inline char *jbuf_room(struct jbuf *b, size_t n, size_t *cap)
{
	if (!jbuf_reserve(b, n))
		return NULL;
	*cap = b->cap - b->len - 1;
	return b->p + b->len;
}

static inline void jbuf_commit(struct jbuf *b, size_t n)
{
	b->len += n;
	b->p[b->len] = '\0';
}

/** The text (malloc'd, taken over by the caller) and its length; NULL after a failure. */
static inline char *jbuf_take(struct jbuf *b, size_t *len)
{
	char *p = b->p;

	if (b->oom || !p) {
		free(p);
		*len = 0;
		return NULL;
	}
	*len = b->len;
	b->p = NULL;
	b->len = b->cap = 0;
	return p;
}

#endif
