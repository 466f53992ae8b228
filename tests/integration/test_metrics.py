#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The metrics listener (`http:`), end to end: GET /metrics passes `promtool check metrics`;
404 for another path, 405 for another method; 403 for a client outside http.allow and for a
Host header naming neither an address, localhost, this machine nor one of http.hosts; and,
scraped while dnsperf sends about 10k q/s, the counters add up to what dnsperf sent."""

import os
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bench"))
import http.client  # noqa: E402
import socket  # noqa: E402

import harness as h  # noqa: E402
import parse_dnsperf  # noqa: E402
from harness import check, eq  # noqa: E402

env = h.Env()
S = {}

BLOCKLIST = """block:
  - malware: Test RAT
    domains: [evil.test, bad.test]
"""
# 10k q/s; under valgrind (tests/reliability/valgrind.sh) the daemon is many times slower, and
# the load is what it can take, so that the counts are still checked against what was sent.
QPS = 1500 if h.WRAPPER else 10000
SECONDS = 3


def start(name, allow=None, workers=2, hosts=None):
    """A daemon with `http:` on its own port: (dns port, http port, Proc)."""
    port, hport = h.free_port(), h.free_port(ipv6=False)
    extra = f'http:\n  listen: "127.0.0.1:{hport}"\n'
    if allow is not None:
        extra += f"  allow: {h._yaml_list(allow)}\n"
    if hosts is not None:
        extra += f"  hosts: {h._yaml_list(hosts)}\n"
    d = env.path(name)
    d.mkdir()
    h.write_file(d / "blocklist.yaml", BLOCKLIST)
    cfg = h.write_config(d, port, [S["up"]], workers=workers, extra=extra)
    proc = env.start_daemon(cfg, port, name=name)
    return port, hport, proc


def get(hport, path="/metrics", method="GET"):
    """(status, body text) of one request to the metrics listener."""
    req = urllib.request.Request(f"http://127.0.0.1:{hport}{path}", method=method)
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def samples(text):
    """{'name{labels}': value} of every sample line."""
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, value = line.rsplit(" ", 1)
            out[key] = float(value)
    return out


def total(s, name):
    """The sum of every series of a metric."""
    return sum(v for k, v in s.items() if k == name or k.startswith(name + "{"))


udp_drops = h.udp_drops


def setup():
    _, S["up"] = env.start_upstream()
    S["port"], S["hport"], S["d"] = start("main")


def test_metrics_pass_promtool():
    status, text = get(S["hport"])
    eq(status, 200, "GET /metrics")
    for name in ("sinkholed_queries_total", "sinkholed_responses_total", "sinkholed_blocked_total",
                 "sinkholed_cache_hits_total", "sinkholed_cache_misses_total",
                 "sinkholed_cache_inserts_total", "sinkholed_cache_evictions_total",
                 "sinkholed_cache_bytes", "sinkholed_upstream_queries_total",
                 "sinkholed_upstream_latency_seconds", "sinkholed_ratelimited_total",
                 "sinkholed_blocklog_records_total", "sinkholed_list_entries",
                 "sinkholed_list_last_success_timestamp_seconds",
                 "sinkholed_list_load_failures_total", "sinkholed_reloads_total",
                 "sinkholed_build_info", "process_cpu_seconds_total",
                 "process_resident_memory_bytes", "process_open_fds",
                 "process_start_time_seconds"):
        check(f"# TYPE {name} " in text, f"{name} missing from /metrics")
    s = samples(text)
    eq(s.get('sinkholed_list_entries{list="blocklist.yaml"}'), 2.0, "list entries")
    promtool = shutil.which("promtool")
    if promtool is None:
        raise AssertionError("promtool not found: apt-get install prometheus "
                             "(sh tests/deps.sh test)")
    r = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True,
                       text=True, timeout=30)
    eq((r.returncode, r.stdout + r.stderr), (0, ""), "promtool check metrics")


def test_counts_queries():
    before = samples(get(S["hport"])[1])
    h.dig(S["port"], "www.evil.test")
    h.dig(S["port"], "example.org")
    h.dig(S["port"], "example.org", tcp=True)
    after = samples(get(S["hport"])[1])

    def delta(key):
        return after.get(key, 0) - before.get(key, 0)
    eq(delta('sinkholed_queries_total{transport="udp"}'), 2, "UDP queries")
    eq(delta('sinkholed_queries_total{transport="tcp"}'), 1, "TCP queries")
    eq(delta('sinkholed_responses_total{rcode="NOERROR"}'), 3, "NOERROR responses")
    eq(delta('sinkholed_blocked_total{action="block",list="blocklist.yaml"}'), 1, "blocked")
    eq(delta('sinkholed_blocklog_records_total{result="written"}') >= 0, True, "written")
    up = f'sinkholed_upstream_queries_total{{result="ok",upstream="127.0.0.1:{S["up"]}"}}'
    check(after.get(up, 0) >= 1, f"{up} counted no answer")
    check(after.get("sinkholed_upstream_latency_seconds_count", 0) >= 1, "no latency")


def test_reload_counted():
    before = samples(get(S["hport"])[1])
    S["d"].signal(h.signal.SIGHUP)
    key = 'sinkholed_reloads_total{result="ok"}'
    h.wait_until(lambda: samples(get(S["hport"])[1]).get(key, 0) > before.get(key, 0), 10,
                 what="the reload to be counted")


def test_404_405():
    eq(get(S["hport"], "/nothing")[0], 404, "another path")
    eq(get(S["hport"], "/metrics/")[0], 404, "a path under /metrics")
    eq(get(S["hport"], "/")[0], 200, "the root: the dashboard (test_dashboard.py)")
    eq(get(S["hport"], "/metrics", "POST")[0], 405, "POST")
    eq(get(S["hport"], "/metrics", "DELETE")[0], 405, "DELETE")
    eq(get(S["hport"], "/metrics", "HEAD")[0], 200, "HEAD")


def test_403_outside_allow():
    _, hport, _ = start("denied", allow=["10.0.0.0/8"], workers=1)
    eq(get(hport)[0], 403, "a client outside http.allow")
    eq(get(hport, "/nothing")[0], 403, "any path, for a client outside http.allow")


def status_with_host(hport, host, path="/metrics"):
    """The status of a GET whose Host header is host (None: no Host header, as HTTP/1.0)."""
    c = http.client.HTTPConnection("127.0.0.1", hport, timeout=5)
    try:
        c.putrequest("GET", path, skip_host=True)
        if host is not None:
            c.putheader("Host", host)
        c.endheaders()
        return c.getresponse().status
    finally:
        c.close()


def test_host_header():
    """DNS rebinding: a page of evil.example re-pointed at the listener is refused by name."""
    _, hport, _ = start("hosts", hosts=["dns1.example.com"], workers=1)
    for host in (f"127.0.0.1:{hport}", "127.0.0.1", f"[::1]:{hport}", "[::1]", "localhost",
                 f"LocalHost:{hport}", "dns1.example.com", f"DNS1.example.com.:{hport}",
                 socket.gethostname(), None):
        eq(status_with_host(hport, host), 200, f"Host {host!r}")
        eq(status_with_host(hport, host, "/api/summary"), 200, f"Host {host!r}, the API")
    for host in ("evil.example", f"evil.example:{hport}", "dns1.example.com.evil.example",
                 "example.com", "127.0.0.1.evil.example", "[::1", "[fe80::zz]", "a:b:c", ""):
        eq(status_with_host(hport, host), 403, f"Host {host!r}")
        eq(status_with_host(hport, host, "/"), 403, f"Host {host!r}, the dashboard")


def test_counts_add_up_under_load():
    """dnsperf at ~10k q/s for a few seconds, half of it for blocked names, scraped all along:
    every scrape answers, the counts only grow, and at the end queries_total = sent,
    responses by rcode = answered and blocked_total = blocked queries sent."""
    if shutil.which("dnsperf") is None:
        raise AssertionError("dnsperf not found: apt-get install dnsperf (sh tests/deps.sh test)")
    port, hport, _ = start("load")
    qfile = env.path("queries.txt")
    # Blocked and forwarded names alternate, starting with a blocked one (an even count).
    qfile.write_text("evil.test A\nexample.org A\nwww.bad.test A\nwww.example.org A\n")
    out = env.path("dnsperf.out")
    stop = threading.Event()
    scrapes = []

    def scrape():
        while not stop.is_set():
            status, text = get(hport)
            scrapes.append((status, samples(text) if status == 200 else {}))
            time.sleep(0.1)
    base = samples(get(hport)[1])  # the harness's start-up probes are queries too
    t = threading.Thread(target=scrape, daemon=True)
    t.start()
    with open(out, "w") as f:
        perf = subprocess.Popen(["dnsperf", "-s", "127.0.0.1", "-p", str(port), "-d", str(qfile),
                                 "-c", "4", "-q", "2000", "-Q", str(QPS), "-l", str(SECONDS),
                                 "-t", "3"], stdout=f, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
        try:
            perf.wait(SECONDS + 30)
        except subprocess.TimeoutExpired:
            perf.kill()
            perf.wait(5)
            raise AssertionError("dnsperf did not finish in time")
    stop.set()
    t.join(10)
    st = parse_dnsperf.parse(out.read_text(errors="replace").splitlines())
    check("sent" in st, f"no dnsperf statistics: {out.read_text()[-300:]!r}")
    sent, answered = int(st["sent"]), int(st["completed"])
    check(sent >= 0.8 * QPS * SECONDS, f"dnsperf sent only {sent} queries")
    check(len(scrapes) >= 5, f"only {len(scrapes)} scrapes during the load")
    eq([s for s, _ in scrapes if s != 200], [], "statuses of the scrapes during the load")
    seen = [s.get('sinkholed_queries_total{transport="udp"}', 0) for _, s in scrapes]
    eq(seen, sorted(seen), "queries_total over the scrapes (never decreasing)")
    check(seen[len(seen) // 2] > 0, "no queries counted half way through the load")

    # What the kernel dropped before the daemon could read it was sent, but never received.
    key = 'sinkholed_queries_total{transport="udp"}'
    try:
        want = base[key] + sent - udp_drops(port)
        s = h.wait_until(lambda: (lambda x: x if x.get(key) == want else None)(
            samples(get(hport)[1])), 5, what=f"{key} + the kernel's drops to reach {sent}")
    except AssertionError:
        got = samples(get(hport)[1]).get(key) - base[key]
        raise AssertionError(f"{key} {got} + the kernel's drops {udp_drops(port)} != "
                             f"{sent} sent ({answered} answered)")
    s = {k: v - base.get(k, 0) for k, v in s.items()}
    eq(s.get('sinkholed_queries_total{transport="tcp"}'), 0, "TCP queries")
    # Every answer dnsperf got was counted; on a busy machine its socket may also drop some
    # that were sent (then it counts them lost), so the counts are at least dnsperf's.
    responses = int(total(s, "sinkholed_responses_total"))
    check(answered <= responses <= sent - udp_drops(port),
          f"responses {responses} vs answered {answered} and received {sent - udp_drops(port)}")
    check(int(s.get('sinkholed_responses_total{rcode="NOERROR"}')) >=
          st["rcodes"].get("NOERROR", 0), "NOERROR responses vs dnsperf's")
    # Queries the kernel dropped (on a busy machine) are blocked or forwarded names, which
    # ones is not known: each count is exact without drops, and within the drops with them.
    drops = udp_drops(port)
    blocked = int(s.get('sinkholed_blocked_total{action="block",list="blocklist.yaml"}'))
    lookups = int(s["sinkholed_cache_hits_total"] + s["sinkholed_cache_misses_total"])
    eq(blocked + lookups, sent - drops, "blocked + cache lookups vs queries received")
    check((sent + 1) // 2 - drops <= blocked <= (sent + 1) // 2,
          f"blocked_total {blocked} vs blocked queries sent {(sent + 1) // 2} ({drops} dropped)")
    eq(int(total(s, "sinkholed_dropped_total")), 0, "dropped")
    written = s['sinkholed_blocklog_records_total{result="written"}']
    dropped = s['sinkholed_blocklog_records_total{result="dropped"}']
    # Identical lookups within block_log.aggregate_ms share a record: every blocked lookup is
    # a record (written or dropped) or counted in an earlier one's EventCount (aggregated).
    keys = ('sinkholed_blocklog_records_total{result="written"}',
            'sinkholed_blocklog_records_total{result="dropped"}',
            "sinkholed_blocklog_aggregated_total")
    h.wait_until(lambda: sum(samples(get(hport)[1]).get(k, 0) - base.get(k, 0) for k in keys)
                 == blocked, 10,
                 what=f"block-log records ({written} + {dropped}) and aggregated lookups to add up")
    print(f"     dnsperf sent {sent}, answered {answered}, the kernel dropped "
          f"{udp_drops(port)}; {len(scrapes)} scrapes during the load")


if __name__ == "__main__":
    h.run_tests([test_metrics_pass_promtool, test_counts_queries, test_reload_counted,
                 test_404_405, test_403_outside_allow, test_host_header,
                 test_counts_add_up_under_load],
                env=env, setup=setup)
