/* SPDX-License-Identifier: MIT */
/**
 * The one sink every list format writes to (daemon/formats/). A format parser reads one
 * list's text and hands each entry to a list_builder; the builder applies the list's defaults,
 * drops expired entries, interns the metadata, and stages the entries. Only when the whole
 * list is accepted are they added to the policy, so a rejected list adds nothing.
 *
 * Two kinds of problems: lb_error() is a structural error of a hand-written list (YAML): the
 * list is rejected. lb_invalid() is one bad line of a feed: it is counted, the first ones are
 * reported as FILE:LINE:COLUMN warnings, and the rest of the list is used, unless more than
 * 10% of its entries are invalid, which rejects the list.
 */
#ifndef SINKHOLED_POLICY_BUILDER_H
#define SINKHOLED_POLICY_BUILDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "acl.h"
#include "policy/policy.h"

#define NO_CONF (-1)
#define NO_ACTION (-1)
#define NO_MATCH (-1)

/** Fields of an entry, a group or a list's defaults while loading; absent ones as in NONE. */
struct entry_fields {
	const char *malware, *threat_type, *source, *id, *reference; /**< interned or NULL */
	/**
	 * A numeric IOC id (1 to UINT32_MAX), 0 when absent. Kept with the entry, not in its
	 * metadata, so entries that differ only in it share one ioc_meta. An id and ioc_id go
	 * together: an entry that gives either replaces both of what it is laid over.
	 */
	uint32_t ioc_id;
	int confidence;	    /**< 0-100, NO_CONF when absent */
	int action;	    /**< enum ioc_action, NO_ACTION when absent */
	int match;	    /**< enum match_kind, NO_MATCH when absent */
	int64_t first_seen; /**< Unix seconds, INT64_MIN when absent */
	int64_t expires;    /**< Unix seconds, INT64_MAX when absent */
	int answer;	    /**< enum ioc_answer; ANSWER_DEFAULT (0) when absent */
	unsigned local;	    /**< ANSWER_LOCAL: LOCAL_IPV4 | LOCAL_IPV6, the addresses given */
	uint8_t ipv4[4];    /**< with LOCAL_IPV4 */
	uint8_t ipv6[16];   /**< with LOCAL_IPV6 */
};

#define ENTRY_FIELDS_NONE                                                                          \
	{                                                                                          \
		.confidence = NO_CONF, .action = NO_ACTION, .match = NO_MATCH,                     \
		.first_seen = INT64_MIN, .expires = INT64_MAX                                      \
	}

extern const struct entry_fields entry_fields_none;

/**
 * top's present fields over base's. A local-data answer over another one adds its addresses
 * (an RPZ name with A and AAAA records); any other answer replaces base's.
 */
struct entry_fields entry_fields_overlay(const struct entry_fields *base,
					 const struct entry_fields *top);

struct list_builder;

/** The list's file as named in errors. */
const char *lb_path(const struct list_builder *lb);
/** Unix seconds of the load (decides what has expired). */
int64_t lb_now(const struct list_builder *lb);
/** True once the list cannot be accepted (a structural error, or out of memory): stop. */
bool lb_failed(const struct list_builder *lb);

/** The policy's one copy of s[0..n); NULL on ENOMEM (recorded: lb_failed() turns true). */
const char *lb_intern(struct list_builder *lb, const char *s, size_t n);
/**
 * A copy of s[0..n) for the id of the next entry when ids are unique to an entry (a feed's IOC
 * id that is no number: see entry_fields.ioc_id): no lookup, and that entry's metadata is not
 * shared (a million entries with ids of their own cost no hash-consing). NULL on ENOMEM
 * (recorded).
 */
const char *lb_intern_unique(struct list_builder *lb, const char *s, size_t n);

/** A structural error at line:col (1-based; 0 = unknown): the list is rejected. */
void lb_error(struct list_builder *lb, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/** One invalid entry at line:col: counted and (the first ones) reported; the rest is used. */
void lb_invalid(struct list_builder *lb, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/** One line or rule skipped on purpose (reason: a static string, e.g. "cosmetic rule"). */
void lb_skip(struct list_builder *lb, const char *reason);
/** Out of memory: the load fails. */
void lb_oom(struct list_builder *lb);

/**
 * A name of a feed, s[0..n) at line:col, into canonical wire form in out, after undoing the
 * usual defanging (evil[.]com, evil(.)com, hxxp://evil.com/path). A feed's names are host
 * names: letters, digits, '-', '_' and dots only (so an HTML error page is not a list of
 * names). Returns its length, or -1 when it is invalid (then counted and reported with
 * lb_invalid).
 */
int lb_feed_name(struct list_builder *lb, const char *s, size_t n, int line, int col,
		 uint8_t out[255]);
/**
 * An IP indicator s[0..n): an address ("192.0.2.1", "2001:db8::1": a /32 or /128) or a prefix
 * ("192.0.2.0/24", "2001:db8::/32") into *out. Host bits set beyond the length are an error
 * (a typo like 192.0.2.1/24 is not widened). Returns true, or false with the message
 * ("invalid address ...: why") in msg (cap bytes).
 */
bool lb_parse_prefix(const char *s, size_t n, struct acl_prefix *out, char *msg, size_t cap);
/** lb_parse_prefix() for a feed: false when invalid (then counted and reported with lb_invalid). */
bool lb_feed_prefix(struct list_builder *lb, const char *s, size_t n, int line, int col,
		    struct acl_prefix *out);
/** A printable copy of s[0..n) for messages, shortened to fit buf. */
const char *lb_shown(const char *s, size_t n, char buf[80]);

/**
 * Block name (canonical wire form, len bytes) with its own fields own (NULL: none), over the
 * enclosing group's fields (see lb_group_begin) and the list's defaults.
 */
void lb_block(struct list_builder *lb, const uint8_t *name, size_t len,
	      const struct entry_fields *own);
/** Allow name (and, per match, its subdomains); match is an enum match_kind or NO_MATCH. */
void lb_allow(struct list_builder *lb, const uint8_t *name, size_t len, int match);
/**
 * Block the addresses of prefix p (an IP indicator, host bits zero) in upstream answers, as
 * lb_block() blocks a name: the same fields, groups, merging of duplicates and counts.
 */
void lb_block_prefix(struct list_builder *lb, const struct acl_prefix *p,
		     const struct entry_fields *own);
/** Allow the addresses of prefix p: they are never a hit. */
void lb_allow_prefix(struct list_builder *lb, const struct acl_prefix *p);

/**
 * Groups whose fields are known only after their names (YAML allows a group's fields after
 * its domains: list): names blocked between begin and end get the fields given to end;
 * lb_group_abort() drops them.
 */
void lb_group_begin(struct list_builder *lb);
void lb_group_end(struct list_builder *lb, const struct entry_fields *group);
void lb_group_abort(struct list_builder *lb);

#endif
