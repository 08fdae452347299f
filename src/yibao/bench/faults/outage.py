"""The campaign's MySQL stage (`yibao bench faults --mysql-outage`): the row store taken away
under mixed load.

A private MariaDB (`mariadb.MariaDB`: its own data directory and free port, never a shared
server) holds a demo city of its own; `yibao serve` runs against it with the timeouts below.
Under the same retrying load as the kill stage (`load.RetryingSession`) the database is
killed with SIGKILL and started again `outages` times, then frozen with SIGSTOP and thawed
with SIGCONT `freezes` times. Throughout, the stage measures:

- every answer's time while the database is away (`max_answer_s_during_outage`) and the calls
  with no answer at all within `hang_s` (`params.mysql.hung_calls`);
- the `-1 医保数据库暂不可用…` answers (`db_unavailable_answers`; a client resends the same msgid
  a moment later, as the message asks) and any `系统内部错误` (`internal_errors`);
- `GET /readyz`, polled while the database is away: never ready (`ready_during_outage`);
- seconds from the database's return to `/readyz` ready and a call settled again
  (`recovered_s`, the worst of the outages and freezes);
- the server's log: outage lines (one per distinct failure per process per interval, with a
  count) and tracebacks (none), `params.mysql.outage_log_lines`, `params.mysql.tracebacks`.

Afterwards the same invariants as the kill stage (`invariants.check`) and `yibao replica
verify` run against the MariaDB city: nothing lost, nothing twice, sums and caps held.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from yibao.bench.faults.invariants import Findings, balances, check
from yibao.bench.faults.load import Ledger, RetryingSession
from yibao.bench.faults.mariadb import MariaDB
from yibao.bench.faults.server import Server, free_port, replica_verify, run_cli
from yibao.bench.fixtures import load_fixtures
from yibao.bench.flows import Admissions
from yibao.policy import load_book
from yibao.storage.engine import make_null_engine

#: outpatient, inpatient, pharmacy shares of the flows
MIX = (0.6, 0.15, 0.25)

#: the outage log's interval (storage.faults.outage_log) and its line's marker
LOG_INTERVAL_S = 10.0
OUTAGE_LINE = "row store unavailable"
#: distinct driver failures one outage may show (refused, lost, gone away, timeout, reset, …)
DISTINCT_FAILURES = 6


@dataclass(frozen=True, slots=True)
class OutageParams:
    outages: int = 1
    freezes: int = 1
    #: seconds the database stays down (killed) / frozen (stopped)
    down_s: float = 5.0
    frozen_s: float = 6.0
    #: yibao's MySQL timeouts for the stage (seconds): connect, read/write, statement
    connect_s: float = 1.0
    read_s: float = 2.0
    statement_s: float = 1.5
    clients: int = 6
    persons: int = 100
    seed: int = 1
    #: seconds of load before, between and after the faults: drawn from this range (seeded)
    between: tuple[float, float] = (2.0, 4.0)
    #: a call not answered within this many seconds is a hang
    hang_s: float = 30.0

    @property
    def answer_bound_s(self) -> float:
        """The longest an answer may take while the database is away: a frozen server costs
        the pre-ping's read timeout, then a reconnect's handshake (connect timeout), then the
        statement's read timeout; plus a second and a half of scheduling on a loaded machine."""
        return 2 * self.read_s + self.connect_s + 1.5


def _settings(p: OutageParams, url: str) -> dict[str, str]:
    return {
        "YIBAO_DATABASE_URL": url,
        "YIBAO_MYSQL_CONNECT_TIMEOUT_S": str(p.connect_s),
        "YIBAO_MYSQL_READ_TIMEOUT_S": str(p.read_s),
        "YIBAO_MYSQL_WRITE_TIMEOUT_S": str(p.read_s),
        "YIBAO_MYSQL_STATEMENT_TIMEOUT_S": str(p.statement_s),
    }


