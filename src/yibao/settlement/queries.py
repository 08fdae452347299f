"""Queries: 5201 就诊信息查询 (provisional output), 5203 结算信息查询, 5204 费用明细查询
(provisional output). An institution sees only its own visits and settlements: every read is
scoped by the caller's `fixmedins_code`, and another institution's record is answered like a
missing one. The handlers are in `yibao.interface.transactions.queries`."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from yibao.errors import InvalidInput, NotFound
from yibao.kit.clock import fmt_datetime
from yibao.settlement import output, records, repo, steps
from yibao.settlement.commands_queries import SettlementQuery, VisitQuery
from yibao.settlement.repo import queries as queries_repo
from yibao.settlement.repo.rows import Row

MAX_ROWS = 1000


def visits(
    conn: Connection, q: VisitQuery, *, fixmedins_code: str, fixmedins_name: str
) -> dict[str, Any]:
    """5201: the person's visits at the institution, latest first (at most `MAX_ROWS`)."""
    rows = queries_repo.visits_of_person(
        conn,
        fixmedins_code=fixmedins_code,
        psn_no=q.psn_no,
        mdtrt_id=q.mdtrt_id,
        begntime_from=q.begntime,
        begntime_to=q.endtime,
        med_type=q.med_type,
        limit=MAX_ROWS,
    )
    return {
        "mdtrtinfo": [
            {
                "mdtrt_id": r["mdtrt_id"],
                "psn_no": r["psn_no"],
                "fixmedins_code": r["fixmedins_code"],
                "fixmedins_name": fixmedins_name,
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


def _settlement(conn: Connection, q: SettlementQuery, *, fixmedins_code: str) -> Row:
    if q.setl_id:
        row = repo.settlement(conn, fixmedins_code, q.setl_id)
    elif q.mdtrt_id:
        repo.visit(conn, fixmedins_code, q.mdtrt_id, q.psn_no, open_only=False)
        latest = repo.latest_settlement(conn, fixmedins_code, q.mdtrt_id)
        if latest is None:
            raise NotFound(f"data.mdtrt_id: 就诊没有结算记录 '{q.mdtrt_id}' (no settlement)")
        row = latest
    else:
        raise InvalidInput(
            "data.setl_id: setl_id 与 mdtrt_id 至少填一个 (give setl_id or mdtrt_id)"
        )
    if row["psn_no"] != q.psn_no:
        raise InvalidInput(f"data.psn_no: 与结算记录不一致 '{q.psn_no}' (does not match)")
    return row


def settlement(
    conn: Connection, q: SettlementQuery, *, fixmedins_code: str, fixmedins_name: str
) -> dict[str, Any]:
    """5203: `setlinfo` + `setldetail` of the settlement, with the query's extra fields."""
    row = _settlement(conn, q, fixmedins_code=fixmedins_code)
    out = steps.settlement_output(conn, row)
    info = out["setlinfo"]
    info.update(
        psn_pay=info["psn_part_amt"],
        cash_payamt=info["psn_cash_pay"],
        fixmedins_code=row["fixmedins_code"],
        fixmedins_name=fixmedins_name,
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


def fee_lines(conn: Connection, q: SettlementQuery, *, fixmedins_code: str) -> list[dict[str, Any]]:
    """5204: the lines of the settlement (those it settled, or named in its `feedetl_sns`), or
    every line of the visit."""
    if q.setl_id:
        row = _settlement(conn, q, fixmedins_code=fixmedins_code)
        sns = set(records.extra_of(row).get("feedetl_sns") or [])
        lines = [
            r
            for r in queries_repo.lines_of_visit(
                conn, row["mdtrt_id"], fixmedins_code=fixmedins_code
            )
            if r["setl_id"] == row["setl_id"] or r["feedetl_sn"] in sns
        ]
        med_type = row["med_type"]
    elif q.mdtrt_id:
        visit = repo.visit(conn, fixmedins_code, q.mdtrt_id, q.psn_no, open_only=False)
        lines = queries_repo.lines_of_visit(conn, q.mdtrt_id, fixmedins_code=fixmedins_code)
        med_type = visit["med_type"]
    else:
        raise InvalidInput(
            "data.setl_id: setl_id 与 mdtrt_id 至少填一个 (give setl_id or mdtrt_id)"
        )
    # Provisional: the output is the bare list of lines (as the clients' models read it).
    return [output.fee_row_output(r, med_type) for r in lines]
