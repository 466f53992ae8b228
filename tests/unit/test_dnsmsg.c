/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for dnsmsg: crafted wire bytes in, exact bytes and values out. Built answers are
 * cross-checked with ldns_wire2pkt.
 */
/* cmocka needs these first, in this order */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <ldns/ldns.h>

#include "config.h"
#include "dnsmsg.h"
#include "wire.h"

/* ---- building test packets ---- */


#define F2_RD 0x01
#define F3_CD 0x10

static void put_hdr(struct msg *m, uint16_t id, uint8_t f2, uint8_t f3, uint16_t qd, uint16_t an,
		    uint16_t ns, uint16_t ar)
{
	m->len = 0;
	put16(m, id);
	put8(m, f2);
	put8(m, f3);
	put16(m, qd);
	put16(m, an);
	put16(m, ns);
	put16(m, ar);
}

static void put_q(struct msg *m, const char *name, uint16_t type, uint16_t class)
{
	put_name(m, name);
	put16(m, type);
	put16(m, class);
}

static void put_opt(struct msg *m, uint16_t udp, uint8_t version, bool do_bit)
{
	put8(m, 0);
	put16(m, DNS_T_OPT);
	put16(m, udp);
	put8(m, 0);
	put8(m, version);
	put8(m, do_bit ? 0x80 : 0);
	put8(m, 0);
	put16(m, 0);
}

#define QNAME "WwW.EvIl.CoM"
/* QNAME on the wire: 14 bytes; question = 18 bytes; question_end = 30 */
static const uint8_t qname_wire[] = "\x03"
				    "WwW"
				    "\x04"
				    "EvIl"
				    "\x03"
				    "CoM";
static const uint8_t qname_lower[] = "\x03"
				     "www"
				     "\x04"
				     "evil"
				     "\x03"
				     "com";
#define QEND 30

/* A standard query for QNAME: RD=1, CD=1, id 0xBEEF, optional EDNS. */
static void std_query(struct msg *m, uint16_t type, bool edns, uint16_t udp, bool do_bit)
{
	put_hdr(m, 0xBEEF, F2_RD, F3_CD, 1, 0, 0, edns);
	put_q(m, QNAME, type, 1);
	if (edns)
		put_opt(m, udp, 0, do_bit);
}

static enum query_status parse(const struct msg *m, struct dns_query *q)
{
	return dnsmsg_parse_query(m->b, m->len, q);
}

static ldns_pkt *to_ldns(const uint8_t *b, size_t len)
{
	ldns_pkt *p = NULL;

	assert_int_equal(ldns_wire2pkt(&p, b, len), LDNS_STATUS_OK);
	assert_non_null(p);
	return p;
}

static const struct sinkhole_conf default_sc = {
    .mode = SINKHOLE_ADDRESS, .ipv4 = {0, 0, 0, 0}, .ipv6 = {0}, .ttl = 60};

/* ---- parse ---- */

static void test_parse_normal(void **state)
{
	struct msg m;
	struct dns_query q;

	(void)state;
	std_query(&m, DNS_T_A, false, 0, false);
	assert_int_equal(m.len, QEND);
	assert_int_equal(parse(&m, &q), QUERY_OK);
	assert_ptr_equal(q.pkt, m.b);
	assert_int_equal(q.len, QEND);
	assert_int_equal(q.id, 0xBEEF);
	assert_int_equal(q.opcode, 0);
	assert_true(q.rd);
	assert_true(q.cd);
	assert_int_equal(q.qtype, DNS_T_A);
	assert_int_equal(q.qclass, 1);
	assert_int_equal(q.question_end, QEND);
	assert_int_equal(q.name_len, 14);
	assert_memory_equal(q.name, qname_lower, 14);
	assert_false(q.edns);
	assert_int_equal(q.udp_limit, 512);
	assert_int_equal(q.opt_off, 0);

	/* RD=0, CD=0, other type */
	put_hdr(&m, 1, 0, 0, 1, 0, 0, 0);
	put_q(&m, "a", DNS_T_MX, 1);
	assert_int_equal(parse(&m, &q), QUERY_OK);
	assert_false(q.rd);
	assert_false(q.cd);
	assert_int_equal(q.qtype, DNS_T_MX);
	assert_int_equal(q.name_len, 3);
	assert_memory_equal(q.name,
			    "\x01"
			    "a\x00",
			    3);

	/* root name */
	put_hdr(&m, 1, 0, 0, 1, 0, 0, 0);
	put_q(&m, "", DNS_T_NS, 1);
	assert_int_equal(parse(&m, &q), QUERY_OK);
	assert_int_equal(q.name_len, 1);
	assert_int_equal(q.name[0], 0);
	assert_int_equal(q.question_end, 17);
}

static void test_parse_non_ascii_not_lowered(void **state)
{
	struct msg m;
	struct dns_query q;

	(void)state;
	put_hdr(&m, 1, 0, 0, 1, 0, 0, 0);
	put(&m, "\x04\xC4Z@[\x00", 6);
	put16(&m, 1);
	put16(&m, 1);
	assert_int_equal(parse(&m, &q), QUERY_OK);
	assert_memory_equal(q.name, "\x04\xC4z@[\x00", 6);
}

static void test_parse_edns(void **state)
{
	struct msg m;
	struct dns_query q;

	(void)state;
	std_query(&m, DNS_T_AAAA, true, 4096, true);
	assert_int_equal(parse(&m, &q), QUERY_OK);
	assert_true(q.edns);
	assert_int_equal(q.edns_udp, 4096);
	assert_true(q.edns_do);
	assert_int_equal(q.edns_version, 0);
	assert_int_equal(q.udp_limit, 1232);
	assert_int_equal(q.opt_off, QEND + 3);
	assert_int_equal(q.question_end, QEND);
	assert_int_equal(q.qtype, DNS_T_AAAA);

	std_query(&m, DNS_T_A, true, 100, false);
	assert_int_equal(parse(&m, &q), QUERY_OK);
	assert_false(q.edns_do);
	assert_int_equal(q.edns_udp, 100);
	assert_int_equal(q.udp_limit, 512);

	std_query(&m, DNS_T_A, true, 1000, false);
	assert_int_equal(parse(&m, &q), QUERY_OK);
	assert_int_equal(q.udp_limit, 1000);

	std_query(&m, DNS_T_A, true, 1232, false);
	assert_int_equal(parse(&m, &q), QUERY_OK);
	assert_int_equal(q.udp_limit, 1232);
}

static void test_parse_edns_with_options_and_tsig(void **state)
{
	struct msg m;
	struct dns_query q;

	(void)state;
	/* additional: a TSIG-like record with a compressed owner, then OPT with a cookie option */
	put_hdr(&m, 7, 0, 0, 1, 0, 0, 2);
	put_q(&m, QNAME, DNS_T_A, 1);
	put16(&m, 0xC00C);
	put16(&m, 250);
	put16(&m, 255);
	put32(&m, 0);
	put16(&m, 3);
	put(&m, "abc", 3);
	size_t opt = m.len;
	put8(&m, 0);
	put16(&m, DNS_T_OPT);
	put16(&m, 1400);
	put32(&m, 0x00008000);
	put16(&m, 12);
	put16(&m, 10); /* COOKIE */
	put16(&m, 8);
	put(&m, "01234567", 8);
	put(&m, "trailing", 8); /* ignored */
	assert_int_equal(parse(&m, &q), QUERY_OK);
	assert_true(q.edns);
	assert_true(q.edns_do);
	assert_int_equal(q.edns_udp, 1400);
	assert_int_equal(q.udp_limit, 1232);
	assert_int_equal(q.opt_off, opt + 3);
}

