/* SPDX-License-Identifier: MIT */
/**
 * DNS wire messages on the query path (DESIGN.md section 5): bounded parsing of a client
 * query, building sinkhole and error answers, and checking/relaying upstream replies.
 * Works on caller buffers, allocates nothing, never reads outside [pkt, pkt + len).
 */
#ifndef SINKHOLED_DNSMSG_H
#define SINKHOLED_DNSMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sinkhole_conf;

#define DNS_HDR_LEN 12
#define DNS_MAX_NAME 255
#define DNS_UDP_MIN 512	  /**< limit without EDNS */
#define DNS_EDNS_SIZE 1232 /**< our advertised size and the cap on the client's */
#define DNS_RR_FIXED_LEN 10 /**< TYPE, CLASS, TTL, RDLENGTH after a record's owner name */

/** Big-endian 16- and 32-bit fields of wire-format messages. */
static inline uint16_t dns_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t dns_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void dns_set16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void dns_set32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

enum dns_rcode {
	DNS_NOERROR = 0,
	DNS_FORMERR = 1,
	DNS_SERVFAIL = 2,
	DNS_NXDOMAIN = 3,
	DNS_NOTIMP = 4,
	DNS_REFUSED = 5,
	DNS_BADVERS = 16, /**< extended rcode: needs an OPT record */
};

enum dns_type {
	DNS_T_A = 1,
	DNS_T_NS = 2,
	DNS_T_CNAME = 5,
	DNS_T_SOA = 6,
	DNS_T_MX = 15,
	DNS_T_TXT = 16,
	DNS_T_AAAA = 28,
	DNS_T_DNAME = 39,
	DNS_T_OPT = 41,
	DNS_T_ANY = 255,
};

/** Extended DNS Error codes we send (RFC 8914). */
enum dns_ede {
	DNS_EDE_NONE = -1,
	DNS_EDE_BLOCKED = 15,
	DNS_EDE_PROHIBITED = 18,
	DNS_EDE_NO_REACHABLE_AUTHORITY = 22,
};

/** What to do with a received packet, from dnsmsg_parse_query. */
enum query_status {
	QUERY_OK = 0,	   /**< a well-formed standard query: q is complete */
	QUERY_DROP,	   /**< no answer: shorter than a header, or QR=1 */
	QUERY_FORMERR,	   /**< answer FORMERR (QDCOUNT != 1, bad name, > 1 OPT, ...) */
	QUERY_NOTIMP,	   /**< answer NOTIMP (opcode other than QUERY) */
	QUERY_BADVERS,	   /**< answer BADVERS (EDNS version > 0) */
};

/**
 * A parsed query. Borrows pkt. After QUERY_FORMERR/NOTIMP/BADVERS, id, flags and (when the
 * question was parsed, question_end > DNS_HDR_LEN) the question and EDNS fields are valid,
 * enough to build the error answer.
 */
struct dns_query {
	const uint8_t *pkt;  /**< the client's packet (borrowed) */
	size_t len;	     /**< its length */
	uint16_t id;	     /**< client's ID */
	uint8_t opcode;	     /**< 0 = QUERY */
	bool rd, cd;	     /**< flags echoed in the answer */
	uint16_t qtype, qclass;
	size_t question_end; /**< pkt[12, question_end) is the question; 12 when not parsed */
	uint8_t name[DNS_MAX_NAME]; /**< QNAME in canonical wire form (lowercase) */
	uint8_t name_len;	    /**< bytes in name, including the root label */
	bool edns;		    /**< the query had an OPT record */
	uint8_t edns_version;
	bool edns_do;		    /**< DO bit, echoed */
	uint16_t edns_udp;	    /**< advertised UDP size (as sent) */
	uint16_t udp_limit;	    /**< max UDP answer: 512 without EDNS, else clamp(size, 512, 1232) */
	size_t opt_off;		    /**< offset in pkt of the OPT RR's CLASS field, 0 if none */
};

/** Parse a client query; fills q as far as it got. */
enum query_status dnsmsg_parse_query(const uint8_t *pkt, size_t len, struct dns_query *q);

/**
 * Build the sinkhole answer for q per sc->mode into out (cap bytes). rule_off is the offset
 * in q->name of the listed domain that matched (owner of the synthetic SOA). limit is the
 * largest answer allowed (q->udp_limit over UDP, 65535 over TCP): a larger answer is cut to
 * header + question (+ OPT) with TC=1. With EDNS the answer carries OPT and EDE 15.
 * Returns the answer length (0 only if cap < the minimum answer).
 */
size_t dnsmsg_answer_sinkhole(const struct dns_query *q, const struct sinkhole_conf *sc,
			      int rule_off, uint8_t *out, size_t cap, size_t limit);

