#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The dashboard (README "Dashboard") on the `http:` listener, end to end: blocked lookups (one
of a name with hostile bytes: <script>, <b>, quotes), a beacon (a client that looks a name up
every 1.1 s), a retro-hunt finding and a feed; every /api/... endpoint's JSON checked against
what was sent and against the block log (values, escaping); 403, 404, 405; the API polled while
dnsperf sends 4k q/s; and the page loaded by headless Chromium, whose rendered DOM must show
the chart, the tables and the hostile name as text, never as markup (a screenshot is saved
in the test's work dir: KEEP_TMP=1 keeps it)."""

import html.parser
import http.server
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bench"))
import harness as h  # noqa: E402
import parse_dnsperf  # noqa: E402
from harness import check, eq  # noqa: E402

V1 = """block:
  - malware: NanoCore RAT
    threat_type: botnet_cc
    confidence: 75
    source: ThreatFox
    domains: [evil.test, bad.test]
  - malware: "Agent \\"Tesla\\" <i>"
    domains: [beacon.test]
  - domain: nofamily.test
"""
# The reload lists retro.test: the earlier lookup of c2.retro.test becomes a finding.
V2 = V1 + """  - malware: Emotet
    domains: [retro.test]
"""
ZONE = h.ZONE + [("c2.retro.test.", "A", "NOERROR", ["c2.retro.test. 300 IN A 192.0.2.77"], [])]
# <script>alert(1)</script>, <b>bold</b> and a quote, a byte that is not UTF-8, a control byte
# and a backslash as labels: \DDD for the bytes dig would not take.
HOSTILE = (r"x\060script\062alert\0401\041\060\047script\062.\060b\062bold\060\047b\062"
           r".\034q\255\001\092.evil.test")
BEACON_EVERY = 1.1  # seconds
BEACON_LOOKUPS = 10
CHROMIUM = "chromium"

env = h.Env()
S = {}


class FeedHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet
        pass

    def do_GET(self):
        body = b"feed1.test\nfeed2.test\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def start(name, allow=None, extra="", workers=2):
    port, hport = h.free_port(), h.free_port(ipv6=False)
    text = f'http:\n  listen: "127.0.0.1:{hport}"\n'
    if allow is not None:
        text += f"  allow: {h._yaml_list(allow)}\n"
    d = env.path(name)
    d.mkdir()
    h.write_file(d / "blocklist.yaml", V1)
    cfg = h.write_config(d, port, [S["up"]], workers=workers, extra=text + extra)
    return port, hport, env.start_daemon(cfg, port, name=name), d


def setup():
    _, S["up"] = env.start_upstream(zone=ZONE)
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FeedHandler)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    S["feed_srv"] = srv
    port, hport = h.free_port(), h.free_port(ipv6=False)
    d = env.path("main")
    d.mkdir()
    h.write_file(d / "blocklist.yaml", V1)
    cfg = h.write_config(d, port, [S["up"]], blocklists=(), workers=2)
    cfg.write_text(cfg.read_text().replace("blocklists: []\n", "") +
                   f'http:\n  listen: "127.0.0.1:{hport}"\n'
                   "state_dir: state\n"
                   "retro_hunt: {window: 60s, memory: 16M}\n"
                   "blocklists:\n"
                   "  - blocklist.yaml\n"
                   "  - name: tf\n"
                   f"    url: \"http://127.0.0.1:{srv.server_address[1]}/feed.txt\"\n"
                   "    format: domains\n"
                   "    refresh: 1h\n")
    S.update(port=port, hport=hport, dir=d, log=d / "blocked.jsonl")
    S["daemon"] = env.start_daemon(cfg, port)

    # The feed's first copy is fetched after the start, then loaded by a reload.
    def feed_loaded():
        ls = api("lists")["lists"]
        return len(ls) == 2 and ls[1]["entries"] == 2
    h.wait_until(feed_loaded, 10, what="the feed's first copy to be loaded")


def get(path, method="GET", hport=None):
    """(status, headers, body bytes) of one request to the listener."""
    req = urllib.request.Request(f"http://127.0.0.1:{hport or S['hport']}{path}", method=method)
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def api(name, hport=None):
    status, headers, body = get(f"/api/{name}", hport=hport)
    eq(status, 200, f"GET /api/{name}")
    eq(headers.get("Content-Type"), "application/json", f"/api/{name} Content-Type")
    return json.loads(body)


