"""A small WSGI app for trying doorman out (standard library only).

Run it the way scripts/run-demo does:

    gunicorn --workers 4 --worker-class sync --bind 127.0.0.1:8001 --chdir demo app:application

Routes:
    GET  /         an HTML page using /static/style.css, /static/app.js and /static/logo.svg
                   (served by doorman from demo/static/, never by this app)
    POST /submit   echoes the posted form fields back, HTML-escaped
    GET  /healthz  "ok" (used by scripts/run-demo to wait for the workers)

Every page names the worker process that served it, so you can watch doorman spread
requests over the sync workers.
"""

import html
import os
from urllib.parse import parse_qsl

# A sync worker is busy for as long as it reads; doorman has already buffered the whole
# body, but keep the demo honest about what it accepts anyway.
MAX_FORM_BYTES = 1024 * 1024

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="stylesheet" href="/static/style.css">
<link rel="icon" href="/static/logo.svg" type="image/svg+xml">
<script src="/static/app.js" defer></script>
</head>
<body>
<header>
  <img src="/static/logo.svg" alt="doorman logo" width="48" height="48">
  <h1>{title}</h1>
</header>
<main>
{body}
</main>
<footer>Served by sync worker pid {pid}. Static files come from doorman itself.</footer>
</body>
</html>
"""

INDEX_BODY = """<p>This page came from a gunicorn <em>sync</em> worker behind doorman.
doorman read your whole request before handing it to a free worker, and will read the
whole response back before trickling it out to you, so a slow client never holds a worker.</p>

<form method="post" action="/submit">
  <label>Name <input type="text" name="name" maxlength="200" autocomplete="off"></label>
  <label>Message <textarea name="message" rows="4" cols="40"></textarea></label>
  <p class="counter"><span id="count">0</span> characters</p>
  <button type="submit">Send</button>
</form>
"""


def page(title, body):
    text = PAGE.format(title=html.escape(title), body=body, pid=os.getpid())
    return text.encode("utf-8")


def respond(start_response, status, body, content_type="text/html; charset=utf-8", extra=()):
    headers = [("Content-Type", content_type), ("Content-Length", str(len(body)))]
    headers.extend(extra)
    start_response(status, headers)
    return [body]


def read_form(environ):
    """Returns the posted urlencoded fields as (name, value) pairs, or None if too large."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_FORM_BYTES:
        return None
    raw = environ["wsgi.input"].read(length) if length > 0 else b""
    return parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True)


def submit(environ, start_response):
    fields = read_form(environ)
    if fields is None:
        return respond(start_response, "413 Content Too Large",
                       page("Too large", "<p>That form is larger than 1 MiB.</p>"))
    if fields:
        rows = "\n".join(
            "<tr><th>{}</th><td><pre>{}</pre></td></tr>".format(html.escape(k), html.escape(v))
            for k, v in fields)
        body = "<p>You posted:</p>\n<table>\n{}\n</table>".format(rows)
    else:
        body = "<p>You posted an empty form.</p>"
    body += '\n<p><a href="/">Back</a></p>'
    return respond(start_response, "200 OK", page("Submitted", body))


def application(environ, start_response):
    method = environ.get("REQUEST_METHOD", "GET")
    path = environ.get("PATH_INFO", "/")

    if path == "/healthz":
        if method not in ("GET", "HEAD"):
            return respond(start_response, "405 Method Not Allowed", b"",
                           extra=[("Allow", "GET, HEAD")])
        return respond(start_response, "200 OK", b"ok\n", "text/plain; charset=utf-8")

    if path == "/":
        if method not in ("GET", "HEAD"):
            return respond(start_response, "405 Method Not Allowed", b"",
                           extra=[("Allow", "GET, HEAD")])
        return respond(start_response, "200 OK", page("doorman demo", INDEX_BODY))

    if path == "/submit":
        if method != "POST":
            return respond(start_response, "405 Method Not Allowed", b"",
                           extra=[("Allow", "POST")])
        return submit(environ, start_response)

    return respond(start_response, "404 Not Found",
                   page("Not found", "<p>No page at {}.</p>".format(html.escape(path))))
