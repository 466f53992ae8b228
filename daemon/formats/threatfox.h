/* SPDX-License-Identifier: MIT */
/**
 * What the two ThreatFox formats (threatfox_csv.c, threatfox_json.c) share: one IOC row, as
 * read from either export, into the list builder. The readers only find the fields; the
 * rules (which types become entries, nulls, confidence, dates) are here, once.
 */
#ifndef SINKHOLED_FORMATS_THREATFOX_H
#define SINKHOLED_FORMATS_THREATFOX_H

#include <stdbool.h>
#include <stddef.h>

struct list_builder;

/** The fields of a row that sinkholed reads. */
enum tf_field_id {
	TF_VALUE,      /**< ioc_value */
	TF_TYPE,       /**< ioc_type */
	TF_ID,	       /**< ioc_id (the JSON export's key) */
	TF_MALWARE,    /**< malware_printable */
	TF_THREAT,     /**< threat_type */
	TF_CONFIDENCE, /**< confidence_level */
	TF_FIRST_SEEN, /**< first_seen_utc */
	TF_REFERENCE,  /**< reference */
	TF_NFIELDS,
};

/** The export's name of each field ("ioc_value", ...). */
extern const char *const threatfox_field_names[TF_NFIELDS];

/** Longest field value a reader copies (a value it cannot point to in the text). */
#define TF_FIELD_MAX 1024

/** One field of a row: s[0..n) (not NUL-terminated), or s NULL when absent or null. */
struct tf_field {
	const char *s;
	size_t n;
	bool too_long; /**< the value needed a copy longer than TF_FIELD_MAX: unusable */
};

struct tf_row {
	struct tf_field f[TF_NFIELDS];
};

/** Where field (an enum tf_field_id, or -1 for the row itself) is, for a warning. */
typedef void tf_pos_fn(void *ctx, int field, int *line, int *col);

/** State kept across the rows of one list (interned strings of the previous row). */
struct threatfox {
	struct list_builder *lb;
	const char *source; /**< "ThreatFox", interned */
	struct {
		const char *s; /**< interned, NULL = nothing cached */
		size_t n;
	} last[TF_NFIELDS];
};

/** Start reading one list into lb. */
void threatfox_init(struct threatfox *tf, struct list_builder *lb);
/**
 * One row: a domain IOC becomes a block entry with its metadata, an ip:port IOC an IP
 * indicator (its address); url and hash IOCs are skipped and counted by type; a bad row is
 * lb_invalid() at the position pos gives.
 */
void threatfox_row(struct threatfox *tf, const struct tf_row *row, tf_pos_fn *pos, void *ctx);

#endif