static void test_parse_drop(void **state)
{
	struct msg m;
	struct dns_query q;

	(void)state;
	std_query(&m, DNS_T_A, false, 0, false);
	for (size_t len = 0; len < DNS_HDR_LEN; len++)
		assert_int_equal(dnsmsg_parse_query(m.b, len, &q), QUERY_DROP);
	m.b[2] |= 0x80; /* QR=1 */
	assert_int_equal(parse(&m, &q), QUERY_DROP);
}

static void test_parse_cut(void **state)
{
	struct msg m;
	struct dns_query q;

	(void)state;
	/* every cut of the question (name or QTYPE/QCLASS) is FORMERR */
	std_query(&m, DNS_T_A, false, 0, false);
	for (size_t len = DNS_HDR_LEN; len < m.len; len++) {
		assert_int_equal(dnsmsg_parse_query(m.b, len, &q), QUERY_FORMERR);
		assert_int_equal(q.question_end, DNS_HDR_LEN);
	}
	/* every cut of the OPT too, and then no EDNS is reported */
	std_query(&m, DNS_T_A, true, 4096, true);
	for (size_t len = QEND; len < m.len; len++) {
		assert_int_equal(dnsmsg_parse_query(m.b, len, &q), QUERY_FORMERR);
		assert_int_equal(q.question_end, QEND);
		assert_false(q.edns);
		assert_int_equal(q.udp_limit, 512);
	}
	/* OPT with RDLENGTH beyond the packet */
	m.b[m.len - 1] = 4;
	assert_int_equal(parse(&m, &q), QUERY_FORMERR);
	put(&m, "\x00\x0a\x00", 3);
	assert_int_equal(parse(&m, &q), QUERY_FORMERR);
	put8(&m, 0);
	assert_int_equal(parse(&m, &q), QUERY_OK);
}

static void test_parse_bad_labels(void **state)
{
	struct msg m;
	struct dns_query q;

	(void)state;
	/* compression pointer after a label */
	put_hdr(&m, 1, 0, 0, 1, 0, 0, 0);
	put(&m, "\x03www\xC0\x0C", 6);
	put32(&m, 0x00010001);
	assert_int_equal(parse(&m, &q), QUERY_FORMERR);
	/* pointer to itself (a loop) */
	put_hdr(&m, 1, 0, 0, 1, 0, 0, 0);
	put(&m, "\xC0\x0C", 2);
	put32(&m, 0x00010001);
	assert_int_equal(parse(&m, &q), QUERY_FORMERR);
	/* reserved label types 01 and 10 (length bytes 64+), with enough bytes to follow */
	static const uint8_t types[] = {0x40, 0x41, 0x7F, 0x80, 0xBF};

	for (size_t i = 0; i < sizeof(types); i++) {
		uint8_t label[0xBF];

		memset(label, 'a', sizeof(label));
		put_hdr(&m, 1, 0, 0, 1, 0, 0, 0);
		put8(&m, types[i]);
		put(&m, label, types[i]);
		put8(&m, 0);
		put32(&m, 0x00010001);
		assert_int_equal(parse(&m, &q), QUERY_FORMERR);
		assert_int_equal(q.question_end, DNS_HDR_LEN);
	}
	put_hdr(&m, 1, 0, 0, 1, 0, 0, 0);
	put8(&m, 0x3F);
	for (int i = 0; i < 0x3F; i++)
		put8(&m, 'a');
	put8(&m, 0);
	put32(&m, 0x00010001);
	assert_int_equal(parse(&m, &q), QUERY_OK);
}

static void put_label63(struct msg *m, char c)
{
	char l[63];

	memset(l, c, sizeof(l));
	put8(m, 63);
	put(m, l, sizeof(l));
}

static void test_parse_name_length(void **state)
{
	struct msg m;
	struct dns_query q;
	char l61[61];

	(void)state;
	memset(l61, 'X', sizeof(l61));
	/* 3 * 64 + 62 + 1 = 255 bytes: the longest legal name */
	put_hdr(&m, 1, 0, 0, 1, 0, 0, 0);
	put_label63(&m, 'A');
	put_label63(&m, 'B');
	put_label63(&m, 'C');
	put8(&m, 61);
	put(&m, l61, 61);
	put8(&m, 0);
	put32(&m, 0x00010001);
	assert_int_equal(parse(&m, &q), QUERY_OK);
	assert_int_equal(q.name_len, 255);
	assert_int_equal(q.name[1], 'a');
	assert_int_equal(q.name[253], 'x');
	assert_int_equal(q.name[254], 0);
	assert_int_equal(q.question_end, DNS_HDR_LEN + 255 + 4);

	/* 256 bytes */
	put_hdr(&m, 1, 0, 0, 1, 0, 0, 0);
	put_label63(&m, 'A');
	put_label63(&m, 'B');
	put_label63(&m, 'C');
	put8(&m, 62);
	put(&m, l61, 61);
	put8(&m, 'X');
	put8(&m, 0);
	put32(&m, 0x00010001);
	assert_int_equal(parse(&m, &q), QUERY_FORMERR);

	/* 5 labels of 63 */
	put_hdr(&m, 1, 0, 0, 1, 0, 0, 0);
	for (int i = 0; i < 5; i++)
		put_label63(&m, 'a');
	put8(&m, 0);
	put32(&m, 0x00010001);
	assert_int_equal(parse(&m, &q), QUERY_FORMERR);
}

static void test_parse_counts(void **state)
{
	struct msg m;
	struct dns_query q;

	(void)state;
	/* QDCOUNT 0: FORMERR, no question, but a well-formed OPT is still seen */
	put_hdr(&m, 1, 0, 0, 0, 0, 0, 1);
	put_opt(&m, 4096, 0, true);
	assert_int_equal(parse(&m, &q), QUERY_FORMERR);
	assert_int_equal(q.question_end, DNS_HDR_LEN);
	assert_true(q.edns);
	assert_true(q.edns_do);

	/* QDCOUNT 2 */
	put_hdr(&m, 1, 0, 0, 2, 0, 0, 0);
	put_q(&m, "a", 1, 1);
	put_q(&m, "b", 1, 1);
	assert_int_equal(parse(&m, &q), QUERY_FORMERR);
	assert_int_equal(q.question_end, DNS_HDR_LEN);

	/* ANCOUNT 1: FORMERR, question parsed (for the echo) */
	put_hdr(&m, 1, 0, 0, 1, 1, 0, 0);
	put_q(&m, QNAME, 1, 1);
	put16(&m, 0xC00C);
	put16(&m, 1);
	put16(&m, 1);
	put32(&m, 60);
	put16(&m, 4);
	put32(&m, 0x7f000001);
	assert_int_equal(parse(&m, &q), QUERY_FORMERR);
	assert_int_equal(q.question_end, QEND);
	assert_int_equal(q.qtype, 1);

	/* NSCOUNT 1 */
	m.b[7] = 0;
	m.b[9] = 1;
	assert_int_equal(parse(&m, &q), QUERY_FORMERR);
	assert_int_equal(q.question_end, QEND);

	/* ARCOUNT larger than the records present */
	std_query(&m, DNS_T_A, true, 4096, false);
	m.b[11] = 2;
	assert_int_equal(parse(&m, &q), QUERY_FORMERR);
	assert_false(q.edns);
}

