"""The nine scenarios of the benchmark issue, as cases grouped by the backend they need.

A case runs against one proxy and returns a dict of figures. Cases of one group share
the backend processes and (unless `fresh`) the running proxies, so the driver can
interleave proxies and cases round after round.
"""

import json
import os
import resource
import time
import urllib.error
import urllib.request

from . import backends, load, procs

BENCH_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PYTHON = "/usr/bin/python3"
STATIC_FILES = {"1k.bin": 1024, "64k.bin": 64 * 1024, "1m.bin": 1024 * 1024}
SATURATION_LIMIT = 400.0  # 4 workers x 10 ms of app time per request


class Settings:
    """Durations and sizes: the full run, or --quick (a few seconds per case)."""

    def __init__(self, quick):
        self.quick = quick
        self.rounds = 1 if quick else 3
        self.seconds = 2 if quick else 4  # each measured load run (wrk: whole seconds)
        self.warmup = 1
        self.ramp = 2.0  # attackers open their connections before the load starts
        # httperf runs one connection at a time: its speed is the backend's latency.
        # paste.httpserver behind a proxy that delays ACKs answers ~20 requests/s.
        # 600 gunicorn requests took under a second and moved 3x from round to round.
        self.httperf_requests = {"gunicorn": 500 if quick else 3000, "paste": 100}
        self.recycling_requests = 2000 if quick else 10000
        self.idle_connections = 2000 if quick else 10000


class Context:
    def __init__(self, settings, scratch, static_root, doorman_binary):
        self.s = settings
        self.scratch = scratch
        self.static_root = static_root
        self.doorman_binary = doorman_binary


class Case:
    def __init__(self, key, scenario, title, run, static=False, fresh=False, once=False,
                 baseline=None):
        self.key = key
        self.scenario = scenario  # the scenario number
        self.title = title
        self.run = run  # run(ctx, proxy) -> dict
        self.static = static  # needs a proxy that serves files
        self.fresh = fresh  # a newly started proxy for every run
        self.once = once  # one round is enough (counts, memory), even in a full run
        self.baseline = baseline  # key of the unattacked case this one is a ratio of


def write_static_files(root):
    os.makedirs(root, exist_ok=True)
    for name, size in STATIC_FILES.items():
        with open(os.path.join(root, name), "wb") as f:
            f.write(bytes((i * 7 + 13) % 251 for i in range(size)))
    os.chmod(root, 0o755)


# --- measuring helpers ---------------------------------------------------------------


def _measured(proxy, fn):
    """Run fn() and add the proxy's CPU time per request to its figures, the kernel's
    share of it, and how busy the load generator was (its own CPU time over the run's:
    near 100% means the client's core, not the proxy, set the pace)."""
    user0, sys0 = proxy.process.cpu_split()
    load0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    sample = fn()
    wall = time.monotonic() - t0
    load1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    user1, sys1 = proxy.process.cpu_split()
    cpu, kernel = (user1 - user0) + (sys1 - sys0), sys1 - sys0
    load_cpu = (load1.ru_utime - load0.ru_utime) + (load1.ru_stime - load0.ru_stime)
    n = sample.requests
    out = {"rps": sample.rps, "p50_ms": sample.p50_ms, "p99_ms": sample.p99_ms,
           "errors": sample.errors, "non2xx": sample.non2xx, "requests": n,
           "cpu_us": cpu * 1e6 / n if n else None,
           "sys_us": kernel * 1e6 / n if n else None,
           "load_busy": load_cpu / wall if wall > 0 else None,
           "mbps": (sample.body_bytes / sample.seconds / 1e6) if sample.body_bytes else None}
    return out