def ask(name, src="127.0.0.1", port=None):
    """One A query for name from source address src; the answer's addresses."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((src, 0))
        data = h.udp_exchange(port or S["port"], h.build_query(name, h.T_A), 3.0, sock=s)
    check(data is not None, f"no answer for {name} from {src}")
    return h.Msg(data).addresses()


def log():
    return h.read_log(S["log"])


def test_traffic():
    """Blocked lookups, the hostile name, a beacon, and a retro-hunt finding."""
    eq(ask("c2.retro.test", "127.0.0.4"), ["192.0.2.77"], "c2.retro.test forwarded")
    for _ in range(3):
        eq(h.dig(S["port"], "www.evil.test").rdatas("A"), ["0.0.0.0"], "www.evil.test")
    eq(ask("bad.test", "127.0.0.2"), ["0.0.0.0"], "bad.test from 127.0.0.2")
    eq(h.dig(S["port"], "x.nofamily.test", tcp=True).rdatas("A"), ["0.0.0.0"], "nofamily.test")
    eq(h.dig(S["port"], HOSTILE).rdatas("A"), ["0.0.0.0"], "the hostile name")
    for i in range(BEACON_LOOKUPS):
        if i:
            time.sleep(BEACON_EVERY)
        eq(ask("c2.beacon.test", "127.0.0.3"), ["0.0.0.0"], "c2.beacon.test")
    h.write_file(S["dir"] / "blocklist.yaml", V2)
    S["daemon"].signal(signal.SIGHUP)
    h.wait_log_line(S["log"], 10, RuleName="retro.test")
    h.wait_until(lambda: api("summary")["records"] == len(log()), 5,
                 what="every record written to be seen")
    S["records"] = log()


def test_beacon_in_block_log():
    recs = [r for r in S["records"] if r.get("RuleName") == "beacon.test"]
    eq(len(recs), BEACON_LOOKUPS, "beacon.test records")
    for i, r in enumerate(recs):
        b = r["AdditionalFields"].get("Beacon")
        if i < 8:
            eq(b, None, f"Beacon of lookup {i + 1} (8 intervals are needed)")
            continue
        check(b is not None, f"no Beacon in lookup {i + 1}: {r}")
        eq(sorted(b), ["IntervalSeconds", "JitterSeconds", "Lookups"], "Beacon's members")
        eq(b["Lookups"], i + 1, "Beacon.Lookups")
        check(abs(b["IntervalSeconds"] - BEACON_EVERY) < 0.15, f"IntervalSeconds {b}")
        check(0 <= b["JitterSeconds"] < 0.1, f"JitterSeconds {b}")
    for r in S["records"]:
        if r.get("RuleName") != "beacon.test":
            check("Beacon" not in r["AdditionalFields"], f"a Beacon in {r}")


def test_api_summary():
    s = api("summary")
    blocked = [r for r in S["records"] if r["DvcOriginalAction"] != "retrohunt"]
    eq(s["blocked"], len(blocked), "blocked")
    eq((s["logged"], s["retro_findings"], s["beacons"]), (0, 1, 1), "logged, retro, beacons")
    eq(s["lookups"], len(blocked), "lookups")
    eq(s["lookups_24h"], len(blocked), "lookups_24h")
    eq(s["block_log"], {"written": len(S["records"]), "dropped": 0}, "block_log")
    eq(s["version"], "0.1.0", "version")


def test_api_timeline():
    t = api("timeline")
    eq((t["minutes"], t["step_seconds"]), (1440, 60), "the window")
    by = {(x["family"], x["other"]): x for x in t["series"]}
    for x in t["series"]:
        eq(len(x["counts"]), 1440, "minutes per series")
        eq(sum(x["counts"]), x["total"], "a series' total")
    eq(by[("NanoCore RAT", False)]["total"], 5, "NanoCore RAT: www.evil.test x3, bad.test, "
       "the hostile name")
    eq(by[('Agent "Tesla" <i>', False)]["total"], BEACON_LOOKUPS, "the beacon's family")
    eq(by[(None, False)]["total"], 1, "no family")
    eq(sum(x["total"] for x in t["series"]), api("summary")["lookups_24h"], "sum of series")


def test_api_top():
    t = api("top")
    eq([(c["SrcIpAddr"], c["lookups"]) for c in t["clients"]],
       [("127.0.0.3", BEACON_LOOKUPS), ("127.0.0.1", 5), ("127.0.0.2", 1)], "top clients")
    eq([(c["RuleName"], c["ThreatName"], c["lookups"]) for c in t["iocs"]][:2],
       [("beacon.test", 'Agent "Tesla" <i>', BEACON_LOOKUPS), ("evil.test", "NanoCore RAT", 4)],
       "top IOCs")


def test_api_blocks():
    b = api("blocks")
    blocked = [r for r in S["records"] if r["DvcOriginalAction"] != "retrohunt"]
    eq(b["total"], len(blocked), "total")
    eq(len(b["blocks"]), len(blocked), "latest blocks")
    # Latest first, each as its block-log record says (the same escaping of DnsQuery).
    for got, want in zip(b["blocks"], reversed(blocked)):
        for k in ("TimeGenerated", "SrcIpAddr", "SrcPortNumber", "NetworkProtocol", "DnsQuery",
                  "DnsQueryTypeName", "DvcAction", "DvcOriginalAction", "RuleName",
                  "ThreatName", "ThreatCategory", "ThreatConfidence"):
            eq(got[k], want.get(k), f"{k} of {want['DnsQuery']}")
        eq(got["ListFile"], want["AdditionalFields"]["ListFile"], "ListFile")
        eq(got["Beacon"], "Beacon" in want["AdditionalFields"], "Beacon")
    hostile = [x for x in b["blocks"] if x["DnsQuery"].startswith("x<script>")]
    eq(len(hostile), 1, "the hostile name's block")
    eq(hostile[0]["DnsQuery"],
       "x<script>alert\\0401\\041</script>.<b>bold</b>.\\034q\\255\\001\\092.evil.test",
       "the hostile name, in presentation form")
    S["hostile"] = hostile[0]["DnsQuery"]


def test_api_retro():
    r = api("retro")
    eq(r["total"], 1, "retro findings")
    f = r["findings"][0]
    eq((f["SrcIpAddr"], f["DnsQuery"], f["RuleName"], f["EventCount"], f["ThreatName"],
        f["ListFile"]), ("127.0.0.4", "c2.retro.test", "retro.test", 1, "Emotet",
                         "blocklist.yaml"), "the finding")
    rec = next(x for x in S["records"] if x["RuleName"] == "retro.test")
    for k in ("TimeGenerated", "EventStartTime", "EventEndTime"):
        eq(f[k], rec[k], k)
    eq(f["ListedTime"], rec["AdditionalFields"]["ListedTime"], "ListedTime")


def test_api_beacons():
    b = api("beacons")
    eq(b["rule"], {"min_intervals": 8, "history": 16, "max_spread_percent": 15,
                   "merge_seconds": 1.0}, "the rule")
    eq(len(b["beacons"]), 1, f"beacons {b}")
    x = b["beacons"][0]
    eq((x["SrcIpAddr"], x["RuleName"], x["ThreatName"], x["Lookups"]),
       ("127.0.0.3", "beacon.test", 'Agent "Tesla" <i>', BEACON_LOOKUPS), "the beacon")
    last = [r for r in S["records"] if r.get("RuleName") == "beacon.test"][-1]
    eq(x["IntervalSeconds"], last["AdditionalFields"]["Beacon"]["IntervalSeconds"], "interval")
    eq(x["JitterSeconds"], last["AdditionalFields"]["Beacon"]["JitterSeconds"], "jitter")


def test_api_lists():
    ls = api("lists")
    eq([(x["name"], x["format"], x["feed"], x["entries"], x["status"]) for x in ls["lists"]],
       [("blocklist.yaml", "yaml", False, 5, "ok"), ("tf", "domains", True, 2, "ok")], "lists")
    local, feed = ls["lists"]
    eq(local["last_fetch"], None, "a local file is never fetched")
    check(0 <= local["age_seconds"] < 120, f"age {local}")
    check(feed["last_fetch"]["result"].startswith("HTTP 200"), f"last fetch {feed}")
    check(0 <= feed["last_fetch"]["age_seconds"] < 120, f"last fetch {feed}")


def test_http_status():
    for path in ("/api/nothing", "/api", "/api/summary/x", "/index.html", "/metrics/x"):
        eq(get(path)[0], 404, f"GET {path}")
    for path in ("/", "/api/summary", "/api/blocks"):
        for method in ("POST", "PUT", "DELETE"):
            eq(get(path, method)[0], 405, f"{method} {path}")
    status, headers, body = get("/", "HEAD")
    eq((status, body), (200, b""), "HEAD /")
    status, headers, body = get("/")
    eq(status, 200, "GET /")
    eq(headers.get("Content-Type"), "text/html; charset=utf-8", "the page's type")
    check("default-src 'none'" in headers.get("Content-Security-Policy", ""), "CSP")
    check(b"http://" not in body.replace(b"http://www.w3.org/2000/svg", b"") and
          b"https://" not in body, "the page names no other site")
    eq(body, (h.REPO / "daemon" / "dashboard" / "index.html").read_bytes(), "the page")
    _, hport, _, _ = start("denied", allow=["10.0.0.0/8"], workers=1)
    for path in ("/", "/api/summary", "/api/lists", "/nothing"):
        eq(get(path, hport=hport)[0], 403, f"{path} for a client outside http.allow")


class Dom(html.parser.HTMLParser):
    """The rendered page: text per table row by table id, elements counted by tag."""

    def __init__(self):
        super().__init__()
        self.tags, self.rows, self.attrs_of = {}, {}, {}
        self.table = self.row = None
        self.in_body = False
        self.legend, self.in_legend = [], 0
        self.cell = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags[tag] = self.tags.get(tag, 0) + 1
        if a.get("id"):
            self.attrs_of[a["id"]] = a
        if tag == "table":
            self.table = a.get("id")
        elif tag == "tbody":
            self.in_body = True
        elif tag == "tr" and self.in_body:
            self.row = []
        elif tag == "td" and self.row is not None:
            self.cell = ""
        elif a.get("id") == "legend":
            self.in_legend = 1
        elif self.in_legend:
            self.in_legend += 1

    def handle_endtag(self, tag):
        if tag == "td" and self.cell is not None:
            self.row.append(self.cell)
            self.cell = None
        elif tag == "tr" and self.row is not None:
            self.rows.setdefault(self.table, []).append(self.row)
            self.row = None
        elif tag == "tbody":
            self.in_body = False
        elif self.in_legend:
            self.in_legend -= 1

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data
        if self.in_legend:
            self.legend.append(data)


def chromium(*args):
    exe = shutil.which(CHROMIUM)
    if exe is None:
        raise AssertionError("chromium not found: apt-get install chromium "
                             "(sh tests/deps.sh test)")
    cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
           "--no-first-run", f"--user-data-dir={env.path('chromium-profile')}",
           "--window-size=1400,2200", "--virtual-time-budget=10000", *args,
           f"http://127.0.0.1:{S['hport']}/"]
    r = subprocess.run(cmd, capture_output=True, timeout=120, stdin=subprocess.DEVNULL,
                       env=dict(os.environ, HOME=str(env.tmp)))
    eq(r.returncode, 0, f"chromium {args}: {r.stderr.decode(errors='replace')[-500:]}")
    return r.stdout.decode()


def test_browser_renders_page():
    dom_text = chromium("--dump-dom")
    d = Dom()
    d.feed(dom_text)
    eq(d.attrs_of.get("chart") is not None, True, "the chart")
    eq(d.tags.get("body") and 'data-loaded="1"' in dom_text, True,
       "the page loaded its data (body data-loaded)")
    check(d.tags.get("rect", 0) >= 3, f"bars in the chart: {d.tags.get('rect', 0)}")
    legend = "".join(d.legend)
    for fam in ("NanoCore RAT (5)", 'Agent "Tesla" <i> (10)', "(no family) (1)"):
        check(fam in legend, f"{fam!r} in the legend {legend!r}")
    rows = d.rows
    eq([r[0] for r in rows["top-clients"]], ["127.0.0.3", "127.0.0.1", "127.0.0.2"],
       "top clients")
    eq([r[0] for r in rows["top-iocs"]][:2], ["beacon.test", "evil.test"], "top IOCs")
    queries = [r[2] for r in rows["latest"]]
    eq(len(queries), len([r for r in S["records"] if r["DvcOriginalAction"] != "retrohunt"]),
       "latest blocks")
    check(S["hostile"] in queries, f"the hostile name as text in {queries}")
    eq(sum(r[4].endswith(" beacon") for r in rows["latest"]), BEACON_LOOKUPS - 8,
       "blocks marked as a beacon's (those whose record has AdditionalFields.Beacon)")
    # As markup it would have made elements: the page has one script (its own), no <b>, <i>.
    eq(d.tags.get("script"), 1, "script elements")
    eq((d.tags.get("b"), d.tags.get("i")), (None, None), "<b> and <i> elements")
    eq([(r[1], r[3], r[4]) for r in rows["retro"]],
       [("127.0.0.4", "retro.test", "Emotet")], "retro-hunt findings")
    eq([(r[0], r[1], r[2], r[5]) for r in rows["beacons"]],
       [("127.0.0.3", "beacon.test", 'Agent "Tesla" <i>', str(BEACON_LOOKUPS))], "beacons")
    eq([(r[0], r[2], r[3]) for r in rows["lists"]],
       [("blocklist.yaml", "ok", "5"), ("tf", "ok", "2")], "list health")
    check(rows["lists"][1][8].startswith("HTTP 200"), f"the feed's last fetch {rows['lists']}")
    shot = env.path("dashboard.png")
    chromium(f"--screenshot={shot}")
    check(shot.exists() and shot.stat().st_size > 20000, f"screenshot {shot}")
    print(f"     screenshot: {shot} ({shot.stat().st_size} bytes)")


def test_api_under_load():
    """dnsperf at 4k q/s for 3 s, all blocked, while the API is polled: every answer is JSON,
    the counts only grow and agree with each other, and in the end with the block log."""
    if shutil.which("dnsperf") is None:
        raise AssertionError("dnsperf not found: apt-get install dnsperf (sh tests/deps.sh test)")
    # Under valgrind (tests/reliability/valgrind.sh) the daemon takes far less.
    qps, seconds = (1000 if h.WRAPPER else 4000), 3
    base = api("summary")
    qfile = env.path("queries.txt")
    qfile.write_text("www.evil.test A\nbad.test AAAA\nx.nofamily.test A\n")
    out = env.path("dnsperf.out")
    stop = threading.Event()
    polls, errors = [], []

    def poll():
        while not stop.is_set():
            for name in ("summary", "timeline", "top", "blocks", "beacons"):
                try:
                    polls.append((name, api(name)))
                except Exception as e:  # noqa: BLE001 - every failure is reported
                    errors.append(f"{name}: {e}")
            time.sleep(0.05)
    t = threading.Thread(target=poll, daemon=True)
    t.start()
    with open(out, "w") as f:
        subprocess.run(["dnsperf", "-s", "127.0.0.1", "-p", str(S["port"]), "-d", str(qfile),
                        "-c", "2", "-Q", str(qps), "-l", str(seconds), "-t", "2"],
                       stdout=f, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                       timeout=seconds + 30)
    stop.set()
    t.join(10)
    eq(errors, [], "API errors under load")
    st = parse_dnsperf.parse(out.read_text(errors="replace").splitlines())
    check(st.get("completed", 0) >= qps * seconds * 0.5, f"dnsperf: {st}")
    sums = [p for n, p in polls if n == "summary"]
    check(len(sums) >= 5, f"only {len(sums)} summaries polled")
    for s in sums:
        eq(s["lookups"], s["blocked"] + s["logged"], "lookups = blocked + logged")
    seen = [s["lookups"] for s in sums]
    eq(seen, sorted(seen), "lookups over the polls (never decreasing)")
    for n, p in polls:
        if n == "timeline":
            check(all(len(x["counts"]) == 1440 for x in p["series"]), "timeline shape")
        if n == "blocks":
            check(len(p["blocks"]) <= 100, "at most 100 latest blocks")
    # Every query answered was logged (or its record dropped by a full ring), and once the
    # writer has written them all (it may wait up to 200 ms to start), the dashboard saw each.
    def caught_up():
        x = api("summary")
        got = x["blocked"] - base["blocked"]
        dropped = x["block_log"]["dropped"] - base["block_log"]["dropped"]
        written = x["block_log"]["written"] - base["block_log"]["written"]
        if got + dropped >= int(st["completed"]) and x["records"] - base["records"] == written:
            return x
        return None
    s = h.wait_until(caught_up, 10, what="the dashboard to count every query dnsperf got "
                     "answered")
    t = api("timeline")
    eq(sum(x["total"] for x in t["series"]), s["lookups_24h"], "timeline vs summary")
    eq(s["lookups_24h"], s["lookups"], "every lookup in the last 24 h")
    got = s["blocked"] - base["blocked"]
    check(got <= int(st["sent"]), f"blocked {got} vs dnsperf {st}")
    eq(len(log()), s["block_log"]["written"], "block-log lines")
    print(f"     dnsperf sent {st['sent']}, completed {st['completed']}; {len(sums)} summaries "
          f"and {len(polls)} answers polled, {got} lookups counted")


if __name__ == "__main__":
    h.run_tests([test_traffic, test_beacon_in_block_log, test_api_summary, test_api_timeline,
                 test_api_top, test_api_blocks, test_api_retro, test_api_beacons,
                 test_api_lists, test_http_status, test_browser_renders_page,
                 test_api_under_load], env=env, setup=setup)
