"""参保人 insurance (psn_insu) and assistance identities (psn_idet): enrol in another
insurance, change it, suspend (1 → 2), resume (2 → 1) or terminate (1/2 → 4) it, and record
identities. The rules on insutype and psn_type are those of `persons`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection

from yibao.codes.dicts import PsnIdetType, PsnInsuStas
from yibao.enrolment import audit, checks, feed
from yibao.enrolment.institutions import UNSET, Unset
from yibao.enrolment.persons import Insurance, check_insurance, get_person, person_row
from yibao.enrolment.repo import identities as identity_repo
from yibao.enrolment.repo import insurance as repo
from yibao.errors import Conflict, InvalidInput, NotFound
from yibao.kit.clock import local_naive_now
from yibao.kit.ids import IdGenerator

# ---------------------------------------------------------------------------------------------
# insurance
# ---------------------------------------------------------------------------------------------


def _insu_row(conn: Connection, psn_no: str, insutype: str) -> dict[str, Any]:
    row = repo.get(conn, psn_no, insutype)
    if row is None:
        raise NotFound(
            f"insutype: 人员 {psn_no} 未参加险种 '{insutype}' (the person has no such insurance)"
        )
    return row


def add_insurance(
    conn: Connection,
    *,
    ids: IdGenerator,
    actor: str,
    psn_no: str,
    insurance: Insurance,
    now: datetime | None = None,
) -> dict[str, Any]:
    moment = now or local_naive_now()
    person = person_row(conn, psn_no)
    values = check_insurance(insurance, field="insurance", brdy=person["brdy"], today=moment.date())
    if repo.exists(conn, psn_no, values["insutype"]):
        raise Conflict(
            f"insurance.insutype: 人员已参加该险种 '{values['insutype']}' (already enrolled)"
        )
    repo.insert_insurance(conn, psn_no, values, at=moment)
    audit.record(
        conn,
        ids=ids,
        actor=actor,
        action="psn_insu.add",
        target=psn_no,
        detail={k: values[k] for k in ("insutype", "psn_type", "psn_insu_stas", "insuplc_admdvs")},
        at=moment,
    )
    feed.person_changed(conn, psn_no, now=moment)
    return get_person(conn, psn_no=psn_no)


def change_insurance(
    conn: Connection,
    *,
    ids: IdGenerator,
    actor: str,
    psn_no: str,
    insutype: str,
    psn_type: str | None = None,
    insuplc_admdvs: str | None = None,
    cvlserv_flag: str | None = None,
    emp_name: str | Unset | None = UNSET,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Change the person type, insured region, civil-servant flag or employer."""
    person = person_row(conn, psn_no)
    row = _insu_row(conn, psn_no, insutype)
    moment = now or local_naive_now()
    merged = Insurance(
        insutype=insutype,
        psn_type=psn_type if psn_type is not None else row["psn_type"],
        insuplc_admdvs=insuplc_admdvs if insuplc_admdvs is not None else row["insuplc_admdvs"],
        psn_insu_date=row["psn_insu_date"],
        psn_insu_stas=row["psn_insu_stas"],
        cvlserv_flag=cvlserv_flag if cvlserv_flag is not None else row["cvlserv_flag"],
        emp_name=row["emp_name"] if isinstance(emp_name, Unset) else emp_name,
    )
    values = check_insurance(merged, field="insurance", brdy=person["brdy"], today=moment.date())
    fields = ("psn_type", "insuplc_admdvs", "cvlserv_flag", "emp_name")
    changes = {k: values[k] for k in fields if values[k] != row[k]}
    if not changes:
        return get_person(conn, psn_no=psn_no)
    repo.update_insurance(conn, psn_no, insutype, changes, updated_at=moment)
    audit.record(
        conn,
        ids=ids,
        actor=actor,
        action="psn_insu.change",
        target=psn_no,
        detail={"insutype": insutype, **{k: {"from": row[k], "to": v} for k, v in changes.items()}},
        at=moment,
    )
    feed.person_changed(conn, psn_no, now=moment)
    return get_person(conn, psn_no=psn_no)


