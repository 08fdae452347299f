"""异地就医备案: the agency registers a person insured here for care in another region, or a
person insured in another hosted region for care here — long-term residence (异地长期居住,
open-ended allowed) or temporary travel (临时外出就医, an end date required) — lists and revokes
registrations. Settlement reads them (`settlement.remote`): non-emergency care outside the
insured region needs one valid on the day (docs/policy.md, "Regions and 异地就医").

A registration is never deleted or rewritten: a revocation sets `vali_flag` "0" with who, when
and why, and every step is in the audit log.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Final

from sqlalchemy import Connection

from yibao.enrolment import audit, checks
from yibao.enrolment.persons import person_row
from yibao.enrolment.repo import insurance as insurance_repo
from yibao.enrolment.repo import remote as repo
from yibao.errors import Conflict, InvalidInput, NotFound
from yibao.kit.clock import local_naive_now
from yibao.kit.ids import IdGenerator

#: reg_type → label
REG_TYPES: Final = {"long_term": "异地长期居住", "temporary": "临时外出就医"}


def _present(row: dict[str, Any]) -> dict[str, Any]:
    return {
        **row,
        "reg_type_name": REG_TYPES.get(row["reg_type"], row["reg_type"]),
        "valid": row["vali_flag"] == "1",
    }


def register(
    conn: Connection,
    *,
    ids: IdGenerator,
    actor: str,
    psn_no: str,
    mdtrt_area_admdvs: str,
    reg_type: str,
    begndate: date,
    enddate: date | None = None,
    insutype: str | None = None,
    tel: str | None = None,
    addr: str | None = None,
    memo: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Register; answers the new registration. Refuses a region that is the person's own, a
    temporary registration without an end date, and one overlapping a valid registration of
    the same person, insurance and region."""
    person_row(conn, psn_no)
    area = checks.admdvs(mdtrt_area_admdvs, field="mdtrt_area_admdvs")
    if reg_type not in REG_TYPES:
        raise InvalidInput(
            f"reg_type: 备案类型应为 long_term(异地长期居住) 或 temporary(临时外出就医) "
            f"'{reg_type}' (must be long_term or temporary)"
        )
    insurances = insurance_repo.of_person(conn, psn_no)
    if insutype is not None:
        insurances = [i for i in insurances if i["insutype"] == insutype]
        if not insurances:
            raise NotFound(
                f"insutype: 人员未参加险种 '{insutype}' (the person has no such insurance)"
            )
    if not insurances:
        raise Conflict("psn_no: 人员无参保记录, 不能备案 (the person has no insurance)")
    insuplc = insurances[0]["insuplc_admdvs"]
    if area[:4] == insuplc[:4]:
        raise InvalidInput(
            f"mdtrt_area_admdvs: 就医地 {area} 与参保地 {insuplc} 为同一统筹区, 无需异地备案 "
            "(the place of treatment is the insured region itself)"
        )
    if reg_type == "temporary" and enddate is None:
        raise InvalidInput(
            "enddate: 临时外出就医备案须有结束日期 (a temporary registration needs an end date)"
        )
    if enddate is not None and enddate < begndate:
        raise InvalidInput(
            f"enddate: 结束日期 {enddate} 早于开始日期 {begndate} (enddate is before begndate)"
        )
    for other in repo.valid_of_person(conn, psn_no, insutype=insutype):
        if other["mdtrt_area_admdvs"][:4] != area[:4]:
            continue
        o_end = other["enddate"] or date.max
        if other["begndate"] <= (enddate or date.max) and begndate <= o_end:
            raise Conflict(
                f"begndate: 与有效的异地就医备案 {other['remote_reg_id']} "
                f"({other['begndate']}–{other['enddate'] or ''}) 时间重叠 "
                "(overlaps a valid registration for the same region; revoke it first)"
            )
    moment = now or local_naive_now()
    row = {
        "remote_reg_id": ids.next_str(),
        "psn_no": psn_no,
        "insutype": insutype,
        "insuplc_admdvs": insuplc,
        "mdtrt_area_admdvs": area,
        "reg_type": reg_type,
        "begndate": begndate,
        "enddate": enddate,
        "tel": checks.text(tel, field="tel", max_len=50, required=False),
        "addr": checks.text(addr, field="addr", max_len=200, required=False),
        "memo": checks.text(memo, field="memo", max_len=500, required=False),
        "vali_flag": "1",
        "crte_by": actor,
        "revs_time": None,
        "revs_by": None,
        "revs_memo": None,
        "created_at": moment,
        "updated_at": moment,
    }
    repo.insert_registration(conn, row)
    audit.record(
        conn,
        ids=ids,
        actor=actor,
        action="remote_reg.register",
        target=row["remote_reg_id"],
        detail={
            "mdtrt_area_admdvs": area,
            "reg_type": reg_type,
            "begndate": begndate,
            "enddate": enddate,
        },
        at=moment,
    )
    return _present(row)


def revoke(
    conn: Connection,
    *,
    ids: IdGenerator,
    actor: str,
    remote_reg_id: str,
    reason: str,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Revoke (撤销) a valid registration, with the reason."""
    why = checks.req_text(reason, field="reason", max_len=500)
    row = repo.get(conn, remote_reg_id)
    if row is None:
        raise NotFound(
            f"remote_reg_id: 异地就医备案不存在 '{remote_reg_id}' (no such registration)"
        )
    if row["vali_flag"] != "1":
        raise Conflict(
            f"remote_reg_id: 备案已于 {row['revs_time']} 撤销 (the registration is already revoked)"
        )
    moment = now or local_naive_now()
    values = {"revs_time": moment, "revs_by": actor, "revs_memo": why, "updated_at": moment}
    repo.revoke(conn, remote_reg_id, values)
    audit.record(
        conn,
        ids=ids,
        actor=actor,
        action="remote_reg.revoke",
        target=remote_reg_id,
        detail={"reason": why},
        at=moment,
    )
    return _present({**row, **values, "vali_flag": "0"})


def get(conn: Connection, remote_reg_id: str) -> dict[str, Any]:
    row = repo.get(conn, remote_reg_id)
    if row is None:
        raise NotFound(
            f"remote_reg_id: 异地就医备案不存在 '{remote_reg_id}' (no such registration)"
        )
    return _present(row)


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
    total, rows = repo.find(
        conn,
        psn_no=psn_no,
        mdtrt_area_admdvs=mdtrt_area_admdvs,
        insuplc_admdvs=insuplc_admdvs,
        active_on=active_on,
        include_revoked=include_revoked,
        limit=limit,
        offset=offset,
    )
    return total, [_present(r) for r in rows]
