"""Running the named queries: on the replica (DuckDB or TiFlash) or on the row store.

    analytics = platform.analytics
    answer = analytics.run_on_replica("by_institution", {"date_from": "2024-06-01"})
    answer.seq, answer.lag_rows, answer.lag_ms, answer.consistency, answer.data

`run_on_rowstore` runs the row-store variant of the same query (the benchmark's baseline;
on TiDB the same SQL with TiFlash hints is what `run_on_replica` runs). Both return the same
rows, amounts as `Decimal` yuan. `dashboard()` runs the dashboard's set
(`dashboard_queries()`) in one replica snapshot, so every panel reflects the same `seq`; on
DuckDB the panels grouped over the same rows share one scan (`analytics.shared_scan`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, DateTime, Engine, bindparam, text

from yibao.analytics import indicators, shared_scan
from yibao.analytics.registry import Query, get
from yibao.errors import YibaoError
from yibao.kit import clock
from yibao.replica.service import STRONG, Replica
from yibao.replica.tiflash import TiFlashReplica, hinted
from yibao.storage.changelog import latest_seq


class AnalyticsUnavailable(YibaoError):
    status_code = 503
    code = "analytics_unavailable"


@dataclass
class Answer:
    name: str
    seq: int
    lag_rows: int
    lag_ms: int
    consistency: str
    data: Any
    elapsed_ms: float = 0.0

    def envelope(self) -> dict[str, Any]:
        return {
            "query": self.name,
            "seq": self.seq,
            "lag_rows": self.lag_rows,
            "lag_ms": self.lag_ms,
            "consistency": self.consistency,
            "elapsed_ms": round(self.elapsed_ms, 2),
            "data": self.data,
        }


def dashboard_queries(day: date | None = None) -> list[tuple[str, str, dict[str, Any]]]:
    """The dashboard's queries as `(panel, query name, params)` for `day` (default today)."""
    today = day or clock.now().date()
    month = today.replace(day=1)
    period = {"date_from": month, "date_to": today}
    return [
        ("today", "summary", {"date_from": today, "date_to": today}),
        ("month", "summary", period),
        ("trend", "by_day", {"date_from": today - timedelta(days=29), "date_to": today}),
        ("months", "by_month", {"date_from": today.replace(month=1, day=1), "date_to": today}),
        ("insutype", "by_insutype", period),
        ("visit_kind", "by_visit_kind", period),
        ("hosp_lv", "by_hosp_lv", period),
        ("med_type", "by_med_type", period),
        ("region", "by_region", period),
        ("top_institutions", "top_institutions", {**period, "limit": 10}),
    ]


def _finish(
    query: Query, columns: Sequence[str], records: Sequence[Sequence[Any]], *, fen: bool
) -> list[dict[str, Any]]:
    return indicators.finish(columns, records, dim=query.dim, fen=fen, shape=query.shape)


