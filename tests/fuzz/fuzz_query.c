/* SPDX-License-Identifier: MIT */
/*
 * fuzz_query: the input is one client packet (UDP payload / TCP message without the length).
 *
 * dnsmsg_parse_query on it, then every answer the daemon could build for it: sinkhole answers
 * in each mode, with rule_off at each label boundary (and off it), under several size limits
 * and buffer capacities; error answers; the upstream query; and the block-log line of the
 * lookup. Checks the contracts of dnsmsg.h and DESIGN.md section 5 on each: length within cap
 * and limit, ID/RD/CD/question echoed, TC when cut, a message ldns can parse.
 */
#include <sys/socket.h>

#include "config.h"
#include "fuzz_common.h"

static const struct sinkhole_conf confs[] = {
    {SINKHOLE_ADDRESS, {192, 0, 2, 1}, {0x20, 0x01, 0x0d, 0xb8, [15] = 1}, 60, 0},
    {SINKHOLE_NXDOMAIN, {0}, {0}, 3600, 0},
    {SINKHOLE_NODATA, {0}, {0}, 0, 0},
    {SINKHOLE_REFUSED, {0}, {0}, 604800, 0},
};

static uint8_t out[65536];

/* What the parse promises about q for each status. */
static void check_parsed(const uint8_t *data, size_t size, enum query_status st,
			 const struct dns_query *q)
{
	FUZZ_ASSERT(q->pkt == data && q->len == size);
	if (st == QUERY_DROP) {
		FUZZ_ASSERT(size < DNS_HDR_LEN || (data[2] & 0x80));
		return;
	}
	FUZZ_ASSERT(size >= DNS_HDR_LEN && !(data[2] & 0x80));
	FUZZ_ASSERT(q->id == fz_get16(data));
	FUZZ_ASSERT(q->udp_limit >= DNS_UDP_MIN && q->udp_limit <= DNS_EDNS_SIZE);
	FUZZ_ASSERT(q->edns || q->udp_limit == DNS_UDP_MIN);
	if (q->edns) {
		FUZZ_ASSERT(q->opt_off >= DNS_HDR_LEN + 3 && q->opt_off + 2 <= size);
		FUZZ_ASSERT(fz_get16(data + q->opt_off - 2) == DNS_T_OPT);
	}
	FUZZ_ASSERT(q->question_end >= DNS_HDR_LEN && q->question_end <= size);
	if (q->question_end > DNS_HDR_LEN) {
		size_t i = 0;

		FUZZ_ASSERT(q->question_end == DNS_HDR_LEN + q->name_len + 4u);
		FUZZ_ASSERT(q->name_len >= 1 && q->name[q->name_len - 1] == 0);
		while (q->name[i]) {
			FUZZ_ASSERT(q->name[i] <= 63);
			for (size_t k = 1; k <= q->name[i]; k++)
				FUZZ_ASSERT(!(q->name[i + k] >= 'A' && q->name[i + k] <= 'Z'));
			i += 1u + q->name[i];
			FUZZ_ASSERT(i < q->name_len);
		}
		FUZZ_ASSERT(i + 1 == q->name_len);
		FUZZ_ASSERT(q->qtype == fz_get16(data + q->question_end - 4));
		FUZZ_ASSERT(q->qclass == fz_get16(data + q->question_end - 2));
	}
	if (st == QUERY_OK) {
		FUZZ_ASSERT(q->question_end > DNS_HDR_LEN && q->opcode == 0);
		FUZZ_ASSERT(!q->edns || q->edns_version == 0);
	}
	if (st == QUERY_BADVERS)
		FUZZ_ASSERT(q->edns && q->edns_version > 0);
	if (st == QUERY_NOTIMP)
		FUZZ_ASSERT(q->opcode != 0);
}

