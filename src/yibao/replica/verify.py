"""`yibao replica verify`: the replica and the row store agree.

For each replicated table, the row count and (for settlements) the sum of every amount must
be equal on both sides — the settled fee lines too (`fee_detail` rows with a `setl_id` against
`fee_fact`: count and amount), compared at the same change-log position: the replica is first
brought up to the row store's latest `seq`, then both sides are read — the row store in one
read transaction together with its latest `seq`. If a commit slipped in between, the
comparison is repeated. The rollups are checked against the fact table they summarise.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import duckdb
from sqlalchemy import BigInteger, Connection, Engine, func, select

from yibao.kit.money import from_fen
from yibao.replica import persons, rows
from yibao.replica.schema import MEASURE_NAMES, MEASURES, ROLLUPS
from yibao.replica.store import ReplicaStore, count_rows
from yibao.storage import changelog
from yibao.storage.tables import change_log, fee_detail, fixmedins, mdtrt, psn, setl

PAIRS = (
    ("setl", "setl_fact", setl),
    ("psn", "psn_dim", psn),
    ("fixmedins", "fixmedins_dim", fixmedins),
    ("mdtrt", "mdtrt_fact", mdtrt),
)


@dataclass
class Check:
    name: str
    row_store: Any
    replica: Any

    @property
    def ok(self) -> bool:
        return bool(self.row_store == self.replica)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "row_store": _show(self.row_store),
            "replica": _show(self.replica),
            "ok": self.ok,
        }


def _show(value: Any) -> str:
    """Short text of a value; a rollup's measure tuple shows its count and total fee."""
    if isinstance(value, tuple) and len(value) == len(MEASURE_NAMES):
        fee = value[MEASURE_NAMES.index("medfee_sumamt")]
        return f"{value[0]} 笔, medfee_sumamt {fee} (+{len(value) - 2} measures)"
    return str(value)


@dataclass
class VerifyReport:
    seq: int
    row_store_seq: int
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.seq == self.row_store_seq and all(c.ok for c in self.checks)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "seq": self.seq,
            "row_store_seq": self.row_store_seq,
            "checks": [c.as_dict() for c in self.checks],
        }


def _row_store_side(conn: Connection) -> tuple[int, dict[str, Any]]:
    seq = changelog.position(conn)
    out: dict[str, Any] = {}
    for name, _table, t in PAIRS:
        out[f"{name}.count"] = int(conn.execute(select(func.count()).select_from(t)).scalar_one())
    sums = conn.execute(
        select(
            *(func.coalesce(func.sum(setl.c[a]), 0, type_=BigInteger) for a in rows.SETL_AMOUNTS)
        )
    ).one()
    for name, value in zip(rows.SETL_AMOUNTS, sums, strict=True):
        # Money columns hold integer fen at rest; the aggregate comes back raw
        out[f"setl.{name}"] = from_fen(int(value))
    # the settled lines: a reversal gives its lines back (setl_id cleared), the replica's
    # fee_fact drops them with it
    count, amount = conn.execute(
        select(
            func.count(),
            func.coalesce(func.sum(fee_detail.c.det_item_fee_sumamt), 0, type_=BigInteger),
        ).where(fee_detail.c.setl_id.is_not(None))
    ).one()
    out["fee.count"] = int(count)
    out["fee.det_item_fee_sumamt"] = from_fen(int(amount))
    return seq, out


def _replica_side(store: ReplicaStore) -> tuple[int, dict[str, Any], list[Check]]:
    out: dict[str, Any] = {}
    internal: list[Check] = []
    with store.snapshot() as (cur, seq):
        for name, table, _t in PAIRS:
            out[f"{name}.count"] = count_rows(cur, table)
        amounts = ", ".join(f"COALESCE(SUM({a}), 0)" for a in rows.SETL_AMOUNTS)
        values = cur.execute(f"SELECT {amounts} FROM setl_fact").fetchone() or ()
        for name, value in zip(rows.SETL_AMOUNTS, values, strict=True):
            out[f"setl.{name}"] = Decimal(value).quantize(Decimal("0.01"))
        count, amount = cur.execute(
            "SELECT count(*), COALESCE(SUM(det_item_fee_sumamt), 0) FROM fee_fact"
        ).fetchone() or (0, 0)
        out["fee.count"] = int(count)
        out["fee.det_item_fee_sumamt"] = Decimal(amount).quantize(Decimal("0.01"))
        fact = _fact_totals(cur)
        for rollup in ROLLUPS:
            got = (
                cur.execute(
                    "SELECT "
                    + ", ".join(f"COALESCE(SUM({m}), 0)" for m in MEASURE_NAMES)
                    + f" FROM {rollup.table}"
                ).fetchone()
                or ()
            )
            internal.append(Check(f"rollup {rollup.table} = setl_fact", fact, tuple(got)))
        # persons served: person-years and person-days before the rollup's frontier
        from_rollup, from_facts = persons.check_sql()
        internal.append(
            Check(
                f"rollup {persons.TABLE} = setl_fact",
                tuple(cur.execute(from_facts).fetchall()[0]),
                tuple(cur.execute(from_rollup).fetchall()[0]),
            )
        )
    return seq, out, internal


def _fact_totals(cur: duckdb.DuckDBPyConnection) -> tuple[Any, ...]:
    row = cur.execute(
        "SELECT "
        + ", ".join(f"COALESCE(SUM({expr}), 0)" for _n, _t, expr in MEASURES)
        + " FROM setl_fact"
    ).fetchone()
    return tuple(row or ())


def verify(
    store: ReplicaStore,
    source: Engine,
    catch_up: Callable[[int], int],
    *,
    attempts: int = 5,
) -> VerifyReport:
    """Compare both sides at one change-log position; `catch_up(target)` applies up to it."""
    report = VerifyReport(0, 0)
    for _ in range(attempts):
        with source.connect() as conn:
            latest = int(conn.execute(select(func.max(change_log.c.seq))).scalar_one_or_none() or 0)
            conn.rollback()
        catch_up(latest)
        with source.connect() as conn:
            if conn.dialect.name == "mysql":
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                row_seq, row_side = _row_store_side(conn)
        seq, replica_side, internal = _replica_side(store)
        report = VerifyReport(seq, row_seq)
        for key in row_side:
            report.checks.append(Check(key, row_side[key], replica_side.get(key)))
        report.checks.extend(internal)
        if seq == row_seq:
            break
    return report
