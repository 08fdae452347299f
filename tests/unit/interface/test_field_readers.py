"""The field readers refuse what a column cannot hold, naming the field and the rule."""

from __future__ import annotations

from decimal import Decimal

import pytest

from yibao.errors import InvalidInput
from yibao.interface import fields


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("99999999999999999999999", "data.ver: 超出范围"),
        (2**63, "data.ver: 超出范围"),
        ("-1", "data.ver: 超出范围"),
        ("1.5", "data.ver: 应为整数"),
        (Decimal("1.0"), "data.ver: 应为整数"),
        ("١٢", "data.ver: 应为整数"),  # Arabic-Indic digits: isdigit, but not a JSON integer
        (True, "data.ver: 应为整数"),
        ([1], "data.ver: 应为整数"),
    ],
)
def test_an_integer_out_of_range_or_not_whole_is_refused(value: object, says: str) -> None:
    with pytest.raises(InvalidInput, match=says):
        fields.opt_int({"ver": value}, "ver", node_name="data")


def test_integers_in_range() -> None:
    assert fields.opt_int({"ver": "0"}, "ver") == 0
    assert fields.opt_int({"ver": 2**63 - 1}, "ver") == 2**63 - 1
    assert fields.opt_int({"ver": " 12 "}, "ver") == 12
    assert fields.opt_int({"ver": ""}, "ver") is None
    assert fields.req_int({"page_num": 3}, "page_num", minimum=1) == 3
    with pytest.raises(InvalidInput, match="page_num: 必填"):
        fields.req_int({}, "page_num", minimum=1)


@pytest.mark.parametrize("value", ["1e999", Decimal("1E400"), "-1e999"])
def test_huge_exponents_are_out_of_range_not_a_crash(value: object) -> None:
    with pytest.raises(InvalidInput, match="超出范围"):
        fields.req_amount({"medfee_sumamt": value}, "medfee_sumamt", node_name="data")
    with pytest.raises(InvalidInput, match="超出范围"):
        fields.req_decimal({"cnt": value}, "cnt", node_name="feedetail[0]", places=4)
