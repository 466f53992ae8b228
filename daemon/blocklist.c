/* SPDX-License-Identifier: MIT */
#include "blocklist.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <yaml.h>

#include "config.h"
#include "domainset.h"

/*
 * A policy is built in one pass over each file. YAML is read with libyaml's event API (no
 * document tree: a million-name list costs one event at a time). The domains of a group are
 * buffered in wire form until the group's mapping ends, because YAML lets the group's fields
 * follow its domains: list. Plain-text feeds (.txt, .list) are read line by line.
 *
 * Metadata is hash-consed: every distinct combination of fields is one meta_rec, and every
 * string is interned, so a group of a million bare names costs one ioc_meta. The value stored
 * in the block domainset is the meta index.
 */

#define NO_CONF (-1)
#define NO_ACTION (-1)
#define STR_CHUNK (64u * 1024)
/* Names without fields of their own are added in batches of this many (see flush_items). */
#define FLUSH_CHUNK 16384

/* Fields of an entry or a group while loading; absent fields have the sentinel values. */
struct fields {
	const char *malware, *threat_type, *source, *id, *reference; /* interned or NULL */
	int confidence;						     /* NO_CONF when absent */
	int action;						     /* NO_ACTION when absent */
	int64_t first_seen;					     /* INT64_MIN when absent */
	int64_t expires;					     /* INT64_MAX when absent */
};

static const struct fields FIELDS_NONE = {
	.confidence = NO_CONF,
	.action = NO_ACTION,
	.first_seen = INT64_MIN,
	.expires = INT64_MAX,
};

/* One distinct metadata combination; m comes first so lookups hand out &rec->m. */
struct meta_rec {
	struct ioc_meta m;
	uint32_t file_idx; /* the file whose entry set it (stats attribution) */
	int raw_action;	   /* as written (NO_ACTION, IOC_BLOCK, IOC_LOG), kept for merges */
};

/* Interned strings, in chunks that never move. */
struct strtab {
	char **chunks;
	size_t n_chunks, cap_chunks;
	char *cur;
	size_t left;
	const char **slots; /* open addressing; NULL = empty */
	size_t mask, count;
	size_t bytes;
};

struct policy {
	atomic_uint refs;
	struct domainset *block, *allow;
	struct meta_rec *metas;
	size_t n_metas, cap_metas;
	struct strtab strs;
	struct policy_stats stats;
	int min_confidence;
};

struct item {
	uint32_t off;  /* of the wire name in loader.names (length byte first) */
	uint32_t fidx; /* 0: a bare name; else 1 + index in loader.efs */
};

struct loader {
	struct policy *p;
	struct parse_errs *errs;
	size_t errs0;	  /* errors in errs before this load */
	const char *path; /* file named in errors */
	uint32_t file_idx;
	const char *file; /* interned, for ioc_meta.file */
	int64_t now;
	bool oom;

	uint32_t *mtab; /* meta hash-cons: 1 + meta index, 0 = empty */
	size_t mtab_mask;

	yaml_parser_t parser;
	yaml_event_t ev;
	bool have_ev, fatal;

	/* A group's buffered domains. */
	uint8_t *names;
	size_t names_used, names_cap;
	struct item *items;
	size_t n_items, cap_items;
	struct fields *efs;
	size_t n_efs, cap_efs;
};

/* ---- small helpers ---------------------------------------------------------------------- */

static const uint64_t H0 = 0xa0761d6478bd642fULL;
static const uint64_t H1 = 0xe7037ed1a0b428dbULL;

static inline uint64_t mum(uint64_t a, uint64_t b)
{
	__uint128_t r = (__uint128_t)a * b;

	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

static uint64_t hash_bytes(const void *data, size_t n)
{
	const uint8_t *s = data;
	uint64_t h = mum(n ^ H0, H1);

	for (; n >= 8; n -= 8, s += 8) {
		uint64_t v;

		memcpy(&v, s, 8);
		h = mum(v ^ H1, h ^ H0);
	}
	if (n) {
		uint64_t v = 0;

		memcpy(&v, s, n);
		h = mum(v ^ H0, h ^ H1);
	}
	return h;
}

static bool grow_array(void **v, size_t *cap, size_t need, size_t size)
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

static uint64_t random_seed(void)
{
	uint64_t seed;
	struct timespec ts;

	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) == (ssize_t)sizeof(seed))
		return seed;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return mum((uint64_t)ts.tv_nsec ^ H0, (uint64_t)ts.tv_sec ^ (uintptr_t)&seed);
}

/* ---- string interning ------------------------------------------------------------------- */

static void strtab_free(struct strtab *t)
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
static const char *strtab_intern(struct strtab *t, const char *s, size_t n)
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

/* ---- names ------------------------------------------------------------------------------ */

