"""Waking the replica applier from another process: a one-byte UDP datagram on localhost.

In one process the row store's writer wakes the applier after every commit (`Writer.on_commit`).
When the applier runs in the analytics process (`yibao serve`), the gateway processes send it a
datagram after their commits instead (`Notifier`, at most one per `COALESCE_S`), and the
analytics process's `Listener` wakes the applier; a datagram that is lost only costs the
applier's poll interval (`YIBAO_REPLICA_POLL_MS`). Nothing here blocks a commit.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

#: a gateway sends at most one wake-up per this many seconds (the applier batches anyway)
COALESCE_S = 0.002


class Notifier:
    """Called after each commit in a gateway process: sends the wake-up datagram."""

    def __init__(self, host: str, port: int) -> None:
        self.address = (host, port)
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.setblocking(False)
        self._last = 0.0

    def __call__(self) -> None:
        now = time.monotonic()
        if now - self._last < COALESCE_S:
            return
        self._last = now
        # the analytics process restarting, or a full buffer: the poll covers it
        with contextlib.suppress(OSError):
            self._sock.sendto(b"w", self.address)

    def close(self) -> None:
        self._sock.close()


class Listener:
    """In the analytics process: calls `wake()` for every datagram on (host, port)."""

    def __init__(self, host: str, port: int, wake: Callable[[], None]) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind((host, port))
        self._sock.settimeout(0.5)
        self._wake = wake
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="yibao-replica-wake", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._sock.close()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self._sock.recvfrom(64)
            except TimeoutError:
                continue
            except OSError:
                if self._stop.is_set():
                    return
                log.warning("replica wake listener: receive failed; the applier keeps polling")
                self._stop.wait(1.0)
                continue
            self._wake()
