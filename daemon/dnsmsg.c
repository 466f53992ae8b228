/* SPDX-License-Identifier: MIT */
/*
 * DNS wire messages on the query path (DESIGN.md section 5).
 *
 * Everything here runs per query: no allocation, no locks, no syscalls, no logging. The input
 * is hostile, so every read is checked against the packet length, and every write goes
 * through a bounded writer that never passes the caller's capacity.
 *
 * Choices:
 * - A question name must be plain labels: compression pointers and the reserved 01/10 label
 *   types are FORMERR (no query needs them, and it makes pointer loops impossible).
 * - Names in other records are skipped without following pointers: a pointer ends a name.
 * - Sinkhole in address mode answers A and AAAA of class IN only; every other type (ANY
 *   included, per DESIGN.md "any other type -> NODATA") gets NODATA with the synthetic SOA.
 * - When the additional section is malformed, the FORMERR answer carries no OPT: we do not
 *   trust EDNS fields from a packet we could not parse.
 */
#include "dnsmsg.h"

#include <string.h>
#include <sys/socket.h>

#include "config.h"

/* Header flag bits: byte 2 */
#define F_QR 0x80
#define F_AA 0x04
#define F_TC 0x02
#define F_RD 0x01
/* byte 3 */
#define F_RA 0x80
#define F_Z 0x40
#define F_AD 0x20
#define F_CD 0x10

#define DNS_CLASS_IN 1
#define EDNS_OPT_EDE 15
#define EDNS_DO 0x80 /* in the first flags byte of the OPT TTL */

#define OPT_RR_LEN (1 + DNS_RR_FIXED_LEN)		/* root owner, no options */
#define EDE_OPT_LEN 6				/* code, length, INFO-CODE */
#define ADDR_RR_LEN(n) (2 + DNS_RR_FIXED_LEN + (n)) /* pointer owner + rdata */

/* Synthetic SOA rdata names (RFC 2308): MNAME localhost., RNAME nobody.invalid. */
static const uint8_t soa_mname[] = "\x09localhost";	    /* + root: 11 bytes */
static const uint8_t soa_rname[] = "\x06nobody\x07invalid"; /* + root: 16 bytes */
#define SOA_RDATA_LEN (sizeof(soa_mname) + sizeof(soa_rname) + 5 * 4)
#define SOA_RR_LEN (2 + DNS_RR_FIXED_LEN + SOA_RDATA_LEN)
#define SOA_REFRESH 3600
#define SOA_RETRY 600
#define SOA_EXPIRE 86400

static inline uint8_t ascii_lower(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + ('a' - 'A')) : c;
}

size_t dnsmsg_skip_name(const uint8_t *p, size_t len, size_t off)
{
	size_t total = 0;

	for (;;) {
		uint8_t l;

		if (off >= len)
			return 0;
		l = p[off];
		if ((l & 0xC0) == 0xC0) {
			size_t target;

			if (len - off < 2)
				return 0;
			/* Not followed, so no loop; but only a backward pointer is well formed. */
			target = (size_t)(l & 0x3F) << 8 | p[off + 1];
			return target >= DNS_HDR_LEN && target < off ? off + 2 : 0;
		}
		if (l & 0xC0)
			return 0; /* reserved label types 01 and 10 */
		total += 1u + l;
		if (total > DNS_MAX_NAME || len - off < 1u + l)
			return 0;
		off += 1u + l;
		if (l == 0)
			return off;
	}
}

size_t dnsmsg_read_name(const uint8_t *p, size_t len, size_t off, uint8_t out[DNS_MAX_NAME])
{
	size_t n = 0;

	for (;;) {
		uint8_t l;

		if (off >= len)
			return 0;
		l = p[off];
		if ((l & 0xC0) == 0xC0) {
			size_t target;

			if (len - off < 2)
				return 0;
			/* Only backwards, past the header: every hop moves back, so no loop. */
			target = (size_t)(l & 0x3F) << 8 | p[off + 1];
			if (target < DNS_HDR_LEN || target >= off)
				return 0;
			off = target;
			continue;
		}
		if (l & 0xC0)
			return 0; /* reserved label types 01 and 10 */
		if (n + 1u + l > DNS_MAX_NAME || len - off < 1u + l)
			return 0;
		out[n++] = l;
		for (size_t i = 1; i <= l; i++)
			out[n++] = ascii_lower(p[off + i]);
		if (l == 0)
			return n;
		off += 1u + l;
	}
}

