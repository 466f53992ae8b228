#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Answers as relayed (README "Answers"): the daemon in front of a scripted authoritative
upstream (AA=1, RA=0) over UDP and TCP; every answer looks like a recursive service's, from
the upstream and from the cache; CNAME and DNAME targets are checked against the lists
(sinkhole.inspect_cname), and so are the A and AAAA addresses against the listed prefixes
(IP indicators, sinkhole.inspect_ip), before and after a reload that lists or unlists them."""

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
allow:
  - trusted.example
  - 203.0.113.128/25
block:
  - domain: listed.test
    malware: TestRAT
  - domain: c2.evil.test
    malware: CloakRAT
    threat_type: botnet_cc
  - domain: watched.test
    action: log
  - ip: 203.0.113.0/24
    malware: IPRAT
    threat_type: botnet_cc
  - ip: "2001:db8:bad::/48"
    malware: IPRAT6
  - ip: 198.51.100.99
    action: log
"""
LISTED_LATER = "  - domain: later.test\n"
IP_LISTED_LATER = "  - ip: 198.18.0.0/15\n"

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


def chain(qname, hops, last, final_addr="192.0.2.66"):
    """A CNAME chain of hops records from qname via hopN.<qname> to last, then last's A."""
    names = [qname] + [f"hop{i}.{qname}" for i in range(1, hops)] + [last]
    recs = [cname(names[i], names[i + 1]) for i in range(hops)]
    return recs + [a(last, final_addr)]


def serve(name, records, qtype=h.T_A):
    S["up"].zone[(name, qtype)] = records


def log_lines(**fields):
    """The block log's records of queries answered (not retro-hunt findings: a reload that
    lists an address a client was answered before finds it too) with these fields."""
    return [r for r in h.read_log(S["log"])
            if all(r.get(k) == v for k, v in fields.items())
            and not r.get("AdditionalFields", {}).get("RetroHunt")]


def expect_blocked(name, rule, target, tcp, qtype=h.T_A):
    """name's answer is the sinkhole's, and one new block-log line names rule and target."""
    before = len(log_lines(DnsQuery=name, RuleName=rule))
    m = ask(name, qtype, tcp=tcp)
    what = f"{name} over {'TCP' if tcp else 'UDP'}"
    eq(m.rcode, 0, f"{what}: rcode")
    if qtype == h.T_A:
        eq(m.addresses(), ["0.0.0.0"], f"{what}: the sinkhole answer")
    check(m.ra and not m.aa, f"{what}: RA=1, AA=0")
    check(all(rr[1] != T_CNAME for rr in m.answer), f"{what}: no CNAME relayed")
    h.wait_until(lambda: len(log_lines(DnsQuery=name, RuleName=rule)) > before, 5,
                 what=f"a block-log line for {what}")
    rec = log_lines(DnsQuery=name, RuleName=rule)[-1]
    eq(rec["DvcAction"], "Blocked", f"{what}: DvcAction")
    eq(rec["ThreatField"], "DnsResponseName", f"{what}: ThreatField")
    eq(rec["AdditionalFields"]["MatchedVia"], "cname", f"{what}: MatchedVia")
    eq(rec["AdditionalFields"]["MatchedName"], target, f"{what}: MatchedName")
    return rec


def test_cname_chains_to_listed_name():
    """Chains of 1, 3 and 8 hops ending at (a subdomain of) a listed name, and a chain whose
    middle is listed: the sinkhole answer, from the upstream and then from the cache."""
    cases = [("one.example", 1, "c2.evil.test"), ("three.example", 3, "x.c2.evil.test"),
             ("eight.example", 8, "c2.evil.test")]
    for qname, hops, last in cases:
        serve(qname, chain(qname, hops, last))
    serve("middle.example", [cname("middle.example", "a.c2.evil.test"),
                             cname("a.c2.evil.test", "clean.example"), a("clean.example", "192.0.2.5")])
    cases.append(("middle.example", 2, "a.c2.evil.test"))
    for tcp in (False, True):
        for qname, hops, last in cases:
            for _ in ("upstream", "cache"):
                rec = expect_blocked(qname, "c2.evil.test", last, tcp)
            eq(rec.get("ThreatName"), "CloakRAT", "ThreatName of the target's entry")