static inline uint8_t lower(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

/*
 * Bytes a name's label takes as they are (lowercased): printable ASCII but for '.', '\\' and
 * '*', which name_to_wire() looks at one by one. 0: not such a byte.
 */
static const uint8_t name_plain[256] = {
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x00, 0x2b, 0x2c, 0x2d, 0x00, 0x2f,
	0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f,
	0x40, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f,
	0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x5b, 0x00, 0x5d, 0x5e, 0x5f,
	0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f,
	0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x7b, 0x7c, 0x7d, 0x7e, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

/* Presentation (text[0..n)) to canonical wire form; see blocklist_name_to_wire(). */
static int name_to_wire(const char *text, size_t n, uint8_t out[255], const char **why)
{
	size_t i = 0, o = 1, lab = 0; /* o: next byte of out; lab: current label's length byte */
	bool star = false;	      /* the label so far is exactly one unescaped '*' */

	if (n == 0) {
		*why = "empty name";
		return -EINVAL;
	}
	if (n == 1 && text[0] == '.') {
		*why = "the root cannot be listed";
		return -EINVAL;
	}
	out[0] = 0;
	while (i < n) {
		size_t run = i;
		uint8_t c, l;

		/*
		 * Fast path: a run of plain bytes (most of every name), within the label and name
		 * limits. Whatever ends it (a dot, an escape, a limit, a bad byte) is handled below.
		 */
		while (i < n && (l = name_plain[(uint8_t)text[i]]) != 0 && o - lab - 1 < 63 &&
		       o + 1 < 255) {
			out[o++] = l;
			i++;
		}
		if (i != run) {
			star = false;
			continue;
		}
		c = (uint8_t)text[i];
		if (c == '.') {
			if (o == lab + 1) {
				*why = i == 0 ? "leading dot" : "empty label";
				return -EINVAL;
			}
			if (star)
				goto wildcard;
			out[lab] = (uint8_t)(o - lab - 1);
			lab = o++;
			i++;
			if (i == n) { /* trailing dot: o points past the root label slot */
				o--;
				break;
			}
			if (o > 255) {
				*why = "name longer than 255 bytes";
				return -EINVAL;
			}
			continue;
		}
		star = false;
		if (c == '\\') {
			if (i + 1 >= n) {
				*why = "bad escape";
				return -EINVAL;
			}
			if (text[i + 1] >= '0' && text[i + 1] <= '9') {
				unsigned v = 0;

				for (int k = 1; k <= 3; k++) {
					if (i + k >= n || text[i + k] < '0' || text[i + k] > '9') {
						*why = "bad escape: \\DDD needs three digits";
						return -EINVAL;
					}
					v = v * 10 + (unsigned)(text[i + k] - '0');
				}
				if (v > 255) {
					*why = "bad escape: \\DDD above 255";
					return -EINVAL;
				}
				c = (uint8_t)v;
				i += 4;
			} else {
				c = (uint8_t)text[i + 1];
				if (c <= ' ' || c >= 0x7f) {
					*why = "bad escape";
					return -EINVAL;
				}
				i += 2;
			}
		} else {
			if (c <= ' ' || c == 0x7f) {
				*why = c == 0 ? "NUL byte in name"
					      : "whitespace or control character inside a name";
				return -EINVAL;
			}
			if (c >= 0x80) {
				*why = "non-ASCII character: write the IDNA (xn--) form";
				return -EINVAL;
			}
			if (c == '*' && o == lab + 1)
				star = true;
			i++;
		}
		if (o - lab - 1 == 63) {
			*why = "label longer than 63 bytes";
			return -EINVAL;
		}
		if (o + 1 >= 255) { /* this byte, then at least the root label */
			*why = "name longer than 255 bytes";
			return -EINVAL;
		}
		out[o++] = lower(c);
	}
	if (star)
		goto wildcard;
	if (o > lab + 1) { /* close the last label (no trailing dot) */
		out[lab] = (uint8_t)(o - lab - 1);
		lab = o++;
	}
	if (lab >= 255) {
		*why = "name longer than 255 bytes";
		return -EINVAL;
	}
	out[lab] = 0;
	return (int)(lab + 1);
wildcard:
	*why = "wildcards are not needed: a listed domain matches all its subdomains";
	return -EINVAL;
}

int blocklist_name_to_wire(const char *text, uint8_t out[255], const char **why)
{
	const char *dummy;

	return name_to_wire(text, strlen(text), out, why ? why : &dummy);
}

/* ---- dates ------------------------------------------------------------------------------ */

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static bool digits(const char *s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

/*
 * YYYY-MM-DD (midnight UTC) or RFC 3339 (YYYY-MM-DDTHH:MM:SS[.frac](Z|+hh:mm|-hh:mm)). For
 * expires, a date means "after this day": the first inactive second is the next midnight, and
 * a fractional time rounds up.
 */
static bool parse_time(const char *s, size_t n, bool is_expires, int64_t *out)
{
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int y, mo, d, hh, mm, ss, oh = 0, om = 0, sign = 0, dim;
	bool frac = false;
	size_t i;
	int64_t t;

	if (n < 10 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' ||
	    !digits(s + 8, 2, &d))
		return false;
	if (mo < 1 || mo > 12)
		return false;
	dim = mdays[mo - 1] + (mo == 2 && (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)));
	if (d < 1 || d > dim)
		return false;
	t = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400;
	if (n == 10) {
		*out = is_expires ? t + 86400 : t;
		return true;
	}
	if (n < 20 || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !digits(s + 11, 2, &hh) ||
	    s[13] != ':' || !digits(s + 14, 2, &mm) || s[16] != ':' || !digits(s + 17, 2, &ss))
		return false;
	if (hh > 23 || mm > 59 || ss > 60)
		return false;
	i = 19;
	if (s[i] == '.') {
		size_t k = ++i;

		for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			if (s[i] != '0')
				frac = true;
		if (i == k)
			return false;
	}
	if (i == n - 1 && (s[i] == 'Z' || s[i] == 'z')) {
		sign = 0;
	} else if (i + 6 == n && (s[i] == '+' || s[i] == '-') && digits(s + i + 1, 2, &oh) &&
		   s[i + 3] == ':' && digits(s + i + 4, 2, &om)) {
		if (oh > 23 || om > 59)
			return false;
		sign = s[i] == '-' ? -1 : 1;
	} else {
		return false;
	}
	t += hh * 3600 + mm * 60 + ss - sign * (oh * 3600 + om * 60);
	if (frac && is_expires)
		t++;
	*out = t;
	return true;
}

/* ---- errors ----------------------------------------------------------------------------- */

static bool failed(const struct loader *ld)
{
	return ld->oom || ld->errs->n + ld->errs->dropped > ld->errs0;
}

static void set_oom(struct loader *ld)
{
	if (!ld->oom)
		perr_add(ld->errs, ld->path, 0, 0, "out of memory");
	ld->oom = true;
}

/* A printable, shortened copy of a scalar for messages. */
static const char *shown(const char *s, size_t n, char buf[80])
{
	size_t k = 0;

	for (size_t i = 0; i < n && k < 72; i++)
		buf[k++] = (s[i] < ' ' || s[i] == 0x7f) ? '?' : s[i];
	if (k < n)
		memcpy(buf + k, "...", 4);
	else
		buf[k] = 0;
	return buf;
}

/* ---- metadata --------------------------------------------------------------------------- */

static uint64_t meta_hash(const struct meta_rec *r)
{
	const struct ioc_meta *m = &r->m;
	uintptr_t v[11] = {
		(uintptr_t)m->malware, (uintptr_t)m->threat_type, (uintptr_t)m->source,
		(uintptr_t)m->id,      (uintptr_t)m->reference,   (uintptr_t)m->file,
		(uintptr_t)(uint32_t)m->confidence, (uintptr_t)m->first_seen,
		(uintptr_t)m->expires, (uintptr_t)m->action,
		(uintptr_t)(((uint64_t)r->file_idx << 8) | (uint8_t)r->raw_action),
	};

	return hash_bytes(v, sizeof(v));
}

static bool meta_equal(const struct meta_rec *a, const struct meta_rec *b)
{
	return a->m.malware == b->m.malware && a->m.threat_type == b->m.threat_type &&
	       a->m.source == b->m.source && a->m.id == b->m.id &&
	       a->m.reference == b->m.reference && a->m.file == b->m.file &&
	       a->m.confidence == b->m.confidence && a->m.first_seen == b->m.first_seen &&
	       a->m.expires == b->m.expires && a->m.action == b->m.action &&
	       a->file_idx == b->file_idx && a->raw_action == b->raw_action;
}

static struct fields fields_of(const struct meta_rec *r)
{
	struct fields f = {
		.malware = r->m.malware,
		.threat_type = r->m.threat_type,
		.source = r->m.source,
		.id = r->m.id,
		.reference = r->m.reference,
		.confidence = r->m.confidence,
		.action = r->raw_action,
		.first_seen = r->m.first_seen,
		.expires = r->m.expires,
	};

	return f;
}

/* top's present fields over base's. */
static struct fields overlay(const struct fields *base, const struct fields *top)
{
	struct fields f = *base;

	if (top->malware)
		f.malware = top->malware;
	if (top->threat_type)
		f.threat_type = top->threat_type;
	if (top->source)
		f.source = top->source;
	if (top->id)
		f.id = top->id;
	if (top->reference)
		f.reference = top->reference;
	if (top->confidence != NO_CONF)
		f.confidence = top->confidence;
	if (top->action != NO_ACTION)
		f.action = top->action;
	if (top->first_seen != INT64_MIN)
		f.first_seen = top->first_seen;
	if (top->expires != INT64_MAX)
		f.expires = top->expires;
	return f;
}

/* The index of the meta_rec for f in the current file; UINT32_MAX on ENOMEM. */
static uint32_t meta_intern(struct loader *ld, const struct fields *f)
{
	struct policy *p = ld->p;
	struct meta_rec r = {
		.m = {
			.malware = f->malware,
			.threat_type = f->threat_type,
			.source = f->source,
			.id = f->id,
			.reference = f->reference,
			.file = ld->file,
			.confidence = f->confidence,
			.first_seen = f->first_seen,
			.expires = f->expires,
		},
		.file_idx = ld->file_idx,
		.raw_action = f->action,
	};
	size_t i;

	r.m.action = (f->action == IOC_LOG ||
		      (f->confidence != NO_CONF && f->confidence < p->min_confidence))
			     ? IOC_LOG
			     : IOC_BLOCK;
	if (p->n_metas + 1 > (ld->mtab_mask + 1) / 2) {
		size_t ncap = ld->mtab ? (ld->mtab_mask + 1) * 2 : 64;
		uint32_t *nt = calloc(ncap, sizeof(*nt));

		if (!nt)
			goto oom;
		for (size_t j = 0; j < p->n_metas; j++) {
			for (i = meta_hash(&p->metas[j]) & (ncap - 1); nt[i];
			     i = (i + 1) & (ncap - 1))
				;
			nt[i] = (uint32_t)j + 1;
		}
		free(ld->mtab);
		ld->mtab = nt;
		ld->mtab_mask = ncap - 1;
	}
	for (i = meta_hash(&r) & ld->mtab_mask; ld->mtab[i]; i = (i + 1) & ld->mtab_mask) {
		if (meta_equal(&p->metas[ld->mtab[i] - 1], &r))
			return ld->mtab[i] - 1;
	}
	if (p->n_metas >= UINT32_MAX - 1 ||
	    !grow_array((void **)&p->metas, &p->cap_metas, p->n_metas + 1, sizeof(*p->metas)))
		goto oom;
	p->metas[p->n_metas] = r;
	ld->mtab[i] = (uint32_t)p->n_metas + 1;
	return (uint32_t)p->n_metas++;
oom:
	set_oom(ld);
	return UINT32_MAX;
}

/* ---- adding entries --------------------------------------------------------------------- */

static inline struct blocklist_file_stats *fstats(struct loader *ld, uint32_t idx)
{
	return &ld->p->stats.files[idx];
}

static void count_in(struct loader *ld, uint32_t midx, int sign)
{
	const struct meta_rec *r = &ld->p->metas[midx];
	struct blocklist_file_stats *fs = fstats(ld, r->file_idx);

	fs->block += (size_t)sign;
	if (r->m.action == IOC_LOG)
		fs->log += (size_t)sign;
}

/*
 * Add a block entry with fields f (midx: its meta if already known, else UINT32_MAX). A
 * name listed again merges: the later entry's present fields win over the earlier ones.
 */
static void add_block(struct loader *ld, const uint8_t *name, size_t len, const struct fields *f,
		      uint32_t midx)
{
	struct fields merged;
	uint32_t old;
	int rc;

	if (f->expires <= ld->now) {
		fstats(ld, ld->file_idx)->expired++;
		return;
	}
	if (midx == UINT32_MAX) {
		midx = meta_intern(ld, f);
		if (midx == UINT32_MAX)
			return;
	}
	rc = domainset_put(ld->p->block, name, len, midx, &old);
	if (rc < 0) {
		set_oom(ld);
		return;
	}
	if (rc == 0) {
		count_in(ld, midx, 1);
		return;
	}
	fstats(ld, ld->file_idx)->duplicates++;
	merged = fields_of(&ld->p->metas[old]);
	merged = overlay(&merged, f);
	midx = meta_intern(ld, &merged);
	if (midx == UINT32_MAX)
		return;
	if (domainset_put(ld->p->block, name, len, midx, NULL) < 0) {
		set_oom(ld);
		return;
	}
	count_in(ld, old, -1);
	count_in(ld, midx, 1);
}

static void add_allow(struct loader *ld, const uint8_t *name, size_t len)
{
	int rc = domainset_put(ld->p->allow, name, len, 0, NULL);

	if (rc < 0)
		set_oom(ld);
	else if (rc == 1)
		fstats(ld, ld->file_idx)->duplicates++;
	else
		fstats(ld, ld->file_idx)->allow++;
}

/* ---- YAML ------------------------------------------------------------------------------- */

#define EV_LINE(ld) ((int)(ld)->ev.start_mark.line + 1)
#define EV_COL(ld) ((int)(ld)->ev.start_mark.column + 1)

enum key {
	K_UNKNOWN,
	K_ALLOW,
	K_BLOCK,
	K_DOMAIN,
	K_DOMAINS,
	K_MALWARE,
	K_THREAT_TYPE,
	K_SOURCE,
	K_CONFIDENCE,
	K_FIRST_SEEN,
	K_EXPIRES,
	K_ACTION,
	K_ID,
	K_REFERENCE,
};

static const char *const key_names[] = {
	[K_ALLOW] = "allow",	       [K_BLOCK] = "block",	    [K_DOMAIN] = "domain",
	[K_DOMAINS] = "domains",       [K_MALWARE] = "malware",	    [K_THREAT_TYPE] = "threat_type",
	[K_SOURCE] = "source",	       [K_CONFIDENCE] = "confidence", [K_FIRST_SEEN] = "first_seen",
	[K_EXPIRES] = "expires",       [K_ACTION] = "action",	    [K_ID] = "id",
	[K_REFERENCE] = "reference",
};

static enum key key_of(const char *s)
{
	for (size_t k = K_ALLOW; k < sizeof(key_names) / sizeof(key_names[0]); k++)
		if (strcmp(s, key_names[k]) == 0)
			return (enum key)k;
	return K_UNKNOWN;
}

static void err_at(struct loader *ld, int line, int col, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void err_at(struct loader *ld, int line, int col, const char *fmt, ...)
{
	char msg[sizeof(((struct parse_err *)0)->msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	perr_add(ld->errs, ld->path, line, col, "%s", msg);
}

/* Advance to the next event; false on a YAML syntax error (reported; the file is abandoned). */
static bool next(struct loader *ld)
{
	if (ld->have_ev) {
		yaml_event_delete(&ld->ev);
		ld->have_ev = false;
	}
	if (ld->fatal)
		return false;
	if (!yaml_parser_parse(&ld->parser, &ld->ev)) {
		const yaml_mark_t *mk = ld->parser.problem_mark.line || ld->parser.problem_mark.column
						? &ld->parser.problem_mark
						: &ld->parser.context_mark;

		if (ld->parser.error == YAML_MEMORY_ERROR)
			set_oom(ld);
		else
			perr_add(ld->errs, ld->path, (int)mk->line + 1, (int)mk->column + 1,
				 "YAML: %s%s%s",
				 ld->parser.problem ? ld->parser.problem : "syntax error",
				 ld->parser.context ? " " : "",
				 ld->parser.context ? ld->parser.context : "");
		ld->fatal = true;
		return false;
	}
	ld->have_ev = true;
	return true;
}

/* Consume the node starting at the current event; leaves its last event current. */
static bool skip_node(struct loader *ld)
{
	int depth = 0;

	do {
		switch (ld->ev.type) {
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			depth++;
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			depth--;
			break;
		default:
			break;
		}
		if (depth == 0)
			return true;
	} while (next(ld));
	return false;
}

static const char *node_kind(const struct loader *ld)
{
	switch (ld->ev.type) {
	case YAML_SEQUENCE_START_EVENT:
		return "a list";
	case YAML_MAPPING_START_EVENT:
		return "a mapping";
	case YAML_ALIAS_EVENT:
		return "an alias (aliases are not supported)";
	default:
		return "a string";
	}
}

/* Report "what: expected X, got Y" at the current node and skip it. */
static bool type_error(struct loader *ld, const char *what, const char *expected)
{
	err_at(ld, EV_LINE(ld), EV_COL(ld), "%s: expected %s, got %s", what, expected,
	       node_kind(ld));
	return skip_node(ld);
}

static bool is_scalar(const struct loader *ld)
{
	return ld->ev.type == YAML_SCALAR_EVENT;
}

static const char *sval(const struct loader *ld)
{
	return (const char *)ld->ev.data.scalar.value;
}

static size_t slen(const struct loader *ld)
{
	return ld->ev.data.scalar.length;
}

static bool is_null(const struct loader *ld)
{
	const char *s = sval(ld);

	if (!is_scalar(ld) || ld->ev.data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	switch (slen(ld)) { /* YAML 1.1's null: empty, ~, null, Null, NULL */
	case 0:
		return true;
	case 1:
		return s[0] == '~';
	case 4:
		return strcmp(s, "null") == 0 || strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0;
	default:
		return false;
	}
}

/* The current scalar as a wire name; length, or -EINVAL (reported at the node). */
static int scalar_name(struct loader *ld, uint8_t out[255])
{
	const char *why;
	char buf[80];
	int n;

	if (is_null(ld))
		n = name_to_wire("", 0, out, &why);
	else
		n = name_to_wire(sval(ld), slen(ld), out, &why);
	if (n < 0)
		err_at(ld, EV_LINE(ld), EV_COL(ld), "invalid domain \"%s\": %s",
		       shown(sval(ld), slen(ld), buf), why);
	return n;
}

/*
 * Read the next key of a mapping: 1 with the key and its position (its value comes next),
 * 0 at the end of the mapping, -1 when the document ends early or parsing failed. A key that
 * is not a string is reported and skipped with its value.
 */
static int next_key(struct loader *ld, enum key *k, int *line, int *col)
{
	while (next(ld)) {
		if (ld->ev.type == YAML_MAPPING_END_EVENT)
			return 0;
		if (!is_scalar(ld)) {
			err_at(ld, EV_LINE(ld), EV_COL(ld), "keys must be strings");
			if (!skip_node(ld) || !next(ld) || !skip_node(ld))
				return -1;
			continue;
		}
		*line = EV_LINE(ld);
		*col = EV_COL(ld);
		*k = key_of(sval(ld));
		return 1;
	}
	return -1;
}

/* Report a key seen before in the same mapping (seen: one bit per key). */
static void check_duplicate(struct loader *ld, unsigned *seen, enum key k, int line, int col)
{
	if (*seen & (1u << k))
		err_at(ld, line, col, "duplicate key \"%s\"", key_names[k]);
	*seen |= 1u << k;
}

static bool parse_allow(struct loader *ld)
{
	uint8_t wire[255];

	if (is_null(ld))
		return true;
	if (ld->ev.type != YAML_SEQUENCE_START_EVENT)
		return type_error(ld, "allow", "a list of domains");
	while (next(ld)) {
		int n;

		if (ld->ev.type == YAML_SEQUENCE_END_EVENT)
			return true;
		if (!is_scalar(ld)) {
			if (!type_error(ld, "allow", "a domain name"))
				return false;
			continue;
		}
		n = scalar_name(ld, wire);
		if (n > 0 && !failed(ld))
			add_allow(ld, wire, (size_t)n);
	}
	return false;
}

/* Parse the value of field k into f. */
static bool parse_field(struct loader *ld, enum key k, struct fields *f)
{
	const char *name = key_names[k];
	const char *s;
	char buf[80];

	if (!is_scalar(ld))
		return type_error(ld, name,
				  k == K_CONFIDENCE ? "an integer 0-100"
				  : k == K_FIRST_SEEN || k == K_EXPIRES ? "a date"
				  : k == K_ACTION			  ? "block or log"
									  : "a string");
	if (is_null(ld))
		return true; /* absent: inherit */
	s = sval(ld);
	switch (k) {
	case K_CONFIDENCE: {
		int v = 0;
		size_t n = slen(ld);

		if (ld->ev.data.scalar.style != YAML_PLAIN_SCALAR_STYLE || n == 0 || n > 3 ||
		    !digits(s, (int)n, &v) || v > 100) {
			err_at(ld, EV_LINE(ld), EV_COL(ld),
			       "confidence: expected an integer 0-100, got \"%s\"",
			       shown(s, slen(ld), buf));
			return true;
		}
		f->confidence = v;
		return true;
	}
	case K_FIRST_SEEN:
	case K_EXPIRES: {
		int64_t t;

		if (!parse_time(s, slen(ld), k == K_EXPIRES, &t)) {
			err_at(ld, EV_LINE(ld), EV_COL(ld),
			       "%s: expected a date YYYY-MM-DD or an RFC 3339 time, got \"%s\"", name,
			       shown(s, slen(ld), buf));
			return true;
		}
		if (k == K_EXPIRES)
			f->expires = t;
		else
			f->first_seen = t;
		return true;
	}
	case K_ACTION:
		if (strcmp(s, "block") == 0) {
			f->action = IOC_BLOCK;
		} else if (strcmp(s, "log") == 0) {
			f->action = IOC_LOG;
		} else {
			err_at(ld, EV_LINE(ld), EV_COL(ld),
			       "action: expected block or log, got \"%s\"", shown(s, slen(ld), buf));
		}
		return true;
	default: {
		const char *v = strtab_intern(&ld->p->strs, s, slen(ld));

		if (!v) {
			set_oom(ld);
			return true;
		}
		if (k == K_MALWARE)
			f->malware = v;
		else if (k == K_THREAT_TYPE)
			f->threat_type = v;
		else if (k == K_SOURCE)
			f->source = v;
		else if (k == K_ID)
			f->id = v;
		else
			f->reference = v;
		return true;
	}
	}
}

/* Buffer one name of a group's domains: list; fidx as in struct item. */
static void push_item(struct loader *ld, const uint8_t *wire, size_t n, uint32_t fidx)
{
	if (failed(ld))
		return;
	if (ld->names_used + n > UINT32_MAX ||
	    !grow_array((void **)&ld->names, &ld->names_cap, ld->names_used + n, 1) ||
	    !grow_array((void **)&ld->items, &ld->cap_items, ld->n_items + 1, sizeof(*ld->items))) {
		set_oom(ld);
		return;
	}
	ld->items[ld->n_items].off = (uint32_t)ld->names_used;
	ld->items[ld->n_items].fidx = fidx;
	ld->n_items++;
	memcpy(ld->names + ld->names_used, wire, n);
	ld->names_used += n;
}

static bool parse_mapping(struct loader *ld, bool in_group);

static bool parse_domains(struct loader *ld)
{
	uint8_t wire[255];

	if (is_null(ld))
		return true;
	if (ld->ev.type != YAML_SEQUENCE_START_EVENT)
		return type_error(ld, "domains", "a list");
	while (next(ld)) {
		int n;

		switch (ld->ev.type) {
		case YAML_SEQUENCE_END_EVENT:
			return true;
		case YAML_SCALAR_EVENT:
			n = scalar_name(ld, wire);
			if (n > 0)
				push_item(ld, wire, (size_t)n, 0);
			break;
		case YAML_MAPPING_START_EVENT:
			if (!parse_mapping(ld, true))
				return false;
			break;
		default:
			if (!type_error(ld, "domains", "a domain name or an entry mapping"))
				return false;
		}
	}
	return false;
}

static void clear_items(struct loader *ld)
{
	ld->n_items = 0;
	ld->names_used = 0;
	ld->n_efs = 0;
}

static inline size_t item_len(const struct loader *ld, size_t i)
{
	return (i + 1 < ld->n_items ? ld->items[i + 1].off : ld->names_used) - ld->items[i].off;
}

/*
 * Add the buffered names with the group fields g (entries overlay their own), then empty the
 * buffer. Bulk path: room is reserved up front and each name's table slot is prefetched a few
 * names ahead, so the cache misses of a million random slots overlap.
 */
static void flush_items(struct loader *ld, const struct fields *g)
{
	enum { AHEAD = 8 };
	uint32_t gmeta = UINT32_MAX;

	if (ld->n_items && !failed(ld) &&
	    domainset_reserve(ld->p->block, ld->n_items, ld->names_used) < 0)
		set_oom(ld);
	for (size_t i = 0; i < ld->n_items && !failed(ld); i++) {
		const struct item *it = &ld->items[i];
		const uint8_t *name = ld->names + it->off;
		size_t len = item_len(ld, i);

		if (i + AHEAD < ld->n_items)
			domainset_prefetch(ld->p->block, ld->names + ld->items[i + AHEAD].off,
					   item_len(ld, i + AHEAD));

		if (it->fidx) {
			struct fields f = overlay(g, &ld->efs[it->fidx - 1]);

			add_block(ld, name, len, &f, UINT32_MAX);
			continue;
		}
		if (gmeta == UINT32_MAX && g->expires > ld->now) {
			gmeta = meta_intern(ld, g);
			if (gmeta == UINT32_MAX)
				return;
		}
		add_block(ld, name, len, g, gmeta);
	}
	clear_items(ld);
}

/*
 * A mapping in block: (an entry with domain:, or a group with domains:) or, with in_group,
 * an entry inside a group's domains:. The current event is its MAPPING_START.
 */
static bool parse_mapping(struct loader *ld, bool in_group)
{
	int line = EV_LINE(ld), col = EV_COL(ld);
	struct fields f = FIELDS_NONE;
	uint8_t wire[255];
	int wlen = 0;
	bool have_domain = false, have_domains = false, both = false;
	unsigned seen = 0;

	if (!in_group)
		flush_items(ld, &FIELDS_NONE); /* bare names of block: listed before this entry */
	for (;;) {
		int kline, kcol, r;
		enum key k;
		char buf[80];

		r = next_key(ld, &k, &kline, &kcol);
		if (r < 0)
			return false;
		if (r == 0)
			goto end;
		if (k == K_UNKNOWN || k == K_ALLOW || k == K_BLOCK || (in_group && k == K_DOMAINS)) {
			if (in_group && k == K_DOMAINS)
				err_at(ld, kline, kcol,
				       "domains: an entry inside a group's domains cannot be a group");
			else
				err_at(ld, kline, kcol,
				       "unknown key \"%s\" (expected domain, domains, malware, "
				       "threat_type, source, confidence, first_seen, expires, action, "
				       "id, reference)",
				       shown(sval(ld), slen(ld), buf));
			if (!next(ld) || !skip_node(ld))
				return false;
			continue;
		}
		check_duplicate(ld, &seen, k, kline, kcol);
		if ((k == K_DOMAIN && have_domains) || (k == K_DOMAINS && have_domain)) {
			err_at(ld, kline, kcol,
			       "a mapping has either domain: (one entry) or domains: (a group), "
			       "not both");
			both = true;
		}
		if (!next(ld))
			return false;
		if (k == K_DOMAIN) {
			have_domain = true;
			if (!is_scalar(ld)) {
				if (!type_error(ld, "domain", "a domain name"))
					return false;
				continue;
			}
			wlen = scalar_name(ld, wire);
		} else if (k == K_DOMAINS) {
			have_domains = true;
			if (!parse_domains(ld))
				return false;
		} else if (!parse_field(ld, k, &f)) {
			return false;
		}
	}
end:
	if (!have_domain && !have_domains)
		err_at(ld, line, col,
		       in_group ? "an entry needs domain:"
				: "an entry needs domain: (or a group domains:)");
	if ((!have_domain && !have_domains) || both || wlen < 0 || failed(ld)) {
		if (!in_group)
			clear_items(ld);
		return true;
	}
	if (in_group) {
		if (!grow_array((void **)&ld->efs, &ld->cap_efs, ld->n_efs + 1, sizeof(*ld->efs))) {
			set_oom(ld);
			return true;
		}
		ld->efs[ld->n_efs++] = f;
		push_item(ld, wire, (size_t)wlen, (uint32_t)ld->n_efs);
	} else if (have_domain) {
		add_block(ld, wire, (size_t)wlen, &f, UINT32_MAX);
	} else {
		flush_items(ld, &f);
	}
	return true;
}

static bool parse_block(struct loader *ld)
{
	uint8_t wire[255];

	if (is_null(ld))
		return true;
	if (ld->ev.type != YAML_SEQUENCE_START_EVENT)
		return type_error(ld, "block", "a list");
	while (next(ld)) {
		int n;

		switch (ld->ev.type) {
		case YAML_SEQUENCE_END_EVENT:
			flush_items(ld, &FIELDS_NONE);
			return true;
		case YAML_SCALAR_EVENT:
			/* Buffered, to be added in bulk (in order) with the next entry. */
			n = scalar_name(ld, wire);
			if (n > 0)
				push_item(ld, wire, (size_t)n, 0);
			if (ld->n_items >= FLUSH_CHUNK)
				flush_items(ld, &FIELDS_NONE);
			break;
		case YAML_MAPPING_START_EVENT:
			if (!parse_mapping(ld, false))
				return false;
			break;
		default:
			if (!type_error(ld, "block", "a domain name, an entry or a group"))
				return false;
		}
	}
	return false;
}

static bool parse_top(struct loader *ld)
{
	unsigned seen = 0;

	for (;;) {
		int kline, kcol, r;
		enum key k;
		char buf[80];

		r = next_key(ld, &k, &kline, &kcol);
		if (r <= 0)
			return r == 0;
		if (k != K_ALLOW && k != K_BLOCK) {
			err_at(ld, kline, kcol, "unknown key \"%s\" (expected allow or block)",
			       shown(sval(ld), slen(ld), buf));
			if (!next(ld) || !skip_node(ld))
				return false;
			continue;
		}
		check_duplicate(ld, &seen, k, kline, kcol);
		if (!next(ld))
			return false;
		if (!(k == K_ALLOW ? parse_allow(ld) : parse_block(ld)))
			return false;
	}
}

static void parse_yaml(struct loader *ld, const char *text, size_t len)
{
	if (!yaml_parser_initialize(&ld->parser)) {
		set_oom(ld);
		return;
	}
	yaml_parser_set_input_string(&ld->parser, (const unsigned char *)text, len);
	if (!next(ld) || ld->ev.type != YAML_STREAM_START_EVENT || !next(ld))
		goto out;
	if (ld->ev.type == YAML_STREAM_END_EVENT) /* empty file */
		goto out;
	if (!next(ld)) /* past DOCUMENT_START */
		goto out;
	if (ld->ev.type == YAML_MAPPING_START_EVENT) {
		if (!parse_top(ld))
			goto out;
	} else if (!is_null(ld)) {
		err_at(ld, EV_LINE(ld), EV_COL(ld),
		       "a blocklist is a mapping with allow: and block:, got %s", node_kind(ld));
		if (!skip_node(ld))
			goto out;
	}
	if (!next(ld) || !next(ld)) /* DOCUMENT_END, then STREAM_END or another document */
		goto out;
	if (ld->ev.type == YAML_DOCUMENT_START_EVENT)
		err_at(ld, EV_LINE(ld), EV_COL(ld), "only one YAML document per blocklist file");
out:
	if (ld->have_ev)
		yaml_event_delete(&ld->ev);
	ld->have_ev = false;
	yaml_parser_delete(&ld->parser);
	ld->fatal = false;
}

/* ---- plain text (.txt, .list) ----------------------------------------------------------- */

static inline bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* Hosts-file boilerplate that must not become a block entry. */
static bool hosts_boilerplate(const char *s, size_t n)
{
	static const char *const names[] = {"localhost", "localhost.localdomain", "local",
					    "broadcasthost", "ip6-localhost", "ip6-loopback",
					    "ip6-localnet", "ip6-mcastprefix", "ip6-allnodes",
					    "ip6-allrouters", "ip6-allhosts", "0.0.0.0"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i]) == n && memcmp(names[i], s, n) == 0)
			return true;
	return false;
}

/* True when s[0, n) is an IPv4 or IPv6 address (an optional %scope allowed): a hosts line. */
static bool is_ip(const char *s, size_t n)
{
	char buf[INET6_ADDRSTRLEN + 16];
	uint8_t a[16];
	const char *pct;

	if (n == 0 || n >= sizeof(buf))
		return false;
	memcpy(buf, s, n);
	buf[n] = 0;
	pct = strchr(buf, '%');
	if (pct)
		buf[pct - buf] = 0;
	return inet_pton(AF_INET, buf, a) == 1 || inet_pton(AF_INET6, buf, a) == 1;
}

/* Add one name of a text list at line:col (1-based), reporting it if invalid. */
static void text_name(struct loader *ld, const char *s, size_t n, int line, int col)
{
	uint8_t wire[255];
	const char *why;
	char buf[80];
	int len = name_to_wire(s, n, wire, &why);

	if (len < 0) {
		err_at(ld, line, col, "invalid domain \"%s\": %s", shown(s, n, buf), why);
		return;
	}
	push_item(ld, wire, (size_t)len, 0);
	if (ld->n_items >= FLUSH_CHUNK)
		flush_items(ld, &FIELDS_NONE);
}

/*
 * One domain per line, or hosts-file lines ("0.0.0.0 a.example b.example"): an address,
 * then names (the usual boilerplate such as localhost is skipped). '#' starts a comment.
 */
static void parse_text(struct loader *ld, const char *text, size_t len)
{
	const char *p = text, *end = text + len;
	int line = 0;

	while (p < end && !ld->oom) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *bol = p, *s = p, *e = eol ? eol : end, *hash, *tok;
		bool hosts = false;

		p = eol ? eol + 1 : end;
		line++;
		while (s < e && is_space(*s))
			s++;
		if (s == e || *s == '#')
			continue;
		/* A comment after the names: " #..." */
		for (hash = s; (hash = memchr(hash, '#', (size_t)(e - hash))); hash++) {
			if (is_space(hash[-1])) {
				e = hash;
				break;
			}
		}
		while (e > s && is_space(e[-1]))
			e--;
		for (tok = s; tok < e && !is_space(*tok); tok++)
			;
		if (tok == e) {
			/* The common case: one domain on the line. */
			text_name(ld, s, (size_t)(e - s), line, (int)(s - bol) + 1);
			continue;
		}
		hosts = is_ip(s, (size_t)(tok - s));
		if (!hosts) {
			err_at(ld, line, (int)(tok - bol) + 1,
			       "expected one domain per line (or a hosts-file line: an address, "
			       "then names)");
			continue;
		}
		for (s = tok; s < e;) {
			while (s < e && is_space(*s))
				s++;
			for (tok = s; tok < e && !is_space(*tok); tok++)
				;
			if (tok > s && !hosts_boilerplate(s, (size_t)(tok - s)))
				text_name(ld, s, (size_t)(tok - s), line, (int)(s - bol) + 1);
			s = tok;
		}
	}
	flush_items(ld, &FIELDS_NONE);
}

/* ---- loading ---------------------------------------------------------------------------- */

static bool is_text_path(const char *path)
{
	size_t n = strlen(path);

	return (n >= 4 && strcmp(path + n - 4, ".txt") == 0) ||
	       (n >= 5 && strcmp(path + n - 5, ".list") == 0);
}

/*
 * The whole file, read-only: a private mapping of a regular file (no copy, no fresh pages to
 * zero), else read into a malloc'd buffer. *mapped says which; release with unread_file().
 */
static int read_file(const char *path, char **out, size_t *len, bool *mapped)
{
	struct stat st;
	char *buf = NULL;
	size_t got = 0, cap;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		goto fail;
	}
	if (S_ISREG(st.st_mode) && st.st_size > 0) {
		void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd,
			       0);

		if (m != MAP_FAILED) {
			close(fd);
			*out = m;
			*len = (size_t)st.st_size;
			*mapped = true;
			return 0;
		}
	}
	cap = 4096;
	buf = malloc(cap);
	if (!buf) {
		rc = -ENOMEM;
		goto fail;
	}
	for (;;) {
		ssize_t r;

		if (got == cap) {
			char *nb = realloc(buf, cap * 2);

			if (!nb) {
				rc = -ENOMEM;
				goto fail;
			}
			buf = nb;
			cap *= 2;
		}
		r = read(fd, buf + got, cap - got);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			goto fail;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	*out = buf;
	*len = got;
	*mapped = false;
	return 0;
fail:
	free(buf);
	close(fd);
	return rc;
}

static void unread_file(char *text, size_t len, bool mapped)
{
	if (mapped)
		munmap(text, len);
	else
		free(text);
}

static struct policy *policy_new(size_t n_files, int min_confidence)
{
	struct policy *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	atomic_init(&p->refs, 1);
	p->min_confidence = min_confidence;
	p->block = domainset_new(random_seed());
	p->allow = domainset_new(random_seed());
	p->stats.files = calloc(n_files ? n_files : 1, sizeof(*p->stats.files));
	p->stats.n_files = n_files;
	if (!p->block || !p->allow || !p->stats.files) {
		policy_free(p);
		return NULL;
	}
	return p;
}

static void loader_deinit(struct loader *ld)
{
	free(ld->mtab);
	free(ld->names);
	free(ld->items);
	free(ld->efs);
}

static void finish(struct policy *p)
{
	struct policy_stats *st = &p->stats;

	st->block = domainset_count(p->block);
	st->allow = domainset_count(p->allow);
	st->memory = sizeof(*p) + domainset_memory(p->block) + domainset_memory(p->allow) +
		     p->cap_metas * sizeof(*p->metas) + p->strs.bytes +
		     p->strs.n_chunks * sizeof(char *) + (p->strs.mask + 1) * sizeof(char *) +
		     st->n_files * sizeof(*st->files);
}

/* Load one file's text into ld->p as file number idx. */
static void load_one(struct loader *ld, uint32_t idx, const char *path, const char *name,
		     const char *text, size_t len, bool plain)
{
	ld->path = path;
	ld->file_idx = idx;
	ld->file = strtab_intern(&ld->p->strs, name, strlen(name));
	if (!ld->file) {
		set_oom(ld);
		return;
	}
	ld->p->stats.files[idx].file = ld->file;
	if (plain)
		parse_text(ld, text, len);
	else
		parse_yaml(ld, text, len);
}

struct policy *policy_load(const struct config *cfg, int64_t now, struct parse_errs *errs)
{
	struct loader ld = {.errs = errs, .errs0 = errs->n + errs->dropped, .now = now};

	ld.p = policy_new(cfg->n_blocklists, cfg->sinkhole.min_confidence);
	if (!ld.p) {
		perr_add(errs, cfg->path ? cfg->path : "blocklist", 0, 0, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < cfg->n_blocklists && !ld.oom; i++) {
		const char *path = cfg->blocklists[i];
		const char *name = cfg->blocklist_names ? cfg->blocklist_names[i] : path;
		char *text = NULL;
		size_t len = 0;
		bool mapped = false;
		int rc = read_file(path, &text, &len, &mapped);

		if (rc < 0) {
			perr_add(errs, path, 0, 0, "cannot read blocklist: %s", strerror(-rc));
			continue;
		}
		load_one(&ld, (uint32_t)i, path, name, text, len, is_text_path(path));
		unread_file(text, len, mapped);
	}
	loader_deinit(&ld);
	if (failed(&ld)) {
		policy_free(ld.p);
		return NULL;
	}
	finish(ld.p);
	return ld.p;
}

struct policy *policy_load_string(const char *text, size_t len, const char *file,
				  int min_confidence, int64_t now, struct parse_errs *errs)
{
	struct loader ld = {.errs = errs, .errs0 = errs->n + errs->dropped, .now = now};

	ld.p = policy_new(1, min_confidence);
	if (!ld.p) {
		perr_add(errs, file, 0, 0, "out of memory");
		return NULL;
	}
	load_one(&ld, 0, file, file, text, len, false);
	loader_deinit(&ld);
	if (failed(&ld)) {
		policy_free(ld.p);
		return NULL;
	}
	finish(ld.p);
	return ld.p;
}

/* ---- snapshot --------------------------------------------------------------------------- */

void policy_acquire(struct policy *p)
{
	atomic_fetch_add_explicit(&p->refs, 1, memory_order_relaxed);
}

bool policy_release(struct policy *p)
{
	return atomic_fetch_sub_explicit(&p->refs, 1, memory_order_acq_rel) == 1;
}

void policy_free(struct policy *p)
{
	if (!p)
		return;
	domainset_free(p->block);
	domainset_free(p->allow);
	free(p->metas);
	strtab_free(&p->strs);
	free(p->stats.files);
	free(p);
}

const struct policy_stats *policy_stats(const struct policy *p)
{
	return &p->stats;
}

void policy_lookup(const struct policy *p, const uint8_t *name, size_t len, int64_t now,
		   struct policy_match *m)
{
	size_t start = 0;
	uint32_t v;
	int off;

	m->verdict = VERDICT_PASS;
	m->meta = NULL;
	m->rule_off = -1;
	if (domainset_count(p->allow)) {
		off = domainset_match(p->allow, name, len, 0, &v);
		if (off >= 0) {
			m->verdict = VERDICT_ALLOW;
			m->rule_off = off;
			return;
		}
	}
	while ((off = domainset_match(p->block, name, len, start, &v)) >= 0) {
		const struct ioc_meta *meta = &p->metas[v].m;

		if (now < meta->expires) {
			m->verdict = meta->action == IOC_LOG ? VERDICT_LOG : VERDICT_BLOCK;
			m->meta = meta;
			m->rule_off = off;
			return;
		}
		/* The longest listed suffix has expired: a shorter one may still be active. */
		start = (size_t)off + name[off] + 1;
	}
}
