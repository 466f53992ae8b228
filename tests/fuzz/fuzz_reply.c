/* SPDX-License-Identifier: MIT */
/*
 * fuzz_reply: an upstream reply to a client query.
 *
 * Input: [ctl][qlen: 2 bytes, big endian][query: qlen bytes][reply: the rest]. qlen is cut to
 * what is there. ctl bit 0: the upstream ID is the reply's own (so replies that are well
 * formed get accepted) rather than a fixed one; bits 1-2: the client's size limit (its UDP
 * limit, 512, TCP 65535, one byte less than the reply); bits 3-7: seconds between storing the
 * reply in the cache and looking it up, times 64.
 *
 * The query must parse (QUERY_OK: only those are forwarded). Then, as upstream.c and
 * worker.c do: dnsmsg_reply_matches, dnsmsg_is_truncated/dnsmsg_rcode, and for an accepted
 * reply dnsmsg_relay_reply into a buffer of the reply's size and into a large one,
 * dnsmsg_first_address, the CNAME/DNAME inspection (policy_inspect_answer, against a small
 * policy listing evil.test, c2.example and watch.test) and
 * cache_store + cache_lookup.
 */
#include <sys/socket.h>

#include "policy/policy.h"
#include "cache.h"
#include "fuzz_common.h"
#include "worker.h"

#define FIXED_ID 0x5eed

static uint8_t buf[65536 + 64];

/*
 * What worker.c relays must be the reply with the client's ID and question, or its truncated
 * (TC=1) form.
 */
static void check_relayed(const struct dns_query *q, const uint8_t *reply, size_t rlen,
			  const uint8_t *msg, size_t n, size_t cap, size_t limit)
{
	size_t qlen = q->question_end - DNS_HDR_LEN;
	size_t min = DNS_HDR_LEN + qlen + (q->edns ? 11 : 0);

	FUZZ_ASSERT(n <= cap);
	FUZZ_ASSERT(n >= DNS_HDR_LEN + qlen);
	FUZZ_ASSERT(fz_get16(msg) == q->id);
	FUZZ_ASSERT(!memcmp(msg + DNS_HDR_LEN, q->pkt + DNS_HDR_LEN, qlen));
	if (rlen <= limit) {
		FUZZ_ASSERT(n == rlen);
		/* A recursive service's answer: AA=0, RA=1, Z=0; the other bits as received. */
		FUZZ_ASSERT(msg[2] == (reply[2] & ~0x04));
		FUZZ_ASSERT(msg[3] == ((reply[3] | 0x80) & ~0x40));
		FUZZ_ASSERT(!memcmp(msg + 4, reply + 4, DNS_HDR_LEN - 4));
		FUZZ_ASSERT(!memcmp(msg + DNS_HDR_LEN + qlen, reply + DNS_HDR_LEN + qlen,
				    rlen - DNS_HDR_LEN - qlen));
		return;
	}
	/* Cut: header + question (+ our OPT when it fits), TC=1, within the limit. */
	FUZZ_ASSERT(msg[2] & 0x02);
	FUZZ_ASSERT(fz_get16(msg + 4) == 1);
	FUZZ_ASSERT(fz_get16(msg + 6) == 0 && fz_get16(msg + 8) == 0);
	FUZZ_ASSERT(n == DNS_HDR_LEN + qlen || n == min);
	FUZZ_ASSERT(fz_get16(msg + 10) == (n == min && q->edns));
	if (cap >= min)
		FUZZ_ASSERT(n == min);
	if (limit >= min)
		FUZZ_ASSERT(n <= limit);
	fz_check_wire(msg, n);
}

