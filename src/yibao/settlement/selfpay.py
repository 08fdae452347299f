"""Self-pay patients (自费病人): 4261 upload, 4262 reconcile, 4263 the mismatched.

An institution reports a visit it did not settle with the fund (the patient paid it all):
the visit, its diagnoses and its fee details. The platform keeps them for the 零星报销
(零报) the patient may later claim at the agency, whose amount is checked against them.

- 4261 stores the visit under the institution's own visit number `mdtrt_id`. A re-upload of
  the same number replaces the visit with its diagnoses and fee details (the national
  interface's `upType` "1", sent by public client code on every upload), and clears the
  visit's last reconciliation, which no longer describes what is stored.
- The visit's total is the sum of its fee details; a total the institution states
  (`medfee_sumamt`, provisional) must equal it, and each line's `cnt × pric` must agree with
  its `det_item_fee_sumamt` within the tolerance 2204 allows (`settlement.fees`).
- 4262 compares the institution's `totalFeeSumamt` of one uploaded visit with the stored
  total: equal is 平 ("0"), else 不平 ("1", codes.dicts.StmtRslt); the result is kept on the
  visit (the latest 4262 wins).
- 4262 over a period (provisional form, `stmt_begndate`/`stmt_enddate` instead of
  `mdtrtId`): the institution's count (`fixmedins_mdtrt_cnt`) and total of the visits it
  uploaded that began in the period, against the stored ones; the answer only (no visit is
  marked: the per-visit form says which visit differs).
- 4263 lists the institution's visits whose latest 4262 was 不平, a page at a time.

The handler (`yibao.interface.transactions.selfpay`) parses the input into
`settlement.commands_selfpay` commands; the SQL is in `settlement.repo.selfpay`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection

from yibao.codes.dicts import StmtRslt
from yibao.errors import InvalidInput, NotFound
from yibao.kit.clock import fmt_datetime
from yibao.kit.money import ZERO, fmt, round_fen
from yibao.settlement.commands_selfpay import (
    SelfpayMismatchQuery,
    SelfpayPeriodReconcile,
    SelfpayReconcile,
    SelfpayUpload,
)
from yibao.settlement.fees import PRICE_TOLERANCE
from yibao.settlement.repo import selfpay as repo

#: node names of the public client shape, used in refusals
VISIT_NODE = "fmiOwnpayPatnMdtrtDDTO"
DIAG_NODE = "fmiOwnpayPatnDiseListDDTOS"
FEE_NODE = "fmiOwnpayPatnFeeListDDTO"


def visit_total(cmd: SelfpayUpload) -> Decimal:
    """The visit's total: its fee details' sum, after the rules of the module docstring."""
    total = ZERO
    for i, fee in enumerate(cmd.fees):
        computed = round_fen(fee.cnt * fee.pric)
        if abs(computed - fee.det_item_fee_sumamt) > PRICE_TOLERANCE:
            raise InvalidInput(
                f"{FEE_NODE}[{i}].det_item_fee_sumamt: 与 数量×单价 ({fmt(computed)}) 不符 "
                f"'{fmt(fee.det_item_fee_sumamt)}' (must equal cnt × pric within "
                f"{fmt(PRICE_TOLERANCE)})"
            )
        total += fee.det_item_fee_sumamt
    stated = cmd.visit.medfee_sumamt
    if stated is not None and stated != total:
        raise InvalidInput(
            f"{VISIT_NODE}.medfee_sumamt: 与费用明细合计 {fmt(total)} 不符 '{fmt(stated)}' "
            f"(must equal the sum of the fee details)"
        )
    return total


def upload(
    conn: Connection, cmd: SelfpayUpload, *, fixmedins_code: str, now: datetime, msgid: str
) -> dict[str, Any]:
    """4261: store (or replace) the visit; answers what was stored."""
    total = visit_total(cmd)
    v = cmd.visit
    stored = repo.fetch_visit(conn, fixmedins_code=fixmedins_code, mdtrt_id=v.mdtrt_id)
    upload_cnt = 1 if stored is None else int(stored["upload_cnt"]) + 1
    visit = {
        "mdtrt_id": v.mdtrt_id,
        "psn_cert_type": v.psn_cert_type,
        "certno": v.certno,
        "psn_name": v.psn_name,
        "gend": v.gend,
        "brdy": v.brdy,
        "med_type": v.med_type,
        "ipt_otp_no": v.ipt_otp_no,
        "begntime": v.begntime,
        "endtime": v.endtime,
        "dise_no": v.dise_no,
        "dise_name": v.dise_name,
        "chfpdr_code": v.chfpdr_code,
        "chfpdr_name": v.chfpdr_name,
        "medfee_sumamt": total,
        "fee_cnt": len(cmd.fees),
        "diag_cnt": len(cmd.diagnoses),
        "upload_cnt": upload_cnt,
        "msgid": msgid,
        "stmt_rslt": None,
        "stmt_fee_sumamt": None,
        "stmt_time": None,
        "stmt_msgid": None,
        "created_at": now,
        "updated_at": now,
    }
    repo.replace_visit(
        conn,
        fixmedins_code=fixmedins_code,
        visit=visit,
        diagnoses=[
            {
                "diag_srt_no": d.diag_srt_no,
                "diag_info_id": d.diag_info_id,
                "inout_diag_type": d.inout_diag_type,
                "diag_type": d.diag_type,
                "maindiag_flag": d.maindiag_flag,
                "diag_code": d.diag_code,
                "diag_name": d.diag_name,
                "diag_dept": d.diag_dept,
                "diag_dr_code": d.diag_dr_code,
                "diag_dr_name": d.diag_dr_name,
                "diag_time": d.diag_time,
            }
            for d in cmd.diagnoses
        ],
        fees=[
            {
                "bkkp_sn": f.bkkp_sn,
                "fee_ocur_time": f.fee_ocur_time,
                "med_list_codg": f.med_list_codg,
                "medins_list_codg": f.medins_list_codg,
                "medins_list_name": f.medins_list_name,
                "med_chrgitm_type": f.med_chrgitm_type,
                "prodname": f.prodname,
                "cnt": f.cnt,
                "pric": f.pric,
                "det_item_fee_sumamt": f.det_item_fee_sumamt,
                "bilg_dept_codg": f.bilg_dept_codg,
                "bilg_dept_name": f.bilg_dept_name,
                "bilg_dr_codg": f.bilg_dr_codg,
                "bilg_dr_name": f.bilg_dr_name,
            }
            for f in cmd.fees
        ],
        exists=stored is not None,
    )
    return {
        "data": {
            "mdtrt_id": v.mdtrt_id,
            "fixmedins_code": fixmedins_code,
            "medfee_sumamt": total,
            "fee_cnt": len(cmd.fees),
            "diag_cnt": len(cmd.diagnoses),
            "upload_cnt": upload_cnt,
        }
    }


def reconcile(
    conn: Connection,
    cmd: SelfpayReconcile,
    *,
    fixmedins_code: str,
    now: datetime,
    msgid: str,
    where: str = "input.mdtrt_id",
) -> dict[str, Any]:
    """4262: the institution's total of one visit against the stored one; kept on the visit.
    `where` names the visit number's field in a refusal."""
    stored = repo.fetch_visit(conn, fixmedins_code=fixmedins_code, mdtrt_id=cmd.mdtrt_id)
    if stored is None:
        raise NotFound(
            f"{where}: 本机构未上传该自费就诊 '{cmd.mdtrt_id}' "
            f"(no self-pay visit of this institution has this number)"
        )
    ours: Decimal = stored["medfee_sumamt"]
    theirs = cmd.total_fee_sumamt
    if theirs == ours:
        result = StmtRslt.BALANCED
        text = f"平: {stored['fee_cnt']}条明细, 费用总额{fmt(ours)}"
    else:
        result = StmtRslt.UNBALANCED
        text = f"不平: 费用总额 医院{fmt(theirs)} 中心{fmt(ours)} 差{fmt(theirs - ours)}"
    repo.record_statement(
        conn,
        fixmedins_code=fixmedins_code,
        mdtrt_id=cmd.mdtrt_id,
        stmt_rslt=result.value,
        stmt_fee_sumamt=theirs,
        stmt_time=now,
        stmt_msgid=msgid,
    )
    return {
        "stmtinfo": {
            "mdtrt_id": cmd.mdtrt_id,
            "fixmedins_code": fixmedins_code,
            "stmt_rslt": result.value,
            "stmt_rslt_dscr": text,
            "total_fee_sumamt": theirs,
            "medfee_sumamt": ours,
            "fee_cnt": stored["fee_cnt"],
        }
    }


