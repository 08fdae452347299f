"""Inpatient use cases: 2401 入院办理, 2402 出院办理, 2403 住院信息变更 (provisional shape),
2404 入院撤销, 2405 出院撤销, 2302 明细撤销 (fee upload, (pre-)settlement and reversal are
shared with the outpatient side in `steps`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection

from yibao.errors import Conflict, InvalidInput
from yibao.settlement import repo, steps
from yibao.settlement.commands import (
    Admit,
    CancelInpatientFees,
    ChangeAdmission,
    Discharge,
    VisitRef,
    main_diagnosis,
)
from yibao.settlement.context import Caller
from yibao.settlement.insured import check_insured
from yibao.settlement.visits import new_visit


def admit(conn: Connection, caller: Caller, command: Admit) -> dict[str, Any]:
    """2401: open an admission; a person has at most one open admission."""
    n = "mdtrtinfo"
    psn_no = command.psn_no
    repo.person(conn, psn_no, node=n)
    insu = repo.insurance(conn, psn_no, command.insutype, node=n)
    check_insured(insu, caller.insuplc_admdvs, node=n)
    current = repo.open_admission(conn, psn_no)
    if current is not None:
        raise Conflict(
            f"{n}.psn_no: 参保人已有未结算的住院登记 {current['mdtrt_id']} "
            "(the person already has an open admission)"
        )
    row = new_visit(
        caller,
        psn_no=psn_no,
        insutype=command.insutype,
        med_type=command.med_type,
        kind=repo.INPATIENT,
        stas=repo.ADMITTED,
        cert_type=command.mdtrt_cert_type.value,
        cert_no=command.mdtrt_cert_no,
        begntime=command.begntime,
        ipt_otp_no=command.ipt_no,
        atddr_no=command.atddr_no,
        dr_name=command.chfpdr_name,
        dept_code=command.adm_dept_codg,
        dept_name=command.adm_dept_name,
        adm_bed=command.adm_bed,
        main_cond_dscr=command.main_cond_dscr,
        dise_codg=command.dise_codg,
        dise_name=command.dise_name,
        maindiag_code=command.maindiag_code,
        maindiag_name=command.maindiag_name,
    )
    repo.insert_visit(conn, row)
    if command.diseinfo:
        row.update(
            repo.replace_diagnoses(
                conn, row["mdtrt_id"], "adm", [d.row() for d in command.diseinfo]
            )
        )
    repo.visit_changed(conn, row, new=True)
    # The output node differs between versions (result vs data): emit both.
    return {
        "result": {"mdtrt_id": row["mdtrt_id"]},
        "data": {"mdtrt_id": row["mdtrt_id"], "psn_no": psn_no, "ipt_otp_no": command.ipt_no},
    }


def discharge(conn: Connection, caller: Caller, command: Discharge) -> None:
    """2402: discharge an open admission."""
    n = "dscginfo"
    mdtrt_id = command.mdtrt_id
    visit = repo.visit(
        conn, caller.fixmedins_code, mdtrt_id, command.psn_no, kind=repo.INPATIENT, node=n
    )
    if visit["mdtrt_stas"] != repo.ADMITTED:
        raise Conflict(f"{n}.mdtrt_id: 已办理出院 (already discharged)")
    if command.endtime < visit["begntime"]:
        raise InvalidInput(f"{n}.endtime: 出院时间早于入院时间 (before the admission time)")
    main = main_diagnosis(command.diseinfo)
    values: dict[str, Any] = {
        "endtime": command.endtime,
        "dscg_way": command.dscg_way,
        "mdtrt_stas": repo.DISCHARGED,
        "updated_at": caller.now,
    }
    if command.dise_codg:
        values["dise_codg"] = command.dise_codg
        values["dise_name"] = command.dise_name
    if main is not None:
        values["maindiag_code"] = main.diag_code
        values["maindiag_name"] = main.diag_name[:300]
    repo.update_visit(conn, mdtrt_id, values)
    if command.diseinfo:
        values.update(
            repo.replace_diagnoses(conn, mdtrt_id, "dscg", [d.row() for d in command.diseinfo])
        )
    repo.visit_changed(conn, {**visit, **values})


#: 2403's adminfo fields and the mdtrt columns they change
_CHANGEABLE = (
    ("med_type", "med_type"),
    ("adm_bed", "adm_bed"),
    ("adm_dept_codg", "dept_code"),
    ("adm_dept_name", "dept_name"),
    ("atddr_no", "atddr_no"),
    ("chfpdr_name", "dr_name"),
    ("main_cond_dscr", "main_cond_dscr"),
    ("dise_codg", "dise_codg"),
    ("dise_name", "dise_name"),
    ("ipt_no", "ipt_otp_no"),
)


def change_admission(conn: Connection, caller: Caller, command: ChangeAdmission) -> None:
    """2403: change the sent fields of an unsettled admission; diseinfo replaces the admission
    diagnoses."""
    n = "adminfo"
    mdtrt_id = command.mdtrt_id
    visit = repo.visit(
        conn, caller.fixmedins_code, mdtrt_id, command.psn_no, kind=repo.INPATIENT, node=n
    )
    if visit["mdtrt_stas"] == repo.SETTLED:
        raise Conflict(f"{n}.mdtrt_id: 住院已结算, 不能变更 (admission settled)")
    values: dict[str, Any] = {}
    for field, column in _CHANGEABLE:
        value = getattr(command, field)
        if value is not None:
            values[column] = value
    if command.begntime is not None:
        values["begntime"] = command.begntime
    main = main_diagnosis(command.diseinfo)
    if main is not None:
        values["maindiag_code"] = main.diag_code
        values["maindiag_name"] = main.diag_name[:300]
    if values:
        values["updated_at"] = caller.now
        repo.update_visit(conn, mdtrt_id, values)
    if command.diseinfo:
        values.update(
            repo.replace_diagnoses(conn, mdtrt_id, "adm", [d.row() for d in command.diseinfo])
        )
    repo.visit_changed(conn, {**visit, **values})


def cancel_admission(conn: Connection, caller: Caller, visit: Mapping[str, Any]) -> None:
    """Cancel an admission without a valid settlement or valid lines (2404, 2601 of 2401)."""
    mdtrt_id = visit["mdtrt_id"]
    if repo.valid_settlements(conn, mdtrt_id):
        raise Conflict(
            "data.mdtrt_id: 住院存在有效结算, 不能撤销入院 (a valid settlement exists; reverse "
            "it with 2305 first)"
        )
    if repo.has_valid_lines(conn, mdtrt_id):
        raise Conflict(
            "data.mdtrt_id: 住院存在费用明细, 不能撤销入院, 请先撤销明细 (cancel the fee lines "
            "with 2302 first)"
        )
    repo.update_visit(
        conn, mdtrt_id, {"mdtrt_stas": repo.CANCELLED, "vali_flag": "0", "updated_at": caller.now}
    )
    repo.visit_changed(conn, {**visit, "mdtrt_stas": repo.CANCELLED, "vali_flag": "0"})


def cancel(conn: Connection, caller: Caller, command: VisitRef) -> None:
    """2404: cancel the institution's admission."""
    visit = repo.visit(
        conn, caller.fixmedins_code, command.mdtrt_id, command.psn_no, kind=repo.INPATIENT
    )
    cancel_admission(conn, caller, visit)