/**
 * Build an error answer (FORMERR, SERVFAIL, NOTIMP, REFUSED, BADVERS) echoing ID, RD, CD and
 * the question if it was parsed; with EDNS, an OPT (and the EDE code unless DNS_EDE_NONE).
 * RA=1 for opcode QUERY; an answer to another opcode has RA, AD and CD clear.
 * BADVERS always carries an OPT. Returns the answer length.
 */
size_t dnsmsg_answer_error(const struct dns_query *q, int rcode, int ede, uint8_t *out,
			   size_t cap);

/**
 * Upstream query for q: the client's packet with a new ID, and its OPT's UDP size set to
 * DNS_EDNS_SIZE. Returns the length, 0 if cap is too small.
 */
size_t dnsmsg_forward_query(const struct dns_query *q, uint16_t id, uint8_t *out, size_t cap);

/**
 * True when reply answers the upstream query made for q with this id: QR=1, same ID,
 * QDCOUNT=1, same QNAME (case-insensitive), QTYPE and QCLASS, and parseable question.
 */
bool dnsmsg_reply_matches(const uint8_t *reply, size_t len, uint16_t id,
			  const struct dns_query *q);

/**
 * Turn an accepted upstream reply (in place, buf has cap bytes) into the client's answer:
 * the client's ID and question bytes (letter case) restored, RA=1, AA=0 and Z=0 (the answer of
 * a recursive service, also from an authoritative upstream), other bits and sections as
 * received; when longer than limit, cut to header + question (+ OPT if the client had EDNS)
 * with TC=1. Returns the new length.
 */
size_t dnsmsg_relay_reply(uint8_t *buf, size_t len, size_t cap, const struct dns_query *q,
			  size_t limit);

/**
 * Skip a possibly compressed name at byte offset off of msg (len bytes). A compression
 * pointer ends the name and is not followed; it must point backwards past the header.
 * Returns the offset after the name, or 0 when it is malformed or cut (0 is never a valid
 * end: names follow the header).
 */
size_t dnsmsg_skip_name(const uint8_t *msg, size_t len, size_t off);

/**
 * Read the name at byte offset off of msg (len bytes) into out in canonical wire form
 * (lowercase), following compression pointers; each must point backwards from where it is, so
 * there is no loop. Returns the name's length in out (root label included), or 0 when it is
 * malformed, cut or longer than DNS_MAX_NAME.
 */
size_t dnsmsg_read_name(const uint8_t *msg, size_t len, size_t off, uint8_t out[DNS_MAX_NAME]);

/**
 * Offset of the answer section of msg (len bytes; the question skipped as dnsmsg_skip_name()
 * does) and its record count in *ancount. Returns 0 when the header or question is cut.
 */
size_t dnsmsg_answer_section(const uint8_t *msg, size_t len, unsigned *ancount);

/** One resource record, as dnsmsg_next_rr() reads it (offsets into the message). */
struct dns_rr {
	size_t owner; /**< the owner name */
	size_t fixed; /**< TYPE (then CLASS, TTL, RDLENGTH) */
	size_t rdata; /**< RDATA, rdlen bytes */
	uint16_t type, rclass, rdlen;
	uint32_t ttl; /**< as on the wire */
};

/**
 * Read the record at byte offset off of msg (len bytes) into *rr: its owner name is skipped
 * as dnsmsg_skip_name() does, and its fixed fields and RDATA must lie within len. Returns
 * the offset after the record, or 0 when it is malformed or cut.
 */
static inline size_t dnsmsg_next_rr(const uint8_t *msg, size_t len, size_t off,
				    struct dns_rr *rr)
{
	rr->owner = off;
	off = dnsmsg_skip_name(msg, len, off);
	if (!off || len - off < DNS_RR_FIXED_LEN)
		return 0;
	rr->fixed = off;
	rr->type = dns_get16(msg + off);
	rr->rclass = dns_get16(msg + off + 2);
	rr->ttl = dns_get32(msg + off + 4);
	rr->rdlen = dns_get16(msg + off + 8);
	rr->rdata = off + DNS_RR_FIXED_LEN;
	if (len - rr->rdata < rr->rdlen)
		return 0;
	return rr->rdata + rr->rdlen;
}

/** TC bit of a message (len >= 12). */
bool dnsmsg_is_truncated(const uint8_t *msg, size_t len);
/** RCODE (4 bits of the header; extended bits ignored). */
int dnsmsg_rcode(const uint8_t *msg, size_t len);

/**
 * First A or AAAA address in the answer section of msg: sets *family (AF_INET/AF_INET6) and
 * copies the address into addr. Returns false when there is none or the message is bad.
 */
bool dnsmsg_first_address(const uint8_t *msg, size_t len, int *family, uint8_t addr[16]);

#endif
