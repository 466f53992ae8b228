/* SPDX-License-Identifier: MIT */
/*
 * fuzz_ipset: the prefix set of IP indicators and the inspection of answer addresses.
 *
 * Input: [n][n prefixes][message]. n (0-63, the low 6 bits of the first byte) prefixes, each
 * [ctl][address: 4 bytes, or 16 when ctl bit 7 is set]; ctl's low 7 bits are the prefix
 * length (mod 33 or 129), the address's bits beyond it are cleared; every third prefix is
 * allowed rather than blocked. The rest is a DNS message whose answer section is inspected
 * (and, 4 bytes at a time, addresses looked up in the set).
 *
 * Checks: ipset_put/ipset_freeze/ipset_match against a scan of the prefixes (the longest one
 * containing the address, and each shorter one in turn), ipset_next giving back every prefix;
 * then the same prefixes as a YAML list (ip: entries and allowed prefixes) and
 * policy_inspect_answer over the message: a hit is an A or AAAA address of the answer (an
 * IPv4-mapped AAAA as its IPv4 address) that a blocked prefix contains and no allowed one
 * does, reported with its longest blocked prefix; no hit means no such address before the
 * first malformed record; a hit makes a valid block-log line.
 */
#include <arpa/inet.h>
#include <sys/socket.h>

#include "fuzz_common.h"
#include "policy/ipset.h"
#include "policy/policy.h"

#define MAXP 63

struct pfx {
	struct acl_prefix p;
	bool allow;
};

static bool contains(const struct acl_prefix *p, int family, const uint8_t *a)
{
	if (p->family != family)
		return false;
	for (unsigned b = 0; b < p->bits; b++)
		if ((a[b / 8] ^ p->addr[b / 8]) & (0x80 >> (b % 8)))
			return false;
	return true;
}

/* The longest of ps (allow or block ones) containing a, at most max bits; -1 when none. */
static int longest(const struct pfx *ps, size_t n, bool allow, int family, const uint8_t *a,
		   unsigned max)
{
	int best = -1;

	for (size_t i = 0; i < n; i++)
		if (ps[i].allow == allow && ps[i].p.bits <= max && contains(&ps[i].p, family, a) &&
		    (best < 0 || ps[i].p.bits > ps[best].p.bits))
			best = (int)i;
	return best;
}

static void check_set(const struct pfx *ps, size_t n, const uint8_t *data, size_t len)
{
	struct ipset *s = ipset_new(1);
	struct acl_prefix p;
	size_t pos = 0, seen = 0, distinct = 0;
	uint64_t v;

	FUZZ_ASSERT(s);
	for (size_t i = 0; i < n; i++) {
		int rc = ipset_put(s, &ps[i].p, (uint32_t)i, &v);

		FUZZ_ASSERT(rc == 0 || rc == 1);
		distinct += rc == 0;
	}
	FUZZ_ASSERT(ipset_count(s) == distinct);
	FUZZ_ASSERT(ipset_freeze(s) == 0);
	FUZZ_ASSERT(ipset_count(s) == distinct);
	while (ipset_next(s, &pos, &p, &v)) {
		/* The value is the last index given this prefix. */
		FUZZ_ASSERT(v < n && ps[v].p.family == p.family && ps[v].p.bits == p.bits &&
			    !memcmp(ps[v].p.addr, p.addr, 16));
		for (size_t j = v + 1; j < n; j++)
			FUZZ_ASSERT(!(ps[j].p.family == p.family && ps[j].p.bits == p.bits &&
				      !memcmp(ps[j].p.addr, p.addr, 16)));
		seen++;
	}
	FUZZ_ASSERT(seen == distinct);
	/* Every 4 and 16 bytes of the message as an address to look up. */
	for (size_t off = 0; off + 4 <= len; off += 4) {
		int family = (off / 4) % 2 && off + 16 <= len ? AF_INET6 : AF_INET;
		unsigned max = family == AF_INET ? 32 : 128, bits;

		for (;;) {
			bool found = ipset_match(s, family, data + off, max, &bits, &v);
			int best = -1;

			for (size_t i = 0; i < n; i++)
				if (ps[i].p.bits <= max && contains(&ps[i].p, family, data + off) &&
				    (best < 0 || ps[i].p.bits >= ps[best].p.bits))
					best = (int)i; /* the last of equal prefixes: its value */
			FUZZ_ASSERT(found == (best >= 0));
			if (!found)
				break;
			FUZZ_ASSERT(bits == ps[best].p.bits && v == (uint32_t)best);
			if (bits == 0)
				break;
			max = bits - 1;
		}
	}
	ipset_free(s);
}

static void put_text(char **o, char *end, const char *s)
{
	size_t n = strlen(s);

	FUZZ_ASSERT(*o + n < end);
	memcpy(*o, s, n);
	*o += n;
}

