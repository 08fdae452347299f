from datetime import date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

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


@given(
    st.decimals(allow_nan=False, allow_infinity=False)
    | st.integers(-(10**20), 10**20).flatmap(
        lambda digits: st.integers(-12, 12).map(lambda exp: Decimal(digits).scaleb(exp))
    )
)
def test_every_decimal_is_written_in_plain_digits(value: Decimal) -> None:
    # the plain positional form, never an exponent: 1E+2 is 100, 1E-7 is 0.0000001
    written = jsonx.dumps([value])
    assert written == b"[" + format(value, "f").encode() + b"]"
    assert b"E" not in written and b"e" not in written
    assert Decimal(written[1:-1].decode()) == value


def test_chinese_is_not_escaped() -> None:
    assert jsonx.dumps({"err_msg": "报文ID重复"}) == '{"err_msg":"报文ID重复"}'.encode()


def test_malformed_json_raises_value_error() -> None:
    with pytest.raises(ValueError):
        jsonx.loads("{not json")


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"[" * 1_000 + b"]" * 1_000, "嵌套过深"),
        (b'{"a":' * 100_000 + b"1" + b"}" * 100_000, "nested too deep"),
        (b'{"infno": "1101", "infno": "2207"}', "infno: 重复的键"),
        (b'{"a": {"b": 1, "b": 1}}', "a.b: 重复的键"),
        (b'{"input": {"feedetail": [{"cnt": 1, "cnt": 2}]}}', "input.feedetail[0].cnt: 重复的键"),
        (b'{"data": {"medfee_sumamt": NaN}}', "data.medfee_sumamt: NaN 不是合法的JSON数值"),
        (b"[1, -Infinity]", "[1]: -Infinity"),
        (b'{"input": {"data": {"psn_name": "\\ud800"}}}', "input.data.psn_name: 不是合法的Unicode"),
        (b'{"a": ["x", "\\udc00y"]}', "a[1]: 不是合法的Unicode"),
        (b'{"a": "\xed\xa0\x80"}', "不是合法的UTF-8"),
        (b'{"a": "\xff"}', "不是合法的UTF-8"),
        (b'{"a": "\xe4\xb8"}', "不是合法的UTF-8"),
        (b'{"input": {"data": {"ver": 9223372036854775808}}}', "input.data.ver: 超出范围"),
        (b'{"page_num": -9223372036854775809}', "page_num: 超出范围"),
        (b"[" + b"9" * 5_000 + b"]", "数值无法表示"),
        (b"[99999999999999999999, " + b"[" * 2_000 + b"]" * 2_000 + b"]", "嵌套过深"),
        (b"[99999999999999999999, {]", "line 1 column 25"),
    ],
)
def test_refused_json_names_the_field_and_the_rule(body: bytes, says: str) -> None:
    with pytest.raises(jsonx.JsonError) as refused:
        jsonx.loads(body)
    assert says in str(refused.value)
    str(refused.value).encode("utf-8")  # a message is valid Unicode itself


def test_what_stays_readable() -> None:
    # brackets inside strings do not count as nesting
    assert jsonx.loads('{"a": "' + "[" * 500 + '"}') == {"a": "[" * 500}
    assert jsonx.loads(b"[" * 64 + b"]" * 64) is not None
    # a surrogate pair is a character; 64-bit integers at both ends; an exponent is a Decimal
    assert jsonx.loads(b'{"e": "\\ud83d\\ude00"}') == {"e": "\U0001f600"}
    assert jsonx.loads(b"[9223372036854775807, -9223372036854775808]") == [2**63 - 1, -(2**63)]
    assert jsonx.loads(b"[1e999]") == [Decimal("1E+999")]
    assert jsonx.loads(b"\xef\xbb\xbf" + '{"a": "中"}'.encode()) == {"a": "中"}
    assert jsonx.loads('{"a": 1}'.encode("utf-16")) == {"a": 1}
    # a string argument is checked too
    with pytest.raises(jsonx.JsonError):
        jsonx.loads('{"a": "\ud800"}')
