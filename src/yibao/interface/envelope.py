"""The response envelope (reference/nhsa-interface.md §1.2) and the receiver's message id
(`inf_refmsgid`)."""

from __future__ import annotations

import itertools
import threading
from datetime import datetime
from typing import Any

from yibao.kit import jsonx


def stamp(at: datetime) -> str:
    """``yyyyMMddHHmmssSSS``."""
    # %-formatting of the fields instead of strftime: cheaper, and this runs three times a
    # call; strftime stays for years below 1000, which it does not pad to four digits
    if at.year < 1000:
        return f"{at:%Y%m%d%H%M%S}{at.microsecond // 1000:03d}"
    return "%04d%02d%02d%02d%02d%02d%03d" % (  # noqa: UP031 (cheaper than f-string fields)
        at.year,
        at.month,
        at.day,
        at.hour,
        at.minute,
        at.second,
        at.microsecond // 1000,
    )


def _seconds(at: datetime) -> str:
    """``yyyyMMddHHmmss``: `stamp` without its three digits of milliseconds."""
    return stamp(at)[:-3]


class RefIds:
    """inf_refmsgid = receiver admdvs (6) + yyyyMMddHHmmss (14) + serial (10): the serial is the
    node number (2 digits) and a per-process counter (8 digits)."""

    def __init__(self, node: int = 0) -> None:
        self._node = node
        self._counter = itertools.count(1)
        self._lock = threading.Lock()

    def next(self, admdvs: str, at: datetime) -> str:
        with self._lock:
            n = next(self._counter) % 100_000_000
        return f"{admdvs}{_seconds(at)}{self._node:02d}{n:08d}"


def envelope(
    *,
    infcode: int,
    inf_refmsgid: str,
    received: datetime,
    responded: datetime,
    output: Any = None,
    err_msg: str | None = None,
    warn_msg: str | None = None,
) -> bytes:
    return jsonx.dumps(
        {
            "infcode": infcode,
            "inf_refmsgid": inf_refmsgid,
            "refmsg_time": stamp(received),
            "respond_time": stamp(responded),
            "err_msg": err_msg,
            "warn_msg": warn_msg,
            "cainfo": None,
            "signtype": None,
            "enctype": None,
            "output": output,
        }
    )
