"""SQL of an institution's departments (`fixmedins_dept`) and practitioners
(`fixmedins_prac`). Every statement takes the institution (`fixmedins_code`) it acts for: an
institution sees and changes only its own records."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, and_, insert, or_, select, update

from yibao.storage.tables import fixmedins_dept, fixmedins_prac

#: the columns a 3401/3402 `deptinfo` sets (the national field names)
DEPT_FIELDS = (
    "hosp_dept_codg",
    "hosp_dept_name",
    "caty",
    "begntime",
    "endtime",
    "itro",
    "dept_resper_name",
    "dept_resper_tel",
    "dept_med_serv_scp",
    "dept_estbdat",
    "aprv_bed_cnt",
    "hi_crtf_bed_cnt",
    "poolarea_no",
    "dr_psncnt",
    "phar_psncnt",
    "nurs_psncnt",
    "tecn_psncnt",
    "memo",
)

PRAC_FIELDS = (
    "prac_psn_code",
    "prac_psn_no",
    "prac_psn_name",
    "prac_psn_type",
    "psn_cert_type",
    "certno",
    "prac_psn_cert",
    "prac_cert_no",
    "hi_dr_flag",
    "hosp_dept_codg",
    "begntime",
    "endtime",
    "chg_rea",
)


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


# -- departments --------------------------------------------------------------------------------


def fetch_dept(conn: Connection, *, fixmedins_code: str, hosp_dept_codg: str) -> RowMapping | None:
    """The institution's department by its code, valid or cancelled."""
    return (
        conn.execute(
            select(fixmedins_dept).where(
                fixmedins_dept.c.fixmedins_code == fixmedins_code,
                fixmedins_dept.c.hosp_dept_codg == hosp_dept_codg,
            )
        )
        .mappings()
        .first()
    )


def fetch_depts(
    conn: Connection, *, fixmedins_code: str, codes: Sequence[str]
) -> dict[str, RowMapping]:
    """The institution's departments among `codes`, by code."""
    if not codes:
        return {}
    rows = conn.execute(
        select(fixmedins_dept).where(
            fixmedins_dept.c.fixmedins_code == fixmedins_code,
            fixmedins_dept.c.hosp_dept_codg.in_(list(codes)),
        )
    ).mappings()
    return {str(r["hosp_dept_codg"]): r for r in rows}


def insert_dept(
    conn: Connection,
    *,
    dept_id: str,
    fixmedins_code: str,
    values: Mapping[str, Any],
    msgid: str | None,
    now: datetime,
) -> None:
    conn.execute(
        insert(fixmedins_dept).values(
            dept_id=dept_id,
            fixmedins_code=fixmedins_code,
            vali_flag="1",
            msgid=msgid,
            created_at=now,
            updated_at=now,
            **{k: values.get(k) for k in DEPT_FIELDS},
        )
    )


def update_dept(
    conn: Connection,
    *,
    fixmedins_code: str,
    hosp_dept_codg: str,
    values: Mapping[str, Any],
    msgid: str | None,
    now: datetime,
) -> int:
    """Sets `values` (national field names, and `vali_flag`) on the institution's department;
    returns the rows changed (0 or 1)."""
    allowed = {*DEPT_FIELDS, "vali_flag"}
    unknown = set(values) - allowed
    if unknown:
        raise ValueError(f"not department columns: {sorted(unknown)}")
    result = conn.execute(
        update(fixmedins_dept)
        .where(
            fixmedins_dept.c.fixmedins_code == fixmedins_code,
            fixmedins_dept.c.hosp_dept_codg == hosp_dept_codg,
        )
        .values(msgid=msgid, updated_at=now, **dict(values))
    )
    return int(result.rowcount or 0)


def list_depts(
    conn: Connection,
    *,
    fixmedins_code: str,
    vali_flag: str,
    hosp_dept_codg: str | None = None,
    hosp_dept_name: str | None = None,
    valid_at: datetime | None = None,
    limit: int = 5000,
) -> list[RowMapping]:
    t = fixmedins_dept
    conds = [t.c.fixmedins_code == fixmedins_code, t.c.vali_flag == vali_flag]
    if hosp_dept_codg is not None:
        conds.append(t.c.hosp_dept_codg == hosp_dept_codg)
    if hosp_dept_name is not None:
        conds.append(t.c.hosp_dept_name.like(_like(hosp_dept_name), escape="\\"))
    if valid_at is not None:
        conds.append(t.c.begntime <= valid_at)
        conds.append(or_(t.c.endtime.is_(None), t.c.endtime > valid_at))
    return list(
        conn.execute(select(t).where(and_(*conds)).order_by(t.c.hosp_dept_codg).limit(limit))
        .mappings()
        .all()
    )


# -- practitioners ------------------------------------------------------------------------------


def fetch_prac(conn: Connection, *, fixmedins_code: str, prac_psn_code: str) -> RowMapping | None:
    return (
        conn.execute(
            select(fixmedins_prac).where(
                fixmedins_prac.c.fixmedins_code == fixmedins_code,
                fixmedins_prac.c.prac_psn_code == prac_psn_code,
            )
        )
        .mappings()
        .first()
    )


def existing_prac_codes(conn: Connection, *, fixmedins_code: str) -> set[str]:
    rows = conn.execute(
        select(fixmedins_prac.c.prac_psn_code).where(
            fixmedins_prac.c.fixmedins_code == fixmedins_code
        )
    )
    return {str(r[0]) for r in rows}


def insert_prac(
    conn: Connection,
    *,
    prac_id: str,
    fixmedins_code: str,
    values: Mapping[str, Any],
    now: datetime,
) -> None:
    conn.execute(
        insert(fixmedins_prac).values(
            prac_id=prac_id,
            fixmedins_code=fixmedins_code,
            vali_flag="1",
            created_at=now,
            updated_at=now,
            **{k: values.get(k) for k in PRAC_FIELDS},
        )
    )


def end_prac(
    conn: Connection, *, fixmedins_code: str, prac_psn_code: str, endtime: datetime, chg_rea: str
) -> int:
    result = conn.execute(
        update(fixmedins_prac)
        .where(
            fixmedins_prac.c.fixmedins_code == fixmedins_code,
            fixmedins_prac.c.prac_psn_code == prac_psn_code,
            fixmedins_prac.c.vali_flag == "1",
        )
        .values(vali_flag="0", endtime=endtime, chg_rea=chg_rea, updated_at=endtime)
    )
    return int(result.rowcount or 0)


def list_pracs(
    conn: Connection,
    *,
    fixmedins_code: str,
    prac_psn_type: str | None = None,
    psn_cert_type: str | None = None,
    certno: str | None = None,
    prac_psn_name: str | None = None,
    prac_psn_code: str | None = None,
    only_valid: bool = True,
    limit: int = 5000,
) -> list[RowMapping]:
    t = fixmedins_prac
    conds = [t.c.fixmedins_code == fixmedins_code]
    if only_valid:
        conds.append(t.c.vali_flag == "1")
    if prac_psn_type is not None:
        conds.append(t.c.prac_psn_type == prac_psn_type)
    if psn_cert_type is not None:
        conds.append(t.c.psn_cert_type == psn_cert_type)
    if certno is not None:
        conds.append(t.c.certno == certno)
    if prac_psn_name is not None:
        conds.append(t.c.prac_psn_name.like(_like(prac_psn_name), escape="\\"))
    if prac_psn_code is not None:
        conds.append(t.c.prac_psn_code == prac_psn_code)
    return list(
        conn.execute(select(t).where(and_(*conds)).order_by(t.c.prac_psn_code).limit(limit))
        .mappings()
        .all()
    )