static void test_parse_opt_errors(void **state)
{
	struct msg m;
	struct dns_query q;

	(void)state;
	/* two OPTs */
	put_hdr(&m, 1, 0, 0, 1, 0, 0, 2);
	put_q(&m, QNAME, 1, 1);
	put_opt(&m, 4096, 0, false);
	put_opt(&m, 4096, 0, false);
	assert_int_equal(parse(&m, &q), QUERY_FORMERR);
	assert_false(q.edns);
	assert_int_equal(q.question_end, QEND);

	/* OPT owner not root */
	put_hdr(&m, 1, 0, 0, 1, 0, 0, 1);
	put_q(&m, QNAME, 1, 1);
	put16(&m, 0xC00C);
	put16(&m, DNS_T_OPT);
	put16(&m, 4096);
	put32(&m, 0);
	put16(&m, 0);
	assert_int_equal(parse(&m, &q), QUERY_FORMERR);

	/* OPT in the authority section: FORMERR (NSCOUNT != 0 anyway) */
	put_hdr(&m, 1, 0, 0, 1, 0, 1, 0);
	put_q(&m, QNAME, 1, 1);
	put_opt(&m, 4096, 0, false);
	assert_int_equal(parse(&m, &q), QUERY_FORMERR);
	assert_false(q.edns);

	/* a compression pointer loop in an additional record's owner is malformed: FORMERR */
	put_hdr(&m, 1, 0, 0, 1, 0, 0, 1);
	put_q(&m, QNAME, 1, 1);
	put16(&m, 0xC000 | QEND);
	put16(&m, 250);
	put16(&m, 255);
	put32(&m, 0);
	put16(&m, 0);
	assert_int_equal(parse(&m, &q), QUERY_FORMERR);
	/* a backward pointer (to the question's name) is fine: not followed */
	m.b[QEND + 1] = 12;
	assert_int_equal(parse(&m, &q), QUERY_OK);
	m.b[QEND + 1] = (uint8_t)QEND;
	/* a reserved label type there is FORMERR */
	m.b[QEND] = 0x40;
	assert_int_equal(parse(&m, &q), QUERY_FORMERR);
}

static void test_parse_badvers(void **state)
{
	struct msg m;
	struct dns_query q;

	(void)state;
	put_hdr(&m, 0x1234, F2_RD, 0, 1, 0, 0, 1);
	put_q(&m, QNAME, 1, 1);
	put_opt(&m, 4096, 1, true);
	assert_int_equal(parse(&m, &q), QUERY_BADVERS);
	assert_true(q.edns);
	assert_int_equal(q.edns_version, 1);
	assert_true(q.edns_do);
	assert_int_equal(q.question_end, QEND);
	assert_int_equal(q.udp_limit, 1232);
}

static void test_parse_notimp(void **state)
{
	struct msg m;
	struct dns_query q;

	(void)state;
	std_query(&m, DNS_T_A, true, 4096, false);
	m.b[2] = (2 << 3) | F2_RD; /* opcode STATUS */
	assert_int_equal(parse(&m, &q), QUERY_NOTIMP);
	assert_int_equal(q.opcode, 2);
	assert_int_equal(q.id, 0xBEEF);
	assert_true(q.rd);
	assert_int_equal(q.question_end, QEND);
	assert_true(q.edns);

	/* question that does not parse: still NOTIMP, no question */
	m.b[12] = 0xC0;
	assert_int_equal(parse(&m, &q), QUERY_NOTIMP);
	assert_int_equal(q.question_end, DNS_HDR_LEN);

	/* NOTIMP wins over a malformed rest */
	put_hdr(&m, 1, 5 << 3, 0, 3, 9, 9, 9);
	assert_int_equal(parse(&m, &q), QUERY_NOTIMP);
	assert_int_equal(q.opcode, 5);
	assert_int_equal(q.question_end, DNS_HDR_LEN);
}

/* Random mutations and cuts: no crash (ASan/UBSan), invariants hold, answers parse. */
static void test_parse_fuzz(void **state)
{
	struct msg base, m;
	struct dns_query q;
	uint8_t out[600];
	unsigned seed = 12345;

	(void)state;
	put_hdr(&base, 0xBEEF, F2_RD, 0, 1, 0, 0, 2);
	put_q(&base, QNAME, 1, 1);
	put16(&base, 0xC00C);
	put16(&base, 250);
	put16(&base, 255);
	put32(&base, 0);
	put16(&base, 2);
	put16(&base, 0);
	put_opt(&base, 4096, 0, true);
	for (int iter = 0; iter < 20000; iter++) {
		enum query_status st;
		int flips = 1 + (int)(rand_r(&seed) % 4);

		m = base;
		for (int i = 0; i < flips; i++)
			m.b[rand_r(&seed) % m.len] = (uint8_t)rand_r(&seed);
		if (rand_r(&seed) % 3 == 0)
			m.len = rand_r(&seed) % (m.len + 1);
		st = parse(&m, &q);
		if (st == QUERY_DROP)
			continue;
		assert_true(q.question_end >= DNS_HDR_LEN && q.question_end <= m.len);
		assert_true(q.opt_off == 0 || q.opt_off + 2 <= m.len);
		assert_true(q.udp_limit >= 512 && q.udp_limit <= 1232);
		if (st == QUERY_OK) {
			size_t n = dnsmsg_answer_sinkhole(&q, &default_sc, 4, out, sizeof(out),
							  q.udp_limit);
			ldns_pkt *p;

			assert_true(n > 0 && n <= q.udp_limit);
			p = to_ldns(out, n);
			ldns_pkt_free(p);
		} else {
			int rc = st == QUERY_BADVERS  ? DNS_BADVERS
				 : st == QUERY_NOTIMP ? DNS_NOTIMP
						      : DNS_FORMERR;
			size_t n = dnsmsg_answer_error(&q, rc, DNS_EDE_NONE, out, sizeof(out));
			ldns_pkt *p;

			assert_true(n >= DNS_HDR_LEN);
			p = to_ldns(out, n);
			ldns_pkt_free(p);
		}
	}
}

/* ---- sinkhole answers ---- */

static size_t sinkhole(const struct msg *m, const struct sinkhole_conf *sc, int rule_off,
		       uint8_t *out, size_t cap, size_t limit, struct dns_query *q)
{
	enum query_status st = parse(m, q);

	assert_int_equal(st, QUERY_OK);
	return dnsmsg_answer_sinkhole(q, sc, rule_off, out, cap, limit);
}

static void check_common_header(const uint8_t *a, int rcode)
{
	assert_int_equal(a[0], 0xBE);
	assert_int_equal(a[1], 0xEF);
	assert_int_equal(a[2], 0x81);	      /* QR, opcode 0, AA=0, TC=0, RD */
	assert_int_equal(a[3], 0x90 | rcode); /* RA, AD=0, CD */
	assert_int_equal(a[4], 0);
	assert_int_equal(a[5], 1);
	assert_memory_equal(a + 12, qname_wire, 14);
}

