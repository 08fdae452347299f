"""`yibao replica trim-log`: only changes the replica has applied and older than the kept
days go; what is left still carries the replica on; a rebuild then reads the tables."""

from __future__ import annotations

from decimal import Decimal

import factories
import pytest
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from yibao.cli.main import app
from yibao.config import Settings
from yibao.replica import rebuild
from yibao.replica.service import Replica
from yibao.replica.verify import verify
from yibao.storage import changelog
from yibao.storage.tables import change_log

runner = CliRunner()


@pytest.fixture
def cli_env(rs_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("YIBAO_DATA_DIR", str(rs_settings.data_dir))
    monkeypatch.setenv("YIBAO_DATABASE_URL", rs_settings.db_url)
    return rs_settings


def _seqs(engine: Engine) -> list[int]:
    with engine.connect() as conn:
        return list(conn.execute(select(change_log.c.seq).order_by(change_log.c.seq)).scalars())


def test_trim_keeps_what_the_replica_has_not_applied(
    cli_env: Settings, rs_engine: Engine, seeded: dict
) -> None:
    # no replica file yet: the log is all there is, nothing may go
    refused = runner.invoke(app, ["replica", "trim-log", "--keep-days", "0"])
    assert refused.exit_code == 1 and "no replica yet" in refused.output
    replica = Replica.open(cli_env)
    try:
        applied = replica.applier.catch_up()
    finally:
        replica.close()
    # one more change that the replica has not applied
    with rs_engine.begin() as conn:
        factories.settlement(
            conn, fixmedins_code="H11010100001", psn_no=seeded["employee"]["psn_no"],
            medfee=Decimal("7.00"),
        )  # fmt: skip
    latest = _seqs(rs_engine)[-1]
    assert latest > applied

    dry = runner.invoke(app, ["replica", "trim-log", "--keep-days", "0", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert f"{applied:,} 条" in dry.output and _seqs(rs_engine)[-1] == latest
    kept = runner.invoke(app, ["replica", "trim-log", "--keep-days", "30"])
    assert kept.exit_code == 0 and "0 条" in kept.output
    assert len(_seqs(rs_engine)) == latest

    done = runner.invoke(app, ["replica", "trim-log", "--keep-days", "0"])
    assert done.exit_code == 0, done.output
    assert _seqs(rs_engine) == list(range(applied + 1, latest + 1))
    assert rebuild.choose_source(rs_engine) == "tables"

    replica = Replica.open(cli_env)
    try:
        assert replica.applier.catch_up() == latest
        report = verify(replica.store, replica.source, replica.applier.catch_up)
        assert report.ok, [c.as_dict() for c in report.checks if not c.ok]
        assert replica.rebuild().source == "tables"
        report = verify(replica.store, replica.source, replica.applier.catch_up)
        assert report.ok, [c.as_dict() for c in report.checks if not c.ok]
    finally:
        replica.close()


def test_trim_deletes_in_batches(rs_engine: Engine, seeded: dict) -> None:
    with rs_engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(change_log)).scalar_one()
    assert total > 3
    with rs_engine.begin() as conn:
        assert changelog.trim(conn, upto_seq=10**9, before_ms=2**62, limit=2) == 2
    assert _seqs(rs_engine)[0] == 3
    with rs_engine.begin() as conn:
        assert changelog.trim(conn, upto_seq=3, before_ms=2**62, limit=100) == 1
        assert changelog.trim(conn, upto_seq=3, before_ms=2**62, limit=100) == 0
    assert len(_seqs(rs_engine)) == total - 3


def test_negative_keep_days_is_refused(cli_env: Settings) -> None:
    result = runner.invoke(app, ["replica", "trim-log", "--keep-days", "-1"])
    assert result.exit_code == 2 and "keep-days" in result.output
