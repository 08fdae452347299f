"""The institutions' credentials as the call pipeline sees them: static headers
`x-tif-paasid: <paasid>` and `x-yibao-key: <secret>`, verified by
`enrolment.credentials.verified_institution` (sha256 of the secret, constant-time compare, the
credential's and the institution's flags).

Verified credentials are cached in memory for `ttl` seconds, so the hot path does no credential
query; a revoked credential or a deactivated institution stops working within `ttl`
(docs/interface.md §2).
"""

from __future__ import annotations

import hmac
import threading
import time

from yibao.enrolment.credentials import Institution, secret_sha256, verified_institution
from yibao.storage.database import Database


class CredentialCache:
    def __init__(self, db: Database, *, ttl: float = 30.0) -> None:
        self._db = db
        self._ttl = ttl
        self._cache: dict[str, tuple[float, str, Institution]] = {}
        self._lock = threading.Lock()

    def cached(self, paasid: str, secret: str) -> Institution | None:
        """The institution when this credential was verified less than `ttl` ago."""
        hit = self._cache.get(paasid)
        if hit is None or hit[0] < time.monotonic():
            return None
        if hmac.compare_digest(hit[1], secret_sha256(secret)):
            return hit[2]
        return None

    def verify(self, paasid: str, secret: str) -> Institution | None:
        """Check against the row store (blocking: call it off the event loop)."""
        with self._db.read() as conn:
            institution = verified_institution(conn, paasid, secret)
        if institution is not None:
            with self._lock:
                self._cache[paasid] = (
                    time.monotonic() + self._ttl,
                    secret_sha256(secret),
                    institution,
                )
        return institution

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()
