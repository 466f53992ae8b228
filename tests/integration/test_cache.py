#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The answer cache (issue: cache), end to end: the real daemon in front of an upstream that
counts its queries. Second identical query not sent upstream; TTL decreases; entry expires;
NXDOMAIN cached; SERVFAIL cached briefly; 50 concurrent identical queries coalesced into one
upstream query; a name blocked by a reload is never served from the cache."""

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

env = h.Env()
S = {}


class CountingUpstream:
    """A UDP upstream on 127.0.0.1 that counts queries per name and answers by script:
    ttl1.test: A with TTL 1; nx.test: NXDOMAIN with an SOA (MINIMUM 60); fail.test: SERVFAIL;
    slow.test: A after 0.5 s; anything else: A 192.0.2.1 with TTL 300."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.counts = {}
        self.lock = threading.Lock()
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def count(self, name):
        with self.lock:
            return self.counts.get(name, 0)

    def stop(self):
        self.stop_event.set()
        self.thread.join(5)
        self.sock.close()

    @staticmethod
    def reply(query, rcode=0, ttl=300, answer=True, soa=False):
        m = h.Msg(query)
        name, qtype, qclass = m.question[0]
        flags = h.make_flags(qr=True, rd=m.rd, ra=True) | rcode
        an = 1 if answer and qtype == h.T_A else 0
        pkt = h.header(m.id, flags, 1, an, 1 if soa else 0, 0)
        pkt += h.name_to_wire(name) + struct.pack("!HH", qtype, qclass)
        if an:
            pkt += b"\xc0\x0c" + struct.pack("!HHIH", h.T_A, 1, ttl, 4) + bytes([192, 0, 2, 1])
        if soa:
            rdata = (h.name_to_wire("ns.test.") + h.name_to_wire("host.test.") +
                     struct.pack("!IIIII", 1, 3600, 600, 86400, 60))
            pkt += (h.name_to_wire("test.") + struct.pack("!HHIH", h.T_SOA, 1, 3600, len(rdata))
                    + rdata)
        return pkt

    def _answer(self, data, peer):
        m = h.Msg(data)
        name = m.question[0][0].lower()
        with self.lock:
            self.counts[name] = self.counts.get(name, 0) + 1
        if name == "ttl1.test.":
            out = self.reply(data, ttl=1)
        elif name == "nx.test.":
            out = self.reply(data, rcode=h.NXDOMAIN, answer=False, soa=True)
        elif name == "fail.test.":
            out = self.reply(data, rcode=h.SERVFAIL, answer=False)
        elif name == "slow.test.":
            threading.Timer(0.5, lambda: self.sock.sendto(self.reply(data), peer)).start()
            return
        else:
            out = self.reply(data)
        self.sock.sendto(out, peer)

    def _run(self):
        while not self.stop_event.is_set():
            ready, _, _ = select.select([self.sock], [], [], 0.1)
            if ready:
                try:
                    self._answer(*self.sock.recvfrom(65535))
                except (OSError, h.ParseError, IndexError):
                    pass


def setup():
    S["up"] = up = CountingUpstream()
    d = env.path("cache")
    d.mkdir()
    S["blocklist"] = h.write_file(d / "blocklist.yaml", "block:\n  - blocked.test\n")
    S["port"] = port = h.free_port()
    S["cfg"] = cfg = h.write_config(d, port, [up.port], timeout_ms=1000)
    S["daemon"] = env.start_daemon(cfg, port)


def ask(name, qtype=h.T_A, **kw):
    _, r = h.query(S["port"], name, qtype, **kw)
    check(r is not None, f"no answer for {name}")
    return r


def test_second_query_served_from_cache():
    up = S["up"]
    r1 = ask("www.cached.test")
    r2 = ask("www.cached.test")
    eq(r1.addresses(), ["192.0.2.1"], "first answer")
    eq(r2.addresses(), ["192.0.2.1"], "second answer")
    eq(up.count("www.cached.test."), 1, "upstream queries for www.cached.test")


