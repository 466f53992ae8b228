/* SPDX-License-Identifier: MIT */
#include "listen_udp.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <uv.h>

#include "acl.h"
#include "addr.h"
#include "config.h"
#include "proxy.h"
#include "dnsmsg.h"
#include "log.h"
#include "worker.h"

/*
 * Answers to the queries of one recvmmsg batch are collected and sent with one sendmmsg at
 * the end of the batch. A UDP answer never exceeds DNS_EDNS_SIZE (the client's limit is
 * capped there), so each fits a fixed slot.
 */
struct udp_out {
	unsigned n;
	struct mmsghdr msgs[WORKER_UDP_BATCH];
	struct iovec iov[WORKER_UDP_BATCH];
	struct sockaddr_storage to[WORKER_UDP_BATCH];
	uint8_t data[WORKER_UDP_BATCH][DNS_EDNS_SIZE];
};

struct udp_listener {
	uv_udp_t handle;
	struct worker *w;
	bool in_batch; /**< inside the callbacks of one recvmmsg batch */
	unsigned batch_len; /**< datagrams of the current batch so far */
	bool drained;	    /**< the last batch emptied the socket: skip libuv's next read */
	struct udp_out out;
	struct sockaddr_storage local; /**< the bound address (the block log's Dst) */
};

static void send_now(struct udp_listener *l, const struct sockaddr *addr, const uint8_t *data,
		     size_t len);

/* Send what the batch collected; what the socket does not take goes the queued way. */
static void flush(struct udp_listener *l)
{
	struct udp_out *o = &l->out;
	unsigned done = 0;
	uv_os_fd_t fd;

	if (o->n == 0)
		return;
	if (uv_fileno((uv_handle_t *)&l->handle, &fd) == 0) {
		while (done < o->n) {
			int rc = sendmmsg(fd, o->msgs + done, o->n - done, MSG_DONTWAIT);
			if (rc <= 0) {
				if (rc < 0 && errno == EINTR)
					continue;
				break;
			}
			done += (unsigned)rc;
		}
	}
	for (unsigned i = done; i < o->n; i++)
		send_now(l, (const struct sockaddr *)&o->to[i], o->data[i], o->iov[i].iov_len);
	o->n = 0;
}

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
	 * libuv reads again after every batch until recvmmsg fails with EAGAIN. A batch that
	 * came back short already emptied the socket, so that read would only cost a syscall
	 * per wake-up: an empty buffer ends this round instead (libuv reports it as
	 * UV_ENOBUFS, which on_udp_recv expects). The socket is level-triggered, so a datagram
	 * that arrived meanwhile wakes the loop again at once.
	 */
	if (l->drained) {
		l->drained = false;
		*buf = uv_buf_init(NULL, 0);
		return;
	}
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
	const uint8_t *pkt;
	size_t len;
	int hlen;

	if (nread < 0) {
		if (nread != UV_ENOBUFS || buf->len != 0) /* not on_alloc's end of a round */
			log_debug("udp", "receive error: %s", uv_strerror((int)nread));
		return;
	}
	if (nread == 0 || !addr) {
		/* End of a batch (UV_UDP_MMSG_FREE: the buffer is ours to keep), or empty. */
		if (flags & UV_UDP_MMSG_FREE) {
			flush(l);
			worker_batch_done(l->w);
			l->in_batch = false;
			l->drained = l->batch_len < WORKER_UDP_BATCH;
			l->batch_len = 0;
		}
		return;
	}
	if (flags & UV_UDP_MMSG_CHUNK) {
		l->in_batch = true;
		l->batch_len++;
	}
	if (flags & UV_UDP_PARTIAL) {
		STAT_INC_AT(l->w, queries, TRANSPORT_UDP);
		STAT_INC_AT(l->w, dropped, DROP_MALFORMED);
		return;
	}
	cl.tr = TRANSPORT_UDP;
	cl.udp = l;
	cl.tcp = NULL;
	cl.local = &l->local;
	memcpy(&cl.peer, addr,
	       addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
	cl.addr = cl.peer;
	pkt = (const uint8_t *)buf->base;
	len = (size_t)nread;
	/* A PROXY v2 header (a DNS header never starts with its signature): trusted peers only. */
	if (pkt[0] == 0x0d && (hlen = proxy_parse(pkt, len, &cl.addr)) != 0) {
		const struct acl *trusted = l->w->cur->st->cfg->trusted_proxies;

		if (hlen < 0 || !trusted || !acl_match(trusted, addr)) {
			STAT_INC_AT(l->w, queries, TRANSPORT_UDP);
			STAT_INC_AT(l->w, dropped, DROP_MALFORMED);
			log_debug("udp", "PROXY header %s: dropped",
				  hlen < 0 ? "malformed" : "from a peer not in trusted_proxies");
			return;
		}
		pkt += hlen;
		len -= (size_t)hlen;
	}
	worker_handle_query(l->w, pkt, len, &cl);
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
		int len = sizeof(l->local);

		/* The block log's Dst, once: the bound address (a wildcard stays a wildcard). */
		if (uv_udp_getsockname(&l->handle, (struct sockaddr *)&l->local, &len) != 0)
			l->local.ss_family = AF_UNSPEC;
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
	flush(l);
	l->in_batch = false;
	l->drained = false;
	l->batch_len = 0;
	uv_udp_recv_stop(&l->handle);
}

void listen_udp_close(struct udp_listener *l)
{
	flush(l);
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
	struct udp_out *o = &l->out;
	unsigned i;

	if (!l->in_batch || len > DNS_EDNS_SIZE) {
		send_now(l, addr, data, len);
		return;
	}
	if (o->n == WORKER_UDP_BATCH)
		flush(l);
	i = o->n++;
	memcpy(o->data[i], data, len);
	memcpy(&o->to[i], addr, addr_len(addr));
	o->iov[i].iov_base = o->data[i];
	o->iov[i].iov_len = len;
	memset(&o->msgs[i], 0, sizeof(o->msgs[i]));
	o->msgs[i].msg_hdr.msg_name = &o->to[i];
	o->msgs[i].msg_hdr.msg_namelen = addr_len(addr);
	o->msgs[i].msg_hdr.msg_iov = &o->iov[i];
	o->msgs[i].msg_hdr.msg_iovlen = 1;
}

static void send_now(struct udp_listener *l, const struct sockaddr *addr, const uint8_t *data,
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
		log_debug("udp", "send failed: out of memory");
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
