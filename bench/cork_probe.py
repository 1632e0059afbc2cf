#!/usr/bin/env python3
"""Time to the first answer of a pipelined pair whose second request is incomplete.

doorman corks a cached answer (MSG_MORE) while pipelined bytes wait behind it, and must
push it when those bytes turn out to be an incomplete request; without the push Linux
holds the answer for about 200 ms. Usage: cork_probe.py PORT [PATH] (a doorman with a
static route serving PATH, default /static/1k.bin). Prints the median over 20 tries.
"""
import socket
import statistics
import sys
import time


def once(port, path):
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    request = ("GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % path).encode()
    start = time.perf_counter()
    s.sendall(request + request[: request.index(b"\r\n") + 2])  # the second one unfinished
    buf = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            raise SystemExit("connection closed before the first answer")
        buf += chunk
        end = buf.find(b"\r\n\r\n")
        if end >= 0:
            head = buf[:end].decode("latin-1").lower()
            length = int(head.split("content-length:")[1].split("\r\n")[0])
            if len(buf) >= end + 4 + length:
                break
    elapsed = time.perf_counter() - start
    s.close()
    return elapsed * 1000


def main():
    port = int(sys.argv[1])
    path = sys.argv[2] if len(sys.argv) > 2 else "/static/1k.bin"
    once(port, path)  # fills the cache
    times = [once(port, path) for _ in range(20)]
    print("first answer: median %.3f ms, min %.3f, max %.3f (20 tries)"
          % (statistics.median(times), min(times), max(times)))


if __name__ == "__main__":
    main()
