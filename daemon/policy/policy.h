/* SPDX-License-Identifier: MIT */
/**
 * The policy: every blocklist of the config, whatever its format (daemon/formats/), loaded
 * into one immutable, refcounted snapshot: a domainset of blocked names, one of allowed
 * names, an ipset of blocked prefixes (IP indicators), one of allowed prefixes, and the IOC
 * metadata that the block log reports. Workers look names up in the
 * current snapshot without locks. How formats feed it: policy/builder.h.
 */
#ifndef SINKHOLED_POLICY_POLICY_H
#define SINKHOLED_POLICY_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dnsmsg.h"
#include "perr.h"

struct config;
struct list_conf;

enum ioc_action { IOC_BLOCK = 0, IOC_LOG = 1 };

/** Which names a listed name matches. */
enum match_kind {
	MATCH_SUBTREE = 0, /**< the name and every subdomain (the default) */
	MATCH_EXACT = 1,   /**< the name only (`match: exact`, an RPZ trigger without "*.") */
	MATCH_BELOW = 2,   /**< its subdomains only (an RPZ "*.name" trigger) */
};

/** How a blocked entry is answered: the config's sinkhole.mode, or the entry's own (RPZ). */
enum ioc_answer {
	ANSWER_DEFAULT = 0,  /**< as sinkhole.mode says */
	ANSWER_NXDOMAIN = 1, /**< NXDOMAIN (RPZ "CNAME .") */
	ANSWER_NODATA = 2,   /**< NOERROR, no records (RPZ "CNAME *.") */
	ANSWER_DROP = 3,     /**< no answer at all (RPZ "CNAME rpz-drop.") */
	ANSWER_LOCAL = 4,    /**< the entry's addresses: A -> ipv4, AAAA -> ipv6, others NODATA */
};

/** ioc_meta.local / entry_fields.local: which local-data addresses are set. */
#define LOCAL_IPV4 1u
#define LOCAL_IPV6 2u

/** An entry's local data (RPZ A/AAAA records): the addresses of ioc_meta.local's bits. */
struct ioc_local {
	uint8_t ipv4[4];  /**< with LOCAL_IPV4, else zero */
	uint8_t ipv6[16]; /**< with LOCAL_IPV6, else zero */
};

/**
 * What the block log reports about a matched entry. Entries with identical metadata share
 * one ioc_meta (a group of a million bare names costs one; the rows of one ThreatFox
 * submission one: 80 bytes). Strings are NULL when absent. Owned by the policy; valid while
 * a reference to it is held.
 */
struct ioc_meta {
	const char *malware;	 /**< ThreatName */
	const char *threat_type; /**< ThreatCategory */
	const char *source;	 /**< ListSource */
	/**
	 * The feed's IOC id when it is no number (a ThreatFox id is one: policy_match.ioc_id
	 * holds it, and every entry of a submission shares the rest of its metadata)
	 */
	const char *id;
	const char *reference;	 /**< URL */
	const char *file;	 /**< ListFile: the blocklist path as written in the config */
	int64_t first_seen;	 /**< Unix seconds UTC, INT64_MIN when absent */
	int64_t expires;	 /**< Unix seconds UTC after which inactive, INT64_MAX when never */
	const struct ioc_local *addrs; /**< ANSWER_LOCAL: its addresses (per local), else NULL */
	uint16_t list;		 /**< its list's index in the config (policy_stats.files) */
	int8_t confidence;	 /**< 0-100, -1 when absent */
	uint8_t action;		 /**< enum ioc_action, effective: IOC_LOG if `action: log` or
				      below min_confidence */
	int8_t action_given;	 /**< the list's action as written (-1: none), for merges */
	uint8_t match;		 /**< enum match_kind */
	uint8_t answer;		 /**< enum ioc_answer: how a block is answered */
	uint8_t local;		 /**< ANSWER_LOCAL: LOCAL_IPV4 | LOCAL_IPV6, the addresses set */
};

#define LIST_SKIP_REASONS 12

