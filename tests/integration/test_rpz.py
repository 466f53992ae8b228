#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A Response Policy Zone loaded through the config (a list whose path ends in .rpz): the real
daemon on loopback, queried over UDP. Each trigger and action answers as draft-vixie-dnsop-
dns-rpz says (exact and wildcard owners, NXDOMAIN, NODATA, passthru, drop, local data), and
each blocked lookup, the dropped one included, is one block-log line."""

import os
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import eq, check  # noqa: E402

TTL = 77

ZONE = """\
$TTL 300
$ORIGIN rpz.test.
@               SOA   ns.rpz.test. hostmaster.rpz.test. 1 3600 600 86400 60
                NS    ns.rpz.test.
exact.evil.test       CNAME .
*.below.evil.test     CNAME .
nodata.evil.test      CNAME *.
*.example.org         CNAME .
www.example.org       CNAME rpz-passthru.
drop.evil.test        CNAME rpz-drop.
garden.evil.test      A     192.0.2.99
                      AAAA  2001:db8::99
v4.evil.test          A     192.0.2.98
32.1.2.0.192.rpz-ip   CNAME .
"""

env = h.Env()
S = {}


def setup():
    _, S["up"] = env.start_upstream()
    h.write_file(env.path("policy.rpz"), ZONE)
    S["port"] = h.free_port()
    cfg = h.write_config(env.tmp, S["port"], [S["up"]], blocklists=["policy.rpz"], ttl=TTL)
    S["log"] = env.path("blocked.jsonl")
    env.start_daemon(cfg, S["port"])


def dig(name, qtype="A"):
    return h.dig(S["port"], name, qtype, edns=False)


def expect_negative(r, status, what):
    eq(r.status, status, f"{what}: status")
    eq(r.answer, [], f"{what}: answer section")
    eq([rr[3] for rr in r.authority], ["SOA"], f"{what}: the synthetic SOA")


def test_exact_trigger_matches_the_name_only():
    expect_negative(dig("exact.evil.test"), "NXDOMAIN", "exact trigger")
    # Its subdomains are not listed: forwarded (the upstream does not know them: REFUSED
    # or SERVFAIL, never our NXDOMAIN with an SOA).
    r = dig("a.exact.evil.test")
    check(not (r.status == "NXDOMAIN" and r.authority), f"subdomain answered by the policy: "
          f"{r.status} {r.authority}")


def test_wildcard_trigger_matches_subdomains_only():
    expect_negative(dig("a.b.below.evil.test"), "NXDOMAIN", "wildcard trigger")
    r = dig("below.evil.test")
    check(not (r.status == "NXDOMAIN" and r.authority), f"the wildcard's own name answered by "
          f"the policy: {r.status} {r.authority}")


def test_nodata():
    for qtype in ("A", "AAAA", "MX"):
        expect_negative(dig("nodata.evil.test", qtype), "NOERROR", f"NODATA {qtype}")


def test_passthru_wins_inside_a_blocked_subtree():
    r = dig("www.example.org")
    eq(r.status, "NOERROR", "passthru: status")
    eq(r.rdatas("A"), ["192.0.2.11"], "passthru: the upstream's answer")
    expect_negative(dig("mx.example.org", "MX"), "NXDOMAIN", "a sibling under *.example.org")


def test_drop_sends_nothing_and_logs():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    with sock:
        pkt = h.build_query("drop.evil.test", h.T_A, qid=0xD209)
        eq(h.udp_exchange(S["port"], pkt, timeout=1.0, sock=sock), None, "an answer to a drop")
    rec = h.wait_log_line(S["log"], DnsQuery="drop.evil.test", TransactionIdHex="D209")
    eq(rec.get("DvcAction"), "Blocked", "DvcAction")
    eq(rec.get("EventSubType"), "request", "EventSubType")
    check("DnsResponseCode" not in rec and "DnsResponseName" not in rec,
          f"response fields of a query never answered: {rec}")
    eq(rec.get("RuleName"), "drop.evil.test", "RuleName")
    eq(rec["AdditionalFields"].get("ListFile"), "policy.rpz", "ListFile")


def test_local_data():
    r = dig("garden.evil.test")
    eq(r.answer, [["garden.evil.test.", str(TTL), "IN", "A", "192.0.2.99"]], "local A")
    r = dig("garden.evil.test", "AAAA")
    eq(r.answer, [["garden.evil.test.", str(TTL), "IN", "AAAA", "2001:db8::99"]], "local AAAA")
    r = dig("v4.evil.test")
    eq(r.rdatas("A"), ["192.0.2.98"], "local A only")
    expect_negative(dig("v4.evil.test", "AAAA"), "NOERROR", "a type without local data")
    expect_negative(dig("garden.evil.test", "MX"), "NOERROR", "MX at a local-data trigger")


def test_block_log_reflects_the_answer():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    with sock:
        check(h.udp_exchange(S["port"], h.build_query("garden.evil.test", h.T_AAAA, qid=0x6A6A),
                             sock=sock), "no answer")
        check(h.udp_exchange(S["port"], h.build_query("x.below.evil.test", h.T_A, qid=0x6B6B),
                             sock=sock), "no answer")
    rec = h.wait_log_line(S["log"], DnsQuery="garden.evil.test", TransactionIdHex="6A6A")
    eq(rec.get("DnsResponseCode"), 0, "local data: DnsResponseCode")
    eq(rec.get("DnsResponseName"), "2001:db8::99", "local data: DnsResponseName")
    eq(rec.get("EventSubType"), "response", "EventSubType")
    rec = h.wait_log_line(S["log"], DnsQuery="x.below.evil.test", TransactionIdHex="6B6B")
    eq(rec.get("DnsResponseCode"), 3, "NXDOMAIN: DnsResponseCode")
    eq(rec.get("EventResultDetails"), "NXDOMAIN", "EventResultDetails")
    check("DnsResponseName" not in rec, "no address answered")
    eq(rec.get("RuleName"), "below.evil.test", "RuleName")


def test_rpz_ip_trigger_not_applied():
    # An rpz-ip trigger's owner is not a QNAME trigger: its name is forwarded like any other.
    r = dig("32.1.2.0.192.rpz-ip")
    check(not (r.status == "NXDOMAIN" and r.authority), "rpz-ip owner taken as a QNAME")


if __name__ == "__main__":
    h.run_tests([v for k, v in list(globals().items()) if k.startswith("test_")],
                env=env, setup=setup)
