/* SPDX-License-Identifier: MIT */
#include "policy/policy.h"

#include <errno.h>
#include <arpa/inet.h>
#include <inttypes.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "formats/format.h"
#include "policy/builder.h"
#include "policy/domainset.h"
#include "policy/ipset.h"
#include "policy/strtab.h"
#include "util.h"
#include "util/hash.h"
#include "util/name.h"
#include "util/readfile.h"

/*
 * A policy is built one list at a time. A list's format parser hands every entry to the
 * list_builder, which resolves its fields (entry over group over the list's defaults), drops
 * it if already expired, and stages it: its wire name in an arena and its metadata index.
 * When the list ends and is accepted, the staged entries go into the policy's sets in bulk
 * (room reserved up front, table slots prefetched a few names ahead, so the cache misses of a
 * million random slots overlap). A rejected list stages the entries it had in the previous
 * snapshot instead (keep-last-good), so one broken feed never lowers protection.
 *
 * IP indicators (prefixes) go the same way as names: a staged prefix sits in the names arena
 * as a key no wire name can be (key_of_prefix), so groups, keep-last-good and merging serve
 * both, and commit() puts each key into the domainset or the ipset it belongs to.
 *
 * Metadata is hash-consed: every distinct combination of fields is one meta_rec, and every
 * string is interned, so a list of a million bare names costs one ioc_meta. The value stored
 * in the block sets is the meta index; in the allow sets it is the list index and the match
 * kind. A numeric IOC id (a ThreatFox row's) stays out of the meta, which every row of a
 * submission then shares: it is the upper half of the entry's 64-bit value (where a meta of
 * its own would cost a meta_rec and its id's string more).
 */

/* A list whose invalid share exceeds 1 / REJECT_SHARE is rejected whole. */
#define REJECT_SHARE 10
/* Invalid entries of one list reported one by one; the rest are counted. */
#define WARN_MAX 10
/* An allow entry's value: its list's index, then its match kind in these low bits. */
#define ALLOW_MATCH_BITS 2u

const struct entry_fields entry_fields_none = ENTRY_FIELDS_NONE;

/* One distinct metadata combination (m.list: the list whose entry set it, for the counts). */
struct meta_rec {
	struct ioc_meta m;
};
/* A ThreatFox export has a meta per submission of about ten rows: keep it small. */
_Static_assert(sizeof(struct meta_rec) <= 80, "struct ioc_meta grew");

struct policy {
	atomic_uint refs;
	struct domainset *block, *allow;
	struct ipset *block_ip, *allow_ip; /* IP indicators: the same values as block, allow */
	struct meta_rec *metas;
	size_t n_metas, cap_metas;
	struct strtab strs;
	struct policy_stats stats;
	int min_confidence;
};

/*
 * A staged entry: its name in list_builder.names, its meta (or, pending, 0 / 1 + efs) and,
 * resolved, its numeric IOC id (0: none).
 */
struct item {
	uint32_t off;
	uint32_t val;
	uint32_t id;
};

struct list_builder {
	struct policy *p;
	struct parse_errs *errs, *warns;
	int64_t now;
	bool oom;

	uint64_t *mtab; /* meta hash-cons: hash << 32 | (1 + meta index), 0 = empty */
	size_t mtab_mask, mtab_used;
	const char *unique_id; /* the last lb_intern_unique() string */

	/* The list being loaded. */
	const char *path; /* named in errors */
	uint32_t file_idx;
	const char *file; /* interned, for ioc_meta.file */
	bool error;	  /* a structural error: the list is rejected */
	struct entry_fields defaults;
	int64_t expires_after; /* seconds; 0 = none */
	bool required;	       /* without a good version the snapshot cannot be built */
	size_t entries;	       /* entries given, valid ones (for the invalid share) */
	size_t invalid;
	uint32_t bare_meta; /* meta of a bare name outside groups, UINT32_MAX = not known yet */
	bool in_group;

	/* Staged entries of the list. */
	uint8_t *names;
	size_t names_used, names_cap;
	struct item *items;
	size_t n_items, cap_items, n_resolved;
	struct entry_fields *efs;
	size_t n_efs, cap_efs;
	uint8_t *allows; /* records: match, then the wire name */
	size_t allows_used, allows_cap;
};

/* ---- metadata --------------------------------------------------------------------------- */

static uint64_t meta_hash(const struct meta_rec *r)
{
	const struct ioc_meta *m = &r->m;
	uint32_t v6[4];
	uintptr_t v[18] = {
	    (uintptr_t)m->malware,
	    (uintptr_t)m->threat_type,
	    (uintptr_t)m->source,
	    (uintptr_t)m->id,
	    (uintptr_t)m->reference,
	    (uintptr_t)m->file,
	    (uintptr_t)(uint32_t)m->confidence,
	    (uintptr_t)m->first_seen,
	    (uintptr_t)m->expires,
	    (uintptr_t)m->action,
	    (uintptr_t)m->match,
	    (uintptr_t)(((uint64_t)m->list << 8) | (uint8_t)m->action_given),
	    (uintptr_t)((unsigned)m->answer << 8 | m->local),
	};

	/* The addresses by value: a meta being looked up points at the builder's copy. */
	if (m->addrs) {
		memcpy(&v[13], m->addrs->ipv4, sizeof(m->addrs->ipv4)); /* the rest stays zero */
		memcpy(v6, m->addrs->ipv6, sizeof(v6));
		for (size_t i = 0; i < 4; i++)
			v[14 + i] = v6[i];
	}
	return hash_bytes(v, sizeof(v));
}

static bool meta_equal(const struct meta_rec *a, const struct meta_rec *b)
{
	return a->m.malware == b->m.malware && a->m.threat_type == b->m.threat_type &&
	       a->m.source == b->m.source && a->m.id == b->m.id &&
	       a->m.reference == b->m.reference && a->m.file == b->m.file &&
	       a->m.confidence == b->m.confidence && a->m.first_seen == b->m.first_seen &&
	       a->m.expires == b->m.expires && a->m.action == b->m.action &&
	       a->m.match == b->m.match && a->m.list == b->m.list &&
	       a->m.action_given == b->m.action_given && a->m.answer == b->m.answer &&
	       a->m.local == b->m.local && !a->m.addrs == !b->m.addrs &&
	       (!a->m.addrs || memcmp(a->m.addrs, b->m.addrs, sizeof(*a->m.addrs)) == 0);
}

