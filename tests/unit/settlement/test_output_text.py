"""The fast date / datetime texts of the answers are fmt_date / fmt_datetime's, byte for byte."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from yibao.kit.clock import fmt_date, fmt_datetime
from yibao.settlement.output import date_text, datetime_text


def test_date_text_is_fmt_date() -> None:
    for value in (date(2026, 11, 25), date(1000, 1, 1), date(999, 12, 31), date(1, 1, 1), None):
        assert date_text(value) == fmt_date(value)


def test_datetime_text_is_fmt_datetime() -> None:
    for value in (
        datetime(2026, 11, 25, 23, 59, 59, 999_999),
        datetime(2026, 1, 2, 3, 4, 5),
        datetime(999, 1, 1, 0, 0, 0),
        datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=8))),
        None,
    ):
        assert datetime_text(value) == fmt_datetime(value)
