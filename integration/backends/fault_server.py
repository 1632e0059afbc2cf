#!/usr/bin/python3
"""A misbehaving HTTP/1.1 backend for doorman's fault and framing tests (stdlib only).

One process, one thread per connection, keep-alive. Every request it receives is
recorded byte for byte (--record DIR: req-000001.bin, ...), so a test can check what
doorman forwarded. What it answers depends on the last segment of the path (so that a
test may route it under any prefix):

  /ok?id=X       200 "id=X\\n" (Content-Length), connection kept
  /kill          head with Content-Length: 1000000, 1000 body bytes, then SIGKILL to itself
  /hang          never answers (reads until the peer closes)
  /garbage       bytes that are not HTTP, then close
  /huge          Content-Length: 50000000 and as many bytes as the peer takes
  /double        200 "first", then at once a second, unsolicited 200 "EVIL" on the
                 same connection (a response to a request it never got)
  /cl-te         Content-Length together with Transfer-Encoding: chunked
  /two-cl        two different Content-Length fields
  /lf-chunked    a chunked body ended by "0\\r\\n\\n" (bare LF)
  /bare-cr       a header value with a bare CR in it
  anything else  200 "ok\\n"

  fault_server.py --port PORT --record DIR
"""

import argparse
import os
import signal
import socket
import sys
import threading

counter_lock = threading.Lock()
counter = [0]


def record(directory, data):
    with counter_lock:
        counter[0] += 1
        n = counter[0]
    path = os.path.join(directory, "req-%06d.bin" % n)
    with open(path + ".tmp", "wb") as f:
        f.write(data)
    os.rename(path + ".tmp", path)


def read_request(conn, buf):
    """Returns (raw request bytes, rest of buffer) or (None, None) at EOF."""
    while b"\r\n\r\n" not in buf:
        data = conn.recv(65536)
        if not data:
            return None, None
        buf += data
    end = buf.index(b"\r\n\r\n") + 4
    head = buf[:end]
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(buf) < end + length:
        data = conn.recv(65536)
        if not data:
            return None, None
        buf += data
    return buf[: end + length], buf[end + length :]


def response(body, extra=b""):
    return (b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n" % len(body)) + extra + b"\r\n" + body


def serve(conn, record_dir):
    buf = b""
    try:
        while True:
            raw, buf = read_request(conn, buf)
            if raw is None:
                return
            record(record_dir, raw)
            target = raw.split(b" ", 2)[1]
            path, _, query = target.partition(b"?")
            path = b"/" + path.rsplit(b"/", 1)[-1]  # routes may put it under a prefix
            if path == b"/ok":
                conn.sendall(response(b"id=" + query.partition(b"=")[2] + b"\n"))
            elif path == b"/kill":
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n" + b"k" * 1000)
                os.kill(os.getpid(), signal.SIGKILL)
            elif path == b"/hang":
                while conn.recv(65536):
                    pass
                return
            elif path == b"/garbage":
                conn.sendall(b"garbage garbage garbage\r\n\r\n")
                return
            elif path == b"/huge":
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 50000000\r\n\r\n")
                chunk = b"h" * 65536
                for _ in range(50000000 // len(chunk) + 1):
                    conn.sendall(chunk)
                return
            elif path == b"/double":
                conn.sendall(response(b"first") + response(b"EVIL"))
            elif path == b"/cl-te":
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
                             b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
            elif path == b"/two-cl":
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd")
            elif path == b"/lf-chunked":
                conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                             b"2\r\nok\r\n0\r\n\n")
            elif path == b"/bare-cr":
                conn.sendall(b"HTTP/1.1 200 OK\r\nX-A: a\rb\r\nContent-Length: 2\r\n\r\nok")
            else:
                conn.sendall(response(b"ok\n"))
    except (ConnectionError, BrokenPipeError, OSError):
        return
    finally:
        conn.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--record", required=True)
    args = parser.parse_args()
    os.makedirs(args.record, exist_ok=True)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    sock.listen(128)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    print("fault_server: ready on port %d" % args.port, flush=True)
    while True:
        conn, _ = sock.accept()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=serve, args=(conn, args.record), daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
