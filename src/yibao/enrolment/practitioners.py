"""医执人员: an institution's practitioners (doctors, nurses, pharmacists, technicians) with
their national codes. The agency enrols them (`yibao enrol practitioner add`, and the demo
city from its doctors); the institution's HIS lists them with 5102.

Rules:
- `prac_psn_code` (the national 医保医师/护士/药师编码) is unique within the institution.
- A practitioner who leaves is ended (`vali_flag` "0", `endtime`, `chg_rea`), not deleted:
  visits and fee lines name the doctor.
- 5102 lists only the calling institution's valid practitioners.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping

from yibao.enrolment import audit
from yibao.enrolment.commands_departments import PracInfo, PracQuery
from yibao.enrolment.repo import departments as repo
from yibao.enrolment.repo.credentials import institution_flag
from yibao.errors import Conflict, InvalidInput, NotFound
from yibao.kit.clock import fmt_datetime
from yibao.kit.ids import IdGenerator


def _values(info: PracInfo) -> dict[str, Any]:
    values = asdict(info)
    values["prac_psn_type"] = str(info.prac_psn_type)
    return values


def _check(info: PracInfo) -> None:
    if info.hi_dr_flag not in ("0", "1"):
        raise InvalidInput(f"hi_dr_flag: 应为 0 或 1 '{info.hi_dr_flag}' (must be 0 or 1)")
    if info.endtime is not None and info.endtime <= info.begntime:
        raise InvalidInput("endtime: 结束时间应晚于开始时间 (endtime must be after begntime)")


def add(
    conn: Connection,
    info: PracInfo,
    *,
    fixmedins_code: str,
    ids: IdGenerator,
    actor: str,
    now: datetime,
) -> None:
    """Enrol one practitioner of the institution (audited)."""
    _check(info)
    if institution_flag(conn, fixmedins_code) is None:
        raise NotFound(f"fixmedins_code: 机构不存在 '{fixmedins_code}' (no such institution)")
    if repo.fetch_prac(conn, fixmedins_code=fixmedins_code, prac_psn_code=info.prac_psn_code):
        raise Conflict(
            f"prac_psn_code: 执业人员已登记 '{info.prac_psn_code}' (practitioner already enrolled)"
        )
    repo.insert_prac(
        conn, prac_id=ids.next_str(), fixmedins_code=fixmedins_code, values=_values(info), now=now
    )
    audit.record(
        conn,
        ids=ids,
        actor=actor,
        action="practitioner.add",
        target=f"{fixmedins_code}/{info.prac_psn_code}",
        detail={"prac_psn_type": str(info.prac_psn_type), "hi_dr_flag": info.hi_dr_flag},
        at=now,
    )


def end(
    conn: Connection,
    *,
    fixmedins_code: str,
    prac_psn_code: str,
    reason: str,
    ids: IdGenerator,
    actor: str,
    now: datetime,
) -> None:
    """The practitioner leaves the institution (audited)."""
    changed = repo.end_prac(
        conn,
        fixmedins_code=fixmedins_code,
        prac_psn_code=prac_psn_code,
        endtime=now,
        chg_rea=reason[:200],
    )
    if not changed:
        raise NotFound(f"prac_psn_code: 无有效执业人员 '{prac_psn_code}' (no valid practitioner)")
    audit.record(
        conn,
        ids=ids,
        actor=actor,
        action="practitioner.end",
        target=f"{fixmedins_code}/{prac_psn_code}",
        detail={"chg_rea": reason},
        at=now,
    )


def seed(
    conn: Connection,
    infos: Iterable[PracInfo],
    *,
    fixmedins_code: str,
    ids: IdGenerator,
    now: datetime,
) -> int:
    """Enrol the practitioners not enrolled yet (the demo city's doctors); idempotent, returns
    how many were added."""
    have = repo.existing_prac_codes(conn, fixmedins_code=fixmedins_code)
    added = 0
    for info in infos:
        if info.prac_psn_code in have:
            continue
        repo.insert_prac(
            conn,
            prac_id=ids.next_str(),
            fixmedins_code=fixmedins_code,
            values=_values(info),
            now=now,
        )
        have.add(info.prac_psn_code)
        added += 1
    return added


#: the fields 5102 answers, in the public client's order
OUTPUT_FIELDS = (
    "psn_cert_type",
    "certno",
    "prac_psn_no",
    "prac_psn_code",
    "prac_psn_name",
    "prac_psn_type",
    "prac_psn_cert",
    "prac_cert_no",
    "hi_dr_flag",
    "begntime",
    "endtime",
    "chg_rea",
)


def output_row(row: RowMapping) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in OUTPUT_FIELDS:
        value = row[key]
        out[key] = fmt_datetime(value) if isinstance(value, datetime) else value
    # provisional: the department the practitioner works in (not in the public shapes)
    out["hosp_dept_codg"] = row["hosp_dept_codg"]
    return out


def query(conn: Connection, q: PracQuery, *, fixmedins_code: str) -> list[dict[str, Any]]:
    """5102: the institution's valid practitioners matching `q`."""
    rows = repo.list_pracs(
        conn,
        fixmedins_code=fixmedins_code,
        prac_psn_type=str(q.prac_psn_type),
        psn_cert_type=q.psn_cert_type,
        certno=q.certno,
        prac_psn_name=q.prac_psn_name,
        prac_psn_code=q.prac_psn_code,
    )
    return [output_row(r) for r in rows]


def list_all(conn: Connection, *, fixmedins_code: str, only_valid: bool) -> list[dict[str, Any]]:
    """Every practitioner of the institution (the CLI's list)."""
    rows = repo.list_pracs(conn, fixmedins_code=fixmedins_code, only_valid=only_valid)
    return [{**output_row(r), "vali_flag": r["vali_flag"]} for r in rows]