def undo_discharge(conn: Connection, caller: Caller, command: VisitRef) -> None:
    """2405: an unsettled discharge is undone (the admission is open again)."""
    mdtrt_id = command.mdtrt_id
    visit = repo.visit(conn, caller.fixmedins_code, mdtrt_id, command.psn_no, kind=repo.INPATIENT)
    if visit["mdtrt_stas"] == repo.SETTLED:
        raise Conflict(
            "data.mdtrt_id: 住院已结算, 不能撤销出院, 请先撤销结算 (reverse the settlement with "
            "2305 first)"
        )
    if visit["mdtrt_stas"] != repo.DISCHARGED:
        raise Conflict("data.mdtrt_id: 尚未出院 (not discharged)")
    values = {
        "mdtrt_stas": repo.ADMITTED,
        "endtime": None,
        "dscg_way": None,
        "updated_at": caller.now,
    }
    repo.update_visit(conn, mdtrt_id, values)
    repo.visit_changed(conn, {**visit, **values})


def cancel_fees(conn: Connection, caller: Caller, command: CancelInpatientFees) -> None:
    """2302: cancel the named unsettled lines ("0000" among them: every unsettled line)."""
    visit = repo.visit(
        conn, caller.fixmedins_code, command.mdtrt_id, command.psn_no, kind=repo.INPATIENT
    )
    sns = list(command.feedetl_sns)
    everything = steps.ALL_BATCHES in sns
    steps.cancel_lines(conn, caller, visit, None if everything else sns, batch=None, node="data")
