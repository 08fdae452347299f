"""`yibao init` and `yibao db`: idempotent, one-line errors, owner-only secrets."""

import stat
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, update
from typer.testing import CliRunner

from yibao.cli.main import app
from yibao.storage.tables import agency_user

runner = CliRunner()


def test_init_twice_is_harmless_and_the_generated_password_is_owner_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "var"
    monkeypatch.setenv("YIBAO_DATA_DIR", str(data))
    first = runner.invoke(app, ["init"])
    assert first.exit_code == 0, first.output
    secret = data / "admin-password.txt"
    assert secret.exists()
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    password = secret.read_text().strip()
    # the key that seals signature-mode tokens, owner-only, kept across inits
    key = data / "gateway-token.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    sealing = key.read_bytes()
    second = runner.invoke(app, ["init"])
    assert second.exit_code == 0, second.output
    assert "已存在" in second.output
    assert secret.read_text().strip() == password
    assert key.read_bytes() == sealing
    status = runner.invoke(app, ["db", "status"])
    assert status.exit_code == 0 and "最新" in status.output


def test_admin_password_from_the_environment_is_not_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("YIBAO_DATA_DIR", str(tmp_path / "d"))
    monkeypatch.setenv("YIBAO_ADMIN_PASSWORD", "correct horse battery 9")
    result = runner.invoke(app, ["init"])
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "d" / "admin-password.txt").exists()
    assert "YIBAO_ADMIN_PASSWORD" in result.output


def test_init_creates_the_three_separated_accounts_and_migrates_admin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "t"
    monkeypatch.setenv("YIBAO_DATA_DIR", str(data))
    monkeypatch.setenv("YIBAO_SECADMIN_PASSWORD", "Security-Admin-2026")
    first = runner.invoke(app, ["init"])
    assert first.exit_code == 0, first.output
    # sysadmin and auditor generated owner-only; secadmin from its variable, said so
    for name in ("admin-password.txt", "auditor-password.txt"):
        assert stat.S_IMODE((data / name).stat().st_mode) == 0o600
        assert str(data / name) in first.output.replace("\n", "")
    assert not (data / "secadmin-password.txt").exists()
    assert "YIBAO_SECADMIN_PASSWORD" in first.output
    engine = create_engine(f"sqlite:///{data / 'yibao.db'}")
    with engine.connect() as conn:
        roles = dict(conn.execute(select(agency_user.c.username, agency_user.c.role)).all())
    assert roles == {"admin": "sysadmin", "secadmin": "secadmin", "auditor": "auditor"}
    # a data directory from before the tenancy issue: its `admin` role becomes sysadmin
    with engine.begin() as conn:
        conn.execute(
            update(agency_user).where(agency_user.c.username == "admin").values(role="admin")
        )
    again = runner.invoke(app, ["init"])
    assert again.exit_code == 0, again.output
    assert "admin → sysadmin" in again.output
    with engine.connect() as conn:
        role = conn.execute(
            select(agency_user.c.role).where(agency_user.c.username == "admin")
        ).scalar_one()
    assert role == "sysadmin"
    engine.dispose()


def test_a_weak_password_from_the_environment_is_refused_naming_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("YIBAO_DATA_DIR", str(tmp_path / "w"))
    monkeypatch.setenv("YIBAO_AUDITOR_PASSWORD", "short")
    result = runner.invoke(app, ["init"])
    assert result.exit_code != 0
    assert "YIBAO_AUDITOR_PASSWORD" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"YIBAO_DATABASE_URL": "oracle://x"}, "YIBAO_DATABASE_URL"),
        ({"YIBAO_DATABASE_URL": "mysql+pymysql://root@127.0.0.1:1/none"}, "无法连接数据库"),
        ({"YIBAO_DATA_DIR": "/proc/yibao-cannot-write"}, "数据目录"),
    ],
)
def test_bad_configuration_is_one_line_and_non_zero(
    env: dict[str, str], message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("YIBAO_DATA_DIR", str(tmp_path / "v"))
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    result = runner.invoke(app, ["init"])
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output


def test_every_command_has_help() -> None:
    for args in (
        ["--help"],
        ["init", "--help"],
        ["db", "--help"],
        ["db", "upgrade", "--help"],
        ["serve", "--help"],
        ["users", "--help"],
        ["users", "add", "--help"],
        ["users", "change", "--help"],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, (args, result.output)
        assert "Usage" in result.output
