import os
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert, select

from yibao.runtime import Platform
from yibao.storage.engine import Backend, detect_backend
from yibao.storage.tables import fixmedins, psn, psn_insu


def _institution(conn, code: str = "H11010500001") -> None:  # type: ignore[no-untyped-def]
    now = datetime(2026, 1, 1)
    conn.execute(
        insert(fixmedins).values(
            fixmedins_code=code,
            fixmedins_name="测试医院",
            kind="hospital",
            hosp_lv="3",
            admdvs="110105",
            vali_flag="1",
            created_at=now,
            updated_at=now,
        )
    )


def test_money_round_trips_exactly(engine: Engine) -> None:
    now = datetime(2026, 1, 1)
    with engine.begin() as conn:
        conn.execute(
            insert(psn).values(
                psn_no="P1",
                psn_cert_type="01",
                certno="110101199003074514",
                psn_name="张三",
                gend="1",
                naty="01",
                brdy=datetime(1990, 3, 7).date(),
                created_at=now,
                updated_at=now,
            )
        )
        conn.execute(
            insert(psn_insu).values(
                psn_no="P1",
                insutype="310",
                psn_type="1101",
                psn_insu_stas="1",
                psn_insu_date=now.date(),
                cvlserv_flag="0",
                insuplc_admdvs="110199",
                balc=Decimal("99999999999999.99"),
                created_at=now,
                updated_at=now,
            )
        )
    with engine.connect() as conn:
        balc = conn.execute(select(psn_insu.c.balc)).scalar_one()
    assert balc == Decimal("99999999999999.99")
    assert isinstance(balc, Decimal)


def test_exact_columns_refuse_floats_and_extra_digits(engine: Engine) -> None:
    now = datetime(2026, 1, 1)
    with engine.begin() as conn:
        conn.execute(
            insert(psn).values(
                psn_no="P2",
                psn_cert_type="01",
                certno="11010119900307451X",
                psn_name="李四",
                gend="2",
                naty="01",
                brdy=datetime(1990, 3, 7).date(),
                created_at=now,
                updated_at=now,
            )
        )
    for bad in (0.5, Decimal("1.005")):
        with pytest.raises(Exception), engine.begin() as conn:  # noqa: B017 - the driver wraps it
            conn.execute(
                insert(psn_insu).values(
                    psn_no="P2",
                    insutype="310",
                    psn_type="1101",
                    psn_insu_stas="1",
                    psn_insu_date=now.date(),
                    cvlserv_flag="0",
                    insuplc_admdvs="110199",
                    balc=bad,
                    created_at=now,
                    updated_at=now,
                )
            )


def test_foreign_keys_are_enforced(engine: Engine) -> None:
    now = datetime(2026, 1, 1)
    with pytest.raises(Exception), engine.begin() as conn:  # noqa: B017
        conn.execute(
            insert(psn_insu).values(
                psn_no="NOBODY",
                insutype="310",
                psn_type="1101",
                psn_insu_stas="1",
                psn_insu_date=now.date(),
                cvlserv_flag="0",
                insuplc_admdvs="110199",
                balc=Decimal(0),
                created_at=now,
                updated_at=now,
            )
        )


def test_backend_detection(engine: Engine) -> None:
    backend = detect_backend(engine)
    assert isinstance(backend, Backend)
    assert backend.name in ("sqlite", "mysql")
    assert not backend.is_tidb


def test_sqlite_pragmas(sqlite_url: str) -> None:
    from yibao.storage.engine import make_engine

    eng = make_engine(sqlite_url)
    with eng.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar_one() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar_one() == 10000
        # SQLite's default temporary storage (a large sort may spill to a file) …
        assert conn.exec_driver_sql("PRAGMA temp_store").scalar_one() == 0
        # SQLite's own checkpoint interval unless asked
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one() == 1000
    eng.dispose()
    eng = make_engine(sqlite_url, wal_autocheckpoint=5000, temp_store_memory=True)
    with eng.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one() == 5000
        # … and in memory where asked (the group-commit writer: 2 = MEMORY)
        assert conn.exec_driver_sql("PRAGMA temp_store").scalar_one() == 2
    eng.dispose()


def _sqlite_temporary_files() -> list[str]:
    """The temporary files this process holds open (SQLite names them `etilqs_…` and unlinks
    them as it opens them, so only the open descriptors show them)."""
    found = []
    for fd in Path("/proc/self/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if "etilqs_" in target:
            found.append(target)
    return found


def test_savepoints_of_a_group_commit_write_no_temporary_file(platform: Platform) -> None:
    """Past 64 KiB, SQLite spilled the statement journal of a transaction's savepoints to a
    temporary file, created and deleted in every group commit; on the platform's writer the
    journal is in memory, and no such file is opened however much a savepoint changes."""
    seen: list[str] = []
    with platform.db.engine.connect() as conn:
        conn.exec_driver_sql("CREATE TABLE IF NOT EXISTS spill (k INTEGER PRIMARY KEY, v TEXT)")
        conn.commit()
        with conn.begin():
            for i in range(400):
                conn.exec_driver_sql("INSERT INTO spill VALUES (?, ?)", (i, "x" * 900))
        with conn.begin():
            for job in range(5):  # as the writer does: a savepoint per job
                conn.exec_driver_sql("SAVEPOINT job")
                conn.exec_driver_sql("UPDATE spill SET v = ?", (f"{job}" * 900,))  # ~400 KB
                seen.extend(_sqlite_temporary_files())
                conn.exec_driver_sql("RELEASE SAVEPOINT job")
    assert seen == []


def test_the_writer_checkpoints_by_its_setting(platform: Platform) -> None:
    with platform.db.engine.connect() as conn:
        found = conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one()
    assert found == platform.settings.sqlite_wal_autocheckpoint == 10_000
