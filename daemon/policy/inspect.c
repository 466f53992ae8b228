/* SPDX-License-Identifier: MIT */
/*
 * Answer inspection (CNAME cloaking): the names in an upstream answer checked against the
 * policy, as the query name is. Allocation-free; called by the workers for upstream replies
 * and cache hits.
 */
#include <string.h>

#include "dnsmsg.h"
#include "policy/policy.h"

enum verdict policy_inspect_answer(const struct policy *p, const uint8_t *msg, size_t len,
				   size_t off, unsigned ancount, int64_t now,
				   struct answer_hit *hit)
{
	enum verdict found = VERDICT_PASS;

	for (unsigned i = 0; i < ancount; i++) {
		struct policy_match m;
		struct dns_rr rr;
		uint8_t name[DNS_MAX_NAME];
		size_t n;

		off = dnsmsg_next_rr(msg, len, off, &rr);
		if (!off)
			break;
		if ((rr.type != DNS_T_CNAME && rr.type != DNS_T_DNAME) || rr.rclass != 1)
			continue;
		/* The target must lie in its RDATA (a pointer may lead out of it, backwards). */
		n = dnsmsg_read_name(msg, rr.rdata + rr.rdlen, rr.rdata, name);
		if (!n)
			continue;
		policy_lookup(p, name, n, now, &m);
		if (m.verdict != VERDICT_BLOCK && (m.verdict != VERDICT_LOG || found != VERDICT_PASS))
			continue;
		hit->m = m;
		hit->name_len = (uint8_t)n;
		memcpy(hit->name, name, n);
		found = m.verdict;
		if (found == VERDICT_BLOCK)
			break;
	}
	return found;
}
