#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Scale-out (README "Scale-out"): dnsdist, with the shipped conf/dnsdist/dnsdist.conf (its
addresses replaced by loopback ports), in front of two sinkholed instances. Queries are
spread over both; blocked names are blocked through dnsdist over UDP and TCP; the block logs
show the real client address (PROXY protocol v2, accepted only from access.trusted_proxies,
and a header from anybody else is dropped); when one instance is killed, no query fails once
dnsdist's health check has noticed."""

import os
import shutil
import signal
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import eq, check  # noqa: E402

env = h.Env()
S = {}
CLIENT = "127.0.0.3"  # the client, as dnsdist sees it
SPOOFER = "127.0.0.2"  # a host that is not a trusted proxy
ZONE = h.ZONE + [("a.root-servers.net.", "A", "NOERROR",
                  ["a.root-servers.net. 300 IN A 198.41.0.4"], [])]  # dnsdist's health check
BLOCKLIST = "block:\n  - malware: Scale Test\n    domains: [bad.example]\n"


def proxy_v2(src, sport, dst="127.0.0.1", dport=53):
    """A PROXY v2 header: UDP over IPv4, src:sport -> dst:dport."""
    body = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!HH", sport, dport)
    return (b"\r\n\r\n\x00\r\nQUIT\n" + bytes([0x21, 0x12]) + struct.pack("!H", len(body)) +
            body)


def instance(n):
    d = env.path(f"i{n}")
    d.mkdir()
    h.write_file(d / "blocklist.yaml", BLOCKLIST)
    port = h.free_port(ipv6=False)
    cfg = h.write_config(d, port, [S["up"]], ipv6_listen=False, allow=("127.0.0.0/8",))
    text = cfg.read_text().replace("access:\n", 'access:\n  trusted_proxies: ["127.0.0.1/32"]\n')
    cfg.write_text(text)
    proc = env.start_daemon(cfg, port, name=f"sinkholed{n}")
    return {"port": port, "proc": proc, "log": d / "blocked.jsonl"}


def setup():
    if shutil.which("dnsdist") is None:
        raise RuntimeError("dnsdist not found: apt-get install dnsdist (sh tests/deps.sh test)")
    _, S["up"] = env.start_upstream(zone=ZONE)
    S["i"] = [instance(1), instance(2)]
    S["port"] = h.free_port(ipv6=False)
    conf = (h.REPO / "conf" / "dnsdist" / "dnsdist.conf").read_text()
    for old, new in (('setLocal("0.0.0.0:53")', f'setLocal("127.0.0.1:{S["port"]}")'),
                     ("192.0.2.21:53", f"127.0.0.1:{S['i'][0]['port']}"),
                     ("192.0.2.22:53", f"127.0.0.1:{S['i'][1]['port']}")):
        check(old in conf, f"conf/dnsdist/dnsdist.conf has {old}")
        conf = conf.replace(old, new)
    env.path("dnsdist.conf").write_text(conf)
    S["dnsdist"] = h.Proc("dnsdist", ["dnsdist", "--supervised", "--disable-syslog", "-C",
                                      env.path("dnsdist.conf")], env.tmp)
    env.procs.append(S["dnsdist"])
    # Up once both instances passed their health checks (rise=2).
    h.wait_until(lambda: S["dnsdist"].alive() and answer(f"up.bad.example") == ["0.0.0.0"], 20,
                 what="dnsdist answering")
    time.sleep(2.5)


def answer(name, src=CLIENT, tcp=False, port=None, timeout=2.0):
    """The addresses answered for name A, sent from src; None without an answer."""
    port = port or S["port"]
    pkt = h.build_query(name, h.T_A)
    if tcp:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.bind((src, 0))
            s.settimeout(timeout)
            s.connect(("127.0.0.1", port))
            s.sendall(h.tcp_frame(pkt))
            data = h.tcp_read_msg(s, timeout)
        except OSError:
            data = None
        finally:
            s.close()
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((src, 0))
        try:
            data = h.udp_exchange(port, pkt, timeout, sock=s)
        finally:
            s.close()
    return None if data is None else h.Msg(data).addresses()


def records(i):
    return h.read_log(S["i"][i]["log"])


def test_spread_and_real_client_address():
    names = [f"n{k}.bad.example" for k in range(60)]
    for n in names:
        eq(answer(n), ["0.0.0.0"], f"{n} through dnsdist")

    def logged():
        got = {r["DnsQuery"] for i in (0, 1) for r in records(i)}
        return all(n in got for n in names)
    h.wait_until(logged, 5, what="a block-log line for every query")
    per = [sum(1 for r in records(i) if r["DnsQuery"] in names) for i in (0, 1)]
    check(per[0] > 0 and per[1] > 0, f"queries spread over both instances: {per}")
    for i in (0, 1):
        for r in records(i):
            if r["DnsQuery"] in names:
                eq(r["SrcIpAddr"], CLIENT, "SrcIpAddr is the client's, not dnsdist's")


def test_tcp_through_dnsdist():
    eq(answer("tcp1.bad.example", tcp=True), ["0.0.0.0"], "blocked over TCP through dnsdist")
    h.wait_until(lambda: any(r["DnsQuery"] == "tcp1.bad.example" and r["SrcIpAddr"] == CLIENT
                             and r["NetworkProtocol"] == "TCP"
                             for i in (0, 1) for r in records(i)), 5,
                 what="a TCP block-log line with the client's address")


def test_forwarded_through_dnsdist():
    eq(answer("www.example.org"), ["192.0.2.11"], "a forwarded name through dnsdist")


def test_header_from_untrusted_peer_is_dropped():
    port = S["i"][0]["port"]
    pkt = proxy_v2("10.9.9.9", 4242) + h.build_query("spoof.bad.example", h.T_A)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((SPOOFER, 0))
    try:
        reply = h.udp_exchange(port, pkt, 1.0, sock=s)
    finally:
        s.close()
    check(reply is None, "a PROXY header from a peer not in trusted_proxies gets no answer")
    # Over TCP the connection is closed.
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((SPOOFER, 0))
    s.settimeout(2)
    s.connect(("127.0.0.1", port))
    s.sendall(proxy_v2("10.9.9.9", 4242) + h.tcp_frame(h.build_query("spoof2.bad.example")))
    try:
        data = s.recv(100)
    except OSError:
        data = b""
    s.close()
    eq(data, b"", "TCP: closed without an answer")
    # A query without a header from that peer is answered, under its own address.
    eq(answer("plain.bad.example", src=SPOOFER, port=port), ["0.0.0.0"], "plain query")
    time.sleep(0.5)
    for i in (0, 1):
        for r in records(i):
            check(r["SrcIpAddr"] != "10.9.9.9", f"spoofed address logged: {r}")


def test_one_instance_killed():
    victim = S["i"][1]["proc"]
    # Its death is the test, not a finding: under valgrind (tests/reliability/valgrind.sh) a
    # killed daemon leaves no ERROR SUMMARY, which the harness would report.
    env.daemons.remove(victim)
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait(5)
    time.sleep(4)  # 2 failed checks, 1 s apart, and a margin
    failed = 0
    for k in range(200):
        if answer(f"k{k}.bad.example", timeout=1.0) != ["0.0.0.0"]:
            failed += 1
    eq(failed, 0, "queries failed through dnsdist after its health check noticed")


if __name__ == "__main__":
    h.run_tests([v for k, v in list(globals().items()) if k.startswith("test_")],
                env=env, setup=setup)
