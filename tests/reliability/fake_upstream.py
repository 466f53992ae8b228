#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A misbehaving UDP upstream on 127.0.0.1 for tests/reliability (Python 3 stdlib only).

  fake_upstream.py MODE PORTFILE [--delay S]

binds 127.0.0.1 on a port the kernel picks, writes the port to PORTFILE, then serves until
SIGTERM. Every question gets the same answer, A 192.0.2.1 (TTL 300), when it gets one:

  good         answer at once
  slow         answer after --delay seconds (default 1.0)
  blackhole    read every query, never answer
  garbage      first junk, then the genuine answer: random bytes, a cut header, the answer
               with a mismatched ID, the answer to another question, a query (QR=0) with the
               right ID, the answer from another source port; then the right answer
  garbage-only the junk of `garbage`, never the genuine answer

Counts (queries received, packets sent) are printed to stdout at exit.
"""

import heapq
import os
import random
import select
import signal
import socket
import struct
import sys
import time

MODES = ("good", "slow", "blackhole", "garbage", "garbage-only")


def parse_question(data):
    """(id, rd, question bytes incl. type/class) of a query, or None if it is not one."""
    if len(data) < 17:
        return None
    qid, flags, qd = struct.unpack("!HHH", data[:6])
    if flags & 0x8000 or qd != 1:
        return None
    off = 12
    for _ in range(128):
        if off >= len(data):
            return None
        ln = data[off]
        if ln == 0:
            off += 1
            break
        if ln & 0xC0:
            return None
        off += 1 + ln
    else:
        return None
    if off + 4 > len(data):
        return None
    return qid, bool(flags & 0x0100), data[12:off + 4]


def answer(qid, rd, question, qr=True):
    flags = (0x8000 if qr else 0) | (0x0100 if rd else 0) | 0x0080
    qtype = struct.unpack("!H", question[-4:-2])[0]
    an = 1 if qr and qtype == 1 else 0
    pkt = struct.pack("!HHHHHH", qid, flags, 1, an, 0, 0) + question
    if an:
        pkt += b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 300, 4) + bytes([192, 0, 2, 1])
    return pkt


def other_question(question):
    """The same question for another name (first label's first byte changed)."""
    q = bytearray(question)
    if len(q) > 5 and q[0] > 0:
        q[1] = ord("z") if q[1] != ord("z") else ord("y")
    return bytes(q)


def junk(qid, rd, question):
    """The forged or broken packets of the garbage modes, in sending order."""
    rnd = random.Random(qid)
    good = answer(qid, rd, question)
    return [
        bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 64))),  # noise
        good[:7],                                                        # cut header
        good[:14],                                                       # cut question
        answer(qid ^ 0x5A5A, rd, question),                              # wrong ID
        answer(qid, rd, other_question(question)),                       # wrong question
        answer(qid, rd, question, qr=False),                             # a query, not a reply
    ]


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in MODES:
        sys.exit(f"usage: {sys.argv[0]} {{{'|'.join(MODES)}}} PORTFILE [--delay S]")
    mode, portfile = sys.argv[1], sys.argv[2]
    delay = float(sys.argv[sys.argv.index("--delay") + 1]) if "--delay" in sys.argv else 1.0

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    sock.bind(("127.0.0.1", 0))
    forger = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # another source port
    forger.bind(("127.0.0.1", 0))
    tmp = portfile + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(sock.getsockname()[1]))
    os.replace(tmp, portfile)

    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    received = sent = 0
    later = []  # heap of (due, seq, packet, peer) for the slow mode
    seq = 0

    def send(pkt, peer, via=sock):
        nonlocal sent
        try:
            via.sendto(pkt, peer)
            sent += 1
        except OSError:
            pass

    while not stop:
        now = time.monotonic()
        while later and later[0][0] <= now:
            _, _, pkt, peer = heapq.heappop(later)
            send(pkt, peer)
        wait = 0.2 if not later else max(0.0, min(0.2, later[0][0] - now))
        try:
            ready, _, _ = select.select([sock], [], [], wait)
        except InterruptedError:
            continue
        if not ready:
            continue
        for _ in range(256):  # drain what is queued, bounded
            try:
                data, peer = sock.recvfrom(65535, socket.MSG_DONTWAIT)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                break
            received += 1
            q = parse_question(data)
            if q is None or mode == "blackhole":
                continue
            qid, rd, question = q
            if mode in ("garbage", "garbage-only"):
                for pkt in junk(qid, rd, question):
                    send(pkt, peer)
                send(answer(qid, rd, question), peer, via=forger)  # right packet, wrong port
                if mode == "garbage":
                    send(answer(qid, rd, question), peer)
            elif mode == "slow":
                seq += 1
                heapq.heappush(later, (time.monotonic() + delay, seq, answer(qid, rd, question),
                                       peer))
            else:
                send(answer(qid, rd, question), peer)
    print(f"fake upstream {mode}: received {received}, sent {sent}", flush=True)


if __name__ == "__main__":
    main()
