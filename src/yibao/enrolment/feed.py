"""What enrolment tells the replica: the `fixmedins` and `psn` payloads of
`yibao.replica.rows`, appended to the change log in the changing transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, or_, select

from yibao.kit.clock import local_naive_now
from yibao.replica import rows as replica_rows
from yibao.storage import changelog
from yibao.storage.tables import fixmedins, psn, psn_idet, psn_insu

#: which insurance is a person's main one when there are several (employee before resident …)
_MAIN_ORDER = ("310", "390", "391", "380", "340", "320", "330", "392", "370")


def _main_insu(rows: list[dict[str, object]]) -> dict[str, object] | None:
    if not rows:
        return None

    def rank(r: dict[str, object]) -> tuple[int, int, str]:
        insutype = str(r["insutype"])
        order = _MAIN_ORDER.index(insutype) if insutype in _MAIN_ORDER else len(_MAIN_ORDER)
        return (0 if r["psn_insu_stas"] == "1" else 1, order, insutype)

    return min(rows, key=rank)


def person_payload(conn: Connection, psn_no: str, *, now: datetime | None = None) -> dict[str, Any]:
    row = dict(conn.execute(select(psn).where(psn.c.psn_no == psn_no)).mappings().one())
    insu = [
        dict(r)
        for r in conn.execute(select(psn_insu).where(psn_insu.c.psn_no == psn_no)).mappings()
    ]
    moment = now or local_naive_now()
    assistance = (
        conn.execute(
            select(psn_idet.c.psn_no)
            .where(psn_idet.c.psn_no == psn_no)
            .where(psn_idet.c.begntime <= moment)
            .where(or_(psn_idet.c.endtime.is_(None), psn_idet.c.endtime > moment))
            .limit(1)
        ).first()
        is not None
    )
    return replica_rows.psn_payload(row, _main_insu(insu), assistance=assistance)


def person_changed(conn: Connection, psn_no: str, *, now: datetime | None = None) -> int:
    """Append the person's payload; call last in the transaction (holds the seq lock shortest)."""
    return changelog.append(conn, replica_rows.PSN, psn_no, person_payload(conn, psn_no, now=now))


def institution_changed(conn: Connection, fixmedins_code: str) -> int:
    row = (
        conn.execute(select(fixmedins).where(fixmedins.c.fixmedins_code == fixmedins_code))
        .mappings()
        .one()
    )
    return changelog.append(
        conn, replica_rows.FIXMEDINS, fixmedins_code, replica_rows.fixmedins_payload(dict(row))
    )
