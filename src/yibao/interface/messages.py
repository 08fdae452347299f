"""The message log (`msg_log`) as the national interface reads it: every answered message by
its msgid."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from sqlalchemy import Connection, select

from yibao.storage.tables import msg_log


def find_message(conn: Connection, msgid: str) -> Mapping[str, Any] | None:
    """The stored msg_log row of message `msgid` (fixmedins_code, infno, infcode, psn_no,
    ref_id, response …), or None. Not scoped: the caller checks fixmedins_code."""
    found = conn.execute(select(msg_log).where(msg_log.c.msgid == msgid)).mappings().first()
    return cast("Mapping[str, Any] | None", found)