/** Counts per list, for --check, the health line and the reload message. */
struct list_stats {
	const char *file;   /**< as written in the config */
	const char *format; /**< the format it was read as */
	size_t block;	    /**< active block/log entries (names and prefixes) from this list */
	size_t log;	    /**< of which action log (explicit or below min_confidence) */
	size_t allow;	    /**< allow entries */
	size_t expired;	    /**< skipped: already expired at load time */
	size_t duplicates;  /**< names listed more than once (merged, later fields win) */
	size_t invalid;	    /**< invalid lines or entries (the first ones reported as warnings) */
	size_t skipped;	    /**< lines skipped on purpose, in all */
	struct {
		const char *reason; /**< static string; NULL = unused slot */
		size_t n;
	} skip[LIST_SKIP_REASONS]; /**< skipped by reason; the last slot also takes the rest */
	int64_t mtime;		   /**< Unix seconds the file was last written; 0: unknown */
	bool rejected;		   /**< this version was rejected (errors say why) */
	bool kept;		   /**< rejected, and the previous snapshot's entries were kept */
};

struct policy_stats {
	size_t n_files;
	struct list_stats *files;      /**< n_files entries, owned by the policy */
	size_t block, allow;		    /**< distinct names in each set */
	size_t block_ip, allow_ip;	    /**< distinct prefixes (IP indicators) in each set */
	size_t memory;			    /**< bytes held by the sets and metadata */
};

struct policy;

/**
 * Load every blocklist of cfg (cfg->blocklists, with cfg->sinkhole.min_confidence) into a new
 * snapshot with one reference. now (Unix seconds) decides which entries are already expired.
 *
 * Each list stands alone: a list that cannot be read or is rejected (a structural error, or
 * more than 10% invalid entries) adds its errors (FILE:LINE:COLUMN) to errs and contributes
 * the entries it had in prev, the snapshot in use (NULL at startup), while every other list
 * loads its new version. Invalid entries of a list that is used go to warns (may be NULL).
 * Returns NULL only when the snapshot cannot be built: out of memory, or at startup (prev
 * NULL) a list with no good version.
 */
struct policy *policy_load(const struct config *cfg, const struct policy *prev, int64_t now,
			   struct parse_errs *errs, struct parse_errs *warns);
/**
 * One list in memory in the given format (enum list_format of formats/format.h), for tests
 * and fuzzing: file names it in errors and in ioc_meta.file. NULL when the list is rejected.
 */
struct policy *policy_load_text(int format, const char *text, size_t len, const char *file,
				int min_confidence, int64_t now, struct parse_errs *errs,
				struct parse_errs *warns);
/**
 * Check a new version of list lc (a fetched feed) before it replaces the copy in use: parse
 * text with lc's format and defaults, and apply the rules that reject a list (errors, more than
 * 10% invalid, no entries where the version in use has had > 0). Its counts go to *out (may
 * be NULL). Returns true when it may replace the copy.
 */
bool policy_validate(const struct list_conf *lc, const char *text, size_t len, int64_t now,
		     size_t had, struct parse_errs *errs, struct parse_errs *warns,
		     struct list_stats *out);
/** policy_load_text() of a YAML list. */
struct policy *policy_load_string(const char *text, size_t len, const char *file,
				  int min_confidence, int64_t now, struct parse_errs *errs);

/** Take a reference (atomic). */
void policy_acquire(struct policy *p);
/**
 * Drop a reference (atomic). Returns true when it was the last one: the caller must then
 * arrange policy_free() (off the event loops: freeing a large set takes time).
 */
bool policy_release(struct policy *p);
/** Free a snapshot nobody references. NULL-safe. */
void policy_free(struct policy *p);

const struct policy_stats *policy_stats(const struct policy *p);
/**
 * One list's health line (no newline) into buf: its counts, skip reasons, the copy's age at
 * now and whether its previous version is kept. Returns buf.
 */
char *policy_list_health(const struct list_stats *f, int64_t now, char *buf, size_t len);

