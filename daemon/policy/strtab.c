/* SPDX-License-Identifier: MIT */
#include "policy/strtab.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "util/hash.h"

#define STR_CHUNK (64u * 1024)

void strtab_free(struct strtab *t)
{
	for (size_t i = 0; i < t->n_chunks; i++)
		free(t->chunks[i]);
	free(t->chunks);
	free(t->slots);
}

static char *strtab_alloc(struct strtab *t, size_t n)
{
	char *s;

	if (n > t->left) {
		size_t sz = n > STR_CHUNK / 4 ? n : STR_CHUNK;
		char *c;

		if (!grow_array((void **)&t->chunks, &t->cap_chunks, t->n_chunks + 1,
				sizeof(*t->chunks)))
			return NULL;
		c = malloc(sz);
		if (!c)
			return NULL;
		t->chunks[t->n_chunks++] = c;
		t->bytes += sz;
		if (sz != STR_CHUNK) /* a big string: its own chunk, keep the current one */
			return c;
		t->cur = c;
		t->left = sz;
	}
	s = t->cur;
	t->cur += n;
	t->left -= n;
	return s;
}

/* The one copy of s[0..n) (stops at an embedded NUL), or NULL on ENOMEM. */
const char *strtab_intern(struct strtab *t, const char *s, size_t n)
{
	const char *nul = memchr(s, 0, n);
	size_t i;
	char *copy;

	if (nul)
		n = (size_t)(nul - s);
	if (t->count + 1 > (t->mask + 1) / 2) {
		size_t ncap = t->slots ? (t->mask + 1) * 2 : 64;
		const char **ns = calloc(ncap, sizeof(*ns));

		if (!ns)
			return NULL;
		for (size_t j = 0; t->slots && j <= t->mask; j++) {
			const char *o = t->slots[j];

			if (!o)
				continue;
			for (i = hash_bytes(o, strlen(o)) & (ncap - 1); ns[i];
			     i = (i + 1) & (ncap - 1))
				;
			ns[i] = o;
		}
		free(t->slots);
		t->slots = ns;
		t->mask = ncap - 1;
	}
	for (i = hash_bytes(s, n) & t->mask; t->slots[i]; i = (i + 1) & t->mask) {
		const char *o = t->slots[i];

		if (strncmp(o, s, n) == 0 && o[n] == 0)
			return o;
	}
	copy = strtab_alloc(t, n + 1);
	if (!copy)
		return NULL;
	memcpy(copy, s, n);
	copy[n] = 0;
	t->slots[i] = copy;
	t->count++;
	return copy;
}

void *strtab_bytes(struct strtab *t, const void *p, size_t n)
{
	char *copy = strtab_alloc(t, n);

	if (copy)
		memcpy(copy, p, n);
	return copy;
}

const char *strtab_copy(struct strtab *t, const char *s, size_t n)
{
	const char *nul = memchr(s, 0, n);
	char *copy;

	if (nul)
		n = (size_t)(nul - s);
	copy = strtab_alloc(t, n + 1);
	if (!copy)
		return NULL;
	memcpy(copy, s, n);
	copy[n] = 0;
	return copy;
}

/* ---- names ------------------------------------------------------------------------------ */

size_t strtab_memory(const struct strtab *t)
{
	return t->bytes + t->n_chunks * sizeof(char *) +
	       (t->slots ? (t->mask + 1) : 0) * sizeof(char *);
}