def drain(backend, path="/hello", quick_s=0.05, timeout=60.0):
    """Wait until the backend answers a direct request quickly twice in a row.

    A load of many clients leaves connections in gunicorn's accept queue after the load
    generator has gone; each still costs a worker its app time (10 ms in scenario 8).
    Without this, whichever proxy runs next starts behind that backlog."""
    deadline = time.monotonic() + timeout
    quick = 0
    url = "http://127.0.0.1:%d%s" % (backend.port, path)
    while quick < 2:
        if time.monotonic() >= deadline:
            raise RuntimeError("backend %s did not settle within %d s" % (backend.name, timeout))
        t0 = time.monotonic()
        try:
            with urllib.request.urlopen(url, timeout=10) as r:
                r.read()
        except urllib.error.HTTPError as e:
            raise RuntimeError("backend %s answered %d to %s" % (backend.name, e.code, path))
        except OSError:
            time.sleep(0.2)
            continue
        quick = quick + 1 if time.monotonic() - t0 < quick_s else 0


def _wrk(ctx, proxy, path, connections, pipeline=1):
    return _measured(proxy, lambda: load.wrk(proxy.url(path), connections, ctx.s.seconds,
                                             pipeline=pipeline))


PIPELINE = 16  # requests each connection sends at once in the *-pipelined cases


