/* SPDX-License-Identifier: MIT */
/*
 * Answer inspection: the names in an upstream answer (CNAME cloaking) checked against the
 * policy as the query name is, and its addresses against the listed prefixes (IP
 * indicators). Allocation-free; called by the workers for upstream replies and cache hits.
 */
#include <string.h>
#include <sys/socket.h>

#include "dnsmsg.h"
#include "policy/policy.h"

/* The decision on record rr of msg per what, into *m and *hit's name or address. */
static void check_rr(const struct policy *p, const uint8_t *msg, const struct dns_rr *rr,
		     unsigned what, int64_t now, struct policy_match *m, struct answer_hit *cand)
{
	size_t n;

	m->verdict = VERDICT_PASS;
	if (rr->rclass != 1)
		return;
	if ((rr->type == DNS_T_CNAME || rr->type == DNS_T_DNAME) && (what & INSPECT_NAMES)) {
		/* The target must lie in its RDATA (a pointer may lead out of it, backwards). */
		n = dnsmsg_read_name(msg, rr->rdata + rr->rdlen, rr->rdata, cand->name);
		if (!n)
			return;
		policy_lookup(p, cand->name, n, now, m);
		cand->name_len = (uint8_t)n;
		cand->family = 0;
	} else if (((rr->type == DNS_T_A && rr->rdlen == 4) ||
		    (rr->type == DNS_T_AAAA && rr->rdlen == 16)) &&
		   (what & INSPECT_ADDRS)) {
		static const uint8_t mapped[12] = {[10] = 0xff, [11] = 0xff};

		cand->family = rr->type == DNS_T_A ? AF_INET : AF_INET6;
		memcpy(cand->addr, msg + rr->rdata, rr->rdlen);
		/* An IPv4-mapped AAAA (::ffff:a.b.c.d) is that IPv4 address: not a way around. */
		if (rr->rdlen == 16 && memcmp(cand->addr, mapped, sizeof(mapped)) == 0) {
			cand->family = AF_INET;
			memmove(cand->addr, cand->addr + 12, 4);
		}
		policy_lookup_addr(p, cand->family, cand->addr, now, m);
		cand->name_len = 0;
	}
}

enum verdict policy_inspect_answer(const struct policy *p, const uint8_t *msg, size_t len,
				   size_t off, unsigned ancount, unsigned what, int64_t now,
				   struct answer_hit *hit)
{
	enum verdict found = VERDICT_PASS;
	struct answer_hit cand;

	/* No prefix listed: the addresses cost nothing. */
	if ((what & INSPECT_ADDRS) && !policy_stats(p)->block_ip)
		what &= ~INSPECT_ADDRS;
	for (unsigned i = 0; i < ancount; i++) {
		struct policy_match m;
		struct dns_rr rr;

		off = dnsmsg_next_rr(msg, len, off, &rr);
		if (!off)
			break;
		check_rr(p, msg, &rr, what, now, &m, &cand);
		if (m.verdict != VERDICT_BLOCK && (m.verdict != VERDICT_LOG || found != VERDICT_PASS))
			continue;
		hit->m = m;
		hit->name_len = cand.name_len;
		hit->family = cand.family;
		if (cand.name_len)
			memcpy(hit->name, cand.name, cand.name_len);
		else
			memcpy(hit->addr, cand.addr, cand.family == AF_INET ? 4 : 16);
		found = m.verdict;
		if (found == VERDICT_BLOCK)
			break;
	}
	return found;
}
