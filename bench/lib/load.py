"""Load generators, each run on the load core, each parsed into one Sample.

wrk for throughput and latency (keep-alive), httperf for keep-alive against a new
connection per request, ab for a fixed number of requests (worker recycling).
"""

import json
import os
import re

from . import procs

BENCH_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WRK_SCRIPT = os.path.join(BENCH_DIR, "report.lua")


class Sample:
    """What one load run measured (None: the tool does not report it)."""

    def __init__(self, requests, seconds, errors, non2xx, p50_ms=None, p99_ms=None,
                 body_bytes=None, raw=""):
        self.requests = requests
        self.seconds = seconds
        self.errors = errors  # connect/read/write errors and timeouts
        self.non2xx = non2xx
        self.p50_ms = p50_ms
        self.p99_ms = p99_ms
        self.body_bytes = body_bytes
        self.raw = raw

    @property
    def rps(self):
        return self.requests / self.seconds if self.seconds > 0 else 0.0


class ToolFailed(RuntimeError):
    pass


def wrk(url, connections, seconds, timeout_s=5, pipeline=1):
    """wrk, one thread; `seconds` is rounded to whole seconds (wrk takes no less).
    `pipeline` > 1: each connection sends that many requests at once (report.lua); wrk's
    latencies then mean nothing (it times batches but ranks them among answers)."""
    argv = ["wrk", "-t1", "-c%d" % connections, "-d%ds" % max(1, round(seconds)),
            "--timeout", "%ds" % timeout_s, "-s", WRK_SCRIPT, url]
    if pipeline > 1:
        argv += ["--", str(pipeline)]
    status, out = procs.run(argv, timeout=seconds + 60)
    match = re.search(r"^BENCH (\{.*\})$", out, re.M)
    if status != 0 or not match:
        raise ToolFailed("wrk failed (%s):\n%s" % (status, out))
    r = json.loads(match.group(1))
    return Sample(requests=r["requests"], seconds=r["duration_us"] / 1e6,
                  errors=r["connect"] + r["read"] + r["write"] + r["timeout"],
                  non2xx=r["status"], p50_ms=r["p50_us"] / 1000.0,
                  p99_ms=r["p99_us"] / 1000.0, body_bytes=r["bytes"], raw=out)


def httperf(port, path, conns, calls):
    """`conns` connections one after another, `calls` requests on each."""
    argv = ["httperf", "--hog", "--server", "127.0.0.1", "--port", str(port), "--uri", path,
            "--num-conns", str(conns), "--num-calls", str(calls), "--timeout", "10"]
    status, out = procs.run(argv, timeout=600)
    total = re.search(r"^Total: connections \d+ requests (\d+) replies (\d+) "
                      r"test-duration ([\d.]+) s", out, re.M)
    replies = re.search(r"^Reply status: 1xx=(\d+) 2xx=(\d+) 3xx=(\d+) 4xx=(\d+) 5xx=(\d+)",
                        out, re.M)
    errors = re.search(r"^Errors: total (\d+)", out, re.M)
    if status != 0 or not (total and replies and errors):
        raise ToolFailed("httperf failed (%s):\n%s" % (status, out))
    ok = int(replies.group(2))
    non2xx = sum(int(replies.group(i)) for i in (1, 3, 4, 5))
    return Sample(requests=ok + non2xx, seconds=float(total.group(3)),
                  errors=int(errors.group(1)), non2xx=non2xx, raw=out)


def ab(url, requests, concurrency):
    """ab -k: a fixed number of requests, with ab's latency percentiles."""
    argv = ["ab", "-k", "-q", "-r", "-s", "30", "-n", str(requests), "-c", str(concurrency), url]
    status, out = procs.run(argv, timeout=900)

    def number(pattern, default=None):
        m = re.search(pattern, out, re.M)
        if m:
            return float(m.group(1))
        if default is None:
            raise ToolFailed("ab output without %r (%s):\n%s" % (pattern, status, out))
        return default

    complete = int(number(r"^Complete requests:\s+(\d+)"))
    failed = int(number(r"^Failed requests:\s+(\d+)"))
    non2xx = int(number(r"^Non-2xx responses:\s+(\d+)", 0))
    return Sample(requests=complete, seconds=number(r"^Time taken for tests:\s+([\d.]+)"),
                  errors=failed, non2xx=non2xx, p50_ms=number(r"^\s+50%\s+(\d+)"),
                  p99_ms=number(r"^\s+99%\s+(\d+)"), raw=out)
