/* SPDX-License-Identifier: MIT */
/*
 * fuzz_list_<format>: one list format sinkholed reads (FUZZ_FORMAT, set by the build), from
 * memory through the policy builder.
 *
 * Input: [ctl][file]. ctl bits 3-7 scale min_confidence (0..100).
 *
 * A failed (rejected) load must report errors; a successful one must have consistent stats,
 * and its invalid entries are warnings with a position. Then every word of the input that is a
 * valid domain name is looked up, with a subdomain and at a time after every expiry, checking
 * the matching rules of DESIGN.md section 4 as the entry's match kind says (an entry matching
 * subdomains never passes them: subtree and below; an exact one matches only its name; an
 * allow entry found at a parent applies to the subdomain too; rule_off is a label boundary),
 * that an entry's own answer is well-formed, and the block-log line of each match is
 * formatted with the entry's metadata (strings straight from the file), answered or dropped.
 */
#include <errno.h>
#include <sys/socket.h>

#include "formats/format.h"
#include "fuzz_common.h"
#include "policy/policy.h"
#include "util/name.h"

#define NOW 1780272000 /* 2026-06-01T00:00:00Z: the seeds' dates straddle it */
#define MAX_WORDS 48

static bool is_boundary(const uint8_t *name, size_t len, int off)
{
	size_t i = 0;

	if (off < 0)
		return false;
	while (i < (size_t)off && i < len && name[i])
		i += 1u + name[i];
	return i == (size_t)off && i < len;
}

static void check_match(const uint8_t *name, size_t len, const struct policy_match *m)
{
	switch (m->verdict) {
	case VERDICT_PASS:
		FUZZ_ASSERT(m->meta == NULL && m->rule_off == -1);
		break;
	case VERDICT_ALLOW:
		FUZZ_ASSERT(m->meta == NULL && is_boundary(name, len, m->rule_off));
		FUZZ_ASSERT(name[m->rule_off] != 0); /* the root is never listed */
		break;
	case VERDICT_BLOCK:
	case VERDICT_LOG:
		FUZZ_ASSERT(m->meta && is_boundary(name, len, m->rule_off));
		FUZZ_ASSERT(name[m->rule_off] != 0);
		FUZZ_ASSERT((m->verdict == VERDICT_LOG) == (m->meta->action == IOC_LOG));
		FUZZ_ASSERT(m->meta->confidence >= -1 && m->meta->confidence <= 100);
		FUZZ_ASSERT(m->meta->file != NULL);
		/* An exact entry matches only its name, a "below" one only under it. */
		FUZZ_ASSERT(m->meta->match <= MATCH_BELOW);
		if (m->meta->match == MATCH_EXACT)
			FUZZ_ASSERT(m->rule_off == 0);
		if (m->meta->match == MATCH_BELOW)
			FUZZ_ASSERT(m->rule_off > 0);
		FUZZ_ASSERT(m->meta->answer <= ANSWER_LOCAL);
		FUZZ_ASSERT((m->meta->local & ~(LOCAL_IPV4 | LOCAL_IPV6)) == 0);
		if (m->meta->answer != ANSWER_LOCAL)
			FUZZ_ASSERT(m->meta->local == 0 && m->meta->addrs == NULL);
		else
			FUZZ_ASSERT(m->meta->addrs != NULL);
		if (m->meta->addrs && !(m->meta->local & LOCAL_IPV4))
			FUZZ_ASSERT(!memcmp(m->meta->addrs->ipv4, "\0\0\0\0", 4));
		if (m->meta->addrs && !(m->meta->local & LOCAL_IPV6))
			FUZZ_ASSERT(!memcmp(m->meta->addrs->ipv6, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16));
		break;
	default:
		FUZZ_ASSERT(!"a known verdict");
	}
}

static void log_line(const uint8_t *name, size_t len, const struct policy_match *m, int64_t t)
{
	struct blocklog_rec r;

	memset(&r, 0, sizeof(r));
	r.time_ms = (t < INT64_MAX / 1000 - 1 ? t : INT64_MAX / 1000 - 1) * 1000 + 999;
	r.src_family = AF_INET6;
	r.action = m->verdict == VERDICT_LOG		? BLOCKLOG_ALLOWED
		   : m->meta->answer == ANSWER_DROP ? BLOCKLOG_DROPPED
						    : BLOCKLOG_BLOCKED;
	r.rcode = (uint8_t)len;
	r.resp_family = AF_INET;
	r.qtype = (uint16_t)(len * 977);
	r.qname_len = (uint8_t)len;
	r.rule_off = (uint8_t)m->rule_off;
	memcpy(r.qname, name, len);
	r.meta = m->meta;
	fz_check_blocklog(&r, "dns1");
}

