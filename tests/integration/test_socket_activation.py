#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Socket activation (systemd/sinkholed.socket): started with sockets passed as
sd_listen_fds(3) does (LISTEN_PID, LISTEN_FDS, fds from 3 on), sinkholed serves on them
instead of binding its own; a passed set that lacks a `listen` address is a clear startup
error (exit 1)."""

import os
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import eq, check  # noqa: E402

env = h.Env()
S = {}


def passed_sockets(port, tcp=True):
    """A UDP and (with tcp) a listening TCP socket on 127.0.0.1:port, as a socket unit makes."""
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("127.0.0.1", port))
    socks = [u]
    if tcp:
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        t.bind(("127.0.0.1", port))
        t.listen(128)
        socks.append(t)
    return socks


def start_activated(cfg, socks, name):
    """sinkholed with socks as fds 3, 4, ... and LISTEN_PID set to its own pid (sh's exec)."""
    fds = [s.fileno() for s in socks]

    def renumber():
        # Onto 3, 4, ...: dup every one out of the way first, then into place.
        tmp = [os.dup(fd) for fd in fds]
        for i, fd in enumerate(tmp):
            os.dup2(fd, 3 + i)
            os.set_inheritable(3 + i, True)
    argv = ["sh", "-c", f'LISTEN_PID=$$ LISTEN_FDS={len(fds)} exec "$0" -c "$1"',
            h.sinkholed_bin(), str(cfg)]
    # The fds renumbered onto 3, 4, ... must be kept too (subprocess closes the others after
    # preexec_fn).
    p = h.Proc(name, argv, env.tmp, preexec_fn=renumber,
               pass_fds=fds + [3 + i for i in range(len(fds))])
    for s in socks:
        s.close()  # the daemon has its own copies
    return p


def setup():
    _, S["up"] = env.start_upstream()
    h.write_file(env.path("blocklist.yaml"), "block: [www.mobile1.com]\n")


def test_serves_on_passed_sockets():
    port = h.free_port(ipv6=False)
    cfg = h.write_config(env.tmp, port, [S["up"]], ipv6_listen=False, workers=2,
                         name="activated.yaml")
    p = start_activated(cfg, passed_sockets(port), "activated")
    env.procs.append(p)
    env.daemons.append(p)
    h.wait_answering(port, p, timeout=10.0 * h.SLOW)
    _, m = h.query(port, "www.mobile1.com", h.T_A)
    eq(m.addresses(), ["0.0.0.0"], "blocked over UDP on the passed socket")
    _, m = h.query(port, "www.mobile1.com", h.T_A, tcp=True)
    eq(m.addresses(), ["0.0.0.0"], "blocked over TCP on the passed socket")
    check("socket activation: 127.0.0.1:" in p.stderr(), "the log says where the sockets came "
          f"from: {p.stderr()[-500:]}")
    p.signal(15)
    eq(p.wait(5), 0, "exit code after SIGTERM")


def test_missing_passed_socket_is_an_error():
    port = h.free_port(ipv6=False)
    cfg = h.write_config(env.tmp, port, [S["up"]], ipv6_listen=False, name="partial.yaml")
    p = start_activated(cfg, passed_sockets(port, tcp=False), "partial")
    env.procs.append(p)
    eq(p.wait(10), 1, "exit code without a TCP socket for a listen address")
    check("no TCP socket for 127.0.0.1:" in p.stderr() and "ListenStream=" in p.stderr(),
          f"the error names what is missing: {p.stderr()[-500:]}")


if __name__ == "__main__":
    h.run_tests([v for k, v in list(globals().items()) if k.startswith("test_")],
                env=env, setup=setup)
