/* SPDX-License-Identifier: MIT */
/**
 * The state: everything a reload replaces (the config and the policy built from its lists),
 * loaded off the event loops and published as one immutable, refcounted unit.
 */
#ifndef SINKHOLED_STATE_H
#define SINKHOLED_STATE_H

#include <stdatomic.h>

#include "perr.h"

struct config;
struct policy;

/**
 * Everything a reload replaces, published as one immutable unit. refs counts the holders:
 * the main thread while it is current, each worker that adopted it, each mailbox slot.
 */
struct state {
	atomic_uint refs;
	struct config *cfg;
	struct policy *policy;
	struct state *retire_next; /**< link in the main thread's retire list */
};

/** Called (from any thread) when a state's last reference is dropped. */
typedef void (*state_retire_fn)(struct state *st, void *arg);

/**
 * Load the config at path and every list it names, with one reference. prev is the state in
 * use (NULL at startup): a list that fails keeps its entries from it. List errors go to errs,
 * invalid entries to warns; NULL only when no state can be built (an invalid config, or at
 * startup a required list without a good version).
 */
struct state *state_load(const char *path, const struct state *prev, struct parse_errs *errs,
			 struct parse_errs *warns);
/** Free a state nobody holds (off the event loops: a large policy takes time). */
void state_free(struct state *st);
/** Drop one reference to st; the last one calls retire. */
void state_release(struct state *st, state_retire_fn retire, void *arg);

#endif
