"""Who owns the replica: a lock file in the data directory.

The serving process holds an exclusive `flock` on `<data_dir>/replica.lock` for its lifetime
and writes there how to reach it: its pid, the base URL of its HTTP API and a random token
that authorises the replica commands (`yibao replica status|rebuild|verify`) through
`X-Yibao-Replica-Token`. The file is owner-readable only, so the token is only good to whoever
may read the data directory anyway. A command that cannot take the lock knows a server runs
and talks to it; one that can take it works on the files directly.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

LOCK_NAME = "replica.lock"
TOKEN_HEADER = "X-Yibao-Replica-Token"


@dataclass(frozen=True)
class Owner:
    pid: int
    url: str
    token: str


class OwnerLock:
    """The exclusive lock of a process on the replica of a data directory."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / LOCK_NAME
        self._fh: IO[str] | None = None
        self.token = secrets.token_urlsafe(24)
        self.url = ""

    def acquire(self) -> bool:
        """Take the lock (non-blocking); False when another process holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        fh = os.fdopen(fd, "r+", encoding="utf-8")
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.close()
            return False
        self._fh = fh
        return True

    def publish(self, url: str) -> None:
        """Write (or update) how to reach this process."""
        if self._fh is None:
            return
        self.url = url
        body = json.dumps({"pid": os.getpid(), "url": url, "token": self.token})
        self._fh.seek(0)
        self._fh.truncate()
        self._fh.write(body)
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def release(self) -> None:
        if self._fh is None:
            return
        try:
            self._fh.seek(0)
            self._fh.truncate()
            fcntl.flock(self._fh.fileno(), fcntl.LOCK_UN)
        finally:
            self._fh.close()
            self._fh = None


def running_owner(data_dir: Path) -> Owner | None:
    """The serving process that holds the replica of `data_dir`, or None when none does."""
    path = data_dir / LOCK_NAME
    if not path.exists():
        return None
    probe = OwnerLock(data_dir)
    if probe.acquire():
        probe.release()
        return None
    try:
        info: dict[str, Any] = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        info = {}
    return Owner(
        int(info.get("pid") or 0), str(info.get("url") or ""), str(info.get("token") or "")
    )