size_t dnsmsg_answer_section(const uint8_t *msg, size_t len, unsigned *ancount)
{
	size_t off = DNS_HDR_LEN;
	unsigned qd;

	if (len < DNS_HDR_LEN)
		return 0;
	qd = dns_get16(msg + 4);
	*ancount = dns_get16(msg + 6);
	for (unsigned i = 0; i < qd; i++) {
		off = dnsmsg_skip_name(msg, len, off);
		if (!off || len - off < 4)
			return 0;
		off += 4;
	}
	return off;
}

/* Parse the question at offset 12 into q; returns the offset after QCLASS, 0 on error. */
static size_t parse_question(struct dns_query *q)
{
	const uint8_t *p = q->pkt;
	size_t len = q->len, off = DNS_HDR_LEN, n = 0;

	for (;;) {
		uint8_t l;

		if (off >= len)
			return 0;
		l = p[off];
		if (l & 0xC0)
			return 0; /* pointer or reserved type: never in a query's question */
		if (n + 1u + l > DNS_MAX_NAME || len - off < 1u + l)
			return 0;
		q->name[n++] = l;
		for (size_t i = 1; i <= l; i++)
			q->name[n++] = ascii_lower(p[off + i]);
		off += 1u + l;
		if (l == 0)
			break;
	}
	if (len - off < 4)
		return 0;
	q->name_len = (uint8_t)n;
	q->qtype = dns_get16(p + off);
	q->qclass = dns_get16(p + off + 2);
	return off + 4;
}

static void clear_edns(struct dns_query *q)
{
	q->edns = false;
	q->edns_version = 0;
	q->edns_do = false;
	q->edns_udp = 0;
	q->opt_off = 0;
}

/*
 * Walk nskip records (answer + authority) then nadd additional records from off, recording
 * the OPT. FORMERR on a cut or malformed record, an OPT outside the additional section, an
 * OPT whose owner is not the root, or a second OPT.
 */
static enum query_status parse_records(struct dns_query *q, size_t off, unsigned nskip,
				       unsigned nadd)
{
	const uint8_t *p = q->pkt;
	size_t len = q->len;

	for (unsigned i = 0; i < nskip + nadd; i++) {
		struct dns_rr rr;

		off = dnsmsg_next_rr(p, len, off, &rr);
		if (!off)
			return QUERY_FORMERR;
		if (rr.type == DNS_T_OPT) {
			if (i < nskip || rr.fixed != rr.owner + 1 || p[rr.owner] != 0 || q->edns)
				return QUERY_FORMERR;
			q->edns = true;
			q->opt_off = rr.fixed + 2;
			q->edns_udp = rr.rclass;
			q->edns_version = p[rr.fixed + 5];
			q->edns_do = (p[rr.fixed + 6] & EDNS_DO) != 0;
		}
	}
	/* Trailing bytes after the last record are ignored. */
	return q->edns && q->edns_version > 0 ? QUERY_BADVERS : QUERY_OK;
}

enum query_status dnsmsg_parse_query(const uint8_t *pkt, size_t len, struct dns_query *q)
{
	unsigned qd, an, ns, ar;
	enum query_status st;
	size_t off = DNS_HDR_LEN;

	memset(q, 0, sizeof(*q));
	q->pkt = pkt;
	q->len = len;
	q->question_end = DNS_HDR_LEN;
	q->udp_limit = DNS_UDP_MIN;

	if (len < DNS_HDR_LEN || (pkt[2] & F_QR))
		return QUERY_DROP;
	q->id = dns_get16(pkt);
	q->opcode = (pkt[2] >> 3) & 0x0F;
	q->rd = (pkt[2] & F_RD) != 0;
	q->cd = (pkt[3] & F_CD) != 0;
	qd = dns_get16(pkt + 4);
	an = dns_get16(pkt + 6);
	ns = dns_get16(pkt + 8);
	ar = dns_get16(pkt + 10);

