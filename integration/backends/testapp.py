"""WSGI test application for doorman's integration tests (stdlib only).

Served by gunicorn (sync workers), uWSGI (prefork, http11-socket), paste.httpserver and our
own prefork_server.py. Every server runs the same endpoints:

  /hello              small text body
  /echo[/anything]    JSON: method, path, query, headers (as received), body length and
                      sha256 of the body, remote_port (which upstream connection carried it)
  /large?bytes=N      N deterministic bytes (pattern_byte(i)), with Content-Length
  /sleep?ms=N         sleeps N ms, then a small body
  /status?code=N      answers with status N
  /chunked?bytes=N    N pattern bytes from a generator without Content-Length (chunked)
  /health             200, or 500 while the file named by TESTAPP_HEALTH_DOWN exists

When TESTAPP_RECORD names a file, every request appends its target ("/path?query") as one
line when the application starts it (O_APPEND: lines of every worker stay whole and in
order).

When the environment variable TESTAPP_STATS names a file, every request is counted there
across all worker processes (fcntl lock on a JSON file):
  {"requests", "inflight", "peak", "connections", "ports"}
"peak" is the largest number of requests ever in flight at once (a request stops counting
just before its last byte goes to the server, so a proxy that starts the next request
the moment a response is complete is not counted twice); "ports" the distinct
remote ports seen (one per upstream TCP connection); "connections" is written by
prefork_server.py only.
"""

import fcntl
import hashlib
import json
import os
import socket
import time
import urllib.parse

PATTERN = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def pattern_bytes(start, count):
    """Bytes [start, start + count) of the infinite repetition of PATTERN."""
    # One slice of enough repetitions: large responses cost the workers almost nothing,
    # so tests that ask for many of them measure doorman, not this loop.
    offset = start % len(PATTERN)
    return (PATTERN * ((offset + count) // len(PATTERN) + 1))[offset : offset + count]


class Stats:
    """Counters shared by every worker process through one locked JSON file."""

    def __init__(self, path):
        self.path = path

    def update(self, change):
        if not self.path:
            return
        with open(self.path, "a+") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                f.seek(0)
                text = f.read()
                data = json.loads(text) if text.strip() else {}
                for key in ("requests", "inflight", "peak", "connections"):
                    data.setdefault(key, 0)
                data.setdefault("ports", [])
                change(data)
                f.seek(0)
                f.truncate()
                f.write(json.dumps(data))
                f.flush()
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    def request_started(self, remote_port):
        def change(d):
            d["requests"] += 1
            d["inflight"] += 1
            d["peak"] = max(d["peak"], d["inflight"])
            if remote_port and remote_port not in d["ports"]:
                d["ports"].append(remote_port)

        self.update(change)

    def request_finished(self):
        def change(d):
            d["inflight"] -= 1

        self.update(change)

    def connection_accepted(self):
        def change(d):
            d["connections"] += 1

        self.update(change)


def _int_param(query, name, default):
    values = query.get(name)
    return int(values[0]) if values else default


def _read_body(environ):
    stream = environ["wsgi.input"]
    length = environ.get("CONTENT_LENGTH") or ""
    if length.strip():
        remaining = int(length)
        chunks = []
        while remaining > 0:
            chunk = stream.read(min(remaining, 1 << 16))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)
    if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
        return stream.read()
    return b""


def _received_headers(environ):
    headers = {}
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            headers[key[5:].replace("_", "-").lower()] = value
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            headers[key.replace("_", "-").lower()] = environ[key]
    return headers


def _text(start_response, status, body, content_type="text/plain"):
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body)))])
    return [body]


def _large(start_response, size):
    start_response(
        "200 OK",
        [("Content-Type", "application/octet-stream"), ("Content-Length", str(size))],
    )

    def generate():
        sent = 0
        while sent < size:
            n = min(1 << 16, size - sent)
            yield pattern_bytes(sent, n)
            sent += n

    return generate()


def _chunked(start_response, size):
    start_response("200 OK", [("Content-Type", "application/octet-stream")])

    def generate():
        sent = 0
        while sent < size:
            n = min(4096, size - sent)
            yield pattern_bytes(sent, n)
            sent += n

    return generate()


def _route(environ, start_response, body):
    path = environ.get("PATH_INFO", "")
    query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))
    if path == "/hello":
        return _text(start_response, "200 OK", b"hello\n")
    if path == "/echo" or path.startswith("/echo/"):
        doc = {
            "method": environ.get("REQUEST_METHOD", ""),
            "path": path,
            "query": environ.get("QUERY_STRING", ""),
            "headers": _received_headers(environ),
            "body_length": len(body),
            "body_sha256": hashlib.sha256(body).hexdigest(),
            "remote_port": _connection_id(environ),
        }
        out = json.dumps(doc).encode()
        return _text(start_response, "200 OK", out, "application/json")
    if path == "/large":
        return _large(start_response, _int_param(query, "bytes", 1024))
    if path == "/chunked":
        return _chunked(start_response, _int_param(query, "bytes", 1024))
    if path == "/sleep":
        time.sleep(_int_param(query, "ms", 100) / 1000.0)
        return _text(start_response, "200 OK", b"slept\n")
    if path == "/health":
        flag = os.environ.get("TESTAPP_HEALTH_DOWN", "")
        if flag and os.path.exists(flag):
            return _text(start_response, "500 Internal Server Error", b"unhealthy\n")
        return _text(start_response, "200 OK", b"healthy\n")
    if path == "/status":
        code = _int_param(query, "code", 200)
        return _text(start_response, "%d Status %d" % (code, code), b"status\n")
    return _text(start_response, "404 Not Found", b"not found\n")


def _connection_id(environ):
    """The peer's port: which upstream TCP connection carried this request ("" if unknown).

    uWSGI's http11-socket sets no REMOTE_PORT; ask the connection's socket instead.
    """
    port = str(environ.get("REMOTE_PORT", ""))
    if port or "uwsgi.version" not in environ:
        return port
    try:
        import uwsgi

        dup = socket.fromfd(uwsgi.connection_fd(), socket.AF_INET, socket.SOCK_STREAM)
        try:
            peer = dup.getpeername()
        finally:
            dup.close()
        return str(peer[1]) if isinstance(peer, tuple) else ""
    except (ImportError, OSError):
        return ""


def _record(environ):
    path = os.environ.get("TESTAPP_RECORD", "")
    if not path:
        return
    target = environ.get("PATH_INFO", "")
    if environ.get("QUERY_STRING"):
        target += "?" + environ["QUERY_STRING"]
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (target + "\n").encode())
    finally:
        os.close(fd)


def application(environ, start_response):
    _record(environ)
    stats = Stats(os.environ.get("TESTAPP_STATS", ""))
    stats.request_started(_connection_id(environ))
    finished = False
    try:
        # Every endpoint reads the whole body: a keep-alive server that left it unread
        # would parse it as the next request.
        body = _read_body(environ)
        pieces = iter(_route(environ, start_response, body))
        current = next(pieces, None)
        while current is not None:
            following = next(pieces, None)
            if following is None:
                # Count the request as finished BEFORE its last byte leaves: once a proxy
                # has the whole response it may send the next request to another worker,
                # and "peak" must not count this one twice.
                stats.request_finished()
                finished = True
            yield current
            current = following
    finally:
        if not finished:
            stats.request_finished()
