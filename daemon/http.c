/* SPDX-License-Identifier: MIT */
#include "http.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "acl.h"
#include "addr.h"
#include "blocklog.h"
#include "config.h"
#include "log.h"

#define MOD "http"
#define MAX_CONNECTIONS 32
#define CONNECTION_TIMEOUT_S 10
#define BACKLOG 16

struct http {
	struct MHD_Daemon *d;
	const struct http_route *routes;
	size_t n_routes;
	pthread_mutex_t mu; /* guards allow and hosts */
	struct acl *allow;
	char *hosts; /* http_conf.hosts, copied; NULL: none */
	char fqdn[256]; /* this machine's name, lowercase, as gethostname() gives it */
};

static struct acl *acl_copy(const struct acl *a)
{
	size_t size = sizeof(*a) + a->n * sizeof(a->v[0]);
	struct acl *c = malloc(size);

	if (c)
		memcpy(c, a, size);
	return c;
}

int http_bind(const struct sockaddr_storage *ss)
{
	int fd, one = 1;

	fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    (ss->ss_family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0) ||
	    bind(fd, (const struct sockaddr *)ss, addr_len((const struct sockaddr *)ss)) < 0 ||
	    listen(fd, BACKLOG) < 0) {
		int err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *content_type,
			     char *body, size_t len, const char *csp)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, body,
					    body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	if (!r) {
		free(body);
		return MHD_NO;
	}
	if (content_type)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
	/* Every answer is live data: never cached, never sniffed as another type. */
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	if (csp)
		MHD_add_response_header(r, "Content-Security-Policy", csp);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* A short plain-text body for an error status. */
static enum MHD_Result reply_text(struct MHD_Connection *conn, unsigned status, const char *text)
{
	char *body = strdup(text);

	return reply(conn, status, "text/plain; charset=utf-8", body, body ? strlen(body) : 0,
		     NULL);
}

/* A copy of an http_conf.hosts list (NULL stays NULL); *ok false on ENOMEM. */
static char *hosts_copy(const char *hosts, bool *ok)
{
	size_t n = 0;
	char *c;

	*ok = true;
	if (!hosts)
		return NULL;
	while (hosts[n])
		n += strlen(hosts + n) + 1;
	c = malloc(n + 1);
	if (!c)
		*ok = false;
	else
		memcpy(c, hosts, n + 1);
	return c;
}

/*
 * Whether a request's Host header may be answered: an address literal (with a port or not),
 * localhost, this machine's name (short or full), or a name of http.hosts. Any other name is
 * refused, so that a web page whose name an attacker re-points at this listener (DNS
 * rebinding) cannot read it from a browser inside http.allow. No Host at all (HTTP/1.0, not a
 * browser) is answered.
 */
static bool host_ok(struct http *h, const char *host)
{
	char name[256], a6[INET6_ADDRSTRLEN];
	struct in6_addr x6;
	struct in_addr x4;
	const char *end, *colon;
	size_t n;
	bool ok = false;

	if (!host)
		return true;
	if (host[0] == '[') {
		end = strchr(host, ']');
		n = end ? (size_t)(end - host - 1) : 0;
		if (!end || n >= sizeof(a6) || (end[1] && end[1] != ':'))
			return false;
		memcpy(a6, host + 1, n);
		a6[n] = '\0';
		return inet_pton(AF_INET6, a6, &x6) == 1;
	}
	colon = strchr(host, ':');
	n = colon ? (size_t)(colon - host) : strlen(host);
	if (n == 0 || n >= sizeof(name) || (colon && strchr(colon + 1, ':')))
		return false;
	for (size_t i = 0; i < n; i++)
		name[i] = (char)tolower((unsigned char)host[i]);
	if (name[n - 1] == '.')
		n--;
	name[n] = '\0';
	if (inet_pton(AF_INET, name, &x4) == 1 || strcmp(name, "localhost") == 0 ||
	    strcmp(name, h->fqdn) == 0 || strcasecmp(name, blocklog_hostname()) == 0)
		return true;
	pthread_mutex_lock(&h->mu);
	for (const char *p = h->hosts; p && *p && !ok; p += strlen(p) + 1)
		ok = strcmp(p, name) == 0;
	pthread_mutex_unlock(&h->mu);
	return ok;
}

