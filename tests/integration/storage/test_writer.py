"""The write path: group commit on SQLite (a failing job rolls back alone), parallel
transactions on the MySQL protocol."""

import threading
from datetime import datetime

from sqlalchemy import Engine, func, insert, select

from yibao.storage.tables import fixmedins
from yibao.storage.writer import Writer

NOW = datetime(2026, 1, 1)


def _insert(code: str):  # type: ignore[no-untyped-def]
    def job(conn):  # type: ignore[no-untyped-def]
        conn.execute(
            insert(fixmedins).values(
                fixmedins_code=code,
                fixmedins_name="机构",
                kind="clinic",
                hosp_lv="1",
                admdvs="110105",
                vali_flag="1",
                created_at=NOW,
                updated_at=NOW,
            )
        )
        return code

    return job


def _failing(conn):  # type: ignore[no-untyped-def]
    conn.execute(
        insert(fixmedins).values(
            fixmedins_code="H11010599999",
            fixmedins_name="坏",
            kind="clinic",
            hosp_lv="1",
            admdvs="110105",
            vali_flag="1",
            created_at=NOW,
            updated_at=NOW,
        )
    )
    raise ValueError("refused")


def test_a_failing_job_rolls_back_alone_and_its_neighbours_commit(
    engine: Engine, db_url: str
) -> None:
    writer = Writer(engine, group_commit=db_url.startswith("sqlite"))
    gate = threading.Event()
    try:
        if db_url.startswith("sqlite"):
            # Hold the writer on a first job so the next three land in one batch.
            writer.submit(lambda conn: gate.wait(5))
        futures = [
            writer.submit(_insert("H11010500001")),
            writer.submit(_failing),
            writer.submit(_insert("H11010500002")),
        ]
        gate.set()
        assert futures[0].result(10) == "H11010500001"
        assert isinstance(futures[1].exception(10), ValueError)
        assert futures[2].result(10) == "H11010500002"
    finally:
        writer.stop()
    with engine.connect() as conn:
        codes = set(conn.execute(select(fixmedins.c.fixmedins_code)).scalars())
    assert codes == {"H11010500001", "H11010500002"}


def test_group_commit_batches_many_jobs_into_few_commits(sqlite_url: str) -> None:
    from yibao.storage.engine import make_engine

    engine = make_engine(sqlite_url)
    writer = Writer(engine, group_commit=True, batch_max=64)
    gate = threading.Event()
    writer.submit(lambda conn: gate.wait(5))
    futures = [writer.submit(_insert(f"H110105{i:05d}")) for i in range(200)]
    gate.set()
    for f in futures:
        f.result(10)
    writer.stop()
    assert writer.jobs == 201
    assert writer.commits <= 6  # 1 + ceil(200/64)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(fixmedins)).scalar_one() == 200
    engine.dispose()


def test_on_commit_listeners_run_after_commit(engine: Engine, db_url: str) -> None:
    writer = Writer(engine, group_commit=db_url.startswith("sqlite"))
    seen: list[int] = []
    writer.on_commit(lambda: seen.append(1))
    writer.run_sync(_insert("H11010500003"))
    writer.stop()
    assert seen
