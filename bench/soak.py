#!/usr/bin/python3
"""Soak: a bounded mixed load against doorman for a set time (`make soak`).

  bench/soak.py [--seconds N] [--clients N] [--doorman PATH] [--out FILE]
                [--rss-bound-mib N] [--warmup FRACTION]

doorman (one process) runs in front of gunicorn (sync x4, integration/backends/testapp.py)
with a static route and a small buffering.memory_per_message, so that uploads and large
responses spill to disk. Client threads pick one action after another from a weighted
mix: keep-alive and one-shot requests, uploads (in memory, spilled, chunked), static
files (cached, from disk, ranges), a large upstream response, 404, a backend 500, a
malformed request (400), slow senders and slow readers, a client that stalls in its
head (408), and clients that reset mid-request and mid-response.

Once a second the sampler reads doorman's RSS (/proc/PID/status VmRSS) and its open
descriptors (/proc/PID/fd). After the warm-up (the first --warmup of the run) both must
be flat: the report gives max-min and the least-squares slope of each. The run fails
(exit status 1) when
  - doorman exits, or a client sees an unexpected answer (wrong status, wrong body);
  - RSS grows by more than --rss-bound-mib over the measured window (the fitted line's
    rise from the first to the last sample after warm-up);
  - the descriptor count does not return to its baseline (before any load) within
    FD_SETTLE_SECONDS after the load stops.
Results go to bench/results/soak-<date>.md (or --out).
"""

import argparse
import datetime
import hashlib
import http.client
import json
import os
import platform
import random
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from lib import backends, procs  # noqa: E402

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH_DIR)
FD_SETTLE_SECONDS = 20.0
CLIENT_TIMEOUT = 30.0

STATIC_FILES = {"small.txt": 1024, "medium.bin": 48 * 1024, "large.bin": 2 * 1024 * 1024}
PATTERN = bytes(range(256))