class Analytics:
    def __init__(
        self,
        *,
        rowstore: Engine,
        replica: Replica | None = None,
        tiflash: TiFlashReplica | None = None,
    ) -> None:
        self.rowstore = rowstore
        self.replica = replica
        self.tiflash = tiflash
        self.dialect = "mysql" if rowstore.dialect.name == "mysql" else "sqlite"

    @property
    def engine_name(self) -> str:
        if self.tiflash is not None:
            return "tiflash"
        return "duckdb" if self.replica is not None else "none"

    def _need_replica(self) -> None:
        if self.replica is None and self.tiflash is None:
            raise AnalyticsUnavailable(
                "分析副本未启用 (the replica is not running in this process: "
                "YIBAO_REPLICA_ENABLED=false or another process owns it)"
            )

    # -- replica ---------------------------------------------------------------------------

    def run_on_replica(
        self,
        name: str,
        params: dict[str, Any] | None = None,
        *,
        consistency: str = STRONG,
        max_lag_ms: int = 1000,
    ) -> Answer:
        """One named query on the replica (strong by default)."""
        meta, results = self.run_many(
            [("result", name, params or {})], consistency=consistency, max_lag_ms=max_lag_ms
        )
        return Answer(
            name,
            meta.seq,
            meta.lag_rows,
            meta.lag_ms,
            meta.consistency,
            results["result"],
            meta.elapsed_ms,
        )

    def run_many(
        self,
        items: Sequence[tuple[str, str, dict[str, Any]]],
        *,
        consistency: str = STRONG,
        max_lag_ms: int = 1000,
    ) -> tuple[Answer, dict[str, list[dict[str, Any]]]]:
        """Several named queries in **one** snapshot: `(meta answer, {panel: rows})`."""
        self._need_replica()
        bound = [(panel, get(name), get(name).bind(params)) for panel, name, params in items]
        started = time.perf_counter()
        results: dict[str, list[dict[str, Any]]] = {}
        if self.tiflash is not None:
            with self.tiflash.read() as (conn, seq):
                for panel, query, values in bound:
                    results[panel] = self._rowstore_exec(conn, query, values, tiflash=True)
            meta = Answer("", seq, 0, 0, STRONG, None)
        else:
            assert self.replica is not None
            scans, alone = shared_scan.plan(bound)
            queries = {panel: query for panel, query, _values in bound}
            with self.replica.read(consistency, max_lag_ms=max_lag_ms) as view:
                for scan in scans:
                    records = view.cursor.execute(scan.sql, scan.params).fetchall()
                    for panel, rows in shared_scan.split(scan, records).items():
                        results[panel] = _finish(
                            queries[panel], shared_scan.COLUMNS, rows, fen=False
                        )
                for panel, query, values in alone:
                    sql, sql_params = query.duckdb_for(values)
                    result = view.cursor.execute(sql, sql_params)
                    columns = [d[0] for d in result.description or []]
                    results[panel] = _finish(query, columns, result.fetchall(), fen=False)
                results = {panel: results[panel] for panel, _query, _values in bound}
                meta = Answer("", view.seq, view.lag_rows, view.lag_ms, view.consistency, None)
        meta.elapsed_ms = (time.perf_counter() - started) * 1000
        return meta, results

    def dashboard(
        self, day: date | None = None, *, consistency: str = STRONG, max_lag_ms: int = 1000
    ) -> Answer:
        meta, results = self.run_many(
            dashboard_queries(day), consistency=consistency, max_lag_ms=max_lag_ms
        )
        today = results["today"][0] if results["today"] else None
        month = results["month"][0] if results["month"] else None
        data: dict[str, Any] = {
            "day": (day or clock.now().date()).isoformat(),
            **results,
            "today": today,
            "month": month,
            "funds_today": indicators.funds(today or {}),
            "funds_month": indicators.funds(month or {}),
        }
        return Answer(
            "dashboard",
            meta.seq,
            meta.lag_rows,
            meta.lag_ms,
            meta.consistency,
            data,
            meta.elapsed_ms,
        )

    def position(self) -> dict[str, Any]:
        """Cheap: the replica's applied seq and the row store's latest (for 1-second polls)."""
        self._need_replica()
        if self.tiflash is not None:
            with self.tiflash.read() as (_conn, seq):
                return {"seq": seq, "latest_seq": seq, "lag_rows": 0, "lag_ms": 0}
        assert self.replica is not None
        lag = self.replica.lag()
        return {
            "seq": lag.applied_seq,
            "latest_seq": lag.latest_seq,
            "lag_rows": lag.rows,
            "lag_ms": lag.ms,
        }

    # -- row store -------------------------------------------------------------------------

    def run_on_rowstore(self, name: str, params: dict[str, Any] | None = None) -> Answer:
        """The row-store variant of a named query (for comparison; never on OLTP pools)."""
        query = get(name)
        values = query.bind(params)
        started = time.perf_counter()
        with self.rowstore.connect() as conn:
            seq = latest_seq(conn)
            data = self._rowstore_exec(conn, query, values, tiflash=False)
            conn.rollback()
        return Answer(name, seq, 0, 0, "rowstore", data, (time.perf_counter() - started) * 1000)

    def _rowstore_exec(
        self, conn: Connection, query: Query, values: dict[str, Any], *, tiflash: bool
    ) -> list[dict[str, Any]]:
        sql = query.rowstore[self.dialect]
        sql = hinted(sql) if tiflash else sql.replace("{hint}", "")
        params = query.row_params(values)
        stmt = text(sql)
        if "t0" in params:
            stmt = stmt.bindparams(bindparam("t0", type_=DateTime), bindparam("t1", type_=DateTime))
        result = conn.execute(stmt, params)
        columns = list(result.keys())
        return _finish(query, columns, result.fetchall(), fen=True)
