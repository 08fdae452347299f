"""`yibao export parquet`: the replica's rows as Parquet any engine reads, fact tables
partitioned by day, the date range honoured, bad requests refused before anything is written."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from yibao.cli.main import app
from yibao.config import Settings
from yibao.errors import InvalidInput
from yibao.replica.service import Replica

runner = CliRunner()


@pytest.fixture
def cli_env(rs_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("YIBAO_DATA_DIR", str(rs_settings.data_dir))
    monkeypatch.setenv("YIBAO_DATABASE_URL", rs_settings.db_url)
    return rs_settings


def _read(path: Path) -> list[tuple[object, ...]]:
    con = duckdb.connect()
    try:
        return con.execute(
            f"SELECT setl_id, setl_date, medfee_sumamt FROM read_parquet('{path}/**/*.parquet', "
            "hive_partitioning = true) ORDER BY setl_id"
        ).fetchall()
    finally:
        con.close()


def test_fact_table_partitioned_by_day_and_equal_to_the_replica(
    replica: Replica, seeded: dict, tmp_path: Path
) -> None:
    replica.applier.catch_up()
    out = tmp_path / "lake"
    report = replica.export_parquet(table="setl_fact", out_dir=out)
    _, _, expected = replica.store.query(
        "SELECT setl_id, setl_date, medfee_sumamt FROM setl_fact ORDER BY setl_id"
    )
    assert report.rows == len(expected) == 4  # three settlements and one reversal
    days = sorted(p.name for p in (out / "setl_fact").iterdir())
    assert days == sorted({f"setl_date={row[1].isoformat()}" for row in expected})
    assert [(r[0], str(r[1]), r[2]) for r in _read(out / "setl_fact")] == [
        (r[0], str(r[1]), r[2]) for r in expected
    ]


def test_date_range_and_dimension_tables(replica: Replica, seeded: dict, tmp_path: Path) -> None:
    replica.applier.catch_up()
    june = replica.export_parquet(
        table="setl_fact", out_dir=tmp_path / "june", since="2024-06-01", until="2024-06-30"
    )
    assert june.rows == 3  # the May settlement stays out
    assert all("2024-06" in p.name for p in (tmp_path / "june" / "setl_fact").iterdir())
    dim = replica.export_parquet(table="fixmedins_dim", out_dir=tmp_path / "dims")
    assert dim.rows == 2 and dim.files == 1 and dim.partitioned_by is None


@pytest.mark.parametrize(
    ("table", "since", "until", "field"),
    [
        ("no_such", None, None, "table"),
        ("setl_fact", "2024-13-01", None, "since"),
        ("setl_fact", "2024-06-30", "2024-06-01", "since/until"),
        ("fixmedins_dim", "2024-06-01", None, "since/until"),
        ("replica_meta", None, None, "table"),
    ],
)
def test_bad_requests_name_the_field_and_write_nothing(
    replica: Replica, tmp_path: Path, table: str, since: str | None, until: str | None, field: str
) -> None:
    out = tmp_path / "nothing"
    with pytest.raises(InvalidInput) as refused:
        replica.export_parquet(table=table, out_dir=out, since=since, until=until)
    assert str(refused.value).startswith(field + ":")
    assert not out.exists()


def test_the_command_offline_and_its_list(cli_env: Settings, seeded: dict, tmp_path: Path) -> None:
    listed = runner.invoke(app, ["export", "parquet", "--list"])
    assert listed.exit_code == 0 and "setl_fact" in listed.output and "setl_date" in listed.output
    out = tmp_path / "cli"
    done = runner.invoke(
        app, ["export", "parquet", "--table", "setl_fact", "--out", str(out), "--json"]
    )
    assert done.exit_code == 0, done.output
    assert len(_read(out / "setl_fact")) == 4
    bad = runner.invoke(app, ["export", "parquet", "--table", "setl_fact", "--out", str(out),
                              "--since", "yesterday"])  # fmt: skip
    assert bad.exit_code != 0 and "since" in bad.output