def reconcile_period(
    conn: Connection, cmd: SelfpayPeriodReconcile, *, fixmedins_code: str
) -> dict[str, Any]:
    """4262 over a period: the institution's count and total against the stored ones."""
    count, total = repo.period_totals(
        conn, fixmedins_code=fixmedins_code, begin=cmd.stmt_begndate, end=cmd.stmt_enddate
    )
    differences = []
    if cmd.fixmedins_mdtrt_cnt != count:
        differences.append(
            f"就诊数: 医院{cmd.fixmedins_mdtrt_cnt} 中心{count} 差{cmd.fixmedins_mdtrt_cnt - count}"
        )
    if cmd.total_fee_sumamt != total:
        differences.append(
            f"费用总额: 医院{fmt(cmd.total_fee_sumamt)} 中心{fmt(total)} "
            f"差{fmt(cmd.total_fee_sumamt - total)}"
        )
    if differences:
        result, text = StmtRslt.UNBALANCED, "不平; " + "; ".join(differences)
    else:
        result, text = StmtRslt.BALANCED, f"平: {count}次就诊, 费用总额{fmt(total)}"
    return {
        "stmtinfo": {
            "fixmedins_code": fixmedins_code,
            "stmt_begndate": cmd.stmt_begndate.isoformat(),
            "stmt_enddate": cmd.stmt_enddate.isoformat(),
            "stmt_rslt": result.value,
            "stmt_rslt_dscr": text,
            "fixmedins_mdtrt_cnt": cmd.fixmedins_mdtrt_cnt,
            "total_fee_sumamt": cmd.total_fee_sumamt,
            "mdtrt_cnt": count,
            "medfee_sumamt": total,
        }
    }