static void test_sinkhole_a(void **state)
{
	static const uint8_t want[] = {
	    0xBE, 0xEF, 0x81, 0x90, 0, 1,   0,	 1,   0,   0,  0,   0,		 /* header */
	    3,	  'W',	'w',  'W',  4, 'E', 'v', 'I', 'l', 3,  'C', 'o', 'M', 0, /* client's case */
	    0,	  1,	0,    1,						 /* A IN */
	    0xC0, 0x0C, 0,    1,    0, 1,   0,	 0,   0,   60, 0,   4,	 0,   0,
	    0,	  0, /* A 0.0.0.0 ttl 60 */
	};
	struct msg m;
	struct dns_query q;
	uint8_t out[512];
	size_t n;
	ldns_pkt *p;
	ldns_rr *rr;
	char *s;

	(void)state;
	std_query(&m, DNS_T_A, false, 0, false);
	n = sinkhole(&m, &default_sc, 4, out, sizeof(out), 512, &q);
	assert_int_equal(n, sizeof(want));
	assert_memory_equal(out, want, sizeof(want));

	p = to_ldns(out, n);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	assert_true(ldns_pkt_qr(p));
	assert_true(ldns_pkt_ra(p));
	assert_false(ldns_pkt_aa(p));
	assert_false(ldns_pkt_ad(p));
	assert_int_equal(ldns_pkt_ancount(p), 1);
	rr = ldns_rr_list_rr(ldns_pkt_answer(p), 0);
	assert_int_equal(ldns_rr_get_type(rr), LDNS_RR_TYPE_A);
	assert_int_equal(ldns_rr_ttl(rr), 60);
	s = ldns_rdf2str(ldns_rr_rdf(rr, 0));
	assert_string_equal(s, "0.0.0.0");
	free(s);
	s = ldns_rdf2str(ldns_rr_owner(rr));
	assert_string_equal(s, "WwW.EvIl.CoM.");
	free(s);
	assert_null(ldns_pkt_edns_data(p));
	assert_false(ldns_pkt_edns(p));
	ldns_pkt_free(p);

	/* another address and TTL come from the config */
	struct sinkhole_conf sc = default_sc;

	sc.ipv4[0] = 192;
	sc.ipv4[1] = 0;
	sc.ipv4[2] = 2;
	sc.ipv4[3] = 1;
	sc.ttl = 0x01020304;
	n = sinkhole(&m, &sc, 4, out, sizeof(out), 512, &q);
	assert_int_equal(n, sizeof(want));
	assert_memory_equal(out + n - 10, "\x01\x02\x03\x04\x00\x04\xC0\x00\x02\x01", 10);
}

static void test_sinkhole_aaaa(void **state)
{
	struct msg m;
	struct dns_query q;
	uint8_t out[512];
	struct sinkhole_conf sc = default_sc;
	size_t n;
	ldns_pkt *p;
	char *s;

	(void)state;
	std_query(&m, DNS_T_AAAA, false, 0, false);
	n = sinkhole(&m, &sc, 4, out, sizeof(out), 512, &q);
	assert_int_equal(n, QEND + 12 + 16);
	check_common_header(out, 0);
	assert_memory_equal(out + QEND, "\xC0\x0C\x00\x1C\x00\x01\x00\x00\x00\x3C\x00\x10", 12);
	assert_memory_equal(out + QEND + 12, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16);
	p = to_ldns(out, n);
	s = ldns_rdf2str(ldns_rr_rdf(ldns_rr_list_rr(ldns_pkt_answer(p), 0), 0));
	assert_string_equal(s, "::");
	free(s);
	ldns_pkt_free(p);

	sc.ipv6[0] = 0x20;
	sc.ipv6[1] = 0x01;
	sc.ipv6[2] = 0x0d;
	sc.ipv6[3] = 0xb8;
	sc.ipv6[15] = 1;
	n = sinkhole(&m, &sc, 4, out, sizeof(out), 512, &q);
	p = to_ldns(out, n);
	s = ldns_rdf2str(ldns_rr_rdf(ldns_rr_list_rr(ldns_pkt_answer(p), 0), 0));
	assert_string_equal(s, "2001:db8::1");
	free(s);
	ldns_pkt_free(p);
}

/* Check the synthetic SOA at off in an answer: owner pointer, TTL and rdata. */
static void check_soa(const uint8_t *a, size_t off, uint16_t owner_ptr, uint32_t ttl)
{
	static const uint8_t rdata[] = "\x09localhost\x00\x06nobody\x07invalid\x00"
				       "\x00\x00\x00\x01\x00\x00\x0e\x10\x00\x00\x02\x58"
				       "\x00\x01\x51\x80";
	uint8_t head[12] = {(uint8_t)(owner_ptr >> 8),
			    (uint8_t)owner_ptr,
			    0,
			    6,
			    0,
			    1,
			    (uint8_t)(ttl >> 24),
			    (uint8_t)(ttl >> 16),
			    (uint8_t)(ttl >> 8),
			    (uint8_t)ttl,
			    0,
			    47};
	uint8_t min[4] = {(uint8_t)(ttl >> 24), (uint8_t)(ttl >> 16), (uint8_t)(ttl >> 8),
			  (uint8_t)ttl};

	assert_memory_equal(a + off, head, 12);
	assert_memory_equal(a + off + 12, rdata, sizeof(rdata) - 1);
	assert_memory_equal(a + off + 12 + 43, min, 4);
}

static void check_ldns_soa(ldns_pkt *p, const char *owner, uint32_t ttl)
{
	ldns_rr *soa;
	ldns_rdf *want = NULL;
	char *s;

	assert_int_equal(ldns_pkt_nscount(p), 1);
	soa = ldns_rr_list_rr(ldns_pkt_authority(p), 0);
	assert_int_equal(ldns_rr_get_type(soa), LDNS_RR_TYPE_SOA);
	assert_int_equal(ldns_rr_ttl(soa), ttl);
	assert_int_equal(ldns_str2rdf_dname(&want, owner), LDNS_STATUS_OK);
	assert_int_equal(ldns_dname_compare(ldns_rr_owner(soa), want), 0);
	ldns_rdf_deep_free(want);
	s = ldns_rdf2str(ldns_rr_rdf(soa, 0));
	assert_string_equal(s, "localhost.");
	free(s);
	s = ldns_rdf2str(ldns_rr_rdf(soa, 1));
	assert_string_equal(s, "nobody.invalid.");
	free(s);
	assert_int_equal(ldns_rdf2native_int32(ldns_rr_rdf(soa, 2)), 1);
	assert_int_equal(ldns_rdf2native_int32(ldns_rr_rdf(soa, 6)), ttl);
}

static void test_sinkhole_nodata_other_types(void **state)
{
	static const uint16_t types[] = {DNS_T_MX, DNS_T_TXT, DNS_T_NS, DNS_T_ANY, DNS_T_SOA};
	struct msg m;
	struct dns_query q;
	uint8_t out[512];
	size_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		ldns_pkt *p;

		std_query(&m, types[i], false, 0, false);
		n = sinkhole(&m, &default_sc, 4, out, sizeof(out), 512, &q);
		assert_int_equal(n, QEND + 59);
		check_common_header(out, 0);
		assert_memory_equal(out + 6, "\0\0\0\1\0\0", 6);
		check_soa(out, QEND, 0xC010, 60);
		p = to_ldns(out, n);
		assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
		assert_int_equal(ldns_pkt_ancount(p), 0);
		check_ldns_soa(p, "evil.com.", 60);
		ldns_pkt_free(p);
	}

	/* A query in class CH: no IN address, NODATA */
	std_query(&m, DNS_T_A, false, 0, false);
	m.b[QEND - 1] = 3;
	n = sinkhole(&m, &default_sc, 4, out, sizeof(out), 512, &q);
	assert_int_equal(n, QEND + 59);
	assert_memory_equal(out + 6, "\0\0\0\1\0\0", 6);
}