/* The synthetic SOA's owner is the matched rule (or the whole name when rule_off is bad). */
static void check_soa_owner(const struct dns_query *q, const ldns_pkt *pkt, int rule_off,
			    bool boundary)
{
	ldns_rr_list *auth = ldns_pkt_authority(pkt);
	size_t off = boundary ? (size_t)rule_off : 0;
	ldns_rdf *want;

	FUZZ_ASSERT(auth && ldns_rr_list_rr_count(auth) == 1);
	FUZZ_ASSERT(ldns_rr_get_type(ldns_rr_list_rr(auth, 0)) == LDNS_RR_TYPE_SOA);
	want = ldns_dname_new_frm_data((uint16_t)(q->name_len - off), q->name + off);
	FUZZ_ASSERT(want);
	FUZZ_ASSERT(ldns_dname_compare(ldns_rr_owner(ldns_rr_list_rr(auth, 0)), want) == 0);
	ldns_rdf_deep_free(want);
}

static bool is_boundary(const struct dns_query *q, int off)
{
	size_t i = 0;

	if (off < 0)
		return false;
	while (i < (size_t)off && i < q->name_len && q->name[i])
		i += 1u + q->name[i];
	return i == (size_t)off && i < q->name_len;
}

/* One sinkhole answer, with every check; returns its length. */
static size_t sinkhole(const struct dns_query *q, const struct sinkhole_conf *sc, int rule_off,
		       size_t cap, size_t limit, bool deep)
{
	size_t qlen = q->question_end - DNS_HDR_LEN;
	size_t min = DNS_HDR_LEN + qlen + (q->edns ? 11 + 6 : 0);
	bool addr = sc->mode == SINKHOLE_ADDRESS && q->qclass == 1 &&
		    (q->qtype == DNS_T_A || q->qtype == DNS_T_AAAA);
	bool soa = sc->mode == SINKHOLE_NXDOMAIN || sc->mode == SINKHOLE_NODATA ||
		   (sc->mode == SINKHOLE_ADDRESS && !addr);
	int rcode = sc->mode == SINKHOLE_NXDOMAIN  ? DNS_NXDOMAIN
		    : sc->mode == SINKHOLE_REFUSED ? DNS_REFUSED
						   : DNS_NOERROR;
	size_t n = dnsmsg_answer_sinkhole(q, sc, rule_off, out, cap, limit);
	bool tc;

	FUZZ_ASSERT(n <= cap);
	if (cap >= min)
		FUZZ_ASSERT(n >= min);
	else
		FUZZ_ASSERT(n == 0);
	if (n == 0)
		return 0;
	if (limit >= min)
		FUZZ_ASSERT(n <= limit);
	fz_check_answer_header(q, out, n, 0);
	tc = (out[2] & 0x02) != 0;
	FUZZ_ASSERT((out[3] & 0x0F) == rcode);
	FUZZ_ASSERT(out[3] & 0x80); /* RA */
	FUZZ_ASSERT(fz_get16(out + 4) == 1);
	FUZZ_ASSERT(fz_get16(out + 6) == (!tc && addr));
	FUZZ_ASSERT(fz_get16(out + 8) == (!tc && soa));
	FUZZ_ASSERT(fz_get16(out + 10) == q->edns);
	if (tc)
		FUZZ_ASSERT(n == min);
	if (!deep)
		return n;

	ldns_pkt *pkt = NULL;

	FUZZ_ASSERT(ldns_wire2pkt(&pkt, out, n) == LDNS_STATUS_OK);
	if (!tc && soa)
		check_soa_owner(q, pkt, rule_off, is_boundary(q, rule_off));
	if (!tc && addr) {
		ldns_rr *rr = ldns_rr_list_rr(ldns_pkt_answer(pkt), 0);
		ldns_rdf *rd = ldns_rr_rdf(rr, 0);

		FUZZ_ASSERT(ldns_rr_ttl(rr) == sc->ttl);
		if (q->qtype == DNS_T_A)
			FUZZ_ASSERT(ldns_rdf_size(rd) == 4 &&
				    !memcmp(ldns_rdf_data(rd), sc->ipv4, 4));
		else
			FUZZ_ASSERT(ldns_rdf_size(rd) == 16 &&
				    !memcmp(ldns_rdf_data(rd), sc->ipv6, 16));
	}
	if (q->edns) {
		FUZZ_ASSERT(ldns_pkt_edns(pkt));
		FUZZ_ASSERT(ldns_pkt_edns_udp_size(pkt) == DNS_EDNS_SIZE);
		FUZZ_ASSERT(ldns_pkt_edns_do(pkt) == q->edns_do);
	}
	ldns_pkt_free(pkt);
	return n;
}

