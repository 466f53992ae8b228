#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Crafted packets (DESIGN.md section 5): drops, FORMERR, BADVERS and NOTIMP answers that
echo the ID, TCP framing edge cases, and the daemon alive and sanitizer-clean afterwards."""

import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import eq, check  # noqa: E402

DROP_WAIT = 0.5  # how long "no answer" is waited for

env = h.Env()
S = {}


def setup():
    _, S["up"] = env.start_upstream()
    h.write_file(env.path("blocklist.yaml"), "block:\n  - evil.test\n")
    S["port"] = h.free_port()
    cfg = h.write_config(env.tmp, S["port"], [S["up"]])
    S["daemon"] = env.start_daemon(cfg, S["port"])
    # Opened now so that the idle-timeout test at the end waits less.
    S["idle"] = socket.create_connection(("127.0.0.1", S["port"]), timeout=3)
    S["idle_t0"] = time.monotonic()


QUESTION = h.name_to_wire("www.example.org") + struct.pack("!HH", h.T_A, 1)


def udp(pkt, timeout=2.0):
    data = h.udp_exchange(S["port"], pkt, timeout)
    return h.Msg(data) if data is not None else None


def expect_rcode(pkt, rcode, what, tcp=False):
    """Send pkt; the answer must have rcode and echo the ID, with QR=1."""
    if tcp:
        data = h.tcp_exchange(S["port"], pkt)
        m = h.Msg(data) if data is not None else None
    else:
        m = udp(pkt)
    check(m is not None, f"{what}: no answer")
    eq(m.rcode, rcode, f"{what}: rcode")
    eq(m.id, struct.unpack("!H", pkt[:2])[0], f"{what}: ID echoed")
    check(m.qr, f"{what}: QR not set")
    eq(m.answer, [], f"{what}: answer section")
    return m


def expect_drop(pkt, what):
    check(udp(pkt, DROP_WAIT) is None, f"{what}: got an answer, want none")


def hdr(qid, qd=1, ar=0, **flag_kw):
    return h.header(qid, h.make_flags(**flag_kw), qd, 0, 0, ar)


# --- dropped ------------------------------------------------------------------------------

def test_short_packet_dropped():
    expect_drop(b"\x12\x34\x01\x00\x00", "5-byte packet")
    expect_drop(b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00", "11-byte packet")


def test_response_dropped():
    expect_drop(hdr(0x2001, qr=True) + QUESTION, "QR=1")


# --- FORMERR ------------------------------------------------------------------------------

def test_cut_qname_formerr():
    expect_rcode(hdr(0x3001) + b"\x03www\x07exa", h.FORMERR, "qname cut inside a label")
    expect_rcode(hdr(0x3002) + b"\x03www\x07example", h.FORMERR, "qname without root label")
    expect_rcode(hdr(0x3003) + h.name_to_wire("www.example.org") + b"\x00", h.FORMERR,
                 "question cut in QTYPE/QCLASS")


def test_compression_pointer_formerr():
    # A pointer to itself (offset 12), and a two-pointer loop.
    expect_rcode(hdr(0x3101) + b"\xc0\x0c" + b"\x00\x01\x00\x01", h.FORMERR, "self pointer")
    expect_rcode(hdr(0x3102) + b"\xc0\x0e\xc0\x0c\x00\x01\x00\x01", h.FORMERR,
                 "two pointers to each other")
    expect_rcode(hdr(0x3103) + b"\x01a\xc0\x0e", h.FORMERR, "label, then a self pointer")


def test_reserved_label_types_formerr():
    for first in (0x40, 0x41, 0x80, 0xBF):
        pkt = hdr(0x3200 + first) + bytes([first]) + b"x" * 70 + b"\x00\x00\x01\x00\x01"
        expect_rcode(pkt, h.FORMERR, f"label type byte {first:#x}")


def test_name_too_long_formerr():
    # 5 labels of 63 bytes: 320 bytes of wire name, above the 255 limit.
    name = (b"\x3f" + b"a" * 63) * 5 + b"\x00"
    expect_rcode(hdr(0x3301) + name + b"\x00\x01\x00\x01", h.FORMERR, "name > 255 bytes")


def test_qdcount_not_one_formerr():
    expect_rcode(hdr(0x3401, qd=0), h.FORMERR, "QDCOUNT 0")
    expect_rcode(hdr(0x3402, qd=2) + QUESTION + QUESTION, h.FORMERR, "QDCOUNT 2")
    expect_rcode(hdr(0x3403, qd=0), h.FORMERR, "QDCOUNT 0 over TCP", tcp=True)


def test_two_opt_records_formerr():
    pkt = hdr(0x3501, ar=2) + QUESTION + h.opt_rr() + h.opt_rr()
    expect_rcode(pkt, h.FORMERR, "two OPT records")


# --- BADVERS and NOTIMP -----------------------------------------------------------------

def test_edns_version_1_badvers():
    pkt = hdr(0x3601, ar=1) + QUESTION + h.opt_rr(version=1)
    for tcp in (False, True):
        m = expect_rcode(pkt, h.BADVERS, f"EDNS version 1 (tcp={tcp})", tcp=tcp)
        eq(m.n_opt, 1, "OPT records in the BADVERS answer")
        eq(m.opt["ext_rcode"], h.BADVERS >> 4, "extended rcode bits in the OPT")
        eq(m.flags & 0xF, h.BADVERS & 0xF, "header rcode bits")
        eq(m.opt["version"], 0, "our EDNS version")


def test_other_opcodes_notimp():
    for opcode, name in ((h.OP_IQUERY, "IQUERY"), (h.OP_STATUS, "STATUS"),
                         (h.OP_NOTIFY, "NOTIFY"), (h.OP_UPDATE, "UPDATE")):
        m = expect_rcode(hdr(0x3700 + opcode, opcode=opcode) + QUESTION, h.NOTIMP, name)
        eq(m.opcode, opcode, f"{name}: opcode echoed")


# --- TCP framing --------------------------------------------------------------------------

def test_tcp_partial_writes():
    # The frame arrives a byte at a time: the daemon must reassemble it (RFC 7766).
    pkt = h.build_query("evil.test", h.T_A, qid=0x3801)
    frame = h.tcp_frame(pkt)
    with socket.create_connection(("127.0.0.1", S["port"]), timeout=3) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for i in range(len(frame)):
            s.sendall(frame[i:i + 1])
            time.sleep(0.005)
        data = h.tcp_read_msg(s)
    check(data is not None, "no answer to a byte-by-byte TCP query")
    m = h.Msg(data)
    eq(m.id, 0x3801, "ID")
    eq(m.addresses(), ["0.0.0.0"], "answer")


def test_tcp_pipelined_queries():
    ids = [0x3901, 0x3902, 0x3903]
    names = ["evil.test", "www.example.org", "a.evil.test"]
    frames = b"".join(h.tcp_frame(h.build_query(n, h.T_A, qid=i)) for n, i in zip(names, ids))
    got = {}
    with socket.create_connection(("127.0.0.1", S["port"]), timeout=3) as s:
        s.sendall(frames)  # three queries in one write
        for _ in ids:
            data = h.tcp_read_msg(s)
            check(data is not None, f"answers so far {sorted(got)}: one is missing")
            m = h.Msg(data)
            got[m.id] = m.addresses()
    eq(got, {0x3901: ["0.0.0.0"], 0x3902: ["192.0.2.11"], 0x3903: ["0.0.0.0"]},
       "pipelined answers by ID")


def test_tcp_malformed_then_valid_on_same_connection():
    with socket.create_connection(("127.0.0.1", S["port"]), timeout=3) as s:
        s.sendall(h.tcp_frame(hdr(0x3a01, qd=2) + QUESTION + QUESTION))
        m = h.Msg(h.tcp_read_msg(s) or b"\0" * 12)
        eq((m.id, m.rcode), (0x3a01, h.FORMERR), "FORMERR over TCP")
        s.sendall(h.tcp_frame(h.build_query("evil.test", h.T_A, qid=0x3a02)))
        data = h.tcp_read_msg(s)
    check(data is not None, "connection unusable after a FORMERR")
    eq(h.Msg(data).addresses(), ["0.0.0.0"], "answer after a FORMERR")


def test_tcp_idle_timeout():
    # DESIGN.md: idle TCP connections are closed after 10 s.
    s = S["idle"]
    with s:
        s.settimeout(max(0.1, S["idle_t0"] + 14 - time.monotonic()))
        try:
            data = s.recv(1)
        except socket.timeout:
            data = None
        except ConnectionResetError:
            data = b""
        dt = time.monotonic() - S["idle_t0"]
    check(data is not None, f"idle TCP connection still open after {dt:.1f} s")
    eq(data, b"", "bytes on an idle connection")
    check(9 <= dt <= 14, f"idle connection closed after {dt:.1f} s, want about 10 s")


# --- still alive --------------------------------------------------------------------------

def test_daemon_still_answers():
    check(S["daemon"].alive(), f"daemon exited with {S['daemon'].popen.returncode}")
    r = h.dig(S["port"], "www.example.org", edns=False)
    eq((r.status, r.rdatas("A")), ("NOERROR", ["192.0.2.11"]), "forwarded answer")
    r = h.dig(S["port"], "evil.test", tcp=True)
    eq((r.status, r.rdatas("A")), ("NOERROR", ["0.0.0.0"]), "sinkhole answer over TCP")
    check(not env.sanitizer_reports(), "sanitizer reports:\n" + "\n".join(env.sanitizer_reports()))


if __name__ == "__main__":
    h.run_tests([v for k, v in list(globals().items()) if k.startswith("test_")],
                env=env, setup=setup)
