/* SPDX-License-Identifier: MIT */
#include "policy/ipset.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "util/hash.h"

/*
 * Addresses are kept as host-order 32-bit words (IPv4: one, IPv6: four, most significant
 * first), so that masking and comparing are word operations. Frozen, each family is one array
 * sorted by prefix length, then address; at[len] is where the prefixes of length len start
 * (at[len + 1] where they end) and lens[] lists the lengths present, longest first.
 */

/* Frozen entries: the value in two halves, so that an IPv4 one takes 12 bytes, not 16. */
struct v4e {
	uint32_t net;
	uint32_t lo, hi;
};

struct v6e {
	uint32_t w[4];
	uint32_t lo, hi;
};

#define VAL_OF(e) ((uint64_t)(e)->hi << 32 | (e)->lo)
#define VAL_SET(e, v) ((e)->lo = (uint32_t)(v), (e)->hi = (uint32_t)((v) >> 32))

/* A prefix while building. */
struct bent {
	uint32_t w[4];
	uint8_t v6;
	uint8_t bits;
	uint32_t lo, hi; /* the value (VAL_OF): 28 bytes a prefix, not 32 */
};

struct ipset {
	uint64_t seed;
	bool frozen;

	/*
	 * Building: the prefixes in order, and a table of 32 bits of their hash and their index
	 * + 1 (0 = empty), so that probing reads a prefix only when its hash bits match.
	 */
	struct bent *b;
	size_t nb, capb;
	uint64_t *tab;
	size_t mask; /* table size - 1; 0 with no table */

	/* Frozen. */
	struct v4e *v4;
	struct v6e *v6;
	size_t n4, n6;
	uint32_t at4[33 + 1], at6[129 + 1];
	uint8_t lens4[33], lens6[129];
	unsigned nlens4, nlens6;
};

struct ipset *ipset_new(uint64_t seed)
{
	struct ipset *s = calloc(1, sizeof(*s));

	if (s)
		s->seed = seed;
	return s;
}

void ipset_free(struct ipset *s)
{
	if (!s)
		return;
	free(s->b);
	free(s->tab);
	free(s->v4);
	free(s->v6);
	free(s);
}

/* The mask of the first bits bits of word k (of a 128-bit address as four words). */
static inline uint32_t word_mask(unsigned bits, unsigned k)
{
	if (bits >= 32 * (k + 1))
		return UINT32_MAX;
	if (bits <= 32 * k)
		return 0;
	return UINT32_MAX << (32 - (bits - 32 * k));
}

/* addr (network order) as host-order words; false for a family that is neither. */
static bool to_words(int family, const uint8_t *addr, uint32_t w[4], unsigned *n)
{
	uint32_t be;

	if (family == AF_INET)
		*n = 1;
	else if (family == AF_INET6)
		*n = 4;
	else
		return false;
	w[1] = w[2] = w[3] = 0;
	for (unsigned k = 0; k < *n; k++) {
		memcpy(&be, addr + 4 * k, 4);
		w[k] = ntohl(be);
	}
	return true;
}

static uint64_t bent_hash(const struct ipset *s, const struct bent *e)
{
	uint32_t key[5] = {e->w[0], e->w[1], e->w[2], e->w[3], (uint32_t)e->v6 << 8 | e->bits};

	return hash_bytes_seeded(key, sizeof(key), s->seed);
}

static bool bent_equal(const struct bent *a, const struct bent *b)
{
	return a->v6 == b->v6 && a->bits == b->bits && a->w[0] == b->w[0] && a->w[1] == b->w[1] &&
	       a->w[2] == b->w[2] && a->w[3] == b->w[3];
}

/* Rebuild the table for at least need prefixes at a load of at most one half. */
static int rehash(struct ipset *s, size_t need)
{
	size_t cap = 64, m;
	uint64_t *t;

	while (cap < need * 2)
		cap *= 2;
	if (s->tab && cap <= s->mask + 1)
		return 0;
	if (cap > (size_t)UINT32_MAX + 1)
		return -ENOMEM;
	t = calloc(cap, sizeof(*t));
	if (!t)
		return -ENOMEM;
	m = cap - 1;
	for (size_t i = 0; s->tab && i <= s->mask; i++) {
		size_t j;

		if (!s->tab[i])
			continue;
		for (j = (size_t)(s->tab[i] >> 32) & m; t[j]; j = (j + 1) & m)
			;
		t[j] = s->tab[i];
	}
	free(s->tab);
	s->tab = t;
	s->mask = m;
	return 0;
}

int ipset_reserve(struct ipset *s, size_t n)
{
	REQUIRE(!s->frozen);
	if (s->nb + n >= UINT32_MAX ||
	    !grow_array((void **)&s->b, &s->capb, s->nb + n, sizeof(*s->b)))
		return -ENOMEM;
	return rehash(s, s->nb + n);
}

