"""5269 异地门诊结算单 / 5270 异地住院结算单: the statement of a settlement of a person insured in
another region — 5265's statement (`settlement.statement`) plus `remoteinfo`, which says whose
policy paid (the insured region, 参保地政策), where the care was given (the region of treatment,
就医地管理) and on what footing: a registration (异地就医备案) valid on the day, emergency care,
or the insured region's 未备案 ratio.

5269 answers outpatient, pharmacy and chronic-outpatient settlements, 5270 inpatient ones; a
settlement that is not 异地, or of the other kind, is answered `-1` naming `data.setl_id`.
Provisional shape (no public client code for 5269/5270 was found): docs/interface.md §5.
"""

from __future__ import annotations

from typing import Any, Literal

from sqlalchemy import Connection

from yibao.codes.dicts import MedType
from yibao.enrolment.repo import remote as remote_repo
from yibao.errors import InvalidInput
from yibao.policy import PolicyBook
from yibao.policy.model import PolicyRefusal
from yibao.policy.remote import EMERGENCY
from yibao.settlement import repo as settlement_repo
from yibao.settlement import statement
from yibao.settlement.commands_statement import StatementQuery

Kind = Literal["outpatient", "inpatient"]
_LABEL = {"outpatient": "门诊", "inpatient": "住院"}


def remote_statement(
    conn: Connection,
    book: PolicyBook,
    q: StatementQuery,
    *,
    fixmedins_code: str,
    kind: Kind,
) -> dict[str, Any]:
    out = statement.statement(conn, q, fixmedins_code=fixmedins_code)
    row = settlement_repo.settlement(conn, fixmedins_code, q.setl_id)
    day = row["setl_time"].date()
    try:
        insured = book.version_for(row["insuplc_admdvs"], day)
    except PolicyRefusal:
        insured = None
    treatment = book.treatment_region(row["clr_optins"], day)
    if insured is None or treatment is None or insured.admdvs == treatment.admdvs:
        raise InvalidInput(
            f"data.setl_id: 该结算不是异地就医结算 '{q.setl_id}', 请用 5265 查询 "
            "(not a settlement of a person insured in another region: use 5265)"
        )
    inpatient = MedType.has(row["med_type"]) and MedType(row["med_type"]).is_inpatient
    if inpatient != (kind == "inpatient"):
        other = "5270" if inpatient else "5269"
        raise InvalidInput(
            f"data.setl_id: 该结算不是异地{_LABEL[kind]}结算, 请用 {other} 查询 "
            f"(not a remote {kind} settlement: use {other})"
        )
    regs = [
        r
        for r in remote_repo.valid_of_person(conn, row["psn_no"], on=day, insutype=row["insutype"])
        if (area := book.treatment_region(r["mdtrt_area_admdvs"], day)) is not None
        and area.admdvs == treatment.admdvs
    ]
    emergency = MedType.has(row["med_type"]) and MedType(row["med_type"]) in EMERGENCY
    if regs:
        basis = "registered"
    elif emergency:
        basis = "emergency"
    else:
        basis = "unregistered"
    reg = regs[0] if regs else None
    out["remoteinfo"] = {
        "remote_flag": "1",
        "insuplc_admdvs": row["insuplc_admdvs"],
        "insuplc_name": insured.name,
        "insuplc_policy": insured.version,
        "mdtrtarea_admvs": treatment.admdvs,
        "mdtrtarea_name": treatment.name,
        "clr_optins": row["clr_optins"],
        "setl_basis": basis,
        "remote_reg_id": reg["remote_reg_id"] if reg else None,
        "reg_type": reg["reg_type"] if reg else None,
        "reg_begndate": reg["begndate"].isoformat() if reg else None,
        "reg_enddate": reg["enddate"].isoformat() if reg and reg["enddate"] else None,
    }
    return out