def _mismatch_row(r: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "mdtrt_id": r["mdtrt_id"],
        "fixmedins_code": r["fixmedins_code"],
        "psn_name": r["psn_name"],
        "psn_cert_type": r["psn_cert_type"],
        "certno": r["certno"],
        "med_type": r["med_type"],
        "ipt_otp_no": r["ipt_otp_no"],
        "begntime": fmt_datetime(r["begntime"]),
        "endtime": fmt_datetime(r["endtime"]),
        "medfee_sumamt": r["medfee_sumamt"],
        "total_fee_sumamt": r["stmt_fee_sumamt"],
        "diff_amt": r["stmt_fee_sumamt"] - r["medfee_sumamt"],
        "fee_cnt": r["fee_cnt"],
        "stmt_rslt": r["stmt_rslt"],
        "stmt_time": fmt_datetime(r["stmt_time"]),
    }


def mismatches(
    conn: Connection, cmd: SelfpayMismatchQuery, *, fixmedins_code: str
) -> dict[str, Any]:
    """4263: a page of the institution's visits whose latest 4262 was 不平."""
    total, rows = repo.mismatch_page(
        conn,
        fixmedins_code=fixmedins_code,
        stmt_rslt=StmtRslt.UNBALANCED.value,
        mdtrt_id=cmd.mdtrt_id,
        certno=cmd.certno,
        limit=cmd.page_size,
        offset=(cmd.page_num - 1) * cmd.page_size,
    )
    out = [_mismatch_row(r) for r in rows]
    pages = math.ceil(total / cmd.page_size) if total else 0
    return {
        "firstPage": 1 if pages else 0,
        "lastPage": pages,
        "size": len(out),
        "startRow": (cmd.page_num - 1) * cmd.page_size + 1 if out else 0,
        "pageSize": cmd.page_size,
        "pageNum": cmd.page_num,
        "recordCounts": total,
        "pages": pages,
        "data": out,
    }
