"""A call's signature nonce, claimed where the call runs (docs/interface/signing.md).

Every claim holds the nonce in this process's memory first (`RecentNonces`: a replay to the
same process is refused without the store), then claims it in the shared store
(`interface.nonces`) in one of four places:

- a writing call: inside its own savepoint in the writer (`WriteClaim`), released from memory
  when the call fails; on the MySQL protocol the first attempt's row goes with its COMMIT;
- a read the SQLite writer runs (`writer_read`): the first statement of the read's own job
  (`claim_in_job`);
- another read while serving SQLite: a look at the committed store on the event loop's reader,
  the row written with the writer's next group (`claim_read_now`);
- a read on the MySQL protocol: on the read's own autocommit connection, the INSERT in front of
  the read's first statement (`read_with_claim`): kept by the server before the read's rows
  come back, with no writer job and no round trip of its own;
- a read of a pipeline not serving a SQLite store (a command, a test): a writer job beside the
  read, the answer waiting for its commit (`claim_for_read`); the reads arriving together
  share one job.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError, IntegrityError

from yibao.interface import nonces
from yibao.interface import signature as sig
from yibao.interface.nonces import Claim, NonceStore, ReadClaims, RecentNonces
from yibao.storage import deferred
from yibao.storage.writer import Writer

T = TypeVar("T")


class WriteClaim:
    """A writing call's claim of its nonce, run in the writer inside the call's savepoint
    (raises when it is a replay). It holds the nonce in memory first, so a read of this
    process under that nonce is refused before the write commits; `release` forgets it
    again when the call fails (its savepoint is rolled back, the nonce stays unused)."""

    __slots__ = ("_key", "_mine", "_paasid", "_recent", "_store", "_verified")

    def __init__(
        self, recent: RecentNonces, store: NonceStore, paasid: str, verified: sig.Verified
    ) -> None:
        self._recent = recent
        self._store = store
        self._paasid = paasid
        self._verified = verified
        self._key = nonces.key(paasid, verified.nonce)
        self._mine = False

    def __call__(self, conn: Connection, *, defer: bool = False) -> None:
        """`defer`: the first, optimistic attempt on the MySQL protocol — the row goes with
        the COMMIT, and a clash there runs the call again without it (`NonceStore.claim`)."""
        verified = self._verified
        if not self._recent.hold(self._key, verified.expires_at, now=int(time.time())):
            raise sig.replay(verified.nonce)
        self._mine = True
        if not self._store.claim(
            conn,
            paasid=self._paasid,
            nonce=verified.nonce,
            expires_at=verified.expires_at,
            defer=defer,
        ):
            self._mine = False  # held by an earlier request: it stays held
            raise sig.replay(verified.nonce)

    def release(self) -> None:
        if self._mine:
            self._mine = False
            self._recent.release(self._key)


class CallNonces:
    """The nonces of one gateway process: its memory, the store, the reads' claim jobs."""

    def __init__(self, writer: Writer) -> None:
        self.store = NonceStore()
        self.read_claims = ReadClaims(self.store, writer)
        #: the nonces this process holds, checked before the store (`interface.nonces`)
        self.recent = RecentNonces()

    def for_write(self, paasid: str, verified: sig.Verified) -> WriteClaim:
        return WriteClaim(self.recent, self.store, paasid, verified)

    def _hold(self, paasid: str, verified: sig.Verified, now: int) -> None:
        if not self.recent.hold(nonces.key(paasid, verified.nonce), verified.expires_at, now=now):
            raise sig.replay(verified.nonce)

    async def claim_for_read(self, paasid: str, verified: sig.Verified) -> None:
        """Claim a read's nonce in the store, the answer waiting for the commit (any store)."""
        self._hold(paasid, verified, int(time.time()))
        if not await self.read_claims.claim(paasid, verified.nonce, verified.expires_at):
            raise sig.replay(verified.nonce)

    def hold_for_job(self, paasid: str, verified: sig.Verified) -> Claim:
        """Hold a read's nonce in memory now; its claim in the store is the first statement of
        the read's own job in the writer (`claim_in_job`): the store is looked at and written
        in one statement, on the thread that runs every other, with no look-up on the event
        loop and no separate claim job."""
        self._hold(paasid, verified, int(time.time()))
        return (paasid, verified.nonce, verified.expires_at)

    def claim_in_job(self, conn: Connection, claim: Claim) -> None:
        """(in the read's writer job) Claim a nonce `hold_for_job` held: a nonce the store
        holds (another process's, or one from before a restart) refuses the read unanswered;
        the claim commits with the job's group."""
        paasid, nonce, expires_at = claim
        if not self.store.claim(conn, paasid=paasid, nonce=nonce, expires_at=expires_at):
            raise sig.replay(nonce)

    def read_with_claim(self, conn: Connection, claim: Claim, read: Callable[[], T]) -> T:
        """(MySQL protocol, on the read's own autocommit connection) `read()` with the nonce
        `hold_for_job` held claimed in the store: its INSERT travels in front of the read's
        first statement (`storage.deferred`) and is kept at once (autocommit). A nonce the
        store holds fails that request before the read runs: looked up then, a replay is
        refused and a nonce past its window renewed, and the read runs again."""
        paasid, nonce, expires_at = claim
        if not self.store.claim(
            conn, paasid=paasid, nonce=nonce, expires_at=expires_at, defer=True
        ):
            raise sig.replay(nonce)  # claimed at once (no multi-statements): it was held
        try:
            result = read()
        except IntegrityError:  # a read writes nothing else: the nonce's row clashed
            self._claim_again(conn, claim)
            return read()
        except DBAPIError:
            raise  # the store's own error: the call fails, this connection is done
        except BaseException:
            self._send_claim(conn, claim)  # refused input still uses up its nonce
            raise
        self._send_claim(conn, claim)
        return result

    def _send_claim(self, conn: Connection, claim: Claim) -> None:
        """The claim, when the read sent no statement to carry it."""
        try:
            deferred.flush(conn)
        except IntegrityError:
            self._claim_again(conn, claim)

    def _claim_again(self, conn: Connection, claim: Claim) -> None:
        paasid, nonce, expires_at = claim
        if not self.store.claim(conn, paasid=paasid, nonce=nonce, expires_at=expires_at):
            raise sig.replay(nonce) from None

    def claim_read_now(self, reader: Connection, paasid: str, verified: sig.Verified) -> None:
        """Claim a read's nonce while serving a SQLite store (this process is its only gateway,
        `interface.nonces`): held in memory, checked against the committed store on the event
        loop's `reader` (nonces of an earlier run or a command), written with the writer's
        next group without the answer waiting for it."""
        now = int(time.time())
        self._hold(paasid, verified, now)
        if nonces.held(reader, paasid=paasid, nonce=verified.nonce, now=now):
            raise sig.replay(verified.nonce)
        self.read_claims.defer(paasid, verified.nonce, verified.expires_at)
