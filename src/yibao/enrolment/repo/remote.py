"""异地就医备案 SQL (`remote_reg`): a person's registrations for care outside the insured region."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, or_, select, update

from yibao.storage.prepared import Prepared
from yibao.storage.tables import remote_reg


def insert_registration(conn: Connection, values: Mapping[str, Any]) -> None:
    conn.execute(insert(remote_reg).values(**values))


def get(conn: Connection, remote_reg_id: str) -> dict[str, Any] | None:
    row = (
        conn.execute(select(remote_reg).where(remote_reg.c.remote_reg_id == remote_reg_id))
        .mappings()
        .first()
    )
    return dict(row) if row is not None else None


#: `valid_of_person` with a day and an insurance type (every remote settlement asks it)
_P_VALID_ON = Prepared(
    select(remote_reg)
    .where(
        remote_reg.c.psn_no == bindparam("psn_no"),
        remote_reg.c.vali_flag == "1",
        remote_reg.c.begndate <= bindparam("on"),
        or_(remote_reg.c.enddate.is_(None), remote_reg.c.enddate >= bindparam("on")),
        or_(remote_reg.c.insutype.is_(None), remote_reg.c.insutype == bindparam("insutype")),
    )
    .order_by(remote_reg.c.begndate, remote_reg.c.remote_reg_id)
)


def valid_of_person(
    conn: Connection, psn_no: str, *, on: date | None = None, insutype: str | None = None
) -> list[dict[str, Any]]:
    """The person's registrations not revoked (valid on `on` when given; of `insutype` or of
    every insurance when given), oldest first."""
    if on is not None and insutype is not None:  # a settlement's check: prepared once
        return _P_VALID_ON.all(conn, {"psn_no": psn_no, "on": on, "insutype": insutype})
    q = select(remote_reg).where(remote_reg.c.psn_no == psn_no, remote_reg.c.vali_flag == "1")
    if on is not None:
        q = q.where(
            remote_reg.c.begndate <= on,
            or_(remote_reg.c.enddate.is_(None), remote_reg.c.enddate >= on),
        )
    if insutype is not None:
        q = q.where(or_(remote_reg.c.insutype.is_(None), remote_reg.c.insutype == insutype))
    return [
        dict(r)
        for r in conn.execute(q.order_by(remote_reg.c.begndate, remote_reg.c.remote_reg_id))
        .mappings()
        .all()
    ]


def find(
    conn: Connection,
    *,
    psn_no: str | None = None,
    mdtrt_area_admdvs: str | None = None,
    insuplc_admdvs: str | None = None,
    active_on: date | None = None,
    include_revoked: bool = False,
    limit: int = 100,
    offset: int = 0,
) -> tuple[int, list[dict[str, Any]]]:
    conds = []
    if psn_no is not None:
        conds.append(remote_reg.c.psn_no == psn_no)
    if mdtrt_area_admdvs is not None:
        conds.append(remote_reg.c.mdtrt_area_admdvs == mdtrt_area_admdvs)
    if insuplc_admdvs is not None:
        conds.append(remote_reg.c.insuplc_admdvs == insuplc_admdvs)
    if not include_revoked:
        conds.append(remote_reg.c.vali_flag == "1")
    if active_on is not None:
        conds.append(remote_reg.c.begndate <= active_on)
        conds.append(or_(remote_reg.c.enddate.is_(None), remote_reg.c.enddate >= active_on))
    total = conn.execute(select(func.count()).select_from(remote_reg).where(*conds)).scalar_one()
    rows = (
        conn.execute(
            select(remote_reg)
            .where(*conds)
            .order_by(remote_reg.c.created_at.desc(), remote_reg.c.remote_reg_id)
            .limit(limit)
            .offset(offset)
        )
        .mappings()
        .all()
    )
    return int(total), [dict(r) for r in rows]


def revoke(conn: Connection, remote_reg_id: str, values: Mapping[str, Any]) -> int:
    return conn.execute(
        update(remote_reg)
        .where(remote_reg.c.remote_reg_id == remote_reg_id, remote_reg.c.vali_flag == "1")
        .values(vali_flag="0", **values)
    ).rowcount