class _Watch:
    """`/readyz` polled while the database is away, and the recovery after it returns."""

    def __init__(self, url: str, bound_s: float) -> None:
        self.http = httpx.AsyncClient(base_url=url, timeout=bound_s + 5)
        self.ready_during = False
        self.polls = 0
        self.worst_readyz_s = 0.0

    async def away(self, seconds: float) -> None:
        """Poll `/readyz` for `seconds` (the database is down or frozen meanwhile)."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            began = time.monotonic()
            try:
                answer = await self.http.get("/readyz")
                if answer.status_code == 200:
                    self.ready_during = True
            except httpx.HTTPError:
                pass
            self.polls += 1
            self.worst_readyz_s = max(self.worst_readyz_s, time.monotonic() - began)
            await asyncio.sleep(0.25)

    async def recovered(self, back: float, ledger: Ledger, limit_s: float = 120.0) -> float:
        """Seconds from `back` (the database answering again) until `/readyz` is ready and a
        call has been answered `infcode: 0` since."""
        ready = False
        while time.monotonic() - back < limit_s:
            if not ready:
                try:
                    ready = (await self.http.get("/readyz")).status_code == 200
                except httpx.HTTPError:
                    ready = False
            if ready and ledger.last_ok > back:
                return time.monotonic() - back
            await asyncio.sleep(0.02)
        return math.inf


def run_outage_stage(
    base: Path, p: OutageParams, progress: Callable[[str], None]
) -> dict[str, Any]:
    """The stage in `base` (a fresh directory): its figures, findings and parameters."""
    db = MariaDB(base / "mariadb")
    data_dir = base / "city"
    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    try:
        progress("mysql: a private MariaDB")
        db.install()
        extra = _settings(p, db.url)
        progress("mysql: demo city")
        run_cli(
            data_dir,
            port,
            *("demo", "--persons", str(p.persons), "--history-days", "0"),
            extra=extra,
        )
        return _stage(db, data_dir, port, extra, p, progress)
    finally:
        db.shut()


def _stage(
    db: MariaDB,
    data_dir: Path,
    port: int,
    extra: dict[str, str],
    p: OutageParams,
    progress: Callable[[str], None],
) -> dict[str, Any]:
    fixtures = load_fixtures(data_dir)
    engine = make_null_engine(db.url)
    server = Server(data_dir, port, extra)
    ledger = Ledger()
    recoveries: list[float] = []
    watch = _Watch(server.url, p.answer_bound_s)
    try:
        before = balances(engine)
        server.start()
        log_from = (data_dir / "serve.log").stat().st_size

        async def load_and_faults() -> None:
            rng = random.Random(p.seed)
            stop = asyncio.Event()
            admissions = Admissions()
            sessions = [
                RetryingSession(
                    server.url,
                    fixtures,
                    random.Random(rng.random()),
                    ledger,
                    admissions,
                    reversal_rate=0.02,
                    answer_timeout_s=p.hang_s,
                )
                for _ in range(p.clients)
            ]
            tasks = [asyncio.create_task(s.run(stop, MIX)) for s in sessions]
            try:
                faults = ["down"] * p.outages + ["frozen"] * p.freezes
                for i, fault in enumerate(faults):
                    await asyncio.sleep(rng.uniform(*p.between))
                    progress(f"mysql: {fault} {i + 1}/{len(faults)}")
                    ledger.outage_since = time.monotonic()
                    if fault == "down":
                        await asyncio.to_thread(db.kill)
                        await watch.away(p.down_s)
                        await asyncio.to_thread(db.start)
                    else:
                        db.freeze()
                        await watch.away(p.frozen_s)
                        db.thaw()
                    back = time.monotonic()
                    recoveries.append(await watch.recovered(back, ledger))
                    ledger.outage_since = None
                await asyncio.sleep(rng.uniform(*p.between))
            finally:
                stop.set()
                await asyncio.gather(*tasks)
                await watch.http.aclose()

        asyncio.run(load_and_faults())
        progress("mysql: invariants")
        verify_ok = replica_verify(data_dir, port, extra)
        found: Findings = check(engine, ledger.confirmed, before, book=load_book([data_dir]))
    finally:
        server.stop()
        engine.dispose()
    log = (data_dir / "serve.log").read_bytes()[log_from:].decode("utf-8", "replace")
    lines = [line for line in log.splitlines() if OUTAGE_LINE in line]
    tracebacks = log.count("Traceback (most recent call last)")
    away_s = (
        p.outages * p.down_s
        + p.freezes * p.frozen_s
        + sum(r for r in recoveries if math.isfinite(r))
    )
    # one line per distinct failure per process (gateway, analytics) per interval
    log_bound = DISTINCT_FAILURES * 2 * (p.outages + p.freezes + math.ceil(away_s / LOG_INTERVAL_S))
    return {
        "ledger": ledger,
        "found": found,
        "replica_verify_ok": verify_ok,
        "recovered_s": (
            None
            if any(math.isinf(r) for r in recoveries)
            else round(max(recoveries, default=0.0), 2)
        ),
        "ready_during_outage": watch.ready_during,
        "log_ok": tracebacks == 0 and len(lines) <= log_bound,
        "params": {
            "outages": p.outages,
            "freezes": p.freezes,
            "down_s": p.down_s,
            "frozen_s": p.frozen_s,
            "timeouts_s": {"connect": p.connect_s, "read": p.read_s, "statement": p.statement_s},
            "answer_bound_s": p.answer_bound_s,
            "clients": p.clients,
            "persons": p.persons,
            "confirmed": len(ledger.confirmed),
            "flows": ledger.flows,
            "retries": ledger.retries,
            "abandoned": ledger.abandoned,
            "refused_calls": ledger.refused,
            "refusals": dict(ledger.refusals.most_common(8)),
            "hung_calls": ledger.hung,
            "settlements_in_store": found.settlements,
            "recovered_each_s": [round(r, 2) for r in recoveries],
            "readyz_polls_during_outage": watch.polls,
            "worst_readyz_s": round(watch.worst_readyz_s, 2),
            "outage_log_lines": len(lines),
            "outage_log_bound": log_bound,
            "tracebacks": tracebacks,
            "log_bytes": len(log.encode()),
        },
    }
