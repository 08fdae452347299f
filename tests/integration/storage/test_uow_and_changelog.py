from datetime import datetime

import pytest
from sqlalchemy import Engine, func, insert, select
from sqlalchemy.exc import OperationalError

from yibao.storage import changelog
from yibao.storage.tables import change_log, fixmedins
from yibao.storage.uow import UnitOfWork, is_transient, run_transaction

NOW = datetime(2026, 1, 1)


def _row(code: str) -> dict[str, object]:
    return dict(
        fixmedins_code=code,
        fixmedins_name="机构",
        kind="clinic",
        hosp_lv="1",
        admdvs="110105",
        vali_flag="1",
        created_at=NOW,
        updated_at=NOW,
    )


def _count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(fixmedins)).scalar_one())


def test_unit_of_work_rolls_back_unless_committed(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        uow.conn.execute(insert(fixmedins).values(**_row("H11010500001")))
    assert _count(engine) == 0
    with UnitOfWork(engine) as uow:
        uow.conn.execute(insert(fixmedins).values(**_row("H11010500001")))
        uow.commit()
    assert _count(engine) == 1


def test_unit_of_work_rolls_back_on_error(engine: Engine) -> None:
    with pytest.raises(RuntimeError), UnitOfWork(engine) as uow:
        uow.conn.execute(insert(fixmedins).values(**_row("H11010500002")))
        raise RuntimeError("boom")
    assert _count(engine) == 0


class _Busy(Exception):
    pass


def test_run_transaction_retries_the_whole_transaction_on_transient_errors(engine: Engine) -> None:
    attempts = {"n": 0}

    def work(conn):  # type: ignore[no-untyped-def]
        attempts["n"] += 1
        conn.execute(insert(fixmedins).values(**_row(f"H1101050000{attempts['n']}")))
        if attempts["n"] < 3:
            raise OperationalError("INSERT", {}, _Busy("database is locked"))
        return "done"

    assert run_transaction(engine, work, base_delay=0.0) == "done"
    assert attempts["n"] == 3
    assert _count(engine) == 1  # the two failed attempts left nothing behind


@pytest.mark.parametrize(
    ("code", "transient"),
    [(1213, True), (9007, True), (8002, True), (8022, True), (8028, True), (1062, False)],
)
def test_transient_mysql_and_tidb_codes(code: int, transient: bool) -> None:
    class FakeMySQLError(Exception):
        pass

    exc = OperationalError("stmt", {}, FakeMySQLError(code, "message"))
    assert is_transient(exc) is transient


def test_non_transient_errors_are_not_retried(engine: Engine) -> None:
    calls = {"n": 0}

    def work(conn):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        raise ValueError("bad input")

    with pytest.raises(ValueError):
        run_transaction(engine, work)
    assert calls["n"] == 1


def test_change_log_seq_is_monotonic_and_written_in_the_same_transaction(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        seqs = changelog.append_many(
            uow.conn,
            [("fixmedins", "A", {"x": 1}, "upsert"), ("fixmedins", "B", {"x": 2}, "upsert")],
        )
        # not committed: rolled back together with the change
    with engine.connect() as conn:
        assert changelog.latest_seq(conn) == 0
    with UnitOfWork(engine) as uow:
        first = changelog.append_many(
            uow.conn,
            [("fixmedins", "A", {"x": 1}, "upsert"), ("fixmedins", "B", {"x": 2}, "upsert")],
        )
        second = changelog.append(uow.conn, "setl", "S1", {"medfee_sumamt": 100})
        uow.commit()
    assert seqs == [1, 2]
    assert first == [1, 2] and second == 3
    with engine.connect() as conn:
        rows = changelog.read_after(conn, 1, 10)
        assert [r["seq"] for r in rows] == [2, 3]
        assert changelog.decode(rows[1]["payload"]) == {"medfee_sumamt": 100}
        assert conn.execute(select(func.count()).select_from(change_log)).scalar_one() == 3


def test_reservations_follow_each_other_without_a_hole(engine: Engine) -> None:
    """On the MySQL protocol the counter's new value comes back with the bump itself
    (`LAST_INSERT_ID(expr)`); reservations stay consecutive, and the counter ends at the last."""
    with UnitOfWork(engine) as uow:
        a = changelog.reserve(uow.conn, 3)
        b = changelog.reserve(uow.conn, 1)
        c = changelog.reserve(uow.conn, 5)
        uow.commit()
    with UnitOfWork(engine) as uow:
        d = changelog.reserve(uow.conn, 2)
        uow.commit()
    assert [a, b, c, d] == [1, 4, 5, 10]
    with UnitOfWork(engine) as uow:
        e = changelog.reserve(uow.conn, 4)
        # not committed: the next transaction gets the same seqs
    with UnitOfWork(engine) as uow:
        f = changelog.reserve(uow.conn, 1)
        uow.commit()
    assert e == f == 12
