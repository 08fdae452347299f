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
import time
from collections.abc import Mapping
from typing import Any

import orjson

from yibao.bench.fixtures import Fixtures
from yibao.bench.flows import _EXACT, PATH, SETTLE_INFNOS, Admissions, Session, envelope
from yibao.bench.http import HttpError, RawConnection
from yibao.bench.stats import Recorder
from yibao.kit import jsonx


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
        self.flows = 0


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

    async def call(
        self, infno: str, inst: Mapping[str, Any], data: Mapping[str, Any]
    ) -> dict[str, Any] | None:
        body = envelope(infno, inst, data, now=time.time())
        msgid = str(orjson.loads(body)["msgid"])
        deadline = time.monotonic() + self.give_up_s
        while True:
            headers = self._headers(inst["credentials"], time.time())
            try:
                status, raw = await self.conn.request("POST", PATH, body, headers)
                answer = jsonx.loads(raw) if infno in _EXACT else orjson.loads(raw)
            except (OSError, HttpError, ValueError, EOFError, asyncio.IncompleteReadError):
                # no answer: the server is down or died mid-call; resend the same msgid
                await self.conn.close()
                if time.monotonic() > deadline:
                    self.ledger.abandoned += 1
                    return None
                self.ledger.retries += 1
                await asyncio.sleep(0.1)
                continue
            break
        if status != 200 or not isinstance(answer, dict) or answer.get("infcode") != 0:
            self.ledger.refused += 1
            self.rec.error(
                infno, str(answer.get("err_msg") if isinstance(answer, dict) else status)
            )
            return None
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
