/* SPDX-License-Identifier: MIT */
#include "listen_tcp.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "acl.h"
#include "config.h"
#include "log.h"
#include "proxy.h"
#include "util.h"
#include "worker.h"

/* A PROXY header longer than this (its TLVs) is refused. */
#define PROXY_MAX 512

/*
 * Queries in flight plus answers not yet written, per connection: beyond it we stop reading
 * (backpressure), so a client that pipelines without reading its answers cannot make us
 * buffer without bound.
 */
#define TCP_MAX_OWED 128
#define TCP_FRAME_MAX (2 + 65535)

struct tcp_listener {
	uv_tcp_t handle;
	struct worker *w;
	struct sockaddr_storage local; /**< the bound address (its connections copy it) */
};

struct tcp_conn {
	uv_tcp_t h;
	uv_timer_t idle;
	struct worker *w;
	struct tcp_conn *next, *prev; /**< the worker's open connections */
	unsigned refs;		      /**< open handles + held queries + writes in progress */
	unsigned inflight;	      /**< queries waiting for an answer */
	unsigned writes;	      /**< writes not yet completed */
	uint64_t frame_start;	      /**< loop time the partial frame in buf began */
	bool closing, eof, reading;
	bool consuming;		      /**< inside consume(): no re-entry */
	bool proxy_checked;	      /**< the start was checked for a PROXY header */
	struct client cl;
	struct sockaddr_storage local; /**< the listener's bound address (cl.local) */
	uint8_t *buf; /**< received bytes not yet consumed */
	size_t len, cap;
};

struct tcp_write {
	uv_write_t req;
	struct tcp_conn *c;
	uint8_t data[];
};

static void conn_unref(struct tcp_conn *c)
{
	REQUIRE(c->refs > 0);
	if (--c->refs > 0)
		return;
	free(c->buf);
	free(c);
}

static void on_conn_close(uv_handle_t *h)
{
	conn_unref(h->data);
}

static void conn_close(struct tcp_conn *c)
{
	struct tcp_conn **head;

	if (c->closing)
		return;
	c->closing = true;
	head = &c->w->tcp_conns;
	if (c->prev)
		c->prev->next = c->next;
	else
		*head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->w->tcp_clients--;
	uv_read_stop((uv_stream_t *)&c->h);
	uv_timer_stop(&c->idle);
	uv_close((uv_handle_t *)&c->idle, on_conn_close);
	uv_close((uv_handle_t *)&c->h, on_conn_close);
	worker_check_idle(c->w);
}

/* After EOF, or when the worker stops: close once nothing is owed to the client. */
static void conn_close_if_done(struct tcp_conn *c)
{
	if (!c->closing && (c->eof || c->w->stopping) && c->inflight == 0 && c->writes == 0)
		conn_close(c);
}

static void on_timeout(uv_timer_t *t)
{
	struct tcp_conn *c = t->data;

	log_debug("tcp", c->len > 0 ? "read timeout" : "idle timeout");
	conn_close(c);
}

/*
 * One timer per connection, re-armed after every event (RFC 7766 section 6.2.3):
 * - a partial query waits at most the read timeout from its first byte (slowloris);
 * - with nothing owed either way, the connection lives for the idle timeout;
 * - while we owe answers, no timeout (the upstream timeouts bound that wait).
 */
static void timer_update(struct tcp_conn *c)
{
	const struct config *cfg = c->w->cur->st->cfg;
	uint64_t now = uv_now(&c->w->loop), deadline;

	if (c->closing)
		return;
	if (c->len > 0) {
		deadline = c->frame_start + cfg->tcp_read_timeout_ms;
		uv_timer_start(&c->idle, on_timeout, deadline > now ? deadline - now : 0, 0);
	} else if (c->inflight == 0 && c->writes == 0) {
		uv_timer_start(&c->idle, on_timeout, cfg->tcp_idle_timeout_ms, 0);
	} else {
		uv_timer_stop(&c->idle);
	}
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);
static void consume(struct tcp_conn *c);

/* Stop reading while the client is owed too much; resume when it has caught up. */
static void flow_control(struct tcp_conn *c)
{
	unsigned owed = c->inflight + c->writes;

	if (c->closing)
		return;
	if (c->reading && owed >= TCP_MAX_OWED) {
		uv_read_stop((uv_stream_t *)&c->h);
		c->reading = false;
	} else if (!c->reading && !c->eof && !c->w->stopping && owed < TCP_MAX_OWED / 2) {
		if (uv_read_start((uv_stream_t *)&c->h, on_alloc, on_read) == 0)
			c->reading = true;
		/* Queries read before the pause are still in buf. */
		consume(c);
	}
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct tcp_conn *c = h->data;
	size_t want;

	(void)suggested;
	if (c->cap - c->len < 4096 && c->cap < 2 * TCP_FRAME_MAX) {
		want = c->cap ? c->cap * 2 : 4096;
		if (want > 2 * TCP_FRAME_MAX)
			want = 2 * TCP_FRAME_MAX;
		uint8_t *nb = realloc(c->buf, want);
		if (nb) {
			c->buf = nb;
			c->cap = want;
		}
	}
	if (c->cap == c->len) {
		*buf = uv_buf_init(NULL, 0); /* UV_ENOBUFS in on_read */
		return;
	}
	*buf = uv_buf_init((char *)c->buf + c->len, (unsigned)(c->cap - c->len));
}

