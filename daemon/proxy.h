/* SPDX-License-Identifier: MIT */
/**
 * The PROXY protocol, version 2 (haproxy's proxy-protocol.txt): the header a load balancer
 * such as dnsdist (`useProxyProtocol=true`) puts before each UDP query, or once at the start of
 * a TCP connection, to say which client the query is really from. Only a peer listed in
 * `access.trusted_proxies` may send one; from anybody else a query that starts with the
 * header's signature is dropped, so the client address cannot be spoofed.
 */
#ifndef SINKHOLED_PROXY_H
#define SINKHOLED_PROXY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/** The 12-byte signature every v2 header starts with. */
#define PROXY_SIG_LEN 12
/** The fixed part: signature, version/command, family/protocol, length. */
#define PROXY_HDR_MIN 16

/**
 * Parse a header at the start of buf[0..len). Returns its length (addresses and TLVs
 * included), with *src the client it names (left unchanged for a LOCAL command or an
 * unspecified family: the peer itself); 0 when buf does not start with the signature (a
 * plain query); -1 when the header is malformed; -2 when it may be complete in more bytes
 * (TCP).
 */
int proxy_parse(const uint8_t *buf, size_t len, struct sockaddr_storage *src);

#endif
