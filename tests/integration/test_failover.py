#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Upstream handling (DESIGN.md section 5, Forwarding): timeouts, failover in order,
SERVFAIL when every upstream fails, recovery, RFC 5452 reply checks, TCP retry on TC."""

import os
import select
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import eq, check  # noqa: E402

TIMEOUT_MS = 300
SLACK = 1.0  # seconds allowed beyond the configured timeouts (sanitizer builds are slow)

env = h.Env()
S = {}


class FakeUpstream:
    """A scripted upstream on 127.0.0.1 (UDP and TCP on one port), run in a thread.

    spoof.test: first sends forged replies (wrong source port, wrong ID, wrong question),
    then the genuine one (192.0.2.99). tc.test: TC=1 over UDP, the answer (192.0.2.98) over
    TCP. Anything else: 192.0.2.99. Every received query is recorded."""

    def __init__(self):
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        self.port = self.udp.getsockname()[1]
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.tcp.bind(("127.0.0.1", self.port))
        self.tcp.listen(8)
        self.forger = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # other source port
        self.forger.bind(("127.0.0.1", 0))
        self.received = []  # (proto, id, qname, source port)
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def stop(self):
        self.stop_event.set()
        self.thread.join(5)
        for s in (self.udp, self.tcp, self.forger):
            s.close()

    @staticmethod
    def reply(query, addr, qid=None, tc=False, qname=None):
        """An answer to query: same question (or qname's), one A record unless tc."""
        m = h.Msg(query)
        name, qtype, qclass = m.question[0]
        qid = m.id if qid is None else qid
        flags = h.make_flags(qr=True, rd=m.rd, ra=True, tc=tc)
        pkt = h.header(qid, flags, 1, 0 if tc else 1, 0, 0)
        pkt += h.name_to_wire(qname or name) + struct.pack("!HH", qtype, qclass)
        if not tc:
            pkt += b"\xc0\x0c" + struct.pack("!HHIH", h.T_A, 1, 30, 4) + socket.inet_aton(addr)
        return pkt

    def _answer_udp(self, data, peer):
        m = h.Msg(data)
        qname = m.question[0][0].lower()
        self.received.append(("udp", m.id, qname, peer[1]))
        if qname == "spoof.test.":
            self.forger.sendto(self.reply(data, "6.6.6.6"), peer)
            self.udp.sendto(self.reply(data, "6.6.6.7", qid=m.id ^ 0x5A5A), peer)
            self.udp.sendto(self.reply(data, "6.6.6.8", qname="other.test."), peer)
            time.sleep(0.05)  # let the daemon see (and reject) the forgeries first
            self.udp.sendto(self.reply(data, "192.0.2.99"), peer)
        elif qname == "tc.test.":
            self.udp.sendto(self.reply(data, "192.0.2.98", tc=True), peer)
        else:
            self.udp.sendto(self.reply(data, "192.0.2.99"), peer)

    def _answer_tcp(self, conn):
        with conn:
            data = h.tcp_read_msg(conn, 2.0)
            if data is None:
                return
            m = h.Msg(data)
            self.received.append(("tcp", m.id, m.question[0][0].lower(), None))
            conn.sendall(h.tcp_frame(self.reply(data, "192.0.2.98")))

    def _run(self):
        while not self.stop_event.is_set():
            ready, _, _ = select.select([self.udp, self.tcp], [], [], 0.1)
            for s in ready:
                try:
                    if s is self.udp:
                        self._answer_udp(*self.udp.recvfrom(65535))
                    else:
                        conn, _ = self.tcp.accept()
                        self._answer_tcp(conn)
                except (OSError, h.ParseError, IndexError):
                    pass  # a bad packet or a closed peer: keep serving


def start(name, upstreams, timeout_ms=TIMEOUT_MS):
    d = env.path(name)
    d.mkdir()
    h.write_file(d / "blocklist.yaml", "block:\n  - blocked.test\n")
    port = h.free_port()
    # These tests watch every query reach the upstreams: no answer cache (positive or
    # failure) in between. tests/integration/test_cache.py covers the cache.
    cfg = h.write_config(d, port, upstreams, timeout_ms=timeout_ms,
                         extra="cache: {enabled: false}\n")
    env.start_daemon(cfg, port, name=f"sinkholed-{name}")
    return port


def timed_query(port, name, tcp=False, qid=None, timeout=5.0):
    t0 = time.monotonic()
    q, m = h.query(port, name, h.T_A, tcp=tcp, qid=qid, timeout=timeout)
    return q, m, time.monotonic() - t0


def setup():
    S["hole"], hole_port = h.black_hole()
    S["dead"] = h.free_port(ipv6=False)  # nothing listens here
    _, S["up"] = env.start_upstream()
    S["fake"] = FakeUpstream()
    S["p_dead"] = start("alldead", [S["dead"], hole_port])
    S["p_fail"] = start("failover", [hole_port, S["up"]])
    S["recover_port"] = h.free_port(ipv6=False)
    S["p_recover"] = start("recover", [S["recover_port"]])
    S["p_fake"] = start("fake", [S["fake"].port], timeout_ms=1000)


def drain_hole():
    """Queries the black hole received so far: list of (id, qname)."""
    out = []
    S["hole"].setblocking(False)
    for _ in range(1000):
        try:
            data = S["hole"].recv(65535)
        except BlockingIOError:
            break
        m = h.Msg(data)
        out.append((m.id, m.question[0][0].lower()))
    return out


def test_all_upstreams_dead_servfail_udp_and_tcp():
    for tcp in (False, True):
        q, m, dt = timed_query(S["p_dead"], "www.example.org", tcp=tcp, qid=0x5e5e)
        check(m is not None, f"no answer at all (tcp={tcp}) after {dt:.2f} s")
        eq(m.rcode, h.SERVFAIL, f"rcode (tcp={tcp})")
        eq(m.id, 0x5e5e, "ID echoed")
        eq(m.question, [("www.example.org.", h.T_A, 1)], "question echoed")
        # The black hole's timeout must have run out; both attempts fit in 2 timeouts.
        check(dt >= TIMEOUT_MS / 1000 * 0.8, f"SERVFAIL after {dt:.2f} s: before the timeout")
        check(dt <= 2 * TIMEOUT_MS / 1000 + SLACK, f"SERVFAIL took {dt:.2f} s")


def test_failover_in_order():
    drain_hole()
    for qid in (0x1111, 0x2222, 0x3333):
        _, m, dt = timed_query(S["p_fail"], "www.example.org", qid=qid)
        check(m is not None, "no answer")
        eq(m.rcode, h.NOERROR, "rcode")
        eq(m.addresses(), ["192.0.2.11"], "answer from the second upstream")
        eq(m.id, qid, "client's ID restored")
        check(dt >= TIMEOUT_MS / 1000 * 0.8, f"answer after {dt:.2f} s: first upstream skipped?")
        check(dt <= TIMEOUT_MS / 1000 + SLACK, f"answer took {dt:.2f} s")
    seen = drain_hole()
    eq(len(seen), 3, "queries the first (silent) upstream received")
    check(all(name == "www.example.org." for _, name in seen), f"questions {seen}")
    # RFC 5452: a fresh random ID per upstream query, not the client's.
    check([i for i, _ in seen] != [0x1111, 0x2222, 0x3333], f"upstream IDs = client IDs: {seen}")


def test_recovery_after_upstream_returns():
    _, m, _ = timed_query(S["p_recover"], "www.example.org")
    check(m is not None, "no answer")
    eq(m.rcode, h.SERVFAIL, "rcode while the only upstream is down")
    env.start_upstream(port=S["recover_port"], name="testns-late")
    _, m, _ = timed_query(S["p_recover"], "www.example.org")
    check(m is not None, "no answer after the upstream came up")
    eq(m.rcode, h.NOERROR, "rcode after recovery")
    eq(m.addresses(), ["192.0.2.11"], "answer after recovery")


def test_blocked_names_answered_without_upstream():
    _, m, dt = timed_query(S["p_dead"], "x.blocked.test")
    check(m is not None, "no answer")
    eq(m.addresses(), ["0.0.0.0"], "sinkhole answer with all upstreams dead")
    check(dt < TIMEOUT_MS / 1000, f"sinkhole answer took {dt:.2f} s: did it wait for upstreams?")


def test_forged_replies_rejected():
    fake = S["fake"]
    for qid in (0x0101, 0x0202):
        _, m, _ = timed_query(S["p_fake"], "spoof.test", qid=qid)
        check(m is not None, "no answer")
        eq(m.rcode, h.NOERROR, "rcode")
        eq(m.addresses(), ["192.0.2.99"], "accepted the genuine reply only (6.6.6.x = forged)")
        eq(m.question, [("spoof.test.", h.T_A, 1)], "question")
    ids = [i for p, i, n, _ in fake.received if n == "spoof.test."]
    ports = [sp for p, _, n, sp in fake.received if n == "spoof.test."]
    check(ids != [0x0101, 0x0202], f"upstream IDs copied from the client: {ids}")
    check(len(ports) == 2, f"upstream queries received: {fake.received}")


def test_upstream_ids_and_ports_random():
    """RFC 5452: every upstream query has its own random ID and source port. 600 queries
    (more than one refill of the worker's 256-ID pool) with the same client ID."""
    fake = S["fake"]
    n0 = len(fake.received)
    names = [f"r{i}.random.test" for i in range(600)]
    with h.socket.socket(h.socket.AF_INET, h.socket.SOCK_DGRAM) as sock:
        for name in names:
            data = h.udp_exchange(S["p_fake"], h.build_query(name, h.T_A, qid=0x4242), sock=sock)
            check(data is not None and h.Msg(data).id == 0x4242, f"answer to {name}")
    got = [(i, sp) for p, i, n, sp in fake.received[n0:] if n.endswith(".random.test.")]
    eq(len(got), len(names), "upstream queries received")
    ids = [i for i, _ in got]
    # 600 draws from 65536: about 3 repeats expected; a stuck or reused pool gives hundreds.
    check(len(set(ids)) >= len(ids) - 20, f"only {len(set(ids))} distinct IDs in {len(ids)}")
    steps = sum(1 for a, b in zip(ids, ids[1:]) if (b - a) % 65536 in (1, 65535))
    check(steps < 10, f"{steps} consecutive IDs one apart: a counter, not random")
    check(ids.count(0x4242) < 5, "the client's ID passed on")
    ports = {sp for _, sp in got}
    check(len(ports) >= len(got) // 2, f"only {len(ports)} source ports for {len(got)} queries")


def test_truncated_upstream_reply_retried_over_tcp():
    for tcp in (False, True):
        _, m, _ = timed_query(S["p_fake"], "tc.test", tcp=tcp)
        check(m is not None, f"no answer (client tcp={tcp})")
        eq(m.rcode, h.NOERROR, "rcode")
        check(not m.tc, "TC passed on although the answer fits")
        eq(m.addresses(), ["192.0.2.98"], "the answer from the TCP retry")
    check(any(p == "tcp" and n == "tc.test." for p, _, n, _ in S["fake"].received),
          f"no TCP query reached the upstream: {S['fake'].received}")


def teardown():
    if "fake" in S:
        S["fake"].stop()
    if "hole" in S:
        S["hole"].close()


if __name__ == "__main__":
    try:
        h.run_tests([v for k, v in list(globals().items()) if k.startswith("test_")],
                    env=env, setup=setup)
    finally:
        teardown()
