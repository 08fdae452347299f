"""Mixed flows whose clients retry an unanswered call with the same msgid.

A real HIS that loses the answer to a settling call (the server died, the connection broke)
sends the same envelope again: the same msgid, so the platform answers the stored result
instead of settling twice (design.md §4, idempotency by msgid). `RetryingSession` does that
around the city's flows (`bench/flows.py`): the body is built once per call and resent, with
fresh signature headers, until an answer arrives or `give_up_s` passes.
"""

from __future__ import annotations

import asyncio
import random
import re
import time
from collections import Counter
from collections.abc import Mapping
from typing import Any

import orjson

from yibao.bench.fixtures import Fixtures
from yibao.bench.flows import _EXACT, PATH, SETTLE_INFNOS, Admissions, Session, envelope
from yibao.bench.http import HttpError, RawConnection
from yibao.bench.stats import Recorder
from yibao.errors import DB_UNAVAILABLE
from yibao.kit import jsonx

#: how the gateway's answer to an unexpected exception begins (interface.pipeline.INTERNAL)
INTERNAL = "系统内部错误"


def _masked(message: str) -> str:
    """A refusal's message for the report: identifiers and amounts masked, cut short."""
    return re.sub(r"[A-Za-z]*\d[\w.-]*", "#", message)[:120]


class Ledger:
    """What the clients saw, shared by all of them."""

    def __init__(self) -> None:
        #: settlements whose settling call answered infcode 0: setl_id → msgid
        self.confirmed: dict[str, str] = {}
        #: calls resent after no answer
        self.retries = 0
        #: calls abandoned after `give_up_s` without an answer
        self.abandoned = 0
        #: calls answered with something other than infcode 0 (the flow ends there)
        self.refused = 0
        #: those answers' messages (numbers masked), by count
        self.refusals: Counter[str] = Counter()
        self.flows = 0
        #: answers `-1 医保数据库暂不可用…` (the row store down or frozen): resent like no answer
        self.db_unavailable = 0
        #: answers `-1 系统内部错误` (a bug: never expected)
        self.internal_errors = 0
        #: calls with no answer within `answer_timeout_s` (a hang)
        self.hung = 0
        #: set while the campaign holds the database down or frozen (monotonic start), or None
        self.outage_since: float | None = None
        #: the longest a call took to be answered (any answer) that overlapped an outage
        self.max_answer_s_during_outage = 0.0
        #: monotonic time of the latest `infcode: 0` answer
        self.last_ok = 0.0

    def timed(self, began: float, ended: float) -> None:
        """Account one answered request's time if it overlapped an outage."""
        since = self.outage_since
        if since is not None and ended >= since:
            self.max_answer_s_during_outage = max(self.max_answer_s_during_outage, ended - began)


class RetryingSession(Session):
    def __init__(
        self,
        url: str,
        fixtures: Fixtures,
        rng: random.Random,
        ledger: Ledger,
        admissions: Admissions,
        *,
        reversal_rate: float,
        give_up_s: float = 120.0,
        answer_timeout_s: float | None = None,
    ) -> None:
        super().__init__(
            RawConnection(url),
            fixtures,
            Recorder(),
            rng,
            reversal_rate=reversal_rate,
            admissions=admissions,
        )
        self.ledger = ledger
        self.give_up_s = give_up_s
        #: a request not answered within this many seconds is a hang: counted, then resent
        self.answer_timeout_s = answer_timeout_s

    async def call(
        self, infno: str, inst: Mapping[str, Any], data: Mapping[str, Any]
    ) -> dict[str, Any] | None:
        body = envelope(infno, inst, data, now=time.time(), insuplc_admdvs=self._insuplc)
        msgid = str(orjson.loads(body)["msgid"])
        deadline = time.monotonic() + self.give_up_s
        while True:
            headers = self._headers(inst["credentials"], time.time())
            began = time.monotonic()
            try:
                status, raw = await asyncio.wait_for(
                    self.conn.request("POST", PATH, body, headers), self.answer_timeout_s
                )
                answer = jsonx.loads(raw) if infno in _EXACT else orjson.loads(raw)
            except (
                OSError,
                HttpError,
                ValueError,
                EOFError,
                asyncio.IncompleteReadError,
                TimeoutError,
            ) as exc:
                # no answer: the server is down or died mid-call; resend the same msgid
                if isinstance(exc, TimeoutError):
                    self.ledger.hung += 1
                await self.conn.close()
                if time.monotonic() > deadline:
                    self.ledger.abandoned += 1
                    return None
                self.ledger.retries += 1
                await asyncio.sleep(0.1)
                continue
            self.ledger.timed(began, time.monotonic())
            if isinstance(answer, dict) and answer.get("infcode") == -1:
                message = str(answer.get("err_msg") or "")
                if message.startswith(DB_UNAVAILABLE):
                    # the database is away: the answer says retry, so the HIS resends the
                    # same msgid a moment later (nothing was written)
                    self.ledger.db_unavailable += 1
                    if time.monotonic() > deadline:
                        self.ledger.abandoned += 1
                        return None
                    await asyncio.sleep(0.2)
                    continue
                if message.startswith(INTERNAL):
                    self.ledger.internal_errors += 1
            break
        if status != 200 or not isinstance(answer, dict) or answer.get("infcode") != 0:
            self.ledger.refused += 1
            said = answer.get("err_msg") if isinstance(answer, dict) else f"HTTP {status}"
            self.ledger.refusals[f"{infno}: {_masked(str(said))}"] += 1
            self.rec.error(
                infno, str(answer.get("err_msg") if isinstance(answer, dict) else status)
            )
            return None
        self.ledger.last_ok = time.monotonic()
        output: dict[str, Any] = answer.get("output") or {}
        if infno in SETTLE_INFNOS:
            setl_id = (output.get("setlinfo") or {}).get("setl_id")
            if setl_id:
                self.ledger.confirmed[str(setl_id)] = msgid
        return output

    async def run(self, stop: asyncio.Event, mix: tuple[float, float, float]) -> None:
        """Flows one after another until `stop` is set (a flow under way is finished)."""
        try:
            while not stop.is_set():
                pick = self.rng.random()
                if pick < mix[0]:
                    await self.outpatient()
                elif pick < mix[0] + mix[1]:
                    await self.inpatient()
                else:
                    await self.pharmacy()
                self.ledger.flows += 1
        finally:
            await self.conn.close()
