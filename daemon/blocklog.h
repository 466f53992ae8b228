/* SPDX-License-Identifier: MIT */
/**
 * The block log (DESIGN.md section 6): one JSON line per sinkholed or monitored lookup,
 * Microsoft Sentinel ASIM DNS schema 0.1.7 field names. Each worker (producer) hands fixed-size
 * binary records to its own bounded single-producer/single-consumer ring: no lock, no syscall
 * and no allocation on that path, and never blocking (a full ring drops and counts). One writer
 * thread drains the rings round-robin, formats and appends the records, whole lines only.
 * Order is kept per producer, not across producers.
 */
#ifndef SINKHOLED_BLOCKLOG_H
#define SINKHOLED_BLOCKLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dnsmsg.h"

struct ioc_meta;

/**
 * DvcAction; DROPPED is a block answered with nothing at all (an RPZ rpz-drop. entry, or a
 * lookup over the rate limit with `rate_limit.action: drop`).
 */
enum blocklog_action { BLOCKLOG_BLOCKED = 0, BLOCKLOG_ALLOWED = 1, BLOCKLOG_DROPPED = 2 };
/**
 * NetworkProtocol. BLOCKLOG_RETRO is no single query but a retro-hunt finding (retro.h): the
 * lookups of one client matching an entry listed since; count, start_ms, end_ms and listed_ms
 * apply, and the transport, port, ID, type and answer fields are left out.
 */
enum blocklog_proto { BLOCKLOG_UDP = 0, BLOCKLOG_TCP = 1, BLOCKLOG_RETRO = 2 };
/**
 * AdditionalFields.MatchedVia: what matched the entry, the query name, a name in the answer
 * or an address in the answer (an IP indicator).
 */
enum blocklog_via { BLOCKLOG_VIA_QNAME = 0, BLOCKLOG_VIA_CNAME = 1, BLOCKLOG_VIA_IP = 2 };
/**
 * DvcOriginalAction: what sinkholed did, in its own words. The sinkhole modes (the config's,
 * or the entry's own RPZ answer), LOCAL (an RPZ entry's addresses), DROP (an RPZ rpz-drop.
 * entry), RATELIMITED (over the client's rate limit) and LOG (an `action: log` lookup,
 * answered normally).
 */
enum blocklog_orig {
	BLOCKLOG_ORIG_ADDRESS = 0,
	BLOCKLOG_ORIG_NXDOMAIN = 1,
	BLOCKLOG_ORIG_NODATA = 2,
	BLOCKLOG_ORIG_REFUSED = 3,
	BLOCKLOG_ORIG_LOCAL = 4,
	BLOCKLOG_ORIG_DROP = 5,
	BLOCKLOG_ORIG_RATELIMITED = 6,
	BLOCKLOG_ORIG_LOG = 7,
	BLOCKLOG_ORIG_FORWARD = 8, /**< query log: an unlisted name answered by an upstream */
	BLOCKLOG_ORIG_CACHE = 9,   /**< query log: an unlisted name answered from the cache */
};