static bool allowed(struct http *h, struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	bool ok;

	if (!ci || !ci->client_addr)
		return false;
	pthread_mutex_lock(&h->mu);
	ok = acl_match(h->allow, ci->client_addr);
	pthread_mutex_unlock(&h->mu);
	return ok;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	struct http *h = cls;
	const struct http_route *route = NULL;
	struct http_reply out = {.status = MHD_HTTP_OK};

	(void)version;
	(void)upload_data;
	(void)con_cls;
	/* A request body is not read: the answer does not depend on it. */
	*upload_data_size = 0;
	if (!allowed(h, conn))
		return reply_text(conn, MHD_HTTP_FORBIDDEN, "forbidden\n");
	if (!host_ok(h, MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST)))
		return reply_text(conn, MHD_HTTP_FORBIDDEN,
				  "forbidden: this Host is not one of the listener's names (http.hosts)\n");
	for (size_t i = 0; i < h->n_routes; i++)
		if (strcmp(url, h->routes[i].path) == 0)
			route = &h->routes[i];
	if (!route)
		return reply_text(conn, MHD_HTTP_NOT_FOUND, "not found\n");
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return reply_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n");
	route->fn(route->arg, &out);
	if (out.status == MHD_HTTP_OK && !out.body)
		return reply_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	return reply(conn, out.status, out.content_type, out.body, out.len, out.csp);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[256];
	size_t n;

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	if (n > 0 && msg[n - 1] == '\n')
		msg[n - 1] = '\0';
	log_warn(MOD, "%s", msg);
}

struct http *http_start(int fd, const struct http_route *routes, size_t n,
			const struct http_conf *hc)
{
	struct http *h = calloc(1, sizeof(*h));
	bool ok = true;

	if (!h || !(h->allow = acl_copy(hc->allow)) || (h->hosts = hosts_copy(hc->hosts, &ok), !ok)) {
		log_err(MOD, "out of memory");
		goto fail;
	}
	if (gethostname(h->fqdn, sizeof(h->fqdn) - 1) < 0)
		h->fqdn[0] = '\0';
	for (char *p = h->fqdn; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	h->routes = routes;
	h->n_routes = n;
	pthread_mutex_init(&h->mu, NULL);
	h->d = MHD_start_daemon(
	    MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request, h,
	    MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL, MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)MAX_CONNECTIONS, MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned)CONNECTION_TIMEOUT_S, MHD_OPTION_END);
	if (!h->d) {
		/* Whether MHD closed fd is not documented: at worst it stays open until exit. */
		log_err(MOD, "cannot start the HTTP listener");
		pthread_mutex_destroy(&h->mu);
		free(h->allow);
		free(h->hosts);
		free(h);
		return NULL;
	}
	return h;
fail:
	close(fd);
	if (h) {
		free(h->allow);
		free(h->hosts);
	}
	free(h);
	return NULL;
}

void http_set_access(struct http *h, const struct http_conf *hc)
{
	struct acl *c, *old;
	char *hosts, *old_hosts;
	bool ok;

	if (!h)
		return;
	c = acl_copy(hc->allow);
	hosts = hosts_copy(hc->hosts, &ok);
	if (!c || !ok) {
		log_err(MOD, "out of memory: http.allow and http.hosts not changed");
		free(c);
		free(hosts);
		return;
	}
	pthread_mutex_lock(&h->mu);
	old = h->allow;
	old_hosts = h->hosts;
	h->allow = c;
	h->hosts = hosts;
	pthread_mutex_unlock(&h->mu);
	free(old);
	free(old_hosts);
}

void http_stop(struct http *h)
{
	if (!h)
		return;
	MHD_stop_daemon(h->d); /* joins the thread and closes the listening socket */
	pthread_mutex_destroy(&h->mu);
	free(h->allow);
	free(h->hosts);
	free(h);
}
