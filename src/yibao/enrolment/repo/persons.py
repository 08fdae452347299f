"""参保人 SQL (`psn`): fetch, find, uniqueness look-ups, insert, update.

Fetching and finding take the caller's `Scope`: the agency sees every person; an institution
the persons it has treated (a visit, `mdtrt`, at one of its codes). Uniqueness of the
certificate, the card and the e-voucher is platform-wide.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, Connection, func, insert, select, update

from yibao.enrolment.scope import Scope
from yibao.storage.tables import mdtrt, psn, psn_insu


def _within(scope: Scope) -> list[ColumnElement[bool]]:
    if scope.fixmedins_codes is None:
        return []
    treated = select(mdtrt.c.psn_no).where(
        mdtrt.c.fixmedins_code.in_(sorted(scope.fixmedins_codes))
    )
    return [psn.c.psn_no.in_(treated)]


def get(conn: Connection, psn_no: str, *, scope: Scope) -> dict[str, Any] | None:
    row = (
        conn.execute(select(psn).where(psn.c.psn_no == psn_no).where(*_within(scope)))
        .mappings()
        .first()
    )
    return dict(row) if row else None


def page(
    conn: Connection,
    *,
    scope: Scope,
    certno: str | None,
    card_no: str | None,
    family_id: str | None,
    insutype: str | None,
    insuplc_admdvs: str | None,
    limit: int,
    offset: int,
) -> tuple[int, list[dict[str, Any]]]:
    """(total, page) of persons (their own columns), ordered by psn_no."""
    conds = _within(scope)
    if certno:
        conds.append(psn.c.certno == certno)
    if card_no:
        conds.append(psn.c.card_no == card_no)
    if family_id:
        conds.append(psn.c.family_id == family_id)
    if insutype or insuplc_admdvs:
        sub = select(psn_insu.c.psn_no)
        if insutype:
            sub = sub.where(psn_insu.c.insutype == insutype)
        if insuplc_admdvs:
            sub = sub.where(psn_insu.c.insuplc_admdvs == insuplc_admdvs)
        conds.append(psn.c.psn_no.in_(sub))
    total = conn.execute(select(func.count()).select_from(psn).where(*conds)).scalar_one()
    rows = conn.execute(
        select(psn).where(*conds).order_by(psn.c.psn_no).limit(limit).offset(offset)
    ).mappings()
    return int(total), [dict(r) for r in rows]


def exists(conn: Connection, psn_no: str) -> bool:
    return conn.execute(select(psn.c.psn_no).where(psn.c.psn_no == psn_no)).first() is not None


def holder_of_certificate(conn: Connection, psn_cert_type: str, certno: str) -> str | None:
    """The psn_no registered with this certificate, if any."""
    holder: str | None = conn.execute(
        select(psn.c.psn_no)
        .where(psn.c.psn_cert_type == psn_cert_type)
        .where(psn.c.certno == certno)
    ).scalar()
    return holder


def taken(
    conn: Connection,
    field: Literal["card_no", "ec_token"],
    value: str,
    *,
    other_than: str | None = None,
) -> bool:
    """Whether another person (not `other_than`) holds this card number or e-voucher token."""
    query = select(psn.c.psn_no).where(psn.c[field] == value)
    if other_than is not None:
        query = query.where(psn.c.psn_no != other_than)
    return conn.execute(query.limit(1)).first() is not None


def insert_person(conn: Connection, values: Mapping[str, Any]) -> None:
    conn.execute(insert(psn).values(**values))


def update_person(
    conn: Connection, psn_no: str, changes: Mapping[str, Any], *, updated_at: datetime
) -> None:
    conn.execute(update(psn).where(psn.c.psn_no == psn_no).values(**changes, updated_at=updated_at))
