from datetime import date, datetime
from decimal import Decimal

import pytest

from yibao.kit import jsonx


def test_fractions_parse_as_decimal_and_ints_stay_ints() -> None:
    data = jsonx.loads('{"medfee_sumamt": 56.50, "cnt": 2, "pric": "12.5"}')
    assert data == {"medfee_sumamt": Decimal("56.50"), "cnt": 2, "pric": "12.5"}
    assert isinstance(data["medfee_sumamt"], Decimal)


def test_decimal_is_written_as_an_exact_json_number() -> None:
    out = jsonx.dumps(
        {
            "a": Decimal("56.50"),
            "b": Decimal("-0.10"),
            "t": datetime(2024, 5, 20, 10, 31, 2),
            "d": date(2024, 5, 20),
        }
    )
    assert out == b'{"a":56.50,"b":-0.10,"t":"2024-05-20 10:31:02","d":"2024-05-20"}'


def test_chinese_is_not_escaped() -> None:
    assert jsonx.dumps({"err_msg": "报文ID重复"}) == '{"err_msg":"报文ID重复"}'.encode()


def test_malformed_json_raises_value_error() -> None:
    with pytest.raises(ValueError):
        jsonx.loads("{not json")
