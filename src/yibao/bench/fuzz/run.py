"""Sending the fuzz cases and judging the answers (see the package doc)."""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, NamedTuple

import httpx
import orjson
from sqlalchemy import Engine, func, select

from yibao.bench.fuzz.bodies import encode, mutate
from yibao.bench.fuzz.seeds import Caller, Msgids, SeedIds, envelope, seed_inputs
from yibao.interface.pipeline import CallPipeline
from yibao.interface.registry import all_transactions, load_handlers
from yibao.storage.tables import metadata

INTERNAL = "系统内部错误"
#: tables a refused call may write (design.md §4, issue 23): the audit trail (its records, chain
#: head and anchors: a refused console request is audited), console sessions and the id
#: counters taken outside the call's transaction; every other table is watched
UNWATCHED = frozenset(
    {"audit_log", "audit_chain", "audit_anchor", "auth_session", "seq_counter", "rule_hit"}
)
#: how many failing cases a report keeps as samples
MAX_SAMPLES = 40
#: the national interface's path (the gateway routes on infno, any of its paths will do)
PATH = "/fsi/api/rsfComIfsService/callService"


class Reply(NamedTuple):
    """What a sender got back: the HTTP status (200 from a pipeline) and the payload."""

    status: int
    payload: bytes
    content_type: str


#: sends one body with credential headers and returns the reply
Sender = Callable[[bytes, str | None, str | None], Awaitable[Reply]]


def pipeline_sender(pipeline: CallPipeline) -> Sender:
    """Calls answered by the pipeline object directly (no HTTP)."""

    async def send(body: bytes, paasid: str | None, secret: str | None) -> Reply:
        answer = await pipeline.handle(body, paasid, secret)
        kind = dict(answer.headers).get(b"content-type", b"").decode("latin-1")
        return Reply(200, answer.payload, kind)

    return send


def http_sender(client: httpx.AsyncClient, path: str = PATH) -> Sender:
    """Calls posted over HTTP to the gateway (a server, or the ASGI app through httpx)."""

    async def send(body: bytes, paasid: str | None, secret: str | None) -> Reply:
        headers = {"content-type": "application/json;charset=utf-8"}
        if paasid is not None and secret is not None:
            headers.update({"x-tif-paasid": paasid, "x-yibao-key": secret})
        response = await client.post(path, content=body, headers=headers)
        return Reply(
            response.status_code, response.content, response.headers.get("content-type", "")
        )

    return send


@dataclass(slots=True)
class FuzzReport:
    cases: int = 0
    answered: int = 0
    refused: int = 0
    internal_errors: int = 0
    escapes: int = 0
    http_5xx: int = 0
    writes_after_refusal: int = 0
    #: failures of a (infno, field) the run was told are known (`run_fuzz(known=…)`)
    known: int = 0
    seconds: float = 0.0
    #: failing cases: "infno mutation: what happened"
    samples: list[str] = field(default_factory=list)

    @property
    def failures(self) -> int:
        return self.internal_errors + self.escapes + self.http_5xx + self.writes_after_refusal

    def note(self, case: Case, what: str) -> None:
        if len(self.samples) < MAX_SAMPLES:
            self.samples.append(f"{case.infno} {case.mutation}: {what}")

    def as_dict(self) -> dict[str, Any]:
        return {
            "fuzz_cases": self.cases,
            "answered": self.answered,
            "refused": self.refused,
            "internal_errors": self.internal_errors,
            "escapes": self.escapes,
            "http_5xx": self.http_5xx,
            "writes_after_refusal": self.writes_after_refusal,
            "known": self.known,
            "seconds": round(self.seconds, 2),
            "samples": list(self.samples),
        }


@dataclass(frozen=True, slots=True)
class Case:
    infno: str
    #: what was broken, e.g. "input.data.ver = 2**64"
    mutation: str
    body: bytes
    #: the path of the value broken ("input.data.ver"); "" for a whole-body mutation
    where: str = ""


# -- the run -----------------------------------------------------------------------------------


