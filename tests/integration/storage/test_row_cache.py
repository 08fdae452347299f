"""The SQLite writer's row cache (`storage.row_cache`): the person, insurance and identity rows
of a flow read once, and never an answer the store would not give — after a write through
the writer, another connection's commit, a job rolled back, a textual write."""

from __future__ import annotations

import asyncio
import contextlib
import re
import sqlite3
import sys
import threading
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, text, update
from sqlalchemy.exc import OperationalError

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "settlement"))

from settle_factories import (
    HOSP,
    CountedStatement,
    Person,
    registered_visit,
    seed_institution,
    seed_person,
)

from yibao.enrolment.repo import persons as enrolment_persons
from yibao.runtime import Platform
from yibao.settlement import repo
from yibao.settlement.repo import accumulators as accumulators_repo
from yibao.settlement.repo import persons as persons_repo
from yibao.settlement.repo import visits as visits_repo
from yibao.storage import row_cache
from yibao.storage.engine import make_engine
from yibao.storage.tables import mdtrt, psn, psn_insu

AT = datetime(2026, 3, 1, 9, 0)


@pytest.fixture
def person(platform: Platform) -> Iterator[str]:
    with platform.db.engine.begin() as conn:
        seed_person(conn, Person("P0001", "110101199003074514"))
    yield "P0001"


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The person and insurance statements that reached the store."""
    seen: list[str] = []
    for name in ("_P_PERSON", "_P_INSU", "_P_INSURANCES", "_P_IDENTITIES"):
        monkeypatch.setattr(
            persons_repo, name, CountedStatement(name, getattr(persons_repo, name), seen)
        )
    return seen


def _flow_reads(conn: Connection, psn_no: str) -> tuple[Any, ...]:
    return (
        repo.person(conn, psn_no),
        repo.insurance(conn, psn_no, "310"),
        repo.insurances(conn, psn_no),
        repo.identities(conn, psn_no),
    )


def test_a_flows_rows_are_read_once_and_answer_as_the_store(
    platform: Platform, person: str, reads: list[str]
) -> None:
    writer = platform.db.writer
    first = writer.run_sync(lambda conn: _flow_reads(conn, person))
    assert sorted(reads) == ["_P_IDENTITIES", "_P_INSU", "_P_INSURANCES", "_P_PERSON"]
    again = writer.run_sync(lambda conn: _flow_reads(conn, person))
    assert len(reads) == 4  # the second job read nothing
    assert again == first
    with platform.db.read() as conn:  # and what the store itself says
        assert _flow_reads(conn, person) == first
    assert first[1]["balc"] == Decimal("500.00")


def test_a_caller_changing_its_row_does_not_change_the_cache(
    platform: Platform, person: str
) -> None:
    writer = platform.db.writer

    def spoil(conn: Connection) -> None:
        repo.person(conn, person)["psn_name"] = "改"
        repo.insurance(conn, person, "310")["balc"] = Decimal("1.00")
        repo.insurances(conn, person)[0]["balc"] = Decimal("1.00")

    writer.run_sync(spoil)
    row = writer.run_sync(lambda conn: repo.person(conn, person))
    insu = writer.run_sync(lambda conn: repo.insurance(conn, person, "310"))
    listed = writer.run_sync(lambda conn: repo.insurances(conn, person))
    assert (row["psn_name"], insu["balc"], listed[0]["balc"]) == (
        "张三",
        Decimal("500.00"),
        Decimal("500.00"),
    )


def test_a_balance_set_by_a_settlement_is_read_back(platform: Platform, person: str) -> None:
    writer = platform.db.writer
    writer.run_sync(lambda conn: _flow_reads(conn, person))
    writer.run_sync(lambda conn: repo.set_balance(conn, person, "310", Decimal("12.34"), AT))
    insu, listed = writer.run_sync(
        lambda conn: (repo.insurance(conn, person, "310"), repo.insurances(conn, person))
    )
    assert insu["balc"] == listed[0]["balc"] == Decimal("12.34")


def test_a_core_write_through_the_writer_empties_it(platform: Platform, person: str) -> None:
    writer = platform.db.writer
    writer.run_sync(lambda conn: _flow_reads(conn, person))
    writer.run_sync(
        lambda conn: enrolment_persons.update_person(
            conn, person, {"psn_name": "张三丰"}, updated_at=AT
        )
    )
    assert writer.run_sync(lambda conn: repo.person(conn, person))["psn_name"] == "张三丰"
    writer.run_sync(
        lambda conn: conn.execute(
            update(psn_insu).where(psn_insu.c.psn_no == person).values(psn_insu_stas="2")
        )
    )
    assert writer.run_sync(lambda conn: repo.insurance(conn, person, "310"))["psn_insu_stas"] == "2"


def test_a_textual_write_through_the_writer_empties_it(platform: Platform, person: str) -> None:
    writer = platform.db.writer
    writer.run_sync(lambda conn: _flow_reads(conn, person))
    writer.run_sync(
        lambda conn: conn.execute(
            text("UPDATE psn SET psn_name = '赵六' WHERE psn_no = :p"), {"p": person}
        )
    )
    assert writer.run_sync(lambda conn: repo.person(conn, person))["psn_name"] == "赵六"


def _rename_and_fund(engine: Engine, psn_no: str, name: str, balc: str) -> None:
    with engine.begin() as conn:
        conn.execute(update(psn).where(psn.c.psn_no == psn_no).values(psn_name=name))
        conn.execute(update(psn_insu).where(psn_insu.c.psn_no == psn_no).values(balc=Decimal(balc)))


def _name_and_balance(platform: Platform, psn_no: str) -> tuple[str, Decimal]:
    return platform.db.writer.run_sync(
        lambda conn: (
            repo.person(conn, psn_no)["psn_name"],
            repo.insurance(conn, psn_no, "310")["balc"],
        )
    )


def test_another_connections_commit_empties_it(platform: Platform, person: str) -> None:
    """A `yibao enrol` in another process, a restore: the writer's connection learns of it by
    `PRAGMA data_version` at the start of its next transaction."""
    platform.db.writer.run_sync(lambda conn: _flow_reads(conn, person))
    other = make_engine(platform.settings.database_url)
    try:
        _rename_and_fund(other, person, "钱七", "7.00")
    finally:
        other.dispose()
    assert _name_and_balance(platform, person) == ("钱七", Decimal("7.00"))


def test_a_write_on_the_writers_connection_outside_the_writer_empties_it(
    platform: Platform, person: str
) -> None:
    """The writer hands its connection back to the pool between transactions: a write made
    on it meanwhile (a command in the same process) leaves `data_version` as it was, but not
    the connection's `total_changes`."""
    writer = platform.db.writer
    owner = writer.run_sync(
        lambda conn: (_flow_reads(conn, person), conn.connection.dbapi_connection)[1]
    )
    with platform.db.engine.connect() as conn:
        assert conn.connection.dbapi_connection is owner  # the pool handed out the same one
    _rename_and_fund(platform.db.engine, person, "孙八", "8.00")
    assert _name_and_balance(platform, person) == ("孙八", Decimal("8.00"))


