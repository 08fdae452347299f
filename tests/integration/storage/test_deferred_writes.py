"""Writes that travel with the transaction's next round trip (`storage.deferred`).

On either store a deferred write behaves as an immediate one for everything a caller can see:
a later read in the transaction sees it, the commit keeps it, a rollback drops it, and its
error fails the transaction. On the MySQL protocol it is really deferred (kept on the
connection until the next statement or the COMMIT); on SQLite, and on a MySQL engine made
without multi-statements, it runs at once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
from sqlalchemy import Connection, Engine, bindparam, func, insert, select
from sqlalchemy.exc import DBAPIError, IntegrityError

from yibao.storage import changelog, deferred
from yibao.storage.engine import make_engine
from yibao.storage.prepared import Prepared
from yibao.storage.tables import change_log, fixmedins, seq_counter
from yibao.storage.uow import UnitOfWork

NOW = datetime(2026, 1, 1)
_ADD = Prepared(
    insert(fixmedins),
    keys=(
        "fixmedins_code",
        "fixmedins_name",
        "kind",
        "hosp_lv",
        "admdvs",
        "vali_flag",
        "created_at",
        "updated_at",
    ),
)
_NAME = Prepared(
    select(fixmedins.c.fixmedins_name).where(fixmedins.c.fixmedins_code == bindparam("code"))
)


def _row(code: str, name: str = "机构 100% 'quoted'; --") -> dict[str, object]:
    # a name with a quote, a percent sign and a statement separator: rendered by the driver's
    # escaping, never read as SQL
    return dict(
        fixmedins_code=code,
        fixmedins_name=name,
        kind="clinic",
        hosp_lv="1",
        admdvs="110105",
        vali_flag="1",
        created_at=NOW,
        updated_at=NOW,
    )


def _codes(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return sorted(conn.execute(select(fixmedins.c.fixmedins_code)).scalars())


def _pending(conn: Connection) -> list[bytes]:
    return list(getattr(conn.connection.dbapi_connection, "_yibao_deferred", None) or [])


def test_a_deferred_write_is_seen_by_the_next_read_and_kept_by_the_commit(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        _ADD.later(uow.conn, [_row("H11010500001")])
        if engine.dialect.name != "sqlite":
            assert len(_pending(uow.conn)) == 1  # not sent yet
        # a driver-level read carries it in its own request; a Core read sends it first
        assert _NAME.first(uow.conn, {"code": "H11010500001"}) == {
            "fixmedins_name": "机构 100% 'quoted'; --"
        }
        _ADD.later(uow.conn, [_row("H11010500002"), _row("H11010500003")])
        assert uow.conn.execute(select(func.count()).select_from(fixmedins)).scalar_one() == 3
        _ADD.later(uow.conn, [_row("H11010500004")])
        uow.commit()  # carries the last one
        assert _pending(uow.conn) == []
    assert _codes(engine) == [f"H1101050000{i}" for i in range(1, 5)]


def test_a_rollback_drops_what_is_pending_and_the_next_transaction_starts_clean(
    engine: Engine,
) -> None:
    with UnitOfWork(engine) as uow:
        _ADD.later(uow.conn, [_row("H11010500001")])
        # no commit: rolled back with what is pending
    with UnitOfWork(engine) as uow:
        assert _pending(uow.conn) == []
        _ADD.later(uow.conn, [_row("H11010500002")])
        uow.commit()
    assert _codes(engine) == ["H11010500002"]


def test_an_error_of_a_deferred_write_fails_the_commit_and_rolls_everything_back(
    engine: Engine,
) -> None:
    with UnitOfWork(engine) as uow:
        _ADD.execute(uow.conn, _row("H11010500001"))
        uow.commit()
    with pytest.raises(IntegrityError), UnitOfWork(engine) as uow:
        _ADD.execute(uow.conn, _row("H11010500002"))  # immediate
        _ADD.later(uow.conn, [_row("H11010500001")])  # a duplicate key, deferred
        uow.commit()
    assert _codes(engine) == ["H11010500001"]  # the immediate insert went with it
    with UnitOfWork(engine) as uow:  # the pool's connections are fine afterwards
        _ADD.later(uow.conn, [_row("H11010500003")])
        uow.commit()
    assert _codes(engine) == ["H11010500001", "H11010500003"]


def test_an_error_of_a_deferred_write_is_raised_by_the_statement_that_carries_it(
    engine: Engine,
) -> None:
    with UnitOfWork(engine) as uow:
        _ADD.execute(uow.conn, _row("H11010500001"))
        uow.commit()
    for read in (
        lambda conn: _NAME.first(conn, {"code": "H11010500001"}),
        lambda conn: conn.execute(select(fixmedins.c.fixmedins_code)).all(),
    ):
        with pytest.raises(DBAPIError) as caught, UnitOfWork(engine) as uow:
            _ADD.later(uow.conn, [_row("H11010500001")])
            read(uow.conn)
        assert isinstance(caught.value, IntegrityError)
    assert _codes(engine) == ["H11010500001"]


def _log(engine: Engine) -> tuple[list[int], int]:
    with engine.connect() as conn:
        seqs = list(conn.execute(select(change_log.c.seq).order_by(change_log.c.seq)).scalars())
        counter = conn.execute(
            select(seq_counter.c.last_value).where(seq_counter.c.name == changelog.COUNTER)
        ).scalar_one_or_none()
    return seqs, int(counter or 0)


def test_deferred_change_log_rows_take_consecutive_seqs_with_the_immediate_ones(
    engine: Engine,
) -> None:
    """The counter row need not exist yet; deferred and immediate appends interleave in one
    transaction and across transactions without a hole, and the counter ends at the last."""
    with UnitOfWork(engine) as uow:
        changelog.append_later(uow.conn, [("setl", "S1", {"a": 1}, "insert")])
        changelog.append_later(
            uow.conn, [("setl", "S2", {"a": 2}, "insert"), ("fee", "S2", {"b": "%s"}, "insert")]
        )
        assert changelog.append_many(uow.conn, [("mdtrt", "V1", {}, "upsert")]) == [4]
        changelog.append_later(uow.conn, [("mdtrt", "V2", {}, "insert")])
        uow.commit()
    with UnitOfWork(engine) as uow:
        changelog.append_later(uow.conn, [("setl", "S3", {}, "insert")])
        uow.commit()
    seqs, counter = _log(engine)
    assert seqs == [1, 2, 3, 4, 5, 6] and counter == 6
    with engine.connect() as conn:
        rows = conn.execute(
            select(change_log.c.seq, change_log.c.entity_key, change_log.c.payload).order_by(
                change_log.c.seq
            )
        ).all()
    assert [(r.seq, r.entity_key) for r in rows] == [
        (1, "S1"),
        (2, "S2"),
        (3, "S2"),
        (4, "V1"),
        (5, "V2"),
        (6, "S3"),
    ]
    assert rows[2].payload == '{"b":"%s"}'


@pytest.fixture
def plain_mysql(mysql_migrated: str) -> Iterator[Engine]:
    """A MySQL-protocol engine made without multi-statements."""
    engine = make_engine(mysql_migrated, mysql_multi_statements=False)
    with engine.begin() as conn:
        conn.execute(fixmedins.delete())
    yield engine
    engine.dispose()


@pytest.mark.mysql
def test_without_multi_statements_a_deferred_write_runs_at_once(plain_mysql: Engine) -> None:
    with UnitOfWork(plain_mysql) as uow:
        assert not deferred.accepts(uow.conn)
        _ADD.later(uow.conn, [_row("H11010500001"), _row("H11010500002")])
        assert _pending(uow.conn) == []
        uow.commit()
    assert _codes(plain_mysql) == ["H11010500001", "H11010500002"]


def test_sqlite_runs_deferred_writes_at_once(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    try:
        with UnitOfWork(engine) as uow:
            assert not deferred.accepts(uow.conn)
            _ADD.later(uow.conn, [_row("H11010500001")])
            uow.commit()
        assert _codes(engine) == ["H11010500001"]
    finally:
        engine.dispose()


@pytest.mark.mysql
def test_a_call_read_on_the_mysql_protocol_needs_no_rollback(mysql_migrated: str) -> None:
    """`Database.call_read`: each statement its own transaction (autocommit), so closing the
    read sends no ROLLBACK, and a write committed meanwhile is seen by the next statement."""
    from yibao.config import load_settings
    from yibao.storage.database import Database

    db = Database(load_settings(database_url=mysql_migrated), check=False)
    try:
        with db.engine.begin() as conn:
            conn.execute(fixmedins.delete())

        def rollbacks(conn: Connection) -> int:
            row = conn.exec_driver_sql("SHOW SESSION STATUS LIKE 'Com_rollback'").one()
            return int(row[1])

        with db.call_read() as conn:
            before = rollbacks(conn)
            assert _NAME.first(conn, {"code": "H11010500001"}) is None
            with UnitOfWork(db.engine) as uow:
                _ADD.execute(uow.conn, _row("H11010500001"))
                uow.commit()
            assert _NAME.first(conn, {"code": "H11010500001"}) is not None
        with db.call_read() as conn:  # the same pooled connection: its session's counters
            assert rollbacks(conn) == before
            assert conn.exec_driver_sql("SELECT @@in_transaction").scalar_one() == 0
    finally:
        db.close()


@pytest.mark.mysql
@pytest.mark.parametrize("many", [False, True])
def test_a_lost_connection_is_raised_as_the_statements_error_not_the_cursors_close(
    mysql_migrated: str, monkeypatch: pytest.MonkeyPatch, many: bool
) -> None:
    """When the server goes away mid-statement, closing the cursor fails as well; the error
    raised is still the statement's, wrapped (so the pool is invalidated and the call answered
    "unavailable"), never the close's raw driver error."""
    engine = make_engine(mysql_migrated)
    try:
        with engine.connect() as conn:
            raw = conn.connection.dbapi_connection
            dbapi = conn.dialect.loaded_dbapi
            cursor_class = type(raw.cursor())

            def lost(*_args: object, **_kw: object) -> None:
                raise dbapi.OperationalError(2013, "Lost connection to server during query")

            def gone(*_args: object, **_kw: object) -> None:
                raise dbapi.OperationalError(2006, "Server has gone away")

            monkeypatch.setattr(cursor_class, "executemany" if many else "execute", lost)
            monkeypatch.setattr(cursor_class, "close", gone)
            with pytest.raises(DBAPIError) as raised:
                if many:
                    _ADD.executemany(conn, [_row("H11010500001"), _row("H11010500002")])
                else:
                    _NAME.first(conn, {"code": "H11010500001"})
            assert raised.value.orig.args[0] == 2013
            monkeypatch.undo()
    finally:
        engine.dispose()