def pattern(size):
    return (PATTERN * (size // len(PATTERN) + 1))[:size]


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float,
                   default=float(os.environ.get("SOAK_SECONDS", "600")))
    p.add_argument("--clients", type=int, default=8, help="client threads")
    p.add_argument("--warmup", type=float, default=0.2, help="fraction of the run")
    p.add_argument("--rss-bound-mib", type=float, default=8.0,
                   help="largest RSS rise allowed after warm-up (fitted line), MiB")
    p.add_argument("--doorman", default=os.path.join(REPO, "build", "release", "doorman"))
    p.add_argument("--out", help="markdown file (default bench/results/soak-<date>.md)")
    p.add_argument("--no-pin", action="store_true", help="do not pin doorman to a core")
    p.add_argument("--keep", action="store_true", help="keep the scratch directory")
    return p.parse_args()


# --- doorman ----------------------------------------------------------------------------

DOORMAN_CONF = """\
listen: ["127.0.0.1:{port}"]
limits: {{ connections: 1000, body_bytes: 16MiB }}
timeouts: {{ header: 2s, body_idle: 5s, send_idle: 10s, keepalive: 5s }}
buffering: {{ memory_per_message: 32KiB, memory_total: 64MiB, temp_dir: {spill},
             disk_total: 1GiB }}
upstreams:
  app:
    servers:
      - {{ address: "127.0.0.1:{backend_port}", workers: {workers} }}
    queue: {{ max: 1000, timeout: 30s }}
routes:
  - {{ prefix: /static/, static: {{ root: {static_root} }} }}
  - {{ prefix: /, upstream: app }}
access_log: {{ path: {work}/access.log, format: json }}
log: {{ level: warn, path: {work}/error.log }}
"""


def start_doorman(binary, scratch, backend, pin):
    port = procs.free_port()
    spill = os.path.join(scratch, "spill")
    os.makedirs(spill)
    conf = os.path.join(scratch, "doorman.yaml")
    with open(conf, "w") as f:
        f.write(DOORMAN_CONF.format(port=port, spill=spill, backend_port=backend.port,
                                    workers=backend.workers, work=scratch,
                                    static_root=os.path.join(scratch, "static")))
    proc = procs.Process("doorman", [binary, "-c", conf], procs.PROXY_CORE if pin else None,
                         os.path.join(scratch, "doorman.out"))
    procs.wait_for_port(port, timeout=10, proc=proc)
    return port, proc, spill


def rss_bytes(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise OSError("no VmRSS for %d" % pid)


def fd_count(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


# --- the client actions -----------------------------------------------------------------
# Each returns None when the answer was what it should be, or a short text saying what
# was wrong. Network errors on a connection doorman closed on purpose (408, resets) are
# expected; anything else raises and counts as unexpected.

class Unexpected(Exception):
    pass


def expect(cond, what):
    if not cond:
        raise Unexpected(what)


class Client:
    def __init__(self, port, rng):
        self.port = port
        self.rng = rng

    def conn(self):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=CLIENT_TIMEOUT)

    def raw(self, rcvbuf=None):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        s.settimeout(CLIENT_TIMEOUT)
        s.connect(("127.0.0.1", self.port))
        return s

    @staticmethod
    def reset(s):
        """Close with SO_LINGER 0: the peer gets a RST, not a FIN."""
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()

    def get(self, c, path, status=200, length=None, headers=None):
        c.request("GET", path, headers=headers or {})
        r = c.getresponse()
        body = r.read()
        expect(r.status == status, "GET %s: %d, want %d" % (path, r.status, status))
        if length is not None:
            expect(len(body) == length, "GET %s: %d bytes, want %d" % (path, len(body), length))
        return r, body

    # keep-alive: several requests on one connection
    def keepalive(self):
        c = self.conn()
        try:
            for _ in range(self.rng.randint(3, 12)):
                if self.rng.random() < 0.5:
                    self.get(c, "/hello", length=6)
                else:
                    self.get(c, "/static/small.txt", length=STATIC_FILES["small.txt"])
        finally:
            c.close()

    # one request per connection
    def oneshot(self):
        c = self.conn()
        try:
            self.get(c, "/hello", length=6, headers={"Connection": "close"})
        finally:
            c.close()

    def upload(self, size, chunked=False):
        body = os.urandom(size)
        c = self.conn()
        try:
            if chunked:
                pieces = [body[i:i + 8192] for i in range(0, len(body), 8192)]
                c.request("POST", "/echo", body=iter(pieces), encode_chunked=True,
                          headers={"Transfer-Encoding": "chunked"})
            else:
                c.request("POST", "/echo", body=body)
            r = c.getresponse()
            doc = r.read()
            expect(r.status == 200, "POST /echo %d bytes: %d" % (size, r.status))
            got = json.loads(doc)
            expect(got["body_length"] == size and
                   got["body_sha256"] == hashlib.sha256(body).hexdigest(),
                   "POST /echo %d bytes: body changed on the way" % size)
        finally:
            c.close()

    def upload_memory(self):
        self.upload(self.rng.randint(1, 16 * 1024))

    def upload_spill(self):
        self.upload(self.rng.randint(64 * 1024, 1024 * 1024))

    def upload_chunked(self):
        self.upload(self.rng.randint(1, 256 * 1024), chunked=True)

    def static(self):
        c = self.conn()
        try:
            name = self.rng.choice(list(STATIC_FILES))
            self.get(c, "/static/" + name, length=STATIC_FILES[name])
            size = STATIC_FILES["large.bin"]
            first = self.rng.randrange(size - 1)
            last = min(size - 1, first + self.rng.randrange(256 * 1024))
            r, body = self.get(c, "/static/large.bin", status=206,
                               headers={"Range": "bytes=%d-%d" % (first, last)})
            expect(body == pattern(size)[first:last + 1], "range %d-%d: wrong bytes"
                   % (first, last))
        finally:
            c.close()

    def large_response(self):
        size = self.rng.choice([100 * 1024, 1024 * 1024])
        c = self.conn()
        try:
            self.get(c, "/large?bytes=%d" % size, length=size)
        finally:
            c.close()

    def errors(self):
        c = self.conn()
        try:
            self.get(c, "/static/missing.txt", status=404)
            self.get(c, "/status?code=500", status=500)
            self.get(c, "/no/such/app/path", status=404)
        finally:
            c.close()
        s = self.raw()
        try:
            s.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n"
                      b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
            head = read_head(s)
            expect(head.startswith(b"HTTP/1.1 400"), "smuggling attempt: %r" % head[:40])
        finally:
            s.close()

    # a client that sends its request in small pieces with pauses
    def slow_sender(self):
        body = os.urandom(self.rng.randint(1000, 40000))
        req = (b"POST /echo HTTP/1.1\r\nHost: soak\r\nContent-Length: %d\r\n"
               b"Connection: close\r\n\r\n" % len(body)) + body
        s = self.raw()
        try:
            step = max(1, len(req) // 8)
            for i in range(0, len(req), step):
                s.sendall(req[i:i + step])
                time.sleep(self.rng.uniform(0.05, 0.3))
            data = read_all(s)
            expect(data.startswith(b"HTTP/1.1 200"), "slow sender: %r" % data[:40])
            got = json.loads(data.split(b"\r\n\r\n", 1)[1])
            expect(got["body_sha256"] == hashlib.sha256(body).hexdigest(),
                   "slow sender: body changed on the way")
        finally:
            s.close()

    # a client with a small receive buffer that reads its response slowly
    def slow_reader(self):
        path = self.rng.choice(["/static/large.bin", "/large?bytes=%d" % (512 * 1024)])
        s = self.raw(rcvbuf=8192)
        try:
            s.sendall(b"GET %s HTTP/1.1\r\nHost: soak\r\nConnection: close\r\n\r\n"
                      % path.encode())
            total = b""
            while True:
                piece = s.recv(32 * 1024)
                if not piece:
                    break
                total += piece
                time.sleep(0.005)
            expect(total.startswith(b"HTTP/1.1 200"), "slow reader: %r" % total[:40])
        finally:
            s.close()

    # a client that stops in the middle of its head: doorman answers 408 after 2 s
    def stalled(self):
        s = self.raw()
        try:
            s.sendall(b"GET /hello HTTP/1.1\r\nHost: so")
            data = read_all(s)
            expect(data == b"" or data.startswith(b"HTTP/1.1 408"),
                   "stalled head: %r" % data[:40])
        finally:
            s.close()

    def reset_request(self):
        s = self.raw()
        size = self.rng.choice([10000, 200000])
        s.sendall(b"POST /echo HTTP/1.1\r\nHost: soak\r\nContent-Length: %d\r\n\r\n" % size)
        s.sendall(os.urandom(self.rng.randrange(size)))
        time.sleep(self.rng.uniform(0, 0.05))
        self.reset(s)

    def reset_response(self):
        s = self.raw(rcvbuf=16384)
        path = self.rng.choice(["/static/large.bin", "/large?bytes=%d" % (1024 * 1024),
                                "/hello"])
        s.sendall(b"GET %s HTTP/1.1\r\nHost: soak\r\n\r\n" % path.encode())
        try:
            s.recv(self.rng.choice([1, 4096, 16384]))
        except OSError:
            pass
        self.reset(s)


def read_head(s):
    data = b""
    while b"\r\n\r\n" not in data:
        piece = s.recv(4096)
        if not piece:
            break
        data += piece
    return data


def read_all(s):
    chunks = []
    while True:
        try:
            piece = s.recv(65536)
        except ConnectionResetError:
            break
        if not piece:
            break
        chunks.append(piece)
    return b"".join(chunks)


MIX = [  # (action, weight)
    ("keepalive", 20), ("oneshot", 15), ("upload_memory", 10), ("upload_spill", 6),
    ("upload_chunked", 5), ("static", 12), ("large_response", 5), ("errors", 8),
    ("slow_sender", 3), ("slow_reader", 3), ("stalled", 1), ("reset_request", 5),
    ("reset_response", 5),
]


class Load:
    def __init__(self, port, clients):
        self.port = port
        self.clients = clients
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.counts = {name: 0 for name, _ in MIX}
        self.unexpected = []
        self.threads = []

    def run_client(self, seed):
        rng = random.Random(seed)
        client = Client(self.port, rng)
        names = [n for n, _ in MIX]
        weights = [w for _, w in MIX]
        while not self.stop.is_set():
            name = rng.choices(names, weights)[0]
            problem = None
            try:
                getattr(client, name)()
            except Unexpected as e:
                problem = str(e)
            except (OSError, http.client.HTTPException, ValueError) as e:
                if not name.startswith("reset"):
                    problem = "%s: %s: %s" % (name, type(e).__name__, e)
            with self.lock:
                self.counts[name] += 1
                if problem:
                    self.unexpected.append(problem)

    def start(self):
        for i in range(self.clients):
            t = threading.Thread(target=self.run_client, args=(i + 1,), daemon=True)
            t.start()
            self.threads.append(t)

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=CLIENT_TIMEOUT + 10)


# --- figures ----------------------------------------------------------------------------

def slope(samples):
    """Least-squares slope of [(t, value)], value per second."""
    n = len(samples)
    if n < 2:
        return 0.0
    mt = sum(t for t, _ in samples) / n
    mv = sum(v for _, v in samples) / n
    den = sum((t - mt) ** 2 for t, _ in samples)
    return sum((t - mt) * (v - mv) for t, v in samples) / den if den else 0.0


def mib(b):
    return b / (1024 * 1024)


def git_describe():
    done = subprocess.run(["git", "-C", REPO, "log", "-1", "--format=%h %<(60,trunc)%s"],
                          capture_output=True, text=True)
    return done.stdout.strip() or "?"


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def write_static(root):
    os.makedirs(root)
    for name, size in STATIC_FILES.items():
        with open(os.path.join(root, name), "wb") as f:
            f.write(pattern(size))


def main():
    args = parse_args()
    for tool in ["/usr/bin/gunicorn", "taskset", args.doorman]:
        if not shutil.which(tool):
            raise SystemExit("missing %s (make deps; make release)" % tool)
    doorman = os.path.abspath(args.doorman)
    scratch = tempfile.mkdtemp(prefix="doorman-soak-")
    started = datetime.datetime.now(datetime.timezone.utc)
    load_before = loadavg()
    t0 = time.monotonic()

    def log(msg):
        print("[%5.0fs] %s" % (time.monotonic() - t0, msg), flush=True)

    samples = []  # (t, rss, fds)
    try:
        write_static(os.path.join(scratch, "static"))
        backend = backends.gunicorn(scratch, workers=4)
        port, proc, spill = start_doorman(doorman, scratch, backend, not args.no_pin)
        pid = proc.pid
        time.sleep(0.5)
        base_rss, base_fds = rss_bytes(pid), fd_count(pid)
        log("doorman pid %d on port %d: RSS %.1f MiB, %d fds; load for %g s with %d clients"
            % (pid, port, mib(base_rss), base_fds, args.seconds, args.clients))
        load = Load(port, args.clients)
        load.start()
        start = time.monotonic()
        next_report = start + 30
        died = None
        while time.monotonic() - start < args.seconds:
            time.sleep(1.0 - (time.monotonic() - start) % 1.0)
            if proc.poll() is not None:
                died = "doorman exited with %s (see %s)" % (proc.poll(), proc.log_path)
                break
            try:
                samples.append((time.monotonic() - start, rss_bytes(pid), fd_count(pid)))
            except OSError as e:
                died = "cannot read /proc/%d: %s" % (pid, e)
                break
            if time.monotonic() >= next_report:
                next_report += 30
                with load.lock:
                    done = sum(load.counts.values())
                    bad = len(load.unexpected)
                log("RSS %.1f MiB, %d fds, %d actions, %d unexpected"
                    % (mib(samples[-1][1]), samples[-1][2], done, bad))
        load.finish()
        load_seconds = time.monotonic() - start
        log("load stopped after %.0f s" % load_seconds)

        # Descriptors must come back to the baseline once every client is gone.
        settle_deadline = time.monotonic() + FD_SETTLE_SECONDS
        end_fds = fd_count(pid) if proc.poll() is None else -1
        while end_fds != base_fds and time.monotonic() < settle_deadline and not died:
            time.sleep(0.2)
            end_fds = fd_count(pid) if proc.poll() is None else -1
        end_rss = rss_bytes(pid) if proc.poll() is None else 0
        spill_left = os.listdir(spill)
        if proc.poll() is not None and not died:
            died = "doorman exited with %s" % proc.poll()
        with open(os.path.join(scratch, "error.log"), errors="replace") as f:
            error_log = f.read().splitlines()
    finally:
        procs.stop_all()

    result = analyse(args, samples, base_rss, base_fds, end_rss, end_fds, load, died,
                     spill_left, load_seconds)
    meta = [
        ("date", started.strftime("%Y-%m-%d %H:%M UTC")),
        ("doorman", "%s (%s)" % (git_describe(), os.path.relpath(doorman, REPO))),
        ("machine", "%d cores, %s %s; load average %s before, %s after (other work on the "
         "machine shows here)" % (os.cpu_count(), platform.system(), platform.release(),
                                  load_before, loadavg())),
        ("load", "%g s, %d client threads, %s" % (args.seconds, args.clients,
                                                    "doorman pinned to core %d"
                                                    % procs.PROXY_CORE
                                                    if not args.no_pin else "unpinned")),
    ]
    text = report(meta, result, load, error_log)
    out = args.out or os.path.join(BENCH_DIR, "results", "soak-%s.md"
                                   % started.strftime("%Y-%m-%d"))
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, "w") as f:
        f.write(text)
    print(text)
    log("written %s" % out)
    if args.keep:
        log("scratch kept: %s" % scratch)
    else:
        shutil.rmtree(scratch, ignore_errors=True)
    if result["failures"]:
        print("soak: FAILED: " + "; ".join(result["failures"]))
        sys.exit(1)
    print("soak: ok")


def analyse(args, samples, base_rss, base_fds, end_rss, end_fds, load, died, spill_left,
            load_seconds):
    failures = []
    if died:
        failures.append(died)
    warm_end = load_seconds * args.warmup
    after = [s for s in samples if s[0] >= warm_end]
    rss_after = [(t, r) for t, r, _ in after]
    fds_after = [(t, f) for t, _, f in after]
    r = {"failures": failures, "warm_end": warm_end, "samples": len(samples),
         "base_rss": base_rss, "base_fds": base_fds, "end_rss": end_rss, "end_fds": end_fds,
         "spill_left": len(spill_left)}
    if len(after) >= 2:
        span = after[-1][0] - after[0][0]
        r["rss_warm"] = after[0][1]
        r["fds_warm"] = after[0][2]
        r["rss_last"] = after[-1][1]
        r["fds_last"] = after[-1][2]
        r["rss_minmax"] = (min(v for _, v in rss_after), max(v for _, v in rss_after))
        r["fds_minmax"] = (min(v for _, v in fds_after), max(v for _, v in fds_after))
        r["rss_slope"] = slope(rss_after)  # bytes per second
        r["fds_slope"] = slope(fds_after)
        r["rss_rise"] = r["rss_slope"] * span
        r["span"] = span
        if mib(r["rss_rise"]) > args.rss_bound_mib:
            failures.append("RSS rose %.1f MiB after warm-up (fitted), bound %.1f MiB"
                            % (mib(r["rss_rise"]), args.rss_bound_mib))
    else:
        failures.append("too few samples after warm-up (%d)" % len(after))
    if end_fds != base_fds:
        failures.append("%d fds %.0f s after the load stopped, %d before it started"
                        % (end_fds, FD_SETTLE_SECONDS, base_fds))
    if spill_left:
        failures.append("%d files left in the spill directory" % len(spill_left))
    if load.unexpected:
        failures.append("%d unexpected answers (first: %s)"
                        % (len(load.unexpected), load.unexpected[0]))
    return r


def report(meta, r, load, error_log):
    lines = ["# doorman soak, %s" % meta[0][1], ""]
    lines += ["- %s: %s" % kv for kv in meta[1:]]
    lines += ["", "## Result: %s" % ("FAILED" if r["failures"] else "ok"), ""]
    for f in r["failures"]:
        lines.append("- %s" % f)
    lines += ["", "## doorman's RSS and descriptors", "",
              "Sampled once a second (%d samples); warm-up: the first %.0f s."
              % (r["samples"], r["warm_end"]), "",
              "| | RSS (MiB) | fds |", "| --- | ---: | ---: |",
              "| before the load | %.1f | %d |" % (mib(r["base_rss"]), r["base_fds"])]
    if "rss_warm" in r:
        lines += [
            "| after warm-up | %.1f | %d |" % (mib(r["rss_warm"]), r["fds_warm"]),
            "| last sample under load | %.1f | %d |" % (mib(r["rss_last"]), r["fds_last"]),
            "| after the load (settled) | %.1f | %d |" % (mib(r["end_rss"]), r["end_fds"]),
            "| min / max after warm-up | %.1f / %.1f | %d / %d |"
            % (mib(r["rss_minmax"][0]), mib(r["rss_minmax"][1]), r["fds_minmax"][0],
               r["fds_minmax"][1]),
            "| max - min after warm-up | %.2f | %d |"
            % (mib(r["rss_minmax"][1] - r["rss_minmax"][0]),
               r["fds_minmax"][1] - r["fds_minmax"][0]),
            "| slope after warm-up (per minute) | %+.3f | %+.2f |"
            % (mib(r["rss_slope"] * 60), r["fds_slope"] * 60),
            "| fitted rise over %.0f s | %+.2f | %+.1f |"
            % (r["span"], mib(r["rss_rise"]), r["fds_slope"] * r["span"]),
        ]
    lines += ["", "fds under load vary with the connections open at the moment of the sample; "
              "what matters is that they do not trend up and that the count returns to "
              "the baseline once the clients are gone. Spill files left: %d." % r["spill_left"],
              "", "## Actions", "", "| action | count |", "| --- | ---: |"]
    total = 0
    for name, _ in MIX:
        lines.append("| %s | %d |" % (name, load.counts[name]))
        total += load.counts[name]
    lines += ["| all | %d |" % total, "",
              "Unexpected answers: %d." % len(load.unexpected)]
    for u in load.unexpected[:20]:
        lines.append("- %s" % u)
    lines += ["", "doorman's error log (level warn): %d lines." % len(error_log)]
    kinds = {}
    for line in error_log:
        key = line.split("]", 1)[-1].strip()[:70]
        kinds[key] = kinds.get(key, 0) + 1
    for key, n in sorted(kinds.items(), key=lambda kv: -kv[1])[:10]:
        lines.append("- %d x `%s`" % (n, key))
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
