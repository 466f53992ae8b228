/* SPDX-License-Identifier: MIT */
/** Socket addresses in config text form: "192.0.2.1", "192.0.2.1:53", "::1", "[::1]:53". */
#ifndef SINKHOLED_ADDR_H
#define SINKHOLED_ADDR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/**
 * Parse an address with optional port (IPv6 with a port must be bracketed; a bare IPv6
 * address takes default_port). Port 0 and ports > 65535 are invalid.
 * Returns 0, or -EINVAL with *why set to a static message.
 */
int addr_parse(const char *s, uint16_t default_port, struct sockaddr_storage *out,
	       const char **why);
/** Length of the sockaddr for its family (sizeof sockaddr_in or sockaddr_in6). */
socklen_t addr_len(const struct sockaddr *sa);
/** Format as "192.0.2.1:53" or "[::1]:53" into buf (INET6_ADDRSTRLEN + 8 is enough). */
void addr_format(const struct sockaddr *sa, char *buf, size_t len);
/** Port in host order. */
uint16_t addr_port(const struct sockaddr *sa);
/** Same family, address and port. */
int addr_equal(const struct sockaddr *a, const struct sockaddr *b);

#endif
