"""The institutions' credentials as the call pipeline sees them, and the credential use cases the
console and the CLI call.

A request carries `x-tif-paasid` and either the signature headers (signature mode,
`interface.signature`) or `x-yibao-key` (static mode). The usable credential behind a paasid —
institution, mode, the static secret's sha256 or the unsealed token — comes from
`enrolment.credentials.gateway_credential` and is cached in memory for `ttl` seconds, so the hot
path does no credential query and no decryption; a revoked credential or a deactivated
institution stops working within `ttl` (docs/interface.md §2).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from yibao.enrolment import credentials as enrolment
from yibao.enrolment.credentials import GatewayCredential, static_secret_matches
from yibao.runtime import Platform
from yibao.storage.database import Database

__all__ = [
    "CredentialCache",
    "GatewayCredential",
    "issue_credential",
    "static_secret_matches",
]


class CredentialCache:
    def __init__(self, db: Database, *, data_dir: Path, ttl: float = 30.0) -> None:
        self._db = db
        self._data_dir = data_dir
        self._ttl = ttl
        self._cache: dict[str, tuple[float, GatewayCredential]] = {}
        self._lock = threading.Lock()

    def cached(self, paasid: str) -> GatewayCredential | None:
        """The credential when it was loaded less than `ttl` ago."""
        hit = self._cache.get(paasid)
        if hit is None or hit[0] < time.monotonic():
            return None
        return hit[1]

    def load(self, paasid: str) -> GatewayCredential | None:
        """From the row store (blocking: call it off the event loop); None when unusable."""
        with self._db.read() as conn:
            credential = enrolment.gateway_credential(conn, paasid, data_dir=self._data_dir)
        if credential is not None:
            with self._lock:
                self._cache[paasid] = (time.monotonic() + self._ttl, credential)
        return credential

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()


def issue_credential(
    conn: Connection,
    *,
    platform: Platform,
    actor: str,
    fixmedins_code: str,
    auth_mode: str | None = None,
) -> dict[str, Any]:
    """Issue a credential for the console or the CLI (mode: signature unless `static`); the
    token or secret is in the answer, the only time it is shown."""
    return enrolment.issue_credential(
        conn,
        ids=platform.ids,
        actor=actor,
        fixmedins_code=fixmedins_code,
        auth_mode=enrolment.auth_mode(auth_mode),
        data_dir=platform.settings.data_dir,
    )
