/* SPDX-License-Identifier: MIT */
/**
 * The HTTP listener (the `http:` config section): libmicrohttpd in a thread of its own, off
 * the workers' loops, serving a small table of routes (GET /metrics, the dashboard and its
 * API). A client outside http.allow gets 403, and so does a request whose Host header names
 * neither an address, localhost, this machine nor one of http.hosts (DNS rebinding); an
 * unknown path 404, a method other than GET or HEAD 405. Every answer is read-only: no route
 * changes any state.
 */
#ifndef SINKHOLED_HTTP_H
#define SINKHOLED_HTTP_H

#include <stddef.h>
#include <sys/socket.h>

struct http;
struct http_conf;

/** What a route answers: status, content type, and a malloc'd body (taken over). */
struct http_reply {
	unsigned status;	  /**< 200 unless the handler says otherwise */
	const char *content_type; /**< static string */
	char *body;		  /**< NULL: an empty body (or 500 when status is 200) */
	size_t len;
	const char *csp; /**< a Content-Security-Policy header (static string), or NULL */
};

/** Fill *out for a GET of the route; runs on the HTTP thread. */
typedef void (*http_handler_fn)(void *arg, struct http_reply *out);

struct http_route {
	const char *path; /**< matched exactly, e.g. "/metrics" */
	http_handler_fn fn;
	void *arg;
};

/**
 * Bind a listening TCP socket on ss (before privileges are dropped). Returns the fd, or a
 * negative errno.
 */
int http_bind(const struct sockaddr_storage *ss);
/**
 * Serve fd (taken over, also on failure) in a thread of its own: routes (n of them, borrowed
 * until http_stop), clients in hc->allow, Host names of hc->hosts (both copied). NULL on
 * failure, logged.
 */
struct http *http_start(int fd, const struct http_route *routes, size_t n,
			const struct http_conf *hc);
/** Replace the allowed clients and Host names (a reload); thread-safe. Keeps the old on ENOMEM. */
void http_set_access(struct http *h, const struct http_conf *hc);
/** Stop the thread, close the socket, free. NULL-safe. */
void http_stop(struct http *h);

#endif
