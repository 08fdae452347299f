"""The signature nonces (`gateway_nonce`): one row store table shared by every gateway process,
so a request replayed to another worker or machine is refused too (like the sign-in state).

A nonce is kept until its request's timestamp leaves the signature window (`expires_at`); a
replay after that fails the timestamp check anyway. Expired rows are purged now and then by
whichever process claims a nonce (`NonceStore.claim`).
"""

from __future__ import annotations

import threading
import time

from sqlalchemy import Connection, bindparam, delete, select, update

from yibao.storage.prepared import Prepared, PreparedInsert
from yibao.storage.tables import gateway_nonce

#: how often one process deletes expired nonces (seconds)
PURGE_EVERY = 60.0

_SEEN = Prepared(
    select(gateway_nonce.c.expires_at).where(
        gateway_nonce.c.paasid == bindparam("paasid"),
        gateway_nonce.c.nonce == bindparam("nonce"),
    )
)
_INSERT = PreparedInsert(gateway_nonce)
_RENEW = Prepared(
    update(gateway_nonce)
    .where(
        gateway_nonce.c.paasid == bindparam("b_paasid"),
        gateway_nonce.c.nonce == bindparam("b_nonce"),
    )
    .values(expires_at=bindparam("b_expires_at"))
)


def claim(conn: Connection, *, paasid: str, nonce: str, expires_at: int, now: int) -> bool:
    """Record the nonce; False when it is still held by an earlier request (a replay).

    Two requests racing with one nonce on a MySQL-protocol store: the second INSERT fails on
    the key (the caller's retry then sees the row and refuses it)."""
    seen = _SEEN.first(conn, {"paasid": paasid, "nonce": nonce})
    if seen is not None:
        if int(seen["expires_at"]) >= now:
            return False
        _RENEW.execute(conn, {"b_paasid": paasid, "b_nonce": nonce, "b_expires_at": expires_at})
        return True
    _INSERT.execute(conn, {"paasid": paasid, "nonce": nonce, "expires_at": expires_at})
    return True


def purge(conn: Connection, *, now: int) -> int:
    """Delete the nonces whose window has passed; returns how many."""
    result = conn.execute(delete(gateway_nonce).where(gateway_nonce.c.expires_at < now))
    return int(result.rowcount or 0)


class NonceStore:
    """Claims nonces and purges expired ones at most every `PURGE_EVERY` seconds per process."""

    def __init__(self) -> None:
        self._next_purge = 0.0
        self._lock = threading.Lock()

    def claim(self, conn: Connection, *, paasid: str, nonce: str, expires_at: int) -> bool:
        now = int(time.time())
        fresh = claim(conn, paasid=paasid, nonce=nonce, expires_at=expires_at, now=now)
        if fresh and self._due():
            purge(conn, now=now)
        return fresh

    def _due(self) -> bool:
        moment = time.monotonic()
        with self._lock:
            if moment < self._next_purge:
                return False
            self._next_purge = moment + PURGE_EVERY
            return True