def settle(proxy, path="/hello", timeout=30.0):
    """Wait until the proxy answers a plain request again (after an attack)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(proxy.url(path), timeout=2) as r:
                r.read()
                return
        except OSError:
            time.sleep(0.2)


def _attacked(ctx, proxy, argv, name):
    """Normal load while an attacker (started on the load core) holds its connections."""
    attacker = procs.Process(name, argv, procs.LOAD_CORE,
                             os.path.join(ctx.scratch, "%s-%s.log" % (name, proxy.name)))
    try:
        time.sleep(ctx.s.ramp)
        cpu0 = attacker.cpu_seconds()
        t0 = time.monotonic()
        out = _wrk(ctx, proxy, "/hello", 8)
        out["attacker_cpu"] = (attacker.cpu_seconds() - cpu0) / (time.monotonic() - t0)
    finally:
        attacker.stop()
    settle(proxy)
    return out


def _own(mode, connections, **opts):
    def run(ctx, proxy):
        argv = [PYTHON, os.path.join(BENCH_DIR, "attack.py"), "--port", str(proxy.port),
                "--mode", mode, "--connections", str(connections)]
        for k, v in opts.items():
            argv += ["--" + k.replace("_", "-"), str(v)]
        return _attacked(ctx, proxy, argv, "attack-" + mode)
    return run


def _slowhttptest(mode_args, path):
    def run(ctx, proxy):
        length = int(ctx.s.ramp + ctx.s.seconds + 30)
        argv = ["slowhttptest"] + mode_args + ["-l", str(length), "-p", "3",
                                               "-u", proxy.url(path)]
        return _attacked(ctx, proxy, argv, "slowhttptest")
    return run


def _httperf(backend, path, calls):
    def run(ctx, proxy):
        n = ctx.s.httperf_requests[backend]
        drain(proxy.backend)
        return _measured(proxy, lambda: load.httperf(proxy.port, path, n // calls, calls))
    return run


def _saturation(ctx, proxy):
    drain(proxy.backend)
    out = _wrk(ctx, proxy, "/sleep?ms=10", 200)
    drain(proxy.backend)
    out["of_limit"] = out["rps"] / SATURATION_LIMIT
    # What the backend itself does under the same load, measured right after: the 400
    # req/s of the issue count no time for the app server's own work (gunicorn's parsing,
    # accept and close per request), so this is the limit a proxy can actually reach.
    direct = load.wrk("http://127.0.0.1:%d/sleep?ms=10" % proxy.backend.port, 200,
                      ctx.s.seconds)
    out["direct_rps"] = direct.rps
    out["of_direct"] = out["rps"] / direct.rps if direct.rps else None
    drain(proxy.backend)
    return out


def _recycling(ctx, proxy):
    return _measured(proxy, lambda: load.ab(proxy.url("/hello"), ctx.s.recycling_requests, 20))


def _idle_memory(ctx, proxy):
    # Warm up first (allocator arenas, caches), so only the connections are counted.
    load.wrk(proxy.url("/"), 50, 1)
    time.sleep(0.5)
    before = proxy.process.rss_bytes()
    n = ctx.s.idle_connections
    log = os.path.join(ctx.scratch, "idle-%s-%d.log" % (proxy.name, proxy.port))
    client = procs.Process("idle", [PYTHON, os.path.join(BENCH_DIR, "idle.py"), "--port",
                                    str(proxy.port), "--connections", str(n)],
                           procs.LOAD_CORE, log)
    try:
        ready = _wait_for_line(log, "READY ", 120, client)
        time.sleep(1.0)
        after = proxy.process.rss_bytes()
    finally:
        client.stop()
    opened = ready["open"]
    return {"connections": opened, "failed": ready["failed"], "rss_before": before,
            "rss_after": after,
            "bytes_per_conn": (after - before) / opened if opened else None}


def _wait_for_line(path, prefix, timeout, proc):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open(path) as f:
            for line in f:
                if line.startswith(prefix):
                    return json.loads(line[len(prefix):])
        if proc.poll() is not None:
            raise RuntimeError("%s exited early; see %s" % (proc.name, path))
        time.sleep(0.2)
    raise RuntimeError("no %r line in %s after %d s" % (prefix, path, timeout))


# --- the cases, by backend group -----------------------------------------------------

UPLOAD_OPTS = dict(interval=0.5, chunk_bytes=4096, body_bytes=1 << 20)

CASES = [
    Case("overhead", 1, "proxy overhead, near-free backend (nginx return 200), 16 clients",
         lambda ctx, p: _wrk(ctx, p, "/", 16)),
    Case("static-1k", 3, "static 1 KiB file, 16 clients",
         lambda ctx, p: _wrk(ctx, p, "/static/1k.bin", 16), static=True),
    Case("static-64k", 3, "static 64 KiB file, 16 clients",
         lambda ctx, p: _wrk(ctx, p, "/static/64k.bin", 16), static=True),
    Case("static-1m", 3, "static 1 MiB file, 8 clients",
         lambda ctx, p: _wrk(ctx, p, "/static/1m.bin", 8), static=True),
    Case("static-1k-pipelined", 3,
         "static 1 KiB file, 16 clients, %d requests pipelined per batch" % PIPELINE,
         lambda ctx, p: _wrk(ctx, p, "/static/1k.bin", 16, PIPELINE), static=True),
    Case("static-64k-pipelined", 3,
         "static 64 KiB file, 16 clients, %d requests pipelined per batch" % PIPELINE,
         lambda ctx, p: _wrk(ctx, p, "/static/64k.bin", 16, PIPELINE), static=True),
    Case("idle-memory", 6, "RSS per idle keep-alive connection",
         _idle_memory, fresh=True, once=True),
    Case("gunicorn", 2, "gunicorn sync x4, small response, 16 clients",
         lambda ctx, p: _wrk(ctx, p, "/hello", 16)),
    Case("saturation", 8, "gunicorn sync x4, 10 ms app time, 200 clients (limit 400 req/s)",
         _saturation),
    Case("ka-gunicorn", 5, "httperf, 10 requests per connection, gunicorn",
         _httperf("gunicorn", "/hello", 10)),
    Case("new-gunicorn", 5, "httperf, a new connection per request, gunicorn",
         _httperf("gunicorn", "/hello", 1)),
    Case("unattacked", 4, "normal load (8 clients, gunicorn x4), no attack",
         lambda ctx, p: _wrk(ctx, p, "/hello", 8)),
    Case("slowloris-own", 4, "normal load beside 500 slowloris connections (attack.py)",
         _own("slowloris", 500, interval=5), baseline="unattacked"),
    Case("slowread-own", 4, "normal load beside 100 slow readers of 1 MiB (attack.py)",
         _own("slowread", 100, interval=1, path="/large?bytes=1048576"),
         baseline="unattacked"),
    Case("slowloris-sht", 4, "normal load beside slowhttptest -H, 500 connections",
         _slowhttptest(["-H", "-c", "500", "-r", "250", "-i", "5", "-x", "24"], "/hello"),
         baseline="unattacked"),
    Case("slowread-sht", 4, "normal load beside slowhttptest -X, 100 connections",
         _slowhttptest(["-X", "-c", "100", "-r", "100", "-w", "512", "-y", "1024", "-n", "5",
                        "-z", "32", "-k", "1"], "/large?bytes=1048576"),
         baseline="unattacked"),
    Case("uploads-own", 7, "normal load beside 40 slow 1 MiB uploads at 8 KiB/s (attack.py)",
         _own("upload", 40, **UPLOAD_OPTS), baseline="unattacked"),
    Case("uploads-sht", 7, "normal load beside slowhttptest -B, 40 slow bodies",
         _slowhttptest(["-B", "-c", "40", "-r", "40", "-i", "1", "-s", "1048576", "-x", "64",
                        "-t", "POST"], "/echo"),
         baseline="unattacked"),
    Case("ka-paste", 5, "httperf, 10 requests per connection, paste.httpserver",
         _httperf("paste", "/hello", 10)),
    Case("new-paste", 5, "httperf, a new connection per request, paste.httpserver",
         _httperf("paste", "/hello", 1)),
    Case("recycling", 9, "gunicorn --max-requests 20 --max-requests-jitter 5, ab -k, 20 clients",
         _recycling, once=True),
    Case("recycling-uwsgi", 9, "uWSGI --max-requests 20 (HTTP/1.1 keep-alive), ab -k, 20 clients",
         _recycling, once=True),
]


class Group:
    def __init__(self, name, start_backend, keys):
        self.name = name
        self.start_backend = start_backend
        self.keys = keys


GROUPS = [
    Group("near-free", lambda ctx: backends.near_free(ctx.scratch, workers=16),
          ["overhead", "static-1k", "static-64k", "static-1m", "static-1k-pipelined",
           "static-64k-pipelined", "idle-memory"]),
    Group("gunicorn", lambda ctx: backends.gunicorn(ctx.scratch, workers=4),
          ["gunicorn", "saturation", "ka-gunicorn", "new-gunicorn", "unattacked",
           "slowloris-own", "slowread-own", "uploads-own", "slowloris-sht", "slowread-sht",
           "uploads-sht"]),
    Group("paste", lambda ctx: backends.paste(ctx.scratch, workers=4), ["ka-paste", "new-paste"]),
    Group("recycling",
          lambda ctx: backends.gunicorn(ctx.scratch, workers=4, label="gunicorn-recycling",
                                        extra=["--max-requests", "20",
                                               "--max-requests-jitter", "5"]),
          ["recycling"]),
    Group("recycling-uwsgi",
          lambda ctx: backends.uwsgi(ctx.scratch, workers=4, label="uwsgi-recycling",
                                     extra=["--max-requests", "20"]),
          ["recycling-uwsgi"]),
]

BY_KEY = {c.key: c for c in CASES}


def select(names):
    """Cases named by key or by scenario number ('3' = every static case)."""
    if not names:
        return list(CASES)
    chosen = []
    for name in names:
        found = [c for c in CASES if c.key == name or str(c.scenario) == name]
        if not found:
            raise SystemExit("unknown scenario %r; known: 1-9 or %s"
                             % (name, ", ".join(c.key for c in CASES)))
        chosen += [c for c in found if c not in chosen]
    # An attack is a ratio of the unattacked load: measure that too.
    for c in list(chosen):
        if c.baseline and BY_KEY[c.baseline] not in chosen:
            chosen.append(BY_KEY[c.baseline])
    return chosen