/** One lookup, copied into the queue. No pointers but meta. */
struct blocklog_rec {
	int64_t time_ms;	  /**< Unix time in milliseconds (TimeGenerated) */
	uint8_t src_family;	  /**< AF_INET or AF_INET6 (NetworkProtocolVersion) */
	uint8_t src_addr[16];	  /**< SrcIpAddr (4 bytes used for IPv4) */
	uint16_t src_port;	  /**< SrcPortNumber, host order */
	uint8_t dst_family;	  /**< AF_INET, AF_INET6, or 0 when not known */
	uint8_t dst_addr[16];	  /**< DstIpAddr: the listener's bound address */
	uint16_t dst_port;	  /**< DstPortNumber, host order */
	uint8_t proto;		  /**< enum blocklog_proto */
	uint8_t action;		  /**< enum blocklog_action (DvcAction) */
	uint8_t rcode;		  /**< DnsResponseCode */
	uint8_t resp_family;	  /**< 0 when no DnsResponseName, else AF_INET/AF_INET6 */
	uint8_t resp_addr[16];	  /**< DnsResponseName address */
	uint16_t qtype;		  /**< DnsQueryType */
	uint16_t qclass;	  /**< DnsQueryClass */
	uint8_t rd;		  /**< DnsFlagsRecursionDesired: the query's RD bit */
	uint8_t orig;		  /**< enum blocklog_orig (DvcOriginalAction) */
	uint16_t txid;		  /**< TransactionIdHex: the client's ID */
	uint8_t qname_len;	  /**< bytes of qname */
	/**
	 * RuleName = qname (matched for VIA_CNAME) from this offset; VIA_IP: the length of the
	 * listed prefix (RuleName = matched masked to it)
	 */
	uint8_t rule_off;
	uint8_t via;		  /**< enum blocklog_via */
	uint8_t matched_len;	  /**< VIA_CNAME: bytes of matched; VIA_IP: 4 or 16; else 0 */
	/**
	 * The matched entry (ThreatName, ...). Borrowed from a policy snapshot: whoever retires
	 * a snapshot calls blocklog_sync() before freeing it, and a worker hands its pending
	 * aggregates (logagg.h) to the ring before it lets go of the snapshot they refer to.
	 */
	const struct ioc_meta *meta;
	/** The entry's numeric IOC id (ThreatId), 0 when none (then meta->id) */
	uint32_t ioc_id;
	/**
	 * EventCount: the lookups this record stands for. 0 means one, at time_ms (start_ms and
	 * end_ms unset); more than one is a retro-hunt finding or identical lookups aggregated
	 * (blocklog_agg_add), the first at start_ms and the last at end_ms.
	 */
	uint32_t count;
	int64_t start_ms;  /**< EventStartTime: the first lookup, Unix ms (count > 0) */
	int64_t end_ms;	   /**< EventEndTime: the last lookup, Unix ms (count > 0) */
	int64_t listed_ms; /**< BLOCKLOG_RETRO: AdditionalFields.ListedTime, Unix ms */
	/** DnsNetworkDuration (when has_net): ms from receipt to the upstream's answer */
	uint32_t net_ms;
	uint8_t has_net; /**< forwarded: net_ms applies */
	/**
	 * The query log's record of a name no entry matched: no rule and no threat fields
	 * (ThreatField, RuleName, ThreatIsActive, MatchedVia are left out).
	 */
	uint8_t unlisted;
	/* The names last: a record is copied only as far as they are used (blocklog_rec_copy). */
	uint8_t qname[DNS_MAX_NAME]; /**< canonical wire form (DnsQuery) */
	/**
	 * VIA_CNAME: the CNAME or DNAME target that matched (MatchedName), canonical wire form;
	 * VIA_IP: the listed address found in the answer (DnsResponseName), network order
	 */
	uint8_t matched[DNS_MAX_NAME];
};

/**
 * Copy rec to dst as far as it is used: the fields, qname_len bytes of qname and matched_len
 * of matched (a record is about 660 bytes, a typical one's used part about 170: a copy into
 * a ring far larger than the caches writes that many fewer cache lines). dst's bytes beyond
 * the lengths are left as they were.
 */
static inline void blocklog_rec_copy(struct blocklog_rec *dst, const struct blocklog_rec *src)
{
	memcpy(dst, src, offsetof(struct blocklog_rec, qname) + src->qname_len);
	if (src->matched_len)
		memcpy(dst->matched, src->matched, src->matched_len);
}

struct blocklog;

/**
 * Open path for appending ("-" = stdout) and start the writer thread. dvc is the Dvc field.
 * Makes n_producers rings (>= 1), one per submitting thread, of queue_cap records each, rounded
 * up to a power of two: n_producers * queue_cap records are buffered at most. Returns NULL with
 * errno set on failure (EINVAL for a zero or oversized queue_cap, or no producer).
 */
struct blocklog *blocklog_new(const char *path, const char *dvc, size_t queue_cap,
			      unsigned n_producers);
/** Name the writer thread (at most 15 bytes; shown by top -H, perf, /proc/PID/task/TID/comm). */
void blocklog_name_thread(struct blocklog *bl, const char *name);
/** Change the Dvc field for records written from now on (reload). Thread-safe. */
void blocklog_set_dvc(struct blocklog *bl, const char *dvc);
/**
 * Queue a copy of rec in ring producer (< n_producers); never blocks, never allocates. No lock
 * and no syscall, except when the writer is idle: then a short mutex hold to signal it. Each
 * producer index must be used by one thread at a time. Returns 0, or -ENOSPC when that ring is
 * full (counted in blocklog_dropped()).
 */
