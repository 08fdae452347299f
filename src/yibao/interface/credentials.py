"""The institutions' credentials as the call pipeline sees them, and the credential use cases the
console and the CLI call.

A request carries `x-tif-paasid` and either the signature headers (signature mode,
`interface.signature`) or `x-yibao-key` (static mode). The credential behind a paasid —
institution, mode, the static secret's sha256 or the unsealed token, revoked or rotated — comes
from `enrolment.credentials.gateway_credential` and is cached in memory, so the hot path does no
credential query and no decryption.

Revocation is effective at once in every process: the cache is valid only under the credential
generation it was filled under (a `seq_counter` row that every revocation, rotation and
institution (de)activation changes in its own transaction). Every call checks the generation
after it arrived: for a credential already cached, as the first statement of the call's own
transaction (`check`: a changed generation raises `CredentialsChanged`, the transaction rolls
back and the pipeline authenticates the call again from the store), so the call needs no thread
hand-off of its own for it — on the SQLite writer's connection not even a statement: the
writer's row cache keeps the generation, dropped by every bump and emptied by another
connection's commit (`storage.row_cache`). A credential not cached yet is loaded under a
generation read first; a changed generation empties the cache.
A rotated credential's `expires_at` is checked at each use. Uses of a revoked or expired
credential are refused and counted per credential (`refused_count`), the counts written by the
storage writer in the background (docs/interface.md §2).
"""

from __future__ import annotations

import concurrent.futures
import logging
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from yibao.enrolment import credentials as enrolment
from yibao.enrolment.credentials import GatewayCredential, static_secret_matches
from yibao.kit.clock import local_naive_now
from yibao.runtime import Platform
from yibao.storage.database import Database

__all__ = [
    "CredentialCache",
    "CredentialsChanged",
    "GatewayCredential",
    "issue_credential",
    "rotate_credential",
    "static_secret_matches",
]

log = logging.getLogger(__name__)


class CredentialsChanged(Exception):
    """The credential generation moved since the call's credential was taken from the cache:
    the call's transaction rolls back (nothing written) and the call is authenticated again."""


class CredentialCache:
    """The credentials this process has loaded, valid while the credential generation is the
    one they were loaded under."""

    def __init__(self, db: Database, *, data_dir: Path) -> None:
        self._db = db
        self._data_dir = data_dir
        self._cache: dict[str, GatewayCredential] = {}
        self._generation = -1
        self._lock = threading.Lock()
        #: refused uses not yet written: paasid → (count, last time)
        self._refused: dict[str, tuple[int, datetime]] = {}
        self._flush: concurrent.futures.Future[None] | None = None

    @staticmethod
    def generation(conn: Connection) -> int:
        """The current credential generation (one primary-key read)."""
        return enrolment.generation(conn)

    def cached(self, paasid: str, generation: int) -> GatewayCredential | None:
        """The credential when loaded under `generation` (the current one); a newer generation
        empties the cache."""
        if generation != self._generation:
            with self._lock:
                if generation != self._generation:
                    self._cache.clear()
                    self._generation = generation
            return None
        return self._cache.get(paasid)

    def current(self, paasid: str) -> tuple[GatewayCredential, int] | None:
        """The credential as cached under the newest generation this process has read, with
        that generation, without asking the store; the caller checks the generation in the
        call's own transaction (`check`)."""
        generation = self._generation  # first: a credential cached later fails the check
        credential = self._cache.get(paasid)
        if credential is None or generation < 0:
            return None
        return credential, generation

    @staticmethod
    def check(conn: Connection, expected: int) -> None:
        """(first statement of a call's transaction) Raise `CredentialsChanged` unless the
        credential generation is still `expected`."""
        if enrolment.generation(conn) != expected:
            raise CredentialsChanged()

    def load(self, paasid: str) -> GatewayCredential | None:
        """From the row store (blocking: call it off the event loop); None when unknown or its
        institution is deactivated. Cached under the generation read in the same transaction."""
        with self._db.read() as conn:
            generation = enrolment.generation(conn)
            credential = enrolment.gateway_credential(conn, paasid, data_dir=self._data_dir)
        if credential is not None:
            with self._lock:
                if generation == self._generation:
                    self._cache[paasid] = credential
        return credential

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()
            self._generation = -1

    # -- refused uses ---------------------------------------------------------------------

    def refused(self, paasid: str, at: datetime | None = None) -> None:
        """Count one refused use of a revoked or expired credential; written to its row by the
        storage writer soon (several refusals in one statement), never on the caller's path."""
        moment = (at or local_naive_now()).replace(microsecond=0)
        with self._lock:
            count, _ = self._refused.get(paasid, (0, moment))
            self._refused[paasid] = (count + 1, moment)
            if self._flush is not None and not self._flush.done():
                return
            self._flush = self._db.writer.submit(self._write_refusals)

    def _write_refusals(self, conn: Connection) -> None:
        with self._lock:
            counts, self._refused = self._refused, {}
        if counts:
            enrolment.count_refusals(conn, counts)

    def flush(self) -> None:
        """Wait until the refused uses counted so far are committed (commands and tests)."""
        while True:
            with self._lock:
                pending = self._flush
                if not self._refused and (pending is None or pending.done()):
                    return
                if pending is None or pending.done():
                    self._flush = pending = self._db.writer.submit(self._write_refusals)
            try:
                pending.result()
            except Exception:
                log.exception("counting refused credential uses failed")
                return


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


def rotate_credential(
    conn: Connection,
    *,
    platform: Platform,
    actor: str,
    fixmedins_code: str,
    paasid: str,
) -> dict[str, Any]:
    """Rotate a credential for the console or the CLI: a successor in the same mode (its token
    or secret shown once); the old one stays valid for YIBAO_CREDENTIAL_OVERLAP_S seconds."""
    return enrolment.rotate_credential(
        conn,
        ids=platform.ids,
        actor=actor,
        fixmedins_code=fixmedins_code,
        paasid=paasid,
        overlap_s=platform.settings.credential_overlap_s,
        data_dir=platform.settings.data_dir,
    )
