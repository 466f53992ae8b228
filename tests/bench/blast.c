/* SPDX-License-Identifier: MIT */
/*
 * A closed-loop UDP DNS load generator that batches its system calls (sendmmsg/recvmmsg), for
 * the saturation runs: dnsperf makes one send and one receive call per query, which on this
 * 2-core machine (client on one core, server on the other) tops out near 125k q/s, below what a
 * batching server answers. The client must not be what a saturation run measures.
 *
 * Like dnsperf -d FILE -c SOCKETS -q OUTSTANDING -l SECONDS -t TIMEOUT: it reads `name TYPE`
 * lines, keeps up to OUTSTANDING queries in flight spread over SOCKETS sockets (each its own
 * source port), sends the file's queries in order (from the start again at its end) for
 * SECONDS, then waits up to TIMEOUT for the last answers. A query unanswered after TIMEOUT is
 * lost, and its slot reused. An answer is matched by its socket, ID and question name; any
 * other datagram is ignored. It prints dnsperf's summary lines (parse_dnsperf.py reads them),
 * with queries per second counted over the sending time.
 *
 * usage: blast -s ADDR -p PORT -d FILE [-c SOCKETS] [-q OUTSTANDING] [-l SECONDS] [-t TIMEOUT]
 * ADDR: an IPv4 or IPv6 address (the benchmark uses 127.0.0.1 only).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#define MAXQ 300 /* a query's wire size: 12 + 255 + 4 */
#define MAXSOCK 256

struct query {
	uint8_t wire[MAXQ];
	uint16_t len;
};

struct slot {
	double sent;      /* 0: free */
	uint32_t q;       /* index of the query */
};

struct sock {
	int fd;
	unsigned inflight, limit;
	uint16_t next_id;
	struct slot slot[65536];
	uint16_t ring[65536]; /* IDs in the order sent: the oldest first */
	unsigned head, tail;  /* ring[head..tail) */
};

static struct query *qs;
static size_t nq;
static uint64_t sent, completed, lost, rcodes[16];
static double lat_sum, lat_min = 1e9, lat_max;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "blast: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int qtype(const char *t)
{
	static const struct {
		const char *name;
		int type;
	} types[] = {{"A", 1},     {"NS", 2},   {"CNAME", 5}, {"SOA", 6},   {"PTR", 12},
		     {"MX", 15},   {"TXT", 16}, {"AAAA", 28}, {"SRV", 33},  {"HTTPS", 65},
		     {"SVCB", 64}, {"ANY", 255}};

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (!strcasecmp(t, types[i].name))
			return types[i].type;
	return -1;
}

/* "name TYPE" -> a query (ID 0, RD set); 0, or -1 for a line it cannot encode. */
static int encode(const char *name, const char *type, struct query *q)
{
	uint8_t *p = q->wire + 12;
	int t = qtype(type);

	if (t < 0)
		return -1;
	memset(q->wire, 0, 12);
	q->wire[2] = 0x01; /* RD */
	q->wire[5] = 1;    /* QDCOUNT */
	while (*name) {
		const char *dot = strchr(name, '.');
		size_t l = dot ? (size_t)(dot - name) : strlen(name);

		if (l == 0 || l > 63 || p + 1 + l + 5 > q->wire + 12 + 255 + 4)
			return -1;
		*p++ = (uint8_t)l;
		memcpy(p, name, l);
		p += l;
		name += l + (dot != NULL);
	}
	*p++ = 0;
	*p++ = (uint8_t)(t >> 8);
	*p++ = (uint8_t)t;
	*p++ = 0;
	*p++ = 1; /* IN */
	q->len = (uint16_t)(p - q->wire);
	return 0;
}

static void load(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[512], name[300], type[16];
	size_t cap = 0, lineno = 0;

	if (!f)
		die(path);
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (sscanf(line, "%299s %15s", name, type) != 2) {
			fprintf(stderr, "blast: %s:%zu: expected `name TYPE`\n", path, lineno);
			exit(1);
		}
		if (nq == cap) {
			cap = cap ? cap * 2 : 65536;
			qs = realloc(qs, cap * sizeof(*qs));
			if (!qs)
				die("realloc");
		}
		if (encode(name, type, &qs[nq]) < 0) {
			fprintf(stderr, "blast: %s:%zu: cannot encode `%s %s`\n", path, lineno, name, type);
			exit(1);
		}
		nq++;
	}
	fclose(f);
	if (!nq) {
		fprintf(stderr, "blast: %s: no queries\n", path);
		exit(1);
	}
}

