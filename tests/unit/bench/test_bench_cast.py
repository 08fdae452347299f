"""A settle run plays persons it owns: fresh ones, each visiting once before anyone visits
twice, with ordinary bills (each item once, no restricted item)."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date
from decimal import Decimal

from yibao.bench.cast import Cast, make_persons, run_tag
from yibao.bench.fixtures import Fixtures
from yibao.bench.flows import Session
from yibao.bench.stats import Recorder


def _persons(n: int) -> list[dict[str, str]]:
    return [{"psn_no": f"P{i}", "certno": f"C{i}", "name": f"N{i}"} for i in range(n)]


def test_everyone_visits_once_before_anyone_visits_twice() -> None:
    cast = Cast(_persons(50), random.Random(1))
    first = [cast.next()["psn_no"] for _ in range(50)]
    assert sorted(first) == sorted(p["psn_no"] for p in _persons(50))
    second = Counter(cast.next()["psn_no"] for _ in range(50))
    assert set(second.values()) == {1}


def test_fixtures_hand_out_the_cast_when_there_is_one() -> None:
    fx = Fixtures(institutions=[], persons=_persons(3), catalog_items=[])
    own = Fixtures(institutions=[], persons=_persons(3), catalog_items=[],
                   cast=Cast([{"psn_no": "OWN", "certno": "X", "name": "Y"}], random.Random(1)))  # fmt: skip
    rng = random.Random(2)
    assert {fx.next_person(rng)["psn_no"] for _ in range(30)} <= {"P0", "P1", "P2"}
    assert {own.next_person(rng)["psn_no"] for _ in range(5)} == {"OWN"}


def test_made_persons_are_living_ordinary_and_keyed_by_the_run() -> None:
    a = make_persons(300, tag=run_tag(1_700_000_000.0), today=date(2026, 12, 6))
    b = make_persons(300, tag=run_tag(1_700_000_000.001), today=date(2026, 12, 6))
    assert len(a) >= 300
    assert all(p.death_date is None and p.misuse is None for p in a)
    for key in ("psn_no", "card_no", "card_sn", "ec_token"):
        assert not {getattr(p, key) for p in a} & {getattr(p, key) for p in b}, key
        assert len({getattr(p, key) for p in a}) == len(a), key
    # the city's mix: some insured in the neighbouring region, several insurance types
    assert any(p.insuplc_admdvs != "110199" for p in a)
    assert len({p.insutype for p in a}) > 1


def test_a_bill_names_each_item_once() -> None:
    items = [{"code": f"I{i}", "price": Decimal("1.00"), "list_type": "101"} for i in range(12)]
    fx = Fixtures(institutions=[], persons=_persons(1), catalog_items=items)
    session = Session(None, fx, Recorder(), random.Random(4), reversal_rate=0.0)  # type: ignore[arg-type]
    for _ in range(20):
        lines, total = session._lines(items, 10, "M", "P0", "2026-12-06 10:00:00", "D1", {})
        codes = [ln["med_list_codg"] for ln in lines]
        assert len(set(codes)) == 10
        assert total == sum(ln["det_item_fee_sumamt"] for ln in lines)
