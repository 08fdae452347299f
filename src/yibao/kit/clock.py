"""Time in the platform's zone (Asia/Shanghai by default) and the interface's formats."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

#: `yyyy-MM-dd HH:mm:ss` — the interface's datetime (reference/nhsa-interface.md §1.1).
DATETIME_FMT = "%Y-%m-%d %H:%M:%S"
DATE_FMT = "%Y-%m-%d"

_zone: ZoneInfo = ZoneInfo("Asia/Shanghai")


def set_zone(name: str) -> None:
    """Select the platform time zone (from configuration, once at start-up)."""
    global _zone
    _zone = ZoneInfo(name)


def zone() -> ZoneInfo:
    return _zone


def now() -> datetime:
    """Aware current time in the platform zone."""
    return datetime.now(_zone)


def local_naive_now() -> datetime:
    """Current wall-clock time in the platform zone, naive (as stored and as the interface
    writes it)."""
    return datetime.now(_zone).replace(tzinfo=None, microsecond=0)


def parse_datetime(text: str) -> datetime:
    """Parse `yyyy-MM-dd HH:mm:ss` (also accepts a bare date, taken as midnight)."""
    text = text.strip()
    if len(text) == 10:
        return datetime.strptime(text, DATE_FMT)
    if len(text) == 19 and text[10] == " " and text[4] == "-" and text[13] == ":":
        # the interface's own form: fromisoformat (C) reads it for a fraction of strptime's
        # CPU, and every request carries several
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            pass
    return datetime.strptime(text, DATETIME_FMT)


def parse_date(text: str) -> date:
    text = text.strip()
    if len(text) > 10:
        return datetime.strptime(text, DATETIME_FMT).date()
    return datetime.strptime(text, DATE_FMT).date()


def fmt_datetime(value: datetime | None) -> str | None:
    """`DATETIME_FMT`'s text. `isoformat` (C) writes the same for a naive datetime of a
    four-digit year for a fraction of strftime's CPU (the change log writes several a
    settlement); strftime for the rest (aware, year < 1000)."""
    if value is None:
        return None
    if type(value) is datetime and value.tzinfo is None and value.year >= 1000:
        return value.isoformat(" ", "seconds")
    return value.strftime(DATETIME_FMT)


def fmt_date(value: date | None) -> str | None:
    """`DATE_FMT`'s text (`isoformat` for a plain date of a four-digit year, as above)."""
    if value is None:
        return None
    if type(value) is date and value.year >= 1000:
        return value.isoformat()
    return value.strftime(DATE_FMT)


def age_on(brdy: date, day: date) -> int:
    """Whole years of age on `day` (周岁)."""
    years = day.year - brdy.year
    if (day.month, day.day) < (brdy.month, brdy.day):
        years -= 1
    return years