static void error_answer(const struct dns_query *q, int rcode, int ede)
{
	size_t qlen = q->question_end - DNS_HDR_LEN;
	bool opt = q->edns || rcode > 15;
	size_t n = dnsmsg_answer_error(q, rcode, ede, out, sizeof(out));
	size_t want = DNS_HDR_LEN + qlen + (opt ? 11 + (ede == DNS_EDE_NONE ? 0 : 6) : 0);

	FUZZ_ASSERT(n == want);
	fz_check_answer_header(q, out, n, q->opcode);
	FUZZ_ASSERT((out[3] & 0x0F) == (rcode & 0x0F));
	FUZZ_ASSERT(fz_get16(out + 4) == (qlen ? 1 : 0));
	FUZZ_ASSERT(fz_get16(out + 6) == 0 && fz_get16(out + 8) == 0);
	FUZZ_ASSERT(fz_get16(out + 10) == opt);
	if (opt)
		FUZZ_ASSERT(out[n - (ede == DNS_EDE_NONE ? 0 : 6) - 11 + 5] == (rcode >> 4));
	fz_check_wire(out, n);
	/* All or nothing: one byte less and nothing is written. */
	FUZZ_ASSERT(dnsmsg_answer_error(q, rcode, ede, out, n - 1) == 0);
}

