"""The accumulators' upsert (`settlement.repo.accumulators.add_to_accumulators`): one statement
on either store that inserts a key the year has not seen and adds to one it has — exact in
fen, negative deltas (a reversal) included; other years and keys untouched."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from settle_factories import Person, seed_person
from sqlalchemy import Engine

from yibao.settlement import repo

AT = datetime(2026, 3, 1, 9, 0)


def _year(engine: Engine, year: int) -> dict[str, Decimal]:
    with engine.connect() as conn:
        return {r["acc_key"]: r["amount"] for r in repo.accumulators_of_year(conn, "P0001", year)}


def test_a_new_key_is_inserted_and_a_known_one_added_to(engine: Engine) -> None:
    with engine.begin() as conn:
        seed_person(conn, Person("P0001", "110101199003074514"))
        repo.add_to_accumulators(
            conn, "P0001", 2026, [("310:otp.dedc_used", Decimal("120.50"))], AT
        )
        repo.add_to_accumulators(conn, "P0001", 2025, [("310:otp.dedc_used", Decimal("9.99"))], AT)
    assert _year(engine, 2026) == {"310:otp.dedc_used": Decimal("120.50")}
    with engine.begin() as conn:
        repo.add_to_accumulators(
            conn,
            "P0001",
            2026,
            [
                ("310:otp.dedc_used", Decimal("0.01")),
                ("310:otp.fund_paid", Decimal("30.00")),
                ("310:otp.fund_paid", Decimal("-12.34")),
            ],
            AT,
        )
    assert _year(engine, 2026) == {
        "310:otp.dedc_used": Decimal("120.51"),
        "310:otp.fund_paid": Decimal("17.66"),
    }
    assert _year(engine, 2025) == {"310:otp.dedc_used": Decimal("9.99")}


def test_no_deltas_write_nothing(engine: Engine) -> None:
    with engine.begin() as conn:
        seed_person(conn, Person("P0001", "110101199003074514"))
        repo.add_to_accumulators(conn, "P0001", 2026, [], AT)
    assert _year(engine, 2026) == {}