static void check_first_address(const uint8_t *msg, size_t len)
{
	uint8_t addr[16];
	int family = 0;
	uint16_t type;
	size_t alen;
	bool found = false;

	if (!dnsmsg_first_address(msg, len, &family, addr))
		return;
	FUZZ_ASSERT(family == AF_INET || family == AF_INET6);
	/*
	 * What it reports is the rdata of an IN A/AAAA record in msg: TYPE, CLASS, TTL, RDLENGTH
	 * and the address, after the header and at least a one-byte owner. (ldns is no oracle
	 * here: on malformed rdata its record boundaries differ from RDLENGTH's.)
	 */
	type = family == AF_INET ? DNS_T_A : DNS_T_AAAA;
	alen = family == AF_INET ? 4 : 16;
	for (size_t o = DNS_HDR_LEN + 1 + 10; o + alen <= len && !found; o++)
		found = fz_get16(msg + o - 10) == type && fz_get16(msg + o - 8) == 1 &&
			fz_get16(msg + o - 2) == alen && !memcmp(msg + o, addr, alen);
	FUZZ_ASSERT(found);
}

static void check_cache(const struct dns_query *q, const uint8_t *reply, size_t rlen, size_t limit,
			unsigned wait_s)
{
	static const struct cache_conf conf = {
	    .enabled = true,
	    .size = 1 << 20,
	    .min_ttl = 0,
	    .max_ttl = 86400,
	    .negative_ttl_max = 3600,
	};
	size_t qlen = q->question_end - DNS_HDR_LEN;
	size_t min = DNS_HDR_LEN + qlen + (q->edns ? 11 : 0);
	const uint64_t t0 = 1000000;
	struct cache *c = cache_new(&conf);
	size_t n;

	FUZZ_ASSERT(c);
	cache_store(c, q, reply, rlen, t0);
	n = cache_lookup(c, q, t0 + (uint64_t)wait_s * 1000, buf, sizeof(buf), limit);
	FUZZ_ASSERT(n <= sizeof(buf));
	if (n) {
		FUZZ_ASSERT(n >= DNS_HDR_LEN + qlen);
		FUZZ_ASSERT(fz_get16(buf) == q->id);
		FUZZ_ASSERT(!memcmp(buf + DNS_HDR_LEN, q->pkt + DNS_HDR_LEN, qlen));
		FUZZ_ASSERT(!dnsmsg_is_truncated(reply, rlen));
		if (limit >= min)
			FUZZ_ASSERT(n <= limit);
	}
	/* A tight buffer must not be overrun (ASan sees it: buf is the exact size). */
	if (n > DNS_HDR_LEN) {
		uint8_t *tight = malloc(n - 1);

		FUZZ_ASSERT(tight);
		FUZZ_ASSERT(cache_lookup(c, q, t0 + (uint64_t)wait_s * 1000, tight, n - 1, limit) <
			    n);
		free(tight);
	}
	/*
	 * Then every upstream fails (RFC 9520): SERVFAIL for a short time, unless an answer is
	 * still cached (it keeps being served).
	 */
	{
		uint64_t tf = t0 + (uint64_t)wait_s * 1000 + 1;
		size_t m;

		cache_store_failure(c, q, tf);
		m = cache_lookup(c, q, tf + 500, buf, sizeof(buf), limit);
		FUZZ_ASSERT(m > 0 || n > 0);
		if (m) {
			FUZZ_ASSERT(m >= DNS_HDR_LEN + qlen && fz_get16(buf) == q->id);
			FUZZ_ASSERT(!memcmp(buf + DNS_HDR_LEN, q->pkt + DNS_HDR_LEN, qlen));
			/*
			 * The SERVFAIL is not cut to the limit: at most 12 + 259 + 17 bytes, it
			 * fits any real one (512 and up).
			 */
			if (limit >= (n ? min : DNS_UDP_MIN))
				FUZZ_ASSERT(m <= limit);
			if (!n) { /* synthesized by the cache: must be well formed */
				FUZZ_ASSERT(dnsmsg_rcode(buf, m) == DNS_SERVFAIL);
				fz_check_wire(buf, m);
			}
		}
	}
	cache_free(c);
}

/*
 * A small cache under pressure: the same reply stored under the four DO/CD keys (the reply
 * matches each), looked up in between (CLOCK bits), then the cache shrunk and disabled.
 * Checks the byte bound and the stats.
 */