static void test_sinkhole_nxdomain(void **state)
{
	struct msg m;
	struct dns_query q;
	uint8_t out[512];
	struct sinkhole_conf sc = default_sc;
	size_t n;
	ldns_pkt *p;

	(void)state;
	sc.mode = SINKHOLE_NXDOMAIN;
	sc.ttl = 300;
	std_query(&m, DNS_T_A, false, 0, false);
	n = sinkhole(&m, &sc, 4, out, sizeof(out), 512, &q);
	assert_int_equal(n, QEND + 59);
	check_common_header(out, 3);
	assert_memory_equal(out + 6, "\0\0\0\1\0\0", 6);
	check_soa(out, QEND, 0xC010, 300); /* owner: "EvIl.CoM" at 12 + 4 */
	p = to_ldns(out, n);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	check_ldns_soa(p, "evil.com.", 300);
	ldns_pkt_free(p);

	/* listed domain = the whole name; the TLD; the root */
	n = sinkhole(&m, &sc, 0, out, sizeof(out), 512, &q);
	check_soa(out, QEND, 0xC00C, 300);
	n = sinkhole(&m, &sc, 9, out, sizeof(out), 512, &q);
	check_soa(out, QEND, 0xC015, 300);
	p = to_ldns(out, n);
	check_ldns_soa(p, "com.", 300);
	ldns_pkt_free(p);
	n = sinkhole(&m, &sc, 13, out, sizeof(out), 512, &q);
	check_soa(out, QEND, 0xC019, 300);

	/* not a label boundary, or out of range: whole qname */
	static const int bad[] = {-1, 1, 5, 14, 200};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		n = sinkhole(&m, &sc, bad[i], out, sizeof(out), 512, &q);
		assert_int_equal(n, QEND + 59);
		check_soa(out, QEND, 0xC00C, 300);
	}
}

static void test_sinkhole_nodata_mode(void **state)
{
	struct msg m;
	struct dns_query q;
	uint8_t out[512];
	struct sinkhole_conf sc = default_sc;
	size_t n;

	(void)state;
	sc.mode = SINKHOLE_NODATA;
	std_query(&m, DNS_T_A, false, 0, false);
	n = sinkhole(&m, &sc, 4, out, sizeof(out), 512, &q);
	assert_int_equal(n, QEND + 59);
	check_common_header(out, 0);
	assert_memory_equal(out + 6, "\0\0\0\1\0\0", 6);
	check_soa(out, QEND, 0xC010, 60);
}

static void test_sinkhole_refused(void **state)
{
	struct msg m;
	struct dns_query q;
	uint8_t out[512];
	struct sinkhole_conf sc = default_sc;
	size_t n;
	ldns_pkt *p;

	(void)state;
	sc.mode = SINKHOLE_REFUSED;
	std_query(&m, DNS_T_A, false, 0, false);
	n = sinkhole(&m, &sc, 4, out, sizeof(out), 512, &q);
	assert_int_equal(n, QEND);
	check_common_header(out, 5);
	assert_memory_equal(out + 6, "\0\0\0\0\0\0", 6);
	assert_memory_equal(out + 12, m.b + 12, QEND - 12);
	p = to_ldns(out, n);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_REFUSED);
	ldns_pkt_free(p);
}

static void check_ldns_ede(ldns_pkt *p, uint16_t code)
{
	ldns_edns_option_list *l = ldns_pkt_edns_get_option_list(p);
	ldns_edns_option *o;

	assert_non_null(l);
	assert_int_equal(ldns_edns_option_list_get_count(l), 1);
	o = ldns_edns_option_list_get_option(l, 0);
	assert_int_equal(ldns_edns_get_code(o), 15);
	assert_int_equal(ldns_edns_get_size(o), 2);
	assert_memory_equal(ldns_edns_get_data(o), ((uint8_t[]){code >> 8, code & 0xff}), 2);
}

static void test_sinkhole_edns(void **state)
{
	static const uint8_t opt_do[] = {0, 0, 41, 0x04, 0xD0, 0, 0, 0x80, 0,
					 0, 6, 0,  15,	 0,    2, 0, 15};
	static const enum sinkhole_mode modes[] = {SINKHOLE_ADDRESS, SINKHOLE_NXDOMAIN,
						   SINKHOLE_NODATA, SINKHOLE_REFUSED};
	struct msg m;
	struct dns_query q;
	uint8_t out[512];
	size_t n;
	ldns_pkt *p;

	(void)state;
	std_query(&m, DNS_T_A, true, 4096, true);
	n = sinkhole(&m, &default_sc, 4, out, sizeof(out), 1232, &q);
	assert_int_equal(n, QEND + 16 + 17);
	check_common_header(out, 0);
	assert_memory_equal(out + 6, "\0\1\0\0\0\1", 6);
	assert_memory_equal(out + QEND + 16, opt_do, sizeof(opt_do));
	p = to_ldns(out, n);
	assert_true(ldns_pkt_edns(p));
	assert_int_equal(ldns_pkt_edns_udp_size(p), 1232);
	assert_true(ldns_pkt_edns_do(p));
	assert_int_equal(ldns_pkt_edns_version(p), 0);
	check_ldns_ede(p, 15);
	ldns_pkt_free(p);

	/* DO=0 echoed, in every mode */
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		struct sinkhole_conf sc = default_sc;

		sc.mode = modes[i];
		std_query(&m, DNS_T_A, true, 512, false);
		n = sinkhole(&m, &sc, 4, out, sizeof(out), 512, &q);
		assert_int_equal(out[11], 1);
		assert_int_equal(out[n - 10], 0); /* DO byte */
		assert_memory_equal(out + n - 6, "\x00\x0f\x00\x02\x00\x0f", 6);
		p = to_ldns(out, n);
		assert_true(ldns_pkt_edns(p));
		assert_false(ldns_pkt_edns_do(p));
		check_ldns_ede(p, 15);
		ldns_pkt_free(p);
	}
}

