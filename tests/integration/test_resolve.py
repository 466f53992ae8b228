#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Sinkholing and forwarding end to end (DESIGN.md sections 4-6): the real daemon on
loopback, ldns-testns as its upstream, dig and raw packets as clients, over UDP and TCP."""

import os
import re
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import eq, check  # noqa: E402

TTL = 77  # a sinkhole TTL no upstream answer in the test zone uses

BLOCKLIST = """\
allow:
  - ok.blocked.example.org
block:
  - malware: NanoCore RAT
    threat_type: botnet_cc
    source: ThreatFox
    confidence: 75
    domains:
      - { domain: www.mobile1.com, first_seen: 2026-05-27 }
      - moocow.my
      - evil.test
  - domain: blocked.example.org
    threat_type: phishing
  - domain: monitored.example.org
    threat_type: phishing
    source: TestFeed
    action: log
"""

env = h.Env()
S = {}  # ports and paths filled in by setup()


def setup():
    _, S["up"] = env.start_upstream()
    h.write_file(env.path("blocklist.yaml"), BLOCKLIST)
    S["port"] = h.free_port()
    cfg = h.write_config(env.tmp, S["port"], [S["up"]], ttl=TTL)
    S["log"] = env.path("blocked.jsonl")
    S["daemon"] = env.start_daemon(cfg, S["port"])
    # A second instance whose access list excludes loopback clients.
    S["port2"] = h.free_port()
    cfg2 = h.write_config(env.tmp, S["port2"], [S["up"]], name="refusing.yaml",
                          allow=["10.0.0.0/8"], block_log="refusing.jsonl")
    env.start_daemon(cfg2, S["port2"], name="sinkholed-refusing")


def dig(name, qtype="A", **kw):
    return h.dig(S["port"], name, qtype, **kw)


def expect_sinkhole_answer(r, owner, rtype, addr, what):
    eq(r.status, "NOERROR", f"{what}: status")
    eq(r.flags & {"qr", "rd", "ra", "aa", "ad", "tc"}, {"qr", "rd", "ra"}, f"{what}: flags")
    eq(r.answer, [[owner, str(TTL), "IN", rtype, addr]], f"{what}: answer section")


# --- sinkholing -------------------------------------------------------------------------

def test_blocked_a_udp_and_tcp():
    for tcp in (False, True):
        r = dig("www.mobile1.com", tcp=tcp, edns=False)
        expect_sinkhole_answer(r, "www.mobile1.com.", "A", "0.0.0.0", f"A tcp={tcp}")


def test_blocked_aaaa_udp_and_tcp():
    for tcp in (False, True):
        r = dig("moocow.my", "AAAA", tcp=tcp, edns=False)
        expect_sinkhole_answer(r, "moocow.my.", "AAAA", "::", f"AAAA tcp={tcp}")


def test_blocked_other_type_is_nodata_with_soa():
    for tcp in (False, True):
        r = dig("x.blocked.example.org", "MX", tcp=tcp, edns=False)
        eq(r.status, "NOERROR", "MX status")
        eq(r.answer, [], "MX answer section")
        eq(len(r.authority), 1, "MX authority RR count")
        soa = r.authority[0]
        # RFC 2308: the SOA's TTL and MINIMUM are the sinkhole ttl; owner is the listed domain.
        eq((soa[0], soa[1], soa[3], soa[-1]), ("blocked.example.org.", str(TTL), "SOA", str(TTL)),
           "SOA owner, TTL, type, MINIMUM")


def test_subdomain_blocked():
    r = dig("a.b.c.moocow.my", edns=False)
    expect_sinkhole_answer(r, "a.b.c.moocow.my.", "A", "0.0.0.0", "subdomain")


def test_partial_label_not_blocked():
    # evil.test is listed; notevil.test is a different name and gets the upstream's answer.
    r = dig("notevil.test", edns=False)
    eq(r.status, "NOERROR", "status")
    eq(r.rdatas("A"), ["192.0.2.66"], "notevil.test answer")


def test_mixed_case_echoed_and_blocked():
    r = dig("WwW.MoBiLe1.CoM", edns=False)
    eq(r.question, [["WwW.MoBiLe1.CoM.", "IN", "A"]], "question echoed with the client's case")
    eq(r.rdatas("A"), ["0.0.0.0"], "answer")
    # Raw check too: the question bytes are echoed exactly.
    q, m = h.query(S["port"], "WwW.MoBiLe1.CoM", h.T_A, qid=0x4242)
    check(m is not None, "no answer to a raw mixed-case query")
    qlen = len(q) - 12
    eq(m.raw[12:12 + qlen], q[12:], "question bytes")
    eq(m.id, 0x4242, "ID")


def test_no_ad_on_sinkhole_even_if_asked():
    r = dig("www.mobile1.com", extra=("+adflag",))
    check("ad" not in r.flags, f"AD set on a synthesized answer: {r.flags}")
    check("aa" not in r.flags, f"AA set on a synthesized answer: {r.flags}")


def test_edns_blocked_has_opt_and_ede_15():
    for tcp in (False, True):
        r = dig("www.mobile1.com", tcp=tcp, extra=("+dnssec",))
        check(r.edns is not None, f"no OPT in the answer (tcp={tcp}):\n{r.text}")
        eq(r.edns["udp"], 1232, "OPT UDP size")
        eq(r.edns["version"], 0, "EDNS version")
        check("do" in r.edns["flags"], "DO bit not echoed")
        eq(r.ede, [15], "EDE codes shown by dig")
        check("EDE: 15 (Blocked)" in r.text, f"dig does not show 'EDE: 15 (Blocked)':\n{r.text}")
        eq(r.rdatas("A"), ["0.0.0.0"], "answer")
    # Raw: exactly one OPT, EDE option code 15 with INFO-CODE 15.
    _, m = h.query(S["port"], "moocow.my", h.T_A, edns={"udp": 4096})
    eq(m.n_opt, 1, "OPT records")
    eq(m.ede_codes(), [h.EDE_BLOCKED], "EDE info codes")
    eq(m.opt["do"], False, "DO bit when the query had none")


def test_no_opt_without_edns():
    _, m = h.query(S["port"], "moocow.my", h.T_A)
    eq(m.n_opt, 0, "OPT records in the answer to a query without EDNS")


# --- forwarding -------------------------------------------------------------------------

def test_allowed_name_relayed_exactly():
    for name, qtype in (("www.example.org", "A"), ("www.example.org", "AAAA"),
                        ("mx.example.org", "MX"), ("example.org", "A")):
        for tcp in (False, True):
            direct = h.dig(S["up"], name, qtype, edns=False)
            via = dig(name, qtype, tcp=tcp, edns=False)
            check(direct.answer, f"upstream gave no answer for {name} {qtype}")
            eq(via.status, direct.status, f"{name} {qtype} tcp={tcp} status")
            eq(via.answer, direct.answer, f"{name} {qtype} tcp={tcp} answer section")
            check("ra" in via.flags and "qr" in via.flags, f"flags {via.flags}")


def test_mixed_case_forwarded_question_restored():
    q, m = h.query(S["port"], "WWW.Example.ORG", h.T_A, qid=0x0bad)
    check(m is not None, "no answer")
    eq(m.id, 0x0bad, "ID restored")
    eq(m.raw[12:len(q)], q[12:], "question bytes restored to the client's case")
    eq(m.addresses(), ["192.0.2.11"], "answer")


def test_nxdomain_passed_through():
    for tcp in (False, True):
        direct = h.dig(S["up"], "nx.example.org", edns=False)
        via = dig("nx.example.org", tcp=tcp, edns=False)
        eq(via.status, "NXDOMAIN", f"status tcp={tcp}")
        eq(via.authority, direct.authority, f"authority tcp={tcp}")


def test_allow_entry_overrides_blocked_parent():
    r = dig("ok.blocked.example.org", edns=False)
    eq(r.status, "NOERROR", "status")
    eq(r.rdatas("A"), ["192.0.2.20"], "allowed child of a blocked name is forwarded")
    r = dig("other.blocked.example.org", edns=False)
    eq(r.rdatas("A"), ["0.0.0.0"], "sibling still blocked")


def test_log_action_answers_normally_and_logs_allowed():
    q, m = h.query(S["port"], "monitored.example.org", h.T_A, qid=0x10c0)
    check(m is not None, "no answer")
    eq(m.rcode, h.NOERROR, "rcode")
    eq(m.addresses(), ["192.0.2.30"], "the upstream's answer")
    rec = h.wait_log_line(S["log"], DnsQuery="monitored.example.org", TransactionIdHex="10C0")
    eq(rec["DvcAction"], "Allowed", "DvcAction")
    eq(rec["DnsResponseCode"], 0, "DnsResponseCode")
    eq(rec["DnsResponseName"], "192.0.2.30", "DnsResponseName (the upstream's)")
    eq(rec["ThreatCategory"], "phishing", "ThreatCategory")
    eq(rec["RuleName"], "monitored.example.org", "RuleName")


# --- truncation -------------------------------------------------------------------------

def test_large_answer_truncated_over_udp_without_edns():
    r = dig("big.example.org", "TXT", edns=False, extra=("+ignore",))
    check("tc" in r.flags, f"TC not set on a ~700-byte answer to a 512-byte client:\n{r.text}")
    _, m = h.query(S["port"], "big.example.org", h.T_TXT)
    check(m is not None and m.tc, "raw: TC not set")
    check(len(m.raw) <= 512, f"UDP answer of {len(m.raw)} bytes exceeds 512")
    eq(m.question, [("big.example.org.", h.T_TXT, 1)], "question kept when truncated")


def test_large_answer_complete_over_tcp():
    r = dig("big.example.org", "TXT", tcp=True, edns=False)
    eq(r.status, "NOERROR", "status")
    check("tc" not in r.flags, "TC set over TCP")
    eq(len(r.rdatas("TXT")), 3, "TXT records over TCP")
    eq(r.answer, h.dig(S["up"], "big.example.org", "TXT", tcp=True, edns=False).answer,
       "answer section equal to the upstream's")


def test_large_answer_fits_advertised_edns_size():
    _, m = h.query(S["port"], "big.example.org", h.T_TXT, edns={"udp": 1232})
    check(m is not None and not m.tc, "TC set although the answer fits 1232 bytes")
    eq(m.counts[1], 3, "answer count")
    _, m = h.query(S["port"], "big.example.org", h.T_TXT, edns={"udp": 600})
    check(m is not None and m.tc, "TC not set for a 600-byte client limit")
    check(len(m.raw) <= 600, f"answer of {len(m.raw)} bytes exceeds the advertised 600")
    eq(m.n_opt, 1, "OPT kept in the truncated answer")


def test_udp_answer_capped_at_1232():
    # The client advertises 4096, but sinkholed never sends more than 1232 over UDP.
    _, m = h.query(S["port"], "huge.example.org", h.T_TXT, edns={"udp": 4096})
    check(m is not None, "no answer")
    check(m.tc, f"TC not set on a {len(m.raw)}-byte answer (upstream's is ~1700)")
    check(len(m.raw) <= 1232, f"UDP answer of {len(m.raw)} bytes exceeds 1232")
    _, m = h.query(S["port"], "huge.example.org", h.T_TXT, tcp=True, edns={"udp": 4096})
    check(m is not None and not m.tc, "TCP answer missing or truncated")
    eq(m.counts[1], 8, "TXT records over TCP")


# --- block log --------------------------------------------------------------------------

def test_block_log_line_udp_subdomain():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    with sock:
        pkt = h.build_query("Deep.Sub.MooCow.MY", h.T_AAAA, qid=0x1A2B)
        check(h.udp_exchange(S["port"], pkt, sock=sock), "no answer")
        src_port = sock.getsockname()[1]
    rec = h.wait_log_line(S["log"], DnsQuery="deep.sub.moocow.my", TransactionIdHex="1A2B")
    want = {
        "EventCount": 1, "EventType": "Query", "EventProduct": "sinkholed",
        "EventSchema": "Dns", "EventSchemaVersion": "0.1.7", "Dvc": "test-dvc",
        "DvcAction": "Blocked", "SrcIpAddr": "127.0.0.1", "SrcPortNumber": src_port,
        "NetworkProtocol": "UDP", "NetworkProtocolVersion": "IPv4",
        "DnsQueryType": 28, "DnsQueryTypeName": "AAAA", "DnsResponseCode": 0,
        "DnsResponseName": "::", "EventResultDetails": "NOERROR",
        "RuleName": "moocow.my", "ThreatField": "Domain",
        "ThreatName": "NanoCore RAT", "ThreatCategory": "botnet_cc", "ThreatConfidence": 75,
    }
    for k, v in want.items():
        eq(rec.get(k), v, f"block log field {k}")
    check("ThreatFirstReportedTime" not in rec, "first_seen absent, field must be omitted")
    eq(rec["AdditionalFields"].get("ListSource"), "ThreatFox", "AdditionalFields.ListSource")
    eq(rec["AdditionalFields"].get("ListFile"), "blocklist.yaml", "AdditionalFields.ListFile")
    check(re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$", rec.get("TimeGenerated", "")),
          f"TimeGenerated {rec.get('TimeGenerated')!r}")


def test_block_log_line_tcp_first_seen():
    _, m = h.query(S["port"], "WWW.mobile1.com", h.T_A, tcp=True, qid=0xBEEF)
    check(m is not None, "no answer over TCP")
    rec = h.wait_log_line(S["log"], DnsQuery="www.mobile1.com", TransactionIdHex="BEEF")
    eq(rec["NetworkProtocol"], "TCP", "NetworkProtocol")
    eq(rec["DvcAction"], "Blocked", "DvcAction")
    eq(rec["DnsQueryTypeName"], "A", "DnsQueryTypeName")
    eq(rec["DnsResponseName"], "0.0.0.0", "DnsResponseName")
    eq(rec["RuleName"], "www.mobile1.com", "RuleName")
    eq(rec["ThreatFirstReportedTime"], "2026-05-27T00:00:00Z", "ThreatFirstReportedTime")


def test_forwarded_names_not_logged():
    h.query(S["port"], "www.example.org", h.T_A, qid=0x7777)
    h.query(S["port"], "moocow.my", h.T_A, qid=0x7778)  # logged after the first one
    h.wait_log_line(S["log"], DnsQuery="moocow.my", TransactionIdHex="7778")
    found = [r for r in h.read_log(S["log"]) if r.get("DnsQuery") == "www.example.org"]
    eq(found, [], "block log lines for a name that is not listed")


def test_ipv6_listener():
    if not h.ipv6_loopback_ok():
        print("     (no IPv6 loopback: skipped)")
        return
    r = h.dig(S["port"], "moocow.my", host="::1", edns=False)
    expect_sinkhole_answer(r, "moocow.my.", "A", "0.0.0.0", "over ::1")
    r = h.dig(S["port"], "www.example.org", host="::1", tcp=True, edns=False)
    eq(r.rdatas("A"), ["192.0.2.11"], "forwarded over ::1 TCP")
    data = h.udp_exchange(S["port"], h.build_query("moocow.my", h.T_A, qid=0x0666), host="::1")
    check(data is not None, "no raw answer over ::1")
    rec = h.wait_log_line(S["log"], DnsQuery="moocow.my", TransactionIdHex="0666")
    eq((rec["SrcIpAddr"], rec["NetworkProtocolVersion"]), ("::1", "IPv6"), "IPv6 client fields")


# --- UDP I/O cost ------------------------------------------------------------------------

def test_one_udp_read_per_wakeup():
    """A wake-up that brings one query costs one recvmmsg: the read libuv would make after a
    short batch, only to get EAGAIN, is skipped (issue #3). The daemon runs under strace,
    counting its receive calls while 200 queries arrive one at a time."""
    if h.shutil.which("strace") is None:
        raise RuntimeError("strace not found: apt-get install strace")
    if h.subprocess.run(["strace", "-qq", "-e", "trace=none", "true"],
                        capture_output=True).returncode != 0:
        print("     (ptrace not permitted here: skipped)")
        return
    port = h.free_port()
    cfg = h.write_config(env.tmp, port, [S["up"]], name="strace.yaml", block_log="strace.jsonl",
                         ipv6_listen=False)
    trace = env.path("strace.out")
    proc = h.Proc("sinkholed-strace", ["strace", "-f", "-qq", "-e", "trace=recvmmsg", "-o",
                                       trace, h.sinkholed_bin(), "-c", cfg], env.tmp,
                  # LeakSanitizer cannot run under ptrace; the other tests check for leaks.
                  env=dict(h.os.environ, ASAN_OPTIONS=h.os.environ.get("ASAN_OPTIONS", "") +
                           ":detect_leaks=0"))
    env.procs.append(proc)
    env.daemons.append(proc)

    def reads():
        return trace.read_text(errors="replace").count("recvmmsg(")

    def daemon_pid():  # strace's child
        try:
            kids = h.Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
        except OSError:
            return None
        return int(kids[0]) if kids else None

    n = 200
    try:
        h.wait_answering(port, proc, timeout=10.0 * h.SLOW, tcp=False)
        before = reads()
        with h.socket.socket(h.socket.AF_INET, h.socket.SOCK_DGRAM) as sock:
            for i in range(n):
                data = h.udp_exchange(port, h.build_query(f"q{i}.evil.test", h.T_A), sock=sock)
                check(data is not None and h.Msg(data).rcode == h.NOERROR, f"answer to query {i}")
        calls = reads() - before
    finally:
        # Stop the daemon itself: a stopped strace would detach and leave it running. strace
        # then exits with the daemon's exit code.
        pid = daemon_pid()
        if pid:
            h.os.kill(pid, h.signal.SIGTERM)
    # One per query, with a little slack for a spurious wake-up; 2 per query before the fix.
    check(n <= calls <= n + n // 10, f"{calls} recvmmsg calls for {n} queries sent one at a "
          "time (want about one each)")
    eq(proc.wait(10 * h.SLOW), 0, "exit code under strace")


# --- access control ---------------------------------------------------------------------

def test_client_outside_access_list_refused():
    for tcp in (False, True):
        r = h.dig(S["port2"], "www.example.org", tcp=tcp, edns=False)
        eq(r.status, "REFUSED", f"status for a client outside access.allow (tcp={tcp})")
        eq(r.answer, [], "no answer records")
        r = h.dig(S["port2"], "www.mobile1.com", tcp=tcp, edns=False)
        eq(r.status, "REFUSED", f"status for a blocked name (tcp={tcp})")


if __name__ == "__main__":
    h.run_tests([v for k, v in list(globals().items()) if k.startswith("test_")],
                env=env, setup=setup)