def test_dname_and_loop():
    serve("www.dn.example", [dname("dn.example", "c2.evil.test"),
                             cname("www.dn.example", "www.c2.evil.test"),
                             a("www.c2.evil.test", "192.0.2.9")])
    serve("a.loop.example", [cname("a.loop.example", "b.loop.example"),
                             cname("b.loop.example", "a.loop.example")])
    serve("c.loop.example", [cname("c.loop.example", "d.loop.example"),
                             cname("d.loop.example", "c2.evil.test"),
                             cname("c2.evil.test", "c.loop.example")])
    for tcp in (False, True):
        expect_blocked("www.dn.example", "c2.evil.test", "c2.evil.test", tcp)
        m = ask("a.loop.example", tcp=tcp)
        eq([rr[1] for rr in m.answer], [T_CNAME, T_CNAME], "a clean CNAME loop relayed as it is")
        expect_blocked("c.loop.example", "c2.evil.test", "c2.evil.test", tcp)


def test_clean_chain_and_allow_and_log_only():
    serve("clean.chain.example", chain("clean.chain.example", 3, "cdn.example"))
    serve("trusted.example", chain("trusted.example", 1, "c2.evil.test"))
    serve("watching.example", chain("watching.example", 2, "x.watched.test"))
    for tcp in (False, True):
        for _ in ("upstream", "cache"):
            eq(ask("clean.chain.example", tcp=tcp).addresses(), ["192.0.2.66"], "clean chain")
            m = ask("trusted.example", tcp=tcp)
            eq(m.addresses(), ["192.0.2.66"], "an allowed name is not blocked by its target")
            m = ask("watching.example", tcp=tcp)
            eq(len(m.answer), 3, "a log-only target: the answer relayed unchanged")
            eq(m.addresses(), ["192.0.2.66"], "log-only target: address")
    eq(log_lines(DnsQuery="trusted.example"), [], "no block-log line for the allowed name")
    h.wait_until(lambda: len(log_lines(DnsQuery="watching.example")) >= 4, 5,
                 what="a block-log line per lookup of watching.example")
    rec = log_lines(DnsQuery="watching.example")[-1]
    eq(rec["DvcAction"], "Allowed", "log-only target: DvcAction")
    eq(rec["RuleName"], "watched.test", "log-only target: RuleName")
    eq(rec["AdditionalFields"]["MatchedVia"], "cname", "log-only target: MatchedVia")
    eq(rec["DnsResponseName"], "192.0.2.66", "log-only target: the upstream's address")


def test_qname_hit_says_qname():
    ask("listed.test")
    rec = h.wait_log_line(S["log"], DnsQuery="listed.test")
    eq(rec["ThreatField"], "Domain", "query-name hit: ThreatField")
    eq(rec["AdditionalFields"]["MatchedVia"], "qname", "query-name hit: MatchedVia")
    check("MatchedName" not in rec["AdditionalFields"], "no MatchedName for a query-name hit")


def test_reload_lists_and_unlists_a_target():
    """A cached answer whose target a reload lists is never served again; unlisted, it is."""
    serve("late.example", chain("late.example", 2, "later.test"))
    for tcp in (False, True):
        eq(ask("late.example", tcp=tcp).addresses(), ["192.0.2.66"], "not listed yet")
    h.write_file(S["list"], BLOCKLIST + LISTED_LATER)
    S["daemon"].signal(signal.SIGHUP)
    h.wait_until(lambda: ask("late.example").addresses() == ["0.0.0.0"], 8, interval=0.1,
                 what="late.example sinkholed after the reload")
    before = S["up"].queries
    for tcp in (False, True):
        expect_blocked("late.example", "later.test", "later.test", tcp)
    eq(S["up"].queries, before, "the cached answer was checked, not fetched again")
    h.write_file(S["list"], BLOCKLIST)
    S["daemon"].signal(signal.SIGHUP)
    h.wait_until(lambda: ask("late.example").addresses() == ["192.0.2.66"], 8, interval=0.1,
                 what="late.example relayed again after the reload")
    eq(ask("late.example", tcp=True).addresses(), ["192.0.2.66"], "unlisted, over TCP")


