#!/usr/bin/python3
"""Open N keep-alive connections, make one request on each, then leave them idle.

  idle.py --port P --connections N [--path /] [--batch 500]

Prints `READY {"open": ..., "failed": ...}` once every connection has had its response
(or failed), then holds them open until SIGTERM. One thread, non-blocking sockets.
"""

import argparse
import json
import resource
import selectors
import signal
import socket
import time


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--connections", type=int, default=10000)
    p.add_argument("--path", default="/")
    p.add_argument("--batch", type=int, default=500, help="requests in flight at once")
    p.add_argument("--timeout", type=float, default=60.0)
    args = p.parse_args()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    request = b"GET " + args.path.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    sel = selectors.DefaultSelector()
    idle, failed, pending = [], 0, {}
    started = 0
    deadline = time.monotonic() + args.timeout

    def start_one():
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.connect(("127.0.0.1", args.port))  # loopback: immediate
        s.sendall(request)
        s.setblocking(False)
        pending[s] = b""
        sel.register(s, selectors.EVENT_READ)

    while (started < args.connections or pending) and time.monotonic() < deadline:
        while started < args.connections and len(pending) < args.batch:
            started += 1
            try:
                start_one()
            except OSError:
                failed += 1
        for key, _ in sel.select(timeout=0.5):
            s = key.fileobj
            try:
                data = s.recv(65536)
            except OSError:
                data = b""
            if not data:
                sel.unregister(s)
                del pending[s]
                s.close()
                failed += 1
                continue
            pending[s] += data
            head, sep, body = pending[s].partition(b"\r\n\r\n")
            if not sep:
                continue
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if len(body) >= length:
                sel.unregister(s)
                del pending[s]
                idle.append(s)
    failed += len(pending)
    print("READY " + json.dumps({"open": len(idle), "failed": failed}), flush=True)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    while not stop:
        time.sleep(0.2)
    for s in idle:
        s.close()


if __name__ == "__main__":
    main()
