#!/usr/bin/python3
"""A small prefork HTTP/1.1 keep-alive server for doorman's integration tests (stdlib only).

N forked processes share one listening socket. Each accept()s ONE connection and serves it
(HTTP/1.1 keep-alive, Content-Length bodies) until the peer closes it, then accepts the
next: a kept-alive connection holds a whole process, exactly like a prefork sync worker.
The endpoints are testapp.py's; its stats file (--stats) also counts accepted connections,
so a test can tell how many upstream connections a proxy opened.

  prefork_server.py --bind unix:/path/sock | --bind 127.0.0.1:PORT
                    [--processes N] [--stats FILE] [--sleep-ms N] [--close-after N]
                    [--close-delay-ms N] [--record FILE]

--sleep-ms N     sleep N ms in every request before the application runs
--close-after N  silently close a kept-alive connection after N responses (no
                 "Connection: close" header), as servers with max-requests-per-connection do
--close-delay-ms N  with --close-after: wait N ms after the last response before closing,
                 reading nothing, so a request sent meanwhile is never read and the close
                 resets the connection (the keep-alive race, made deterministic)
--record FILE    append one line per request read completely, before the app runs:
                 "METHOD TARGET X-Request-ID" (a test counts what the backend processed)

GET or POST /vanish: recorded, then the connection is closed without an answer (a worker
that read a request and died).
"""

import argparse
import ctypes
import io
import os
import signal
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import testapp  # noqa: E402

MAX_HEAD = 64 * 1024
PR_SET_PDEATHSIG = 1


class ConnectionDone(Exception):
    """The peer closed, sent garbage, or we decided to close."""


class Reader:
    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionDone()
        self.buf += data

    def read_head(self):
        while b"\r\n\r\n" not in self.buf:
            if len(self.buf) > MAX_HEAD:
                raise ConnectionDone()
            self._fill()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        return head.decode("latin-1")

    def read_exact(self, n):
        while len(self.buf) < n:
            self._fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out


def parse_head(head):
    lines = head.split("\r\n")
    method, target, version = lines[0].split(" ", 2)
    headers = []
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers.append((name.strip(), value.strip()))
    return method, target, version, headers


def build_environ(method, target, version, headers, body, peer_port):
    path, _, query = target.partition("?")
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_PROTOCOL": version,
        "SERVER_NAME": "prefork",
        "SERVER_PORT": "0",
        "REMOTE_ADDR": "",
        "REMOTE_PORT": peer_port,
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    for name, value in headers:
        key = name.upper().replace("-", "_")
        if key in ("CONTENT_LENGTH", "CONTENT_TYPE"):
            environ[key] = value
        else:
            key = "HTTP_" + key
            environ[key] = environ[key] + "," + value if key in environ else value
    return environ


def run_app(environ):
    captured = {}

    def start_response(status, response_headers, exc_info=None):
        captured["status"] = status
        captured["headers"] = response_headers

    result = testapp.application(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        if hasattr(result, "close"):
            result.close()
    return captured["status"], captured["headers"], body


def serve_connection(sock, args, peer_port):
    reader = Reader(sock)
    served = 0
    while True:
        method, target, version, headers = parse_head(reader.read_head())
        lower = {name.lower(): value for name, value in headers}
        if "transfer-encoding" in lower:
            # doorman must always send Content-Length upstream; make a violation visible.
            sock.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            raise ConnectionDone()
        body = reader.read_exact(int(lower.get("content-length", "0") or "0"))
        if args.record:
            line = "%s %s %s\n" % (method, target, lower.get("x-request-id", "-"))
            fd = os.open(args.record, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, line.encode("latin-1"))
            finally:
                os.close(fd)
        if target.split("?")[0] == "/vanish":
            raise ConnectionDone()
        if args.sleep_ms:
            time.sleep(args.sleep_ms / 1000.0)
        status, response_headers, out = run_app(
            build_environ(method, target, version, headers, body, peer_port)
        )
        close = lower.get("connection", "").lower() == "close" or version == "HTTP/1.0"
        lines = ["HTTP/1.1 " + status]
        for name, value in response_headers:
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                lines.append("%s: %s" % (name, value))
        lines.append("Content-Length: %d" % len(out))
        if close:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        sock.sendall(head if method == "HEAD" else head + out)
        served += 1
        if close:
            raise ConnectionDone()
        if args.close_after and served >= args.close_after:
            if args.close_delay_ms:
                time.sleep(args.close_delay_ms / 1000.0)
            raise ConnectionDone()


def child_loop(listener, args):
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    try:
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass
    stats = testapp.Stats(args.stats)
    while True:
        conn, peer = listener.accept()
        stats.connection_accepted()
        peer_port = str(peer[1]) if isinstance(peer, tuple) else str(conn.fileno())
        try:
            serve_connection(conn, args, peer_port)
        except (ConnectionDone, ConnectionError, ValueError):
            pass
        finally:
            conn.close()


def make_listener(bind):
    if bind.startswith("unix:"):
        path = bind[len("unix:"):]
        if os.path.exists(path):
            os.unlink(path)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.bind(path)
    else:
        host, _, port = bind.rpartition(":")
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, int(port)))
    sock.listen(128)
    return sock


class Stop(Exception):
    pass


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bind", required=True)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--stats", default="")
    parser.add_argument("--sleep-ms", type=int, default=0)
    parser.add_argument("--close-after", type=int, default=0)
    parser.add_argument("--close-delay-ms", type=int, default=0)
    parser.add_argument("--record", default="")
    args = parser.parse_args()
    if args.stats:
        os.environ["TESTAPP_STATS"] = args.stats

    listener = make_listener(args.bind)
    children = []
    for _ in range(args.processes):
        pid = os.fork()
        if pid == 0:
            try:
                child_loop(listener, args)
            finally:
                os._exit(0)
        children.append(pid)

    def on_term(signum, frame):
        raise Stop()

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    print("prefork_server: %d processes on %s" % (len(children), args.bind), flush=True)
    try:
        while children:
            pid, _ = os.wait()
            if pid in children:
                children.remove(pid)
    except Stop:
        pass
    finally:
        for pid in children:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for pid in children:
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
        if args.bind.startswith("unix:"):
            try:
                os.unlink(args.bind[len("unix:"):])
            except FileNotFoundError:
                pass


if __name__ == "__main__":
    main()
