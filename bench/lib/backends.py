"""The app servers behind every proxy. All of them run on the load core, so the proxy's
core is left to the proxy alone; every proxy talks to the very same backend processes.

- near_free: an nginx that answers `return 200` (scenario 1, proxy overhead);
- gunicorn:  gunicorn sync workers serving integration/backends/testapp.py;
- paste:     paste.httpserver (HTTP/1.1 keep-alive, threaded) serving the same app;
- uwsgi:     uWSGI prefork with its HTTP/1.1 keep-alive socket (worker recycling).
"""

import os

from . import procs

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
APP_DIR = os.path.join(REPO, "integration", "backends")
PYTHON = "/usr/bin/python3"


class Backend:
    def __init__(self, name, port, workers, process):
        self.name = name
        self.port = port
        self.workers = workers  # what the proxies are told: in-flight limit per server
        self.process = process

    def stop(self):
        self.process.stop()


NEAR_FREE_CONF = """\
worker_processes 1;
daemon off;
pid {dir}/near-free.pid;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    keepalive_requests 1000000;
    keepalive_timeout 300s;
    client_body_temp_path {dir}/near-free-body;
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        location / {{ return 200 "ok\\n"; }}
    }}
}}
"""


def near_free(scratch, workers=16):
    """nginx `return 200`: the cheapest HTTP/1.1 keep-alive backend there is."""
    port = procs.free_port()
    conf = os.path.join(scratch, "near-free.conf")
    with open(conf, "w") as f:
        f.write(NEAR_FREE_CONF.format(dir=scratch, port=port))
    proc = procs.Process("near-free-nginx",
                         ["nginx", "-p", scratch, "-c", conf, "-e",
                          os.path.join(scratch, "near-free.err")],
                         procs.LOAD_CORE, os.path.join(scratch, "near-free.log"))
    procs.wait_for_port(port, proc=proc)
    return Backend("nginx return 200", port, workers, proc)


def gunicorn(scratch, workers=4, extra=(), label="gunicorn"):
    """gunicorn sync workers (closes the connection after every response)."""
    port = procs.free_port()
    argv = ["/usr/bin/gunicorn", "--chdir", APP_DIR, "--bind", "127.0.0.1:%d" % port,
            "--workers", str(workers), "--worker-class", "sync", "--backlog", "2048",
            "--log-level", "warning", "--timeout", "120"] + list(extra) + ["testapp:application"]
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    env.pop("TESTAPP_STATS", None)
    proc = procs.Process(label, argv, procs.LOAD_CORE,
                         os.path.join(scratch, "%s-%d.log" % (label, port)), env=env)
    procs.wait_for_port(port, timeout=20, proc=proc)
    return Backend("gunicorn sync x%d" % workers, port, workers, proc)


def uwsgi(scratch, workers=4, extra=(), label="uwsgi"):
    """uWSGI prefork workers on an HTTP/1.1 socket (keeps connections alive)."""
    port = procs.free_port()
    argv = ["/usr/bin/uwsgi", "--plugin", "python3", "--http11-socket", "127.0.0.1:%d" % port,
            "--processes", str(workers), "--wsgi-file", os.path.join(APP_DIR, "testapp.py"),
            "--master", "--die-on-term", "--need-app", "--strict", "--listen", "1024",
            "--disable-logging"] + list(extra)
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    env.pop("TESTAPP_STATS", None)
    proc = procs.Process(label, argv, procs.LOAD_CORE,
                         os.path.join(scratch, "%s-%d.log" % (label, port)), env=env)
    procs.wait_for_port(port, timeout=20, proc=proc)
    return Backend("uWSGI x%d" % workers, port, workers, proc)


def paste(scratch, workers=4):
    """paste.httpserver: HTTP/1.1 keep-alive, one thread per connection."""
    port = procs.free_port()
    proc = procs.Process("paste",
                         [PYTHON, os.path.join(APP_DIR, "paste_server.py"), "127.0.0.1",
                          str(port)],
                         procs.LOAD_CORE, os.path.join(scratch, "paste-%d.log" % port))
    procs.wait_for_port(port, timeout=20, proc=proc)
    return Backend("paste.httpserver", port, workers, proc)
