#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Retro-hunt (README "Retro-hunt"): two clients look up names that are forwarded (and then
answered from the cache); a SIGHUP lists some of them, and exactly one block-log record per
(client, newly listed rule) appears: DvcAction Allowed, EventCount, EventStartTime and
EventEndTime as asked, RetroHunt and ListedTime. A name asked only before the window, or never
asked, gives nothing; a second reload of the same list gives nothing new. The summary line and
the /metrics gauge report the history kept. An IP indicator listed by a reload finds the
client whose earlier answer held an address in it (one record, MatchedVia ip); a prefix no
answer held finds nobody. A feed that starts listing a name asked before brings its record
within the feed's refresh and a reload."""

import datetime
import http.server
import json
import os
import signal
import socket
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import eq, check  # noqa: E402

WINDOW = 4  # seconds: retro_hunt.window

NAMES = ["a.evil.test", "b.evil.test", "c2.retro.test", "old.retro.test", "clean.retro.test"]
ZONE = [(n + ".", "A", "NOERROR", [f"{n}. 300 IN A 192.0.2.{50 + i}"], [])
        for i, n in enumerate(NAMES)]
IP_NAME, IP_ADDR = "ipc2.retro.test", "203.0.113.77"  # an answer whose address is listed later
ZONE.append((IP_NAME + ".", "A", "NOERROR", [f"{IP_NAME}. 300 IN A {IP_ADDR}"], []))

V1 = "block:\n  - unrelated.example\n"
V2 = ("block:\n"
      "  - malware: NanoCore RAT\n"
      "    threat_type: botnet_cc\n"
      "    confidence: 80\n"
      "    source: ThreatFox\n"
      "    domains: [evil.test, c2.retro.test, old.retro.test, never.retro.test]\n"
      "  - unrelated.example\n")
V3 = (V2 +
      "  - ip: 203.0.113.0/24\n"
      "    malware: IPRAT\n"
      "    threat_type: botnet_cc\n"
      "    source: ThreatFox\n"
      "  - ip: 198.18.0.0/15\n"  # no answer held one: nobody found
      "    malware: Unseen\n")

env = h.Env()
S = {}


def setup():
    _, S["up"] = env.start_upstream(zone=ZONE)
    S["list"] = h.write_file(env.path("blocklist.yaml"), V1)
    S["port"] = h.free_port()
    S["hport"] = h.free_port(ipv6=False)
    S["cfg"] = h.write_config(
        env.tmp, S["port"], [S["up"]], workers=2,
        extra=(f"retro_hunt: {{window: {WINDOW}s, memory: 16M}}\n"
               f"http: {{listen: \"127.0.0.1:{S['hport']}\"}}\n"))
    S["log"] = env.path("blocked.jsonl")
    S["daemon"] = env.start_daemon(S["cfg"], S["port"])


