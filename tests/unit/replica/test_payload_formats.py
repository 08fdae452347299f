"""`kit.clock.fmt_datetime` / `fmt_date` write exactly what strftime with the interface's
formats writes, for every datetime and date (the fast `isoformat` path included); the change
log's payloads (`replica.rows`) write them so, and amounts as exact fen."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yibao.kit.clock import DATE_FMT, DATETIME_FMT, fmt_date, fmt_datetime
from yibao.replica.rows import fen

zones = st.sampled_from([None, UTC, timezone(timedelta(hours=8))])


@given(value=st.datetimes(timezones=zones))
def test_a_datetime_is_written_as_strftime_writes_it(value: datetime) -> None:
    assert fmt_datetime(value) == value.strftime(DATETIME_FMT)


@given(value=st.one_of(st.dates(), st.datetimes()))
def test_a_date_is_written_as_strftime_writes_it(value: date) -> None:
    assert fmt_date(value) == value.strftime(DATE_FMT)


def test_none_stays_none() -> None:
    assert fmt_datetime(None) is None and fmt_date(None) is None


@given(digits=st.integers(min_value=-(10**16), max_value=10**16), places=st.integers(0, 6))
def test_the_change_log_writes_an_amount_as_its_fen_or_refuses_it(digits: int, places: int) -> None:
    # replica.rows.fen: the payload's integer fen — exact, or refused (amounts read from the
    # row store, whole fen of at most 18 digits; a decimal past the context's 28 digits
    # would be rounded first, as it always was)
    value = Decimal(digits).scaleb(-places)
    if value == round(value, 2):
        assert fen(value) == int(value * 100)
    else:
        with pytest.raises(ValueError, match="not a whole number of fen"):
            fen(value)