	if (qd == 1) {
		off = parse_question(q);
		if (!off)
			return q->opcode ? QUERY_NOTIMP : QUERY_FORMERR;
		q->question_end = off;
	} else if (qd != 0) {
		return q->opcode ? QUERY_NOTIMP : QUERY_FORMERR;
	}

	/*
	 * With no question (QDCOUNT 0) or another opcode, the records are still read so the
	 * error answer can carry an OPT when the client sent a well-formed one.
	 */
	st = parse_records(q, off, an + ns, ar);
	if (st == QUERY_FORMERR)
		clear_edns(q);
	if (q->edns) {
		uint16_t u = q->edns_udp;

		q->udp_limit = u < DNS_UDP_MIN	   ? DNS_UDP_MIN
			       : u > DNS_EDNS_SIZE ? DNS_EDNS_SIZE
						   : u;
	}
	if (q->opcode)
		return QUERY_NOTIMP;
	if (qd != 1 || an || ns)
		return QUERY_FORMERR;
	return st;
}

/* Bounded writer: a write that does not fit sets ok = false and writes nothing. */
struct wbuf {
	uint8_t *p;
	size_t cap, len;
	bool ok;
};

static void w_bytes(struct wbuf *w, const void *src, size_t n)
{
	if (!w->ok || w->cap - w->len < n) {
		w->ok = false;
		return;
	}
	memcpy(w->p + w->len, src, n);
	w->len += n;
}

static void w8(struct wbuf *w, uint8_t v)
{
	w_bytes(w, &v, 1);
}

static void w16(struct wbuf *w, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};

	w_bytes(w, b, 2);
}

static void w32(struct wbuf *w, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};

	w_bytes(w, b, 4);
}

/* Bytes of the client's question, 0 when it was not parsed. */
static size_t question_len(const struct dns_query *q)
{
	if (q->question_end <= DNS_HDR_LEN || q->question_end > q->len)
		return 0;
	return q->question_end - DNS_HDR_LEN;
}

/*
 * Header of an answer: QR=1, AA=0, AD=0, Z=0; ID and RD echoed; low 4 bits of rcode. For
 * opcode QUERY, RA=1 and CD echoed; an answer to another opcode (NOTIMP) has RA and CD clear:
 * they are defined for queries only.
 */
static void w_header(struct wbuf *w, const struct dns_query *q, uint8_t opcode, bool tc, int rcode,
		     uint16_t qd, uint16_t an, uint16_t ns, uint16_t ar)
{
	uint8_t f2 = F_QR | (uint8_t)((opcode & 0x0F) << 3);
	uint8_t f3 = (uint8_t)(rcode & 0x0F);

	if (tc)
		f2 |= F_TC;
	if (q->rd)
		f2 |= F_RD;
	if (opcode == 0)
		f3 |= F_RA | (q->cd ? F_CD : 0);
	w16(w, q->id);
	w8(w, f2);
	w8(w, f3);
	w16(w, qd);
	w16(w, an);
	w16(w, ns);
	w16(w, ar);
}

/* Our OPT: root owner, UDP size 1232, upper 8 bits of rcode, version 0, DO echoed, EDE. */
static void w_opt(struct wbuf *w, bool do_bit, int rcode, int ede)
{
	w8(w, 0);
	w16(w, DNS_T_OPT);
	w16(w, DNS_EDNS_SIZE);
	w8(w, (uint8_t)(rcode >> 4));
	w8(w, 0);
	w8(w, do_bit ? EDNS_DO : 0);
	w8(w, 0);
	if (ede == DNS_EDE_NONE) {
		w16(w, 0);
		return;
	}
	w16(w, EDE_OPT_LEN);
	w16(w, EDNS_OPT_EDE);
	w16(w, 2);
	w16(w, (uint16_t)ede);
}

/* True when off is the start of a label of q->name (the root label included). */
static bool label_boundary(const struct dns_query *q, int off)
{
	size_t i = 0;

	if (off < 0 || (size_t)off >= q->name_len)
		return false;
	while (i < (size_t)off) {
		if (q->name[i] == 0)
			return false;
		i += 1u + q->name[i];
	}
	return i == (size_t)off;
}