static void test_sinkhole_truncated(void **state)
{
	struct msg m;
	struct dns_query q;
	uint8_t out[512];
	struct sinkhole_conf sc = default_sc;
	size_t n, full;

	(void)state;
	std_query(&m, DNS_T_A, false, 0, false);
	full = sinkhole(&m, &sc, 4, out, sizeof(out), 512, &q);
	assert_int_equal(full, QEND + 16);
	/* exactly at the limit: whole answer */
	n = sinkhole(&m, &sc, 4, out, sizeof(out), full, &q);
	assert_int_equal(n, full);
	assert_int_equal(out[2] & 0x02, 0);
	/* one byte less: header + question, TC=1 */
	n = sinkhole(&m, &sc, 4, out, sizeof(out), full - 1, &q);
	assert_int_equal(n, QEND);
	assert_int_equal(out[2], 0x83);
	assert_memory_equal(out + 4, "\0\1\0\0\0\0\0\0", 8);
	assert_memory_equal(out + 12, m.b + 12, QEND - 12);
	/* a too small buffer truncates too, and never gets written past */
	memset(out, 0xAA, sizeof(out));
	n = sinkhole(&m, &sc, 4, out, full - 1, 512, &q);
	assert_int_equal(n, QEND);
	assert_int_equal(out[2], 0x83);
	assert_int_equal(out[QEND], 0xAA);
	/* even header + question does not fit */
	memset(out, 0xAA, sizeof(out));
	n = sinkhole(&m, &sc, 4, out, QEND - 1, 512, &q);
	assert_int_equal(n, 0);
	assert_int_equal(out[QEND - 1], 0xAA);

	/* NXDOMAIN with EDNS and a tiny limit: header + question + OPT, rcode kept */
	sc.mode = SINKHOLE_NXDOMAIN;
	std_query(&m, DNS_T_A, true, 4096, true);
	n = sinkhole(&m, &sc, 4, out, sizeof(out), 40, &q);
	assert_int_equal(n, QEND + 17);
	assert_int_equal(out[2], 0x83);
	assert_int_equal(out[3], 0x93);
	assert_memory_equal(out + 4, "\0\1\0\0\0\0\0\1", 8);
	assert_int_equal(out[QEND + 1], 0);
	assert_int_equal(out[QEND + 2], 41);
	ldns_pkt *p = to_ldns(out, n);

	assert_true(ldns_pkt_tc(p));
	assert_true(ldns_pkt_edns_do(p));
	ldns_pkt_free(p);
}

/* ---- error answers ---- */

static void test_error_formerr(void **state)
{
	struct msg m;
	struct dns_query q;
	uint8_t out[512];
	size_t n;
	ldns_pkt *p;

	(void)state;
	/* with the question (ANCOUNT 1) */
	put_hdr(&m, 0xBEEF, F2_RD, F3_CD, 1, 1, 0, 0);
	put_q(&m, QNAME, 1, 1);
	put(&m, "\xC0\x0C\0\1\0\1\0\0\0\0\0\0", 12);
	assert_int_equal(parse(&m, &q), QUERY_FORMERR);
	n = dnsmsg_answer_error(&q, DNS_FORMERR, DNS_EDE_NONE, out, sizeof(out));
	assert_int_equal(n, QEND);
	check_common_header(out, 1);
	assert_memory_equal(out + 6, "\0\0\0\0\0\0", 6);
	assert_memory_equal(out + 12, m.b + 12, QEND - 12);
	p = to_ldns(out, n);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_FORMERR);
	ldns_pkt_free(p);

	/* without the question (pointer in QNAME): header only, QDCOUNT 0 */
	put_hdr(&m, 0x0102, 0, 0, 1, 0, 0, 0);
	put(&m, "\xC0\x0C\0\1\0\1", 6);
	assert_int_equal(parse(&m, &q), QUERY_FORMERR);
	n = dnsmsg_answer_error(&q, DNS_FORMERR, DNS_EDE_NONE, out, sizeof(out));
	assert_int_equal(n, 12);
	assert_memory_equal(out, "\x01\x02\x80\x81\0\0\0\0\0\0\0\0", 12);

	/* two OPTs: no OPT in the answer */
	put_hdr(&m, 1, 0, 0, 1, 0, 0, 2);
	put_q(&m, QNAME, 1, 1);
	put_opt(&m, 4096, 0, true);
	put_opt(&m, 4096, 0, true);
	assert_int_equal(parse(&m, &q), QUERY_FORMERR);
	n = dnsmsg_answer_error(&q, DNS_FORMERR, DNS_EDE_NONE, out, sizeof(out));
	assert_int_equal(n, QEND);
	assert_int_equal(out[11], 0);

	/* too small a buffer */
	assert_int_equal(dnsmsg_answer_error(&q, DNS_FORMERR, DNS_EDE_NONE, out, QEND - 1), 0);
}

static void test_error_badvers(void **state)
{
	static const uint8_t opt[] = {0, 0, 41, 0x04, 0xD0, 1, 0, 0x80, 0, 0, 0};
	struct msg m;
	struct dns_query q;
	uint8_t out[512];
	size_t n;
	ldns_pkt *p;

	(void)state;
	put_hdr(&m, 0xBEEF, F2_RD, F3_CD, 1, 0, 0, 1);
	put_q(&m, QNAME, 1, 1);
	put_opt(&m, 4096, 3, true);
	assert_int_equal(parse(&m, &q), QUERY_BADVERS);
	n = dnsmsg_answer_error(&q, DNS_BADVERS, DNS_EDE_NONE, out, sizeof(out));
	assert_int_equal(n, QEND + 11);
	check_common_header(out, 0); /* low 4 bits of 16 */
	assert_memory_equal(out + 6, "\0\0\0\0\0\1", 6);
	assert_memory_equal(out + QEND, opt, sizeof(opt));
	p = to_ldns(out, n);
	assert_true(ldns_pkt_edns(p));
	assert_int_equal(ldns_pkt_edns_extended_rcode(p), 1);
	assert_int_equal(ldns_pkt_edns_version(p), 0);
	assert_int_equal(ldns_pkt_edns_udp_size(p), 1232);
	ldns_pkt_free(p);

	/* BADVERS always carries an OPT, even for a query without EDNS */
	std_query(&m, DNS_T_A, false, 0, false);
	assert_int_equal(parse(&m, &q), QUERY_OK);
	n = dnsmsg_answer_error(&q, DNS_BADVERS, DNS_EDE_NONE, out, sizeof(out));
	assert_int_equal(n, QEND + 11);
	assert_int_equal(out[11], 1);
	assert_memory_equal(out + QEND, "\0\0\x29\x04\xD0\x01\0\0\0\0\0", 11);
}

static void test_error_notimp_servfail_refused(void **state)
{
	struct msg m;
	struct dns_query q;
	uint8_t out[512];
	size_t n;
	ldns_pkt *p;

	(void)state;
	/* NOTIMP echoes the opcode; EDNS query gets an OPT */
	std_query(&m, DNS_T_A, true, 4096, false);
	m.b[2] = (2 << 3) | F2_RD;
	assert_int_equal(parse(&m, &q), QUERY_NOTIMP);
	n = dnsmsg_answer_error(&q, DNS_NOTIMP, DNS_EDE_NONE, out, sizeof(out));
	assert_int_equal(n, QEND + 11);
	assert_int_equal(out[2], 0x80 | (2 << 3) | 1);
	assert_int_equal(out[3], 4); /* RA, AD, CD clear: defined for opcode QUERY only */
	assert_memory_equal(out + QEND, "\0\0\x29\x04\xD0\0\0\0\0\0\0", 11);
	p = to_ldns(out, n);
	assert_int_equal(ldns_pkt_get_opcode(p), LDNS_PACKET_STATUS);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOTIMPL);
	ldns_pkt_free(p);

	/* SERVFAIL with EDE 22 and DO echoed */
	std_query(&m, DNS_T_A, true, 4096, true);
	assert_int_equal(parse(&m, &q), QUERY_OK);
	n = dnsmsg_answer_error(&q, DNS_SERVFAIL, DNS_EDE_NO_REACHABLE_AUTHORITY, out, sizeof(out));
	assert_int_equal(n, QEND + 17);
	check_common_header(out, 2);
	assert_memory_equal(out + QEND, "\0\0\x29\x04\xD0\0\0\x80\0\0\x06\0\x0f\0\x02\0\x16", 17);
	p = to_ldns(out, n);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_SERVFAIL);
	check_ldns_ede(p, 22);
	ldns_pkt_free(p);

	/* REFUSED without EDNS: EDE requested but no OPT to carry it */
	std_query(&m, DNS_T_A, false, 0, false);
	assert_int_equal(parse(&m, &q), QUERY_OK);
	n = dnsmsg_answer_error(&q, DNS_REFUSED, DNS_EDE_PROHIBITED, out, sizeof(out));
	assert_int_equal(n, QEND);
	check_common_header(out, 5);
	assert_int_equal(out[11], 0);
}