_VERBS = {"suspend": "暂停", "terminate": "终止", "resume": "恢复"}
_STATUS_ACTIONS = {
    "suspend": (PsnInsuStas.SUSPENDED, ("1",)),
    "terminate": (PsnInsuStas.TERMINATED, ("1", "2")),
    "resume": (PsnInsuStas.NORMAL, ("2",)),
}


def set_insurance_status(
    conn: Connection,
    *,
    ids: IdGenerator,
    actor: str,
    psn_no: str,
    insutype: str,
    action: str,
    on: date | None = None,
    reason: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """`action` suspend (1 → 2), terminate (1/2 → 4) or resume (2 → 1), effective `on`."""
    if action not in _STATUS_ACTIONS:
        raise InvalidInput(f"action: 未知操作 '{action}' (allowed: {', '.join(_STATUS_ACTIONS)})")
    target, allowed_from = _STATUS_ACTIONS[action]
    person_row(conn, psn_no)
    row = _insu_row(conn, psn_no, insutype)
    if row["psn_insu_stas"] not in allowed_from:
        current = PsnInsuStas.of(row["psn_insu_stas"])
        raise Conflict(
            f"psn_insu_stas: 当前状态为 '{current.value}' {current.label}, 不能{_VERBS[action]} "
            f"(cannot {action} an insurance in status {current.value})"
        )
    moment = now or local_naive_now()
    effective = on or moment.date()
    if effective < row["psn_insu_date"]:
        raise InvalidInput("on: 生效日期早于参保日期 (before the enrolment date)")
    note = checks.text(reason, field="reason", max_len=200, required=False)
    paus = None if target is PsnInsuStas.NORMAL else effective
    repo.set_status(
        conn,
        psn_no,
        insutype,
        psn_insu_stas=target.value,
        paus_insu_date=paus,
        updated_at=moment,
    )
    audit.record(
        conn,
        ids=ids,
        actor=actor,
        action=f"psn_insu.{action}",
        target=psn_no,
        detail={
            "insutype": insutype,
            "from": row["psn_insu_stas"],
            "to": target.value,
            "on": effective,
            "reason": note,
        },
        at=moment,
    )
    feed.person_changed(conn, psn_no, now=moment)
    return get_person(conn, psn_no=psn_no)


# ---------------------------------------------------------------------------------------------
# assistance identities (psn_idet)
# ---------------------------------------------------------------------------------------------


def record_identity(
    conn: Connection,
    *,
    ids: IdGenerator,
    actor: str,
    psn_no: str,
    psn_idet_type: str,
    begntime: datetime,
    endtime: datetime | None = None,
    psn_type_lv: str | None = None,
    memo: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Record an assistance identity (低保, 特困, …) valid from `begntime` to `endtime`."""
    person_row(conn, psn_no)
    kind = checks.dict_value(PsnIdetType, psn_idet_type, field="psn_idet_type")
    if endtime is not None and endtime <= begntime:
        raise InvalidInput("endtime: 结束时间须晚于开始时间 (must be after begntime)")
    level = checks.text(psn_type_lv, field="psn_type_lv", max_len=3, required=False)
    note = checks.text(memo, field="memo", max_len=500, required=False)
    if identity_repo.exists(conn, psn_no, kind.value, begntime):
        raise Conflict(
            f"psn_idet_type: 该身份已于 {begntime} 登记 (identity already recorded from this time)"
        )
    moment = now or local_naive_now()
    identity_repo.insert_identity(
        conn,
        {
            "psn_no": psn_no,
            "psn_idet_type": kind.value,
            "begntime": begntime,
            "endtime": endtime,
            "psn_type_lv": level,
            "memo": note,
        },
    )
    audit.record(
        conn,
        ids=ids,
        actor=actor,
        action="psn_idet.record",
        target=psn_no,
        detail={
            "psn_idet_type": kind.value,
            "begntime": begntime,
            "endtime": endtime,
            "psn_type_lv": level,
        },
        at=moment,
    )
    feed.person_changed(conn, psn_no, now=moment)
    return get_person(conn, psn_no=psn_no)