static void w_soa(struct wbuf *w, const struct dns_query *q, const struct sinkhole_conf *sc,
		  int rule_off)
{
	size_t owner = DNS_HDR_LEN + (label_boundary(q, rule_off) ? (size_t)rule_off : 0);

	w16(w, (uint16_t)(0xC000 | owner));
	w16(w, DNS_T_SOA);
	w16(w, DNS_CLASS_IN);
	w32(w, sc->ttl);
	w16(w, (uint16_t)SOA_RDATA_LEN);
	w_bytes(w, soa_mname, sizeof(soa_mname)); /* the string's NUL is the root label */
	w_bytes(w, soa_rname, sizeof(soa_rname));
	w32(w, 1); /* serial */
	w32(w, SOA_REFRESH);
	w32(w, SOA_RETRY);
	w32(w, SOA_EXPIRE);
	w32(w, sc->ttl); /* minimum: negative caching TTL */
}

size_t dnsmsg_answer_sinkhole(const struct dns_query *q, const struct sinkhole_conf *sc,
			      int rule_off, uint8_t *out, size_t cap, size_t limit)
{
	struct wbuf w = {.p = out, .cap = cap, .len = 0, .ok = true};
	size_t qlen = question_len(q), full;
	const uint8_t *addr = NULL;
	uint16_t atype = 0, alen = 0;
	int rcode = DNS_NOERROR;
	bool soa = false, tc;

	if (!qlen)
		return 0; /* only a parsed query (QUERY_OK) can be sinkholed */

	switch (sc->mode) {
	case SINKHOLE_ADDRESS:
		if (q->qclass == DNS_CLASS_IN && q->qtype == DNS_T_A) {
			atype = DNS_T_A;
			addr = sc->ipv4;
			alen = sizeof(sc->ipv4);
		} else if (q->qclass == DNS_CLASS_IN && q->qtype == DNS_T_AAAA) {
			atype = DNS_T_AAAA;
			addr = sc->ipv6;
			alen = sizeof(sc->ipv6);
		} else {
			soa = true;
		}
		break;
	case SINKHOLE_NXDOMAIN:
		rcode = DNS_NXDOMAIN;
		soa = true;
		break;
	case SINKHOLE_NODATA:
		soa = true;
		break;
	case SINKHOLE_REFUSED:
	default:
		rcode = DNS_REFUSED;
		break;
	}

	full = DNS_HDR_LEN + qlen + (addr ? ADDR_RR_LEN(alen) : 0) + (soa ? SOA_RR_LEN : 0) +
	       (q->edns ? OPT_RR_LEN + EDE_OPT_LEN : 0);
	tc = full > limit || full > cap;

	w_header(&w, q, 0, tc, rcode, 1, !tc && addr, !tc && soa, q->edns);
	w_bytes(&w, q->pkt + DNS_HDR_LEN, qlen);
	if (!tc && addr) {
		w16(&w, 0xC000 | DNS_HDR_LEN);
		w16(&w, atype);
		w16(&w, DNS_CLASS_IN);
		w32(&w, sc->ttl);
		w16(&w, alen);
		w_bytes(&w, addr, alen);
	}
	if (!tc && soa)
		w_soa(&w, q, sc, rule_off);
	if (q->edns)
		w_opt(&w, q->edns_do, 0, DNS_EDE_BLOCKED);
	return w.ok ? w.len : 0;
}

size_t dnsmsg_answer_error(const struct dns_query *q, int rcode, int ede, uint8_t *out, size_t cap)
{
	struct wbuf w = {.p = out, .cap = cap, .len = 0, .ok = true};
	size_t qlen = question_len(q);
	bool opt = q->edns || rcode > 0x0F;

	w_header(&w, q, q->opcode, false, rcode, qlen ? 1 : 0, 0, 0, opt);
	w_bytes(&w, q->pkt + DNS_HDR_LEN, qlen);
	if (opt)
		w_opt(&w, q->edns_do, rcode, ede);
	return w.ok ? w.len : 0;
}

size_t dnsmsg_forward_query(const struct dns_query *q, uint16_t id, uint8_t *out, size_t cap)
{
	if (q->len < DNS_HDR_LEN || cap < q->len)
		return 0;
	memcpy(out, q->pkt, q->len);
	dns_set16(out, id);
	if (q->opt_off && q->opt_off + 2 <= q->len)
		dns_set16(out + q->opt_off, DNS_EDNS_SIZE);
	return q->len;
}

