"""Inpatient transactions: 2401 入院办理, 2402 出院办理, 2403 住院信息变更 (provisional shape),
2404 入院撤销, 2405 出院撤销, 2301 费用明细上传, 2302 明细撤销, 2303 预结算, 2304 结算,
2305 结算撤销."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from yibao.codes.dicts import DscgWay, MdtrtCertType
from yibao.errors import InvalidInput
from yibao.interface import fields as f
from yibao.interface.context import CallContext
from yibao.interface.registry import transaction
from yibao.interface.transactions.callers import caller, pricing
from yibao.interface.transactions.readers import (
    read_diagnoses,
    read_fee_lines,
    read_reverse,
    read_settle,
    read_visit_ref,
)
from yibao.settlement import inpatient, repo, steps
from yibao.settlement.commands import (
    Admit,
    CancelInpatientFees,
    ChangeAdmission,
    Discharge,
    UploadFees,
    main_diagnosis,
)


@transaction("2401", "入院办理", writes=True)
def admit(conn: Connection, ctx: CallContext, input: dict[str, Any]) -> dict[str, Any]:
    n = "mdtrtinfo"
    d = f.node(input, n)
    psn_no = f.req_str(d, "psn_no", node_name=n, max_len=30)
    insutype = f.req_str(d, "insutype", node_name=n, max_len=6)
    begntime = f.req_datetime(d, "begntime", node_name=n)
    cert_type = f.req_code(d, "mdtrt_cert_type", MdtrtCertType, node_name=n)
    cert_no = f.req_str(d, "mdtrt_cert_no", node_name=n, max_len=50)
    med_type = f.req_str(d, "med_type", node_name=n, max_len=6)
    ipt_no = f.req_str(d, "ipt_no", node_name=n, max_len=30)
    diseinfo = read_diagnoses(input, "diseinfo", required=False)
    main = main_diagnosis(diseinfo)
    command = Admit(
        psn_no=psn_no,
        insutype=insutype,
        begntime=begntime,
        mdtrt_cert_type=cert_type,
        mdtrt_cert_no=cert_no,
        med_type=med_type,
        ipt_no=ipt_no,
        atddr_no=f.opt_str(d, "atddr_no", node_name=n, max_len=30),
        chfpdr_name=f.opt_str(d, "chfpdr_name", node_name=n, max_len=50),
        adm_dept_codg=f.opt_str(d, "adm_dept_codg", node_name=n, max_len=30),
        adm_dept_name=f.opt_str(d, "adm_dept_name", node_name=n, max_len=100),
        adm_bed=f.opt_str(d, "adm_bed", node_name=n, max_len=30),
        main_cond_dscr=f.opt_str(d, "main_cond_dscr", node_name=n, max_len=1000)
        or f.opt_str(d, "adm_diag_dscr", node_name=n, max_len=200),
        dise_codg=f.opt_str(d, "dise_codg", node_name=n, max_len=30),
        dise_name=f.opt_str(d, "dise_name", node_name=n, max_len=500),
        maindiag_code=(main.diag_code if main else None)
        or f.opt_str(d, "dscg_maindiag_code", node_name=n, max_len=20),
        maindiag_name=(main.diag_name if main else None)
        or f.opt_str(d, "dscg_maindiag_name", node_name=n, max_len=300),
        diseinfo=diseinfo,
    )
    return inpatient.admit(conn, caller(ctx), command)


@transaction("2402", "出院办理", writes=True)
def discharge(conn: Connection, ctx: CallContext, input: dict[str, Any]) -> None:
    n = "dscginfo"
    d = f.node(input, n)
    mdtrt_id = f.req_str(d, "mdtrt_id", node_name=n, max_len=30)
    psn_no = f.req_str(d, "psn_no", node_name=n, max_len=30)
    endtime = f.req_datetime(d, "endtime", node_name=n)
    dscg_way = f.req_code(d, "dscg_way", DscgWay, node_name=n)
    diseinfo = read_diagnoses(input, "diseinfo", required=False)
    dise_codg = f.opt_str(d, "dise_codg", node_name=n, max_len=30)
    command = Discharge(
        mdtrt_id=mdtrt_id,
        psn_no=psn_no,
        endtime=endtime,
        dscg_way=dscg_way.value,
        dise_codg=dise_codg,
        dise_name=f.opt_str(d, "dise_name", node_name=n, max_len=500) if dise_codg else None,
        diseinfo=diseinfo,
    )
    inpatient.discharge(conn, caller(ctx), command)
    return None


@transaction("2403", "住院信息变更", writes=True)
def change_admission(conn: Connection, ctx: CallContext, input: dict[str, Any]) -> None:
    """Provisional shape (docs/interface.md): `adminfo{mdtrt_id, psn_no, …changed fields}` +
    optional `diseinfo[]` (replaces the admission diagnoses)."""
    n = "adminfo"
    d = f.node(input, n)
    mdtrt_id = f.req_str(d, "mdtrt_id", node_name=n, max_len=30)
    psn_no = f.req_str(d, "psn_no", node_name=n, max_len=30)
    command = ChangeAdmission(
        mdtrt_id=mdtrt_id,
        psn_no=psn_no,
        med_type=f.opt_str(d, "med_type", node_name=n, max_len=6),
        adm_bed=f.opt_str(d, "adm_bed", node_name=n, max_len=30),
        adm_dept_codg=f.opt_str(d, "adm_dept_codg", node_name=n, max_len=30),
        adm_dept_name=f.opt_str(d, "adm_dept_name", node_name=n, max_len=100),
        atddr_no=f.opt_str(d, "atddr_no", node_name=n, max_len=30),
        chfpdr_name=f.opt_str(d, "chfpdr_name", node_name=n, max_len=50),
        main_cond_dscr=f.opt_str(d, "main_cond_dscr", node_name=n, max_len=1000),
        dise_codg=f.opt_str(d, "dise_codg", node_name=n, max_len=30),
        dise_name=f.opt_str(d, "dise_name", node_name=n, max_len=500),
        ipt_no=f.opt_str(d, "ipt_no", node_name=n, max_len=30),
        begntime=f.opt_datetime(d, "begntime", node_name=n),
        diseinfo=read_diagnoses(input, "diseinfo", required=False),
    )
    inpatient.change_admission(conn, caller(ctx), command)
    return None


@transaction("2404", "入院撤销", writes=True)
def cancel(conn: Connection, ctx: CallContext, input: dict[str, Any]) -> None:
    inpatient.cancel(conn, caller(ctx), read_visit_ref(input))
    return None


@transaction("2405", "出院撤销", writes=True)
def undo_discharge(conn: Connection, ctx: CallContext, input: dict[str, Any]) -> None:
    inpatient.undo_discharge(conn, caller(ctx), read_visit_ref(input))
    return None


@transaction("2301", "住院费用明细上传", writes=True)
def upload_fees(conn: Connection, ctx: CallContext, input: dict[str, Any]) -> dict[str, Any]:
    lines = read_fee_lines(f.node_list(input, "feedetail"), "feedetail", refunds=True)
    return steps.upload(
        conn,
        caller(ctx),
        pricing(ctx),
        UploadFees(feedetail=lines),
        kind=repo.INPATIENT,
        refunds=True,
    )


@transaction("2302", "住院费用明细撤销", writes=True)
def cancel_fees(conn: Connection, ctx: CallContext, input: dict[str, Any]) -> None:
    items = f.node_list(input, "data")
    mdtrt_id = f.req_str(items[0], "mdtrt_id", node_name="data[0]", max_len=30)
    psn_no = f.req_str(items[0], "psn_no", node_name="data[0]", max_len=30)
    sns: list[str] = []
    for i, item in enumerate(items):
        w = f"data[{i}]"
        if f.req_str(item, "mdtrt_id", node_name=w, max_len=30) != mdtrt_id:
            raise InvalidInput(f"{w}.mdtrt_id: 须为同一就诊 (one visit per message)")
        sns.append(f.req_str(item, "feedetl_sn", node_name=w, max_len=30))
    command = CancelInpatientFees(mdtrt_id=mdtrt_id, psn_no=psn_no, feedetl_sns=tuple(sns))
    inpatient.cancel_fees(conn, caller(ctx), command)
    return None


@transaction("2303", "住院预结算", writes=False, short_read=True)
def pre_settle(conn: Connection, ctx: CallContext, input: dict[str, Any]) -> dict[str, Any]:
    command = read_settle(input, outpatient=False, final=False)
    return steps.settle_visit(
        conn, caller(ctx), pricing(ctx), command, kind=repo.INPATIENT, final=False
    )


@transaction("2304", "住院结算", writes=True)
def settle(conn: Connection, ctx: CallContext, input: dict[str, Any]) -> dict[str, Any]:
    command = read_settle(input, outpatient=False, final=True)
    return steps.settle_visit(
        conn, caller(ctx), pricing(ctx), command, kind=repo.INPATIENT, final=True
    )


@transaction("2305", "住院结算撤销", writes=True)
def reverse(conn: Connection, ctx: CallContext, input: dict[str, Any]) -> dict[str, Any]:
    return steps.reverse_by_request(
        conn, caller(ctx), read_reverse(input), kind=repo.INPATIENT, infno="2305"
    )