class Counts:
    """Row counts of the watched tables, in one statement, on a read connection of `engine`
    (the platform's, or one of the driver's own on the server's row store)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        tables = [t for t in metadata.sorted_tables if t.name not in UNWATCHED]
        self.names = [t.name for t in tables]
        self.query = select(
            *(select(func.count()).select_from(t).scalar_subquery() for t in tables)
        )

    def __call__(self) -> tuple[int, ...]:
        with self.engine.connect() as conn:
            row = conn.execute(self.query).one()
            conn.rollback()
        return tuple(int(v) for v in row)

    def moved(self, before: Sequence[int], after: Sequence[int]) -> list[str]:
        return [
            f"{n} {a - b:+d}" for n, b, a in zip(self.names, before, after, strict=True) if a != b
        ]


def cases(
    caller: Caller,
    seeds: Mapping[str, dict[str, Any]],
    *,
    count: int,
    seed: int,
    infnos: Sequence[str] | None = None,
    now: datetime | None = None,
) -> Iterator[Case]:
    """`count` mutated envelopes, spread evenly over `infnos` (default: every registered one)."""
    if infnos is None:
        load_handlers()
        infnos = sorted(all_transactions())
    rng = random.Random(seed)
    at = now or datetime.now().replace(microsecond=0)
    ids = Msgids(caller.fixmedins_code, at)
    for n in range(count):
        infno = infnos[n % len(infnos)]
        base = envelope(caller, infno, seeds.get(infno, {"data": {}}), msgid=ids.next(), at=at)
        where, what, body = mutate(rng, base)
        yield Case(infno, what, body, where)


async def judge(
    send: Sender,
    caller: Caller,
    case: Case,
    report: FuzzReport,
    counts: Counts | None,
    known: frozenset[tuple[str, str]] = frozenset(),
) -> None:
    """Send one case and count what it shows; a failure of a case whose (infno, where) is in
    `known` counts as `known`, not as a failure."""
    before = counts() if counts is not None else None
    report.cases += 1
    try:
        reply = await send(case.body, caller.paasid, caller.secret)
    except Exception as exc:  # the point of the harness: an escape is counted, not raised
        report.escapes += 1
        report.note(case, f"escaped {type(exc).__name__}: {exc}"[:300])
        return
    if reply.status >= 500:
        report.http_5xx += 1
        report.note(case, f"HTTP {reply.status}: {reply.payload[:200]!r}")
        return
    if not reply.content_type.startswith("application/json"):
        report.answered += 1  # a file (9102)
        return
    try:
        answer = orjson.loads(reply.payload)
    except orjson.JSONDecodeError:
        report.escapes += 1
        report.note(case, f"answer is not JSON: {reply.payload[:200]!r}")
        return
    if answer.get("infcode") == 0:
        report.answered += 1
        return
    report.refused += 1
    message = str(answer.get("err_msg"))
    if INTERNAL in message:
        if (case.infno, case.where) in known:
            report.known += 1
        else:
            report.internal_errors += 1
            report.note(case, message[:200])
    if counts is not None and before is not None:
        moved = counts.moved(before, counts())
        if moved:
            report.writes_after_refusal += 1
            report.note(case, f"refused but wrote {', '.join(moved)}: {message[:120]}")


async def run_fuzz(
    send: Sender,
    caller: Caller,
    seeds: Mapping[str, dict[str, Any]],
    counts: Counts | None,
    *,
    cases_: int,
    seed: int,
    infnos: Sequence[str] | None = None,
    known: frozenset[tuple[str, str]] = frozenset(),
) -> FuzzReport:
    """Send `cases_` mutated envelopes one after another and judge each (see the module doc)."""
    report = FuzzReport()
    started = time.perf_counter()
    for case in cases(caller, seeds, count=cases_, seed=seed, infnos=infnos):
        await judge(send, caller, case, report, counts, known)
    report.seconds = time.perf_counter() - started
    return report


async def open_visits(send: Sender, caller: Caller, ids: SeedIds) -> SeedIds:
    """Open, through the interface, an outpatient visit with two fee lines, an admission with
    one, and the spare visits the cancellations name (`SeedIds`), so that the plausible inputs
    name visits that exist and a case reaches the readers behind the lookups. An id a call
    does not answer stays as it was."""
    now = datetime.now().replace(microsecond=0)
    seeds = seed_inputs(ids, now=now, fixmedins_code=caller.fixmedins_code)
    msgids = Msgids(caller.fixmedins_code, now - timedelta(days=1))

    async def call(infno: str, input_: Any, node: str = "data") -> str | None:
        body = encode(envelope(caller, infno, input_, msgid=msgids.next(), at=now))
        reply = await send(body, caller.paasid, caller.secret)
        answer = orjson.loads(reply.payload)
        output = answer.get("output") if answer.get("infcode") == 0 else None
        found = output.get(node) if isinstance(output, dict) else None
        return str(found["mdtrt_id"]) if isinstance(found, dict) else None

    mdtrt_id = await call("2201", seeds["2201"]) or ids.mdtrt_id
    spare = await call("2201", seeds["2201"]) or ids.spare_mdtrt_id
    ipt = await call("2401", seeds["2401"], "result") or ids.ipt_mdtrt_id
    spare_ipt = ids.spare_ipt_mdtrt_id
    if ids.spare_psn_no and ids.spare_certno:
        other = replace(ids, psn_no=ids.spare_psn_no, certno=ids.spare_certno)
        spare_ipt = await call("2401", seed_inputs(other, now=now)["2401"], "result") or spare_ipt
    opened = replace(
        ids,
        mdtrt_id=mdtrt_id,
        ipt_mdtrt_id=ipt,
        spare_mdtrt_id=spare,
        spare_ipt_mdtrt_id=spare_ipt,
    )
    seeds = seed_inputs(opened, now=now)

    def line(sn: str, visit: str) -> dict[str, Any]:
        return {**seeds["2204"]["feedetail"][0], "feedetl_sn": sn, "mdtrt_id": visit}

    await call("2204", seeds["2204"])
    await call("2204", {"feedetail": [line("1", spare)]})
    # two inpatient lines: 2302 cancels the second, 2303/2304 settle the first
    await call("2301", {"feedetail": [*seeds["2301"]["feedetail"], line("2", ipt)]})
    return opened
