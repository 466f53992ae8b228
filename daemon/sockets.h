/* SPDX-License-Identifier: MIT */
/**
 * The listening sockets, bound before any thread starts and before privileges are dropped
 * (as Knot Resolver's io_bind): one UDP and one TCP socket per listen address per worker,
 * SO_REUSEPORT, so bind errors show at startup. The workers take them over; whatever is not
 * handed over is closed here, and only here.
 */
#ifndef SINKHOLED_SOCKETS_H
#define SINKHOLED_SOCKETS_H

#include <stddef.h>

struct config;

struct sockets {
	int *udp, *tcp; /**< [worker * n_listen + i], -1 once handed over or closed */
	unsigned n_workers;
	size_t n_listen;
};

/**
 * Bind every listen address of cfg for n_workers workers. 0, or -1 (logged; none left open).
 * Started by a socket unit (LISTEN_FDS, sd_listen_fds(3)): adopt the passed sockets instead,
 * one UDP and one TCP for every listen address, shared by the workers.
 */
int sockets_bind(struct sockets *s, const struct config *cfg, unsigned n_workers);
/** The UDP and TCP fds of worker i (n_listen each). */
int *sockets_udp(const struct sockets *s, unsigned i);
int *sockets_tcp(const struct sockets *s, unsigned i);
/** Close the sockets of workers from..n_workers-1 that were not handed over. */
void sockets_close(struct sockets *s, unsigned from);
/** Close what is left and free the arrays. */
void sockets_free(struct sockets *s);

/**
 * Started as root (not under a service manager that gave us a user of our own): switch to
 * cfg's `user:` once the sockets are bound, or refuse to serve as root unless `allow_root`.
 * 0, or -1 (logged).
 */
int sockets_drop_privileges(const struct config *cfg);

#endif