int blocklog_submit(struct blocklog *bl, unsigned producer, const struct blocklog_rec *rec);
/**
 * Whether ring producer is more than half full: the writer is falling behind. For its producer
 * only (once per batch of queries, not per record: it reads the writer's cache line).
 */
bool blocklog_backlogged(struct blocklog *bl, unsigned producer);
/** Ask the writer to reopen the file (SIGUSR1, logrotate). Async-signal-unsafe; thread-safe. */
void blocklog_reopen(struct blocklog *bl);
/**
 * Block until every record submitted (on any ring) before this call is written or dropped.
 * Thread-safe; may allocate for more than 64 producers (and falls back to a later snapshot
 * when that fails).
 */
void blocklog_sync(struct blocklog *bl);
/**
 * Records dropped since start: rings full or writes failed. Sums per-ring counters, so a
 * concurrent call may miss the latest drops.
 */
uint64_t blocklog_dropped(const struct blocklog *bl);
/** The lookups the dropped records stood for (the sum of their EventCount). */
uint64_t blocklog_dropped_events(const struct blocklog *bl);
/** Records written since start. */
uint64_t blocklog_written(const struct blocklog *bl);
/**
 * Write what is queued in every ring, stop the writer, close the file. NULL-safe. No submit may
 * run concurrently or follow.
 */
void blocklog_free(struct blocklog *bl);

/**
 * DvcHostname: the short host name (gethostname() up to its first dot, "localhost" when
 * there is none), read once. Thread-safe.
 */
const char *blocklog_hostname(void);

/**
 * blocklog_format() writes straight into a buffer of at least this many bytes (more than a line
 * takes: the bytes after the line's end may be overwritten); into a smaller one through a copy.
 */
#define BLOCKLOG_FORMAT_ROOM 12288

/**
 * Format rec as one JSON line (with the trailing '\n') into buf. Returns the length, or 0
 * when cap is too small (8 KiB always suffices).
 */
size_t blocklog_format(const struct blocklog_rec *rec, const char *dvc, char *buf, size_t cap);

/**
 * Called by the writer thread with each record it writes (off the query path), while the
 * record's meta is valid. It may add members to the record's AdditionalFields: JSON text
 * (each member starting with ',') into extra, at most cap bytes; returns their length, 0 for
 * none.
 */
typedef size_t (*blocklog_observe_fn)(void *arg, const struct blocklog_rec *rec, char *extra,
				      size_t cap);
/** Install the observer (fn NULL: none). Before any record is submitted. */
void blocklog_set_observer(struct blocklog *bl, blocklog_observe_fn fn, void *arg);

/*
 * The block log's JSON text, for other JSON writers (the dashboard's API): each writes one
 * quoted JSON string into buf and returns its length, 0 when cap is too small.
 */
/** s escaped as the block log escapes strings (invalid UTF-8 as U+FFFD), cut to max bytes. */
size_t blocklog_json_str(const char *s, size_t max, char *buf, size_t cap);
/** The wire name name[off, len) in presentation form, as DnsQuery is written. */
size_t blocklog_json_name(const uint8_t *name, size_t off, size_t len, char *buf, size_t cap);
/** An address (AF_INET: 4 bytes of addr, AF_INET6: 16); "" for another family. */
size_t blocklog_json_addr(int family, const uint8_t *addr, char *buf, size_t cap);
/** Unix time t_ms as "YYYY-MM-DDTHH:MM:SS.mmmZ" (UTC). */
size_t blocklog_json_time(int64_t t_ms, char *buf, size_t cap);
/** DvcOriginalAction of enum blocklog_orig orig, unquoted ("" for an unknown one). */
const char *blocklog_orig_name(unsigned orig);
/** The listed prefix of an IP hit, quoted (addr masked to bits; "/bits" unless a host). */
size_t blocklog_json_prefix(int family, const uint8_t *addr, unsigned bits, char *buf, size_t cap);

#endif