def test_case_and_id_of_each_client():
    ask("case.cached.test")
    pkt, r = h.query(S["port"], "CaSe.CACHED.test", qid=0x4242)
    eq(r.id, 0x4242, "ID of the cached answer")
    eq(r.question[0][0], "CaSe.CACHED.test.", "question case of the cached answer")
    eq(S["up"].count("case.cached.test."), 1, "upstream queries")


def test_ttl_decreases():
    ttl0 = ask("ttl.cached.test").answer[0][3]
    eq(ttl0, 300, "TTL of the fresh answer")
    time.sleep(1.2)
    ttl1 = ask("ttl.cached.test").answer[0][3]
    check(ttl1 <= 299, f"TTL after 1.2 s in cache: {ttl1}, want <= 299")
    eq(S["up"].count("ttl.cached.test."), 1, "upstream queries")


def test_entry_expires():
    ask("ttl1.test")
    ask("ttl1.test")
    eq(S["up"].count("ttl1.test."), 1, "upstream queries while fresh")
    time.sleep(1.3)
    ask("ttl1.test")
    eq(S["up"].count("ttl1.test."), 2, "upstream queries after expiry")


def test_nxdomain_cached():
    for _ in range(3):
        r = ask("nx.test")
        eq(r.rcode, h.NXDOMAIN, "rcode")
        check(any(rr[1] == h.T_SOA for rr in r.authority), "SOA in authority")
    eq(S["up"].count("nx.test."), 1, "upstream queries for an NXDOMAIN name")


def test_servfail_cached_briefly():
    eq(ask("fail.test").rcode, h.SERVFAIL, "rcode")
    eq(ask("fail.test").rcode, h.SERVFAIL, "rcode from the failure cache")
    eq(S["up"].count("fail.test."), 1, "upstream queries within the backoff")
    time.sleep(1.3)  # the first failure is remembered for 1 s (RFC 9520)
    ask("fail.test")
    eq(S["up"].count("fail.test."), 2, "upstream queries after the backoff")


def test_coalescing_50_concurrent_queries():
    socks, ids = [], {}
    for i in range(50):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        pkt = h.build_query("slow.test", qid=1000 + i)
        s.sendto(pkt, ("127.0.0.1", S["port"]))
        socks.append(s)
        ids[s] = 1000 + i
    answered = 0
    deadline = time.monotonic() + 5
    for s in socks:
        s.settimeout(max(0.1, deadline - time.monotonic()))
        try:
            m = h.Msg(s.recvfrom(65535)[0])
            if m.id == ids[s] and m.addresses() == ["192.0.2.1"]:
                answered += 1
        except socket.timeout:
            pass
        s.close()
    eq(answered, 50, "clients answered")
    eq(S["up"].count("slow.test."), 1, "upstream queries for 50 identical queries")


def test_blocked_after_reload_never_from_cache():
    eq(ask("later.test").addresses(), ["192.0.2.1"], "answer before the reload")
    h.write_file(S["blocklist"], "block:\n  - blocked.test\n  - later.test\n")
    S["daemon"].signal(h.signal.SIGHUP)
    h.wait_until(lambda: ask("later.test").addresses() == ["0.0.0.0"], 5,
                 what="later.test blocked after the reload")
    for _ in range(20):
        eq(ask("www.later.test").addresses(), ["0.0.0.0"], "subdomain after the reload")
        eq(ask("later.test").addresses(), ["0.0.0.0"], "name after the reload")
    eq(S["up"].count("later.test."), 1, "upstream queries for later.test")


if __name__ == "__main__":
    tests = [v for k, v in list(globals().items()) if k.startswith("test_")]
    try:
        h.run_tests(tests, env=env, setup=setup)
    finally:
        if "up" in S:
            S["up"].stop()
