/* SPDX-License-Identifier: MIT */
/**
 * Client queries over TCP (RFC 7766): 2-byte length framing with partial reads and writes,
 * pipelined queries answered as they complete, idle timeout, a cap on connections.
 */
#ifndef SINKHOLED_LISTEN_TCP_H
#define SINKHOLED_LISTEN_TCP_H

#include <stddef.h>
#include <stdint.h>

struct worker;
struct tcp_listener;
struct tcp_conn;

/** Wrap a bound TCP fd (ownership taken) and listen. NULL on failure (errno set). */
struct tcp_listener *listen_tcp_start(struct worker *w, int fd);
/** Stop accepting and close the listening socket (connections stay until done). */
void listen_tcp_stop(struct tcp_listener *l);
/** Stop reading on every connection; close those that owe nothing (graceful stop). */
void listen_tcp_drain(struct worker *w);
/** Close every client connection of the worker now (end of a graceful stop). */
void listen_tcp_close_all(struct worker *w);

/** Frame and send an answer on the connection (copied); ignored if it is closing. */
void listen_tcp_send(struct tcp_conn *c, const uint8_t *data, size_t len);
/** A query from this connection goes asynchronous: keep the connection for its answer. */
void listen_tcp_hold(struct tcp_conn *c);
/** That query was answered (or abandoned). */
void listen_tcp_release(struct tcp_conn *c);

#endif
