/* SPDX-License-Identifier: MIT */
/*
 * Response Policy Zones (`rpz`, draft-vixie-dnsop-dns-rpz): a zone file read with ldns's zone
 * parser, one record at a time ($ORIGIN, $TTL and the previous owner carried over as
 * ldns_zone_new_frm_fp_l() does). The zone's apex is the owner of its SOA (or the $ORIGIN in
 * force at the first record); its SOA and NS records are not triggers.
 *
 * QNAME triggers: an owner "x" (below the apex) matches the name x only, "*.x" matches only
 * the subdomains of x (both listed: the name and its subdomains). Each trigger's records are
 * its action:
 *   CNAME .               NXDOMAIN
 *   CNAME *.              NODATA
 *   CNAME rpz-passthru.   allowed (also the older CNAME to the trigger's own name)
 *   CNAME rpz-drop.       no answer at all
 *   A, AAAA               answered with these addresses (one of each; a query for a type
 *                         without local data gets NODATA)
 * Response IP triggers: "24.0.2.0.192.rpz-ip" is 192.0.2.0/24, "128.1.zz.db8.2001.rpz-ip"
 * 2001:db8::1/128 (the prefix length, then the address's bytes or 16-bit words in reverse,
 * "zz" for the "::"); they become IP indicators with the same actions (passthru: an allowed
 * prefix), so an answer holding such an address is blocked as the action says.
 * Triggers sinkholed cannot apply (rpz-nsdname, rpz-nsip, rpz-client-ip) and actions
 * it cannot carry out (rpz-tcp-only., a CNAME to another name, local data of other types) are
 * skipped and counted by reason. A record ldns cannot parse is counted and reported with its
 * line, and the rest of the zone is used.
 */
#include <ldns/ldns.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "formats/format.h"
#include "policy/builder.h"

enum action { ACT_NONE, ACT_BLOCK, ACT_PASSTHRU, ACT_DEAD };

struct rpz {
	struct list_builder *lb;
	uint8_t apex[255];
	size_t apex_len; /* 0 = not known yet */

	/* The trigger being read: consecutive records of one owner. */
	bool pending;
	uint8_t owner[255]; /* the owner as read (canonical wire) */
	size_t owner_len;
	uint8_t name[255]; /* the trigger's name: owner without the apex (and the "*.") */
	size_t name_len;
	int match;
	bool ip; /* an rpz-ip trigger: pfx, not name */
	struct acl_prefix pfx;
	int line, col;
	enum action act;
	bool cname; /* the action came from a CNAME */
	struct entry_fields f;
};

/* Canonical (lowercase) copy of a wire name; its length, 0 when it is not one. */
static size_t canon(const ldns_rdf *rdf, uint8_t out[255])
{
	size_t n = ldns_rdf_size(rdf), i = 0;
	const uint8_t *d = ldns_rdf_data(rdf);

	if (ldns_rdf_get_type(rdf) != LDNS_RDF_TYPE_DNAME || n == 0 || n > 255)
		return 0;
	for (i = 0; i < n; i++)
		out[i] = (d[i] >= 'A' && d[i] <= 'Z') ? (uint8_t)(d[i] + 32) : d[i];
	return n;
}

/* Offset in name (len bytes) where suffix starts as whole labels, or -1. */
static int suffix_at(const uint8_t *name, size_t len, const uint8_t *suffix, size_t slen)
{
	size_t i = 0;

	while (i < len && len - i >= slen) {
		if (len - i == slen && memcmp(name + i, suffix, slen) == 0)
			return (int)i;
		if (name[i] == 0)
			break;
		i += 1u + name[i];
	}
	return -1;
}

static bool label_is(const uint8_t *l, const char *s)
{
	size_t n = strlen(s);

	return l[0] == n && memcmp(l + 1, s, n) == 0;
}

