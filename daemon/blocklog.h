/* SPDX-License-Identifier: MIT */
/**
 * The block log (DESIGN.md section 6): one JSON line per sinkholed or monitored lookup,
 * Microsoft Sentinel ASIM DNS schema 0.1.7 field names. Workers hand fixed-size binary
 * records to a bounded queue (never blocking: a full queue drops and counts); one writer
 * thread formats and appends them, whole lines only.
 */
#ifndef SINKHOLED_BLOCKLOG_H
#define SINKHOLED_BLOCKLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dnsmsg.h"

struct ioc_meta;

enum blocklog_action { BLOCKLOG_BLOCKED = 0, BLOCKLOG_ALLOWED = 1 };
enum blocklog_proto { BLOCKLOG_UDP = 0, BLOCKLOG_TCP = 1 };

/** One lookup, copied into the queue. No pointers but meta. */
struct blocklog_rec {
	int64_t time_ms;	  /**< Unix time in milliseconds (TimeGenerated) */
	uint8_t src_family;	  /**< AF_INET or AF_INET6 (NetworkProtocolVersion) */
	uint8_t src_addr[16];	  /**< SrcIpAddr (4 bytes used for IPv4) */
	uint16_t src_port;	  /**< SrcPortNumber, host order */
	uint8_t proto;		  /**< enum blocklog_proto */
	uint8_t action;		  /**< enum blocklog_action (DvcAction) */
	uint8_t rcode;		  /**< DnsResponseCode */
	uint8_t resp_family;	  /**< 0 when no DnsResponseName, else AF_INET/AF_INET6 */
	uint8_t resp_addr[16];	  /**< DnsResponseName address */
	uint16_t qtype;		  /**< DnsQueryType */
	uint16_t txid;		  /**< TransactionIdHex: the client's ID */
	uint8_t qname_len;	  /**< bytes of qname */
	uint8_t rule_off;	  /**< RuleName = qname from this offset */
	uint8_t qname[DNS_MAX_NAME]; /**< canonical wire form (DnsQuery) */
	/**
	 * The matched entry (ThreatName, ...). Borrowed from a policy snapshot: whoever retires
	 * a snapshot calls blocklog_sync() before freeing it.
	 */
	const struct ioc_meta *meta;
};

struct blocklog;

/**
 * Open path for appending ("-" = stdout) and start the writer thread. dvc is the Dvc field.
 * queue_cap records are buffered at most. Returns NULL with errno set on failure.
 */
struct blocklog *blocklog_new(const char *path, const char *dvc, size_t queue_cap);
/** Change the Dvc field for records written from now on (reload). Thread-safe. */
void blocklog_set_dvc(struct blocklog *bl, const char *dvc);
/** Queue a copy of rec; never blocks. Returns 0, or -ENOSPC when full (counted). */
int blocklog_submit(struct blocklog *bl, const struct blocklog_rec *rec);
/** Ask the writer to reopen the file (SIGUSR1, logrotate). Async-signal-unsafe; thread-safe. */
void blocklog_reopen(struct blocklog *bl);
/** Block until every record submitted before this call is written (or dropped). */
void blocklog_sync(struct blocklog *bl);
/** Records dropped because the queue was full or the write failed, since start. */
uint64_t blocklog_dropped(const struct blocklog *bl);
/** Records written since start. */
uint64_t blocklog_written(const struct blocklog *bl);
/** Write what is queued, stop the writer, close the file. NULL-safe. */
void blocklog_free(struct blocklog *bl);

/**
 * Format rec as one JSON line (with the trailing '\n') into buf. Returns the length, or 0
 * when cap is too small (8 KiB always suffices).
 */
size_t blocklog_format(const struct blocklog_rec *rec, const char *dvc, char *buf, size_t cap);

#endif