def expect_ip_blocked(name, qtype, tcp, addr, rule, threat):
    """name's answer is the sinkhole's, and a new block-log line names the listed address
    found in the answer and the listed prefix."""
    what = f"{name} over {'TCP' if tcp else 'UDP'}"
    before = len(log_lines(DnsQuery=name, RuleName=rule))
    m = ask(name, qtype, tcp=tcp)
    eq(m.rcode, 0, f"{what}: rcode")
    eq(m.addresses(), ["0.0.0.0"] if qtype == h.T_A else ["::"], f"{what}: the sinkhole answer")
    check(m.ra and not m.aa, f"{what}: RA=1, AA=0")
    h.wait_until(lambda: len(log_lines(DnsQuery=name, RuleName=rule)) > before, 5,
                 what=f"a block-log line for {what}")
    rec = log_lines(DnsQuery=name, RuleName=rule)[-1]
    eq(rec["DvcAction"], "Blocked", f"{what}: DvcAction")
    eq(rec["ThreatField"], "DnsResponseName", f"{what}: ThreatField")
    eq(rec["DnsResponseName"], addr, f"{what}: DnsResponseName, the listed address found")
    eq(rec["RuleName"], rule, f"{what}: RuleName, the listed prefix")
    eq(rec["AdditionalFields"]["MatchedVia"], "ip", f"{what}: MatchedVia")
    eq(rec["AdditionalFields"]["ThreatIocType"], "ip", f"{what}: ThreatIocType")
    check("MatchedName" not in rec["AdditionalFields"], f"{what}: no MatchedName")
    eq(rec.get("ThreatName"), threat, f"{what}: ThreatName")
    return rec


def test_ip_indicators():
    """A listed IPv4 and IPv6 address, alone and among clean ones, behind a CNAME or not:
    the sinkhole answer over UDP and TCP, from the upstream and then from the cache."""
    for t in ("u", "t"):
        serve(f"{t}.ip4.example", [a(f"{t}.ip4.example", "203.0.113.5")])
        serve(f"{t}.ip4mixed.example", [a(f"{t}.ip4mixed.example", "192.0.2.1"),
                                        a(f"{t}.ip4mixed.example", "203.0.113.6"),
                                        a(f"{t}.ip4mixed.example", "192.0.2.2")])
        serve(f"{t}.ip4cname.example", [cname(f"{t}.ip4cname.example", "cdn.example"),
                                        a("cdn.example", "203.0.113.7")])
        serve(f"{t}.ip6.example", [aaaa(f"{t}.ip6.example", "2001:db8:bad::1")], h.T_AAAA)
        serve(f"{t}.ip6mixed.example", [aaaa(f"{t}.ip6mixed.example", "2001:db8::1"),
                                        aaaa(f"{t}.ip6mixed.example", "2001:db8:bad:1::2")],
              h.T_AAAA)
    for tcp in (False, True):
        t = "t" if tcp else "u"
        for round_ in ("upstream", "cache"):
            before = S["up"].queries
            expect_ip_blocked(f"{t}.ip4.example", h.T_A, tcp, "203.0.113.5", "203.0.113.0/24",
                              "IPRAT")
            expect_ip_blocked(f"{t}.ip4mixed.example", h.T_A, tcp, "203.0.113.6",
                              "203.0.113.0/24", "IPRAT")
            expect_ip_blocked(f"{t}.ip4cname.example", h.T_A, tcp, "203.0.113.7",
                              "203.0.113.0/24", "IPRAT")
            expect_ip_blocked(f"{t}.ip6.example", h.T_AAAA, tcp, "2001:db8:bad::1",
                              "2001:db8:bad::/48", "IPRAT6")
            expect_ip_blocked(f"{t}.ip6mixed.example", h.T_AAAA, tcp, "2001:db8:bad:1::2",
                              "2001:db8:bad::/48", "IPRAT6")
            if round_ == "cache":
                eq(S["up"].queries, before, f"from the cache over {'TCP' if tcp else 'UDP'}")