bool dnsmsg_reply_matches(const uint8_t *reply, size_t len, uint16_t id, const struct dns_query *q)
{
	size_t off = DNS_HDR_LEN, i = 0;

	if (len < DNS_HDR_LEN || !(reply[2] & F_QR) || ((reply[2] >> 3) & 0x0F) != 0)
		return false;
	if (dns_get16(reply) != id || dns_get16(reply + 4) != 1)
		return false;
	for (;;) {
		uint8_t l;

		if (off >= len || i >= q->name_len)
			return false;
		l = reply[off];
		/* q->name holds only plain labels, so a pointer or reserved type never matches */
		if ((l & 0xC0) || l != q->name[i] || len - off < 1u + l || q->name_len - i < 1u + l)
			return false;
		for (size_t k = 1; k <= l; k++)
			if (ascii_lower(reply[off + k]) != q->name[i + k])
				return false;
		off += 1u + l;
		i += 1u + l;
		if (l == 0)
			break;
	}
	if (i != q->name_len || len - off < 4)
		return false;
	return dns_get16(reply + off) == q->qtype && dns_get16(reply + off + 2) == q->qclass;
}

size_t dnsmsg_relay_reply(uint8_t *buf, size_t len, size_t cap, const struct dns_query *q,
			  size_t limit)
{
	size_t qlen = question_len(q);
	struct wbuf w;

	if (len < DNS_HDR_LEN + qlen || len > cap)
		return 0;
	dns_set16(buf, q->id);
	memcpy(buf + DNS_HDR_LEN, q->pkt + DNS_HDR_LEN, qlen);
	/*
	 * The answer comes from a recursive service (us), whatever the upstream is: RA=1, AA=0
	 * (an authoritative upstream sets AA=1, RA=0), Z=0. Only opcode QUERY is relayed.
	 */
	buf[2] &= (uint8_t)~F_AA;
	buf[3] = (uint8_t)((buf[3] | F_RA) & ~F_Z);
	if (len <= limit)
		return len;

	buf[2] |= F_TC;
	dns_set16(buf + 4, qlen ? 1 : 0);
	dns_set16(buf + 6, 0);
	dns_set16(buf + 8, 0);
	dns_set16(buf + 10, 0);
	w = (struct wbuf){.p = buf, .cap = cap, .len = DNS_HDR_LEN + qlen, .ok = true};
	if (q->edns) {
		w_opt(&w, q->edns_do, 0, DNS_EDE_NONE);
		if (w.ok)
			dns_set16(buf + 10, 1);
		else
			w.len = DNS_HDR_LEN + qlen; /* no room for the OPT: send without */
	}
	return w.len;
}

bool dnsmsg_is_truncated(const uint8_t *msg, size_t len)
{
	return len >= DNS_HDR_LEN && (msg[2] & F_TC);
}

int dnsmsg_rcode(const uint8_t *msg, size_t len)
{
	return len >= DNS_HDR_LEN ? msg[3] & 0x0F : -1;
}

bool dnsmsg_first_address(const uint8_t *msg, size_t len, int *family, uint8_t addr[16])
{
	unsigned qd, an;
	size_t off = DNS_HDR_LEN;

	if (len < DNS_HDR_LEN)
		return false;
	qd = dns_get16(msg + 4);
	an = dns_get16(msg + 6);
	for (unsigned i = 0; i < qd; i++) {
		off = dnsmsg_skip_name(msg, len, off);
		if (!off || len - off < 4)
			return false;
		off += 4;
	}
	for (unsigned i = 0; i < an; i++) {
		struct dns_rr rr;

		off = dnsmsg_next_rr(msg, len, off, &rr);
		if (!off)
			return false;
		if (rr.rclass == DNS_CLASS_IN && rr.type == DNS_T_A && rr.rdlen == 4) {
			*family = AF_INET;
			memcpy(addr, msg + rr.rdata, 4);
			return true;
		}
		if (rr.rclass == DNS_CLASS_IN && rr.type == DNS_T_AAAA && rr.rdlen == 16) {
			*family = AF_INET6;
			memcpy(addr, msg + rr.rdata, 16);
			return true;
		}
	}
	return false;
}
