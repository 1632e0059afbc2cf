"""The four proxies, each configured the way its documentation recommends for a buffering
front of sync workers, one worker process (or thread) each, pinned to the proxy core.

Every proxy gets the same routes: /static/ from a directory (not HAProxy, which serves no
files), everything else to the one upstream `app` (a Backend), told how many requests
that backend can take at once where the proxy has such a setting.
"""

import os

from . import procs

ALL = ("doorman", "nginx", "haproxy", "h2o")


class Running:
    def __init__(self, name, port, process):
        self.name = name
        self.port = port
        self.process = process

    def url(self, path="/"):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def stop(self):
        self.process.stop()


def serves_static(name):
    return name != "haproxy"


def start(name, scratch, backend, static_root, doorman_binary, wrapper=(), extra_args=(),
          start_timeout=10.0):
    """Start proxy `name` in front of `backend`; `wrapper` goes before the command
    (valgrind), `extra_args` after it."""
    port = procs.free_port()
    work = os.path.join(scratch, "%s-%d" % (name, port))
    os.makedirs(work, mode=0o777)
    os.chmod(work, 0o777)  # nginx and h2o workers run as nobody when started as root
    writer, argv = {
        "doorman": (_doorman_conf, lambda c: [doorman_binary, "-c", c]),
        "nginx": (_nginx_conf, lambda c: ["nginx", "-p", work, "-c", c, "-e",
                                          os.path.join(work, "error.log")]),
        "haproxy": (_haproxy_conf, lambda c: ["haproxy", "-db", "-f", c]),
        "h2o": (_h2o_conf, lambda c: ["h2o", "-c", c]),
    }[name]
    conf = os.path.join(work, "proxy.conf")
    with open(conf, "w") as f:
        f.write(writer(port=port, work=work, backend=backend, static_root=static_root))
    proc = procs.Process(name, list(wrapper) + argv(conf) + list(extra_args), procs.PROXY_CORE,
                         os.path.join(work, "stdout.log"))
    procs.wait_for_port(port, timeout=start_timeout, proc=proc)
    running = Running(name, port, proc)
    running.backend = backend
    return running


def _doorman_conf(port, work, backend, static_root):
    return """\
listen: ["127.0.0.1:{port}"]
limits: {{ connections: 15000 }}
timeouts: {{ header: 10s, body_idle: 30s, send_idle: 60s, keepalive: 75s }}
buffering: {{ temp_dir: {work} }}
upstreams:
  app:
    servers:
      - {{ address: "127.0.0.1:{backend_port}", workers: {workers} }}
    queue: {{ max: 10000, timeout: 30s }}
routes:
  - {{ prefix: /static/, static: {{ root: {static_root} }} }}
  - {{ prefix: /, upstream: app }}
log: {{ level: warn }}
""".format(port=port, work=work, backend_port=backend.port, workers=backend.workers,
           static_root=static_root)


# nginx's documentation for proxying to app servers (and gunicorn's own deployment page):
# proxy_buffering and proxy_request_buffering on (their defaults, spelled out), HTTP/1.1
# with an upstream keepalive pool; sendfile, tcp_nopush and open_file_cache for files.
def _nginx_conf(port, work, backend, static_root):
    return """\
worker_processes 1;
worker_rlimit_nofile 20000;
daemon off;
pid {work}/nginx.pid;
events {{ worker_connections 15000; }}
http {{
    access_log off;
    include /etc/nginx/mime.types;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    open_file_cache max=1000 inactive=60s;
    open_file_cache_valid 30s;
    open_file_cache_min_uses 1;
    open_file_cache_errors on;
    keepalive_timeout 75s;
    keepalive_requests 1000000;
    client_header_timeout 10s;
    client_body_timeout 30s;
    send_timeout 60s;
    client_max_body_size 100m;
    client_body_temp_path {work}/client_body;
    proxy_temp_path {work}/proxy;
    fastcgi_temp_path {work}/fastcgi;
    uwsgi_temp_path {work}/uwsgi;
    scgi_temp_path {work}/scgi;
    upstream app {{
        server 127.0.0.1:{backend_port};
        keepalive {workers};
    }}
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        location /static/ {{ alias {static_root}/; }}
        location / {{
            proxy_pass http://app;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_buffering on;
            proxy_request_buffering on;
            proxy_read_timeout 60s;
        }}
    }}
}}
""".format(port=port, work=work, backend_port=backend.port, workers=max(backend.workers, 8),
           static_root=static_root)


# HAProxy's configuration manual: option http-buffer-request so the server sees whole
# requests (up to a buffer), http-reuse for idle server connections, and a per-server
# maxconn equal to what the server can process at once: the rest waits in HAProxy's queue.
def _haproxy_conf(port, work, backend, static_root):
    del static_root  # HAProxy serves no files
    return """\
global
    nbthread 1
    # This machine's hard descriptor limit (20000) is below what HAProxy derives from
    # maxconn (two per connection): run with it anyway, idle client connections need one.
    no strict-limits
    ulimit-n 20000
    maxconn 10500
    pidfile {work}/haproxy.pid

defaults
    mode http
    option http-keep-alive
    option http-buffer-request
    option forwardfor
    http-reuse always
    timeout connect 1s
    timeout client 60s
    timeout server 60s
    timeout http-request 10s
    timeout http-keep-alive 75s
    timeout queue 30s

frontend fe
    bind 127.0.0.1:{port}
    maxconn 10500
    default_backend app

backend app
    server s1 127.0.0.1:{backend_port} maxconn {workers}
""".format(port=port, work=work, backend_port=backend.port, workers=backend.workers)


# h2o's documentation: proxy.reverse.url for the app, file.dir for static files.
def _h2o_conf(port, work, backend, static_root):
    return """\
num-threads: 1
max-connections: 15000
pid-file: {work}/h2o.pid
error-log: {work}/error.log
http1-request-timeout: 10
listen:
  host: 127.0.0.1
  port: {port}
hosts:
  default:
    paths:
      /static:
        file.dir: {static_root}
      /:
        proxy.reverse.url: http://127.0.0.1:{backend_port}/
        proxy.preserve-host: ON
""".format(port=port, work=work, backend_port=backend.port, static_root=static_root)
