"""Rebuilding the replica from scratch into a new DuckDB file.

- **from the change log** (`source="log"`): replay every change from seq 1, in large
  batches, rollups computed once at the end;
- **from the row-store tables** (`source="tables"`, needed when the log has been trimmed):
  note the log position S0, stream `fixmedins`, `psn`, `mdtrt`, `setl` and the settled fee
  lines (`fee`, one payload per settlement) through the payload contract (`replica.rows`),
  mark the file as applied up to S0, then replay the log after
  S0. Payloads are full row images, so replaying a change the tables already showed is
  harmless (up to the log's position when the tables were read, even a change saying
  `insert` replaces, `ReplicaStore.replay_until`);
- `source="auto"` takes the log when it still starts at seq 1, else the tables.

The new file is built beside the live one and then swapped in (`ReplicaStore.swap`) or moved
over it (stopped data directory), so readers never see a half-built replica.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Executable, func, or_, select

from yibao.kit.clock import local_naive_now
from yibao.replica import batches, rows
from yibao.replica.applier import Applier, log_bounds
from yibao.replica.pseudonym import Pseudonyms
from yibao.replica.store import ReplicaStore
from yibao.storage.changelog import position, read_after
from yibao.storage.tables import (
    change_log,
    fee_detail,
    fixmedins,
    mdtrt,
    psn,
    psn_idet,
    psn_insu,
    rule_hit,
    setl,
)

log = logging.getLogger(__name__)

#: progress(phase, done, total)
Progress = Callable[[str, int, int], None]

CHUNK = 20_000
#: a person's "main" insurance among several — the order enrolment uses for its payloads
#: (`enrolment.feed`), so a rebuild from the tables yields the same `psn` rows
_MAIN_INSUTYPES = ("310", "390", "391", "380", "340", "320", "330", "392", "370")


@dataclass(frozen=True)
class RebuildReport:
    source: str
    applied_seq: int
    rows: dict[str, int]
    seconds: float


def _noop(_phase: str, _done: int, _total: int) -> None:
    return None


def choose_source(engine: Engine, requested: str = "auto") -> str:
    """The log when it holds every change from seq 1 without a hole (a bulk load reserves a
    seq it never writes, `simulate.bulk`; a trimmed log starts after 1), else the tables."""
    if requested in ("log", "tables"):
        return requested
    lo, hi, counter = log_bounds(engine)
    if hi == 0:
        return "log" if counter == 0 else "tables"
    if lo != 1 or counter != hi:
        return "tables"
    with engine.connect() as conn:
        rows = int(conn.execute(select(func.count()).select_from(change_log)).scalar_one())
        conn.rollback()
    return "log" if rows == hi else "tables"


def build(
    engine: Engine,
    target: Path,
    *,
    source: str = "auto",
    threads: int = 1,
    memory_limit: str = "1GB",
    progress: Progress | None = None,
    pseudonyms: Pseudonyms | None = None,
) -> RebuildReport:
    """Build a complete replica file at `target` (replaced if present); returns a report.
    Persons are pseudonymised with `pseudonyms` (default: the key in `target`'s directory,
    the data directory)."""
    progress = progress or _noop
    started = time.perf_counter()
    for leftover in (target, Path(str(target) + ".wal")):
        if leftover.exists():
            leftover.unlink()
    chosen = choose_source(engine, source)
    store = ReplicaStore(target, threads=threads, memory_limit=memory_limit, pseudonyms=pseudonyms)
    try:
        counts: dict[str, int] = {}
        if chosen == "log":
            _from_log(engine, store, progress, counts)
        else:
            _from_tables(engine, store, progress, counts)
        # changes committed meanwhile
        applier = Applier(store, engine, batch_rows=CHUNK)
        applier.catch_up()
        progress("rollups", 0, 1)
        store.refresh_rollups()
        progress("rollups", 1, 1)
        store.checkpoint()
        applied = store.applied_seq
    finally:
        store.close()
    return RebuildReport(chosen, applied, counts, time.perf_counter() - started)


def build_over(
    engine: Engine,
    path: Path,
    *,
    source: str = "auto",
    threads: int = 1,
    memory_limit: str = "1GB",
    progress: Progress | None = None,
) -> RebuildReport:
    """Rebuild the (closed) replica file at `path`: built beside it, then moved over it and its
    stale WAL removed — for a stopped data directory (a serving process swaps instead)."""
    target = Path(str(path) + ".rebuild")
    report = build(
        engine,
        target,
        source=source,
        threads=threads,
        memory_limit=memory_limit,
        progress=progress,
    )
    target.replace(path)
    Path(str(path) + ".wal").unlink(missing_ok=True)
    return report


def _from_log(
    engine: Engine, store: ReplicaStore, progress: Progress, counts: dict[str, int]
) -> None:
    _lo, hi, _counter = log_bounds(engine)
    done = 0
    progress("log", 0, hi)
    while True:
        with engine.connect() as conn:
            chunk = read_after(conn, store.applied_seq, CHUNK)
            conn.rollback()
        if not chunk:
            break
        batch = batches.build(chunk)
        for name, table in batch.tables.items():
            counts[name] = counts.get(name, 0) + table.num_rows
        store.apply(batch, source="log", refresh=False)
        done = batch.last_seq
        progress("log", done, max(hi, done))


def _from_tables(
    engine: Engine, store: ReplicaStore, progress: Progress, counts: dict[str, int]
) -> None:
    with engine.connect() as conn:
        last = int(conn.execute(select(func.max(change_log.c.seq))).scalar_one_or_none() or 0)
        ts0 = (
            int(
                conn.execute(
                    select(change_log.c.ts_ms).where(change_log.c.seq == last)
                ).scalar_one()
            )
            if last
            else 0
        )
        # the tables include what a bulk load wrote under its reserved seq (no row of its own)
        s0 = position(conn)
        totals = {
            name: int(conn.execute(select(func.count()).select_from(t)).scalar_one())
            for name, t in (
                ("fixmedins", fixmedins),
                ("psn", psn),
                ("mdtrt", mdtrt),
                ("setl", setl),
                ("rule_hit", rule_hit),
            )
        }
        totals[rows.FEE] = int(
            conn.execute(
                select(func.count())
                .select_from(setl)
                .where(setl.c.vali_flag == "1", setl.c.refd_setl_flag == "0")
            ).scalar_one()
        )
        conn.rollback()
    for name, producer in (
        (rows.FIXMEDINS, _fixmedins_payloads),
        (rows.PSN, _psn_payloads),
        (rows.MDTRT, _mdtrt_payloads),
        (rows.SETL, _setl_payloads),
        (rows.FEE, _fee_payloads),
        (rows.RULE_HIT, _rule_hit_payloads),
    ):
        done = 0
        progress(name, 0, totals[name])
        with engine.connect() as conn:
            for chunk in _chunks(producer(conn)):
                table = batches.from_payloads(name, chunk)
                store.bulk_append(name, table, refresh_rollups=False)
                done += len(chunk)
                progress(name, done, totals[name])
            conn.rollback()
        counts[name] = done
    store.set_applied(s0, ts0, source="tables")
    # what committed while the tables were read is in them and in the log after S0: until the
    # log's position now, a change that says `insert` may name a key the file already holds
    with engine.connect() as conn:
        store.replay_until = position(conn)
        conn.rollback()


def _chunks(items: Iterator[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _stream(conn: Connection, stmt: Executable) -> Iterator[Mapping[str, Any]]:
    result = conn.execution_options(stream_results=True, yield_per=CHUNK).execute(stmt)
    for row in result.mappings():
        yield dict(row)


def _fixmedins_payloads(conn: Connection) -> Iterator[dict[str, Any]]:
    for row in _stream(conn, select(fixmedins)):
        yield rows.fixmedins_payload(row)


def _mdtrt_payloads(conn: Connection) -> Iterator[dict[str, Any]]:
    for row in _stream(conn, select(mdtrt).order_by(mdtrt.c.begntime)):
        yield rows.mdtrt_payload(row)


def _setl_payloads(conn: Connection) -> Iterator[dict[str, Any]]:
    stmt = (
        select(
            setl,
            fixmedins.c.admdvs.label("_admdvs"),
            psn.c.gend.label("_gend"),
            mdtrt.c.dept_code.label("_dept_code"),
            mdtrt.c.caty.label("_caty"),
            mdtrt.c.atddr_no.label("_atddr_no"),
        )
        .join(fixmedins, fixmedins.c.fixmedins_code == setl.c.fixmedins_code)
        .join(psn, psn.c.psn_no == setl.c.psn_no)
        .outerjoin(mdtrt, mdtrt.c.mdtrt_id == setl.c.mdtrt_id)
        .order_by(setl.c.setl_time)
    )
    for row in _stream(conn, stmt):
        visit = {"dept_code": row["_dept_code"], "caty": row["_caty"], "atddr_no": row["_atddr_no"]}
        yield rows.setl_payload(row, admdvs=row["_admdvs"], gend=row["_gend"], visit=visit)


def _fee_payloads(conn: Connection) -> Iterator[dict[str, Any]]:
    """The settled lines (`setl_id` set: a reversal gives them back) grouped by settlement,
    read in the primary key's order (visit, line): a visit's settlements' lines are split
    by `setl_id` within the visit (an interim settlement of a stay takes some of them)."""
    stmt = (
        select(
            fee_detail.c.mdtrt_id,
            fee_detail.c.setl_id,
            fee_detail.c.feedetl_sn,
            fee_detail.c.fee_ocur_time,
            fee_detail.c.med_list_codg,
            fee_detail.c.list_type,
            fee_detail.c.med_chrgitm_type,
            fee_detail.c.cnt,
            fee_detail.c.det_item_fee_sumamt,
            fee_detail.c.prd_days,
            fee_detail.c.pric,
            fee_detail.c.hosp_appr_flag,
            fee_detail.c.flags,
            setl.c.setl_time.label("_setl_time"),
            setl.c.psn_no.label("_psn_no"),
            setl.c.med_type.label("_med_type"),
            mdtrt.c.fixmedins_code.label("_fixmedins_code"),
            mdtrt.c.dept_code.label("_dept_code"),
            mdtrt.c.caty.label("_caty"),
            mdtrt.c.atddr_no.label("_atddr_no"),
        )
        .join(setl, setl.c.setl_id == fee_detail.c.setl_id)
        .join(mdtrt, mdtrt.c.mdtrt_id == fee_detail.c.mdtrt_id)
        .where(fee_detail.c.setl_id.is_not(None))
        .order_by(fee_detail.c.mdtrt_id, fee_detail.c.feedetl_sn)
    )
    visit_id: str | None = None
    held: dict[str, list[Mapping[str, Any]]] = {}

    def flush() -> Iterator[dict[str, Any]]:
        for setl_id, lines in held.items():
            first = lines[0]
            yield rows.fee_payload(
                setl_id=setl_id,
                setl_time=first["_setl_time"],
                psn_no=first["_psn_no"],
                visit={
                    "mdtrt_id": first["mdtrt_id"],
                    "fixmedins_code": first["_fixmedins_code"],
                    "dept_code": first["_dept_code"],
                    "caty": first["_caty"],
                    "atddr_no": first["_atddr_no"],
                },
                med_type=first["_med_type"],
                lines=lines,
            )

    for row in _stream(conn, stmt):
        if row["mdtrt_id"] != visit_id:
            yield from flush()
            held = {}
            visit_id = row["mdtrt_id"]
        held.setdefault(row["setl_id"], []).append(row)
    yield from flush()


def _rule_hit_payloads(conn: Connection) -> Iterator[dict[str, Any]]:
    for row in _stream(conn, select(rule_hit).order_by(rule_hit.c.hit_id)):
        yield rows.rule_hit_payload(row)


def _psn_payloads(conn: Connection) -> Iterator[dict[str, Any]]:
    now = local_naive_now()
    assisted = {
        r[0]
        for r in conn.execute(
            select(psn_idet.c.psn_no)
            .where(or_(psn_idet.c.endtime.is_(None), psn_idet.c.endtime > now))
            .where(psn_idet.c.begntime <= now)
            .distinct()
        )
    }
    # persons with their insurance rows, grouped by person (streamed, never all in memory)
    stmt = (
        select(
            psn.c.psn_no,
            psn.c.gend,
            psn.c.brdy,
            psn.c.death_date,
            psn_insu.c.insutype,
            psn_insu.c.psn_type,
            psn_insu.c.psn_insu_stas,
            psn_insu.c.insuplc_admdvs,
        )
        .outerjoin(psn_insu, psn_insu.c.psn_no == psn.c.psn_no)
        .order_by(psn.c.psn_no)
    )
    current: Mapping[str, Any] | None = None
    insurances: list[Mapping[str, Any]] = []
    for row in _stream(conn, stmt):
        if current is not None and row["psn_no"] != current["psn_no"]:
            yield rows.psn_payload(
                current, main_insurance(insurances), assistance=current["psn_no"] in assisted
            )
            insurances = []
        current = dict(row)
        if row["insutype"] is not None:
            insurances.append(current)
    if current is not None:
        yield rows.psn_payload(
            current, main_insurance(insurances), assistance=current["psn_no"] in assisted
        )


def main_insurance(insurances: list[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The person's base insurance row among their `psn_insu` rows (normal status first)."""
    if not insurances:
        return None

    def rank(r: Mapping[str, Any]) -> tuple[int, int, str]:
        insutype = str(r["insutype"])
        preferred = (
            _MAIN_INSUTYPES.index(insutype) if insutype in _MAIN_INSUTYPES else len(_MAIN_INSUTYPES)
        )
        return (0 if r.get("psn_insu_stas") == "1" else 1, preferred, insutype)

    return sorted(insurances, key=rank)[0]
