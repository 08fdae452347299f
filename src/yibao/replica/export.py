"""Parquet export of the columnar replica, for a data platform's lake (any engine reads it).

`yibao export parquet --table T --since DATE --until DATE --out DIR` writes the replica's rows
as they are — pseudonymous like the replica itself, no personal identifier in clear — with
DuckDB's `COPY … (FORMAT PARQUET)`. Fact tables are partitioned by their day,
`DIR/<table>/<day column>=YYYY-MM-DD/…parquet` (`setl_fact` by `setl_date`, `mdtrt_fact` by
`begn_date`), so a lake adds a day without rewriting the rest; the other tables are one file,
`DIR/<table>/<table>.parquet`. One snapshot serves the whole export: what it writes is the
replica at one `applied_seq`, which the report gives.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

from yibao.errors import InvalidInput
from yibao.replica.schema import REPLICA_TABLES

#: fact tables and the day column each is partitioned (and filtered) by
FACT_DAYS: dict[str, str] = {"setl_fact": "setl_date", "mdtrt_fact": "begn_date"}

#: the replica's own bookkeeping is not data
EXPORTABLE: tuple[str, ...] = tuple(t for t in REPLICA_TABLES if t != "replica_meta")


@dataclass(frozen=True)
class ExportReport:
    table: str
    rows: int
    files: int
    out: str
    applied_seq: int
    partitioned_by: str | None

    def as_dict(self) -> dict[str, object]:
        return {
            "table": self.table,
            "rows": self.rows,
            "files": self.files,
            "out": self.out,
            "applied_seq": self.applied_seq,
            "partitioned_by": self.partitioned_by,
        }


def check_request(
    table: str, since: str | None, until: str | None
) -> tuple[date | None, date | None]:
    """Validate the request before anything is written; errors name the field."""
    if table not in EXPORTABLE:
        raise InvalidInput(
            f"table: 副本中没有表 '{table}' (no such replica table; choose one of "
            f"{', '.join(EXPORTABLE)} — `yibao export parquet --list`)"
        )
    days: list[date | None] = []
    for name, value in (("since", since), ("until", until)):
        if value in (None, ""):
            days.append(None)
            continue
        try:
            days.append(date.fromisoformat(str(value)))
        except ValueError:
            raise InvalidInput(f"{name}: 日期格式应为 YYYY-MM-DD (got '{value}')") from None
    start, end = days
    if start is not None and end is not None and start > end:
        raise InvalidInput(f"since/until: 起始日期晚于结束日期 ({start} > {end}; backwards range)")
    if (start is not None or end is not None) and table not in FACT_DAYS:
        raise InvalidInput(
            f"since/until: 表 {table} 不按日期分区 (only the fact tables "
            f"{', '.join(FACT_DAYS)} take a date range; drop --since/--until)"
        )
    return start, end


def _quote_path(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def export_table(
    cur: duckdb.DuckDBPyConnection,
    applied_seq: int,
    *,
    table: str,
    out_dir: Path,
    since: str | None = None,
    until: str | None = None,
) -> ExportReport:
    """Write one table to `out_dir/<table>/` inside the caller's snapshot (`cur`)."""
    start, end = check_request(table, since, until)
    target = out_dir.resolve() / table
    target.mkdir(parents=True, exist_ok=True)
    day = FACT_DAYS.get(table)
    where: list[str] = []
    if day is not None and start is not None:
        where.append(f"{day} >= DATE '{start.isoformat()}'")
    if day is not None and end is not None:
        where.append(f"{day} <= DATE '{end.isoformat()}'")
    select = f"SELECT * FROM {table}" + (f" WHERE {' AND '.join(where)}" if where else "")
    count_row = cur.execute(f"SELECT count(*) FROM ({select})").fetchone()
    rows = int(count_row[0]) if count_row else 0
    if day is not None:
        if rows:
            cur.execute(
                f"COPY ({select}) TO {_quote_path(target)} "
                f"(FORMAT PARQUET, PARTITION_BY ({day}), OVERWRITE_OR_IGNORE)"
            )
    else:
        cur.execute(
            f"COPY ({select}) TO {_quote_path(target / (table + '.parquet'))} (FORMAT PARQUET)"
        )
    files = sum(1 for _ in target.rglob("*.parquet"))
    return ExportReport(
        table=table,
        rows=rows,
        files=files,
        out=str(target),
        applied_seq=applied_seq,
        partitioned_by=day,
    )