void ipset_prefetch(const struct ipset *s, const struct acl_prefix *p)
{
	struct bent e = {.bits = p->bits};
	unsigned n;

	if (s->frozen || !s->tab || !to_words(p->family, p->addr, e.w, &n))
		return;
	e.v6 = n == 4;
	__builtin_prefetch(&s->tab[bent_hash(s, &e) & s->mask]);
}

int ipset_put(struct ipset *s, const struct acl_prefix *p, uint64_t value, uint64_t *old)
{
	struct bent e = {.bits = p->bits};
	unsigned n, total;
	uint32_t h;
	size_t j;

	VAL_SET(&e, value);
	REQUIRE(!s->frozen);
	if (!to_words(p->family, p->addr, e.w, &n))
		return -EINVAL;
	total = 32 * n;
	e.v6 = n == 4;
	if (p->bits > total)
		return -EINVAL;
	for (unsigned k = 0; k < n; k++)
		if (e.w[k] & ~word_mask(p->bits, k))
			return -EINVAL; /* host bits set */
	if (s->nb + 1 >= UINT32_MAX)
		return -ENOMEM;
	if ((s->nb + 1) * 2 > s->mask + 1 && rehash(s, s->nb + 1) < 0)
		return -ENOMEM;
	h = (uint32_t)bent_hash(s, &e);
	for (j = h & s->mask; s->tab[j]; j = (j + 1) & s->mask) {
		struct bent *x = &s->b[(uint32_t)s->tab[j] - 1];

		if ((uint32_t)(s->tab[j] >> 32) == h && bent_equal(x, &e)) {
			if (old)
				*old = VAL_OF(x);
			VAL_SET(x, value);
			return 1;
		}
	}
	if (!grow_array((void **)&s->b, &s->capb, s->nb + 1, sizeof(*s->b)))
		return -ENOMEM;
	s->b[s->nb] = e;
	s->tab[j] = (uint64_t)h << 32 | (uint32_t)++s->nb;
	return 0;
}

/*
 * Sort v[0..n) by network address: LSD radix, a byte per pass through tmp (n entries),
 * passes whose byte is the same everywhere skipped (qsort() of the IPv4 runs, a comparison
 * call per step, was about a tenth of the load of a million prefixes).
 */
static void sort4(struct v4e *v, struct v4e *tmp, size_t n)
{
	struct v4e *src = v, *dst = tmp;

	for (unsigned shift = 0; shift < 32; shift += 8) {
		size_t count[256] = {0}, sum = 0;

		for (size_t i = 0; i < n; i++)
			count[src[i].net >> shift & 0xff]++;
		if (count[src[0].net >> shift & 0xff] == n)
			continue;
		for (unsigned k = 0; k < 256; k++) {
			size_t c = count[k];

			count[k] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++)
			dst[count[src[i].net >> shift & 0xff]++] = src[i];
		src = dst;
		dst = src == v ? tmp : v;
	}
	if (src != v)
		memcpy(v, src, n * sizeof(*v));
}

static int cmp6_words(const uint32_t *x, const uint32_t *y)
{
	for (unsigned k = 0; k < 4; k++)
		if (x[k] != y[k])
			return x[k] < y[k] ? -1 : 1;
	return 0;
}

static int cmp6(const void *a, const void *b)
{
	return cmp6_words(((const struct v6e *)a)->w, ((const struct v6e *)b)->w);
}

/* From the count of each length (0..maxlen): where each one's run starts, the lengths present. */
static void lay_out(const uint32_t *cnt, unsigned maxlen, uint32_t *at, uint8_t *lens,
		    unsigned *nlens)
{
	uint32_t sum = 0;

	*nlens = 0;
	for (unsigned l = maxlen + 1; l-- > 0;)
		if (cnt[l])
			lens[(*nlens)++] = (uint8_t)l;
	for (unsigned l = 0; l <= maxlen; l++) {
		at[l] = sum;
		sum += cnt[l];
	}
	at[maxlen + 1] = sum;
}