static void flush(struct rpz *z)
{
	if (!z->pending)
		return;
	z->pending = false;
	if (z->ip && z->act == ACT_PASSTHRU)
		lb_allow_prefix(z->lb, &z->pfx);
	else if (z->ip && z->act == ACT_BLOCK)
		lb_block_prefix(z->lb, &z->pfx, &z->f);
	else if (z->act == ACT_PASSTHRU)
		lb_allow(z->lb, z->name, z->name_len, z->match);
	else if (z->act == ACT_BLOCK) {
		z->f.match = z->match;
		lb_block(z->lb, z->name, z->name_len, &z->f);
	}
}

/*
 * The prefix of an rpz-ip trigger whose labels before "rpz-ip" are owner[0..end): the prefix
 * length, then the IPv4 address's bytes or the IPv6 address's words, last first. False when
 * invalid (reported).
 */
static bool ip_trigger(struct rpz *z, const uint8_t *owner, const uint8_t *end, int line,
		       int col)
{
	const uint8_t *labels[10];
	char text[80];
	size_t n = 0, o = 0;
	bool v4 = true;

	for (const uint8_t *l = owner; l < end; l += 1u + l[0]) {
		if (n == 10 || l[0] == 0 || l[0] > 4) {
			lb_invalid(z->lb, line, col, "an rpz-ip trigger that is no prefix");
			return false;
		}
		labels[n++] = l;
	}
	if (n < 2) {
		lb_invalid(z->lb, line, col, "an rpz-ip trigger that is no prefix");
		return false;
	}
	for (size_t i = 1; i < n; i++)
		for (size_t k = 1; k <= labels[i][0]; k++)
			v4 = v4 && labels[i][k] >= '0' && labels[i][k] <= '9';
	v4 = v4 && n == 5;
	/* The address text, first byte (word) first: "192.0.2.0", "2001:db8::1". */
	for (size_t i = n - 1; i >= 1; i--) {
		const uint8_t *l = labels[i];
		bool zz = !v4 && l[0] == 2 && l[1] == 'z' && l[2] == 'z';

		if (i != n - 1)
			text[o++] = v4 ? '.' : ':';
		if (!zz) {
			memcpy(text + o, l + 1, l[0]);
			o += l[0];
		} else if (i == n - 1) {
			text[o++] = ':'; /* "::" leading */
		}
		if (zz && i == 1)
			text[o++] = ':'; /* "::" trailing */
	}
	text[o++] = '/';
	memcpy(text + o, labels[0] + 1, labels[0][0]);
	o += labels[0][0];
	return lb_feed_prefix(z->lb, text, o, line, col, &z->pfx);
}

/* A new trigger: the owner owner (olen bytes), relative to the apex at rel (its offset). */
static void start(struct rpz *z, const uint8_t *owner, size_t olen, int rel, int line, int col)
{
	const uint8_t *last = owner;

	z->pending = true;
	memcpy(z->owner, owner, olen);
	z->owner_len = olen;
	z->line = line;
	z->col = col;
	z->act = ACT_NONE;
	z->cname = false;
	z->ip = false;
	z->name_len = 0;
	z->f = entry_fields_none;
	/* The label next to the apex says which kind of trigger this is. */
	for (const uint8_t *l = owner; l < owner + rel; l += 1u + l[0])
		last = l;
	if (label_is(last, "rpz-ip")) {
		z->ip = true;
		if (!ip_trigger(z, owner, last, line, col))
			z->act = ACT_DEAD;
		return;
	}
	if (label_is(last, "rpz-nsdname") || label_is(last, "rpz-nsip") ||
	    label_is(last, "rpz-client-ip")) {
		lb_skip(z->lb, label_is(last, "rpz-nsdname") ? "rpz-nsdname trigger"
			       : label_is(last, "rpz-nsip")  ? "rpz-nsip trigger"
							     : "rpz-client-ip trigger");
		z->act = ACT_DEAD;
		return;
	}
	z->match = MATCH_EXACT;
	if (label_is(owner, "*")) {
		z->match = MATCH_BELOW;
		owner += 2;
		rel -= 2;
		if (rel == 0) {
			lb_skip(z->lb, "trigger for every name");
			z->act = ACT_DEAD;
			return;
		}
	}
	for (const uint8_t *l = owner; l < owner + rel; l += 1u + l[0]) {
		if (label_is(l, "*")) {
			lb_invalid(z->lb, line, col, "a \"*\" label inside a trigger name");
			z->act = ACT_DEAD;
			return;
		}
	}
	memcpy(z->name, owner, (size_t)rel);
	z->name[rel] = 0;
	z->name_len = (size_t)rel + 1;
}

