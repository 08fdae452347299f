"""The bulk settler's shortcuts give exactly what the plain code gives: the hand-built
setl.extra text is `json.dumps`'s, and the table-driven simulated ids are the bit-reversed
ones."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest

from yibao.policy import load_book
from yibao.simulate.settle_rows import Settler, _reverse5, sim_id, visit_ids

NOW = datetime(2024, 6, 1, 8, 30, 15)


def _settler() -> Settler:
    return Settler(load_book([]), {}, {}, now=NOW)


@pytest.mark.parametrize(
    ("delta", "policy_version", "visit_class"),
    [
        ({}, "", "outpatient"),
        (
            {"dedc_used:otp": Decimal("12.30"), "inscp:otp": Decimal("-0.01")},
            "110199@2024-01-01",
            "inpatient",
        ),
        ({"pool_paid:ipt": Decimal("1E+2")}, '北京 "试行" 版\\2024', "门诊\n慢特病"),
    ],
)
def test_extra_is_the_text_json_dumps_writes(
    delta: dict[str, Decimal], policy_version: str, visit_class: str
) -> None:
    split = SimpleNamespace(
        accumulator_delta=delta, policy_version=policy_version, visit_class=visit_class
    )
    expected = json.dumps(
        {
            "acc": {k: str(a) for k, a in delta.items()},
            "family_psn_no": None,
            "policy_version": policy_version,
            "visit_class": visit_class,
            "simulated": True,
        },
        ensure_ascii=False,
    )
    settler = _settler()
    assert settler._extra(split) == expected  # type: ignore[arg-type]
    assert settler._extra(split) == expected  # type: ignore[arg-type]  # from the memo


def test_sim_ids_are_the_bit_reversed_shards_over_the_number() -> None:
    for n in [*range(200), 2**40 + 7, 123_456_789]:
        assert sim_id(n) == str((_reverse5(n & 31) << 58) | n)
    assert _reverse5(0b00001) == 0b10000
    assert _reverse5(0b10110) == 0b01101
    ids = visit_ids(17)
    assert len(set(ids)) == 3