/*
 * The start of a connection from a trusted proxy may be a PROXY v2 header naming the client:
 * take it off the buffer. False while more bytes are needed, or when the connection was closed
 * (a malformed header, or one from a peer not in trusted_proxies).
 */
static bool proxy_header(struct tcp_conn *c)
{
	const struct acl *trusted = c->w->cur->st->cfg->trusted_proxies;
	int hlen = proxy_parse(c->buf, c->len, &c->cl.addr);

	if (hlen == -2 && c->len < PROXY_MAX)
		return false;
	if (hlen != 0 && (hlen < 0 || !trusted || !acl_match(trusted, (const struct sockaddr *)&c->cl.peer))) {
		log_debug("tcp", "PROXY header %s: closing",
			  hlen < 0 ? "malformed" : "from a peer not in trusted_proxies");
		conn_close(c);
		return false;
	}
	c->proxy_checked = true;
	if (hlen > 0) {
		memmove(c->buf, c->buf + hlen, c->len - (size_t)hlen);
		c->len -= (size_t)hlen;
	}
	return true;
}

/* Hand every complete frame to the worker; keep a partial one for the next read. */
static void consume(struct tcp_conn *c)
{
	size_t off = 0;

	if (c->consuming)
		return;
	if (!c->proxy_checked && !proxy_header(c))
		return;
	c->consuming = true;
	/* Stop at the owed limit: the rest waits in buf until the client has read its answers. */
	while (!c->closing && c->len - off >= 2 && c->inflight + c->writes < TCP_MAX_OWED) {
		size_t flen = dns_get16(c->buf + off);
		if (c->len - off - 2 < flen)
			break;
		off += 2;
		if (flen > 0)
			worker_handle_query(c->w, c->buf + off, flen, &c->cl);
		off += flen;
	}
	if (off > 0 && !c->closing) {
		memmove(c->buf, c->buf + off, c->len - off);
		c->len -= off;
		/* What is left started arriving in this read. */
		c->frame_start = uv_now(&c->w->loop);
	}
	c->consuming = false;
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct tcp_conn *c = s->data;

	(void)buf;
	if (c->closing)
		return;
	if (nread == 0)
		return; /* EAGAIN */
	if (nread == UV_ENOBUFS) {
		log_debug("tcp", "receive buffer exhausted, closing");
		conn_close(c);
		return;
	}
	if (nread == UV_EOF) {
		/* Half-close: answer what was asked, then close. */
		c->eof = true;
		uv_read_stop(s);
		c->reading = false;
		conn_close_if_done(c);
		return;
	}
	if (nread < 0) {
		log_debug("tcp", "read error: %s", uv_strerror((int)nread));
		conn_close(c);
		return;
	}
	if (c->len == 0)
		c->frame_start = uv_now(&c->w->loop);
	c->len += (size_t)nread;
	consume(c);
	flow_control(c);
	timer_update(c);
}

/* Open connections of this worker from c's address (c included). */
static unsigned same_client(struct worker *w, const struct tcp_conn *c)
{
	const struct sockaddr *a = (const struct sockaddr *)&c->cl.addr;
	unsigned n = 0;

	for (const struct tcp_conn *o = w->tcp_conns; o; o = o->next) {
		const struct sockaddr *b = (const struct sockaddr *)&o->cl.addr;
		if (a->sa_family != b->sa_family)
			continue;
		if (a->sa_family == AF_INET
			    ? memcmp(&((const struct sockaddr_in *)a)->sin_addr,
				     &((const struct sockaddr_in *)b)->sin_addr, 4) == 0
			    : memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
				     &((const struct sockaddr_in6 *)b)->sin6_addr, 16) == 0)
			n++;
	}
	return n;
}