static struct entry_fields fields_of(const struct meta_rec *r)
{
	struct entry_fields f = {
	    .malware = r->m.malware,
	    .threat_type = r->m.threat_type,
	    .source = r->m.source,
	    .id = r->m.id,
	    .reference = r->m.reference,
	    .confidence = r->m.confidence,
	    .action = r->m.action_given,
	    .match = (int)r->m.match,
	    .first_seen = r->m.first_seen,
	    .expires = r->m.expires,
	    .answer = (int)r->m.answer,
	    .local = r->m.local,
	};

	if (r->m.addrs) {
		memcpy(f.ipv4, r->m.addrs->ipv4, sizeof(f.ipv4));
		memcpy(f.ipv6, r->m.addrs->ipv6, sizeof(f.ipv6));
	}
	return f;
}

struct entry_fields entry_fields_overlay(const struct entry_fields *base,
					 const struct entry_fields *top)
{
	struct entry_fields f = *base;

	if (top->malware)
		f.malware = top->malware;
	if (top->threat_type)
		f.threat_type = top->threat_type;
	if (top->source)
		f.source = top->source;
	if (top->id || top->ioc_id) {
		f.id = top->id;
		f.ioc_id = top->ioc_id;
	}
	if (top->reference)
		f.reference = top->reference;
	if (top->confidence != NO_CONF)
		f.confidence = top->confidence;
	if (top->action != NO_ACTION)
		f.action = top->action;
	if (top->match != NO_MATCH)
		f.match = top->match;
	if (top->first_seen != INT64_MIN)
		f.first_seen = top->first_seen;
	if (top->expires != INT64_MAX)
		f.expires = top->expires;
	if (top->answer != ANSWER_DEFAULT) {
		if (top->answer != ANSWER_LOCAL || f.answer != ANSWER_LOCAL)
			f.local = 0;
		f.answer = top->answer;
		if (top->local & LOCAL_IPV4)
			memcpy(f.ipv4, top->ipv4, sizeof(f.ipv4));
		if (top->local & LOCAL_IPV6)
			memcpy(f.ipv6, top->ipv6, sizeof(f.ipv6));
		f.local |= top->local & (LOCAL_IPV4 | LOCAL_IPV6);
	}
	return f;
}

/* The index of the meta_rec for f in the current list; UINT32_MAX on ENOMEM. */
static uint32_t meta_intern(struct list_builder *lb, const struct entry_fields *f)
{
	struct policy *p = lb->p;
	struct meta_rec r = {
	    .m =
		{
		    .malware = f->malware,
		    .threat_type = f->threat_type,
		    .source = f->source,
		    .id = f->id,
		    .reference = f->reference,
		    .file = lb->file,
		    .confidence = (int8_t)f->confidence,
		    .first_seen = f->first_seen,
		    .expires = f->expires,
		    .match = (uint8_t)(f->match == NO_MATCH ? MATCH_SUBTREE : f->match),
		    .answer = (uint8_t)f->answer,
		    .list = (uint16_t)lb->file_idx, /* < CONFIG_MAX_LISTS */
		    .action_given = (int8_t)f->action,
		},
	};
	struct ioc_local addrs;
	uint64_t *slot;
	uint32_t h;
	size_t i;

	/* Addresses only with their bits: equal answers hash-cons to one meta. */
	memset(&addrs, 0, sizeof(addrs));
	if (f->answer == ANSWER_LOCAL) {
		r.m.local = (uint8_t)(f->local & (LOCAL_IPV4 | LOCAL_IPV6));
		if (r.m.local & LOCAL_IPV4)
			memcpy(addrs.ipv4, f->ipv4, sizeof(addrs.ipv4));
		if (r.m.local & LOCAL_IPV6)
			memcpy(addrs.ipv6, f->ipv6, sizeof(addrs.ipv6));
		r.m.addrs = &addrs;
	}
	r.m.action = (f->action == IOC_LOG ||
		      (f->confidence != NO_CONF && f->confidence < p->min_confidence))
			 ? IOC_LOG
			 : IOC_BLOCK;
	/*
	 * A meta with an id of its own (lb_intern_unique) equals no other: it is not looked up.
	 * Otherwise a slot keeps 32 bits of its meta's hash, so that probing and growing never
	 * read the metas of other slots (a list that gives every entry an id has a million).
	 */
	if (f->id && f->id == lb->unique_id) {
		slot = NULL;
		goto add;
	}
	if (lb->mtab_used + 1 > (lb->mtab_mask + 1) / 2) {
		size_t ncap = lb->mtab ? (lb->mtab_mask + 1) * 2 : 64;
		uint64_t *nt = calloc(ncap, sizeof(*nt));

		if (!nt)
			goto oom;
		for (size_t j = 0; lb->mtab && j <= lb->mtab_mask; j++) {
			if (!lb->mtab[j])
				continue;
			for (i = (lb->mtab[j] >> 32) & (ncap - 1); nt[i]; i = (i + 1) & (ncap - 1))
				;
			nt[i] = lb->mtab[j];
		}
		free(lb->mtab);
		lb->mtab = nt;
		lb->mtab_mask = ncap - 1;
	}
	h = (uint32_t)meta_hash(&r);
	for (i = h & lb->mtab_mask; lb->mtab[i]; i = (i + 1) & lb->mtab_mask) {
		uint32_t idx = (uint32_t)lb->mtab[i] - 1;

		if ((uint32_t)(lb->mtab[i] >> 32) == h && meta_equal(&p->metas[idx], &r))
			return idx;
	}
	slot = &lb->mtab[i];
add:
	if (p->n_metas >= UINT32_MAX - 1 ||
	    !grow_array((void **)&p->metas, &p->cap_metas, p->n_metas + 1, sizeof(*p->metas)))
		goto oom;
	if (r.m.addrs && !(r.m.addrs = strtab_bytes(&p->strs, &addrs, sizeof(addrs))))
		goto oom;
	p->metas[p->n_metas] = r;
	if (slot) {
		*slot = (uint64_t)h << 32 | ((uint32_t)p->n_metas + 1);
		lb->mtab_used++;
	}
	return (uint32_t)p->n_metas++;
oom:
	lb_oom(lb);
	return UINT32_MAX;
}

