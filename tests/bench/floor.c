/* SPDX-License-Identifier: MIT */
/*
 * The kernel's floor for the CPU a UDP DNS server spends per query on this machine: a server
 * that does nothing but one blocking recvfrom() and one sendto() per query (the leanest loop
 * there is: dnsdist's, without any of its work). It answers every query with its own
 * question, QR and RA set and RCODE REFUSED, so a client counts it answered.
 *
 * tests/bench/run.sh measures it like the servers under test: pinned to the server CPU, at
 * the same fixed offered rate. A CPU target below floor / peer cannot be met by a server
 * that wakes up once per query.
 *
 * usage: floor PORT [SECONDS]   (127.0.0.1 only; exits after SECONDS, default 900)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_in addr = { .sin_family = AF_INET };
	unsigned char buf[4096];
	long port, secs = 900;
	int fd;

	if (argc < 2 || argc > 3 || (port = strtol(argv[1], NULL, 10)) <= 0 || port > 65535 ||
	    (argc == 3 && (secs = strtol(argv[2], NULL, 10)) <= 0)) {
		fprintf(stderr, "usage: %s PORT [SECONDS]\n", argv[0]);
		return 2;
	}
	alarm((unsigned)secs); /* never outlives a benchmark that could not stop it */
	addr.sin_port = htons((uint16_t)port);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
		fprintf(stderr, "floor: 127.0.0.1:%ld: %s\n", port, strerror(errno));
		return 1;
	}
	for (;;) {
		struct sockaddr_in from;
		socklen_t fromlen = sizeof(from);
		ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fromlen);

		ssize_t end = 12;

		if (n < 12 || (buf[2] & 0x80))
			continue; /* not a query */
		while (end < n && buf[end] != 0 && buf[end] < 64)
			end += 1 + buf[end]; /* the question name's labels */
		end += 1 + 4;		     /* root label, type, class */
		if (end > n)
			continue;
		buf[2] |= 0x80;		      /* QR */
		buf[3] = (uint8_t)(0x80 | 5); /* RA, REFUSED */
		buf[4] = 0, buf[5] = 1;	      /* the question only */
		memset(buf + 6, 0, 6);
		(void)sendto(fd, buf, (size_t)end, 0, (struct sockaddr *)&from, fromlen);
	}
}
