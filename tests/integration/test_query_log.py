#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The query log and block-log aggregation, end to end with the real binary, dig and dnsperf
against a local upstream: query-log records of forwarded (DnsNetworkDuration,
DnsResponseName), cached and blocked queries; anonymized clients; excluded names; a sampled
share; the default matched: false leaving the blocked lookups to the block log (matched: true
keeping them); SIGUSR1 reopening the
query log; N identical blocked lookups within
block_log.aggregate_ms giving one record with EventCount N (and N records with
aggregate_ms: 0); and a short all-blocked flood from one client whose records account for
every query answered, with nothing dropped."""

import datetime
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bench"))
import harness as h  # noqa: E402
import parse_dnsperf  # noqa: E402
from harness import check, eq  # noqa: E402

env = h.Env()
S = {}

BLOCKLIST = """block:
  - malware: Beacon RAT
    threat_type: botnet_cc
    domains: [evil.test, bad.test]
"""
# The flood: well below what the machine gives, and short (a shared machine).
FLOOD_QPS = 1500 if h.WRAPPER else 4000
FLOOD_SECONDS = 3
N_SAME = 25


def start(name, query_log=None, aggregate_ms=None, http=False, extra=""):
    """A daemon in its own dir: (dns port, http port or None, dir)."""
    port = h.free_port()
    hport = h.free_port(ipv6=False) if http else None
    d = env.path(name)
    d.mkdir()
    h.write_file(d / "blocklist.yaml", BLOCKLIST)
    extra += f"query_log: {query_log}\n" if query_log else ""
    if http:
        extra += f'http:\n  listen: "127.0.0.1:{hport}"\n'
    cfg = h.write_config(d, port, [S["up"]], extra=extra, aggregate_ms=aggregate_ms)
    S[name + "_proc"] = env.start_daemon(cfg, port, name=name)
    return port, hport, d


def setup():
    _, S["up"] = env.start_upstream()
    S["port"], S["hport"], S["dir"] = start("main", "{path: queries.jsonl, matched: true}", http=True)
    S["anon_port"], _, S["anon_dir"] = start(
        "anon", "{path: queries.jsonl, matched: true, anonymize_client: true, "
        "exclude: [www.example.org]}")
    S["sampled_port"], _, S["sampled_dir"] = start("sampled",
                                                   "{path: queries.jsonl, sample: 0.5}")
    S["unmatched_port"], _, S["unmatched_dir"] = start("unmatched",
                                                       "{path: queries.jsonl}")
    S["noagg_port"], _, S["noagg_dir"] = start("noagg", aggregate_ms=0)
    # A window of a minute: only a reload or the stop writes its pending records. Only
    # SIGHUP reloads it (not the file watch, whose reload could come at any time).
    S["long_port"], _, S["long_dir"] = start("long", aggregate_ms=60000, extra="watch: false\n")


def wait_records(path, pred, n, what, timeout=10):
    """At least n records of the log at path for which pred holds (aggregation flushes a
    record up to about 1.25 s after its first lookup)."""
    return h.wait_until(lambda: (lambda r: r if len(r) >= n else None)(
        [x for x in h.read_log(path) if pred(x)]), timeout, what=what)


def metrics(hport):
    with urllib.request.urlopen(f"http://127.0.0.1:{hport}/metrics", timeout=5) as r:
        text = r.read().decode()
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            k, v = line.rsplit(" ", 1)
            out[k] = float(v)
    return out


def when(ts):
    return datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


def test_forwarded_cached_blocked():
    port, qlog = S["port"], S["dir"] / "queries.jsonl"
    r = h.dig(port, "www.example.org", "A")
    eq(r.status, "NOERROR", "forwarded")
    r = h.dig(port, "www.example.org", "A")
    eq(r.status, "NOERROR", "cached")
    r = h.dig(port, "www.evil.test", "A")
    eq(r.rdatas("A"), ["0.0.0.0"], "blocked")
    recs = wait_records(qlog, lambda x: x["DnsQuery"] in ("www.example.org", "www.evil.test"),
                        3, "3 query-log records")
    fwd, cached, blocked = recs[:3]
    eq((fwd["DvcAction"], fwd["DvcOriginalAction"], fwd["EventOriginalType"],
        fwd["DnsResponseName"], fwd["EventResultDetails"], fwd["EventCount"]),
       ("Allowed", "forward", "query", "192.0.2.11", "NOERROR", 1), "forwarded record")
    check(isinstance(fwd["DnsNetworkDuration"], int) and 0 <= fwd["DnsNetworkDuration"] < 1500,
          f"DnsNetworkDuration of a forwarded query: {fwd}")
    check("RuleName" not in fwd and "ThreatField" not in fwd, f"threat fields: {fwd}")
    eq((cached["DvcAction"], cached["DvcOriginalAction"], cached["DnsResponseName"]),
       ("Allowed", "cache", "192.0.2.11"), "cached record")
    check("DnsNetworkDuration" not in cached, f"a cached answer has no duration: {cached}")
    eq((blocked["DvcAction"], blocked["DnsQuery"], blocked["RuleName"], blocked["ThreatName"],
        blocked["DnsResponseName"], blocked["EventCount"]),
       ("Blocked", "www.evil.test", "evil.test", "Beacon RAT", "0.0.0.0", 1), "blocked record")
    eq(blocked["SrcIpAddr"], "127.0.0.1", "client address (not anonymized by default)")
    # The block log has the blocked lookup, not the others.
    bl = wait_records(S["dir"] / "blocked.jsonl", lambda x: x["DnsQuery"] == "www.evil.test",
                      1, "the block-log record")
    eq(bl[0]["DvcAction"], "Blocked", "block log")
    check(not [x for x in h.read_log(S["dir"] / "blocked.jsonl")
               if x["DnsQuery"] == "www.example.org"], "forwarded names in the block log")


def test_anonymize_and_exclude():
    port, qlog = S["anon_port"], S["anon_dir"] / "queries.jsonl"
    eq(h.dig(port, "www.example.org", "A").status, "NOERROR", "excluded name answered")
    eq(h.dig(port, "bad.test", "A").rdatas("A"), ["0.0.0.0"], "blocked")
    six = h.ipv6_loopback_ok()
    if six:
        eq(h.dig(port, "www.evil.test", "AAAA", host="::1").status, "NOERROR", "over IPv6")
    eq(h.dig(port, "example.org", "A").status, "NOERROR", "the excluded name's parent")
    # One worker: the records are in order, so the last one's arrival means all are written.
    recs = wait_records(qlog, lambda x: x["DnsQuery"] == "example.org", 1, "example.org")
    recs = h.read_log(qlog)
    names = [x["DnsQuery"] for x in recs]
    check("www.example.org" not in names, f"an excluded name was logged: {names}")
    eq(by_name(recs, "bad.test")["SrcIpAddr"], "127.0.0.0", "IPv4 client cut to /24")
    eq(by_name(recs, "example.org")["Src"], "127.0.0.0", "Src too")
    if six:
        eq(by_name(recs, "www.evil.test")["SrcIpAddr"], "::", "IPv6 client cut to /48")
    # The block log keeps the whole address: it is the evidence.
    bl = wait_records(S["anon_dir"] / "blocked.jsonl", lambda x: x["DnsQuery"] == "bad.test", 1,
                      "the block-log record")
    eq(bl[0]["SrcIpAddr"], "127.0.0.1", "block log client")


def by_name(recs, name):
    found = [x for x in recs if x["DnsQuery"] == name]
    check(found, f"no record of {name}")
    return found[0]


def test_sample():
    port, qlog = S["sampled_port"], S["sampled_dir"] / "queries.jsonl"
    n = 200
    for _ in range(n):  # a fresh random ID each: the sample's hash covers it
        check(h.query(port, "example.org", h.T_A) is not None, "answered")

    def logged():
        return len([x for x in h.read_log(qlog) if x["DnsQuery"] == "example.org"])
    # The writer wakes up every 200 ms when idle: wait for it, then count.
    try:
        h.wait_until(lambda: 60 <= logged() <= 140, 5, what="a share near 0.5")
    except AssertionError:
        raise AssertionError(f"sample 0.5 of {n} queries logged {logged()}")
    time.sleep(0.5)
    check(60 <= logged() <= 140, f"sample 0.5 of {n} queries logged {logged()}")


def test_sigusr1_reopens_query_log():
    port, d = S["port"], S["dir"]
    qlog = d / "queries.jsonl"
    wait_records(qlog, lambda x: True, 1, "a record before the rotation")
    os.rename(qlog, d / "queries.jsonl.1")
    os.rename(d / "blocked.jsonl", d / "blocked.jsonl.1")
    S["main_proc"].signal(signal.SIGUSR1)
    h.wait_until(lambda: qlog.exists(), 5, what="the query log reopened")
    eq(h.dig(port, "example.org", "A").status, "NOERROR", "after the rotation")
    rec = wait_records(qlog, lambda x: x["DnsQuery"] == "example.org", 1, "the new file")[0]
    eq(rec["DvcAction"], "Allowed", "record in the new file")
    check(not [x for x in h.read_log(d / "queries.jsonl.1") if x["TimeGenerated"] >=
               rec["TimeGenerated"] and x["DnsQuery"] == "example.org"],
          "the record went to the old file")
    h.wait_until(lambda: "reopening the block log and the query log" in
                 S["main_proc"].stderr(), 5, what="the reopen in the diagnostic log")


def test_identical_lookups_aggregate():
    port, blog = S["port"], S["dir"] / "blocked.jsonl"
    t0 = time.time()
    for _ in range(N_SAME):
        check(h.query(port, "beacon.bad.test", h.T_A) is not None, "answered")
    t1 = time.time()
    check(t1 - t0 < 0.9, f"{N_SAME} lookups took {t1 - t0:.2f} s, more than the window")
    recs = wait_records(blog, lambda x: x["DnsQuery"] == "beacon.bad.test", 1, "the record")
    time.sleep(1.5)  # nothing else comes for these lookups
    recs = [x for x in h.read_log(blog) if x["DnsQuery"] == "beacon.bad.test"]
    eq([x["EventCount"] for x in recs], [N_SAME], "one record for the identical lookups")
    r = recs[0]
    start, end = when(r["EventStartTime"]), when(r["EventEndTime"])
    check(t0 - 0.05 <= start < end <= t1 + 0.05,
          f"EventStartTime/EventEndTime {r['EventStartTime']} {r['EventEndTime']} vs the "
          f"lookups from {t0:.3f} to {t1:.3f}")
    eq(r["TimeGenerated"], r["EventStartTime"], "TimeGenerated: the first lookup")
    # The query log has every one of them.
    q = [x for x in h.read_log(S["dir"] / "queries.jsonl") if x["DnsQuery"] == "beacon.bad.test"]
    eq((len(q), {x["EventCount"] for x in q}), (N_SAME, {1}), "query-log records")
    # block_log.aggregate_ms: 0 gives a record per lookup.
    noagg = S["noagg_dir"] / "blocked.jsonl"
    for _ in range(N_SAME):
        check(h.query(S["noagg_port"], "beacon.bad.test", h.T_A) is not None, "answered")
    recs = wait_records(noagg, lambda x: x["DnsQuery"] == "beacon.bad.test", N_SAME,
                        f"{N_SAME} records")
    eq({x["EventCount"] for x in recs}, {1}, "EventCount without aggregation")


def test_flood_is_accounted():
    """All-blocked dnsperf load from one client: the block log's EventCount sums to the
    queries answered, and neither log drops a record."""
    if shutil.which("dnsperf") is None:
        raise AssertionError("dnsperf not found: apt-get install dnsperf (sh tests/deps.sh test)")
    port, hport, d = S["port"], S["hport"], S["dir"]
    name = "flood.evil.test"
    qfile = env.path("flood.txt")
    qfile.write_text(f"{name} A\n")
    out = env.path("flood.out")
    drops0 = h.udp_drops(port)
    with open(out, "w") as f:
        subprocess.run(["dnsperf", "-s", "127.0.0.1", "-p", str(port), "-d", str(qfile),
                        "-c", "1", "-q", "500", "-Q", str(FLOOD_QPS), "-l", str(FLOOD_SECONDS),
                        "-t", "3"], stdout=f, stderr=subprocess.STDOUT,
                       stdin=subprocess.DEVNULL, timeout=FLOOD_SECONDS + 30, check=False)
    st = parse_dnsperf.parse(out.read_text(errors="replace").splitlines())
    check("sent" in st, f"no dnsperf statistics: {out.read_text()[-300:]!r}")
    sent, answered = int(st["sent"]), int(st["completed"])
    received = sent - (h.udp_drops(port) - drops0)
    check(sent >= 0.5 * FLOOD_QPS * FLOOD_SECONDS, f"dnsperf sent only {sent}")

    def total():
        recs = [x for x in h.read_log(d / "blocked.jsonl") if x["DnsQuery"] == name]
        return recs if sum(x["EventCount"] for x in recs) >= received else None
    recs = h.wait_until(total, 10, what=f"the block log's EventCount to reach {received}")
    events = sum(x["EventCount"] for x in recs)
    eq(events, received, "sum of EventCount vs queries the daemon received (all answered)")
    check(answered <= events, f"dnsperf got {answered} answers, the log has {events}")
    check(len(recs) <= 2 * FLOOD_SECONDS + 2,
          f"{len(recs)} records for {events} lookups of one client (aggregation)")
    m = metrics(hport)
    eq(m.get('sinkholed_blocklog_records_total{result="dropped"}'), 0.0, "block log dropped")
    eq(m.get("sinkholed_blocklog_dropped_events_total"), 0.0, "block log dropped events")
    eq(m.get('sinkholed_querylog_records_total{result="dropped"}'), 0.0, "query log dropped")
    check(m.get("sinkholed_blocklog_aggregated_total", 0) >= events - len(recs),
          f"aggregated lookups: {m.get('sinkholed_blocklog_aggregated_total')}")
    q = h.wait_until(lambda: (lambda r: r if len(r) >= received else None)(
        [x for x in h.read_log(d / "queries.jsonl") if x["DnsQuery"] == name]), 10,
        what=f"{received} query-log records")
    eq(len(q), received, "query-log records of the flood")
    S["main_proc"].signal(signal.SIGUSR1)
    h.wait_until(lambda: "blocklog_dropped_events 0, querylog_written" in
                 S["main_proc"].stderr(), 5, what="the stats line")
    print(f"     dnsperf sent {sent}, answered {answered}; {len(recs)} block-log records "
          f"for {events} lookups", flush=True)


def test_reload_and_stop_flush_pending_aggregates():
    """Pending records borrow their entry from the lists in use: a reload writes them (with
    the entry as it was) before those lists are freed, and the stop writes the rest."""
    port, d = S["long_port"], S["long_dir"]
    blog = d / "blocked.jsonl"
    for _ in range(5):
        check(h.query(port, "pending.bad.test", h.T_A) is not None, "answered")
    time.sleep(1.5)
    eq([x for x in h.read_log(blog) if x["DnsQuery"] == "pending.bad.test"], [],
       "records written within the minute's window")
    mark = len(S["long_proc"].stderr())
    h.write_file(d / "blocklist.yaml", BLOCKLIST.replace("Beacon RAT", "Renamed RAT"))
    S["long_proc"].signal(signal.SIGHUP)
    rec = wait_records(blog, lambda x: x["DnsQuery"] == "pending.bad.test", 1,
                       "the pending record, written by the reload")
    eq([(x["EventCount"], x["ThreatName"]) for x in rec], [(5, "Beacon RAT")],
       "the pending record: its 5 lookups, the entry as it was")
    h.wait_until(lambda: "reloaded" in S["long_proc"].stderr()[mark:], 10, what="the reload")
    for _ in range(3):
        check(h.query(port, "pending.bad.test", h.T_A) is not None, "answered")
    S["long_proc"].signal(signal.SIGTERM)
    S["long_proc"].wait(10)
    recs = [x for x in h.read_log(blog) if x["DnsQuery"] == "pending.bad.test"]
    eq([(x["EventCount"], x["ThreatName"]) for x in recs], [(5, "Beacon RAT"), (3, "Renamed RAT")],
       "after the stop: the lookups since the reload, with the new entry")


def test_matched_false():
    """matched: false (the default): the lookups the block log has stay out of the query log."""
    port, d = S["unmatched_port"], S["unmatched_dir"]
    eq(h.dig(port, "www.evil.test", "A").rdatas("A"), ["0.0.0.0"], "blocked")
    eq(h.dig(port, "www.example.org", "A").status, "NOERROR", "forwarded")
    # One worker writes in order: the blocked lookup's record would come before this one.
    wait_records(d / "queries.jsonl", lambda x: x["DnsQuery"] == "www.example.org", 1,
                 "the forwarded lookup in the query log")
    wait_records(d / "blocked.jsonl", lambda x: x["DnsQuery"] == "www.evil.test", 1,
                 "the blocked lookup in the block log")
    check(not [x for x in h.read_log(d / "queries.jsonl") if x["DnsQuery"] == "www.evil.test"],
          "a blocked lookup in the query log by default (matched: false)")


def test_thread_names():
    """Each thread is named for what it does (top -H, perf, the benchmark's CPU split)."""
    if h.WRAPPER:
        return  # the wrapper (valgrind) is the process; its threads are its own
    pid = S["main_proc"].pid
    names = sorted(open(f"/proc/{pid}/task/{t}/comm").read().strip()
                   for t in os.listdir(f"/proc/{pid}/task"))
    for want in ("worker-0", "blocklog", "querylog"):
        check(want in names, f"a thread named {want}: {names}")


TESTS = [test_forwarded_cached_blocked, test_matched_false, test_thread_names, test_anonymize_and_exclude, test_sample,
         test_sigusr1_reopens_query_log, test_identical_lookups_aggregate,
         test_flood_is_accounted, test_reload_and_stop_flush_pending_aggregates]

if __name__ == "__main__":
    h.run_tests(TESTS, env, setup)