def ask(name, src="127.0.0.1", port=None):
    """One A query for name from source address src; the answer's addresses."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((src, 0))
        data = h.udp_exchange(port or S["port"], h.build_query(name, h.T_A), 3.0, sock=s)
    check(data is not None, f"no answer for {name} from {src}")
    return h.Msg(data).addresses()


def reload(text=None):
    """Write text to the blocklist (if given), SIGHUP, and return the retro-hunt summary line."""
    mark = len(S["daemon"].stderr())
    if text is not None:
        h.write_file(S["list"], text)
    S["daemon"].signal(signal.SIGHUP)
    return h.wait_until(
        lambda: next((l for l in S["daemon"].stderr()[mark:].splitlines()
                      if "retro-hunt:" in l), None), 8, what="the retro-hunt summary line")


def now_ms():
    return int(time.time() * 1000)


def retro_records():
    if not S["log"].exists():
        return []
    out = []
    for line in S["log"].read_text().splitlines():
        rec = json.loads(line)
        if rec.get("AdditionalFields", {}).get("RetroHunt"):
            out.append(rec)
    return out


def ms_of(ts):
    d = datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ")
    return int(d.replace(tzinfo=datetime.timezone.utc).timestamp() * 1000 + 0.5)


def test_lookups_then_listing_finds_them():
    # Asked only before the window: forgotten by the time the list names it.
    eq(ask("old.retro.test"), ["192.0.2.53"], "old.retro.test forwarded")
    time.sleep(WINDOW + 1.5)
    t0 = now_ms()
    eq(ask("a.evil.test"), ["192.0.2.50"], "a.evil.test forwarded")
    ask("a.evil.test")  # from the cache (of the worker that has it)
    time.sleep(0.05)  # b.evil.test is the last asked of evil.test, by more than a millisecond
    ask("b.evil.test")
    ask("c2.retro.test")
    t1 = now_ms()
    time.sleep(0.3)
    ask("c2.retro.test", "127.0.0.2")
    ask("clean.retro.test", "127.0.0.2")
    t2 = now_ms()
    time.sleep(0.2)  # the retro-hunt drains the workers' rings every 20 ms

    line = reload(V2)
    check("4 new entries checked, 2 clients matched (3 records), history covers" in line, line)
    listed = now_ms()
    h.wait_until(lambda: len(retro_records()) >= 3, 5, what="3 retro-hunt records")
    time.sleep(0.3)
    recs = retro_records()
    eq(len(recs), 3, f"retro-hunt records {recs}")
    by = {(r["SrcIpAddr"], r["RuleName"]): r for r in recs}
    eq(sorted(by), [("127.0.0.1", "c2.retro.test"), ("127.0.0.1", "evil.test"),
                    ("127.0.0.2", "c2.retro.test")], "(client, rule) pairs")

    r = by[("127.0.0.1", "evil.test")]
    eq(r["EventCount"], 3, "a.evil.test twice and b.evil.test once")
    eq(r["DnsQuery"], "b.evil.test", "DnsQuery: the name asked last")
    check(t0 - 5 <= ms_of(r["EventStartTime"]) <= ms_of(r["EventEndTime"]) <= t1 + 5,
          f"first/last lookup {r['EventStartTime']} {r['EventEndTime']} within [{t0}, {t1}]")
    for k, v in {"DvcAction": "Allowed", "EventSeverity": "Low", "ThreatName": "NanoCore RAT",
                 "ThreatCategory": "botnet_cc", "ThreatConfidence": 80, "Dvc": "test-dvc",
                 "ThreatField": "Domain", "NetworkProtocolVersion": "IPv4"}.items():
        eq(r[k], v, k)
    eq(r["AdditionalFields"]["ListSource"], "ThreatFox", "ListSource")
    eq(r["AdditionalFields"]["ListFile"], "blocklist.yaml", "ListFile")
    check(t2 <= ms_of(r["AdditionalFields"]["ListedTime"]) <= listed + 5, "ListedTime")
    check(ms_of(r["AdditionalFields"]["ListedTime"]) <= ms_of(r["TimeGenerated"]) <= now_ms(),
          "TimeGenerated: when the match was found")
    for absent in ("SrcPortNumber", "TransactionIdHex", "DnsQueryType", "DnsResponseCode"):
        check(absent not in r, f"{absent} in a retro-hunt record")

    r = by[("127.0.0.1", "c2.retro.test")]
    eq(r["EventCount"], 1, "c2.retro.test from 127.0.0.1")
    r = by[("127.0.0.2", "c2.retro.test")]
    eq(r["EventCount"], 1, "c2.retro.test from 127.0.0.2")
    check(t1 <= ms_of(r["EventStartTime"]) <= t2 + 5, "its time")

    # The names are blocked from now on; the daemon's own records for them are not retro.
    eq(ask("a.evil.test"), ["0.0.0.0"], "a.evil.test blocked after the reload")


def test_same_list_again_finds_nothing_new():
    line = reload()
    check("0 new entries checked, 0 clients matched" in line, line)
    time.sleep(0.3)
    eq(len(retro_records()), 3, "no new retro-hunt records")


def retro_metrics():
    with urllib.request.urlopen(f"http://127.0.0.1:{S['hport']}/metrics", timeout=5) as r:
        text = r.read().decode()
    return {l.split()[0]: float(l.split()[1]) for l in text.splitlines()
            if l.startswith("sinkholed_retro_hunt_")}


def test_metrics_gauge():
    vals = retro_metrics()
    check(0 < vals.get("sinkholed_retro_hunt_history_seconds", 0) <= WINDOW,
          f"history gauge in {vals}")
    eq(vals.get("sinkholed_retro_hunt_findings_total"), 3.0, "findings")
    eq(vals.get("sinkholed_retro_hunt_dropped_total"), 0.0, "dropped")


def test_ip_indicator_finds_earlier_answer():
    t0 = now_ms()
    eq(ask(IP_NAME, "127.0.0.3"), [IP_ADDR], f"{IP_NAME} forwarded")
    time.sleep(0.05)
    eq(ask(IP_NAME, "127.0.0.3"), [IP_ADDR], f"{IP_NAME} again (forwarded or cached)")
    t1 = now_ms()
    time.sleep(0.2)  # drained every 20 ms
    before = len(retro_records())

    line = reload(V3)
    check("2 new entries checked, 1 clients matched (1 records)" in line, line)
    h.wait_until(lambda: len(retro_records()) > before, 5, what="the IP retro-hunt record")
    time.sleep(0.3)
    recs = retro_records()[before:]
    eq(len(recs), 1, f"new retro-hunt records {recs}")
    r = recs[0]
    for k, v in {"SrcIpAddr": "127.0.0.3", "EventCount": 2, "DnsQuery": IP_NAME,
                 "DnsResponseName": IP_ADDR, "RuleName": "203.0.113.0/24",
                 "ThreatField": "DnsResponseName", "ThreatName": "IPRAT",
                 "ThreatCategory": "botnet_cc", "DvcAction": "Allowed",
                 "DvcOriginalAction": "retrohunt"}.items():
        eq(r.get(k), v, k)
    af = r["AdditionalFields"]
    eq((af.get("MatchedVia"), af.get("RetroHunt"), af.get("ThreatIocType"), af.get("ListSource")),
       ("ip", True, "ip", "ThreatFox"), "AdditionalFields")
    check(t0 - 5 <= ms_of(r["EventStartTime"]) <= ms_of(r["EventEndTime"]) <= t1 + 5,
          f"first/last answer {r['EventStartTime']} {r['EventEndTime']} within [{t0}, {t1}]")
    check(not any(x["RuleName"] == "198.18.0.0/15" for x in retro_records()),
          "a prefix no answer held finds nobody")
    eq(retro_metrics().get("sinkholed_retro_hunt_findings_total"), 4.0,
       "findings: the 3 names' and the prefix's")
    # From now on the answer itself is blocked (sinkhole.inspect_ip).
    eq(ask(IP_NAME, "127.0.0.3"), ["0.0.0.0"], f"{IP_NAME} blocked by its address")


class FeedHandler(http.server.BaseHTTPRequestHandler):
    """Serves S["feed"] at /feed.txt, with an ETag per version."""
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet
        pass

    def do_GET(self):
        body, etag = S["feed"].encode(), f'"{hash(S["feed"]) & 0xffffffff:x}"'
        if self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.send_header("ETag", etag)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", etag)
        self.end_headers()
        self.wfile.write(body)


def test_feed_update_finds_earlier_lookup():
    S["feed"] = "placeholder.retro.test\n"
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FeedHandler)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    port = h.free_port()
    cfg = h.write_config(env.tmp, port, [S["up"]], blocklists=(), name="feed.yaml",
                         block_log="feed.jsonl")
    cfg.write_text(cfg.read_text().replace("blocklists: []\n", "") +
                   "state_dir: state\n"
                   "blocklists:\n"
                   "  - name: tf\n"
                   f"    url: \"http://127.0.0.1:{srv.server_address[1]}/feed.txt\"\n"
                   "    format: domains\n"
                   "    refresh: 1s\n"
                   "    defaults: {malware: NanoCore RAT, source: ThreatFox}\n")
    d = env.start_daemon(cfg, port, name="sinkholed-feed")
    try:
        # The first copy is fetched after the start, and loaded by a reload.
        h.wait_until(lambda: "retro-hunt:" in d.stderr(), 8, what="the feed's first load")
        eq(ask("c2.retro.test", port=port), ["192.0.2.52"], "c2.retro.test forwarded")
        time.sleep(0.2)
        log = env.path("feed.jsonl")
        S["feed"] = "placeholder.retro.test\nc2.retro.test\n"
        t0 = time.monotonic()

        def found():
            if not log.exists():
                return None
            return [json.loads(l) for l in log.read_text().splitlines()
                    if '"RetroHunt":true' in l]
        recs = h.wait_until(found, 6, what="the feed's retro-hunt record")
        took = time.monotonic() - t0
        eq(len(recs), 1, f"records {recs}")
        r = recs[0]
        eq((r["SrcIpAddr"], r["RuleName"], r["EventCount"], r["ThreatName"]),
           ("127.0.0.1", "c2.retro.test", 1, "NanoCore RAT"), "the record")
        eq(r["AdditionalFields"]["ListFile"], "tf", "ListFile: the feed")
        # The feed is fetched every second; its record follows the fetch at once.
        check(took < 3.0, f"the record came {took:.2f} s after the feed changed")
        print(f"     feed changed -> retro-hunt record: {took:.2f} s (refresh: 1s)")
    finally:
        d.stop()
        srv.shutdown()


if __name__ == "__main__":
    h.run_tests([test_lookups_then_listing_finds_them, test_same_list_again_finds_nothing_new,
                 test_metrics_gauge, test_ip_indicator_finds_earlier_answer,
                 test_feed_update_finds_earlier_lookup], env=env,
                setup=setup)