static void blocklog_line(const struct dns_query *q, int rule_off, uint8_t rcode)
{
	struct blocklog_rec r;

	memset(&r, 0, sizeof(r));
	/* Times around the epoch, now, and the extremes the clock could report. */
	r.time_ms = q->id % 3 == 0 ? 1795000000123 : q->id % 3 == 1 ? -1 : INT64_MAX / 2;
	r.src_family = q->rd ? AF_INET6 : AF_INET;
	memcpy(r.src_addr, q->pkt, q->len < 16 ? q->len : 16);
	r.src_port = q->id;
	r.proto = q->cd;
	r.action = q->edns;
	r.rcode = rcode;
	r.resp_family = (uint8_t)(q->qtype == DNS_T_A	   ? AF_INET
				  : q->qtype == DNS_T_AAAA ? AF_INET6
							   : 0);
	r.qtype = q->qtype;
	r.txid = q->id;
	r.qname_len = q->name_len;
	r.rule_off = (uint8_t)rule_off;
	memcpy(r.qname, q->name, q->name_len);
	/* One lookup, or identical ones aggregated (logagg.h): start_ms is time_ms. */
	r.count = q->id % 5;
	r.start_ms = r.time_ms;
	r.end_ms = r.time_ms + (r.count > 1 ? q->id >> 3 : 0);
	/* Forwarded: DnsNetworkDuration. A query-log record of a name no entry matched. */
	r.has_net = q->edns_do;
	r.net_ms = (uint32_t)q->id * 65537u;
	if (q->opcode & 2) {
		r.unlisted = 1;
		r.rule_off = r.qname_len;
		r.orig = q->id & 1 ? BLOCKLOG_ORIG_FORWARD : BLOCKLOG_ORIG_CACHE;
	}
	fz_check_blocklog(&r, q->opcode & 1 ? "d\"v\\c\x01\xff" : "dns1");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int rcodes[] = {DNS_FORMERR, DNS_SERVFAIL, DNS_NOTIMP, DNS_REFUSED,
				     DNS_BADVERS};
	static const int edes[] = {DNS_EDE_NONE, DNS_EDE_BLOCKED, DNS_EDE_PROHIBITED,
				   DNS_EDE_NO_REACHABLE_AUTHORITY};
	struct dns_query q;
	enum query_status st = dnsmsg_parse_query(data, size, &q);
	int bounds[DNS_MAX_NAME];
	size_t nb = 0;

	check_parsed(data, size, st, &q);
	if (st == QUERY_DROP)
		return 0;

	for (size_t i = 0; i < sizeof(rcodes) / sizeof(rcodes[0]); i++)
		error_answer(&q, rcodes[i], edes[(i + q.id) % 4]);
	if (q.question_end == DNS_HDR_LEN) /* nothing to sinkhole without a question */
		FUZZ_ASSERT(dnsmsg_answer_sinkhole(&q, &confs[0], 0, out, sizeof(out), 65535) == 0);
	if (st != QUERY_OK) {
		/* A question-less query's log line must still be valid. */
		if (q.question_end > DNS_HDR_LEN)
			blocklog_line(&q, 0, DNS_FORMERR);
		return 0;
	}

	{
		size_t n = dnsmsg_forward_query(&q, (uint16_t)~q.id, out, sizeof(out));

		FUZZ_ASSERT(n == size);
		FUZZ_ASSERT(fz_get16(out) == (uint16_t)~q.id);
		if (q.opt_off) {
			FUZZ_ASSERT(fz_get16(out + q.opt_off) == DNS_EDNS_SIZE);
			FUZZ_ASSERT(!memcmp(out + 2, data + 2, q.opt_off - 2));
			FUZZ_ASSERT(!memcmp(out + q.opt_off + 2, data + q.opt_off + 2,
					    size - q.opt_off - 2));
		} else {
			FUZZ_ASSERT(!memcmp(out + 2, data + 2, size - 2));
		}
		FUZZ_ASSERT(dnsmsg_forward_query(&q, 1, out, size - 1) == 0);
	}

	for (size_t i = 0; i < q.name_len; i += 1u + q.name[i]) {
		bounds[nb++] = (int)i;
		if (!q.name[i])
			break;
	}

	for (size_t m = 0; m < sizeof(confs) / sizeof(confs[0]); m++) {
		const struct sinkhole_conf *sc = &confs[m];
		static const int odd[] = {-1, 1, DNS_MAX_NAME, 0x7fffffff, -0x7fffffff};
		size_t full, min;

		/*
		 * rule_off at each label boundary (the first and last 12 of a long name), off
		 * them and out of range. ldns re-parses a few of them (it is the slow part).
		 */
		for (size_t b = 0; b < nb; b++)
			if (b < 12 || nb - b <= 12)
				sinkhole(&q, sc, bounds[b], sizeof(out), 65535,
					 b < 2 || nb - b <= 2);
		for (size_t k = 0; k < sizeof(odd) / sizeof(odd[0]); k++)
			sinkhole(&q, sc, odd[k], sizeof(out), 65535, k == 0);
		if (nb > 1)
			sinkhole(&q, sc, bounds[1] + 1, sizeof(out), 65535, true); /* mid-label */

		/* Limits: the client's, plain UDP, TCP, and around the full and minimum sizes. */
		full = sinkhole(&q, sc, 0, sizeof(out), 65535, false);
		min = DNS_HDR_LEN + (q.question_end - DNS_HDR_LEN) + (q.edns ? 17 : 0);
		FUZZ_ASSERT(full >= min);
		sinkhole(&q, sc, 0, sizeof(out), q.udp_limit, false);
		sinkhole(&q, sc, 0, sizeof(out), DNS_UDP_MIN, false);
		sinkhole(&q, sc, 0, sizeof(out), full, false);
		if (full > min) {
			FUZZ_ASSERT(sinkhole(&q, sc, 0, sizeof(out), full - 1, true) == min);
			FUZZ_ASSERT(sinkhole(&q, sc, 0, full - 1, 65535, false) == min);
		}
		sinkhole(&q, sc, 0, sizeof(out), min, false);
		sinkhole(&q, sc, 0, sizeof(out), min - 1, false);
		sinkhole(&q, sc, 0, sizeof(out), 0, false);
		/* Capacities: exact, one short of the minimum, none. */
		sinkhole(&q, sc, 0, full, 65535, false);
		sinkhole(&q, sc, 0, min, 65535, false);
		sinkhole(&q, sc, 0, min - 1, 65535, false);
		sinkhole(&q, sc, 0, 0, 0, false);
	}

	/* The block-log line for this lookup, RuleName at each boundary. */
	for (size_t b = 0; b < nb; b++)
		if (b < 4 || nb - b <= 2)
			blocklog_line(&q, bounds[b], (uint8_t)(b & 7));
	blocklog_line(&q, DNS_MAX_NAME - 1, DNS_NOERROR);
	return 0;
}
