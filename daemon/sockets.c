/* SPDX-License-Identifier: MIT */
#include "sockets.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "config.h"
#include "log.h"

static int bind_socket(const struct sockaddr_storage *ss, int type)
{
	int fd, one = 1;

	fd = socket(ss->ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* Every worker binds its own socket to the same address; the kernel spreads the load. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0 ||
	    (type == SOCK_STREAM &&
	     setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0) ||
	    (ss->ss_family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0) ||
	    bind(fd, (const struct sockaddr *)ss, addr_len((const struct sockaddr *)ss)) < 0) {
		int err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

/*
 * Grow one of a UDP socket's kernel buffers to want bytes (never shrink it: a socket unit's
 * ReceiveBuffer= may have made it larger). SO_RCVBUFFORCE/SO_SNDBUFFORCE work for root or
 * CAP_NET_ADMIN (sockets are bound before privileges are dropped); without, SO_RCVBUF is capped
 * at net.core.rmem_max (wmem_max). Linux doubles the value for its bookkeeping and getsockopt
 * shows the doubled size: returns what was granted in the caller's terms (half of it).
 */
static uint64_t grow_buffer(int fd, int opt, int force, uint64_t want)
{
	int cur = 0, v = (int)want;
	socklen_t len = sizeof(cur);

	if (getsockopt(fd, SOL_SOCKET, opt, &cur, &len) == 0 && (uint64_t)cur / 2 >= want)
		return (uint64_t)cur / 2;
	if (setsockopt(fd, SOL_SOCKET, force, &v, sizeof(v)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, opt, &v, sizeof(v));
	len = sizeof(cur);
	if (getsockopt(fd, SOL_SOCKET, opt, &cur, &len) < 0 || cur < 0)
		return 0;
	return (uint64_t)cur / 2;
}

/*
 * udp.receive_buffer / udp.send_buffer on every UDP socket. Queries wait in the receive buffer
 * while their worker is busy or not scheduled; the kernel's default (208K) holds about 270 of
 * them, 27 ms at 10k q/s, and drops the rest. A shortfall is said once: a warning when the
 * config asked for the size, else a notice (the default asks for 4M).
 */
static void size_udp_buffers(const struct sockets *s, const struct config *cfg)
{
	static const struct {
		const char *key, *sysctl, *unit_key;
		int opt, force;
	} b[2] = {
		{"receive_buffer", "net.core.rmem_max", "ReceiveBuffer", SO_RCVBUF, SO_RCVBUFFORCE},
		{"send_buffer", "net.core.wmem_max", "SendBuffer", SO_SNDBUF, SO_SNDBUFFORCE},
	};
	const uint64_t want[2] = {cfg->udp_receive_buffer, cfg->udp_send_buffer};
	size_t n = (size_t)s->n_workers * s->n_listen;

	for (int k = 0; k < 2; k++) {
		uint64_t least = UINT64_MAX;

		if (want[k] == 0)
			continue;
		for (size_t j = 0; j < n; j++) {
			if (s->udp[j] >= 0) {
				uint64_t got = grow_buffer(s->udp[j], b[k].opt, b[k].force, want[k]);
				if (got < least)
					least = got;
			}
		}
		if (least < want[k])
			log_msg(cfg->udp_buffers_set ? LOG_WARN : LOG_INFO, "main",
				"udp.%s: %llu KiB asked, the kernel granted %llu KiB per socket (%s "
				"caps it without CAP_NET_ADMIN): raise %s with sysctl, or set %s= in "
				"sinkholed.socket",
				b[k].key, (unsigned long long)(want[k] >> 10),
				(unsigned long long)(least >> 10), b[k].sysctl, b[k].sysctl,
				b[k].unit_key);
	}
}

/* Bind every listen address for one worker; on failure closes what it opened. */
static int bind_worker(const struct config *cfg, int *udp, int *tcp)
{
	char a[64];
	size_t i;
	int fd;

	for (i = 0; i < cfg->n_listen; i++) {
		const struct sockaddr_storage *ss = &cfg->listen[i];
		addr_format((const struct sockaddr *)ss, a, sizeof(a));
		fd = bind_socket(ss, SOCK_DGRAM);
		if (fd < 0) {
			log_err("main", "cannot bind UDP %s: %s", a, strerror(-fd));
			goto fail;
		}
		udp[i] = fd;
		fd = bind_socket(ss, SOCK_STREAM);
		if (fd < 0) {
			log_err("main", "cannot bind TCP %s: %s", a, strerror(-fd));
			close(udp[i]);
			goto fail;
		}
		tcp[i] = fd;
	}
	return 0;
fail:
	while (i-- > 0) {
		close(udp[i]);
		close(tcp[i]);
	}
	return -1;
}

int sockets_drop_privileges(const struct config *cfg)
{
	struct passwd *pw;

	if (geteuid() != 0) {
		if (cfg->user)
			log_warn("main", "`user: %s` ignored: not started as root", cfg->user);
		return 0;
	}
	if (!cfg->user) {
		if (cfg->allow_root) {
			log_warn("main", "running as root (allow_root: true)");
			return 0;
		}
		log_err("main", "refusing to serve as root: set `user:` (e.g. user: nobody) to "
				"switch after binding, or `allow_root: true`");
		return -1;
	}
	errno = 0;
	pw = getpwnam(cfg->user);
	if (!pw) {
		log_err("main", "user %s: %s", cfg->user, errno ? strerror(errno) : "no such user");
		return -1;
	}
	if (setgroups(0, NULL) != 0 || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0) {
		log_err("main", "cannot switch to user %s: %s", cfg->user, strerror(errno));
		return -1;
	}
	if (setuid(0) == 0) {
		log_err("main", "switched to user %s but could regain root: refusing to run",
			cfg->user);
		return -1;
	}
	log_info("main", "switched to user %s (uid %u)", cfg->user, (unsigned)pw->pw_uid);
	return 0;
}

int *sockets_udp(const struct sockets *s, unsigned i)
{
	return s->udp + (size_t)i * s->n_listen;
}

int *sockets_tcp(const struct sockets *s, unsigned i)
{
	return s->tcp + (size_t)i * s->n_listen;
}

void sockets_close(struct sockets *s, unsigned from)
{
	for (size_t j = (size_t)from * s->n_listen; s->udp && j < s->n_workers * s->n_listen; j++) {
		if (s->udp[j] >= 0)
			close(s->udp[j]);
		if (s->tcp[j] >= 0)
			close(s->tcp[j]);
		s->udp[j] = s->tcp[j] = -1;
	}
}

/*
 * Socket activation (sd_listen_fds(3)): the service manager passed LISTEN_FDS sockets from fd
 * 3 on, for this process (LISTEN_PID). Returns how many, 0 without.
 */
static int passed_fds(void)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	long n;

	if (!pid || !fds || strtol(pid, NULL, 10) != (long)getpid())
		return 0;
	n = strtol(fds, NULL, 10);
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	if (n <= 0 || n > 1024)
		return 0;
	for (int fd = 3; fd < 3 + n; fd++)
		(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
	return (int)n;
}

/* The passed fd of type for ss, or -1. */
static int passed_for(int n, const struct sockaddr_storage *ss, int type)
{
	for (int fd = 3; fd < 3 + n; fd++) {
		struct sockaddr_storage bound;
		socklen_t len = sizeof(bound);
		int t;
		socklen_t tlen = sizeof(t);

		if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &t, &tlen) < 0 || t != type ||
		    getsockname(fd, (struct sockaddr *)&bound, &len) < 0)
			continue;
		if (addr_equal((const struct sockaddr *)&bound, (const struct sockaddr *)ss))
			return fd;
	}
	return -1;
}

/*
 * The sockets the service manager passed, one UDP and one TCP per listen address; every
 * worker reads the same sockets (a dup each). Passed sockets that no listen address names
 * are closed. 0, or -1 (logged).
 */
static int adopt_passed(struct sockets *s, const struct config *cfg, int n)
{
	char a[64];
	bool used[1024] = {false};

	for (size_t i = 0; i < cfg->n_listen; i++) {
		int fds[2] = {passed_for(n, &cfg->listen[i], SOCK_DGRAM),
			      passed_for(n, &cfg->listen[i], SOCK_STREAM)};

		addr_format((const struct sockaddr *)&cfg->listen[i], a, sizeof(a));
		for (int k = 0; k < 2; k++) {
			if (fds[k] < 0) {
				log_err("main",
					"socket activation: no %s socket for %s was passed: add "
					"%s=%s to sinkholed.socket, or remove it from `listen`",
					k ? "TCP" : "UDP", a, k ? "ListenStream" : "ListenDatagram", a);
				return -1;
			}
			used[fds[k] - 3] = true;
			for (unsigned w = 0; w < s->n_workers; w++) {
				int fd = w == 0 ? fds[k] : fcntl(fds[k], F_DUPFD_CLOEXEC, 3);

				if (fd < 0) {
					log_err("main", "socket activation: dup: %s", strerror(errno));
					return -1;
				}
				(k ? sockets_tcp(s, w) : sockets_udp(s, w))[i] = fd;
			}
		}
		log_info("main", "socket activation: %s (UDP and TCP) from the service manager", a);
	}
	for (int fd = 3; fd < 3 + n; fd++) {
		if (!used[fd - 3]) {
			log_warn("main", "socket activation: fd %d is not a `listen` address: closed",
				 fd);
			close(fd);
		}
	}
	return 0;
}

int sockets_bind(struct sockets *s, const struct config *cfg, unsigned n_workers)
{
	size_t n = (size_t)n_workers * cfg->n_listen;
	int passed = passed_fds();

	s->n_workers = n_workers;
	s->n_listen = cfg->n_listen;
	s->udp = malloc((n ? n : 1) * sizeof(int));
	s->tcp = malloc((n ? n : 1) * sizeof(int));
	if (!s->udp || !s->tcp) {
		log_err("main", "out of memory");
		return -1;
	}
	for (size_t j = 0; j < n; j++)
		s->udp[j] = s->tcp[j] = -1;
	if (passed > 0) {
		if (adopt_passed(s, cfg, passed) != 0) {
			sockets_close(s, 0);
			return -1;
		}
	} else {
		for (unsigned i = 0; i < n_workers; i++) {
			if (bind_worker(cfg, sockets_udp(s, i), sockets_tcp(s, i)) != 0) {
				sockets_close(s, 0);
				return -1;
			}
		}
	}
	size_udp_buffers(s, cfg);
	return 0;
}

void sockets_free(struct sockets *s)
{
	sockets_close(s, 0);
	free(s->udp);
	free(s->tcp);
	s->udp = s->tcp = NULL;
}
