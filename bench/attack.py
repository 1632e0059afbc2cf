#!/usr/bin/python3
"""bench/'s own slow clients: many connections, one thread, almost no CPU.

  attack.py --port P --mode slowloris|slowread|upload [--connections N] [--interval S]

slowloris  sends a request head one header line per interval and never finishes it;
slowread   asks for a large response (--path) with a 4 KiB receive buffer and reads
           --read-bytes per interval;
upload     POSTs a --body-bytes body at --chunk-bytes per interval (a phone uploading
           a photo), reads the answer, and starts again.

A connection the server closes is opened again (at most --connections at once), so the
pressure stays constant. On SIGTERM prints one JSON line of counts and exits.
"""

import argparse
import json
import selectors
import signal
import socket
import time


class Attack:
    def __init__(self, args):
        self.args = args
        self.sel = selectors.DefaultSelector()
        self.conns = {}  # socket -> state dict
        self.counts = {"opened": 0, "closed_by_server": 0, "requests_done": 0,
                       "bytes_sent": 0, "bytes_read": 0}

    def open_one(self, now, first_tick):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if self.args.mode == "slowread":
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.setblocking(False)
        try:
            s.connect_ex(("127.0.0.1", self.args.port))
        except OSError:
            s.close()
            return
        self.counts["opened"] += 1
        self.conns[s] = {"next": first_tick, "step": 0, "body": None}
        if self.args.mode != "slowread":
            # slowread reads only on its ticks; a level-triggered readable socket would spin.
            self.sel.register(s, selectors.EVENT_READ)

    def close(self, s, by_server):
        if self.args.mode != "slowread":
            self.sel.unregister(s)
        del self.conns[s]
        s.close()
        if by_server:
            self.counts["closed_by_server"] += 1

    def send(self, s, data):
        try:
            n = s.send(data)
        except (BlockingIOError, InterruptedError):
            return 0
        except OSError:
            self.close(s, True)
            return -1
        self.counts["bytes_sent"] += n
        return n

    def tick(self, s, st):
        """One interval's worth of slowness for connection s."""
        a = self.args
        host = b"Host: 127.0.0.1\r\n"
        if a.mode == "slowloris":
            data = (b"GET " + a.path.encode() + b" HTTP/1.1\r\n" + host) if st["step"] == 0 \
                else b"X-Slow-%d: x\r\n" % st["step"]
            self.send(s, data)
        elif a.mode == "slowread":
            if st["step"] == 0:
                self.send(s, b"GET " + a.path.encode() + b" HTTP/1.1\r\n" + host + b"\r\n")
            else:
                self.read(s, a.read_bytes)
        elif a.mode == "upload":
            if st["body"] is None:
                head = (b"POST /echo HTTP/1.1\r\n" + host +
                        b"Content-Type: application/octet-stream\r\n"
                        b"Content-Length: %d\r\n\r\n" % a.body_bytes)
                if self.send(s, head) <= 0:
                    return
                st["body"] = 0
            elif st["body"] < a.body_bytes:
                n = min(a.chunk_bytes, a.body_bytes - st["body"])
                sent = self.send(s, b"x" * n)
                if sent > 0:
                    st["body"] += sent
        st["step"] += 1

    def read(self, s, limit):
        try:
            data = s.recv(limit)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self.close(s, True)
            return
        if not data:
            self.close(s, True)
            return
        self.counts["bytes_read"] += len(data)
        st = self.conns[s]
        if self.args.mode == "upload" and (st["body"] or 0) >= self.args.body_bytes:
            # The answer to a finished upload: start the next one on a fresh connection.
            self.counts["requests_done"] += 1
            self.close(s, False)

    def run(self):
        a = self.args
        stop = []
        signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
        signal.signal(signal.SIGINT, lambda *_: stop.append(1))
        start = time.monotonic()
        # Spread the connections over one interval so the ticks do not come in bursts.
        for i in range(a.connections):
            self.open_one(start, start + a.interval * i / a.connections)
        while not stop:
            now = time.monotonic()
            missing = a.connections - len(self.conns)
            for _ in range(min(missing, a.reopen_per_tick)):
                self.open_one(now, now + 0.05)
            for s, st in list(self.conns.items()):
                if s in self.conns and st["next"] <= now:
                    st["next"] = now + a.interval
                    self.tick(s, st)
            for key, _ in self.sel.select(timeout=0.05):
                s = key.fileobj
                if s in self.conns:  # slowloris/upload: an answer or a close
                    self.read(s, 65536)
        print(json.dumps(dict(self.counts, open_at_end=len(self.conns),
                              seconds=round(time.monotonic() - start, 1))), flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--mode", choices=("slowloris", "slowread", "upload"), required=True)
    p.add_argument("--connections", type=int, default=100)
    p.add_argument("--interval", type=float, default=1.0, help="seconds between steps")
    p.add_argument("--path", default="/hello")
    p.add_argument("--read-bytes", type=int, default=256)
    p.add_argument("--body-bytes", type=int, default=1 << 20)
    p.add_argument("--chunk-bytes", type=int, default=4096)
    p.add_argument("--reopen-per-tick", type=int, default=20)
    Attack(p.parse_args()).run()


if __name__ == "__main__":
    main()
