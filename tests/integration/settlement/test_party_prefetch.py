"""A settlement's person rows in one request (`settlement.repo.prefetch_party`, MySQL protocol):
inside a transaction's row cache the person, the insurance (under its row lock), the
identities and the year's totals are read together; the readers then answer from the cache
exactly what they would read, a write in the transaction evicts, and the lock is held."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from settle_factories import Person, seed_person
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import OperationalError

from yibao.settlement import repo
from yibao.storage import row_cache
from yibao.storage.engine import make_engine
from yibao.storage.uow import UnitOfWork

AT = datetime(2026, 3, 1, 9, 0)
PERSON = Person("P0001", "110101199003074514", identities=[("21", datetime(2020, 1, 1))])


def _party(conn: Connection) -> tuple[object, ...]:
    return (
        repo.person(conn, "P0001"),
        repo.insurance(conn, "P0001", "310", lock=True),
        repo.identities(conn, "P0001"),
        repo.accumulators_of_year(conn, "P0001", 2026),
    )


def _seed(engine: Engine) -> None:
    with engine.begin() as conn:
        seed_person(conn, PERSON)
        repo.add_to_accumulators(conn, "P0001", 2026, [("310:otp.dedc_used", Decimal("12.00"))], AT)


def test_the_readers_answer_the_same_with_or_without_the_prefetch(engine: Engine) -> None:
    _seed(engine)
    with UnitOfWork(engine) as uow:
        plain = _party(uow.conn)
    with UnitOfWork(engine) as uow, row_cache.for_transaction(uow.conn) as cache:
        repo.prefetch_party(uow.conn, "P0001", "310", lock=True, year=2026)
        if engine.dialect.name != "sqlite":  # one request filled the cache
            assert len(cache) == 4 and cache.hits == 0
        assert _party(uow.conn) == plain
        if engine.dialect.name != "sqlite":
            assert cache.hits == 4 and cache.misses == 0


def test_a_write_in_the_transaction_evicts_what_was_prefetched(engine: Engine) -> None:
    _seed(engine)
    with UnitOfWork(engine) as uow, row_cache.for_transaction(uow.conn):
        repo.prefetch_party(uow.conn, "P0001", "310", lock=True, year=2026)
        repo.set_balance(uow.conn, "P0001", "310", Decimal("480.00"), AT)
        repo.add_to_accumulators(
            uow.conn, "P0001", 2026, [("310:otp.dedc_used", Decimal("1.50"))], AT
        )
        assert repo.insurance(uow.conn, "P0001", "310", lock=True)["balc"] == Decimal("480.00")
        assert repo.accumulators_of_year(uow.conn, "P0001", 2026) == [
            {"acc_key": "310:otp.dedc_used", "amount": Decimal("13.50")}
        ]


@pytest.mark.mysql
def test_the_prefetch_takes_the_insurance_row_lock(mysql_migrated: str) -> None:
    engine = make_engine(mysql_migrated)
    try:
        with engine.begin() as conn:
            for table in ("psn_accum", "psn_idet", "psn_insu", "psn"):
                conn.execute(text(f"DELETE FROM {table}"))
        _seed(engine)
        lock = text("SELECT balc FROM psn_insu WHERE psn_no = 'P0001' FOR UPDATE NOWAIT")
        with UnitOfWork(engine) as uow, row_cache.for_transaction(uow.conn):
            repo.prefetch_party(uow.conn, "P0001", "310", lock=True, year=2026)
            with engine.connect() as conn, pytest.raises(OperationalError):
                conn.execute(lock)  # another connection: the row is locked
        with engine.connect() as conn:  # released with the transaction
            conn.execute(lock)
    finally:
        engine.dispose()