/* A CNAME's target: the action it names. */
static void cname_action(struct rpz *z, const uint8_t *t, size_t tlen)
{
	z->cname = true;
	z->act = ACT_BLOCK;
	if (tlen == 1) {
		z->f.answer = ANSWER_NXDOMAIN;
	} else if (tlen == 3 && label_is(t, "*")) {
		z->f.answer = ANSWER_NODATA;
	} else if (label_is(t, "rpz-passthru") && t[13] == 0) {
		z->act = ACT_PASSTHRU;
	} else if (label_is(t, "rpz-drop") && t[9] == 0) {
		z->f.answer = ANSWER_DROP;
	} else if (tlen == z->name_len && memcmp(t, z->name, tlen) == 0 &&
		   z->match == MATCH_EXACT) {
		z->act = ACT_PASSTHRU; /* the older spelling of passthru: a CNAME to itself */
	} else {
		lb_skip(z->lb, label_is(t, "rpz-tcp-only") && t[13] == 0
				   ? "rpz-tcp-only action"
				   : "CNAME to another name (rewrite)");
		z->act = ACT_DEAD;
	}
}

static void record(struct rpz *z, const ldns_rr *rr, const ldns_rdf *origin, int line, int col)
{
	ldns_rr_type type = ldns_rr_get_type(rr);
	uint8_t owner[255], target[255];
	size_t olen = canon(ldns_rr_owner(rr), owner), tlen;
	const ldns_rdf *rd = ldns_rr_rd_count(rr) > 0 ? ldns_rr_rdf(rr, 0) : NULL;
	int rel;

	if (!z->apex_len) {
		/* The zone's apex: its SOA's owner, else the $ORIGIN in force, else the root. */
		if (type == LDNS_RR_TYPE_SOA && olen)
			memcpy(z->apex, owner, z->apex_len = olen);
		else if (origin && (z->apex_len = canon(origin, z->apex)) > 0)
			;
		else
			z->apex[0] = 0, z->apex_len = 1;
	}
	if (!olen) {
		lb_invalid(z->lb, line, col, "not a domain name as owner");
		return;
	}
	if (ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN) {
		lb_invalid(z->lb, line, col, "class %u, not IN", (unsigned)ldns_rr_get_class(rr));
		return;
	}
	switch (type) {
	case LDNS_RR_TYPE_RRSIG:
	case LDNS_RR_TYPE_NSEC:
	case LDNS_RR_TYPE_NSEC3:
	case LDNS_RR_TYPE_NSEC3PARAM:
	case LDNS_RR_TYPE_DNSKEY:
	case LDNS_RR_TYPE_DS:
		return; /* a signed zone's records: not policy */
	default:
		break;
	}
	rel = suffix_at(owner, olen, z->apex, z->apex_len);
	if (rel < 0) {
		lb_invalid(z->lb, line, col, "owner outside the zone");
		return;
	}
	if (rel == 0)
		return; /* the apex's SOA, NS (and anything else there) are not triggers */
	if (!z->pending || olen != z->owner_len || memcmp(owner, z->owner, olen) != 0) {
		flush(z);
		start(z, owner, olen, rel, line, col);
	}
	if (z->act == ACT_DEAD)
		return;
	if (type == LDNS_RR_TYPE_CNAME || z->cname) {
		if (z->act != ACT_NONE) {
			lb_invalid(z->lb, line, col, "a CNAME and other records at the same name");
			z->act = ACT_DEAD;
			return;
		}
		tlen = rd ? canon(rd, target) : 0;
		if (!tlen) {
			lb_invalid(z->lb, line, col, "CNAME without a target");
			z->act = ACT_DEAD;
			return;
		}
		cname_action(z, target, tlen);
		return;
	}
	z->act = ACT_BLOCK;
	z->f.answer = ANSWER_LOCAL;
	if (type == LDNS_RR_TYPE_A && rd && ldns_rdf_size(rd) == 4) {
		if (z->f.local & LOCAL_IPV4) {
			lb_skip(z->lb, "more than one address of a type");
			return;
		}
		z->f.local |= LOCAL_IPV4;
		memcpy(z->f.ipv4, ldns_rdf_data(rd), 4);
	} else if (type == LDNS_RR_TYPE_AAAA && rd && ldns_rdf_size(rd) == 16) {
		if (z->f.local & LOCAL_IPV6) {
			lb_skip(z->lb, "more than one address of a type");
			return;
		}
		z->f.local |= LOCAL_IPV6;
		memcpy(z->f.ipv6, ldns_rdf_data(rd), 16);
	} else {
		/* Local data sinkholed cannot serve; the trigger still answers other types. */
		lb_skip(z->lb, "local data other than A and AAAA");
	}
}

