"""settlement.steps._split_of: a 2207 takes the split its 2206 computed from the same stored
inputs; anything different (lines, accumulators, parameters) is computed afresh."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest

from yibao.settlement import steps

LINE = {
    "feedetl_sn": "1",
    "det_item_fee_sumamt": Decimal("12.50"),
    "cnt": Decimal("1.0000"),
    "memo": None,
}


@pytest.fixture
def computed(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    calls: list[Any] = []

    def compute(book: Any, party: Any, lines: Any, **kw: Any) -> object:
        calls.append(lines)
        return object()

    monkeypatch.setattr(steps.ledger, "compute", compute)
    monkeypatch.setattr(steps.fees, "fee_in_from_row", lambda row: dict(row))
    monkeypatch.setattr(steps, "_SPLITS", {})
    return calls


def _split(book: Any, lines: list[dict[str, Any]], accum: dict[str, Decimal]) -> Any:
    party = SimpleNamespace(terms=("P1", 40), insu={"insuplc_admdvs": "110199"})
    return steps._split_of(
        book,
        party,  # type: ignore[arg-type]
        lines,
        med_type="11",
        hosp_lv="3",
        day=date(2026, 11, 25),
        acct_used=True,
        accum=accum,
        same_admission=False,
        node="data",
    )


def test_the_second_identical_request_takes_the_first_split(computed: list[Any]) -> None:
    book = object()
    first = _split(book, [dict(LINE)], {"dedc": Decimal("0.00")})
    again = _split(book, [dict(LINE)], {"dedc": Decimal("0.00")})
    assert again is first and len(computed) == 1
    # taken out when used: a third request computes again
    assert _split(book, [dict(LINE)], {"dedc": Decimal("0.00")}) is not first
    assert len(computed) == 2


def test_any_other_input_is_computed_afresh(computed: list[Any]) -> None:
    book = object()
    base = _split(book, [dict(LINE)], {})
    other_line = _split(book, [{**LINE, "det_item_fee_sumamt": Decimal("12.51")}], {})
    other_accum = _split(book, [dict(LINE)], {"dedc": Decimal("1.00")})
    other_book = _split(object(), [dict(LINE)], {})
    assert len({id(base), id(other_line), id(other_accum), id(other_book)}) == 4
    assert len(computed) == 4


def test_bounded(computed: list[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(steps, "_SPLITS_MAX", 3)
    book = object()
    for i in range(10):
        _split(book, [{**LINE, "feedetl_sn": str(i)}], {})
    assert len(steps._SPLITS) == 3
