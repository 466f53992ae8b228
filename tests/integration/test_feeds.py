#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Feeds (README "Feeds"): lists fetched over HTTP and HTTPS from a local server that changes
the feed, answers 304, 500, an HTML page with status 200, a truncated body, an oversized body,
and hangs. The right names are blocked after each step, a broken version never replaces the
good copy, no query running meanwhile is lost or answered unfiltered, the block log carries
the feed's metadata, and watched local files reload by themselves."""

import http.server
import os
import socketserver
import ssl
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import eq, check  # noqa: E402

env = h.Env()
S = {}


class Feed:
    """What the scripted server answers, changed by the tests."""

    def __init__(self, body):
        self.body = body
        self.mode = "good"
        self.version = 1
        self.requests = []  # (path, If-None-Match, status) of every request


FEEDS = {"/feed.txt": Feed("evil1.example\nevil2.example\n"),
         "/tls.txt": Feed("tls1.example\n"),
         # A ThreatFox JSON export (tests/data), its format sniffed (format: auto).
         "/threatfox.json": Feed((h.REPO / "tests" / "data" / "threatfox.json").read_text())}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet
        pass

    def do_GET(self):
        feed = FEEDS.get(self.path)
        if feed is None:
            self.send_error(404)
            return
        etag = f'"v{feed.version}"'
        mode = feed.mode
        inm = self.headers.get("If-None-Match")
        status = 200
        if mode == "500":
            status = 500
            self.send_error(500)
        elif mode == "hang":
            time.sleep(4)
            status = 0
        elif mode == "html":
            self._send(200, b"<html>\n<body>\n<h1>Service unavailable</h1>\n</body>\n</html>\n")
        elif mode == "truncated":
            body = feed.body.encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body) + 1000))
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
            self.close_connection = True
        elif mode == "big":
            self._send(200, b"x.example\n" * 1000)  # 10 kB, over max_size 4K
        elif inm == etag:
            status = 304
            self.send_response(304)
            self.send_header("ETag", etag)
            self.end_headers()
        else:
            self._send(200, feed.body.encode(), etag)
        feed.requests.append((self.path, inm, status))

    def _send(self, status, body, etag=None):
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        if etag:
            self.send_header("ETag", etag)
        self.end_headers()
        self.wfile.write(body)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def start_server(tls):
    srv = Server(("127.0.0.1", 0), Handler)
    if tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(env.path("server.pem"), env.path("server.key"))
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    S.setdefault("servers", []).append(srv)
    return srv.server_address[1]


def make_ca():
    """A CA and a server certificate for 127.0.0.1, made with the openssl command."""
    def run(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=env.tmp,
                       timeout=60)
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=test CA",
        "-keyout", "ca.key", "-out", "ca.pem")
    run("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout",
        "server.key", "-out", "server.csr")
    env.path("ext.cnf").write_text("subjectAltName=IP:127.0.0.1\n")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-days", "2", "-extfile", "ext.cnf", "-out", "server.pem")


def config_extra(http_port, https_port):
    return (
        "state_dir: state\n"
        "watch: true\n"
        "blocklists:\n"
        "  - local.txt\n"
        "  - name: testfeed\n"
        f"    url: \"http://127.0.0.1:{http_port}/feed.txt\"\n"
        "    format: domains\n"
        "    refresh: 1s\n"
        "    timeout: 2s\n"
        "    max_size: 4K\n"
        "    headers: {Auth-Key: \"secret key\"}\n"
        "    defaults: {malware: TestRAT, threat_type: botnet_cc, source: TestFeed,\n"
        "               confidence: 80}\n"
        "  - name: threatfox\n"
        f"    url: \"http://127.0.0.1:{http_port}/threatfox.json\"\n"
        "    defaults: {expires_after_days: 3650}\n"
        "  - name: tlsfeed\n"
        f"    url: \"https://127.0.0.1:{https_port}/tls.txt\"\n"
        "    ca_file: ca.pem\n"
        "    refresh: 1s\n")


def setup():
    make_ca()
    S["http"] = start_server(False)
    S["https"] = start_server(True)
    _, S["up"] = env.start_upstream()
    h.write_file(env.path("local.txt"), "local1.example\n")
    S["port"] = h.free_port()
    # Unlisted names go to an upstream that does not know them: a short timeout keeps the
    # waits for a name to become blocked short.
    cfg = h.write_config(env.tmp, S["port"], [S["up"]], blocklists=(), timeout_ms=100)
    text = cfg.read_text().replace("blocklists: []\n", "")
    cfg.write_text(text + config_extra(S["http"], S["https"]))
    S["cfg"] = cfg
    S["daemon"] = env.start_daemon(cfg, S["port"])
    S["log"] = env.path("blocked.jsonl")


def blocked(name):
    _, m = h.query(S["port"], name, h.T_A)
    check(m is not None, f"no answer for {name}")
    return m.addresses() == ["0.0.0.0"]


def wait_blocked(name, want=True, timeout=6):
    h.wait_until(lambda: blocked(name) == want, timeout,
                 what=f"{name} {'blocked' if want else 'not blocked'}")


class Load:
    """Queries for a listed name, one every 10 ms, over UDP; counts what went wrong."""

    def __init__(self, name):
        self.name, self.sent, self.lost, self.unfiltered = name, 0, 0, 0
        self.stop = threading.Event()
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        while not self.stop.is_set():
            _, m = h.query(S["port"], self.name, h.T_A, timeout=1.0)
            self.sent += 1
            if m is None:
                self.lost += 1
            elif m.addresses() != ["0.0.0.0"]:
                self.unfiltered += 1
            time.sleep(0.01)

    def end(self):
        self.stop.set()
        self.t.join(5)
        eq((self.lost, self.unfiltered), (0, 0),
           f"lost and unfiltered of {self.sent} queries during the feed changes")
        check(self.sent > 20, f"only {self.sent} queries sent")


