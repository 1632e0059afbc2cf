#!/usr/bin/python3
"""Starts a command the way systemd's socket activation does: binds and listens on
127.0.0.1:PORT, puts the socket at fd 3, sets LISTEN_FDS=1 and LISTEN_PID to the pid the
command will have (exec keeps it), then execs the command.

usage: socket_activate.py PORT COMMAND [ARG...]"""
import os
import socket
import sys


def main():
    port = int(sys.argv[1])
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(128)
    if listener.fileno() != 3:
        os.dup2(listener.fileno(), 3)  # dup2 clears close-on-exec on the new descriptor
        listener.close()
    else:
        os.set_inheritable(3, True)
    os.environ["LISTEN_FDS"] = "1"
    os.environ["LISTEN_PID"] = str(os.getpid())
    os.execvp(sys.argv[2], sys.argv[2:])


if __name__ == "__main__":
    main()
