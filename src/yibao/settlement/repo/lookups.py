"""Reads of the lookup transactions: the public directory of designated institutions (1201),
a visit's diagnoses (5202) and the drug lines of 门诊慢特病 visits (5205). Every read of
visits, diagnoses and lines takes the calling institution (`fixmedins_code`) as its scope."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import Connection, func, select

from yibao.settlement.repo.rows import Row
from yibao.storage.tables import diag, fee_detail, fixmedins, mdtrt

#: 1201 answers only the public fields of an institution: code, name, kind, level, region.
_PUBLIC = (
    fixmedins.c.fixmedins_code,
    fixmedins.c.fixmedins_name,
    fixmedins.c.kind,
    fixmedins.c.hosp_lv,
    fixmedins.c.admdvs,
    fixmedins.c.vali_flag,
)


def institutions(
    conn: Connection,
    *,
    kinds: Collection[str] | None,
    name_part: str | None,
    code: str | None,
    offset: int,
    limit: int,
) -> tuple[list[Row], int]:
    """Valid institutions matching the filters, by code, and how many match in all."""
    conds = [fixmedins.c.vali_flag == "1"]
    if kinds is not None:
        conds.append(fixmedins.c.kind.in_(sorted(kinds)))
    if name_part:
        escaped = name_part.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        conds.append(fixmedins.c.fixmedins_name.like(f"%{escaped}%", escape="\\"))
    if code:
        conds.append(fixmedins.c.fixmedins_code == code)
    total = conn.execute(select(func.count()).select_from(fixmedins).where(*conds)).scalar_one()
    query = (
        select(*_PUBLIC)
        .where(*conds)
        .order_by(fixmedins.c.fixmedins_code)
        .offset(offset)
        .limit(limit)
    )
    return [dict(r) for r in conn.execute(query).mappings()], int(total)


def diagnoses_of_visit(conn: Connection, mdtrt_id: str, *, fixmedins_code: str) -> list[Row]:
    """The visit's diagnoses (every stage: 2203 otp, 2401 adm, 2402 dscg) if the visit is the
    institution's; none otherwise."""
    query = (
        select(diag)
        .join(mdtrt, mdtrt.c.mdtrt_id == diag.c.mdtrt_id)
        .where(diag.c.mdtrt_id == mdtrt_id, mdtrt.c.fixmedins_code == fixmedins_code)
        .order_by(diag.c.stage, diag.c.diag_srt_no)
    )
    return [dict(r) for r in conn.execute(query).mappings()]


def settled_lines_of_person(
    conn: Connection,
    *,
    fixmedins_code: str,
    psn_no: str,
    med_types: Collection[str],
    list_types: Collection[str],
    fee_from: datetime,
    fee_to: datetime,
    limit: int,
) -> list[Row]:
    """The person's valid, settled fee lines of the given list types on visits of the given
    med_types at the institution, with the visit's med_type and disease, by fee time."""
    query = (
        select(
            fee_detail,
            mdtrt.c.med_type,
            mdtrt.c.dise_codg.label("visit_dise_codg"),
            mdtrt.c.dise_name.label("visit_dise_name"),
        )
        .join(mdtrt, mdtrt.c.mdtrt_id == fee_detail.c.mdtrt_id)
        .where(
            fee_detail.c.fixmedins_code == fixmedins_code,
            fee_detail.c.psn_no == psn_no,
            fee_detail.c.vali_flag == "1",
            fee_detail.c.setl_id.is_not(None),
            fee_detail.c.list_type.in_(sorted(list_types)),
            fee_detail.c.fee_ocur_time >= fee_from,
            fee_detail.c.fee_ocur_time <= fee_to,
            mdtrt.c.fixmedins_code == fixmedins_code,
            mdtrt.c.med_type.in_(sorted(med_types)),
        )
        .order_by(fee_detail.c.fee_ocur_time, fee_detail.c.feedetl_sn)
        .limit(limit)
    )
    return [dict(r) for r in conn.execute(query).mappings()]