def stderr_has(text, timeout=8):
    h.wait_until(lambda: text in S["daemon"].stderr(), timeout, what=f"stderr: {text}")


def test_fetched_at_start_with_metadata():
    wait_blocked("evil1.example")
    check(blocked("a.evil2.example"), "subdomain of a feed entry")
    check(blocked("local1.example"), "local list")
    wait_blocked("tls1.example")  # the HTTPS feed, checked against ca_file
    check(not blocked("example.org"), "unlisted name")
    def recs():
        return [r for r in h.read_log(S["log"]) if r.get("DnsQuery") == "evil1.example"]
    h.wait_until(recs, 5, what="a block-log record for evil1.example")
    r = recs()[-1]
    eq(r.get("ThreatName"), "TestRAT", "ThreatName from the feed's defaults")
    eq(r.get("ThreatConfidence"), 80, "ThreatConfidence")
    eq(r["AdditionalFields"].get("ListSource"), "TestFeed", "ListSource")
    eq(r["AdditionalFields"].get("ListFile"), "testfeed", "ListFile is the feed's name")
    check(os.path.exists(env.path("state", "feeds", "testfeed")), "copy in state_dir/feeds")
    stderr_has("testfeed: HTTP 200")


def test_threatfox_export_feed():
    """The README's promise: the ThreatFox JSON export as a feed blocks its domain IOCs, with
    the malware family and the IOC id in the block log."""
    wait_blocked("www.mobile1.com")

    def recs():
        return [r for r in h.read_log(S["log"]) if r.get("DnsQuery") == "www.mobile1.com"]
    h.wait_until(recs, 5, what="a block-log record for www.mobile1.com")
    r = recs()[-1]
    eq(r.get("ThreatName"), "NanoCore RAT", "ThreatName from malware_printable")
    eq(r.get("ThreatConfidence"), 75, "ThreatConfidence from confidence_level")
    eq(r.get("ThreatCategory"), "botnet_cc", "ThreatCategory")
    eq(r.get("ThreatId"), "1234567", "the IOC id (ThreatId)")
    eq(r["AdditionalFields"].get("ListSource"), "ThreatFox", "ListSource")
    eq(r["AdditionalFields"].get("ListFile"), "threatfox", "ListFile")
    stderr_has("threatfox: HTTP 200")


def test_conditional_get_304():
    feed = FEEDS["/feed.txt"]
    h.wait_until(lambda: any(s == 304 for _, _, s in feed.requests), 6,
                 what="a 304 answer to a conditional GET")
    check(any(inm == '"v1"' for _, inm, _ in feed.requests), "If-None-Match sent")
    stderr_has("testfeed: not modified (HTTP 304)")


def test_feed_changes_followed():
    feed = FEEDS["/feed.txt"]
    feed.body = "evil1.example\nevil3.example\n"
    feed.version = 2
    wait_blocked("evil3.example")
    wait_blocked("evil2.example", want=False)


def test_broken_versions_keep_the_good_copy():
    load = Load("evil1.example")
    feed = FEEDS["/feed.txt"]
    good = env.path("state", "feeds", "testfeed").read_text()
    for mode, msg in (("500", "HTTP 500"), ("html", "HTTP 200 but not used"),
                      ("truncated", "testfeed: error:"), ("big", "larger than max_size"),
                      ("hang", "timed out")):
        n = S["daemon"].stderr().count(msg)
        feed.mode = mode
        h.wait_until(lambda: S["daemon"].stderr().count(msg) > n, 12,
                     what=f"the health line for {mode}")
        check(blocked("evil3.example"), f"the good copy still in use after {mode}")
        eq(env.path("state", "feeds", "testfeed").read_text(), good, f"copy after {mode}")
    stderr_has("keeping the copy in use")
    feed.mode = "good"
    feed.body = "evil1.example\nevil4.example\n"
    feed.version = 3
    wait_blocked("evil4.example", timeout=20)  # after the backoff
    load.end()


def test_fetch_command():
    r = env.run_daemon(["fetch", "-c", S["cfg"]], timeout=30)
    eq(r.returncode, 0, f"sinkholed fetch with every feed up: {r.stderr}")
    FEEDS["/tls.txt"].mode = "500"
    r = env.run_daemon(["fetch", "-c", S["cfg"]], timeout=30)
    eq(r.returncode, 1, "sinkholed fetch with a feed failing")
    check("tlsfeed: error: HTTP 500" in r.stderr, f"health line: {r.stderr}")
    FEEDS["/tls.txt"].mode = "good"
    check(blocked("tls1.example"), "the HTTPS feed's copy kept")


def test_watched_file_in_place_and_renamed():
    load = Load("local1.example")
    path = env.path("local.txt")
    with open(path, "a") as f:  # in place
        f.write("local2.example\n")
    t0 = time.monotonic()
    wait_blocked("local2.example", timeout=3)
    check(time.monotonic() - t0 < 1.5, "reloaded within a second or so")
    h.write_file(path, "local1.example\nlocal3.example\n")  # by rename
    t0 = time.monotonic()
    wait_blocked("local3.example", timeout=3)
    check(time.monotonic() - t0 < 1.5, "reloaded within a second or so")
    wait_blocked("local2.example", want=False)
    load.end()


def test_broken_local_edit_keeps_list():
    h.write_file(env.path("local.txt"), "local1.example\nlocal3.example\nbad..name\n")
    stderr_has("local.txt is not valid: still using its previous version")
    check(blocked("local3.example"), "previous version of the local list in use")


if __name__ == "__main__":
    h.run_tests([v for k, v in list(globals().items()) if k.startswith("test_")],
                env=env, setup=setup)
