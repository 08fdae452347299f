"""Outpatient transactions: 2201 挂号, 2202 挂号撤销, 2203/2203A 就诊信息上传, 2204 费用明细上传,
2205 明细撤销, 2206 预结算, 2207 结算, 2208 结算撤销."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from yibao.codes.dicts import MdtrtCertType
from yibao.interface import fields as f
from yibao.interface.context import CallContext
from yibao.interface.registry import transaction
from yibao.interface.transactions.callers import caller, pricing
from yibao.interface.transactions.readers import (
    read_diagnoses,
    read_fee_lines,
    read_reverse,
    read_settle,
)
from yibao.settlement import outpatient, repo, steps
from yibao.settlement.commands import (
    CancelFees,
    Register,
    UploadFees,
    UploadVisitInfo,
    VisitRef,
)


@transaction("2201", "门诊挂号", writes=True)
def register(conn: Connection, ctx: CallContext, input: dict[str, Any]) -> dict[str, Any]:
    n = "data"
    d = f.node(input, n)
    command = Register(
        psn_no=f.req_str(d, "psn_no", node_name=n, max_len=30),
        insutype=f.req_str(d, "insutype", node_name=n, max_len=6),
        begntime=f.req_datetime(d, "begntime", node_name=n),
        mdtrt_cert_type=f.req_code(d, "mdtrt_cert_type", MdtrtCertType, node_name=n),
        mdtrt_cert_no=f.req_str(d, "mdtrt_cert_no", node_name=n, max_len=50),
        ipt_otp_no=f.req_str(d, "ipt_otp_no", node_name=n, max_len=30),
        med_type=f.opt_str(d, "med_type", node_name=n, max_len=6),
        atddr_no=f.opt_str(d, "atddr_no", node_name=n, max_len=30),
        dr_name=f.opt_str(d, "dr_name", node_name=n, max_len=50),
        dept_code=f.opt_str(d, "dept_code", node_name=n, max_len=30),
        dept_name=f.opt_str(d, "dept_name", node_name=n, max_len=100),
        caty=f.opt_str(d, "caty", node_name=n, max_len=6),
    )
    return outpatient.register(conn, caller(ctx), command)


@transaction("2202", "门诊挂号撤销", writes=True)
def cancel_registration(conn: Connection, ctx: CallContext, input: dict[str, Any]) -> None:
    d = f.node(input, "data")
    psn_no = f.req_str(d, "psn_no", node_name="data", max_len=30)
    mdtrt_id = f.req_str(d, "mdtrt_id", node_name="data", max_len=30)
    outpatient.cancel_registration(conn, caller(ctx), VisitRef(mdtrt_id=mdtrt_id, psn_no=psn_no))
    return None


@transaction("2203", "门诊就诊信息上传", writes=True)
def upload_visit_info(conn: Connection, ctx: CallContext, input: dict[str, Any]) -> None:
    n = "mdtrtinfo"
    d = f.node(input, n)
    mdtrt_id = f.req_str(d, "mdtrt_id", node_name=n, max_len=30)
    psn_no = f.req_str(d, "psn_no", node_name=n, max_len=30)
    diseinfo = read_diagnoses(input, "diseinfo", required=False)
    command = UploadVisitInfo(
        mdtrt_id=mdtrt_id,
        psn_no=psn_no,
        med_type=f.req_str(d, "med_type", node_name=n, max_len=6),
        begntime=f.opt_datetime(d, "begntime", node_name=n),
        main_cond_dscr=f.opt_str(d, "main_cond_dscr", node_name=n, max_len=1000),
        dise_codg=f.opt_str(d, "dise_codg", node_name=n, max_len=30),
        dise_name=f.opt_str(d, "dise_name", node_name=n, max_len=500),
        diseinfo=diseinfo,
    )
    outpatient.upload_visit_info(conn, caller(ctx), command)
    return None


@transaction("2204", "门诊费用明细上传", writes=True)
def upload_fees(conn: Connection, ctx: CallContext, input: dict[str, Any]) -> dict[str, Any]:
    lines = read_fee_lines(f.node_list(input, "feedetail"), "feedetail", require_batch=True)
    return steps.upload(
        conn,
        caller(ctx),
        pricing(ctx),
        UploadFees(feedetail=lines),
        kind=repo.OUTPATIENT,
        refunds=False,
    )


@transaction("2205", "门诊费用明细撤销", writes=True)
def cancel_fees(conn: Connection, ctx: CallContext, input: dict[str, Any]) -> None:
    d = f.node(input, "data")
    command = CancelFees(
        mdtrt_id=f.req_str(d, "mdtrt_id", node_name="data", max_len=30),
        psn_no=f.req_str(d, "psn_no", node_name="data", max_len=30),
        chrg_bchno=f.req_str(d, "chrg_bchno", node_name="data", max_len=30),
    )
    outpatient.cancel_fees(conn, caller(ctx), command)
    return None


@transaction("2206", "门诊预结算", writes=False, short_read=True)
def pre_settle(conn: Connection, ctx: CallContext, input: dict[str, Any]) -> dict[str, Any]:
    command = read_settle(input, outpatient=True, final=False)
    return steps.settle_visit(
        conn, caller(ctx), pricing(ctx), command, kind=repo.OUTPATIENT, final=False
    )


@transaction("2207", "门诊结算", writes=True)
def settle(conn: Connection, ctx: CallContext, input: dict[str, Any]) -> dict[str, Any]:
    command = read_settle(input, outpatient=True, final=True)
    return steps.settle_visit(
        conn, caller(ctx), pricing(ctx), command, kind=repo.OUTPATIENT, final=True
    )


@transaction("2208", "门诊结算撤销", writes=True)
def reverse(conn: Connection, ctx: CallContext, input: dict[str, Any]) -> dict[str, Any]:
    return outpatient.reverse(conn, caller(ctx), read_reverse(input))
