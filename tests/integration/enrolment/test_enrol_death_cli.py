"""`yibao enrol person death`: records, corrects and clears a date of death, audited; a bad
date or a missing argument is one clear line and writes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from yibao.cli.enrol import app
from yibao.config import Settings
from yibao.storage import changelog
from yibao.storage.engine import make_null_engine
from yibao.storage.tables import audit_log, change_log, psn

runner = CliRunner()


@pytest.fixture
def psn_no(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("YIBAO_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("YIBAO_DATABASE_URL", settings.db_url)
    added = runner.invoke(
        app,
        ["person", "add", "--certno", "110101199003074514", "--name", "张三",
         "--insutype", "310", "--psn-type", "1101", "--admdvs", "110199"],
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    return added.output.split()[-1]


def _stored(settings: Settings) -> tuple[object, int]:
    engine = make_null_engine(settings.db_url)
    with engine.connect() as conn:
        death = conn.execute(select(psn.c.death_date)).scalar_one()
        audits = len(conn.execute(select(audit_log).where(audit_log.c.action == "psn.death")).all())
    engine.dispose()
    return death, audits


def _fed(settings: Settings) -> object:
    """The date of death the replica was last told of (the person's latest `psn` payload)."""
    engine = make_null_engine(settings.db_url)
    with engine.connect() as conn:
        raw = conn.execute(
            select(change_log.c.payload)
            .where(change_log.c.entity == "psn")
            .order_by(change_log.c.seq.desc())
            .limit(1)
        ).scalar_one()
    engine.dispose()
    return changelog.decode(raw)["death_date"]


def test_death_recorded_then_cleared(psn_no: str, settings: Settings) -> None:
    done = runner.invoke(app, ["person", "death", psn_no, "2024-05-01"])
    assert done.exit_code == 0, done.output
    assert "2024-05-01" in done.output
    death, audits = _stored(settings)
    assert str(death) == "2024-05-01" and audits == 1
    assert _fed(settings) == "2024-05-01"  # on to the replica's psn_dim (post-hoc card_misuse)
    cleared = runner.invoke(app, ["person", "death", psn_no, "--clear"])
    assert cleared.exit_code == 0, cleared.output
    assert _stored(settings) == (None, 2)
    assert _fed(settings) is None


@pytest.mark.parametrize(
    "args,needle",
    [
        (["2999-01-01"], "death_date"),
        (["1980-01-01"], "death_date"),
        (["2024-13-01"], "yyyy-MM-dd"),
        ([], "--clear"),
        (["2024-05-01", "--clear"], "--clear"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(
    psn_no: str, settings: Settings, args: list[str], needle: str
) -> None:
    bad = runner.invoke(app, ["person", "death", psn_no, *args])
    assert bad.exit_code != 0 and needle in bad.output, bad.output
    assert "Traceback" not in bad.output
    assert _stored(settings) == (None, 0)
