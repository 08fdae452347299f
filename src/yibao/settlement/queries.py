"""Queries: 5201 就诊信息查询 (provisional output), 5203 结算信息查询, 5204 费用明细查询
(provisional output). An institution sees only its own visits and settlements."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from yibao.errors import InvalidInput, NotFound
from yibao.interface import fields as f
from yibao.interface.context import CallContext
from yibao.interface.registry import transaction
from yibao.kit.clock import fmt_datetime
from yibao.settlement import ledger, output, repo, steps
from yibao.storage.tables import mdtrt

MAX_ROWS = 1000


@transaction("5201", "就诊信息查询", writes=False)
def visits(conn: Connection, ctx: CallContext, input: dict[str, Any]) -> dict[str, Any]:
    d = f.node(input, "data")
    psn_no = f.req_str(d, "psn_no", node_name="data", max_len=30)
    query = select(mdtrt).where(
        mdtrt.c.psn_no == psn_no, mdtrt.c.fixmedins_code == ctx.fixmedins_code
    )
    mdtrt_id = f.opt_str(d, "mdtrt_id", node_name="data", max_len=30)
    if mdtrt_id:
        query = query.where(mdtrt.c.mdtrt_id == mdtrt_id)
    begntime = f.opt_datetime(d, "begntime", node_name="data")
    if begntime:
        query = query.where(mdtrt.c.begntime >= begntime)
    endtime = f.opt_datetime(d, "endtime", node_name="data")
    if endtime:
        query = query.where(mdtrt.c.begntime <= endtime)
    med_type = f.opt_str(d, "med_type", node_name="data", max_len=6)
    if med_type:
        query = query.where(mdtrt.c.med_type == med_type)
    rows = conn.execute(query.order_by(mdtrt.c.begntime.desc()).limit(MAX_ROWS)).mappings()
    return {
        "mdtrtinfo": [
            {
                "mdtrt_id": r["mdtrt_id"],
                "psn_no": r["psn_no"],
                "fixmedins_code": r["fixmedins_code"],
                "fixmedins_name": ctx.institution.fixmedins_name,
                "insutype": r["insutype"],
                "med_type": r["med_type"],
                "begntime": fmt_datetime(r["begntime"]),
                "endtime": fmt_datetime(r["endtime"]),
                "ipt_otp_no": r["ipt_otp_no"],
                "dept_code": r["dept_code"],
                "dept_name": r["dept_name"],
                "dise_codg": r["dise_codg"],
                "dise_name": r["dise_name"],
                "main_cond_dscr": r["main_cond_dscr"],
                "maindiag_code": r["maindiag_code"],
                "maindiag_name": r["maindiag_name"],
                "mdtrt_cert_type": r["mdtrt_cert_type"],
                "mdtrt_stas": r["mdtrt_stas"],
                "vali_flag": r["vali_flag"],
            }
            for r in rows
        ]
    }


def _settlement(conn: Connection, ctx: CallContext, d: dict[str, Any]) -> Any:
    psn_no = f.req_str(d, "psn_no", node_name="data", max_len=30)
    setl_id = f.opt_str(d, "setl_id", node_name="data", max_len=30)
    mdtrt_id = f.opt_str(d, "mdtrt_id", node_name="data", max_len=30)
    if setl_id:
        row = repo.settlement(conn, ctx.fixmedins_code, setl_id)
    elif mdtrt_id:
        repo.visit(conn, ctx.fixmedins_code, mdtrt_id, psn_no, open_only=False)
        row = repo.latest_settlement(conn, ctx.fixmedins_code, mdtrt_id)
        if row is None:
            raise NotFound(f"data.mdtrt_id: 就诊没有结算记录 '{mdtrt_id}' (no settlement)")
    else:
        raise InvalidInput(
            "data.setl_id: setl_id 与 mdtrt_id 至少填一个 (give setl_id or mdtrt_id)"
        )
    if row["psn_no"] != psn_no:
        raise InvalidInput(f"data.psn_no: 与结算记录不一致 '{psn_no}' (does not match)")
    return row


@transaction("5203", "结算信息查询", writes=False)
def settlement(conn: Connection, ctx: CallContext, input: dict[str, Any]) -> dict[str, Any]:
    row = _settlement(conn, ctx, f.node(input, "data"))
    out = steps.settlement_output(conn, row)
    info = out["setlinfo"]
    info.update(
        psn_pay=info["psn_part_amt"],
        cash_payamt=info["psn_cash_pay"],
        fixmedins_code=row["fixmedins_code"],
        fixmedins_name=ctx.institution.fixmedins_name,
        hosp_lv=row["hosp_lv"],
        begndate=fmt_datetime(row["begndate"]),
        enddate=fmt_datetime(row["enddate"]),
        refd_setl_flag=row["refd_setl_flag"],
        init_setl_id=row["init_setl_id"],
        vali_flag=row["vali_flag"],
        year=row["year"],
        dise_codg=row["dise_codg"],
        dise_name=row["dise_name"],
        invono=row["invono"],
        opter_id=row["opter_id"],
        opter_name=row["opter_name"],
        opt_time=fmt_datetime(row["created_at"]),
    )
    return out


@transaction("5204", "费用明细查询", writes=False)
def fee_lines(conn: Connection, ctx: CallContext, input: dict[str, Any]) -> Any:
    d = f.node(input, "data")
    psn_no = f.req_str(d, "psn_no", node_name="data", max_len=30)
    setl_id = f.opt_str(d, "setl_id", node_name="data", max_len=30)
    mdtrt_id = f.opt_str(d, "mdtrt_id", node_name="data", max_len=30)
    if setl_id:
        row = _settlement(conn, ctx, d)
        sns = set(ledger.extra_of(row).get("feedetl_sns") or [])
        lines = [
            r
            for r in repo.lines_of_visit(conn, row["mdtrt_id"])
            if r["setl_id"] == row["setl_id"] or r["feedetl_sn"] in sns
        ]
        med_type = row["med_type"]
    elif mdtrt_id:
        visit = repo.visit(conn, ctx.fixmedins_code, mdtrt_id, psn_no, open_only=False)
        lines = repo.lines_of_visit(conn, mdtrt_id)
        med_type = visit["med_type"]
    else:
        raise InvalidInput(
            "data.setl_id: setl_id 与 mdtrt_id 至少填一个 (give setl_id or mdtrt_id)"
        )
    # Provisional: the output is the bare list of lines (as the clients' models read it).
    return [output.fee_row_output(r, med_type) for r in lines]
