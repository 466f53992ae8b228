/* SPDX-License-Identifier: MIT */
/**
 * Parse errors of config and blocklist files, collected so that every error of a file is
 * reported at once as "FILE:LINE:COLUMN: message". The caller decides severity: fatal at
 * startup, logged (old state kept) during a reload.
 */
#ifndef SINKHOLED_PERR_H
#define SINKHOLED_PERR_H

#include <stddef.h>

#include "log.h"

/** One error. line and col are 1-based; 0 when unknown (e.g. the file cannot be opened). */
struct parse_err {
	char *file;    /**< owned copy of the file name as given */
	int line, col; /**< position of the offending YAML node */
	char msg[320]; /**< what is wrong, without position */
};

/** A caller-owned list; zero-initialise, then perr_clear() to free. */
struct parse_errs {
	struct parse_err *v;
	size_t n, cap;
	size_t dropped; /**< errors beyond PERR_MAX, counted but not stored */
};

#define PERR_MAX 100

/** Append an error (formatted like printf). Never fails: on ENOMEM the error is counted. */
void perr_add(struct parse_errs *e, const char *file, int line, int col, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/** Format error i as "FILE:LINE:COLUMN: message" (or "FILE: message" without a position). */
void perr_format(const struct parse_err *pe, char *buf, size_t len);
/** Log every error at error level under the tag mod, plus a count of dropped ones. */
void perr_log(const struct parse_errs *e, const char *mod);
/** The same at another level (warnings: invalid entries of a list that is used). */
void perr_log_level(const struct parse_errs *e, const char *mod, enum log_level level);
/** Free all stored errors; the list may be reused. */
void perr_clear(struct parse_errs *e);

#endif