int ipset_freeze(struct ipset *s)
{
	uint32_t cnt4[33] = {0}, cnt6[129] = {0}, fill4[33] = {0}, fill6[129] = {0};
	struct v4e *v4 = NULL;
	struct v6e *v6 = NULL;
	size_t n4 = 0, n6 = 0;

	if (s->frozen)
		return 0;
	for (size_t i = 0; i < s->nb; i++) {
		if (s->b[i].v6) {
			cnt6[s->b[i].bits]++;
			n6++;
		} else {
			cnt4[s->b[i].bits]++;
			n4++;
		}
	}
	if ((n4 && !(v4 = malloc(n4 * sizeof(*v4)))) || (n6 && !(v6 = malloc(n6 * sizeof(*v6))))) {
		free(v4);
		return -ENOMEM;
	}
	lay_out(cnt4, 32, s->at4, s->lens4, &s->nlens4);
	lay_out(cnt6, 128, s->at6, s->lens6, &s->nlens6);
	for (size_t i = 0; i < s->nb; i++) {
		const struct bent *e = &s->b[i];

		if (e->v6) {
			struct v6e *d = &v6[s->at6[e->bits] + fill6[e->bits]++];

			memcpy(d->w, e->w, sizeof(d->w));
			d->lo = e->lo;
			d->hi = e->hi;
		} else {
			struct v4e *d = &v4[s->at4[e->bits] + fill4[e->bits]++];

			d->net = e->w[0];
			d->lo = e->lo;
			d->hi = e->hi;
		}
	}
	if (n4 > 1) {
		/* The build entries are not needed any more: their memory is the radix's buffer. */
		struct v4e *tmp = (struct v4e *)(void *)s->b;

		REQUIRE(s->capb * sizeof(*s->b) >= n4 * sizeof(*tmp));
		for (unsigned l = 0; l <= 32; l++)
			if (cnt4[l] > 1)
				sort4(v4 + s->at4[l], tmp, cnt4[l]);
	}
	for (unsigned l = 0; l <= 128; l++)
		if (cnt6[l] > 1)
			qsort(v6 + s->at6[l], cnt6[l], sizeof(*v6), cmp6);
	s->v4 = v4;
	s->v6 = v6;
	s->n4 = n4;
	s->n6 = n6;
	free(s->b);
	free(s->tab);
	s->b = NULL;
	s->tab = NULL;
	s->nb = s->capb = s->mask = 0;
	s->frozen = true;
	return 0;
}

static bool match4(const struct ipset *s, uint32_t a, unsigned max_bits, unsigned *bits,
		   uint64_t *value)
{
	for (unsigned i = 0; i < s->nlens4; i++) {
		unsigned l = s->lens4[i];
		uint32_t key = a & word_mask(l, 0);
		size_t lo = s->at4[l], hi = s->at4[l + 1];

		if (l > max_bits)
			continue;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			uint32_t v = s->v4[mid].net;

			if (v == key) {
				*bits = l;
				*value = VAL_OF(&s->v4[mid]);
				return true;
			}
			if (v < key)
				lo = mid + 1;
			else
				hi = mid;
		}
	}
	return false;
}

static bool match6(const struct ipset *s, const uint32_t *a, unsigned max_bits, unsigned *bits,
		   uint64_t *value)
{
	for (unsigned i = 0; i < s->nlens6; i++) {
		unsigned l = s->lens6[i];
		uint32_t key[4];
		size_t lo = s->at6[l], hi = s->at6[l + 1];

		if (l > max_bits)
			continue;
		for (unsigned k = 0; k < 4; k++)
			key[k] = a[k] & word_mask(l, k);
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			int c = cmp6_words(s->v6[mid].w, key);

			if (c == 0) {
				*bits = l;
				*value = VAL_OF(&s->v6[mid]);
				return true;
			}
			if (c < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
	}
	return false;
}

bool ipset_match(const struct ipset *s, int family, const uint8_t *addr, unsigned max_bits,
		 unsigned *bits, uint64_t *value)
{
	uint32_t w[4];
	unsigned n;

	if (!s->frozen || !to_words(family, addr, w, &n))
		return false;
	return n == 1 ? s->n4 && match4(s, w[0], max_bits, bits, value)
		      : s->n6 && match6(s, w, max_bits, bits, value);
}

/* The length whose run in at (nlen + 2 entries) holds index i. */
static unsigned run_of(const uint32_t *at, unsigned nlen, size_t i)
{
	unsigned l = 0;

	while (l < nlen && at[l + 1] <= i)
		l++;
	return l;
}

bool ipset_next(const struct ipset *s, size_t *pos, struct acl_prefix *p, uint64_t *value)
{
	size_t i = *pos;

	if (!s->frozen || i >= s->n4 + s->n6)
		return false;
	memset(p, 0, sizeof(*p));
	if (i < s->n4) {
		uint32_t be = htonl(s->v4[i].net);

		p->family = AF_INET;
		p->bits = (uint8_t)run_of(s->at4, 32, i);
		memcpy(p->addr, &be, 4);
		*value = VAL_OF(&s->v4[i]);
	} else {
		const struct v6e *e = &s->v6[i - s->n4];

		p->family = AF_INET6;
		p->bits = (uint8_t)run_of(s->at6, 128, i - s->n4);
		for (unsigned k = 0; k < 4; k++) {
			uint32_t be = htonl(e->w[k]);

			memcpy(p->addr + 4 * k, &be, 4);
		}
		*value = VAL_OF(e);
	}
	*pos = i + 1;
	return true;
}

size_t ipset_count(const struct ipset *s)
{
	return s->frozen ? s->n4 + s->n6 : s->nb;
}

size_t ipset_memory(const struct ipset *s)
{
	return sizeof(*s) + s->capb * sizeof(*s->b) +
	       (s->tab ? (s->mask + 1) * sizeof(*s->tab) : 0) + s->n4 * sizeof(*s->v4) +
	       s->n6 * sizeof(*s->v6);
}
