"""A call's signature nonce, claimed where the call runs (docs/interface/signing.md).

Every claim holds the nonce in this process's memory first (`RecentNonces`: a replay to the
same process is refused without the store), then claims it in the shared store
(`interface.nonces`) in one of four places:

- a writing call: inside its own savepoint in the writer (`WriteClaim`), released from memory
  when the call fails; on the MySQL protocol the first attempt's row goes with its COMMIT;
- a read the SQLite writer runs (`short_read`): the first statement of the read's own job
  (`claim_in_job`);
- another read while serving SQLite: a look at the committed store on the event loop's reader,
  the row written with the writer's next group (`claim_read_now`);
- any read elsewhere (the MySQL protocol, a pipeline not serving): a writer job beside the read,
  the answer waiting for its commit (`claim_for_read`); the reads arriving together share one
  job, whose rows go with its COMMIT on the MySQL protocol.
"""

from __future__ import annotations

import time

from sqlalchemy import Connection

from yibao.interface import nonces
from yibao.interface import signature as sig
from yibao.interface.nonces import Claim, NonceStore, ReadClaims, RecentNonces
from yibao.storage.writer import Writer


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
