"""The quicker `literal` of yibao's mysqlclient connection (`storage.mysqldb`) renders every
value exactly as the driver's own does — strings through libmariadb's escaping, numbers,
NULL, datetimes — and the engine opens its mysqlclient connections with it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yibao.storage.engine import make_engine, mysqlclient_available

pytestmark = pytest.mark.mysql


def _driver_literal(raw: Any, value: Any) -> bytes:
    """What mysqlclient's own `Connection.literal` renders."""
    from MySQLdb.connections import Connection as DriverConnection

    rendered: bytes = DriverConnection.literal(raw, value)
    return rendered


@pytest.fixture(scope="module")
def raw(mysql_migrated: str) -> Iterator[Any]:
    if not mysqlclient_available():  # pragma: no cover - CI installs mysqlclient
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but mysqlclient is not installed")
        pytest.skip("mysqlclient is not installed (PyMySQL is in use)")
    engine = make_engine(mysql_migrated, pool_size=1, mysql_driver="mysqlclient")
    conn = engine.raw_connection()
    try:
        yield conn.dbapi_connection
    finally:
        conn.close()
        engine.dispose()


def test_the_engine_opens_this_connection_class(raw: Any) -> None:
    from yibao.storage.mysqldb import Connection

    assert type(raw) is Connection


VALUES = st.one_of(
    st.text(),  # quotes, backslashes, NUL, every plane of Unicode but lone surrogates
    st.integers(),
    st.none(),
    st.decimals(allow_nan=False, allow_infinity=False),
    st.datetimes(),
    st.datetimes(timezones=st.just(UTC)),
    st.dates(),
    st.booleans(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.binary(),
)


@settings(max_examples=400, deadline=None)
@given(value=VALUES)
def test_every_value_is_rendered_as_the_driver_renders_it(raw: Any, value: Any) -> None:
    assert raw.literal(value) == _driver_literal(raw, value)


@pytest.mark.parametrize(
    "value",
    [
        'O\'Brien \\ "x" \x00 \n \x1a 张三',
        -(2**70),
        Decimal("1E+3"),
        Decimal("-0.00"),
        Decimal("12345678901234567890.123456"),
        datetime(2026, 12, 7, 14, 22, 0, 123),
        date(2026, 12, 7),
        True,
    ],
)
def test_the_hard_cases_read_back_as_sent(raw: Any, value: Any) -> None:
    cursor = raw.cursor()
    try:
        cursor.execute("SELECT %s", (value,))
        (back,) = cursor.fetchone()
    finally:
        cursor.close()
    assert raw.literal(value) == _driver_literal(raw, value)
    if isinstance(value, bool):
        assert back == int(value)
    elif isinstance(value, Decimal):
        assert Decimal(back) == value
    elif isinstance(value, datetime | date) and isinstance(back, str | bytes):
        assert str(back if isinstance(back, str) else back.decode()).startswith(
            value.isoformat(" ") if isinstance(value, datetime) else value.isoformat()
        )
    else:
        assert back == value


def _driver_mogrify(raw: Any, text: str, args: Any) -> bytes:
    """The statement mysqlclient's own cursor sends for `execute(text, args)` (its `mogrify`
    answers the same decoded as text, which fails for a binary value)."""
    cursor = raw.cursor()
    try:
        sql: bytes = cursor._mogrify(text, args)
    finally:
        cursor.close()
    return sql


@settings(max_examples=200, deadline=None)
@given(args=st.lists(VALUES, max_size=12))
def test_a_statement_is_rendered_as_the_drivers_cursor_renders_it(raw: Any, args: list) -> None:
    # a literal percent sign and a string of the driver's placeholder form beside the values
    text = "SELECT '100%%', '名称' WHERE 1 IN (" + ", ".join(["%s"] * len(args) + ["1"]) + ")"
    assert raw.render_statement(text, args) == _driver_mogrify(raw, text, tuple(args))


def test_a_statement_with_the_wrong_count_of_values_is_refused_as_the_driver_refuses_it(
    raw: Any,
) -> None:
    from MySQLdb import ProgrammingError

    for args in [(1,), (1, 2, 3)]:
        with pytest.raises(ProgrammingError):
            _driver_mogrify(raw, "SELECT %s, %s", args)
        with pytest.raises(ProgrammingError):
            raw.render_statement("SELECT %s, %s", args)