def test_a_job_rolled_back_leaves_no_row_it_wrote(platform: Platform, person: str) -> None:
    writer = platform.db.writer
    writer.run_sync(lambda conn: _flow_reads(conn, person))

    def settles_then_fails(conn: Connection) -> None:
        repo.set_balance(conn, person, "310", Decimal("0.01"), AT)
        assert repo.insurance(conn, person, "310")["balc"] == Decimal("0.01")  # read, cached
        raise ValueError("refused after the write")

    with pytest.raises(ValueError):
        writer.run_sync(settles_then_fails)
    assert writer.run_sync(lambda conn: repo.insurance(conn, person, "310"))["balc"] == Decimal(
        "500.00"
    )


def test_only_the_writer_carries_it_and_only_in_its_transaction(
    platform: Platform, person: str
) -> None:
    writer = platform.db.writer
    assert writer.run_sync(lambda conn: row_cache.of(conn)) is writer.row_cache
    with platform.db.read() as conn:
        assert row_cache.of(conn) is None
    with platform.db.engine.connect() as conn:  # the writer's connection, back in the pool
        assert row_cache.of(conn) is None


def test_a_visit_is_read_once_and_its_update_drops_it_alone(
    platform: Platform, person: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A visit's update names its key (`row_cache.evicting`): the flow's other rows stay."""
    with platform.db.engine.begin() as conn:
        seed_institution(conn, HOSP)
    writer = platform.db.writer
    mdtrt_id = writer.run_sync(
        lambda conn: registered_visit(conn, platform, Person(person, "110101199003074514"))
    )
    seen: list[str] = []
    monkeypatch.setattr(
        visits_repo, "_P_VISIT", CountedStatement("_P_VISIT", visits_repo._P_VISIT, seen)
    )
    first = writer.run_sync(
        lambda conn: (_flow_reads(conn, person), repo.visit_row(conn, mdtrt_id))
    )
    again = writer.run_sync(
        lambda conn: (_flow_reads(conn, person), repo.visit_row(conn, mdtrt_id))
    )
    assert again == first and seen == ["_P_VISIT"]
    writer.run_sync(
        lambda conn: visits_repo.update_visit(conn, mdtrt_id, {"mdtrt_stas": "cancelled"})
    )
    assert len(writer.row_cache) == 4  # the person's rows stay
    row = writer.run_sync(lambda conn: repo.visit_row(conn, mdtrt_id))
    assert row is not None and row["mdtrt_stas"] == "cancelled" and len(seen) == 2
    # a Core write of the table that names no key empties everything
    writer.run_sync(
        lambda conn: conn.execute(
            update(mdtrt).where(mdtrt.c.mdtrt_id == mdtrt_id).values(mdtrt_stas="registered")
        )
    )
    assert len(writer.row_cache) == 0
    row = writer.run_sync(lambda conn: repo.visit_row(conn, mdtrt_id))
    assert row is not None and row["mdtrt_stas"] == "registered"


def test_a_years_accumulators_are_read_once_and_an_upsert_drops_them(
    platform: Platform, person: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = platform.db.writer
    seen: list[str] = []
    monkeypatch.setattr(
        accumulators_repo, "_P_READ", CountedStatement("_P_READ", accumulators_repo._P_READ, seen)
    )

    def year(conn: Connection) -> list[Any]:
        return repo.accumulators_of_year(conn, person, 2026)

    assert writer.run_sync(year) == [] and writer.run_sync(year) == [] and len(seen) == 1
    writer.run_sync(
        lambda conn: repo.add_to_accumulators(conn, person, 2026, [("310:k", Decimal("5.00"))], AT)
    )
    assert writer.run_sync(year) == [{"acc_key": "310:k", "amount": Decimal("5.00")}]
    assert len(seen) == 2


def test_it_is_bounded() -> None:
    cache = row_cache.RowCache(limit=3)
    for i in range(3):
        cache.put(i, {"i": i})
    assert len(cache) == 3
    cache.put(3, {"i": 3})
    assert len(cache) == 1 and cache.get(3) == {"i": 3} and cache.get(0) is None


async def test_reads_on_the_writer_see_what_was_committed_before_its_writes(
    platform: Platform, person: str
) -> None:
    """A read queued beside writes runs first, on the latest commit, and is answered without
    waiting for the writes' commit; its error reaches its caller alone."""
    writer = platform.db.writer
    gate, holding = threading.Event(), threading.Event()
    # the writer held inside a job: the next items land in one batch
    blocker = writer.submit(lambda conn: (holding.set(), gate.wait(5)))
    loop = asyncio.get_running_loop()
    assert await loop.run_in_executor(None, holding.wait, 5)
    write = writer.submit(lambda conn: repo.set_balance(conn, person, "310", Decimal("99.00"), AT))
    read = asyncio.ensure_future(writer.read(lambda conn: repo.insurance(conn, person, "310")))
    failing = asyncio.ensure_future(writer.read(lambda conn: repo.person(conn, "P9999")))
    await asyncio.sleep(0.05)
    await loop.run_in_executor(None, gate.set)
    assert (await read)["balc"] == Decimal("500.00")  # before the write of its batch
    with pytest.raises(Exception, match="人员编号不存在"):
        await failing
    await asyncio.wrap_future(write)
    await asyncio.wrap_future(blocker)
    after = await writer.read(lambda conn: repo.insurance(conn, person, "310"))
    assert after["balc"] == Decimal("99.00")
    assert threading.current_thread().name != "yibao-writer"
    thread = await writer.read(lambda conn: threading.current_thread().name)
    assert thread == "yibao-writer"


def test_every_driver_level_write_of_a_cached_table_keeps_the_cache_true() -> None:
    """Core writes are watched by the engine event; a statement prepared at the driver level
    bypasses it, so each one that writes a watched table must evict itself: the balance
    update (`settlement.repo.persons.set_balance`), the new visit
    (`settlement.repo.visits.insert_visit`) and the accumulators' upsert
    (`settlement.repo.accumulators.add_to_accumulators`)."""
    src = Path(__file__).resolve().parents[3] / "src" / "yibao"
    watched = "|".join(sorted(row_cache.WATCHED, key=len, reverse=True))
    pattern = re.compile(
        r"(?:Prepared(?:Insert)?\(\s*(?:insert|update|delete)\(|PreparedInsert\(|"
        rf"(?:sqlite|mysql)\.insert\()\s*(?:{watched})\b"
    )
    writers = {
        str(path.relative_to(src))
        for path in src.rglob("*.py")
        if pattern.search(path.read_text(encoding="utf-8"))
    }
    assert writers == {
        "settlement/repo/persons.py",
        "settlement/repo/visits.py",
        "settlement/repo/accumulators.py",
    }
    for module, function in (
        ("persons", "set_balance"),
        ("visits", "insert_visit"),
        ("accumulators", "add_to_accumulators"),
    ):
        text_ = (src / "settlement" / "repo" / f"{module}.py").read_text(encoding="utf-8")
        body = text_[text_.index(f"def {function}(") :].split("\ndef ", 1)[0]
        assert "forget(" in body, function


async def test_a_read_queued_when_the_store_fails_gets_the_error(
    platform: Platform, person: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The writer's transaction cannot begin (the store away): the reads of that batch are
    answered with the error, as its writes are, and the next batch serves them again."""
    writer = platform.db.writer

    @contextlib.contextmanager
    def unavailable(conn: Connection, cache: Any) -> Iterator[Any]:
        raise OperationalError("BEGIN IMMEDIATE", {}, sqlite3.OperationalError("disk I/O error"))
        yield cache  # pragma: no cover - never reached

    monkeypatch.setattr(row_cache, "installed", unavailable)
    with pytest.raises(OperationalError):
        await asyncio.wait_for(writer.read(lambda conn: repo.person(conn, person)), 10)
    monkeypatch.undo()
    found = await asyncio.wait_for(writer.read(lambda conn: repo.person(conn, person)), 10)
    assert found["psn_no"] == person
