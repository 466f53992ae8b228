#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Instruction budgets: run the budget driver under callgrind, divide each path's instruction
count by its operations, print a table and fail when a path exceeds its budget (budgets.txt).

usage: run.py [--valgrind PROG] [--budgets FILE] [--out DIR] DRIVER [PATH...]
       run.py --inflate PCT [...] DRIVER PATH...

With --inflate, each PATH is measured as it is, then again with PCT% more instructions per
operation (a loop the driver adds, SINKHOLED_BUDGET_BURN): it succeeds only when the path is
within its budget as it is and over it inflated, i.e. when the budgets would catch a change that
makes the path PCT% dearer (`ctest -L budget` runs it with 10 on the blocked query).

Each path runs in a valgrind process of its own; its callgrind dump stays in DIR (default
./budget-callgrind): `callgrind_annotate --threshold=100 DIR/callgrind.out.PATH.1-01` shows
where the path's instructions go.
"""
import argparse
import concurrent.futures
import glob
import os
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def read_budgets(path):
    """{path: budget} from lines `NAME BUDGET  # comment`, in file order."""
    budgets = {}
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            fields = line.split()
            if len(fields) != 2 or not fields[1].isdigit():
                sys.exit(f"{path}:{n}: expected `PATH INSTRUCTIONS_PER_OP`")
            if fields[0] in budgets:
                sys.exit(f"{path}:{n}: {fields[0]} listed twice")
            budgets[fields[0]] = int(fields[1])
    return budgets


def read_dump(path):
    """(name, ops, instructions) of one callgrind dump made by measure_end(), or None."""
    name = ops = total = None
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = re.match(r"desc: Trigger: Client Request: (\S+) (\d+)$", line.rstrip("\n"))
            if m:
                name, ops = m.group(1), int(m.group(2))
            elif line.startswith(("totals:", "summary:")):
                total = int(line.split()[1])
            elif line.startswith(("fn=", "fl=", "ob=")):
                break  # past the header
    if name is None or total is None:
        return None
    return name, ops, total


def measure(valgrind, driver, out, name, burn=0):
    """(ops, instructions, dump) of one path, counted in the driver's main thread. Each path
    runs in a process of its own, so that no path's count depends on what ran before it (the
    heap's state, for one)."""
    cmd = [
        valgrind, "--tool=callgrind", "-q",
        "--collect-atstart=no",     # only between measure_begin() and measure_end()
        "--separate-threads=yes",   # the block-log writer thread is not the query path
        f"--callgrind-out-file={out}/callgrind.out.{name}",
        driver, name,
    ]
    # A fixed environment: its size moves the stack, and with it alignment-dependent code.
    env = {"PATH": "/usr/bin:/bin", "LC_ALL": "C"}
    if burn:
        env["SINKHOLED_BUDGET_BURN"] = str(burn)
    proc = subprocess.run(cmd, env=env, cwd=out, check=False)
    if proc.returncode != 0:
        return None
    for path in sorted(glob.glob(os.path.join(out, f"callgrind.out.{name}.*-01"))):
        dump = read_dump(path)
        if dump and dump[0] == name:
            return dump[1], dump[2], path
    return None


def inflate(args, budgets, driver, out, pct):
    """The self-test of the budgets: is a path PCT% dearer over its budget? 0 if every one is."""
    failed = []
    for name in args.paths:
        if name not in budgets:
            failed.append(f"{name}: no budget")
            continue
        base = measure(args.valgrind, driver, out, name)
        if base is None:
            failed.append(f"{name}: failed under callgrind")
            continue
        x = base[1] / base[0]
        want = x * pct / 100.0
        # The loop's instructions per iteration depend on the compiler: measure, then scale.
        iters, y = max(1, int(want / 3) + 1), None
        for _ in range(3):
            r = measure(args.valgrind, driver, out, name, burn=iters)
            if r is None:
                break
            y = r[1] / r[0]
            if y - x >= want:
                break
            iters = int(iters * want / max(y - x, 1.0)) + 1
        if y is None or y - x < want:
            failed.append(f"{name}: could not add {pct}% to it (measured {y})")
            continue
        b = budgets[name]
        print(f"{name}: {x:.1f} instructions/op, {y:.1f} with {100.0 * (y - x) / x:.1f}% added; "
              f"budget {b}: {'caught' if y > b else 'NOT caught'}")
        if x > b:
            failed.append(f"{name}: over its budget as it is ({x:.1f} > {b})")
        elif y <= b:
            failed.append(f"{name}: a change that adds {pct}% ({y:.1f} instructions/op) stays "
                          f"within its budget {b}: lower it to at most {x * (1 + pct / 100.0):.0f}")
    for f in failed:
        print(f"FAIL {f}", file=sys.stderr)
    return 1 if failed else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--valgrind", default="valgrind")
    ap.add_argument("--budgets", default=os.path.join(HERE, "budgets.txt"))
    ap.add_argument("--out", default="budget-callgrind")
    ap.add_argument("--inflate", type=float, metavar="PCT",
                    help="check that each PATH PCT%% dearer would be over its budget")
    ap.add_argument("driver")
    ap.add_argument("paths", nargs="*", help="only these paths (default: every path)")
    args = ap.parse_args()

    budgets = read_budgets(args.budgets)
    driver = os.path.abspath(args.driver)
    out = os.path.abspath(args.out)
    if args.inflate is not None:
        if not args.paths:
            sys.exit("run.py: --inflate needs the paths to inflate")
        shutil.rmtree(out, ignore_errors=True)
        os.makedirs(out)
        return inflate(args, budgets, driver, out, args.inflate)
    listed = subprocess.run([driver, "--list"], check=True, capture_output=True, text=True)
    known = [line.split()[0] for line in listed.stdout.splitlines() if line.strip()]
    names = list(budgets) + [n for n in known if n not in budgets]
    if args.paths:
        names = [n for n in names if n in args.paths]
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    failed = []
    print(f"{'path':<20} {'instructions/op':>16} {'budget':>10} {'of budget':>10}")
    # Two paths at a time: each count is the same whatever runs beside it.
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        results = dict(zip(names, pool.map(
            lambda n: measure(args.valgrind, driver, out, n) if n in known else None, names)))
    for name in names:
        result = results[name]
        if result is None:
            why = "failed under callgrind" if name in known else "not a path of the driver"
            print(f"{name:<20} {'not measured':>16} {budgets.get(name, 'none'):>10}")
            failed.append(f"{name}: {why}")
            continue
        ops, total, dump = result
        per_op = total / ops
        if name not in budgets:
            print(f"{name:<20} {per_op:>16.1f} {'none':>10}")
            failed.append(f"{name}: no budget in {os.path.basename(args.budgets)}")
            continue
        pct = 100.0 * per_op / budgets[name]
        mark = "  OVER BUDGET" if per_op > budgets[name] else ""
        print(f"{name:<20} {per_op:>16.1f} {budgets[name]:>10} {pct:>9.1f}%{mark}")
        if per_op > budgets[name]:
            failed.append(f"{name}: {per_op:.1f} instructions/op, budget {budgets[name]} "
                          f"(callgrind_annotate --threshold=100 {dump})")
    for f in failed:
        print(f"FAIL {f}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
