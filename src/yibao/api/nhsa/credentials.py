"""Institution credentials of the gateway: static headers `x-tif-paasid: <paasid>` and
`x-yibao-key: <secret>`, checked against `fixmedins_credential` (sha256 of the secret,
constant-time compare) and the institution's own row.

Verified credentials are cached in memory for `ttl` seconds, so the hot path does no credential
query; a revoked credential or a deactivated institution stops working within `ttl`.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time

from sqlalchemy import select

from yibao.interface.context import Institution
from yibao.storage.database import Database
from yibao.storage.tables import fixmedins, fixmedins_credential


class Credentials:
    def __init__(self, db: Database, *, ttl: float = 30.0) -> None:
        self._db = db
        self._ttl = ttl
        self._cache: dict[str, tuple[float, str, Institution]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def digest(secret: str) -> str:
        return hashlib.sha256(secret.encode()).hexdigest()

    def cached(self, paasid: str, secret: str) -> Institution | None:
        """The institution when this credential was verified less than `ttl` ago."""
        hit = self._cache.get(paasid)
        if hit is None or hit[0] < time.monotonic():
            return None
        if hmac.compare_digest(hit[1], self.digest(secret)):
            return hit[2]
        return None

    def verify(self, paasid: str, secret: str) -> Institution | None:
        """Check against the row store (blocking: call it off the event loop)."""
        with self._db.read() as conn:
            row = (
                conn.execute(
                    select(
                        fixmedins_credential.c.secret_sha256,
                        fixmedins_credential.c.vali_flag.label("cred_flag"),
                        fixmedins_credential.c.revoked_at,
                        fixmedins,
                    )
                    .join(
                        fixmedins,
                        fixmedins.c.fixmedins_code == fixmedins_credential.c.fixmedins_code,
                    )
                    .where(fixmedins_credential.c.paasid == paasid)
                )
                .mappings()
                .first()
            )
        digest = self.digest(secret)
        if row is None:
            hmac.compare_digest(digest, digest)  # same work whether or not the id exists
            return None
        if not hmac.compare_digest(str(row["secret_sha256"]), digest):
            return None
        if row["cred_flag"] != "1" or row["revoked_at"] is not None or row["vali_flag"] != "1":
            return None
        institution = Institution(
            fixmedins_code=row["fixmedins_code"],
            fixmedins_name=row["fixmedins_name"],
            kind=row["kind"],
            hosp_lv=row["hosp_lv"],
            admdvs=row["admdvs"],
            parent_code=row["parent_code"],
        )
        with self._lock:
            self._cache[paasid] = (time.monotonic() + self._ttl, digest, institution)
        return institution

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()
