/* SPDX-License-Identifier: MIT */
/** Client queries over UDP: one listener per bound socket of a worker. */
#ifndef SINKHOLED_LISTEN_UDP_H
#define SINKHOLED_LISTEN_UDP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct worker;
struct udp_listener;

/** Wrap a bound UDP fd (ownership taken) and start reading. NULL on failure (errno set). */
struct udp_listener *listen_udp_start(struct worker *w, int fd);
/** Stop reading new queries; answers can still be sent (graceful stop). */
void listen_udp_stop(struct udp_listener *l);
/** Close the socket; freed in the close callback. */
void listen_udp_close(struct udp_listener *l);
/** Send one datagram to addr: immediately when the socket accepts it, else queued (copied). */
void listen_udp_send(struct udp_listener *l, const struct sockaddr *addr, const uint8_t *data,
		     size_t len);

#endif
