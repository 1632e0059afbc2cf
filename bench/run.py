#!/usr/bin/python3
"""doorman side by side with nginx, HAProxy and h2o (`make bench`).

  bench/run.py [--quick] [--scenario N|KEY]... [--proxies doorman,nginx,...]
               [--rounds N] [--doorman PATH] [--out FILE]

Each proxy runs one worker pinned to core 1; load generators, attackers and the backends
run on core 0. Proxies are interleaved within every case and the cases repeated round
after round; the report gives medians. See bench/README.md.
"""

import argparse
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from lib import load, procs, proxies, report, scenarios  # noqa: E402

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH_DIR)
TOOLS = ["taskset", "nginx", "haproxy", "h2o", "wrk", "httperf", "ab", "slowhttptest",
         "/usr/bin/gunicorn"]


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="one round, ~2 s per load run")
    p.add_argument("--scenario", action="append", default=[],
                   help="scenario number (1-9) or case key; repeatable; default: all")
    p.add_argument("--proxies", default=",".join(proxies.ALL))
    p.add_argument("--rounds", type=int, help="override the number of rounds")
    p.add_argument("--seconds", type=float, help="override the seconds per load run")
    p.add_argument("--doorman", default=os.path.join(REPO, "build", "release", "doorman"))
    p.add_argument("--out", help="markdown file (default bench/results/<date>[-quick].md)")
    p.add_argument("--keep", action="store_true", help="keep the scratch directory")
    return p.parse_args()


def git_describe():
    try:
        return subprocess.run(["git", "-C", REPO, "log", "-1", "--format=%h %<(60,trunc)%s"],
                              capture_output=True, text=True).stdout.strip()
    except OSError:
        return "?"


def versions():
    def first(argv):
        done = subprocess.run(argv, capture_output=True, text=True)
        return (done.stdout + done.stderr).strip().splitlines()[0]
    return "; ".join([first(["nginx", "-v"]), first(["haproxy", "-v"]),
                      first(["h2o", "--version"]), first(["wrk", "-v"])])


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


class Runner:
    def __init__(self, args, ctx, names):
        self.args = args
        self.ctx = ctx
        self.names = names
        self.results = {}
        self.t0 = time.monotonic()

    def log(self, msg):
        print("[%5.0fs] %s" % (time.monotonic() - self.t0, msg), flush=True)

    def start_proxy(self, name, backend):
        return proxies.start(name, self.ctx.scratch, backend, self.ctx.static_root,
                             self.ctx.doorman_binary)

    def run_group(self, group, cases):
        backend = group.start_backend(self.ctx)
        running = {}
        try:
            if any(not c.fresh for c in cases):
                for name in self.names:
                    running[name] = self.start_proxy(name, backend)
                warm = "/" if group.name == "near-free" else "/hello"
                for name in self.names:
                    load.wrk(running[name].url(warm), 8, self.ctx.s.warmup)
            for rnd in range(self.ctx.s.rounds):
                order = self.names[rnd % len(self.names):] + self.names[:rnd % len(self.names)]
                for case in cases:
                    if case.once and rnd > 0:
                        continue
                    for name in order:
                        if case.static and not proxies.serves_static(name):
                            continue
                        self.run_case(case, name, rnd, backend, running)
        finally:
            for p in running.values():
                p.stop()
            backend.stop()

    def run_case(self, case, name, rnd, backend, running):
        fresh = self.start_proxy(name, backend) if case.fresh else None
        proxy = fresh or running[name]
        try:
            fig = case.run(self.ctx, proxy)
        except (load.ToolFailed, RuntimeError, OSError) as e:
            fig = {"failed": str(e)[:500]}
        finally:
            if fresh:
                fresh.stop()
        if not fresh and proxy.process.poll() is not None:
            fig["failed"] = "%s exited with %s" % (name, proxy.process.poll())
            self.log("!! %s died; restarting it (see %s)" % (name, proxy.process.log_path))
            running[name] = self.start_proxy(name, backend)
        self.results.setdefault(case.key, {}).setdefault(name, []).append(fig)
        shown = {k: (round(v, 2) if isinstance(v, float) else v) for k, v in fig.items()
                 if k in ("rps", "p99_ms", "errors", "non2xx", "cpu_us", "bytes_per_conn",
                          "mbps", "failed", "attacker_cpu")}
        self.log("round %d %-14s %-8s %s" % (rnd + 1, case.key, name, shown))


def main():
    args = parse_args()
    for tool in TOOLS + [args.doorman]:
        if not shutil.which(tool):
            raise SystemExit("missing %s (make deps-bench; make release)" % tool)
    names = [n for n in args.proxies.split(",") if n]
    unknown = set(names) - set(proxies.ALL)
    if unknown:
        raise SystemExit("unknown proxies: %s" % ", ".join(sorted(unknown)))
    settings = scenarios.Settings(args.quick)
    if args.rounds:
        settings.rounds = args.rounds
    if args.seconds:
        settings.seconds = args.seconds
    chosen = scenarios.select(args.scenario)

    scratch = tempfile.mkdtemp(prefix="doorman-bench-")
    os.chmod(scratch, 0o755)  # nginx and h2o workers run as nobody under root
    static_root = os.path.join(scratch, "static")
    scenarios.write_static_files(static_root)
    ctx = scenarios.Context(settings, scratch, static_root, os.path.abspath(args.doorman))
    runner = Runner(args, ctx, names)
    started = datetime.datetime.now(datetime.timezone.utc)
    load_before = loadavg()
    try:
        for group in scenarios.GROUPS:
            cases = [scenarios.BY_KEY[k] for k in group.keys if scenarios.BY_KEY[k] in chosen]
            if cases:
                runner.log("== %s: %s" % (group.name, ", ".join(c.key for c in cases)))
                runner.run_group(group, cases)
    finally:
        procs.stop_all()
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)
        else:
            runner.log("scratch kept: %s" % scratch)

    minutes = (time.monotonic() - runner.t0) / 60
    meta = {"date": started.strftime("%Y-%m-%d %H:%M UTC"), "lines": [
        ("mode", "%s, %d round(s), %g s per load run, %.0f min in all"
         % ("quick" if args.quick else "full", settings.rounds, settings.seconds, minutes)),
        ("doorman", "%s (%s)" % (git_describe(), os.path.relpath(ctx.doorman_binary, REPO))),
        ("machine", "%d cores, %s %s; load average %s before, %s after (other work on the "
         "machine shows here)" % (os.cpu_count(), platform.system(), platform.release(),
                                  load_before, loadavg())),
        ("placement", "each proxy one worker pinned to core %d; wrk/httperf/ab/attackers and "
         "the backends on core %d" % (procs.PROXY_CORE, procs.LOAD_CORE)),
        ("versions", versions()),
    ]}
    text, summary = report.markdown(runner.results, names, meta)
    out = args.out or os.path.join(BENCH_DIR, "results", "%s%s.md" % (
        started.strftime("%Y-%m-%d"), "-quick" if args.quick else ""))
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, "w") as f:
        f.write(text)
    with open(os.path.splitext(out)[0] + ".json", "w") as f:
        json.dump({"meta": meta, "runs": runner.results, "medians": summary}, f, indent=1)
    print(text)
    runner.log("written %s" % out)


if __name__ == "__main__":
    main()
