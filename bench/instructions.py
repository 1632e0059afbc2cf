#!/usr/bin/python3
"""Instructions per request under callgrind: a figure that a noisy machine does not move.

  bench/instructions.py [--requests N] [--proxies doorman,nginx,...] [--doorman PATH]

For each proxy and each case (proxied request to a near-free backend; static 1 KiB file)
the proxy runs under `valgrind --tool=callgrind --instr-atstart=no`. It is warmed up
uninstrumented, then instrumentation is switched on (callgrind_control -i on), httperf
sends N requests on 10 keep-alive connections one after another (one request in flight:
no batching, every request pays its own trip round the event loop), instrumentation is
switched off and the proxy stopped. Ir (user-space instructions executed, the proxy's
own code and its libraries; the kernel's work is not counted) divided by N is the
figure. docs/PERFORMANCE.md records the results and how to compare.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from lib import backends, load, procs, proxies, scenarios  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CASES = [("proxied", "/"), ("static-1k", "/static/1k.bin")]


def callgrind_total(path):
    with open(path) as f:
        text = f.read()
    # With --instr-atstart=no the "summary:" line stays 0; "totals:" has the events.
    m = re.search(r"^totals:\s+(\d+)", text, re.M)
    if not m:
        raise RuntimeError("no totals in %s" % path)
    return int(m.group(1))


def measure(name, ctx, backend, path, requests, out_dir):
    case = path.strip("/").replace("/", "_") or "root"
    out_file = os.path.join(out_dir, "callgrind.%s.%s.out" % (name, case))
    wrapper = ["valgrind", "--tool=callgrind", "--instr-atstart=no",
               "--callgrind-out-file=" + out_file]
    extra = ["-g", "master_process off;"] if name == "nginx" else []
    proxy = proxies.start(name, ctx.scratch, backend, ctx.static_root, ctx.doorman_binary,
                          wrapper=wrapper, extra_args=extra, start_timeout=60)
    try:
        load.httperf(proxy.port, path, 10, 100)  # warm-up, not instrumented
        subprocess.run(["callgrind_control", "-i", "on", str(proxy.process.pid)],
                       check=True, capture_output=True)
        sample = load.httperf(proxy.port, path, 10, requests // 10)
        subprocess.run(["callgrind_control", "-i", "off", str(proxy.process.pid)],
                       check=True, capture_output=True)
        if sample.non2xx or sample.errors or sample.requests != requests:
            raise RuntimeError("%s %s: %d requests, %d errors, %d non-2xx"
                               % (name, path, sample.requests, sample.errors, sample.non2xx))
    finally:
        proxy.process.stop(grace=30)
    return callgrind_total(out_file) / requests, out_file


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--requests", type=int, default=10000)
    p.add_argument("--proxies", default="doorman")
    p.add_argument("--doorman", default=os.path.join(REPO, "build", "release", "doorman"))
    p.add_argument("--keep", action="store_true", help="keep the callgrind output files")
    args = p.parse_args()
    scratch = tempfile.mkdtemp(prefix="doorman-callgrind-")
    os.chmod(scratch, 0o755)
    static_root = os.path.join(scratch, "static")
    scenarios.write_static_files(static_root)
    ctx = scenarios.Context(scenarios.Settings(True), scratch, static_root,
                            os.path.abspath(args.doorman))
    backend = backends.near_free(scratch)
    rows = []
    try:
        for name in args.proxies.split(","):
            for case, path in CASES:
                if case.startswith("static") and not proxies.serves_static(name):
                    continue
                per_request, out_file = measure(name, ctx, backend, path, args.requests, scratch)
                rows.append((name, case, per_request, out_file))
                print("%-8s %-10s %10.0f instructions/request" % (name, case, per_request),
                      flush=True)
    finally:
        backend.stop()
        procs.stop_all()
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)
    print("\n| proxy | case | instructions per request |\n|---|---|---|")
    for name, case, per_request, _ in rows:
        print("| %s | %s | %s |" % (name, case, "{:,.0f}".format(per_request)))
    if args.keep:
        print("\ncallgrind files in %s (callgrind_annotate FILE)" % scratch)


if __name__ == "__main__":
    main()
