"""The replica applier's heartbeat: a small file the process that serves the replica rewrites
every second, so that other processes (the gateway workers' `GET /readyz`) can tell that the
applier is alive and how far it has applied without opening the DuckDB file (one process
owns it).

`<data_dir>/replica.heartbeat` holds ``{"pid", "applied_seq", "running", "error", "at_ms"}``;
a beat older than `STALE_MS` means the applier (or its process) has stopped.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

NAME = "replica.heartbeat"
INTERVAL_S = 1.0
#: a beat older than this means the applier is not alive
STALE_MS = 5_000


@dataclass(frozen=True)
class Beat:
    pid: int
    applied_seq: int
    running: bool
    error: str | None
    at_ms: int

    def age_ms(self, now_ms: int | None = None) -> int:
        now = int(time.time() * 1000) if now_ms is None else now_ms
        return max(0, now - self.at_ms)

    @property
    def alive(self) -> bool:
        """The applier runs, beat within `STALE_MS`, and its process (on this machine: the
        data directory is local) still exists."""
        return self.running and self.age_ms() <= STALE_MS and _exists(self.pid)


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: it exists
        return True
    return True


def path(data_dir: Path) -> Path:
    return data_dir / NAME


def write(data_dir: Path, *, applied_seq: int, running: bool, error: str | None) -> None:
    """Replace the heartbeat file atomically (a reader never sees half a beat)."""
    target = path(data_dir)
    tmp = target.with_name(f".{NAME}.{os.getpid()}")
    body = {
        "pid": os.getpid(),
        "applied_seq": applied_seq,
        "running": running,
        "error": error[:300] if error else None,
        "at_ms": int(time.time() * 1000),
    }
    tmp.write_text(json.dumps(body), encoding="utf-8")
    os.replace(tmp, target)


def read(data_dir: Path) -> Beat | None:
    """The last beat, or None when there is none (or it cannot be read)."""
    try:
        info: dict[str, Any] = json.loads(path(data_dir).read_text(encoding="utf-8"))
        return Beat(
            pid=int(info["pid"]),
            applied_seq=int(info["applied_seq"]),
            running=bool(info["running"]),
            error=str(info["error"]) if info.get("error") else None,
            at_ms=int(info["at_ms"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def clear(data_dir: Path) -> None:
    with contextlib.suppress(OSError):
        path(data_dir).unlink()


class Beater:
    """A daemon thread that writes the heartbeat every `INTERVAL_S` from `state()`."""

    def __init__(self, data_dir: Path, state: Callable[[], tuple[int, bool, str | None]]) -> None:
        self.data_dir = data_dir
        self._state = state
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="yibao-heartbeat", daemon=True)
        self._thread.start()

    def beat(self) -> None:
        applied, running, error = self._state()
        write(self.data_dir, applied_seq=applied, running=running, error=error)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        clear(self.data_dir)

    def _loop(self) -> None:
        while not self._stop.is_set():
            # a full or read-only disk: the beat goes stale and readiness says so
            with contextlib.suppress(OSError):
                self.beat()
            self._stop.wait(INTERVAL_S)
