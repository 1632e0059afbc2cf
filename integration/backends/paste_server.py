#!/usr/bin/python3
"""paste.httpserver (Debian's python3-paste) serving testapp.py over HTTP/1.1 keep-alive.

  paste_server.py HOST PORT

paste.httpserver only listens on TCP. It is here because its HTTP/1.1 keep-alive handling
differs from gunicorn's and uWSGI's; doorman must work with it too.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import testapp  # noqa: E402
from paste import httpserver  # noqa: E402


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    print("paste_server: %s:%d" % (host, port), flush=True)
    httpserver.serve(testapp.application, host=host, port=port, protocol_version="HTTP/1.1")


if __name__ == "__main__":
    main()
