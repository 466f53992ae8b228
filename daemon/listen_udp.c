/* SPDX-License-Identifier: MIT */
#include "listen_udp.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "log.h"
#include "worker.h"

struct udp_listener {
	uv_udp_t handle;
	struct worker *w;
};

/* A datagram that could not be sent at once: owns a copy of the answer. */
struct udp_send {
	uv_udp_send_t req;
	size_t len;
	uint8_t data[];
};

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct udp_listener *l = h->data;

	(void)suggested;
	/*
	 * One reused receive buffer per worker, large enough for a recvmmsg batch: every
	 * datagram of the batch is consumed (answered or copied) before the next read.
	 */
	*buf = uv_buf_init((char *)l->w->rbuf, WORKER_UDP_SLOT * WORKER_UDP_BATCH);
}

static void on_udp_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf,
			const struct sockaddr *addr, unsigned flags)
{
	struct udp_listener *l = h->data;
	struct client cl;

	if (nread < 0) {
		log_debug("udp", "receive error: %s", uv_strerror((int)nread));
		return;
	}
	if (nread == 0 || !addr)
		return; /* end of a batch (UV_UDP_MMSG_FREE: the buffer is ours to keep) or empty */
	if (flags & UV_UDP_PARTIAL) {
		STAT_INC(l->w, dropped);
		return;
	}
	cl.tr = TRANSPORT_UDP;
	cl.udp = l;
	cl.tcp = NULL;
	memcpy(&cl.addr, addr,
	       addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
	worker_handle_query(l->w, (const uint8_t *)buf->base, (size_t)nread, &cl);
}

struct udp_listener *listen_udp_start(struct worker *w, int fd)
{
	struct udp_listener *l = calloc(1, sizeof(*l));
	int rc;

	if (!l)
		return NULL;
	l->w = w;
	rc = uv_udp_init_ex(&w->loop, &l->handle, AF_UNSPEC | UV_UDP_RECVMMSG);
	if (rc == 0)
		rc = uv_udp_open(&l->handle, fd);
	if (rc == 0) {
		l->handle.data = l;
		rc = uv_udp_recv_start(&l->handle, on_alloc, on_udp_recv);
	}
	if (rc != 0) {
		log_err("udp", "cannot start listener: %s", uv_strerror(rc));
		free(l);
		errno = -rc;
		return NULL;
	}
	return l;
}

static void on_close(uv_handle_t *h)
{
	free(h->data);
}

void listen_udp_stop(struct udp_listener *l)
{
	uv_udp_recv_stop(&l->handle);
}

void listen_udp_close(struct udp_listener *l)
{
	uv_udp_recv_stop(&l->handle);
	uv_close((uv_handle_t *)&l->handle, on_close);
}

static void on_send(uv_udp_send_t *req, int status)
{
	struct udp_send *s = (struct udp_send *)req;

	if (status < 0)
		log_debug("udp", "send failed: %s", uv_strerror(status));
	free(s);
}

void listen_udp_send(struct udp_listener *l, const struct sockaddr *addr, const uint8_t *data,
		     size_t len)
{
	uv_buf_t buf = uv_buf_init((char *)data, (unsigned)len);
	struct udp_send *s;
	int rc;

	rc = uv_udp_try_send(&l->handle, &buf, 1, addr);
	if (rc >= 0)
		return;
	if (rc != UV_EAGAIN) {
		log_debug("udp", "send failed: %s", uv_strerror(rc));
		return;
	}
	/* Socket buffer full: queue a copy so the answer is not lost. */
	s = malloc(sizeof(*s) + len);
	if (!s) {
		STAT_INC(l->w, dropped);
		return;
	}
	memcpy(s->data, data, len);
	s->len = len;
	buf = uv_buf_init((char *)s->data, (unsigned)len);
	rc = uv_udp_send(&s->req, &l->handle, &buf, 1, addr, on_send);
	if (rc < 0) {
		log_debug("udp", "send failed: %s", uv_strerror(rc));
		free(s);
	}
}