def test_ip_allow_and_log_only():
    """An address on an allowed prefix is no hit; an allowed query name is never blocked by
    its addresses; a log-only address is relayed unchanged and logged."""
    serve("ipallowed.example", [a("ipallowed.example", "203.0.113.200")])
    serve("ip.trusted.example", [a("ip.trusted.example", "203.0.113.5")])
    serve("iplog.example", [a("iplog.example", "192.0.2.3"), a("iplog.example", "198.51.100.99")])
    for tcp in (False, True):
        for _ in ("upstream", "cache"):
            eq(ask("ipallowed.example", tcp=tcp).addresses(), ["203.0.113.200"],
               "an address on an allowed prefix")
            eq(ask("ip.trusted.example", tcp=tcp).addresses(), ["203.0.113.5"],
               "an allowed name is not blocked by its addresses")
            eq(ask("iplog.example", tcp=tcp).addresses(), ["192.0.2.3", "198.51.100.99"],
               "a log-only address: the answer relayed unchanged")
    eq(log_lines(DnsQuery="ipallowed.example"), [], "no block-log line for an allowed prefix")
    eq(log_lines(DnsQuery="ip.trusted.example"), [], "no block-log line for an allowed name")
    h.wait_until(lambda: len(log_lines(DnsQuery="iplog.example")) >= 4, 5,
                 what="a block-log line per lookup of iplog.example")
    rec = log_lines(DnsQuery="iplog.example")[-1]
    eq(rec["DvcAction"], "Allowed", "log-only address: DvcAction")
    eq(rec["ThreatField"], "DnsResponseName", "log-only address: ThreatField")
    eq(rec["DnsResponseName"], "198.51.100.99", "log-only address: the listed address")
    eq(rec["RuleName"], "198.51.100.99", "log-only address: RuleName (a /32: the address)")
    eq(rec["AdditionalFields"]["MatchedVia"], "ip", "log-only address: MatchedVia")


def test_reload_lists_and_unlists_an_address():
    """A cached answer whose address a reload lists is never served again; unlisted, it is."""
    serve("iplate.example", [a("iplate.example", "198.18.0.9")])
    for tcp in (False, True):
        eq(ask("iplate.example", tcp=tcp).addresses(), ["198.18.0.9"], "not listed yet")
    h.write_file(S["list"], BLOCKLIST + IP_LISTED_LATER)
    S["daemon"].signal(signal.SIGHUP)
    h.wait_until(lambda: ask("iplate.example").addresses() == ["0.0.0.0"], 8, interval=0.1,
                 what="iplate.example sinkholed after the reload")
    before = S["up"].queries
    for tcp in (False, True):
        expect_ip_blocked("iplate.example", h.T_A, tcp, "198.18.0.9", "198.18.0.0/15", None)
    eq(S["up"].queries, before, "the cached answer was checked, not fetched again")
    h.write_file(S["list"], BLOCKLIST)
    S["daemon"].signal(signal.SIGHUP)
    h.wait_until(lambda: ask("iplate.example").addresses() == ["198.18.0.9"], 8, interval=0.1,
                 what="iplate.example relayed again after the reload")
    eq(ask("iplate.example", tcp=True).addresses(), ["198.18.0.9"], "unlisted, over TCP")


def test_inspection_off():
    """sinkhole.inspect_cname: false relays the cloaked answer, inspect_ip: false the answer
    with a listed address (a second daemon)."""
    port = h.free_port()
    cfg = h.write_config(env.tmp, port, [S["up"].port], name="off.yaml", block_log="off.jsonl",
                         extra="")
    text = cfg.read_text().replace("  min_confidence: 0\n",
                                   "  min_confidence: 0\n  inspect_cname: false\n"
                                   "  inspect_ip: false\n")
    cfg.write_text(text)
    env.start_daemon(cfg, port, name="sinkholed-off")
    _, m = h.query(port, "one.example", h.T_A)
    eq(m.addresses(), ["192.0.2.66"], "the cloaked answer, inspection off")
    _, m = h.query(port, "u.ip4.example", h.T_A)
    eq(m.addresses(), ["203.0.113.5"], "a listed address relayed, inspection off")


TESTS = [
    test_authoritative_upstream_relayed_as_recursive,
    test_notimp_has_no_ra_ad_cd,
    test_sinkhole_answer_flags,
    test_cname_chains_to_listed_name,
    test_dname_and_loop,
    test_clean_chain_and_allow_and_log_only,
    test_qname_hit_says_qname,
    test_reload_lists_and_unlists_a_target,
    test_ip_indicators,
    test_ip_allow_and_log_only,
    test_reload_lists_and_unlists_an_address,
    test_inspection_off,
]

if __name__ == "__main__":
    try:
        h.run_tests(TESTS, env, setup)
    finally:
        if "up" in S:
            S["up"].close()