static void check_cache_pressure(const struct dns_query *q, const uint8_t *reply, size_t rlen,
				 size_t limit, unsigned ctl)
{
	struct cache_conf conf = {
	    .enabled = true,
	    .size = 2048u << (ctl & 7),
	    .min_ttl = ctl & 8 ? 30 : 0,
	    .max_ttl = ctl & 16 ? 60 : 86400,
	    .negative_ttl_max = 3600,
	};
	struct cache *c = cache_new(&conf);
	struct cache_stats st;
	uint64_t t = 5000;

	FUZZ_ASSERT(c);
	for (unsigned round = 0; round < 3; round++) {
		for (unsigned v = 0; v < 4; v++) {
			struct dns_query k = *q;
			size_t n;

			k.edns_do = v & 1;
			k.cd = (v >> 1) & 1;
			t += 700;
			if ((v + round) % 3 == 0)
				cache_store_failure(c, &k, t);
			else
				cache_store(c, &k, reply, rlen, t);
			n = cache_lookup(c, &k, t + 10, buf, sizeof(buf), limit);
			if (n) {
				FUZZ_ASSERT(fz_get16(buf) == q->id);
				FUZZ_ASSERT(((buf[3] & 0x10) != 0) == k.cd ||
					    dnsmsg_rcode(buf, n) != DNS_SERVFAIL);
			}
			cache_get_stats(c, &st);
			FUZZ_ASSERT(st.entries <= 4);
			FUZZ_ASSERT(st.bytes <= conf.size);
		}
		t += 300000u * round;
	}
	conf.size /= 4;
	cache_reconfigure(c, &conf);
	cache_get_stats(c, &st);
	FUZZ_ASSERT(st.bytes <= conf.size || st.entries == 0);
	(void)cache_lookup(c, q, t, buf, sizeof(buf), limit);
	conf.enabled = false;
	cache_reconfigure(c, &conf);
	cache_get_stats(c, &st);
	FUZZ_ASSERT(st.entries == 0);
	FUZZ_ASSERT(cache_lookup(c, q, t, buf, sizeof(buf), limit) == 0);
	cache_free(c);
}

/* Names in answers the inspection may find: blocked, logged, allowed. */
static const char inspect_list[] = "allow: [ok.evil.test]\n"
				   "block:\n"
				   "  - evil.test\n"
				   "  - c2.example\n"
				   "  - {domain: watch.test, action: log}\n";

/*
 * policy_inspect_answer over the reply: a hit names a well-formed canonical name that the
 * policy decides as reported, and makes a valid block-log line.
 */
