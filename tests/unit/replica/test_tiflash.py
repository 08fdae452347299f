"""The TiFlash adapter's SQL, as text (no TiDB here: reference/htap.md §2.3)."""

from __future__ import annotations

import re

import pytest

from yibao.analytics.registry import registry
from yibao.replica import tiflash


def test_replica_ddl_covers_the_analytic_tables_without_personal_data() -> None:
    # issue 17: TiFlash replicas on pseudonymised (an_setl) or impersonal tables alone
    assert tiflash.replica_ddl() == [
        "ALTER TABLE `an_setl` SET TIFLASH REPLICA 1",
        "ALTER TABLE `fixmedins` SET TIFLASH REPLICA 1",
    ]
    for personal in ("psn", "setl", "mdtrt"):
        assert personal not in tiflash.ANALYTIC_TABLES
    assert tiflash.replica_ddl(tiflash.PERSONAL_TABLES, 0) == [
        "ALTER TABLE `setl` SET TIFLASH REPLICA 0",
        "ALTER TABLE `mdtrt` SET TIFLASH REPLICA 0",
    ]


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


def test_every_analytic_query_on_tidb_reads_only_pseudonymised_tables() -> None:
    for query in registry().values():
        sql = tiflash.hinted(query.rowstore["mysql"])
        tables = set(re.findall(r"\b(?:FROM|JOIN)\s+(\w+)", sql))
        assert tables <= {"an_setl", "fixmedins"}, (query.name, tables)
        assert "psn_no" not in sql and "certno" not in sql, query.name
    summary = tiflash.hinted(registry()["summary"].rowstore["mysql"])
    assert "COUNT(DISTINCT CASE" in summary and "s.psn_ref" in summary


def test_sql_still_reading_personal_data_is_refused() -> None:
    with pytest.raises(ValueError):
        tiflash.pseudonymised("SELECT s.certno FROM an_setl s")
    with pytest.raises(ValueError):
        tiflash.pseudonymised("SELECT 1 FROM setl  s")