/* Frees the slots of timed-out queries, the oldest first (counted lost). */
static void expire(struct sock *s, double t, double timeout)
{
	while (s->head != s->tail) {
		struct slot *sl = &s->slot[s->ring[s->head & 0xffff]];

		if (sl->sent != 0 && t - sl->sent < timeout)
			break;
		if (sl->sent != 0) {
			sl->sent = 0;
			s->inflight--;
			lost++;
		}
		s->head++;
	}
}

static size_t qnext;

static void fill(struct sock *s, double t)
{
	struct mmsghdr m[BATCH];
	struct iovec iov[BATCH];
	unsigned n = 0;

	while (s->inflight + n < s->limit && n < BATCH && s->tail - s->head < 65536) {
		uint16_t id = s->next_id;
		unsigned tries = 0;

		while (s->slot[id].sent != 0 && tries++ < 65536)
			id++;
		if (s->slot[id].sent != 0)
			break;
		s->next_id = (uint16_t)(id + 1);
		struct query *q = &qs[qnext];

		q->wire[0] = (uint8_t)(id >> 8);
		q->wire[1] = (uint8_t)id;
		s->slot[id].sent = t;
		s->slot[id].q = (uint32_t)qnext;
		s->ring[s->tail++ & 0xffff] = id;
		/* The query's bytes are copied by the kernel at send: patch the ID of the next use
		 * of the same query only after this batch is out (a file shorter than a batch). */
		iov[n] = (struct iovec){q->wire, q->len};
		m[n] = (struct mmsghdr){.msg_hdr = {.msg_iov = &iov[n], .msg_iovlen = 1}};
		n++;
		qnext = qnext + 1 == nq ? 0 : qnext + 1;
		if (nq < BATCH && qnext == 0)
			break;
	}
	if (!n)
		return;
	int r = sendmmsg(s->fd, m, n, 0);

	if (r < 0) {
		if (errno != EAGAIN && errno != ENOBUFS && errno != ECONNREFUSED)
			die("sendmmsg");
		r = 0;
	}
	/* The ones not sent give their slots back and are sent again later. */
	for (unsigned i = (unsigned)r; i < n; i++) {
		uint16_t id = (uint16_t)(((uint8_t *)iov[i].iov_base)[0] << 8 | ((uint8_t *)iov[i].iov_base)[1]);

		s->slot[id].sent = 0;
	}
	if ((unsigned)r < n) {
		s->tail -= n - (unsigned)r;
		qnext = (qnext + nq - (n - (unsigned)r) % nq) % nq;
	}
	s->inflight += (unsigned)r;
	sent += (unsigned)r;
}

/* The question of an answer is the one asked: name (without case), type and class. */
static int same_question(const uint8_t *a, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t x = a[i], y = b[i];

		if (x != y && !(i < n - 4 && (x | 0x20) == (y | 0x20) && (y | 0x20) >= 'a' && (y | 0x20) <= 'z'))
			return 0;
	}
	return 1;
}

static void drain(struct sock *s, double t)
{
	static uint8_t buf[BATCH][1500];
	struct mmsghdr m[BATCH];
	struct iovec iov[BATCH];

	for (;;) {
		for (unsigned i = 0; i < BATCH; i++) {
			iov[i] = (struct iovec){buf[i], sizeof(buf[i])};
			m[i] = (struct mmsghdr){.msg_hdr = {.msg_iov = &iov[i], .msg_iovlen = 1}};
		}
		int r = recvmmsg(s->fd, m, BATCH, MSG_DONTWAIT, NULL);

		if (r < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			if (errno == ECONNREFUSED || errno == EINTR)
				continue;
			die("recvmmsg");
		}
		for (int i = 0; i < r; i++) {
			const uint8_t *p = buf[i];
			size_t len = m[i].msg_len;

			if (len < 12 || !(p[2] & 0x80))
				continue;
			uint16_t id = (uint16_t)(p[0] << 8 | p[1]);
			struct slot *sl = &s->slot[id];

			if (sl->sent == 0)
				continue; /* late (counted lost) or not ours */
			const struct query *q = &qs[sl->q];

			if (len < q->len || !same_question(p + 12, q->wire + 12, q->len - 12u))
				continue;
			double l = t - sl->sent;

			lat_sum += l;
			lat_min = l < lat_min ? l : lat_min;
			lat_max = l > lat_max ? l : lat_max;
			rcodes[p[3] & 0xf]++;
			completed++;
			sl->sent = 0;
			s->inflight--;
		}
		if (r < BATCH)
			return;
	}
}

