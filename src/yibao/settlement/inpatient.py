"""Inpatient transactions: 2401 入院办理, 2402 出院办理, 2403 住院信息变更 (provisional shape),
2404 入院撤销, 2405 出院撤销, 2301 费用明细上传, 2302 明细撤销, 2303 预结算, 2304 结算,
2305 结算撤销."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from yibao.codes.dicts import DscgWay, MdtrtCertType
from yibao.errors import Conflict, InvalidInput
from yibao.interface import fields as f
from yibao.interface.context import CallContext
from yibao.interface.registry import transaction
from yibao.settlement import repo, steps
from yibao.settlement.outpatient import new_visit, read_diagnoses


def _main(diagnoses: list[dict[str, Any]]) -> dict[str, Any] | None:
    return next((r for r in diagnoses if r["maindiag_flag"] == "1"), None)


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
    repo.person(conn, psn_no, node=n)
    insu = repo.insurance(conn, psn_no, insutype, node=n)
    repo.check_insured(ctx, insu, node=n)
    current = repo.open_admission(conn, psn_no)
    if current is not None:
        raise Conflict(
            f"{n}.psn_no: 参保人已有未结算的住院登记 {current['mdtrt_id']} "
            "(the person already has an open admission)"
        )
    diagnoses = read_diagnoses(input, "diseinfo", required=False)
    main = _main(diagnoses)
    row = new_visit(
        ctx,
        psn_no=psn_no,
        insutype=insutype,
        med_type=med_type,
        kind=repo.INPATIENT,
        stas=repo.ADMITTED,
        cert_type=cert_type.value,
        cert_no=cert_no,
        begntime=begntime,
        ipt_otp_no=ipt_no,
        atddr_no=f.opt_str(d, "atddr_no", node_name=n, max_len=30),
        dr_name=f.opt_str(d, "chfpdr_name", node_name=n, max_len=50),
        dept_code=f.opt_str(d, "adm_dept_codg", node_name=n, max_len=30),
        dept_name=f.opt_str(d, "adm_dept_name", node_name=n, max_len=100),
        adm_bed=f.opt_str(d, "adm_bed", node_name=n, max_len=30),
        main_cond_dscr=f.opt_str(d, "main_cond_dscr", node_name=n, max_len=1000)
        or f.opt_str(d, "adm_diag_dscr", node_name=n, max_len=200),
        dise_codg=f.opt_str(d, "dise_codg", node_name=n, max_len=30),
        dise_name=f.opt_str(d, "dise_name", node_name=n, max_len=500),
        maindiag_code=(main["diag_code"] if main else None)
        or f.opt_str(d, "dscg_maindiag_code", node_name=n, max_len=20),
        maindiag_name=(
            (main["diag_name"] if main else None)
            or f.opt_str(d, "dscg_maindiag_name", node_name=n, max_len=300)
        ),
    )
    repo.insert_visit(conn, row)
    if diagnoses:
        repo.replace_diagnoses(conn, row["mdtrt_id"], "adm", diagnoses)
    repo.visit_changed(conn, row)
    # The output node differs between versions (result vs data): emit both.
    return {
        "result": {"mdtrt_id": row["mdtrt_id"]},
        "data": {"mdtrt_id": row["mdtrt_id"], "psn_no": psn_no, "ipt_otp_no": ipt_no},
    }


def _final_settlement(conn: Connection, mdtrt_id: str) -> bool:
    return any(True for _ in repo.valid_settlements(conn, mdtrt_id))


@transaction("2402", "出院办理", writes=True)
def discharge(conn: Connection, ctx: CallContext, input: dict[str, Any]) -> None:
    n = "dscginfo"
    d = f.node(input, n)
    mdtrt_id = f.req_str(d, "mdtrt_id", node_name=n, max_len=30)
    psn_no = f.req_str(d, "psn_no", node_name=n, max_len=30)
    endtime = f.req_datetime(d, "endtime", node_name=n)
    dscg_way = f.req_code(d, "dscg_way", DscgWay, node_name=n)
    visit = repo.visit(conn, ctx, mdtrt_id, psn_no, kind=repo.INPATIENT, node=n)
    if visit["mdtrt_stas"] != repo.ADMITTED:
        raise Conflict(f"{n}.mdtrt_id: 已办理出院 (already discharged)")
    if endtime < visit["begntime"]:
        raise InvalidInput(f"{n}.endtime: 出院时间早于入院时间 (before the admission time)")
    diagnoses = read_diagnoses(input, "diseinfo", required=False)
    main = _main(diagnoses)
    values: dict[str, Any] = {
        "endtime": endtime,
        "dscg_way": dscg_way.value,
        "mdtrt_stas": repo.DISCHARGED,
        "updated_at": ctx.now,
    }
    dise = f.opt_str(d, "dise_codg", node_name=n, max_len=30)
    if dise:
        values["dise_codg"] = dise
        values["dise_name"] = f.opt_str(d, "dise_name", node_name=n, max_len=500)
    if main is not None:
        values["maindiag_code"] = main["diag_code"]
        values["maindiag_name"] = main["diag_name"][:300]
    repo.update_visit(conn, mdtrt_id, values)
    if diagnoses:
        repo.replace_diagnoses(conn, mdtrt_id, "dscg", diagnoses)
    repo.visit_changed(conn, {**visit, **values})
    return None


@transaction("2403", "住院信息变更", writes=True)
def change_admission(conn: Connection, ctx: CallContext, input: dict[str, Any]) -> None:
    """Provisional shape (docs/interface.md): `adminfo{mdtrt_id, psn_no, …changed fields}` +
    optional `diseinfo[]` (replaces the admission diagnoses)."""
    n = "adminfo"
    d = f.node(input, n)
    mdtrt_id = f.req_str(d, "mdtrt_id", node_name=n, max_len=30)
    psn_no = f.req_str(d, "psn_no", node_name=n, max_len=30)
    visit = repo.visit(conn, ctx, mdtrt_id, psn_no, kind=repo.INPATIENT, node=n)
    if visit["mdtrt_stas"] == repo.SETTLED:
        raise Conflict(f"{n}.mdtrt_id: 住院已结算, 不能变更 (admission settled)")
    values: dict[str, Any] = {}
    for field, column, size in (
        ("med_type", "med_type", 6),
        ("adm_bed", "adm_bed", 30),
        ("adm_dept_codg", "dept_code", 30),
        ("adm_dept_name", "dept_name", 100),
        ("atddr_no", "atddr_no", 30),
        ("chfpdr_name", "dr_name", 50),
        ("main_cond_dscr", "main_cond_dscr", 1000),
        ("dise_codg", "dise_codg", 30),
        ("dise_name", "dise_name", 500),
        ("ipt_no", "ipt_otp_no", 30),
    ):
        value = f.opt_str(d, field, node_name=n, max_len=size)
        if value is not None:
            values[column] = value
    begntime = f.opt_datetime(d, "begntime", node_name=n)
    if begntime is not None:
        values["begntime"] = begntime
    diagnoses = read_diagnoses(input, "diseinfo", required=False)
    main = _main(diagnoses)
    if main is not None:
        values["maindiag_code"] = main["diag_code"]
        values["maindiag_name"] = main["diag_name"][:300]
    if values:
        values["updated_at"] = ctx.now
        repo.update_visit(conn, mdtrt_id, values)
    if diagnoses:
        repo.replace_diagnoses(conn, mdtrt_id, "adm", diagnoses)
    repo.visit_changed(conn, {**visit, **values})
    return None


def cancel_admission(conn: Connection, ctx: CallContext, visit: dict[str, Any] | Any) -> None:
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
        conn, mdtrt_id, {"mdtrt_stas": repo.CANCELLED, "vali_flag": "0", "updated_at": ctx.now}
    )
    repo.visit_changed(conn, {**visit, "mdtrt_stas": repo.CANCELLED, "vali_flag": "0"})


@transaction("2404", "入院撤销", writes=True)
def cancel(conn: Connection, ctx: CallContext, input: dict[str, Any]) -> None:
    d = f.node(input, "data")
    mdtrt_id = f.req_str(d, "mdtrt_id", node_name="data", max_len=30)
    psn_no = f.req_str(d, "psn_no", node_name="data", max_len=30)
    visit = repo.visit(conn, ctx, mdtrt_id, psn_no, kind=repo.INPATIENT)
    cancel_admission(conn, ctx, visit)
    return None


@transaction("2405", "出院撤销", writes=True)
def undo_discharge(conn: Connection, ctx: CallContext, input: dict[str, Any]) -> None:
    d = f.node(input, "data")
    mdtrt_id = f.req_str(d, "mdtrt_id", node_name="data", max_len=30)
    psn_no = f.req_str(d, "psn_no", node_name="data", max_len=30)
    visit = repo.visit(conn, ctx, mdtrt_id, psn_no, kind=repo.INPATIENT)
    if visit["mdtrt_stas"] == repo.SETTLED:
        raise Conflict(
            "data.mdtrt_id: 住院已结算, 不能撤销出院, 请先撤销结算 (reverse the settlement with "
            "2305 first)"
        )
    if visit["mdtrt_stas"] != repo.DISCHARGED:
        raise Conflict("data.mdtrt_id: 尚未出院 (not discharged)")
    values = {"mdtrt_stas": repo.ADMITTED, "endtime": None, "dscg_way": None, "updated_at": ctx.now}
    repo.update_visit(conn, mdtrt_id, values)
    repo.visit_changed(conn, {**visit, **values})
    return None


@transaction("2301", "住院费用明细上传", writes=True)
def upload_fees(conn: Connection, ctx: CallContext, input: dict[str, Any]) -> dict[str, Any]:
    return steps.upload(conn, ctx, input, kind=repo.INPATIENT, refunds=True, require_batch=False)


@transaction("2302", "住院费用明细撤销", writes=True)
def cancel_fees(conn: Connection, ctx: CallContext, input: dict[str, Any]) -> None:
    items = f.node_list(input, "data")
    mdtrt_id = f.req_str(items[0], "mdtrt_id", node_name="data[0]", max_len=30)
    psn_no = f.req_str(items[0], "psn_no", node_name="data[0]", max_len=30)
    sns: list[str] = []
    everything = False
    for i, item in enumerate(items):
        w = f"data[{i}]"
        if f.req_str(item, "mdtrt_id", node_name=w, max_len=30) != mdtrt_id:
            raise InvalidInput(f"{w}.mdtrt_id: 须为同一就诊 (one visit per message)")
        sn = f.req_str(item, "feedetl_sn", node_name=w, max_len=30)
        if sn == steps.ALL_BATCHES:
            everything = True
        sns.append(sn)
    visit = repo.visit(conn, ctx, mdtrt_id, psn_no, kind=repo.INPATIENT)
    steps.cancel_lines(conn, ctx, visit, None if everything else sns, batch=None, node="data")
    return None


@transaction("2303", "住院预结算", writes=False, inline_read=True)
def pre_settle(conn: Connection, ctx: CallContext, input: dict[str, Any]) -> dict[str, Any]:
    return steps.settle_visit(conn, ctx, f.node(input, "data"), kind=repo.INPATIENT, final=False)


@transaction("2304", "住院结算", writes=True)
def settle(conn: Connection, ctx: CallContext, input: dict[str, Any]) -> dict[str, Any]:
    return steps.settle_visit(conn, ctx, f.node(input, "data"), kind=repo.INPATIENT, final=True)


@transaction("2305", "住院结算撤销", writes=True)
def reverse(conn: Connection, ctx: CallContext, input: dict[str, Any]) -> dict[str, Any]:
    return steps.reverse_by_request(conn, ctx, input, kind=repo.INPATIENT, infno="2305")
