/* SPDX-License-Identifier: MIT */
/** Diagnostics on stderr (journald adds timestamps): "sinkholed[mod]: level: message". */
#ifndef SINKHOLED_LOG_H
#define SINKHOLED_LOG_H

#include <stdbool.h>

enum log_level { LOG_ERR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

/** Set the most verbose level printed (default LOG_INFO). Thread-safe. */
void log_set_level(enum log_level level);
/** True when messages of this level are printed: guard costly formatting with it. */
bool log_enabled(enum log_level level);
/** Print one line (thread-safe, one write per line). mod is a short tag like "upstream". */
void log_msg(enum log_level level, const char *mod, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/** Parse "error|warn|info|debug"; returns 0 or -EINVAL. */
int log_level_parse(const char *s, enum log_level *out);

#define log_err(mod, ...) log_msg(LOG_ERR, mod, __VA_ARGS__)
#define log_warn(mod, ...) log_msg(LOG_WARN, mod, __VA_ARGS__)
#define log_info(mod, ...) log_msg(LOG_INFO, mod, __VA_ARGS__)
#define log_debug(mod, ...)                                                                        \
	do {                                                                                       \
		if (log_enabled(LOG_DEBUG))                                                        \
			log_msg(LOG_DEBUG, mod, __VA_ARGS__);                                      \
	} while (0)

#endif
