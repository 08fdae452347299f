"""Outpatient use cases: 2201 挂号, 2202 挂号撤销, 2203/2203A 就诊信息上传, 2205 明细撤销,
2208 结算撤销 (fee upload and (pre-)settlement are shared with the inpatient side in `steps`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from yibao.errors import Conflict
from yibao.settlement import repo, steps
from yibao.settlement.commands import (
    CancelFees,
    Register,
    ReverseSettlement,
    UploadVisitInfo,
    VisitRef,
    main_diagnosis,
)
from yibao.settlement.context import Caller
from yibao.settlement.insured import check_insured
from yibao.settlement.visits import new_visit


def register(conn: Connection, caller: Caller, command: Register) -> dict[str, Any]:
    """2201: open an outpatient visit for an insured person."""
    repo.prefetch(  # MySQL protocol: one request for both
        conn,
        [
            repo.person_read(command.psn_no),
            repo.insurance_read(command.psn_no, command.insutype, lock=False),
        ],
    )
    repo.person(conn, command.psn_no)
    insu = repo.insurance(conn, command.psn_no, command.insutype)
    check_insured(insu, caller.insuplc_admdvs)
    row = new_visit(
        caller,
        psn_no=command.psn_no,
        insutype=command.insutype,
        med_type=command.med_type or "11",
        kind=repo.OUTPATIENT,
        stas=repo.REGISTERED,
        cert_type=command.mdtrt_cert_type.value,
        cert_no=command.mdtrt_cert_no,
        begntime=command.begntime,
        ipt_otp_no=command.ipt_otp_no,
        atddr_no=command.atddr_no,
        dr_name=command.dr_name,
        dept_code=command.dept_code,
        dept_name=command.dept_name,
        caty=command.caty,
    )
    repo.insert_visit(conn, row)
    repo.visit_changed(conn, row, new=True)
    return {
        "data": {
            "mdtrt_id": row["mdtrt_id"],
            "psn_no": command.psn_no,
            "ipt_otp_no": command.ipt_otp_no,
            "exp_content": None,
        }
    }


def cancel_registration(conn: Connection, caller: Caller, command: VisitRef) -> None:
    """2202: cancel a visit without a valid settlement, and its unsettled lines."""
    mdtrt_id = command.mdtrt_id
    visit = repo.visit(conn, caller.fixmedins_code, mdtrt_id, command.psn_no, kind=repo.OUTPATIENT)
    if repo.valid_settlements(conn, mdtrt_id):
        raise Conflict(
            "data.mdtrt_id: 就诊存在有效结算, 不能撤销挂号, 请先撤销结算 "
            "(the visit has a valid settlement; reverse it with 2208 first)"
        )
    repo.cancel_lines(conn, mdtrt_id, None, caller.now)
    repo.update_visit(
        conn, mdtrt_id, {"mdtrt_stas": repo.CANCELLED, "vali_flag": "0", "updated_at": caller.now}
    )
    repo.visit_changed(conn, {**visit, "mdtrt_stas": repo.CANCELLED, "vali_flag": "0"})


def upload_visit_info(conn: Connection, caller: Caller, command: UploadVisitInfo) -> None:
    """2203/2203A: the visit's medical type, condition and diagnoses (before settlement)."""
    n = "mdtrtinfo"
    mdtrt_id = command.mdtrt_id
    visit = repo.visit(
        conn, caller.fixmedins_code, mdtrt_id, command.psn_no, kind=repo.OUTPATIENT, node=n
    )
    if repo.valid_settlements(conn, mdtrt_id):
        raise Conflict(f"{n}.mdtrt_id: 就诊已结算, 不能修改就诊信息 (visit already settled)")
    main = main_diagnosis(command.diseinfo)
    values = {
        "med_type": command.med_type,
        "begntime": command.begntime or visit["begntime"],
        "main_cond_dscr": command.main_cond_dscr,
        "dise_codg": command.dise_codg,
        "dise_name": command.dise_name,
        "updated_at": caller.now,
    }
    if main is not None:
        values["maindiag_code"] = main.diag_code
        values["maindiag_name"] = main.diag_name[:300]
    repo.update_visit(conn, mdtrt_id, values)
    if command.diseinfo:
        values.update(
            repo.replace_diagnoses(conn, mdtrt_id, "otp", [d.row() for d in command.diseinfo])
        )
    repo.visit_changed(conn, {**visit, **values})


def cancel_fees(conn: Connection, caller: Caller, command: CancelFees) -> None:
    """2205: cancel the unsettled lines of one charge batch ("0000": of the whole visit)."""
    visit = repo.visit(
        conn, caller.fixmedins_code, command.mdtrt_id, command.psn_no, kind=repo.OUTPATIENT
    )
    batch = command.chrg_bchno
    steps.cancel_lines(
        conn,
        caller,
        visit,
        None,
        batch=None if batch == steps.ALL_BATCHES else batch,
        node="data.chrg_bchno",
    )


def reverse(conn: Connection, caller: Caller, command: ReverseSettlement) -> dict[str, Any]:
    """2208: reverse an outpatient settlement."""
    out = steps.reverse_by_request(conn, caller, command, kind=repo.OUTPATIENT, infno="2208")
    # The spec table names 个人现金支出 `pdn_cash_pay` in 2208 (a typo two clients copied);
    # the platform recording says `psn_cash_pay`: emit both.
    out["setlinfo"]["pdn_cash_pay"] = out["setlinfo"]["psn_cash_pay"]
    return out
