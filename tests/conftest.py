"""Shared fixtures.

- `settings` — Settings for a fresh data directory in tmp_path (SQLite).
- `engine` / `db_url` — a migrated row store; parametrised over SQLite and, with the marker
  `mysql`, the MySQL-protocol server named by YIBAO_TEST_MYSQL_URL (CI always sets it; without
  it those cases skip with a message saying how to run them, and under CI=true they fail).
- `platform` — an opened Platform on a migrated SQLite data directory.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from yibao.config import Settings, load_settings
from yibao.runtime import Platform, open_platform
from yibao.storage.engine import make_engine, make_null_engine
from yibao.storage.migrate import upgrade
from yibao.storage.tables import metadata

MYSQL_ENV = "YIBAO_TEST_MYSQL_URL"
MYSQL_HOWTO = (
    f"{MYSQL_ENV} is not set: run the MySQL-protocol tests with "
    f"{MYSQL_ENV}=mysql+pymysql://root@127.0.0.1:3306/test (a database that may be emptied); "
    "`bash .ci/run` sets it up"
)


def mysql_url_or_skip() -> str:
    url = os.environ.get(MYSQL_ENV)
    if not url:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but {MYSQL_ENV} is not set: a mysql test must not skip in CI")
        pytest.skip(MYSQL_HOWTO)
    return url


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("YIBAO_") and name != MYSQL_ENV:
            monkeypatch.delenv(name)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once per session; tests copy it (migrations run per session)."""
    path = tmp_path_factory.mktemp("template") / "yibao.db"
    engine = make_null_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def mysql_migrated() -> Iterator[str]:
    url = mysql_url_or_skip()
    engine = make_null_engine(url)
    with engine.begin() as conn:
        # Start from an empty database: drop what an earlier run left behind.
        conn.exec_driver_sql("SET FOREIGN_KEY_CHECKS=0")
        for (name,) in conn.exec_driver_sql("SHOW TABLES").fetchall():
            conn.exec_driver_sql(f"DROP TABLE `{name}`")
        conn.exec_driver_sql("SET FOREIGN_KEY_CHECKS=1")
    upgrade(engine)
    engine.dispose()
    yield url


def _truncate_mysql(url: str) -> None:
    engine = make_null_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("SET FOREIGN_KEY_CHECKS=0")
        for table in metadata.sorted_tables:
            conn.execute(text(f"DELETE FROM `{table.name}`"))
        conn.exec_driver_sql("SET FOREIGN_KEY_CHECKS=1")
    engine.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    target = tmp_path / "data" / "yibao.db"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(sqlite_template, target)
    return f"sqlite:///{target}"


@pytest.fixture
def mysql_empty(mysql_migrated: str) -> str:
    """The migrated MySQL-protocol test store, emptied (other tests of the session wrote to it)."""
    _truncate_mysql(mysql_migrated)
    return mysql_migrated


@pytest.fixture(params=["sqlite", pytest.param("mysql", marks=pytest.mark.mysql)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    """A migrated, empty row store: SQLite, and MariaDB/MySQL under the `mysql` marker."""
    if request.param == "sqlite":
        url: str = request.getfixturevalue("sqlite_url")
        return url
    url = request.getfixturevalue("mysql_migrated")
    _truncate_mysql(url)
    return url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def settings(tmp_path: Path, sqlite_url: str) -> Settings:
    data_dir = tmp_path / "data"
    return load_settings(data_dir=data_dir, database_url=sqlite_url)


@pytest.fixture
def platform(settings: Settings) -> Iterator[Platform]:
    plat = open_platform(settings)
    yield plat
    plat.close()