/* ---- forwarding and relaying ---- */

static void test_forward_query(void **state)
{
	struct msg m;
	struct dns_query q;
	uint8_t out[512];
	size_t n;

	(void)state;
	std_query(&m, DNS_T_A, true, 4096, true);
	assert_int_equal(parse(&m, &q), QUERY_OK);
	n = dnsmsg_forward_query(&q, 0x4242, out, sizeof(out));
	assert_int_equal(n, m.len);
	assert_memory_equal(out, "\x42\x42", 2);
	assert_memory_equal(out + 2, m.b + 2, QEND + 3 - 2);
	assert_memory_equal(out + QEND + 3, "\x04\xD0", 2);
	assert_memory_equal(out + QEND + 5, m.b + QEND + 5, m.len - QEND - 5);
	assert_int_equal(m.b[QEND + 3], 0x10); /* the client's packet is untouched */

	std_query(&m, DNS_T_A, false, 0, false);
	assert_int_equal(parse(&m, &q), QUERY_OK);
	n = dnsmsg_forward_query(&q, 0x0001, out, sizeof(out));
	assert_int_equal(n, m.len);
	assert_memory_equal(out, "\x00\x01", 2);
	assert_memory_equal(out + 2, m.b + 2, m.len - 2);

	assert_int_equal(dnsmsg_forward_query(&q, 1, out, m.len - 1), 0);
}

/* An upstream reply to m (lowercased question), ID id, with one A answer. */
static void make_reply(struct msg *r, uint16_t id, const char *name, uint16_t type)
{
	put_hdr(r, id, 0x81, 0x80, 1, 1, 0, 0);
	put_q(r, name, type, 1);
	put16(r, 0xC00C);
	put16(r, 1);
	put16(r, 1);
	put32(r, 300);
	put16(r, 4);
	put32(r, 0x5DB8D822);
}

static void test_reply_matches(void **state)
{
	struct msg m, r;
	struct dns_query q;

	(void)state;
	std_query(&m, DNS_T_A, false, 0, false);
	assert_int_equal(parse(&m, &q), QUERY_OK);

	make_reply(&r, 0x7777, "www.evil.com", DNS_T_A);
	assert_true(dnsmsg_reply_matches(r.b, r.len, 0x7777, &q));
	make_reply(&r, 0x7777, "WWW.EVIL.COM", DNS_T_A);
	assert_true(dnsmsg_reply_matches(r.b, r.len, 0x7777, &q));
	/* question only is enough */
	assert_true(dnsmsg_reply_matches(r.b, QEND, 0x7777, &q));

	assert_false(dnsmsg_reply_matches(r.b, r.len, 0x7778, &q));    /* wrong ID */
	assert_false(dnsmsg_reply_matches(r.b, QEND - 1, 0x7777, &q)); /* cut QCLASS */
	assert_false(dnsmsg_reply_matches(r.b, 11, 0x7777, &q));       /* short */
	assert_false(dnsmsg_reply_matches(r.b, 20, 0x7777, &q));       /* cut name */

	make_reply(&r, 0x7777, "www.evil.con", DNS_T_A);
	assert_false(dnsmsg_reply_matches(r.b, r.len, 0x7777, &q));
	make_reply(&r, 0x7777, "www.evil.com.x", DNS_T_A);
	assert_false(dnsmsg_reply_matches(r.b, r.len, 0x7777, &q));
	make_reply(&r, 0x7777, "www.evil", DNS_T_A);
	assert_false(dnsmsg_reply_matches(r.b, r.len, 0x7777, &q));
	make_reply(&r, 0x7777, "www.evil.com", DNS_T_AAAA); /* wrong type */
	assert_false(dnsmsg_reply_matches(r.b, r.len, 0x7777, &q));

	make_reply(&r, 0x7777, "www.evil.com", DNS_T_A);
	r.b[QEND - 1] = 3; /* wrong class */
	assert_false(dnsmsg_reply_matches(r.b, r.len, 0x7777, &q));

	make_reply(&r, 0x7777, "www.evil.com", DNS_T_A);
	r.b[2] &= 0x7F; /* QR=0 */
	assert_false(dnsmsg_reply_matches(r.b, r.len, 0x7777, &q));

	make_reply(&r, 0x7777, "www.evil.com", DNS_T_A);
	r.b[2] |= 2 << 3; /* opcode 2 */
	assert_false(dnsmsg_reply_matches(r.b, r.len, 0x7777, &q));

	make_reply(&r, 0x7777, "www.evil.com", DNS_T_A);
	r.b[5] = 0; /* QDCOUNT 0 */
	assert_false(dnsmsg_reply_matches(r.b, r.len, 0x7777, &q));
	r.b[5] = 2;
	assert_false(dnsmsg_reply_matches(r.b, r.len, 0x7777, &q));

	/* a pointer in the reply's question */
	put_hdr(&r, 0x7777, 0x81, 0x80, 1, 0, 0, 0);
	put(&r, "\x03www\xC0\x0C\0\1\0\1", 10);
	assert_false(dnsmsg_reply_matches(r.b, r.len, 0x7777, &q));
}

