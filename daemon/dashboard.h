/* SPDX-License-Identifier: MIT */
/**
 * The dashboard on the `http:` listener (README "Dashboard"): GET / is one self-contained page
 * (daemon/dashboard/index.html, embedded at build time), and GET /api/... its data as JSON,
 * read from memory (insight.h, the lists' health copied at each load), never from log files.
 * Read-only: no route changes any state.
 */
#ifndef SINKHOLED_DASHBOARD_H
#define SINKHOLED_DASHBOARD_H

#include <stddef.h>
#include <stdint.h>

struct blocklog;
struct config;
struct http_route;
struct insight;
struct policy_stats;
struct dashboard;

/** The routes the dashboard serves: "/" and the API's. */
#define DASHBOARD_ROUTES 8

/** A dashboard over in and bl (borrowed until dashboard_free). NULL on ENOMEM. */
struct dashboard *dashboard_new(struct insight *in, struct blocklog *bl);
/** NULL-safe; after the HTTP listener stopped. */
void dashboard_free(struct dashboard *d);
/**
 * The lists in use (cfg's, with the counts of ps), at startup and after each reload, copied
 * (the state may be freed afterwards); loaded is when, in Unix seconds. Thread-safe.
 */
void dashboard_set_lists(struct dashboard *d, const struct config *cfg,
			 const struct policy_stats *ps, int64_t loaded);
/** Fill routes with the DASHBOARD_ROUTES routes (their arg is d). */
void dashboard_routes(struct dashboard *d, struct http_route *routes);

#endif