int main(int argc, char **argv)
{
	const char *server = NULL, *file = NULL;
	long port = 53, nsock = 1, outst = 100;
	double secs = 10, timeout = 2;
	int o;

	while ((o = getopt(argc, argv, "s:p:d:c:q:l:t:")) != -1) {
		switch (o) {
		case 's': server = optarg; break;
		case 'p': port = strtol(optarg, NULL, 10); break;
		case 'd': file = optarg; break;
		case 'c': nsock = strtol(optarg, NULL, 10); break;
		case 'q': outst = strtol(optarg, NULL, 10); break;
		case 'l': secs = strtod(optarg, NULL); break;
		case 't': timeout = strtod(optarg, NULL); break;
		default: goto usage;
		}
	}
	if (!server || !file || optind != argc || port <= 0 || port > 65535 || nsock < 1 ||
	    nsock > MAXSOCK || outst < nsock || outst > 65535L * nsock || !(secs > 0 && secs <= 3600) ||
	    !(timeout > 0 && timeout <= 60))
		goto usage;

	struct sockaddr_storage ss = {0};
	socklen_t sl;
	struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;

	if (inet_pton(AF_INET, server, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		sl = sizeof(*a4);
	} else if (inet_pton(AF_INET6, server, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		sl = sizeof(*a6);
	} else {
		fprintf(stderr, "blast: -s %s: not an IP address\n", server);
		return 1;
	}
	load(file);

	struct sock *socks = calloc((size_t)nsock, sizeof(*socks));
	struct pollfd *pfd = calloc((size_t)nsock, sizeof(*pfd));

	if (!socks || !pfd)
		die("calloc");
	for (long i = 0; i < nsock; i++) {
		int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		int buf = 4 << 20;

		if (fd < 0)
			die("socket");
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
		if (connect(fd, (struct sockaddr *)&ss, sl) < 0)
			die("connect");
		socks[i].fd = fd;
		socks[i].limit = (unsigned)(outst / nsock + (i < outst % nsock));
		socks[i].next_id = (uint16_t)(rand() & 0xffff);
		pfd[i] = (struct pollfd){.fd = fd, .events = POLLIN};
	}

	printf("[Status] Command line: blast");
	for (int i = 1; i < argc; i++)
		printf(" %s", argv[i]);
	printf("\n[Status] Sending queries (to %s:%ld)\n", server, port);
	fflush(stdout);

	double t0 = now(), t = t0, end = t0 + secs, last_expire = t0;
	uint64_t done_at_end = 0;
	int sending = 1;

	for (;;) {
		unsigned inflight = 0;

		if (sending && t >= end) {
			sending = 0;
			done_at_end = completed;
		}
		if (t - last_expire >= 0.05) {
			for (long i = 0; i < nsock; i++)
				expire(&socks[i], t, timeout);
			last_expire = t;
		}
		for (long i = 0; i < nsock; i++) {
			if (sending)
				fill(&socks[i], t);
			inflight += socks[i].inflight;
		}
		if (!sending && (inflight == 0 || t >= end + timeout))
			break;
		if (poll(pfd, (nfds_t)nsock, 10) < 0 && errno != EINTR)
			die("poll");
		t = now();
		for (long i = 0; i < nsock; i++)
			if (pfd[i].revents)
				drain(&socks[i], t);
	}
	for (long i = 0; i < nsock; i++) {
		lost += socks[i].inflight;
		close(socks[i].fd);
	}

	static const char *rc[16] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
				     "YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE", "RCODE11",
				     "RCODE12", "RCODE13", "RCODE14", "RCODE15"};

	printf("[Status] Testing complete (time limit)\n\nStatistics:\n\n");
	printf("  Queries sent:         %llu\n", (unsigned long long)sent);
	printf("  Queries completed:    %llu (%.2f%%)\n", (unsigned long long)completed,
	       sent ? 100.0 * completed / sent : 0.0);
	printf("  Queries lost:         %llu (%.2f%%)\n\n", (unsigned long long)lost,
	       sent ? 100.0 * lost / sent : 0.0);
	printf("  Response codes:       ");
	for (int i = 0, first = 1; i < 16; i++)
		if (rcodes[i]) {
			printf("%s%s %llu (%.2f%%)", first ? "" : ", ", rc[i], (unsigned long long)rcodes[i],
			       100.0 * rcodes[i] / (completed ? completed : 1));
			first = 0;
		}
	printf("\n  Run time (s):         %.6f\n", secs);
	printf("  Queries per second:   %.6f\n\n", done_at_end / secs);
	printf("  Average Latency (s):  %.6f (min %.6f, max %.6f)\n", completed ? lat_sum / completed : 0.0,
	       completed ? lat_min : 0.0, lat_max);
	return 0;
usage:
	fprintf(stderr, "usage: blast -s ADDR -p PORT -d FILE [-c SOCKETS] [-q OUTSTANDING] [-l SECONDS] "
			"[-t TIMEOUT]\n");
	return 2;
}
