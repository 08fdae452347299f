"""A driver-level statement converts every parameter and every column exactly as SQLAlchemy's
own type would (`storage.prepared`): the usual values through the conversions written into its
generated functions, everything else through the type's processor. Held against
`Scaled.process_bind_param` / `process_result_value` and the dialects' DATETIME processors."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Dialect,
    MetaData,
    String,
    Table,
    insert,
    select,
)
from sqlalchemy.dialects import mysql, sqlite

from yibao.storage.prepared import Prepared
from yibao.storage.types import Scaled

_META = MetaData()
_T = Table(
    "t_conv",
    _META,
    Column("id", BigInteger, primary_key=True),
    Column("amt", Scaled(2)),
    Column("pric", Scaled(6)),
    Column("at", DateTime),
    Column("note", String(20)),
)
DIALECTS = [sqlite.dialect(), mysql.dialect(paramstyle="format")]
KEYS = ("id", "amt", "pric", "at", "note")

amounts = st.one_of(
    st.none(),
    st.decimals(allow_nan=False, allow_infinity=False, min_value=-(10**12), max_value=10**12),
    st.decimals(
        allow_nan=False, allow_infinity=False, places=2, max_value=10**9, min_value=-(10**9)
    ),
    st.integers(min_value=-(10**9), max_value=10**9),
    st.sampled_from([Decimal("0E-8"), Decimal("-0.00"), Decimal("1E+3"), Decimal("12.3400")]),
)
times = st.one_of(
    st.none(),
    st.datetimes(min_value=datetime(1900, 1, 1)),
    st.datetimes(min_value=datetime(1900, 1, 1)).map(lambda d: d.replace(microsecond=0)),
)


def _expected(type_: Any, dialect: Dialect, value: Any) -> Any:
    """What SQLAlchemy itself binds for the value (or the exception it raises)."""
    if isinstance(type_, Scaled):
        value = type_.process_bind_param(value, dialect)
        return value
    proc = type_._cached_bind_processor(dialect)
    return proc(value) if proc is not None else value


def _outcome(fn: Any) -> Any:
    try:
        return ("ok", fn())
    except Exception as exc:  # the kind of refusal, not its wording
        return ("error", type(exc))


@pytest.mark.parametrize("dialect", DIALECTS, ids=lambda d: d.name)
@given(amt=amounts, pric=amounts, at=times)
def test_parameters_bind_as_the_types_do(dialect: Dialect, amt: Any, pric: Any, at: Any) -> None:
    compiled = Prepared(insert(_T), KEYS)._compiled(dialect)
    params = {"id": 7, "amt": amt, "pric": pric, "at": at, "note": "x"}
    got = _outcome(lambda: compiled.args(params))
    want = _outcome(
        lambda: tuple(_expected(_T.c[n].type, dialect, params[n]) for n in compiled.names)
    )
    assert got == want


@pytest.mark.parametrize("dialect", DIALECTS, ids=lambda d: d.name)
def test_a_float_or_a_fraction_of_a_fen_is_refused(dialect: Dialect) -> None:
    compiled = Prepared(insert(_T), KEYS)._compiled(dialect)
    base = {"id": 1, "amt": Decimal("1.00"), "pric": None, "at": None, "note": None}
    with pytest.raises(TypeError):
        compiled.args({**base, "amt": 1.5})
    with pytest.raises(ValueError, match="more than 2 decimals"):
        compiled.args({**base, "amt": Decimal("1.005")})
    assert compiled.args(base)[list(compiled.names).index("amt")] == 100


@pytest.mark.parametrize("dialect", DIALECTS, ids=lambda d: d.name)
@given(
    amt=st.one_of(st.none(), st.integers(min_value=-(2**62), max_value=2**62)),
    pric=st.one_of(st.none(), st.integers(min_value=-(2**62), max_value=2**62)),
)
def test_columns_read_as_the_types_do(dialect: Dialect, amt: Any, pric: Any) -> None:
    compiled = Prepared(select(_T.c.amt, _T.c.pric))._compiled(dialect)
    row = compiled.row((amt, pric))
    for name, raw in (("amt", amt), ("pric", pric)):
        scaled = _T.c[name].type
        assert isinstance(scaled, Scaled)
        want = scaled.process_result_value(raw, dialect)
        assert row[name] == want
        if want is not None:  # the same digits, not only the same value
            assert str(row[name]) == str(want)


def test_a_driver_that_hands_back_text_for_an_amount_still_reads_it() -> None:
    compiled = Prepared(select(_T.c.amt))._compiled(mysql.dialect(paramstyle="format"))
    assert compiled.row(("1234",)) == {"amt": Decimal("12.34")}
