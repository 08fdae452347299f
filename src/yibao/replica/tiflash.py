"""On TiDB the columnar replica is TiFlash (reference/htap.md §1).

TiFlash replicas are Raft learners of the row store's Regions: TiDB keeps them current and a
query pushed to TiFlash does the learner read itself (ReadIndex, wait for apply, MVCC at the
query's start_ts), so answers are strong by construction and the DuckDB applier is not
started. This adapter

- emits `ALTER TABLE … SET TIFLASH REPLICA n` for the analytic tables (`replica_ddl`);
- reports progress from `information_schema.tiflash_replica` (`PROGRESS_SQL`; refreshed
  by TiDB about once a minute);
- runs analytic queries in **read-only autocommit-free sessions** on its own pool, with
  `tidb_isolation_read_engines='tiflash,tidb'` and a `READ_FROM_STORAGE(TIFLASH[…])` hint,
  never inside a settlement transaction. The answer's `seq` is the change log's `max(seq)`
  read in the same snapshot.

Only tables without personal identifiers get a TiFlash replica: the pseudonymised settlement
facts `an_setl` (the person as `psn_ref`, `replica.pseudo_tables`) and `fixmedins`; `setl`,
`mdtrt` and `psn` carry `psn_no` and get none (a replica left on them by an older version is
removed, count 0). The analytic queries read `an_setl` (`pseudonymised`), never `setl`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, text

from yibao.config import Settings
from yibao.replica.pseudo_tables import PseudoTables
from yibao.replica.pseudonym import Pseudonyms
from yibao.storage.engine import make_engine

#: the row-store tables the analytic queries read on TiDB: pseudonymised or impersonal — the
#: only ones given a TiFlash replica
ANALYTIC_TABLES: tuple[str, ...] = ("an_setl", "fixmedins")
#: tables holding personal identifiers: never a TiFlash replica (set to 0: an older version
#: gave `setl` and `mdtrt` one)
PERSONAL_TABLES: tuple[str, ...] = ("setl", "mdtrt")

#: aliases used by the row-store variants of the analytic queries (`s` setl, `f` fixmedins)
QUERY_ALIASES: tuple[str, ...] = ("s", "f")

SESSION_SQL: tuple[str, ...] = (
    "SET SESSION tidb_isolation_read_engines = 'tiflash,tidb'",
    # analytics never write: refuse by construction
    "SET SESSION transaction_read_only = 1",
)

PROGRESS_SQL = (
    "SELECT TABLE_NAME, REPLICA_COUNT, AVAILABLE, PROGRESS "
    "FROM information_schema.tiflash_replica WHERE TABLE_SCHEMA = DATABASE() "
    "ORDER BY TABLE_NAME"
)

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


def _ident(name: str) -> str:
    if not _IDENT.match(name):
        raise ValueError(f"not an identifier: {name!r}")
    return f"`{name}`"


def replica_ddl(tables: Sequence[str] = ANALYTIC_TABLES, count: int = 1) -> list[str]:
    """The DDL that gives each table `count` TiFlash replicas (0 removes them)."""
    if not 0 <= count <= 5:
        raise ValueError("TiFlash replica count must be within 0..5")
    return [f"ALTER TABLE {_ident(t)} SET TIFLASH REPLICA {count}" for t in tables]


def hint(aliases: Sequence[str] = QUERY_ALIASES) -> str:
    """The optimizer hint pushing the named table aliases to TiFlash."""
    return f"/*+ READ_FROM_STORAGE(TIFLASH[{', '.join(aliases)}]) */ "


def pseudonymised(sql: str) -> str:
    """A row-store analytic query (over `setl s`) rewritten to read the pseudonymised facts
    `an_setl` (the person as `psn_ref`). Refuses SQL that would still read `setl`."""
    out = sql.replace("FROM setl s", "FROM an_setl s").replace("s.psn_no", "s.psn_ref")
    if re.search(r"\bsetl\s+s\b|\bpsn_no\b|\bcertno\b|\bpsn_name\b", out):
        raise ValueError("an analytic query on TiDB must read only pseudonymised tables")
    return out


def hinted(sql: str, aliases: Sequence[str] = QUERY_ALIASES) -> str:
    """A row-store query (with its `{hint}` marker) ready for TiFlash: reading the
    pseudonymised tables, with the TiFlash hint."""
    return pseudonymised(sql).replace("{hint}", hint(aliases))


@dataclass(frozen=True)
class TableProgress:
    table: str
    replica_count: int
    available: bool
    progress: float


class TiFlashReplica:
    """The replica service on TiDB: same `read`/`status` shape as the DuckDB one."""

    engine_name = "tiflash"

    def __init__(self, settings: Settings, engine: Engine | None = None) -> None:
        self.settings = settings
        self.engine = engine or make_engine(
            settings.db_url, pool_size=2, mysql_driver=settings.mysql_driver
        )
        self.pseudo = PseudoTables(self.engine, Pseudonyms.for_dir(settings.data_dir))

    def ensure_replicas(self, count: int = 1) -> list[str]:
        """Run the DDL (idempotent on TiDB): replicas on the analytic tables, none on the
        personal ones; returns the statements."""
        statements = replica_ddl(count=count) + replica_ddl(PERSONAL_TABLES, count=0)
        with self.engine.connect() as conn:
            for stmt in statements:
                conn.exec_driver_sql(stmt)
            conn.commit()
        return statements

    def progress(self) -> list[TableProgress]:
        with self.engine.connect() as conn:
            rows = conn.exec_driver_sql(PROGRESS_SQL).fetchall()
            conn.rollback()
        return [TableProgress(str(r[0]), int(r[1]), bool(r[2]), float(r[3])) for r in rows]

    @contextmanager
    def read(self) -> Iterator[tuple[Connection, int]]:
        """A read-only snapshot on TiFlash and the change-log seq it reflects: `an_setl` is
        first brought up to every change committed before the read began (strong)."""
        self.pseudo.catch_up()
        with self.engine.connect() as conn:
            for stmt in SESSION_SQL:
                conn.exec_driver_sql(stmt)
            conn.exec_driver_sql("START TRANSACTION READ ONLY")
            try:
                seq = int(
                    conn.execute(
                        text("SELECT COALESCE(MAX(applied_seq), 0) FROM an_state")
                    ).scalar_one()
                )
                yield conn, seq
            finally:
                conn.rollback()
                conn.exec_driver_sql("SET SESSION transaction_read_only = 0")

    def status(self) -> dict[str, Any]:
        tables = self.progress()
        with self.engine.connect() as conn:
            latest = int(
                conn.execute(text("SELECT COALESCE(MAX(seq), 0) FROM change_log")).scalar_one()
            )
            applied = self.pseudo.applied_seq(conn)
            conn.rollback()
        return {
            "engine": "tiflash",
            "applied_seq": applied,
            "latest_seq": latest,
            "lag_rows": max(0, latest - applied),
            "lag_ms": 0,
            "tables": [t.__dict__ for t in tables],
            "available": bool(tables) and all(t.available for t in tables),
        }

    def close(self) -> None:
        self.engine.dispose()