static void test_relay_reply(void **state)
{
	struct msg m, r;
	struct dns_query q;
	size_t n, orig;

	(void)state;
	std_query(&m, DNS_T_A, false, 0, false);
	assert_int_equal(parse(&m, &q), QUERY_OK);
	make_reply(&r, 0x7777, "www.evil.com", DNS_T_A);
	orig = r.len;
	struct msg before = r;

	n = dnsmsg_relay_reply(r.b, r.len, sizeof(r.b), &q, 512);
	assert_int_equal(n, orig);
	assert_memory_equal(r.b, "\xBE\xEF", 2);
	assert_memory_equal(r.b + 2, before.b + 2, 10);
	assert_memory_equal(r.b + 12, qname_wire, 14);
	assert_memory_equal(r.b + QEND, before.b + QEND, orig - QEND);

	/* longer than the limit: TC, header + question */
	make_reply(&r, 0x7777, "www.evil.com", DNS_T_A);
	n = dnsmsg_relay_reply(r.b, r.len, sizeof(r.b), &q, orig - 1);
	assert_int_equal(n, QEND);
	assert_int_equal(r.b[2], 0x83);
	assert_int_equal(r.b[3], 0x80);
	assert_memory_equal(r.b + 4, "\0\1\0\0\0\0\0\0", 8);
	assert_memory_equal(r.b + 12, m.b + 12, QEND - 12);
	ldns_pkt *p = to_ldns(r.b, n);

	assert_true(ldns_pkt_tc(p));
	assert_false(ldns_pkt_edns(p));
	ldns_pkt_free(p);

	/* client had EDNS (DO): the cut answer carries our OPT */
	std_query(&m, DNS_T_A, true, 600, true);
	assert_int_equal(parse(&m, &q), QUERY_OK);
	make_reply(&r, 0x7777, "www.evil.com", DNS_T_A);
	r.b[11] = 1;
	put_opt(&r, 4096, 0, true);
	for (int i = 0; i < 60; i++)
		put(&r, "0123456789", 10);
	n = dnsmsg_relay_reply(r.b, r.len, sizeof(r.b), &q, q.udp_limit);
	assert_int_equal(n, QEND + 11);
	assert_int_equal(r.b[2] & 0x02, 0x02);
	assert_memory_equal(r.b + 4, "\0\1\0\0\0\0\0\1", 8);
	assert_memory_equal(r.b + QEND, "\0\0\x29\x04\xD0\0\0\x80\0\0\0", 11);
	p = to_ldns(r.b, n);
	assert_true(ldns_pkt_edns(p));
	assert_true(ldns_pkt_edns_do(p));
	ldns_pkt_free(p);

	/* shorter than the question: rejected */
	assert_int_equal(dnsmsg_relay_reply(r.b, QEND - 1, sizeof(r.b), &q, 512), 0);

	/* an authoritative upstream (AA=1, RA=0) with Z, AD and CD set: RA=1, AA=0, Z=0 */
	std_query(&m, DNS_T_A, false, 0, false);
	assert_int_equal(parse(&m, &q), QUERY_OK);
	make_reply(&r, 0x7777, "www.evil.com", DNS_T_A);
	r.b[2] = 0x85; /* QR, AA, RD */
	r.b[3] = 0x70; /* Z, AD, CD; RA=0 */
	n = dnsmsg_relay_reply(r.b, r.len, sizeof(r.b), &q, 512);
	assert_int_equal(n, orig);
	assert_int_equal(r.b[2], 0x81);
	assert_int_equal(r.b[3], 0xB0);
	r.b[2] = 0x84; /* RD=0, NXDOMAIN: relayed as received */
	r.b[3] = 0x03;
	n = dnsmsg_relay_reply(r.b, r.len, sizeof(r.b), &q, 512);
	assert_int_equal(r.b[2], 0x80);
	assert_int_equal(r.b[3], 0x83);
}

static void test_truncated_rcode(void **state)
{
	uint8_t h[12] = {0, 0, 0x82, 0x83};

	(void)state;
	assert_true(dnsmsg_is_truncated(h, 12));
	assert_false(dnsmsg_is_truncated(h, 11));
	assert_int_equal(dnsmsg_rcode(h, 12), 3);
	h[2] = 0x80;
	h[3] = 0x85;
	assert_false(dnsmsg_is_truncated(h, 12));
	assert_int_equal(dnsmsg_rcode(h, 12), 5);
	assert_true(dnsmsg_rcode(h, 11) < 0);
}

static void test_first_address(void **state)
{
	struct msg r;
	uint8_t addr[16];
	int family = 0;

	(void)state;
	/* CNAME (compressed owner and target) then A */
	put_hdr(&r, 1, 0x81, 0x80, 1, 2, 0, 0);
	put_q(&r, "www.example.com", DNS_T_A, 1);
	put16(&r, 0xC00C);
	put16(&r, 5);
	put16(&r, 1);
	put32(&r, 60);
	put16(&r, 6);
	put(&r,
	    "\x03"
	    "cdn\xC0\x10",
	    6);
	size_t owner = r.len;
	put16(&r, 0xC000 | (uint16_t)(owner - 12));
	put16(&r, 1);
	put16(&r, 1);
	put32(&r, 60);
	put16(&r, 4);
	put32(&r, 0xC0000201);
	assert_true(dnsmsg_first_address(r.b, r.len, &family, addr));
	assert_int_equal(family, AF_INET);
	assert_memory_equal(addr, "\xC0\x00\x02\x01", 4);
	/* every cut is rejected */
	for (size_t len = 0; len < r.len; len++)
		assert_false(dnsmsg_first_address(r.b, len, &family, addr));
	/* ANCOUNT 1: only the CNAME */
	r.b[7] = 1;
	assert_false(dnsmsg_first_address(r.b, r.len, &family, addr));

	/* AAAA */
	put_hdr(&r, 1, 0x81, 0x80, 1, 1, 0, 0);
	put_q(&r, "a", DNS_T_AAAA, 1);
	put16(&r, 0xC00C);
	put16(&r, DNS_T_AAAA);
	put16(&r, 1);
	put32(&r, 60);
	put16(&r, 16);
	put(&r, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x09", 16);
	assert_true(dnsmsg_first_address(r.b, r.len, &family, addr));
	assert_int_equal(family, AF_INET6);
	assert_memory_equal(addr, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x09", 16);
	/* A with a wrong RDLENGTH is not an address */
	r.b[r.len - 16 - 9] = DNS_T_A;
	assert_false(dnsmsg_first_address(r.b, r.len, &family, addr));

	/* NXDOMAIN: no answer */
	put_hdr(&r, 1, 0x81, 0x83, 1, 0, 0, 0);
	put_q(&r, "a", DNS_T_A, 1);
	assert_false(dnsmsg_first_address(r.b, r.len, &family, addr));

	/* a sinkhole answer of ours */
	struct msg m;
	struct dns_query q;
	uint8_t out[512];
	struct sinkhole_conf sc = default_sc;
	size_t n;

	sc.ipv4[0] = 10;
	sc.ipv4[3] = 7;
	std_query(&m, DNS_T_A, true, 1232, false);
	n = sinkhole(&m, &sc, 4, out, sizeof(out), 1232, &q);
	assert_true(dnsmsg_first_address(out, n, &family, addr));
	assert_int_equal(family, AF_INET);
	assert_memory_equal(addr, "\x0a\x00\x00\x07", 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_normal),
	    cmocka_unit_test(test_parse_non_ascii_not_lowered),
	    cmocka_unit_test(test_parse_edns),
	    cmocka_unit_test(test_parse_edns_with_options_and_tsig),
	    cmocka_unit_test(test_parse_drop),
	    cmocka_unit_test(test_parse_cut),
	    cmocka_unit_test(test_parse_bad_labels),
	    cmocka_unit_test(test_parse_name_length),
	    cmocka_unit_test(test_parse_counts),
	    cmocka_unit_test(test_parse_opt_errors),
	    cmocka_unit_test(test_parse_badvers),
	    cmocka_unit_test(test_parse_notimp),
	    cmocka_unit_test(test_parse_fuzz),
	    cmocka_unit_test(test_sinkhole_a),
	    cmocka_unit_test(test_sinkhole_aaaa),
	    cmocka_unit_test(test_sinkhole_nodata_other_types),
	    cmocka_unit_test(test_sinkhole_nxdomain),
	    cmocka_unit_test(test_sinkhole_nodata_mode),
	    cmocka_unit_test(test_sinkhole_refused),
	    cmocka_unit_test(test_sinkhole_edns),
	    cmocka_unit_test(test_sinkhole_truncated),
	    cmocka_unit_test(test_error_formerr),
	    cmocka_unit_test(test_error_badvers),
	    cmocka_unit_test(test_error_notimp_servfail_refused),
	    cmocka_unit_test(test_forward_query),
	    cmocka_unit_test(test_reply_matches),
	    cmocka_unit_test(test_relay_reply),
	    cmocka_unit_test(test_truncated_rcode),
	    cmocka_unit_test(test_first_address),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
