#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The service manager's notification protocol (systemd Type=notify), against a socket of our
own as $NOTIFY_SOCKET: READY=1 only once the lists are loaded and the sockets answer,
RELOADING=1 then READY=1 with a STATUS= line around a reload (also a failed one), WATCHDOG=1
at half of WATCHDOG_USEC, STOPPING=1 on SIGTERM."""

import os
import signal
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import eq, check  # noqa: E402

env = h.Env()
S = {}


def messages(timeout=0.2):
    """Every datagram received so far (each a dict of its KEY=value lines)."""
    out = []
    S["sock"].settimeout(timeout)
    while True:
        try:
            data = S["sock"].recv(4096)
        except (socket.timeout, BlockingIOError):
            return out
        out.append(dict(line.split("=", 1) for line in data.decode().splitlines() if "=" in line))


def wait_message(pred, timeout, what):
    """The first message, received or queued, that pred accepts; those before it are
    consumed, those after it stay queued (a reload's RELOADING=1 and READY=1 may arrive
    together)."""
    got = []
    deadline = time.monotonic() + timeout
    while True:
        while S["queue"]:
            m = S["queue"].pop(0)
            got.append(m)
            if pred(m):
                return m
        if time.monotonic() >= deadline:
            break
        S["queue"] += messages()
    shown = [m for m in got if "WATCHDOG" not in m]
    raise AssertionError(f"no {what} within {timeout} s; got {shown} and "
                         f"{len(got) - len(shown)} WATCHDOG=1")


def setup():
    _, S["up"] = env.start_upstream()
    # A list big enough that the load takes a moment: READY must wait for it.
    names = "".join(f"  - n{i}.notify.test\n" for i in range(200000))
    h.write_file(env.path("blocklist.yaml"), "block:\n  - www.mobile1.com\n" + names)
    S["port"] = h.free_port()
    S["cfg"] = h.write_config(env.tmp, S["port"], [S["up"]])
    path = str(env.path("notify.sock"))
    S["sock"] = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    S["sock"].bind(path)
    S["queue"] = []
    # No WATCHDOG_PID: the pid is not known before the start (systemd sets it, and
    # sinkholed then checks it is its own).
    e = dict(os.environ, NOTIFY_SOCKET=path, WATCHDOG_USEC="400000")
    e.pop("WATCHDOG_PID", None)
    S["daemon"] = h.Proc("sinkholed", h.wrap_argv([h.sinkholed_bin(), "-c", S["cfg"]], env.tmp,
                                                   "sinkholed"), env.tmp, env=e)
    env.procs.append(S["daemon"])
    env.daemons.append(S["daemon"])


def test_ready_once_serving():
    m = wait_message(lambda m: m.get("READY") == "1", 30 * h.SLOW, "READY=1")
    # Ready means answering, with the whole list loaded.
    _, r = h.query(S["port"], "n199999.notify.test", h.T_A)
    check(r is not None and r.addresses() == ["0.0.0.0"], "blocked right after READY=1")
    check("200001 blocked names" in m.get("STATUS", ""), f"STATUS says what is loaded: {m}")


def test_watchdog():
    S["queue"] = [m for m in S["queue"] + messages() if "WATCHDOG" not in m]
    n = 0
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        for m in messages():
            if m.get("WATCHDOG") == "1":
                n += 1
            else:
                S["queue"].append(m)
    check(n >= 4, f"{n} WATCHDOG=1 in 2 s with WATCHDOG_USEC=400000 (every 200 ms expected)")


def test_reload():
    S["daemon"].signal(signal.SIGHUP)
    m = wait_message(lambda m: m.get("RELOADING") == "1", 5, "RELOADING=1")
    check(int(m.get("MONOTONIC_USEC", "0")) > 0, f"MONOTONIC_USEC with RELOADING=1: {m}")
    m = wait_message(lambda m: m.get("READY") == "1", 30 * h.SLOW, "READY=1 after the reload")
    check(m.get("STATUS", "").startswith("reloaded: 200001 blocked names"), f"STATUS: {m}")


def test_failed_reload_reports_status():
    cfg = S["cfg"].read_text()
    S["cfg"].write_text(cfg + "tpyo: 1\n")
    try:
        S["daemon"].signal(signal.SIGHUP)
        wait_message(lambda m: m.get("RELOADING") == "1", 5, "RELOADING=1")
        m = wait_message(lambda m: m.get("READY") == "1", 30 * h.SLOW, "READY=1 (failed)")
        status = m.get("STATUS", "")
        check(status.startswith("reload failed"), f"STATUS: {m}")
        check("tpyo" in status and ":" in status, f"STATUS names the error: {status}")
    finally:
        S["cfg"].write_text(cfg)


def test_stopping():
    S["daemon"].signal(signal.SIGTERM)
    wait_message(lambda m: m.get("STOPPING") == "1", 5, "STOPPING=1")
    eq(S["daemon"].wait(5), 0, "exit code after SIGTERM")


if __name__ == "__main__":
    h.run_tests([v for k, v in list(globals().items()) if k.startswith("test_")],
                env=env, setup=setup)
