/* SPDX-License-Identifier: MIT */
#include "proxy.h"

#include <netinet/in.h>
#include <string.h>

static const uint8_t sig[PROXY_SIG_LEN] = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
					   0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a};

int proxy_parse(const uint8_t *buf, size_t len, struct sockaddr_storage *src)
{
	size_t n, total;
	uint8_t cmd, fam;

	if (memcmp(buf, sig, len < PROXY_SIG_LEN ? len : PROXY_SIG_LEN) != 0)
		return 0;
	if (len < PROXY_HDR_MIN)
		return -2;
	if ((buf[12] >> 4) != 2) /* version 2 */
		return -1;
	cmd = buf[12] & 0x0f;
	fam = buf[13];
	n = (size_t)buf[14] << 8 | buf[15];
	total = PROXY_HDR_MIN + n;
	if (cmd > 1)
		return -1;
	if (len < total)
		return -2;
	if (cmd == 0) /* LOCAL: the proxy's own traffic (health checks) */
		return (int)total;
	switch (fam >> 4) {
	case 1: { /* AF_INET: src, dst, src port, dst port */
		struct sockaddr_in *s4 = (struct sockaddr_in *)src;

		if (n < 12)
			return -1;
		memset(src, 0, sizeof(*src));
		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, buf + 16, 4);
		memcpy(&s4->sin_port, buf + 24, 2);
		return (int)total;
	}
	case 2: { /* AF_INET6 */
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)src;

		if (n < 36)
			return -1;
		memset(src, 0, sizeof(*src));
		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, buf + 16, 16);
		memcpy(&s6->sin6_port, buf + 48, 2);
		return (int)total;
	}
	case 0: /* AF_UNSPEC: the peer itself */
		return (int)total;
	default: /* AF_UNIX and others: not a DNS client */
		return -1;
	}
}
