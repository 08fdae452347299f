"""The signature nonces (`gateway_nonce`): one row store table shared by every gateway process,
so a request replayed to another worker or machine is refused too (like the sign-in state).

A nonce is kept until its request's timestamp leaves the signature window (`expires_at`); a
replay after that fails the timestamp check anyway. Expired rows are purged now and then by
whichever process claims a nonce (`NonceStore.claim`, before its claim).

A writing call claims its nonce inside its own savepoint (`interface.idempotency.run_once`).
A read has no writer job of its own, so the claims of the reads that arrive together are
gathered into one writer job (`ReadClaims`): one savepoint and one wake-up for all of them.

Every process also remembers the nonces it has claimed or is claiming (`RecentNonces`), checked
first: a replay to the same process is refused without the store. While a process serves a
SQLite store it is the store's only gateway (it owns the data directory), so there a read is
answered once its nonce is held in memory and absent from the committed store; its row is
written with the writer's next group (`ReadClaims.defer`) instead of the read waiting for that
commit (docs/interface.md §2). A read the writer runs itself (`short_read`) claims its nonce
with the first statement of its own job instead (`call_nonces.CallNonces.claim_in_job`): the
look-up and the row are one statement, in the group the read runs in. Where each kind of call
claims its nonce: `interface.call_nonces`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
import time
from collections import deque
from collections.abc import Callable

from sqlalchemy import Connection, bindparam, delete, select, update
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import IntegrityError

from yibao.storage import deferred
from yibao.storage.prepared import Prepared, PreparedInsert
from yibao.storage.tables import gateway_nonce
from yibao.storage.writer import Writer

log = logging.getLogger(__name__)

#: (paasid, nonce, expires_at) of one claim
Claim = tuple[str, str, int]

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

_UPSERT = sqlite.insert(gateway_nonce).values(
    paasid=bindparam("u_paasid"), nonce=bindparam("u_nonce"), expires_at=bindparam("u_expires_at")
)
#: SQLite: the claim in one statement — inserted, or renewed when the held row has expired;
#: a row still held is left alone and counts 0
_CLAIM_SQLITE = Prepared(
    _UPSERT.on_conflict_do_update(
        index_elements=[gateway_nonce.c.paasid, gateway_nonce.c.nonce],
        set_={"expires_at": _UPSERT.excluded.expires_at},
        where=gateway_nonce.c.expires_at < bindparam("u_now"),
    )
)


def claim(
    conn: Connection,
    *,
    paasid: str,
    nonce: str,
    expires_at: int,
    now: int,
    defer: bool = False,
) -> bool:
    """Record the nonce; False when it is still held by an earlier request (a replay).

    Two requests racing with one nonce on a MySQL-protocol store: the second INSERT fails on
    the key (the caller's retry then sees the row and refuses it).

    `defer` (MySQL protocol, a caller that runs its whole transaction again on an
    `IntegrityError`): the INSERT travels with the transaction's next round trip
    (`storage.deferred`) and True is answered at once; a nonce held already fails that
    statement or the COMMIT, and the caller's careful second attempt (without `defer`) tells a
    replay from a nonce whose window has passed."""
    if conn.dialect.name == "sqlite":
        params = {"u_paasid": paasid, "u_nonce": nonce, "u_expires_at": expires_at, "u_now": now}
        return _CLAIM_SQLITE.execute(conn, params) == 1
    if defer and deferred.accepts(conn):
        _INSERT.later(conn, [{"paasid": paasid, "nonce": nonce, "expires_at": expires_at}])
        return True
    # A nonce is new nearly always: insert it straight away (one statement). A duplicate key
    # fails that statement only (MySQL, MariaDB and TiDB keep the transaction), and then the
    # row tells a replay from an expired nonce used again.
    try:
        _INSERT.execute(conn, {"paasid": paasid, "nonce": nonce, "expires_at": expires_at})
        return True
    except IntegrityError:
        pass
    seen = _SEEN.first(conn, {"paasid": paasid, "nonce": nonce})
    if seen is not None:
        if int(seen["expires_at"]) >= now:
            return False
        _RENEW.execute(conn, {"b_paasid": paasid, "b_nonce": nonce, "b_expires_at": expires_at})
        return True
    _INSERT.execute(conn, {"paasid": paasid, "nonce": nonce, "expires_at": expires_at})
    return True


def held(conn: Connection, *, paasid: str, nonce: str, now: int) -> bool:
    """Whether the store holds the nonce for a request still within its window."""
    seen = _SEEN.first(conn, {"paasid": paasid, "nonce": nonce})
    return seen is not None and int(seen["expires_at"]) >= now


def purge(conn: Connection, *, now: int) -> int:
    """Delete the nonces whose window has passed; returns how many."""
    result = conn.execute(delete(gateway_nonce).where(gateway_nonce.c.expires_at < now))
    return int(result.rowcount or 0)


class NonceStore:
    """Claims nonces and purges expired ones at most every `PURGE_EVERY` seconds per process."""

    def __init__(self) -> None:
        self._next_purge = 0.0
        self._lock = threading.Lock()

    def claim(
        self, conn: Connection, *, paasid: str, nonce: str, expires_at: int, defer: bool = False
    ) -> bool:
        now = int(time.time())
        if self._due():  # first: a DELETE after a deferred claim would carry the claim along
            purge(conn, now=now)
        return claim(conn, paasid=paasid, nonce=nonce, expires_at=expires_at, now=now, defer=defer)

    def _due(self) -> bool:
        moment = time.monotonic()
        with self._lock:
            if moment < self._next_purge:
                return False
            self._next_purge = moment + PURGE_EVERY
            return True


def key(paasid: str, nonce: str) -> str:
    """The memory key of a nonce (a nonce is unique per paasid); a paasid has no newline."""
    return f"{paasid}\n{nonce}"


class RecentNonces:
    """The nonces this process has claimed (or is claiming), until their window passes.

    Shared by the event loop (reads) and the writer thread (writes), hence the lock. Entries
    leave in arrival order once expired, a few at each hold (no pause to sweep them all): the
    expiry is the request's timestamp plus the window, so arrival order is expiry order up to
    the clients' clock skew, and an entry may outlive its window by that much."""

    def __init__(self) -> None:
        self._held: dict[str, int] = {}
        self._order: deque[tuple[int, str]] = deque()
        self._lock = threading.Lock()

    def hold(self, name: str, expires_at: int, *, now: int) -> bool:
        """Remember the nonce; False when it is still held (a replay)."""
        with self._lock:
            held, order = self._held, self._order
            # the window's oldest entries go first
            for _ in range(2):
                if not order or order[0][0] >= now:
                    break
                _, old = order.popleft()
                if held.get(old, now) < now:
                    del held[old]
            until = held.get(name)
            if until is not None and until >= now:
                return False
            held[name] = expires_at
            order.append((expires_at, name))
            return True

    def release(self, name: str) -> None:
        """Forget a nonce whose call failed (a writing call leaves its nonce unclaimed)."""
        with self._lock:
            self._held.pop(name, None)

    def __len__(self) -> int:
        return len(self._held)


class ReadClaims:
    """The nonce claims of read-only calls, gathered per event-loop turn into one writer job
    for the claims awaited and one for the deferred ones."""

    def __init__(self, store: NonceStore, writer: Writer) -> None:
        self._store = store
        self._writer = writer
        self._pending: list[tuple[Claim, asyncio.Future[bool]]] = []
        self._deferred: list[Claim] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._submitted: set[concurrent.futures.Future[list[bool]]] = set()

    async def claim(self, paasid: str, nonce: str, expires_at: int) -> bool:
        """Whether the nonce was fresh (False: a replay)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[bool] = loop.create_future()
        if not self._pending:
            loop.call_soon(self._flush)
        self._pending.append(((paasid, nonce, expires_at), future))
        return await future

    def defer(self, paasid: str, nonce: str, expires_at: int) -> None:
        """Write the nonce with the writer's next group, nobody waiting (the caller holds it
        already: `RecentNonces`; a row the store holds already is left as it is)."""
        if not self._deferred:
            asyncio.get_running_loop().call_soon(self.submit_deferred)
        self._deferred.append((paasid, nonce, expires_at))

    async def drain(self) -> None:
        """Wait until the claims gathered so far are written (tests)."""
        self.submit_deferred()
        if self._pending:
            self._flush()
        while self._tasks or self._submitted:
            await asyncio.gather(
                *self._tasks,
                *(asyncio.wrap_future(f) for f in list(self._submitted)),
                return_exceptions=True,
            )

    def submit_deferred(self) -> None:
        """Hand the deferred claims gathered so far to the writer. Nothing on the event loop
        waits for them (no task, no wake-up when they are written); at shutdown the writer
        finishes its queue before it stops."""
        claims, self._deferred = self._deferred, []
        if not claims:
            return
        future = self._writer.submit(self._job(claims, defer=False))
        self._submitted.add(future)
        future.add_done_callback(lambda done: self._written(claims, done))

    def _written(self, claims: list[Claim], done: concurrent.futures.Future[list[bool]]) -> None:
        """(writer thread) A deferred job is done: say what went wrong, if anything."""
        self._submitted.discard(done)
        exc = done.exception()
        if exc is not None:
            log.error("gateway nonces: %d deferred claims not written", len(claims), exc_info=exc)
            return
        for (paasid, nonce, _), fresh in zip(claims, done.result(), strict=True):
            if not fresh:  # another process on the store claimed it in the meantime
                log.warning(
                    "gateway nonces: read nonce %r of %s also used elsewhere", nonce, paasid
                )

    def _flush(self) -> None:
        batch, self._pending = self._pending, []
        if not batch:  # drained already
            return
        task = asyncio.ensure_future(self._run(batch))
        self._tasks.add(task)  # keep a reference until it is done
        task.add_done_callback(self._tasks.discard)

    def _job(self, claims: list[Claim], *, defer: bool) -> Callable[[Connection], list[bool]]:
        def job(conn: Connection) -> list[bool]:
            return [
                self._store.claim(conn, paasid=p, nonce=n, expires_at=e, defer=defer)
                for p, n, e in claims
            ]

        return job

    async def _run(self, batch: list[tuple[Claim, asyncio.Future[bool]]]) -> None:
        claims = [claim for claim, _ in batch]
        try:
            try:
                # MySQL protocol: the batch's INSERTs go with its COMMIT, one round trip
                results = await self._writer.run(self._job(claims, defer=True))
            except IntegrityError:
                # One of these nonces is in the store already (another process's claim, or one
                # whose window has passed): claim each on its own, looking it up when its
                # INSERT clashes — a replay is refused, an expired nonce renewed.
                results = []
                for claim in claims:
                    try:
                        results.extend(await self._writer.run(self._job([claim], defer=False)))
                    except IntegrityError:
                        results.append(False)
        except Exception as exc:
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for (_, future), fresh in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(fresh)
