#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Answers as relayed (README "Answers"): the daemon in front of a scripted authoritative
upstream (AA=1, RA=0) over UDP and TCP; every answer looks like a recursive service's, from
the upstream and from the cache."""

import os
import select
import signal
import socket
import struct
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import eq, check  # noqa: E402

T_CNAME, T_DNAME = 5, 39

BLOCKLIST = """\
block:
  - domain: listed.test
    malware: TestRAT
"""

env = h.Env()
S = {}  # ports, paths and the upstream, filled in by setup()


def rr(owner, rtype, rdata, ttl=300):
    return h.name_to_wire(owner) + struct.pack("!HHIH", rtype, 1, ttl, len(rdata)) + rdata


def a(owner, addr, ttl=300):
    return rr(owner, h.T_A, socket.inet_pton(socket.AF_INET, addr), ttl)


def aaaa(owner, addr, ttl=300):
    return rr(owner, h.T_AAAA, socket.inet_pton(socket.AF_INET6, addr), ttl)


def cname(owner, target, ttl=300):
    return rr(owner, T_CNAME, h.name_to_wire(target), ttl)


def dname(owner, target, ttl=300):
    return rr(owner, T_DNAME, h.name_to_wire(target), ttl)


class Upstream:
    """An authoritative server on 127.0.0.1 (UDP and TCP, one port): each question
    (lowercase name, type) in zone gets its records with AA=1, RA=0 (and Z=1, to see that it
    is cleared); any other question gets NXDOMAIN. zone may be changed while it runs."""

    def __init__(self):
        self.zone = {}
        self.queries = 0
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        self.port = self.udp.getsockname()[1]
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.tcp.bind(("127.0.0.1", self.port))
        self.tcp.listen(16)
        self.stop_r, self.stop_w = os.pipe()
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def answer(self, data):
        if len(data) < 12:
            return None
        qid, flags = struct.unpack("!HH", data[:4])
        if flags & 0x8000:
            return None
        try:
            name, off = h._read_name(data, 12)
        except h.ParseError:
            return None
        qtype = struct.unpack("!H", data[off:off + 2])[0]
        question = data[12:off + 4]
        self.queries += 1
        records = self.zone.get((name.lower().rstrip("."), qtype))
        rcode = 0 if records is not None else 3
        records = records or []
        # QR, opcode 0, AA, RD and CD echoed; RA=0, Z=1
        out_flags = 0x8000 | 0x0400 | (flags & 0x0110) | 0x0040 | rcode
        hdr = struct.pack("!HHHHHH", qid, out_flags, 1, len(records), 0, 0)
        return hdr + question + b"".join(records)

    def serve(self):
        while True:
            r, _, _ = select.select([self.udp, self.tcp, self.stop_r], [], [])
            if self.stop_r in r:
                return
            if self.udp in r:
                data, peer = self.udp.recvfrom(65535)
                out = self.answer(data)
                if out:
                    self.udp.sendto(out, peer)
            if self.tcp in r:
                conn, _ = self.tcp.accept()
                with conn:
                    conn.settimeout(2)
                    try:
                        msg = h.tcp_read_msg(conn, 2)
                        out = self.answer(msg) if msg else None
                        if out:
                            conn.sendall(h.tcp_frame(out))
                    except OSError:
                        pass

    def close(self):
        os.write(self.stop_w, b"x")
        self.thread.join(5)
        self.udp.close()
        self.tcp.close()


def setup():
    S["up"] = Upstream()
    S["list"] = env.path("blocklist.yaml")
    h.write_file(S["list"], BLOCKLIST)
    S["port"] = h.free_port()
    cfg = h.write_config(env.tmp, S["port"], [S["up"].port])
    S["log"] = env.path("blocked.jsonl")
    S["daemon"] = env.start_daemon(cfg, S["port"])


def ask(name, qtype=h.T_A, tcp=False, **kw):
    _, m = h.query(S["port"], name, qtype, tcp=tcp, **kw)
    check(m is not None, f"an answer for {name} over {'TCP' if tcp else 'UDP'}")
    return m


def test_authoritative_upstream_relayed_as_recursive():
    """AA=1/RA=0 from the upstream: RA=1, AA=0, Z=0, over UDP and TCP, then from the cache;
    AD and CD as the upstream and client set them."""
    S["up"].zone[("auth.example", h.T_A)] = [a("auth.example", "192.0.2.7")]
    for tcp in (False, True):
        for round_ in ("upstream", "cache"):
            before = S["up"].queries
            m = ask("auth.example", tcp=tcp, cd=True)
            what = f"auth.example over {'TCP' if tcp else 'UDP'} from the {round_}"
            eq(m.addresses(), ["192.0.2.7"], f"{what}: address")
            check(m.ra and not m.aa, f"{what}: RA=1, AA=0 (flags {m.flags:#06x})")
            eq(m.flags & 0x0040, 0, f"{what}: Z")
            check(m.rd and m.cd, f"{what}: RD and CD as the client sent them")
            if round_ == "cache" or tcp:
                eq(S["up"].queries, before, f"{what}: served from the cache")
    m = ask("nothing.example")
    eq(m.rcode, 3, "NXDOMAIN relayed")
    check(m.ra and not m.aa, f"NXDOMAIN: RA=1, AA=0 (flags {m.flags:#06x})")


def test_notimp_has_no_ra_ad_cd():
    for tcp in (False, True):
        m = ask("auth.example", tcp=tcp, opcode=2, cd=True, ad=True)
        eq(m.rcode, 4, "NOTIMP")
        eq(m.opcode, 2, "opcode echoed")
        check(not m.ra and not m.ad and not m.cd and not m.flags & 0x0040,
              f"NOTIMP over {'TCP' if tcp else 'UDP'}: RA, AD, CD, Z clear (flags {m.flags:#06x})")


def test_sinkhole_answer_flags():
    m = ask("listed.test", cd=True)
    eq(m.addresses(), ["0.0.0.0"], "listed.test sinkholed")
    check(m.ra and not m.aa and not m.ad and not m.flags & 0x0040,
          f"sinkhole answer: RA=1, AA=0, AD=0, Z=0 (flags {m.flags:#06x})")


TESTS = [
    test_authoritative_upstream_relayed_as_recursive,
    test_notimp_has_no_ra_ad_cd,
    test_sinkhole_answer_flags,
]

if __name__ == "__main__":
    try:
        h.run_tests(TESTS, env, setup)
    finally:
        if "up" in S:
            S["up"].close()
