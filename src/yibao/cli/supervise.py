"""The processes of `yibao serve` and their supervisor (docs/operations.md).

`yibao serve` is a small supervisor: it binds the listening socket once, then starts

- the **analytics process** (`serve --role analytics`, on an internal port of 127.0.0.1): it owns
  the columnar replica (DuckDB's one read-write process), runs the applier and answers the
  analytics and replica APIs; and
- **N gateway processes** (`serve --role gateway`) that share the listening socket (inherited
  by file descriptor; the kernel hands each connection to one of them). They answer the
  national interface and the console, pass the analytics APIs on to the analytics process and
  wake its applier after their commits (`replica.wake`).

A child that exits is started again (the analytics process too: the replica catches up from
the change log); a gateway that keeps failing (`MAX_RESTARTS` within `RESTART_WINDOW_S`) stops
them all, an analytics process that keeps failing is retried every `BACKOFF_S`. SIGINT/SIGTERM stop them together; if the supervisor itself is killed, the kernel
kills its children (`PR_SET_PDEATHSIG`), so no orphan keeps the port or the replica's lock.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FrameType

log = logging.getLogger(__name__)

#: the CLI as a child process of this interpreter (the same venv and PYTHONPATH)
CLI = (sys.executable, "-c", "from yibao.cli.main import app; app()")
MAX_RESTARTS = 5
RESTART_WINDOW_S = 60.0
STOP_TIMEOUT_S = 20.0
BACKOFF_S = 30.0
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def listen_each(host: str, port: int, count: int) -> list[socket.socket]:
    """One listening socket per gateway process, all on one port. With several, each is
    SO_REUSEPORT, so the kernel spreads new connections over the gateways evenly; processes
    sharing one socket take connections as they race to accept them, and a keep-alive client
    stays with whichever won (the busiest process tends to win, and the others idle). A
    gateway that restarts gets its own socket back, with the connections queued meanwhile."""
    if count <= 1:
        return [listen(host, port)]
    out: list[socket.socket] = []
    try:
        for _ in range(count):
            out.append(listen(host, port, reuse_port=True))
    except OSError:
        for sock in out:
            sock.close()
        raise
    return out


def listen(host: str, port: int, *, attempts: int = 30, reuse_port: bool = False) -> socket.socket:
    """The server's listening socket, inheritable by the children. A port still held by the
    children of a supervisor that was just killed is retried for a few seconds."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for attempt in range(attempts):
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        try:
            sock.bind((host, port))
        except OSError:
            sock.close()
            if attempt == attempts - 1:
                raise
            time.sleep(0.1)
            continue
        sock.listen(2048)
        sock.set_inheritable(True)
        return sock
    raise AssertionError("unreachable")


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


@dataclass
class Child:
    """One supervised process."""

    name: str
    argv: list[str]
    env: dict[str, str]
    pass_fds: tuple[int, ...] = ()
    #: an essential child that keeps failing stops everything (a gateway: a broken setting);
    #: a non-essential one (the analytics process) is retried every `BACKOFF_S` instead, so
    #: that settlement never stops for the dashboards' sake
    essential: bool = True
    proc: subprocess.Popen[bytes] | None = None
    starts: list[float] = field(default_factory=list)
    #: a non-essential child failing repeatedly waits until then before its next start
    retry_at: float = 0.0

    def start(self) -> None:
        self.proc = subprocess.Popen(
            self.argv,
            env=self.env,
            pass_fds=self.pass_fds,
            preexec_fn=_die_with_parent,
            # its own process group: a Ctrl-C reaches the supervisor, which stops the children
            process_group=0,
        )
        self.starts.append(time.monotonic())

    @property
    def pid(self) -> int:
        return self.proc.pid if self.proc is not None else 0

    def failing(self, now: float) -> bool:
        recent = [t for t in self.starts if now - t < RESTART_WINDOW_S]
        self.starts = recent
        return len(recent) > MAX_RESTARTS


class Supervisor:
    """Starts the children, restarts the ones that exit, stops them together."""

    def __init__(
        self, children: list[Child], *, on_exit: Callable[[int], None] = lambda _pid: None
    ) -> None:
        self.children = children
        self.on_exit = on_exit
        self._stopping = False

    def _signal(self, signum: int, _frame: FrameType | None) -> None:
        self._stopping = True

    def run(self, *, poll_s: float = 0.2) -> int:
        """Supervise until SIGINT/SIGTERM (exit 0) or a child keeps failing (exit 1)."""
        previous = {
            sig: signal.signal(sig, self._signal) for sig in (signal.SIGINT, signal.SIGTERM)
        }
        code = 0
        try:
            for child in self.children:
                child.start()
            while not self._stopping:
                time.sleep(poll_s)
                for child in self.children:
                    assert child.proc is not None
                    if child.retry_at:
                        if time.monotonic() >= child.retry_at:
                            child.retry_at = 0.0
                            child.start()
                        continue
                    status = child.proc.poll()
                    if status is None or self._stopping:
                        continue
                    self.on_exit(child.pid)
                    now = time.monotonic()
                    if child.failing(now) and not child.essential:
                        log.error(
                            "%s keeps exiting (last exit %s): starting it again in %.0f s; "
                            "settlement goes on",
                            child.name,
                            status,
                            BACKOFF_S,
                        )
                        child.retry_at = now + BACKOFF_S
                        continue
                    if child.failing(now):
                        log.error(
                            "%s exited %s times within %.0f s (last exit %s): stopping yibao",
                            child.name,
                            MAX_RESTARTS + 1,
                            RESTART_WINDOW_S,
                            status,
                        )
                        self._stopping = True
                        code = 1
                        break
                    log.warning(
                        "%s (pid %s) exited with %s; starting it again",
                        child.name,
                        child.pid,
                        status,
                    )
                    child.start()
        finally:
            self.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return code

    def stop(self) -> None:
        """SIGTERM every child (a graceful stop: calls in flight are answered), SIGKILL the
        ones still running after `STOP_TIMEOUT_S`."""
        running = [c for c in self.children if c.proc is not None and c.proc.poll() is None]
        for child in running:
            assert child.proc is not None
            with contextlib.suppress(ProcessLookupError):
                child.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        for child in running:
            assert child.proc is not None
            try:
                child.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("%s (pid %s) did not stop; killing it", child.name, child.pid)
                child.proc.kill()
                child.proc.wait()
            self.on_exit(child.pid)


def child_env(values: dict[str, str]) -> dict[str, str]:
    """This process's environment with `values` set."""
    env = dict(os.environ)
    env.update(values)
    return env
