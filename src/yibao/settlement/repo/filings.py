"""SQL of the filings (`trt_dcla`): write a filing, undo it, and the reads of settlement and of
the 53xx queries.

Scope: a filing is changed only by the institution that filed it (`fixmedins_code`), and
another institution's filing is answered as missing. The entitlement reads
(`valid_filings`) are by person on purpose: a filing is what entitles the person at every
institution (a chronic filing made at the diagnosing hospital, a transfer filed by the
referring one and used by the receiving one), like the person's insurance; they return the
entitlement fields only, never the filer's contact data.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, and_, or_, select, update

from yibao.settlement.repo.visits import ADMITTED, DISCHARGED, INPATIENT
from yibao.storage.tables import mdtrt, psn, trt_dcla

Row = dict[str, Any]

TRANSFER = "transfer"
CHRONIC = "chronic"
MATERNITY = "maternity"

#: what other institutions may see of a filing
_ENTITLEMENT_COLS = (
    trt_dcla.c.trt_dcla_detl_sn,
    trt_dcla.c.dcla_kind,
    trt_dcla.c.psn_no,
    trt_dcla.c.insutype,
    trt_dcla.c.fixmedins_code,
    trt_dcla.c.dise_codg,
    trt_dcla.c.dise_name,
    trt_dcla.c.medins_no,
    trt_dcla.c.medins_name,
    trt_dcla.c.begndate,
    trt_dcla.c.enddate,
)


def insert_filing(conn: Connection, row: Row) -> None:
    conn.execute(trt_dcla.insert().values(**row))


def own_filing(
    conn: Connection, *, fixmedins_code: str, trt_dcla_detl_sn: str, kind: str
) -> Row | None:
    """The institution's own filing of `kind`, undone or not; None for another's."""
    row = (
        conn.execute(
            select(trt_dcla).where(
                trt_dcla.c.trt_dcla_detl_sn == trt_dcla_detl_sn,
                trt_dcla.c.fixmedins_code == fixmedins_code,
                trt_dcla.c.dcla_kind == kind,
            )
        )
        .mappings()
        .first()
    )
    return dict(row) if row is not None else None


def undo_filing(
    conn: Connection,
    *,
    fixmedins_code: str,
    trt_dcla_detl_sn: str,
    at: datetime,
    msgid: str,
    memo: str | None,
) -> int:
    """Mark a valid filing undone (never a delete); the count of rows changed."""
    result = conn.execute(
        update(trt_dcla)
        .where(
            trt_dcla.c.trt_dcla_detl_sn == trt_dcla_detl_sn,
            trt_dcla.c.fixmedins_code == fixmedins_code,
            trt_dcla.c.vali_flag == "1",
        )
        .values(vali_flag="0", revs_time=at, revs_msgid=msgid, revs_memo=memo, updated_at=at)
    )
    return int(result.rowcount or 0)


def valid_filings(
    conn: Connection,
    *,
    psn_no: str,
    kinds: tuple[str, ...],
    day: date | None = None,
    insutype: str | None = None,
) -> list[Row]:
    """The person's filings of `kinds` not undone (and, with `day`, in force that day; with
    `insutype`, for that insurance or for none named), oldest first."""
    query = select(*_ENTITLEMENT_COLS).where(
        trt_dcla.c.psn_no == psn_no,
        trt_dcla.c.dcla_kind.in_(kinds),
        trt_dcla.c.vali_flag == "1",
    )
    if day is not None:
        query = query.where(
            trt_dcla.c.begndate <= day,
            or_(trt_dcla.c.enddate.is_(None), trt_dcla.c.enddate >= day),
        )
    if insutype is not None:
        query = query.where(or_(trt_dcla.c.insutype.is_(None), trt_dcla.c.insutype == insutype))
    rows = conn.execute(query.order_by(trt_dcla.c.begndate, trt_dcla.c.created_at)).mappings()
    return [dict(r) for r in rows]


def transfer_filings(
    conn: Connection,
    *,
    fixmedins_code: str,
    psn_no: str,
    begn_from: date | None,
    begn_to: date | None,
) -> list[Row]:
    """5304: the person's valid transfer filings that concern the institution — filed by it or
    naming it as the receiving one — with the person's data, latest first."""
    query = (
        select(
            trt_dcla,
            psn.c.psn_cert_type,
            psn.c.certno,
            psn.c.psn_name,
            psn.c.gend,
            psn.c.brdy,
        )
        .select_from(trt_dcla.join(psn, psn.c.psn_no == trt_dcla.c.psn_no))
        .where(
            trt_dcla.c.psn_no == psn_no,
            trt_dcla.c.dcla_kind == TRANSFER,
            trt_dcla.c.vali_flag == "1",
            or_(
                trt_dcla.c.fixmedins_code == fixmedins_code,
                trt_dcla.c.medins_no == fixmedins_code,
            ),
        )
    )
    if begn_from is not None:
        query = query.where(or_(trt_dcla.c.enddate.is_(None), trt_dcla.c.enddate >= begn_from))
    if begn_to is not None:
        query = query.where(trt_dcla.c.begndate <= begn_to)
    rows = conn.execute(query.order_by(trt_dcla.c.begndate.desc())).mappings()
    return [dict(r) for r in rows]


def open_admissions(
    conn: Connection,
    *,
    fixmedins_code: str,
    psn_no: str,
    begn_from: datetime | None,
    begn_to: datetime | None,
) -> list[Row]:
    """5303: the person's admissions at the institution not yet settled or cancelled (admitted
    or discharged), with the person's data, latest first."""
    query = (
        select(
            mdtrt,
            psn.c.psn_cert_type,
            psn.c.certno,
            psn.c.psn_name,
            psn.c.gend,
            psn.c.brdy,
        )
        .select_from(mdtrt.join(psn, psn.c.psn_no == mdtrt.c.psn_no))
        .where(
            and_(
                mdtrt.c.psn_no == psn_no,
                mdtrt.c.fixmedins_code == fixmedins_code,
                mdtrt.c.mdtrt_kind == INPATIENT,
                mdtrt.c.vali_flag == "1",
                mdtrt.c.mdtrt_stas.in_((ADMITTED, DISCHARGED)),
            )
        )
    )
    if begn_from is not None:
        query = query.where(mdtrt.c.begntime >= begn_from)
    if begn_to is not None:
        query = query.where(mdtrt.c.begntime <= begn_to)
    rows = conn.execute(query.order_by(mdtrt.c.begntime.desc())).mappings()
    return [dict(r) for r in rows]
