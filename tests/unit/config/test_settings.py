from pathlib import Path

import pytest

from yibao.config import load_settings
from yibao.errors import ConfigError


def test_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    s = load_settings()
    assert s.data_dir == Path("./var")
    assert s.db_url == f"sqlite:///{(tmp_path / 'var' / 'yibao.db').resolve()}"
    assert s.timezone == "Asia/Shanghai"
    assert s.sqlite_synchronous == "FULL"
    assert s.sqlite_wal_autocheckpoint == 10_000
    assert s.duckdb_threads == 1


def test_environment_overrides_the_toml_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "yibao.toml").write_text('port = 9001\ntimezone = "UTC"\n', encoding="utf-8")
    monkeypatch.setenv("YIBAO_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("YIBAO_PORT", "9002")
    s = load_settings()
    assert s.port == 9002
    assert s.timezone == "UTC"
    assert s.data_dir == tmp_path


def test_malformed_database_url_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YIBAO_DATABASE_URL", "postgres://x")
    with pytest.raises(ConfigError, match="YIBAO_DATABASE_URL"):
        load_settings()


def test_unreadable_toml_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "yibao.toml").write_text("port = = 1", encoding="utf-8")
    monkeypatch.setenv("YIBAO_DATA_DIR", str(tmp_path))
    with pytest.raises(ConfigError, match=r"yibao\.toml"):
        load_settings()
