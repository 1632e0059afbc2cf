"""Processes the harness starts: pinned to a core, logged to a file, stopped by PID.

Every process is started in its own session (its process group id is its PID), so
stopping it also reaches the workers it forked (nginx, gunicorn) without ever signalling
anything the harness did not start. A registry stops whatever is still running when the
driver exits, however it exits.
"""

import atexit
import ctypes
import os
import signal
import socket
import subprocess
import time

PROXY_CORE = 1  # the proxy under test, alone
LOAD_CORE = 0  # load generators, attackers and backends

_PR_SET_PDEATHSIG = 1
_running = []


def _die_with_parent():
    """Child side of fork: SIGKILL this process if the driver dies without cleaning up."""
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def free_port():
    """A loopback TCP port that was free a moment ago (bind to 0, read, release)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, timeout=10.0, proc=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError("%s exited with %s before listening on %d; see %s"
                               % (proc.name, proc.poll(), port, proc.log_path))
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("nothing listening on 127.0.0.1:%d after %.0f s" % (port, timeout))


class Process:
    """One started program (and the process group it leads)."""

    def __init__(self, name, argv, core, log_path, env=None, cwd=None):
        self.name = name
        self.log_path = log_path
        full = ["taskset", "-c", str(core)] + list(argv) if core is not None else list(argv)
        self._log = open(log_path, "ab")
        self.popen = subprocess.Popen(
            full, stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
            env=env, cwd=cwd, start_new_session=True, preexec_fn=_die_with_parent)
        self.pid = self.popen.pid
        _running.append(self)

    def poll(self):
        return self.popen.poll()

    def wait(self, timeout=None):
        return self.popen.wait(timeout=timeout)

    def stop(self, grace=5.0):
        """SIGTERM the group, wait up to `grace`, then SIGKILL it. Always reaps."""
        if self in _running:
            _running.remove(self)
        if self.popen.poll() is None:
            self._signal_group(signal.SIGTERM)
            try:
                self.popen.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                pass
        # Workers may outlive their master for a moment: the group goes in any case.
        self._signal_group(signal.SIGKILL)
        if self.popen.poll() is None:
            self.popen.wait()
        self._log.close()

    def _signal_group(self, sig):
        try:
            os.killpg(self.pid, sig)
        except ProcessLookupError:
            pass

    # --- /proc readings over the process and every descendant -----------------------

    def tree(self):
        """PIDs of this process and all its descendants (read from /proc)."""
        pids, todo = [], [self.pid]
        while todo:
            pid = todo.pop()
            pids.append(pid)
            try:
                for task in os.listdir("/proc/%d/task" % pid):
                    with open("/proc/%d/task/%s/children" % (pid, task)) as f:
                        todo.extend(int(c) for c in f.read().split())
            except OSError:
                continue
        return pids

    def cpu_seconds(self):
        """utime + stime of the whole tree, all threads included (from /proc/PID/stat)."""
        user, system = self.cpu_split()
        return user + system

    def cpu_split(self):
        """(utime, stime) of the whole tree in seconds: user space and the kernel."""
        user = system = 0
        for pid in self.tree():
            try:
                with open("/proc/%d/stat" % pid) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            user += int(fields[11])  # utime (field 14)
            system += int(fields[12])  # stime (field 15)
        tick = os.sysconf("SC_CLK_TCK")
        return user / tick, system / tick

    def rss_bytes(self):
        """Resident set size of the whole tree (VmRSS of each process)."""
        total = 0
        for pid in self.tree():
            try:
                with open("/proc/%d/status" % pid) as f:
                    for line in f:
                        if line.startswith("VmRSS:"):
                            total += int(line.split()[1]) * 1024
            except OSError:
                continue
        return total


def stop_all():
    for proc in list(reversed(_running)):
        proc.stop(grace=2.0)


def _on_signal(signum, _frame):
    stop_all()
    raise SystemExit(128 + signum)


atexit.register(stop_all)
signal.signal(signal.SIGTERM, _on_signal)
signal.signal(signal.SIGHUP, _on_signal)


def run(argv, core=LOAD_CORE, timeout=None):
    """Run a tool to completion on `core`; returns (exit status, stdout + stderr)."""
    full = ["taskset", "-c", str(core)] + list(argv)
    done = subprocess.run(full, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=timeout,
                          preexec_fn=_die_with_parent)
    return done.returncode, done.stdout.decode("utf-8", "replace")