static void check_inspection(const struct dns_query *q, const uint8_t *reply, size_t rlen)
{
	static struct policy *p;
	struct answer_hit hit;
	struct policy_match m;
	struct blocklog_rec rec;
	enum verdict v;
	unsigned an = 0;
	size_t off, i;

	if (!p) {
		struct parse_errs errs = {0};

		p = policy_load_string(inspect_list, strlen(inspect_list), "inspect.yaml", 0,
				       1700000000, &errs);
		FUZZ_ASSERT(p);
	}
	off = dnsmsg_answer_section(reply, rlen, &an);
	if (!off)
		return;
	FUZZ_ASSERT(off == q->question_end);
	v = policy_inspect_answer(p, reply, rlen, off, an, INSPECT_NAMES, 1700000000, &hit);
	FUZZ_ASSERT(v == VERDICT_PASS || v == VERDICT_BLOCK || v == VERDICT_LOG);
	if (v == VERDICT_PASS)
		return;
	FUZZ_ASSERT(hit.name_len >= 1 && hit.name_len <= DNS_MAX_NAME);
	for (i = 0; i < hit.name_len && hit.name[i]; i += 1u + hit.name[i]) {
		FUZZ_ASSERT(hit.name[i] <= 63);
		for (size_t k = 1; k <= hit.name[i]; k++)
			FUZZ_ASSERT(!(hit.name[i + k] >= 'A' && hit.name[i + k] <= 'Z'));
	}
	FUZZ_ASSERT(i == hit.name_len - 1u);
	policy_lookup(p, hit.name, hit.name_len, 1700000000, &m);
	FUZZ_ASSERT(m.verdict == v && m.meta == hit.m.meta && m.rule_off == hit.m.rule_off);
	memset(&rec, 0, sizeof(rec));
	rec.src_family = AF_INET;
	rec.qname_len = q->name_len;
	memcpy(rec.qname, q->name, q->name_len);
	rec.qtype = q->qtype;
	rec.action = v == VERDICT_BLOCK ? BLOCKLOG_BLOCKED : BLOCKLOG_ALLOWED;
	rec.via = BLOCKLOG_VIA_CNAME;
	rec.rule_off = (uint8_t)hit.m.rule_off;
	rec.matched_len = hit.name_len;
	memcpy(rec.matched, hit.name, hit.name_len);
	rec.meta = hit.m.meta;
	fz_check_blocklog(&rec, "fuzz");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dns_query q;
	const uint8_t *query, *reply;
	size_t qlen, rlen, limit, n;
	uint8_t ctl;
	uint16_t id;
	bool ok;

	if (size < 3)
		return 0;
	ctl = data[0];
	qlen = fz_get16(data + 1);
	if (qlen > size - 3)
		qlen = size - 3;
	query = data + 3;
	reply = query + qlen;
	rlen = size - 3 - qlen;

	/* The reply alone: what upstream.c looks at before accepting it. */
	(void)dnsmsg_is_truncated(reply, rlen);
	FUZZ_ASSERT(dnsmsg_rcode(reply, rlen) == (rlen >= DNS_HDR_LEN ? (reply[3] & 0x0F) : -1));
	check_first_address(reply, rlen);

	if (dnsmsg_parse_query(query, qlen, &q) != QUERY_OK)
		return 0;
	id = (ctl & 1) && rlen >= 2 ? fz_get16(reply) : FIXED_ID;
	ok = dnsmsg_reply_matches(reply, rlen, id, &q);
	if (!ok)
		return 0;
	FUZZ_ASSERT(rlen >= q.question_end && fz_get16(reply) == id && (reply[2] & 0x80));
	FUZZ_ASSERT(fz_get16(reply + 4) == 1);
	for (size_t i = DNS_HDR_LEN; i < q.question_end; i++) {
		uint8_t a = reply[i], b = query[i];

		if (a >= 'A' && a <= 'Z')
			a = (uint8_t)(a + 32);
		if (b >= 'A' && b <= 'Z')
			b = (uint8_t)(b + 32);
		FUZZ_ASSERT(a == b);
	}

	switch ((ctl >> 1) & 3) {
	case 0:
		limit = q.udp_limit;
		break;
	case 1:
		limit = DNS_UDP_MIN;
		break;
	case 2:
		limit = 65535;
		break;
	default:
		limit = rlen - 1;
		break;
	}

	/* In a buffer of exactly the reply's size (UDP receive is bigger; TCP is exact). */
	{
		uint8_t *exact = malloc(rlen);

		FUZZ_ASSERT(exact);
		memcpy(exact, reply, rlen);
		n = dnsmsg_relay_reply(exact, rlen, rlen, &q, limit);
		check_relayed(&q, reply, rlen, exact, n, rlen, limit);
		check_first_address(exact, n);
		free(exact);
	}
	/* In a large buffer, at every limit that matters. */
	memcpy(buf, reply, rlen);
	n = dnsmsg_relay_reply(buf, rlen, sizeof(buf), &q, limit);
	check_relayed(&q, reply, rlen, buf, n, sizeof(buf), limit);
	memcpy(buf, reply, rlen);
	n = dnsmsg_relay_reply(buf, rlen, sizeof(buf), &q, q.udp_limit);
	check_relayed(&q, reply, rlen, buf, n, sizeof(buf), q.udp_limit);

	check_inspection(&q, reply, rlen);
	check_cache(&q, reply, rlen, limit, (unsigned)(ctl >> 3) * 64);
	check_cache_pressure(&q, reply, rlen, limit, ctl >> 3);
	return 0;
}
