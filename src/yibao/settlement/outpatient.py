"""Outpatient transactions: 2201 挂号, 2202 挂号撤销, 2203/2203A 就诊信息上传, 2204 费用明细上传,
2205 明细撤销, 2206 预结算, 2207 结算, 2208 结算撤销."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import Connection

from yibao.codes.dicts import DiagType, MdtrtCertType
from yibao.errors import Conflict, InvalidInput
from yibao.interface import fields as f
from yibao.interface.context import CallContext
from yibao.interface.registry import transaction
from yibao.settlement import repo, steps


def new_visit(
    ctx: CallContext,
    *,
    psn_no: str,
    insutype: str,
    med_type: str,
    kind: str,
    stas: str,
    cert_type: str,
    cert_no: str | None,
    begntime: Any,
    **values: Any,
) -> dict[str, Any]:
    base: dict[str, Any] = {
        "mdtrt_id": ctx.platform.ids.next_str(),
        "fixmedins_code": ctx.fixmedins_code,
        "psn_no": psn_no,
        "insutype": insutype,
        "med_type": med_type,
        "mdtrt_kind": kind,
        "mdtrt_cert_type": cert_type,
        "mdtrt_cert_no": cert_no,
        "ipt_otp_no": None,
        "begntime": begntime,
        "endtime": None,
        "atddr_no": None,
        "dr_name": None,
        "dept_code": None,
        "dept_name": None,
        "caty": None,
        "adm_bed": None,
        "main_cond_dscr": None,
        "dise_codg": None,
        "dise_name": None,
        "maindiag_code": None,
        "maindiag_name": None,
        "dscg_way": None,
        "mdtrt_stas": stas,
        "vali_flag": "1",
        "msgid": ctx.msgid,
        "extra": None,
        "created_at": ctx.now,
        "updated_at": ctx.now,
    }
    base.update(values)
    return base


@transaction("2201", "门诊挂号", writes=True)
def register(conn: Connection, ctx: CallContext, input: dict[str, Any]) -> dict[str, Any]:
    d = f.node(input, "data")
    n = "data"
    psn_no = f.req_str(d, "psn_no", node_name=n, max_len=30)
    insutype = f.req_str(d, "insutype", node_name=n, max_len=6)
    begntime = f.req_datetime(d, "begntime", node_name=n)
    cert_type = f.req_code(d, "mdtrt_cert_type", MdtrtCertType, node_name=n)
    cert_no = f.req_str(d, "mdtrt_cert_no", node_name=n, max_len=50)
    ipt_otp_no = f.req_str(d, "ipt_otp_no", node_name=n, max_len=30)
    repo.person(conn, psn_no)
    insu = repo.insurance(conn, psn_no, insutype)
    repo.check_insured(ctx, insu)
    row = new_visit(
        ctx,
        psn_no=psn_no,
        insutype=insutype,
        med_type=f.opt_str(d, "med_type", node_name=n, max_len=6) or "11",
        kind=repo.OUTPATIENT,
        stas=repo.REGISTERED,
        cert_type=cert_type.value,
        cert_no=cert_no,
        begntime=begntime,
        ipt_otp_no=ipt_otp_no,
        atddr_no=f.opt_str(d, "atddr_no", node_name=n, max_len=30),
        dr_name=f.opt_str(d, "dr_name", node_name=n, max_len=50),
        dept_code=f.opt_str(d, "dept_code", node_name=n, max_len=30),
        dept_name=f.opt_str(d, "dept_name", node_name=n, max_len=100),
        caty=f.opt_str(d, "caty", node_name=n, max_len=6),
    )
    repo.insert_visit(conn, row)
    repo.visit_changed(conn, row)
    return {
        "data": {
            "mdtrt_id": row["mdtrt_id"],
            "psn_no": psn_no,
            "ipt_otp_no": ipt_otp_no,
            "exp_content": None,
        }
    }


@transaction("2202", "门诊挂号撤销", writes=True)
def cancel_registration(conn: Connection, ctx: CallContext, input: dict[str, Any]) -> None:
    d = f.node(input, "data")
    psn_no = f.req_str(d, "psn_no", node_name="data", max_len=30)
    mdtrt_id = f.req_str(d, "mdtrt_id", node_name="data", max_len=30)
    visit = repo.visit(conn, ctx, mdtrt_id, psn_no, kind=repo.OUTPATIENT)
    if repo.valid_settlements(conn, mdtrt_id):
        raise Conflict(
            "data.mdtrt_id: 就诊存在有效结算, 不能撤销挂号, 请先撤销结算 "
            "(the visit has a valid settlement; reverse it with 2208 first)"
        )
    repo.cancel_lines(conn, mdtrt_id, None, ctx.now)
    repo.update_visit(
        conn, mdtrt_id, {"mdtrt_stas": repo.CANCELLED, "vali_flag": "0", "updated_at": ctx.now}
    )
    repo.visit_changed(conn, {**visit, "mdtrt_stas": repo.CANCELLED, "vali_flag": "0"})
    return None


def read_diagnoses(input: dict[str, Any], node: str, *, required: bool) -> list[dict[str, Any]]:
    out = []
    for i, d in enumerate(f.node_list(input, node, required=required)):
        w = f"{node}[{i}]"
        srt = f.req_decimal(d, "diag_srt_no", node_name=w, places=0, max_abs=Decimal(99))
        out.append(
            {
                "diag_srt_no": int(srt),
                "diag_type": f.req_code(d, "diag_type", DiagType, node_name=w).value,
                "maindiag_flag": f.opt_str(d, "maindiag_flag", node_name=w, max_len=1)
                or ("1" if int(srt) == 1 else "0"),
                "diag_code": f.req_str(d, "diag_code", node_name=w, max_len=20),
                "diag_name": f.req_str(d, "diag_name", node_name=w, max_len=100),
                "diag_dept": f.opt_str(d, "diag_dept", node_name=w, max_len=50),
                "dise_dor_no": f.opt_str(d, "dise_dor_no", node_name=w, max_len=30),
                "dise_dor_name": f.opt_str(d, "dise_dor_name", node_name=w, max_len=50),
                "diag_time": f.opt_datetime(d, "diag_time", node_name=w),
            }
        )
    numbers = [r["diag_srt_no"] for r in out]
    if len(numbers) != len(set(numbers)):
        raise InvalidInput(f"{node}.diag_srt_no: 诊断排序号重复 (duplicate diag_srt_no)")
    return out


@transaction("2203", "门诊就诊信息上传", writes=True)
def upload_visit_info(conn: Connection, ctx: CallContext, input: dict[str, Any]) -> None:
    n = "mdtrtinfo"
    d = f.node(input, n)
    mdtrt_id = f.req_str(d, "mdtrt_id", node_name=n, max_len=30)
    psn_no = f.req_str(d, "psn_no", node_name=n, max_len=30)
    visit = repo.visit(conn, ctx, mdtrt_id, psn_no, kind=repo.OUTPATIENT, node=n)
    if repo.valid_settlements(conn, mdtrt_id):
        raise Conflict(f"{n}.mdtrt_id: 就诊已结算, 不能修改就诊信息 (visit already settled)")
    diagnoses = read_diagnoses(input, "diseinfo", required=False)
    main = next((r for r in diagnoses if r["maindiag_flag"] == "1"), None)
    values = {
        "med_type": f.req_str(d, "med_type", node_name=n, max_len=6),
        "begntime": f.opt_datetime(d, "begntime", node_name=n) or visit["begntime"],
        "main_cond_dscr": f.opt_str(d, "main_cond_dscr", node_name=n, max_len=1000),
        "dise_codg": f.opt_str(d, "dise_codg", node_name=n, max_len=30),
        "dise_name": f.opt_str(d, "dise_name", node_name=n, max_len=500),
        "updated_at": ctx.now,
    }
    if main is not None:
        values["maindiag_code"] = main["diag_code"]
        values["maindiag_name"] = main["diag_name"][:300]
    repo.update_visit(conn, mdtrt_id, values)
    if diagnoses:
        repo.replace_diagnoses(conn, mdtrt_id, "otp", diagnoses)
    repo.visit_changed(conn, {**visit, **values})
    return None


@transaction("2204", "门诊费用明细上传", writes=True)
def upload_fees(conn: Connection, ctx: CallContext, input: dict[str, Any]) -> dict[str, Any]:
    return steps.upload(conn, ctx, input, kind=repo.OUTPATIENT, refunds=False, require_batch=True)


@transaction("2205", "门诊费用明细撤销", writes=True)
def cancel_fees(conn: Connection, ctx: CallContext, input: dict[str, Any]) -> None:
    d = f.node(input, "data")
    mdtrt_id = f.req_str(d, "mdtrt_id", node_name="data", max_len=30)
    psn_no = f.req_str(d, "psn_no", node_name="data", max_len=30)
    batch = f.req_str(d, "chrg_bchno", node_name="data", max_len=30)
    visit = repo.visit(conn, ctx, mdtrt_id, psn_no, kind=repo.OUTPATIENT)
    steps.cancel_lines(
        conn,
        ctx,
        visit,
        None,
        batch=None if batch == steps.ALL_BATCHES else batch,
        node="data.chrg_bchno",
    )
    return None


@transaction("2206", "门诊预结算", writes=False, inline_read=True)
def pre_settle(conn: Connection, ctx: CallContext, input: dict[str, Any]) -> dict[str, Any]:
    return steps.settle_visit(conn, ctx, f.node(input, "data"), kind=repo.OUTPATIENT, final=False)


@transaction("2207", "门诊结算", writes=True)
def settle(conn: Connection, ctx: CallContext, input: dict[str, Any]) -> dict[str, Any]:
    return steps.settle_visit(conn, ctx, f.node(input, "data"), kind=repo.OUTPATIENT, final=True)


@transaction("2208", "门诊结算撤销", writes=True)
def reverse(conn: Connection, ctx: CallContext, input: dict[str, Any]) -> dict[str, Any]:
    out = steps.reverse_by_request(conn, ctx, input, kind=repo.OUTPATIENT, infno="2208")
    # The spec table names 个人现金支出 `pdn_cash_pay` in 2208 (a typo two clients copied);
    # the platform recording says `psn_cash_pay`: emit both.
    out["setlinfo"]["pdn_cash_pay"] = out["setlinfo"]["psn_cash_pay"]
    return out
