/* SPDX-License-Identifier: MIT */
#include "state.h"

#include <stdlib.h>
#include <time.h>

#include "config.h"
#include "policy/policy.h"

struct state *state_load(const char *path, const struct state *prev, struct parse_errs *errs,
			 struct parse_errs *warns)
{
	struct config *cfg = NULL;
	struct policy *p;
	struct state *st;

	if (config_load(path, &cfg, errs) != 0)
		return NULL;
	p = policy_load(cfg, prev ? prev->policy : NULL, time(NULL), errs, warns);
	if (!p) {
		config_free(cfg);
		return NULL;
	}
	st = calloc(1, sizeof(*st));
	if (!st) {
		perr_add(errs, path, 0, 0, "out of memory");
		policy_release(p);
		policy_free(p);
		config_free(cfg);
		return NULL;
	}
	st->cfg = cfg;
	st->policy = p;
	atomic_init(&st->refs, 1);
	return st;
}

void state_free(struct state *st)
{
	if (policy_release(st->policy))
		policy_free(st->policy);
	config_free(st->cfg);
	free(st);
}

void state_release(struct state *st, state_retire_fn retire, void *arg)
{
	if (atomic_fetch_sub_explicit(&st->refs, 1, memory_order_acq_rel) == 1)
		retire(st, arg);
}
