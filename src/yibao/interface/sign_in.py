"""Sign-in state of an institution's operators (9001 签到 / 9002 签退): the `sign_in` table.

Every call but 9001 carries the `sign_no` of an open sign-in of its own institution when the
region requires signing in (`Settings.require_sign_in`); the pipeline checks it here (and
caches a good answer, see `interface.pipeline`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from yibao.storage.tables import sign_in


@dataclass(frozen=True, slots=True)
class SignIn:
    """9001 input node `signIn`."""

    opter_no: str
    mac: str | None
    ip: str | None


@dataclass(frozen=True, slots=True)
class SignOut:
    """9002 input node `signOut`."""

    sign_no: str


def is_signed_in(conn: Connection, *, fixmedins_code: str, sign_no: str) -> bool:
    """True when `sign_no` is an open (not signed out) sign-in of this institution."""
    row = conn.execute(
        select(sign_in.c.fixmedins_code, sign_in.c.signout_time).where(sign_in.c.sign_no == sign_no)
    ).first()
    return row is not None and row[0] == fixmedins_code and row[1] is None


def record_sign_in(
    conn: Connection, *, sign_no: str, fixmedins_code: str, command: SignIn, at: datetime
) -> None:
    conn.execute(
        insert(sign_in).values(
            sign_no=sign_no,
            fixmedins_code=fixmedins_code,
            opter_no=command.opter_no,
            mac=command.mac,
            ip=command.ip,
            sign_time=at,
            signout_time=None,
        )
    )


def find_sign_in(conn: Connection, *, fixmedins_code: str, sign_no: str) -> dict[str, Any] | None:
    """The institution's sign-in `sign_no` (None when unknown or another institution's)."""
    row = conn.execute(select(sign_in).where(sign_in.c.sign_no == sign_no)).mappings().first()
    if row is None or row["fixmedins_code"] != fixmedins_code:
        return None
    return dict(row)


def record_sign_out(conn: Connection, *, sign_no: str, at: datetime) -> None:
    conn.execute(update(sign_in).where(sign_in.c.sign_no == sign_no).values(signout_time=at))