static void on_connection(uv_stream_t *server, int status)
{
	struct tcp_listener *l = server->data;
	struct worker *w = l->w;
	const struct config *cfg = w->cur->st->cfg;
	struct tcp_conn *c, **head;
	int len = sizeof(struct sockaddr_storage);

	if (status < 0) {
		log_warn("tcp", "accept error: %s", uv_strerror(status));
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return;
	c->w = w;
	uv_tcp_init(&w->loop, &c->h);
	uv_timer_init(&w->loop, &c->idle);
	c->h.data = c;
	c->idle.data = c;
	c->refs = 2; /* the two handles */
	head = &w->tcp_conns;
	c->next = *head;
	if (*head)
		(*head)->prev = c;
	*head = c;
	w->tcp_clients++;
	if (uv_accept(server, (uv_stream_t *)&c->h) != 0) {
		conn_close(c);
		return;
	}
	c->cl.tr = TRANSPORT_TCP;
	c->cl.tcp = c;
	c->cl.udp = NULL;
	/* A copy: the listener may close (graceful stop) while the connection's queries run. */
	c->local = l->local;
	c->cl.local = &c->local;
	uv_tcp_getpeername(&c->h, (struct sockaddr *)&c->cl.addr, &len);
	c->cl.peer = c->cl.addr;
	if (w->stopping || w->tcp_clients > cfg->tcp_max_clients ||
	    same_client(w, c) > cfg->tcp_max_per_client) {
		STAT_INC(w, tcp_refused);
		log_debug("tcp", "connection limit reached, closing new connection");
		conn_close(c);
		return;
	}
	uv_tcp_nodelay(&c->h, 1);
	timer_update(c);
	if (uv_read_start((uv_stream_t *)&c->h, on_alloc, on_read) != 0) {
		conn_close(c);
		return;
	}
	c->reading = true;
}

struct tcp_listener *listen_tcp_start(struct worker *w, int fd)
{
	struct tcp_listener *l = calloc(1, sizeof(*l));
	int rc;

	if (!l)
		return NULL;
	l->w = w;
	rc = uv_tcp_init(&w->loop, &l->handle);
	if (rc == 0)
		rc = uv_tcp_open(&l->handle, fd);
	if (rc == 0) {
		int len = sizeof(l->local);

		/* The block log's Dst, once: the bound address (a wildcard stays a wildcard). */
		if (uv_tcp_getsockname(&l->handle, (struct sockaddr *)&l->local, &len) != 0)
			l->local.ss_family = AF_UNSPEC;
		l->handle.data = l;
		rc = uv_listen((uv_stream_t *)&l->handle, 512, on_connection);
	}
	if (rc != 0) {
		log_err("tcp", "cannot listen: %s", uv_strerror(rc));
		free(l);
		errno = -rc;
		return NULL;
	}
	return l;
}

static void on_listener_close(uv_handle_t *h)
{
	free(h->data);
}

void listen_tcp_stop(struct tcp_listener *l)
{
	uv_close((uv_handle_t *)&l->handle, on_listener_close);
}

void listen_tcp_close_all(struct worker *w)
{
	struct tcp_conn **head = &w->tcp_conns;

	while (*head)
		conn_close(*head);
}

void listen_tcp_drain(struct worker *w)
{
	struct tcp_conn *c, *next;

	for (c = w->tcp_conns; c; c = next) {
		next = c->next;
		uv_read_stop((uv_stream_t *)&c->h);
		c->reading = false;
		conn_close_if_done(c);
	}
}

static void on_write(uv_write_t *req, int status)
{
	struct tcp_write *wr = (struct tcp_write *)req;
	struct tcp_conn *c = wr->c;

	if (status < 0 && status != UV_ECANCELED)
		log_debug("tcp", "write failed: %s", uv_strerror(status));
	free(wr);
	c->writes--;
	if (!c->closing) {
		if (status < 0)
			conn_close(c);
		conn_close_if_done(c);
		flow_control(c);
		timer_update(c);
	}
	conn_unref(c);
}

void listen_tcp_send(struct tcp_conn *c, const uint8_t *data, size_t len)
{
	struct tcp_write *wr;
	uv_buf_t buf;

	if (c->closing || len > 65535)
		return;
	wr = malloc(sizeof(*wr) + 2 + len);
	if (!wr) {
		conn_close(c);
		return;
	}
	wr->c = c;
	dns_set16(wr->data, (uint16_t)len);
	memcpy(wr->data + 2, data, len);
	buf = uv_buf_init((char *)wr->data, (unsigned)(len + 2));
	if (uv_write(&wr->req, (uv_stream_t *)&c->h, &buf, 1, on_write) != 0) {
		free(wr);
		conn_close(c);
		return;
	}
	c->writes++;
	c->refs++;
	flow_control(c);
}

void listen_tcp_hold(struct tcp_conn *c)
{
	c->inflight++;
	c->refs++;
	flow_control(c);
}

void listen_tcp_release(struct tcp_conn *c)
{
	REQUIRE(c->inflight > 0);
	c->inflight--;
	if (!c->closing) {
		conn_close_if_done(c);
		flow_control(c);
		timer_update(c);
	}
	conn_unref(c);
}