/* Where the record read from text[pos] starts: its line (line is pos's) and column. */
static void record_start(const char *text, size_t len, size_t pos, int *line, int *col)
{
	size_t bol = pos, i = pos;

	while (i < len) {
		if (text[i] == '\n') {
			(*line)++;
			bol = ++i;
		} else if (text[i] == ';') {
			while (i < len && text[i] != '\n')
				i++;
		} else if (text[i] == ' ' || text[i] == '\t' || text[i] == '\r') {
			i++;
		} else {
			break;
		}
	}
	*col = (int)(i - bol) + 1;
}

void format_rpz_parse(struct list_builder *lb, const char *text, size_t len)
{
	struct rpz z = {.lb = lb};
	ldns_rdf *origin = NULL, *prev = NULL;
	uint32_t ttl = 3600;
	int line_nr = 1;
	FILE *fp;

	if (len == 0)
		return;
	fp = fmemopen((void *)text, len, "r");
	if (!fp) {
		lb_oom(lb);
		return;
	}
	while (!lb_failed(lb)) {
		long pos = ftell(fp);
		int line = line_nr, col = 1;
		ldns_rr *rr = NULL;
		ldns_status s;

		if (pos < 0 || (size_t)pos >= len)
			break;
		s = ldns_rr_new_frm_fp_l(&rr, fp, &ttl, &origin, &prev, &line_nr);
		record_start(text, len, (size_t)pos, &line, &col);
		switch (s) {
		case LDNS_STATUS_OK:
			record(&z, rr, origin, line, col);
			break;
		case LDNS_STATUS_SYNTAX_EMPTY:
		case LDNS_STATUS_SYNTAX_TTL:
		case LDNS_STATUS_SYNTAX_ORIGIN:
			break;
		case LDNS_STATUS_MEM_ERR:
			lb_oom(lb);
			break;
		case LDNS_STATUS_SYNTAX_INCLUDE:
			lb_invalid(lb, line, col, "$INCLUDE is not supported");
			break;
		default:
			lb_invalid(lb, line, col, "%s", ldns_get_errorstr_by_id(s));
			break;
		}
		ldns_rr_free(rr);
		if (ftell(fp) == pos)
			break; /* nothing consumed: never loop on the same bytes */
	}
	flush(&z);
	ldns_rdf_deep_free(origin);
	ldns_rdf_deep_free(prev);
	fclose(fp);
}
