"""The TiFlash adapter's SQL, as text (no TiDB here: reference/htap.md §2.3)."""

from __future__ import annotations

import pytest

from yibao.analytics.registry import registry
from yibao.replica import tiflash


def test_replica_ddl_covers_the_analytic_tables_without_personal_data() -> None:
    assert tiflash.replica_ddl() == [
        "ALTER TABLE `setl` SET TIFLASH REPLICA 1",
        "ALTER TABLE `mdtrt` SET TIFLASH REPLICA 1",
        "ALTER TABLE `fixmedins` SET TIFLASH REPLICA 1",
    ]
    assert "psn" not in tiflash.ANALYTIC_TABLES


def test_replica_ddl_count_zero_removes_and_bad_input_is_refused() -> None:
    assert tiflash.replica_ddl(["setl"], 0) == ["ALTER TABLE `setl` SET TIFLASH REPLICA 0"]
    with pytest.raises(ValueError):
        tiflash.replica_ddl(["setl; DROP TABLE psn"])
    with pytest.raises(ValueError):
        tiflash.replica_ddl(["setl"], 9)


def test_sessions_read_from_tiflash_read_only() -> None:
    assert "SET SESSION tidb_isolation_read_engines = 'tiflash,tidb'" in tiflash.SESSION_SQL
    assert "SET SESSION transaction_read_only = 1" in tiflash.SESSION_SQL
    assert "information_schema.tiflash_replica" in tiflash.PROGRESS_SQL
    assert "PROGRESS" in tiflash.PROGRESS_SQL and "AVAILABLE" in tiflash.PROGRESS_SQL


def test_every_rowstore_query_gets_the_read_from_storage_hint() -> None:
    for query in registry().values():
        sql = tiflash.hinted(query.rowstore["mysql"])
        assert sql.startswith("SELECT /*+ READ_FROM_STORAGE(TIFLASH[s, f]) */ "), query.name
        assert "{hint}" not in sql