/* ---- the builder's interface to formats ------------------------------------------------ */

const char *lb_path(const struct list_builder *lb)
{
	return lb->path;
}

int64_t lb_now(const struct list_builder *lb)
{
	return lb->now;
}

bool lb_failed(const struct list_builder *lb)
{
	return lb->oom || lb->error;
}

void lb_oom(struct list_builder *lb)
{
	if (!lb->oom)
		perr_add(lb->errs, lb->path, 0, 0, "out of memory");
	lb->oom = true;
}

const char *lb_intern(struct list_builder *lb, const char *s, size_t n)
{
	const char *v = strtab_intern(&lb->p->strs, s, n);

	if (!v)
		lb_oom(lb);
	return v;
}

const char *lb_intern_unique(struct list_builder *lb, const char *s, size_t n)
{
	const char *v = strtab_copy(&lb->p->strs, s, n);

	if (!v)
		lb_oom(lb);
	lb->unique_id = v;
	return v;
}

static struct list_stats *cur_stats(struct list_builder *lb)
{
	return &lb->p->stats.files[lb->file_idx];
}

void lb_error(struct list_builder *lb, int line, int col, const char *fmt, ...)
{
	char msg[sizeof(((struct parse_err *)0)->msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	perr_add(lb->errs, lb->path, line, col, "%s", msg);
	lb->error = true;
}

void lb_invalid(struct list_builder *lb, int line, int col, const char *fmt, ...)
{
	char msg[sizeof(((struct parse_err *)0)->msg)];
	va_list ap;

	if (lb->invalid++ >= WARN_MAX || !lb->warns)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	perr_add(lb->warns, lb->path, line, col, "%s", msg);
}

void lb_skip(struct list_builder *lb, const char *reason)
{
	struct list_stats *st = cur_stats(lb);
	size_t i;

	st->skipped++;
	for (i = 0; i < LIST_SKIP_REASONS - 1; i++) {
		if (!st->skip[i].reason)
			st->skip[i].reason = reason;
		if (st->skip[i].reason == reason || strcmp(st->skip[i].reason, reason) == 0)
			break;
	}
	if (i == LIST_SKIP_REASONS - 1 && !st->skip[i].reason)
		st->skip[i].reason = reason;
	st->skip[i].n++;
}

const char *lb_shown(const char *s, size_t n, char buf[80])
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

/* The bytes of a feed's host names: letters, digits, '-', '_' and '.'. */
static const bool hostname_char[256] = {
	['-'] = 1, ['.'] = 1, ['_'] = 1,
	['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
	['8'] = 1, ['9'] = 1,
	['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1,
	['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1,
	['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
	['Y'] = 1, ['Z'] = 1,
	['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1,
	['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1,
	['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
	['y'] = 1, ['z'] = 1,
};

int lb_feed_name(struct list_builder *lb, const char *s, size_t n, int line, int col,
		 uint8_t out[255])
{
	char tmp[NAME_TEXT_MAX], buf[80];
	const char *why, *t;
	size_t tn = n;
	int len;

	t = name_defang(s, &tn, tmp);
	len = -1;
	why = "not a host name (letters, digits, '-', '_' and dots)";
	for (size_t i = 0; i < tn && hostname_char[(uint8_t)t[i]]; i++)
		if (i + 1 == tn)
			len = name_to_wire(t, tn, out, &why);
	if (len < 0) {
		lb_invalid(lb, line, col, "invalid domain \"%s\": %s", lb_shown(s, n, buf), why);
		return -1;
	}
	return len;
}

/* Length of a canonical wire name, root label included. */
static size_t wire_len(const uint8_t *name)
{
	size_t i = 0;

	while (name[i])
		i += (size_t)name[i] + 1;
	return i + 1;
}

/*
 * A prefix as a staged key: a first byte no wire name starts with (a label is at most 63
 * bytes long), its length, then the network address (4 or 16 bytes).
 */
#define KEY_V4 0xF4u
#define KEY_V6 0xF6u
#define KEY_IP_MAX 18

static size_t key_of_prefix(const struct acl_prefix *p, uint8_t out[KEY_IP_MAX])
{
	size_t n = p->family == AF_INET ? 4 : 16;

	out[0] = (uint8_t)(n == 4 ? KEY_V4 : KEY_V6);
	out[1] = p->bits;
	memcpy(out + 2, p->addr, n);
	return 2 + n;
}

static bool key_is_prefix(const uint8_t *key)
{
	return key[0] == KEY_V4 || key[0] == KEY_V6;
}

static void prefix_of_key(const uint8_t *key, struct acl_prefix *p)
{
	memset(p, 0, sizeof(*p));
	p->family = key[0] == KEY_V4 ? AF_INET : AF_INET6;
	p->bits = key[1];
	memcpy(p->addr, key + 2, key[0] == KEY_V4 ? 4 : 16);
}

/* Length of a staged key: a wire name, or a prefix. */
static size_t key_len(const uint8_t *key)
{
	return key[0] == KEY_V4 ? 6 : key[0] == KEY_V6 ? 18 : wire_len(key);
}

/* No hash of a key known yet (key_put hashes it). */
#define NO_HASH (-2)

/*
 * Put key (a wire name or a prefix) into the name set ds or the prefix set is; hash: a name's
 * domainset_hash() in ds, or NO_HASH.
 */
static int key_put(struct domainset *ds, struct ipset *is, const uint8_t *key, size_t len,
		   int64_t hash, uint64_t v, uint64_t *old)
{
	struct acl_prefix p;

	if (!key_is_prefix(key))
		return hash == NO_HASH ? domainset_put(ds, key, len, v, old)
				       : domainset_put_hashed(ds, key, len, hash, v, old);
	prefix_of_key(key, &p);
	return ipset_put(is, &p, v, old);
}

bool lb_parse_prefix(const char *s, size_t n, struct acl_prefix *out, char *msg, size_t cap)
{
	char buf[80], net[INET6_ADDRSTRLEN];
	const char *why;

	memset(out, 0, sizeof(*out));
	if (n < sizeof(buf) && !memchr(s, 0, n)) {
		memcpy(buf, s, n);
		buf[n] = 0;
		if (acl_parse_prefix(buf, out, &why) == 0)
			return true;
	} else {
		why = "too long";
	}
	/* acl_parse_prefix leaves the masked network in *out for the host bits error. */
	if (strstr(why, "host bits") && inet_ntop(out->family, out->addr, net, sizeof(net)))
		snprintf(msg, cap, "invalid address \"%s\": %s (did you mean %s/%u?)",
			 lb_shown(s, n, buf), why, net, out->bits);
	else
		snprintf(msg, cap, "invalid address \"%s\": %s", lb_shown(s, n, buf), why);
	return false;
}

bool lb_feed_prefix(struct list_builder *lb, const char *s, size_t n, int line, int col,
		    struct acl_prefix *out)
{
	char msg[200];

	if (lb_parse_prefix(s, n, out, msg, sizeof(msg)))
		return true;
	lb_invalid(lb, line, col, "%s", msg);
	return false;
}

static bool stage_name(struct list_builder *lb, const uint8_t *name, size_t len, uint32_t val,
		       uint32_t id)
{
	if (lb->names_used + len > UINT32_MAX ||
	    !grow_array((void **)&lb->names, &lb->names_cap, lb->names_used + len, 1) ||
	    !grow_array((void **)&lb->items, &lb->cap_items, lb->n_items + 1, sizeof(*lb->items))) {
		lb_oom(lb);
		return false;
	}
	lb->items[lb->n_items].off = (uint32_t)lb->names_used;
	lb->items[lb->n_items].val = val;
	lb->items[lb->n_items].id = id;
	lb->n_items++;
	memcpy(lb->names + lb->names_used, name, len);
	lb->names_used += len;
	return true;
}

/* An entry without expires: under expires_after_days, from its first_seen, else from now. */
static void apply_expires_after(const struct list_builder *lb, struct entry_fields *f)
{
	if (f->expires == INT64_MAX && lb->expires_after)
		f->expires = (f->first_seen != INT64_MIN ? f->first_seen : lb->now) +
			     lb->expires_after;
}

/* Resolve the pending entries with the group fields g: final fields, expiry, meta index. */
static void resolve(struct list_builder *lb, const struct entry_fields *g)
{
	struct entry_fields base, bare;
	uint32_t *gmeta = g == &entry_fields_none ? &lb->bare_meta : &(uint32_t){UINT32_MAX};
	size_t w = lb->n_resolved;

	/* The common case, one bare name of a plain list: its meta is known, it has not expired. */
	if (g == &entry_fields_none && lb->bare_meta != UINT32_MAX &&
	    lb->n_items == lb->n_resolved + 1 && lb->items[w].val == 0) {
		lb->items[w].val = lb->bare_meta;
		lb->items[w].id = lb->defaults.ioc_id;
		lb->n_resolved = lb->n_items;
		lb->n_efs = 0;
		return;
	}
	base = entry_fields_overlay(&lb->defaults, g);
	bare = base;
	apply_expires_after(lb, &bare);
	for (size_t k = lb->n_resolved; k < lb->n_items && !lb->oom; k++) {
		struct item it = lb->items[k];
		uint32_t midx, id = base.ioc_id;

		if (it.val) {
			struct entry_fields f = entry_fields_overlay(&base, &lb->efs[it.val - 1]);

			apply_expires_after(lb, &f);
			if (f.expires <= lb->now) {
				cur_stats(lb)->expired++;
				continue;
			}
			midx = meta_intern(lb, &f);
			id = f.ioc_id;
		} else {
			if (bare.expires <= lb->now) {
				cur_stats(lb)->expired++;
				continue;
			}
			if (*gmeta == UINT32_MAX)
				*gmeta = meta_intern(lb, &bare);
			midx = *gmeta;
		}
		if (midx == UINT32_MAX)
			return;
		lb->items[w].off = it.off;
		lb->items[w].val = midx;
		lb->items[w].id = id;
		w++;
	}
	lb->n_items = lb->n_resolved = w;
	lb->n_efs = 0;
}

void lb_block_prefix(struct list_builder *lb, const struct acl_prefix *p,
		     const struct entry_fields *own)
{
	uint8_t key[KEY_IP_MAX];

	lb_block(lb, key, key_of_prefix(p, key), own);
}

void lb_allow_prefix(struct list_builder *lb, const struct acl_prefix *p)
{
	uint8_t key[KEY_IP_MAX];

	lb_allow(lb, key, key_of_prefix(p, key), NO_MATCH);
}

void lb_block(struct list_builder *lb, const uint8_t *name, size_t len,
	      const struct entry_fields *own)
{
	uint32_t val = 0;

	if (lb_failed(lb))
		return;
	lb->entries++;
	if (own) {
		if (!grow_array((void **)&lb->efs, &lb->cap_efs, lb->n_efs + 1, sizeof(*lb->efs))) {
			lb_oom(lb);
			return;
		}
		lb->efs[lb->n_efs++] = *own;
		val = (uint32_t)lb->n_efs;
	}
	if (stage_name(lb, name, len, val, 0) && !lb->in_group)
		resolve(lb, &entry_fields_none);
}

void lb_allow(struct list_builder *lb, const uint8_t *name, size_t len, int match)
{
	if (lb_failed(lb))
		return;
	lb->entries++;
	if (!grow_array((void **)&lb->allows, &lb->allows_cap, lb->allows_used + 1 + len, 1)) {
		lb_oom(lb);
		return;
	}
	lb->allows[lb->allows_used] = (uint8_t)(match == NO_MATCH ? MATCH_SUBTREE : match);
	memcpy(lb->allows + lb->allows_used + 1, name, len);
	lb->allows_used += 1 + len;
}

void lb_group_begin(struct list_builder *lb)
{
	lb->in_group = true;
}

void lb_group_end(struct list_builder *lb, const struct entry_fields *group)
{
	lb->in_group = false;
	if (!lb_failed(lb))
		resolve(lb, group);
}

void lb_group_abort(struct list_builder *lb)
{
	lb->in_group = false;
	lb->n_items = lb->n_resolved;
	lb->n_efs = 0;
}

/* ---- committing a list ------------------------------------------------------------------ */

static void count_in(struct list_builder *lb, uint32_t midx, int sign)
{
	const struct meta_rec *r = &lb->p->metas[midx];
	struct list_stats *fs = &lb->p->stats.files[r->m.list];

	fs->block += (size_t)sign;
	if (r->m.action == IOC_LOG)
		fs->log += (size_t)sign;
}

/* A block entry's value in the sets: its meta index, and its IOC id (0: none) above it. */
static inline uint64_t entry_value(uint32_t midx, uint32_t id)
{
	return (uint64_t)id << 32 | midx;
}

/* The meta index and the IOC id (0: none) of value v of p's block sets. */
static inline uint32_t value_meta(uint64_t v, uint32_t *id)
{
	*id = (uint32_t)(v >> 32);
	return (uint32_t)v;
}

/*
 * Add a block entry (a name or a prefix) with meta midx and IOC id (0: none). A name listed
 * again merges: the later entry's present fields win over the earlier ones (its id too, when
 * it has one), and the names matched are the union of both.
 */
static void add_block(struct list_builder *lb, const uint8_t *name, size_t len, int64_t hash,
		      uint32_t midx, uint32_t id)
{
	struct entry_fields merged, f;
	uint64_t old;
	uint32_t omidx, oid;
	int rc;

	rc = key_put(lb->p->block, lb->p->block_ip, name, len, hash, entry_value(midx, id), &old);
	if (rc < 0) {
		lb_oom(lb);
		return;
	}
	if (rc == 0) {
		count_in(lb, midx, 1);
		return;
	}
	cur_stats(lb)->duplicates++;
	omidx = value_meta(old, &oid);
	if (omidx == midx && oid == id)
		return;
	merged = fields_of(&lb->p->metas[omidx]);
	f = fields_of(&lb->p->metas[midx]);
	f.ioc_id = id;
	merged.ioc_id = oid;
	merged = entry_fields_overlay(&merged, &f);
	if (lb->p->metas[omidx].m.match != lb->p->metas[midx].m.match)
		merged.match = MATCH_SUBTREE;
	midx = meta_intern(lb, &merged);
	if (midx == UINT32_MAX)
		return;
	if (key_put(lb->p->block, lb->p->block_ip, name, len, hash,
		    entry_value(midx, merged.ioc_id), NULL) < 0) {
		lb_oom(lb);
		return;
	}
	count_in(lb, omidx, -1);
	count_in(lb, midx, 1);
}

static void add_allow(struct list_builder *lb, const uint8_t *name, size_t len, unsigned match)
{
	uint64_t v = (lb->file_idx << ALLOW_MATCH_BITS) | match, old;
	int rc = key_put(lb->p->allow, lb->p->allow_ip, name, len, NO_HASH, v, &old);

	if (rc < 0) {
		lb_oom(lb);
	} else if (rc == 1) {
		cur_stats(lb)->duplicates++;
		if ((old & 3u) != match &&
		    key_put(lb->p->allow, lb->p->allow_ip, name, len, NO_HASH,
			    (lb->file_idx << ALLOW_MATCH_BITS) | MATCH_SUBTREE, NULL) < 0)
			lb_oom(lb);
	} else {
		cur_stats(lb)->allow++;
	}
}

/* Move the staged entries into the policy's sets and empty the stage. */
static void commit(struct list_builder *lb)
{
	enum { AHEAD = 8 };
	int64_t hashes[AHEAD];
	size_t i, n_prefixes = 0, prefix_bytes = 0;

	/* Room for the names in the domainset, for the prefixes in the ipset. */
	for (i = 0; i < lb->n_items; i++) {
		const uint8_t *key = lb->names + lb->items[i].off;

		if (key_is_prefix(key)) {
			n_prefixes++;
			prefix_bytes += key_len(key);
		}
	}
	if (lb->n_items > n_prefixes &&
	    domainset_reserve(lb->p->block, lb->n_items - n_prefixes,
			      lb->names_used - prefix_bytes) < 0)
		lb_oom(lb);
	if (n_prefixes && ipset_reserve(lb->p->block_ip, n_prefixes) < 0)
		lb_oom(lb);
	/*
	 * Each name is hashed once, AHEAD names before its turn, and its table slot prefetched
	 * then: the cache misses of several names overlap.
	 */
	for (i = 0; i < lb->n_items + AHEAD && !lb->oom; i++) {
		if (i >= AHEAD) { /* the name hashed AHEAD turns ago (its slot is i % AHEAD) */
			size_t k = i - AHEAD;
			const uint8_t *name = lb->names + lb->items[k].off;

			add_block(lb, name, key_len(name), hashes[k % AHEAD], lb->items[k].val,
				  lb->items[k].id);
		}
		if (i < lb->n_items) {
			const uint8_t *ahead = lb->names + lb->items[i].off;

			if (!key_is_prefix(ahead)) {
				hashes[i % AHEAD] = domainset_hash(lb->p->block, ahead, wire_len(ahead));
				domainset_prefetch(lb->p->block, hashes[i % AHEAD]);
			} else {
				struct acl_prefix pfx;

				prefix_of_key(ahead, &pfx);
				ipset_prefetch(lb->p->block_ip, &pfx);
				hashes[i % AHEAD] = NO_HASH;
			}
		}
	}
	for (i = 0; i < lb->allows_used && !lb->oom;) {
		const uint8_t *name = lb->allows + i + 1;
		size_t len = key_len(name);

		add_allow(lb, name, len, lb->allows[i]);
		i += 1 + len;
	}
	lb->n_items = lb->n_resolved = lb->names_used = lb->n_efs = lb->allows_used = 0;
}

/*
 * The meta in the policy being built for r, an entry of prev: UINT32_MAX when r is not of
 * list name or has expired, UINT32_MAX - 1 on ENOMEM.
 */
static uint32_t stage_meta(struct list_builder *lb, const struct meta_rec *r, const char *name)
{
	struct entry_fields f;
	uint32_t midx;

	if (strcmp(r->m.file, name) != 0 || r->m.expires <= lb->now)
		return UINT32_MAX;
	f = fields_of(r);
	f.malware = f.malware ? lb_intern(lb, f.malware, strlen(f.malware)) : NULL;
	f.threat_type = f.threat_type ? lb_intern(lb, f.threat_type, strlen(f.threat_type)) : NULL;
	f.source = f.source ? lb_intern(lb, f.source, strlen(f.source)) : NULL;
	f.id = f.id ? lb_intern(lb, f.id, strlen(f.id)) : NULL;
	f.reference = f.reference ? lb_intern(lb, f.reference, strlen(f.reference)) : NULL;
	midx = meta_intern(lb, &f);
	return midx == UINT32_MAX ? UINT32_MAX - 1 : midx;
}

/* Stage the entries list name had in prev (keep-last-good). */
static void stage_previous(struct list_builder *lb, const struct policy *prev, const char *name)
{
	uint8_t wire[255];
	struct acl_prefix pfx;
	size_t pos = 0, len;
	uint64_t v;

	/* The version read is rejected and dropped: lb_allow() must not refuse what prev had. */
	lb->error = false;
	lb->n_items = lb->n_resolved = lb->names_used = lb->n_efs = lb->allows_used = 0;
	while (domainset_next(prev->block, &pos, wire, &len, &v) && !lb->oom) {
		uint32_t id, midx = stage_meta(lb, &prev->metas[value_meta(v, &id)], name);

		if (midx == UINT32_MAX)
			continue;
		if (midx == UINT32_MAX - 1 || !stage_name(lb, wire, len, midx, id))
			return;
		lb->n_resolved = lb->n_items;
	}
	pos = 0;
	while (ipset_next(prev->block_ip, &pos, &pfx, &v) && !lb->oom) {
		uint8_t key[KEY_IP_MAX];
		uint32_t id, midx = stage_meta(lb, &prev->metas[value_meta(v, &id)], name);

		if (midx == UINT32_MAX)
			continue;
		if (midx == UINT32_MAX - 1 ||
		    !stage_name(lb, key, key_of_prefix(&pfx, key), midx, id))
			return;
		lb->n_resolved = lb->n_items;
	}
	pos = 0;
	while (domainset_next(prev->allow, &pos, wire, &len, &v) && !lb->oom) {
		uint32_t idx = (uint32_t)(v >> ALLOW_MATCH_BITS);

		if (idx < prev->stats.n_files && strcmp(prev->stats.files[idx].file, name) == 0)
			lb_allow(lb, wire, len, (int)(v & 3u));
	}
	pos = 0;
	while (ipset_next(prev->allow_ip, &pos, &pfx, &v) && !lb->oom) {
		uint32_t idx = (uint32_t)(v >> ALLOW_MATCH_BITS);

		if (idx < prev->stats.n_files && strcmp(prev->stats.files[idx].file, name) == 0)
			lb_allow_prefix(lb, &pfx);
	}
}

/* Entries list name has in p (0 when it has no list of that name). */
static size_t list_entries(const struct policy *p, const char *name)
{
	for (size_t i = 0; p && i < p->stats.n_files; i++)
		if (p->stats.files[i].file && strcmp(p->stats.files[i].file, name) == 0)
			return p->stats.files[i].block + p->stats.files[i].allow;
	return 0;
}

static void start_list(struct list_builder *lb, uint32_t idx, const char *path, const char *name,
		       enum list_format format)
{
	lb->path = path;
	lb->file_idx = idx;
	lb->error = false;
	lb->defaults = entry_fields_none;
	lb->expires_after = 0;
	lb->required = true;
	lb->entries = lb->invalid = 0;
	lb->bare_meta = UINT32_MAX;
	lb->in_group = false;
	lb->n_items = lb->n_resolved = lb->names_used = lb->n_efs = lb->allows_used = 0;
	lb->file = lb_intern(lb, name, strlen(name));
	lb->p->stats.files[idx].file = lb->file;
	lb->p->stats.files[idx].format = format_name(format);
}

/* A list's config: its defaults (strings interned into the policy) and match kind. */
static void set_list_conf(struct list_builder *lb, const struct list_conf *lc)
{
	const struct list_defaults *d = &lc->defaults;
	struct entry_fields *f = &lb->defaults;

	f->malware = d->malware ? lb_intern(lb, d->malware, strlen(d->malware)) : NULL;
	f->threat_type = d->threat_type ? lb_intern(lb, d->threat_type, strlen(d->threat_type))
					: NULL;
	f->source = d->source ? lb_intern(lb, d->source, strlen(d->source)) : NULL;
	f->reference = d->reference ? lb_intern(lb, d->reference, strlen(d->reference)) : NULL;
	f->confidence = d->confidence >= 0 ? d->confidence : NO_CONF;
	f->action = d->action >= 0 ? d->action : NO_ACTION;
	f->expires = d->expires;
	f->match = lc->match == MATCH_SUBTREE ? NO_MATCH : lc->match;
	lb->expires_after = (int64_t)d->expires_after_days * 86400;
	lb->required = lc->required;
}

/*
 * Decide the list just parsed: commit it, or reject it and keep what prev had of it. Returns
 * false when a required list has no good version to fall back on (prev NULL).
 */
/* Is the list just parsed good enough to use? had: entries of the version in use. */
static bool acceptable(struct list_builder *lb, size_t had)
{
	if (lb->error)
		return false;
	if (lb->invalid * REJECT_SHARE > lb->entries + lb->invalid)
		lb_error(lb, 0, 0,
			 "%zu of %zu entries invalid (more than 1 in %d): the list is rejected",
			 lb->invalid, lb->entries + lb->invalid, REJECT_SHARE);
	else if (lb->entries == 0 && had > 0)
		lb_error(lb, 0, 0, "no entries, where the version in use has %zu: rejected", had);
	return !lb->error;
}

static bool finish_list(struct list_builder *lb, const struct policy *prev, bool readable)
{
	struct list_stats *st = cur_stats(lb);

	if (lb->oom)
		return false;
	st->invalid = lb->invalid;
	if (readable && acceptable(lb, list_entries(prev, lb->file))) {
		commit(lb);
		return !lb->oom;
	}
	st->rejected = true;
	if (!prev)
		return !lb->required;
	/* Keep-last-good: the counts describe what is in use, the entries of prev. */
	st->expired = st->duplicates = 0;
	stage_previous(lb, prev, lb->file);
	commit(lb);
	st->kept = true;
	return !lb->oom;
}

/* ---- loading ---------------------------------------------------------------------------- */

static struct policy *policy_new(size_t n_files, int min_confidence)
{
	struct policy *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	atomic_init(&p->refs, 1);
	p->min_confidence = min_confidence;
	p->block = domainset_new(hash_seed());
	p->allow = domainset_new(hash_seed());
	p->block_ip = ipset_new(hash_seed());
	p->allow_ip = ipset_new(hash_seed());
	p->stats.files = calloc(n_files ? n_files : 1, sizeof(*p->stats.files));
	p->stats.n_files = n_files;
	if (!p->block || !p->allow || !p->block_ip || !p->allow_ip || !p->stats.files) {
		policy_free(p);
		return NULL;
	}
	return p;
}

/* Cut array *v (*cap elements of size) to its n used ones; kept as it is when realloc fails. */
static void shrink_array(void **v, size_t *cap, size_t n, size_t size)
{
	void *nv;

	if (n == 0 || n >= *cap)
		return;
	nv = realloc(*v, n * size);
	if (nv) {
		*v = nv;
		*cap = n;
	}
}

static void builder_deinit(struct list_builder *lb)
{
	free(lb->mtab);
	free(lb->names);
	free(lb->items);
	free(lb->efs);
	free(lb->allows);
}

/*
 * Give the heap's free pages back to the system. A load stages a list in buffers as large as
 * its sets and frees them; glibc keeps such memory (and a freed snapshot's) in the process
 * unless asked: a million names would leave megabytes of it in the daemon's RSS.
 */
static void trim_heap(void)
{
#ifdef __GLIBC__
	(void)malloc_trim(0);
#endif
}

static struct policy *finish(struct list_builder *lb, bool ok)
{
	struct policy *p = lb->p;
	struct policy_stats *st = &p->stats;

	builder_deinit(lb);
	if (ok && !lb->oom && (ipset_freeze(p->block_ip) < 0 || ipset_freeze(p->allow_ip) < 0))
		lb_oom(lb);
	if (!ok || lb->oom) {
		policy_free(p);
		return NULL;
	}
	st->block = domainset_count(p->block);
	st->allow = domainset_count(p->allow);
	st->block_ip = ipset_count(p->block_ip);
	st->allow_ip = ipset_count(p->allow_ip);
	/* The arrays grew by doubling: give back the room they will never use. */
	shrink_array((void **)&p->metas, &p->cap_metas, p->n_metas, sizeof(*p->metas));
	st->memory = sizeof(*p) + domainset_memory(p->block) + domainset_memory(p->allow) +
		     ipset_memory(p->block_ip) + ipset_memory(p->allow_ip) +
		     p->cap_metas * sizeof(*p->metas) +
		     strtab_memory(&p->strs) + st->n_files * sizeof(*st->files);
	trim_heap();
	return p;
}

struct policy *policy_load(const struct config *cfg, const struct policy *prev, int64_t now,
			   struct parse_errs *errs, struct parse_errs *warns)
{
	struct list_builder lb = {.errs = errs, .warns = warns, .now = now};
	bool ok = true;

	lb.p = policy_new(cfg->n_lists, cfg->sinkhole.min_confidence);
	if (!lb.p) {
		perr_add(errs, cfg->path ? cfg->path : "blocklist", 0, 0, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < cfg->n_lists && !lb.oom; i++) {
		const struct list_conf *lc = &cfg->lists[i];
		enum list_format format = (enum list_format)lc->format;
		char *text = NULL;
		size_t len = 0;
		bool mapped = false;
		int rc = readfile(lc->path, &text, &len, &mapped);
		struct stat sb;

		if (rc == 0 && format == FORMAT_AUTO)
			format = format_sniff(text, len);
		start_list(&lb, (uint32_t)i, lc->path, lc->name, format);
		set_list_conf(&lb, lc);
		if (rc == 0 && stat(lc->path, &sb) == 0)
			lb.p->stats.files[i].mtime = sb.st_mtime;
		if (rc == -ENOENT && lc->url) {
			/* A feed not fetched yet: nothing to report but that. */
			perr_add(warns ? warns : errs, lc->path, 0, 0,
				 "feed %s has no copy yet (fetched from %s)", lc->name, lc->url);
		} else if (rc < 0) {
			perr_add(errs, lc->path, 0, 0, "cannot read blocklist: %s", strerror(-rc));
		} else {
			format_parse(format, &lb, text, len);
			readfile_release(text, len, mapped);
		}
		if (!finish_list(&lb, prev, rc == 0))
			ok = false;
	}
	return finish(&lb, ok);
}

struct policy *policy_load_text(int format, const char *text, size_t len, const char *file,
				int min_confidence, int64_t now, struct parse_errs *errs,
				struct parse_errs *warns)
{
	struct list_builder lb = {.errs = errs, .warns = warns, .now = now};

	lb.p = policy_new(1, min_confidence);
	if (!lb.p) {
		perr_add(errs, file, 0, 0, "out of memory");
		return NULL;
	}
	start_list(&lb, 0, file, file, (enum list_format)format);
	format_parse((enum list_format)format, &lb, text, len);
	return finish(&lb, finish_list(&lb, NULL, true));
}

bool policy_validate(const struct list_conf *lc, const char *text, size_t len, int64_t now,
		     size_t had, struct parse_errs *errs, struct parse_errs *warns,
		     struct list_stats *out)
{
	struct list_builder lb = {.errs = errs, .warns = warns, .now = now};
	enum list_format format = (enum list_format)lc->format;
	bool ok;

	lb.p = policy_new(1, 0);
	if (!lb.p) {
		perr_add(errs, lc->path, 0, 0, "out of memory");
		return false;
	}
	if (format == FORMAT_AUTO)
		format = format_sniff(text, len);
	start_list(&lb, 0, lc->path, lc->name, format);
	set_list_conf(&lb, lc);
	format_parse(format, &lb, text, len);
	lb.p->stats.files[0].invalid = lb.invalid;
	ok = !lb.oom && acceptable(&lb, had);
	if (ok)
		commit(&lb);
	ok = ok && !lb.oom;
	if (out) {
		*out = lb.p->stats.files[0];
		out->file = lc->name;
		out->rejected = !ok;
	}
	finish(&lb, false);
	return ok;
}

struct policy *policy_load_string(const char *text, size_t len, const char *file,
				  int min_confidence, int64_t now, struct parse_errs *errs)
{
	return policy_load_text(FORMAT_YAML, text, len, file, min_confidence, now, errs, NULL);
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
	ipset_free(p->block_ip);
	ipset_free(p->allow_ip);
	free(p->metas);
	strtab_free(&p->strs);
	free(p->stats.files);
	free(p);
	trim_heap();
}

const char *ioc_id_text(const struct ioc_meta *meta, uint32_t ioc_id, char buf[IOC_ID_TEXT])
{
	if (!ioc_id)
		return meta ? meta->id : NULL;
	snprintf(buf, IOC_ID_TEXT, "%" PRIu32, ioc_id);
	return buf;
}

const struct policy_stats *policy_stats(const struct policy *p)
{
	return &p->stats;
}

char *policy_list_health(const struct list_stats *f, int64_t now, char *buf, size_t len)
{
	size_t o = 0;
	int64_t age = now - f->mtime;

#define PUT(...)                                                                                   \
	do {                                                                                       \
		if (o < len)                                                                       \
			o += (size_t)snprintf(buf + o, len - o, __VA_ARGS__);                      \
	} while (0)
	PUT("%s (%s): %zu entries (%zu log only), %zu allow, %zu expired, %zu duplicates, "
	    "%zu invalid, %zu skipped",
	    f->file, f->format ? f->format : "?", f->block, f->log, f->allow, f->expired,
	    f->duplicates, f->invalid, f->skipped);
	for (size_t k = 0; k < LIST_SKIP_REASONS && f->skip[k].reason; k++)
		PUT("%s%zu %s", k ? ", " : " (", f->skip[k].n, f->skip[k].reason);
	if (f->skip[0].reason)
		PUT(")");
	if (!f->mtime)
		PUT("; no copy");
	else if (age < 7200)
		PUT("; file %llds old", (long long)(age < 0 ? 0 : age));
	else
		PUT("; file %lldh old", (long long)age / 3600);
	if (f->kept)
		PUT("; REJECTED, its previous version is in use");
	else if (f->rejected)
		PUT("; REJECTED, not in use");
#undef PUT
	return buf;
}

/* Does a listed name of match kind k, found at offset off of the query name, apply? */
static inline bool applies(unsigned k, int off)
{
	return k == MATCH_SUBTREE || (k == MATCH_EXACT) == (off == 0);
}

void policy_lookup(const struct policy *p, const uint8_t *name, size_t len, int64_t now,
		   struct policy_match *m)
{
	size_t start = 0;
	uint64_t v;
	int off;

	m->verdict = VERDICT_PASS;
	m->meta = NULL;
	m->rule_off = -1;
	m->ioc_id = 0;
	if (domainset_count(p->allow)) {
		while ((off = domainset_match(p->allow, name, len, start, &v)) >= 0) {
			if (applies(v & 3u, off)) {
				m->verdict = VERDICT_ALLOW;
				m->rule_off = off;
				return;
			}
			start = (size_t)off + name[off] + 1;
		}
		start = 0;
	}
	while ((off = domainset_match(p->block, name, len, start, &v)) >= 0) {
		uint32_t id;
		const struct ioc_meta *meta = &p->metas[value_meta(v, &id)].m;

		if (now < meta->expires && applies(meta->match, off)) {
			m->verdict = meta->action == IOC_LOG ? VERDICT_LOG : VERDICT_BLOCK;
			m->meta = meta;
			m->rule_off = off;
			m->ioc_id = id;
			return;
		}
		/* Expired, or not for this name: a shorter listed suffix may still apply. */
		start = (size_t)off + name[off] + 1;
	}
}

const struct domainset *policy_block_set(const struct policy *p)
{
	return p->block;
}

const struct ipset *policy_block_ipset(const struct policy *p)
{
	return p->block_ip;
}

void policy_lookup_addr(const struct policy *p, int family, const uint8_t *addr, int64_t now,
			struct policy_match *m)
{
	unsigned max = 128, bits;
	uint64_t v;

	m->verdict = VERDICT_PASS;
	m->meta = NULL;
	m->rule_off = -1;
	m->ioc_id = 0;
	if (ipset_match(p->allow_ip, family, addr, max, &bits, &v)) {
		m->verdict = VERDICT_ALLOW;
		m->rule_off = (int)bits;
		return;
	}
	while (ipset_match(p->block_ip, family, addr, max, &bits, &v)) {
		uint32_t id;
		const struct ioc_meta *meta = &p->metas[value_meta(v, &id)].m;

		if (now < meta->expires) {
			m->verdict = meta->action == IOC_LOG ? VERDICT_LOG : VERDICT_BLOCK;
			m->meta = meta;
			m->rule_off = (int)bits;
			m->ioc_id = id;
			return;
		}
		/* Expired: a shorter listed prefix may still apply. */
		if (bits == 0)
			return;
		max = bits - 1;
	}
}