static void lookup_word(const struct policy *p, const char *word)
{
	static const int64_t times[] = {NOW, INT64_MAX - 1};
	uint8_t name[255], child[255];
	const char *why;
	int n = name_to_wire(word, strlen(word), name, &why);
	size_t cl;

	if (n <= 0)
		return;
	FUZZ_ASSERT(n <= 255 && name[n - 1] == 0);
	/* "a." + name when it fits: a subdomain of every listed suffix of name. */
	cl = (size_t)n + 2 <= 255 ? (size_t)n + 2 : 0;
	if (cl) {
		child[0] = 1;
		child[1] = 'a';
		memcpy(child + 2, name, (size_t)n);
	}
	for (size_t t = 0; t < sizeof(times) / sizeof(times[0]); t++) {
		struct policy_match m, mc;

		policy_lookup(p, name, (size_t)n, times[t], &m);
		check_match(name, (size_t)n, &m);
		if (m.meta)
			FUZZ_ASSERT(times[t] < m.meta->expires);
		if (m.verdict == VERDICT_BLOCK || m.verdict == VERDICT_LOG)
			log_line(name, (size_t)n, &m, times[t]);
		if (!cl)
			continue;
		policy_lookup(p, child, cl, times[t], &mc);
		check_match(child, cl, &mc);
		if (m.verdict == VERDICT_ALLOW && m.rule_off > 0) {
			/* Found at a parent: a subtree or below entry, which takes the child. */
			FUZZ_ASSERT(mc.verdict == VERDICT_ALLOW);
			FUZZ_ASSERT(mc.rule_off <= m.rule_off + 2);
		} else if ((m.verdict == VERDICT_BLOCK || m.verdict == VERDICT_LOG) &&
			   m.meta->match != MATCH_EXACT) {
			/* The child matches name's rule or a longer one: never less specific. */
			FUZZ_ASSERT(mc.verdict != VERDICT_PASS);
			if (mc.verdict != VERDICT_ALLOW)
				FUZZ_ASSERT(mc.rule_off <= m.rule_off + 2);
		}
	}
}

/* Split the input into words at YAML and list punctuation; look each one up. */
static void lookup_words(const struct policy *p, const uint8_t *data, size_t size)
{
	char word[300];
	size_t wl = 0, words = 0;

	for (size_t i = 0; i <= size && words < MAX_WORDS; i++) {
		uint8_t c = i < size ? data[i] : ' ';

		if (c > ' ' && c < 0x7f && !strchr("{}[],:\"'#&*!|>", c) &&
		    !(c == '-' && wl == 0)) {
			if (wl < sizeof(word) - 1)
				word[wl++] = (char)c;
			continue;
		}
		if (wl) {
			word[wl] = 0;
			lookup_word(p, word);
			words++;
			wl = 0;
		}
	}
	lookup_word(p, "www.mobile1.com");
	lookup_word(p, "com");
}

static void check_stats(const struct policy *p)
{
	const struct policy_stats *st = policy_stats(p);
	const struct list_stats *fs;

	FUZZ_ASSERT(st->n_files == 1 && st->files);
	fs = &st->files[0];
	FUZZ_ASSERT(fs->file != NULL);
	/* One file: every distinct active name and prefix was counted once, merges included. */
	FUZZ_ASSERT(fs->block == st->block + st->block_ip);
	FUZZ_ASSERT(fs->log <= fs->block);
	FUZZ_ASSERT(fs->allow == st->allow + st->allow_ip);
	FUZZ_ASSERT(st->memory > 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct parse_errs errs = {0}, warns = {0};
	struct policy *p;
	int fmt, min_conf;

	if (size < 1)
		return 0;
	fmt = format_by_name(FUZZ_FORMAT);
	FUZZ_ASSERT(fmt >= 0);
	min_conf = (data[0] >> 3) * 100 / 31;
	data++;
	size--;

	p = policy_load_text(fmt, (const char *)data, size, "fuzz.list", min_conf, NOW, &errs,
			     &warns);
	for (size_t i = 0; i < warns.n; i++)
		FUZZ_ASSERT(warns.v[i].file && warns.v[i].line > 0 && warns.v[i].col > 0);
	perr_clear(&warns);

	if (p) {
		FUZZ_ASSERT(errs.n == 0 && errs.dropped == 0);
		check_stats(p);
		lookup_words(p, data, size);
		FUZZ_ASSERT(policy_release(p));
		policy_free(p);
	} else {
		FUZZ_ASSERT(errs.n + errs.dropped >= 1);
	}
	for (size_t i = 0; i < errs.n; i++) {
		char line[512];

		FUZZ_ASSERT(errs.v[i].file);
		FUZZ_ASSERT(errs.v[i].line >= 0 && errs.v[i].col >= 0);
		perr_format(&errs.v[i], line, sizeof(line));
	}
	perr_clear(&errs);
	return 0;
}