enum verdict {
	VERDICT_PASS = 0,  /**< not listed: forward */
	VERDICT_ALLOW = 1, /**< on the allow list (wins over block): forward, not logged */
	VERDICT_BLOCK = 2, /**< sinkhole and log */
	VERDICT_LOG = 3,   /**< forward, log with DvcAction Allowed */
};

struct policy_match {
	enum verdict verdict;
	const struct ioc_meta *meta; /**< for BLOCK and LOG, else NULL */
	int rule_off;		     /**< offset in name of the listed domain (RuleName), or -1 */
	/** The entry's numeric IOC id (ThreatId), 0 when it has none (then meta->id, if any) */
	uint32_t ioc_id;
};

/** Room for an IOC id as text: meta->id, or a numeric id in decimal (ioc_id_text). */
#define IOC_ID_TEXT 12

/**
 * The IOC id of an entry as the block log writes it (ThreatId): ioc_id in decimal into buf
 * when it is not 0, else meta->id (NULL when it has none, or meta is NULL).
 */
const char *ioc_id_text(const struct ioc_meta *meta, uint32_t ioc_id, char buf[IOC_ID_TEXT]);

/**
 * Decide a query name (canonical wire form, as produced by dnsmsg_parse_query). An allow
 * match on the name or any parent wins; otherwise the longest listed suffix that is active at
 * now (Unix seconds) decides. Allocation-free and lock-free.
 */
void policy_lookup(const struct policy *p, const uint8_t *name, size_t len, int64_t now,
		   struct policy_match *m);

struct domainset;
/**
 * The names p lists to block or log (each with its entry's value in the policy, no meaning
 * outside it), to iterate with domainset_next() or look up exactly. Borrowed from p.
 */
const struct domainset *policy_block_set(const struct policy *p);

struct ipset;
/**
 * The prefixes p lists to block or log (IP indicators), to iterate with ipset_next() or look
 * up (policy/ipset.h). Borrowed from p.
 */
const struct ipset *policy_block_ipset(const struct policy *p);

/**
 * Decide an address of an upstream answer (family AF_INET: 4 bytes, AF_INET6: 16, network
 * order) at now (Unix seconds): VERDICT_ALLOW when an allowed prefix contains it; otherwise
 * the longest listed prefix that contains it and is active decides, and m->rule_off is that
 * prefix's length. Allocation-free and lock-free.
 */
void policy_lookup_addr(const struct policy *p, int family, const uint8_t *addr, int64_t now,
			struct policy_match *m);

/** What policy_inspect_answer() checks (flags). */
#define INSPECT_NAMES 1u /**< CNAME and DNAME targets (sinkhole.inspect_cname) */
#define INSPECT_ADDRS 2u /**< A and AAAA addresses (sinkhole.inspect_ip) */

/** A name or an address in an upstream answer that the policy lists (policy_inspect_answer). */
struct answer_hit {
	/**
	 * Its decision. For a name, rule_off is an offset in name; for an address, the length of
	 * the listed prefix (policy_lookup_addr).
	 */
	struct policy_match m;
	uint8_t name[DNS_MAX_NAME]; /**< the CNAME or DNAME target, canonical wire form */
	uint8_t name_len;	    /**< 0 for an address */
	uint8_t family;		    /**< an address: AF_INET or AF_INET6; 0 for a name */
	uint8_t addr[16];	    /**< the address (4 bytes used for IPv4), network order */
};

/**
 * Check the answer section of msg (len bytes; the section starts at byte off and holds
 * ancount records) against policy p at now (Unix seconds): per what (INSPECT_ flags), the
 * CNAME and DNAME targets as the query name is checked, and the A and AAAA addresses against
 * the listed prefixes (an IPv4-mapped AAAA as its IPv4 address). Returns VERDICT_BLOCK for the first blocked one, else VERDICT_LOG for
 * the first log-only one (*hit says which), else VERDICT_PASS.
 * Allocation-free; a malformed record ends the walk.
 */
enum verdict policy_inspect_answer(const struct policy *p, const uint8_t *msg, size_t len,
				   size_t off, unsigned ancount, unsigned what, int64_t now,
				   struct answer_hit *hit);

#endif
