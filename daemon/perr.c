/* SPDX-License-Identifier: MIT */
#include "perr.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

void perr_add(struct parse_errs *e, const char *file, int line, int col, const char *fmt, ...)
{
	struct parse_err *pe;
	va_list ap;

	if (e->n >= PERR_MAX) {
		e->dropped++;
		return;
	}
	if (e->n == e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 8;
		struct parse_err *v = realloc(e->v, cap * sizeof(*v));
		if (!v) {
			e->dropped++;
			return;
		}
		e->v = v;
		e->cap = cap;
	}
	pe = &e->v[e->n];
	pe->file = strdup(file ? file : "");
	if (!pe->file) {
		e->dropped++;
		return;
	}
	pe->line = line;
	pe->col = col;
	va_start(ap, fmt);
	vsnprintf(pe->msg, sizeof(pe->msg), fmt, ap);
	va_end(ap);
	e->n++;
}

void perr_format(const struct parse_err *pe, char *buf, size_t len)
{
	if (pe->line > 0)
		snprintf(buf, len, "%s:%d:%d: %s", pe->file, pe->line, pe->col, pe->msg);
	else
		snprintf(buf, len, "%s: %s", pe->file, pe->msg);
}

void perr_log_level(const struct parse_errs *e, const char *mod, enum log_level level)
{
	char buf[1024];

	for (size_t i = 0; i < e->n; i++) {
		perr_format(&e->v[i], buf, sizeof(buf));
		log_msg(level, mod, "%s", buf);
	}
	if (e->dropped)
		log_msg(level, mod, "%zu more not shown", e->dropped);
}

void perr_log(const struct parse_errs *e, const char *mod)
{
	perr_log_level(e, mod, LOG_ERR);
}

void perr_clear(struct parse_errs *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->v[i].file);
	free(e->v);
	e->v = NULL;
	e->n = e->cap = e->dropped = 0;
}