static void check_inspection(const struct pfx *ps, size_t n, const uint8_t *msg, size_t len)
{
	static char text[MAXP * 64 + 64];
	char *o = text, *end = text + sizeof(text), a[INET6_ADDRSTRLEN], line[80];
	struct parse_errs errs = {0};
	struct answer_hit hit;
	struct blocklog_rec rec;
	struct policy *p;
	enum verdict v;
	unsigned an;
	size_t off;

	put_text(&o, end, "allow:\n");
	for (size_t i = 0; i < n; i++) {
		if (!ps[i].allow)
			continue;
		inet_ntop(ps[i].p.family, ps[i].p.addr, a, sizeof(a));
		snprintf(line, sizeof(line), "  - \"%s/%u\"\n", a, ps[i].p.bits);
		put_text(&o, end, line);
	}
	put_text(&o, end, "block:\n");
	for (size_t i = 0; i < n; i++) {
		if (ps[i].allow)
			continue;
		inet_ntop(ps[i].p.family, ps[i].p.addr, a, sizeof(a));
		snprintf(line, sizeof(line), "  - {ip: \"%s/%u\", malware: M}\n", a, ps[i].p.bits);
		put_text(&o, end, line);
	}
	p = policy_load_string(text, (size_t)(o - text), "ip.yaml", 0, 1700000000, &errs);
	if (!p) {
		for (size_t i = 0; i < errs.n; i++)
			fprintf(stderr, "%s:%d:%d: %s\n", errs.v[i].file, errs.v[i].line,
				errs.v[i].col, errs.v[i].msg);
		FUZZ_ASSERT(p);
	}
	off = dnsmsg_answer_section(msg, len, &an);
	if (!off)
		goto out;
	v = policy_inspect_answer(p, msg, len, off, an, INSPECT_NAMES | INSPECT_ADDRS, 1700000000,
				  &hit);
	FUZZ_ASSERT(v == VERDICT_PASS || v == VERDICT_BLOCK);
	if (v == VERDICT_BLOCK) {
		int best;

		FUZZ_ASSERT(hit.family == AF_INET || hit.family == AF_INET6);
		FUZZ_ASSERT(longest(ps, n, true, hit.family, hit.addr, 128) < 0);
		best = longest(ps, n, false, hit.family, hit.addr, 128);
		FUZZ_ASSERT(best >= 0 && hit.m.rule_off == ps[best].p.bits);
		memset(&rec, 0, sizeof(rec));
		rec.src_family = AF_INET;
		rec.qname_len = 1;
		rec.via = BLOCKLOG_VIA_IP;
		rec.matched_len = hit.family == AF_INET ? 4 : 16;
		memcpy(rec.matched, hit.addr, rec.matched_len);
		rec.rule_off = (uint8_t)hit.m.rule_off;
		rec.meta = hit.m.meta;
		fz_check_blocklog(&rec, "dvc");
		goto out;
	}
	/* No hit: no listed address in the records read. */
	for (unsigned i = 0; i < an; i++) {
		const uint8_t *a6;
		struct dns_rr rr;
		int family;

		off = dnsmsg_next_rr(msg, len, off, &rr);
		if (!off)
			break;
		if (rr.rclass != 1 || !((rr.type == DNS_T_A && rr.rdlen == 4) ||
					(rr.type == DNS_T_AAAA && rr.rdlen == 16)))
			continue;
		family = rr.type == DNS_T_A ? AF_INET : AF_INET6;
		a6 = msg + rr.rdata;
		/* An IPv4-mapped AAAA is its IPv4 address. */
		if (family == AF_INET6 && !memcmp(a6, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12)) {
			family = AF_INET;
			a6 += 12;
		}
		FUZZ_ASSERT(longest(ps, n, true, family, a6, 128) >= 0 ||
			    longest(ps, n, false, family, a6, 128) < 0);
	}
out:
	perr_clear(&errs);
	policy_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pfx ps[MAXP];
	size_t n = 0, want, at = 1;

	if (size < 1)
		return 0;
	want = data[0] & MAXP;
	while (n < want && at < size) {
		uint8_t ctl = data[at++];
		unsigned total = ctl & 0x80 ? 128 : 32, k = total / 8;
		struct acl_prefix *p = &ps[n].p;

		if (at + k > size)
			break;
		memset(p, 0, sizeof(*p));
		p->family = total == 32 ? AF_INET : AF_INET6;
		p->bits = (uint8_t)((ctl & 0x7f) % (total + 1));
		memcpy(p->addr, data + at, k);
		at += k;
		for (unsigned b = p->bits; b < total; b++)
			p->addr[b / 8] &= (uint8_t)~(0x80 >> (b % 8));
		ps[n].allow = n % 3 == 2;
		n++;
	}
	check_set(ps, n, data + at, size - at);
	check_inspection(ps, n, data + at, size - at);
	return 0;
}
