"""Filings (备案) and their effect on settlement: 2501/2502 转院备案 and undo, 2503/2504 人员慢特病
备案 and undo, 2699 生育备案申请, the queries 5301 慢特病备案查询, 5302 人员定点信息查询, 5303 在院
信息查询, 5304 转院信息查询, and `require_for_settlement`, which the settlement steps call before
the calculator: it reads the person's filings valid on the day and hands them, as plain facts,
to the pure rule `policy.filings.check_entitlement`.

A filing is never deleted: its undo marks it `vali_flag` "0" with the time, message and reason.
Only the filing institution may undo it; another institution's filing is answered as missing.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection

from yibao.codes.dicts import MedType
from yibao.errors import Conflict, InvalidInput, NotFound
from yibao.kit.clock import age_on
from yibao.kit.jsonx import dumps_str, loads
from yibao.policy.filings import FilingFacts, check_entitlement, needs_filing
from yibao.policy.model import PolicyRefusal
from yibao.settlement import repo
from yibao.settlement.commands_filings import (
    FileChronic,
    FileMaternity,
    FileTransfer,
    PeriodQuery,
    PersonFilingQuery,
    UndoFiling,
)
from yibao.settlement.context import Caller
from yibao.settlement.repo import filings as frepo

#: 5302 业务申请类型 (biz_appy_type) → the filing kinds it lists (provisional codes)
BIZ_APPY_TYPES: dict[str, tuple[str, ...]] = {
    "01": (frepo.CHRONIC,),
    "02": (frepo.TRANSFER,),
    "03": (frepo.MATERNITY,),
}
_KIND_LABEL = {
    frepo.TRANSFER: "转院备案",
    frepo.CHRONIC: "人员慢特病备案",
    frepo.MATERNITY: "生育备案",
}
_BIZ_OF_KIND = {kinds[0]: code for code, kinds in BIZ_APPY_TYPES.items()}


def _check_person(conn: Connection, psn_no: str, insutype: str | None, node: str) -> None:
    repo.person(conn, psn_no, node=node)
    if insutype is not None:
        repo.insurance(conn, psn_no, insutype, node=node)


def _check_period(begndate: date, enddate: date | None, node: str) -> None:
    if enddate is not None and enddate < begndate:
        raise InvalidInput(
            f"{node}.enddate: 结束日期早于开始日期 {begndate} (enddate is before begndate)"
        )


def _new_row(
    caller: Caller,
    *,
    kind: str,
    psn_no: str,
    insutype: str | None,
    begndate: date,
    enddate: date | None,
    extra: dict[str, Any],
    **fields: Any,
) -> dict[str, Any]:
    kept = {k: v for k, v in extra.items() if v is not None}
    return {
        "trt_dcla_detl_sn": caller.ids.next_str(),
        "dcla_kind": kind,
        "psn_no": psn_no,
        "insutype": insutype,
        "fixmedins_code": caller.fixmedins_code,
        "begndate": begndate,
        "enddate": enddate,
        "extra": dumps_str(kept) if kept else None,
        "vali_flag": "1",
        "msgid": caller.msgid,
        "opter": caller.opter,
        "opter_name": caller.opter_name,
        "created_at": caller.now,
        "updated_at": caller.now,
        **fields,
    }


def file_transfer(conn: Connection, caller: Caller, command: FileTransfer) -> dict[str, Any]:
    """2501: record the person's transfer (转院) filing; answers its 待遇申报明细流水号."""
    node = "refmedin"
    _check_person(conn, command.psn_no, command.insutype, node)
    _check_period(command.begndate, command.enddate, node)
    if command.reflin_medins_no == caller.fixmedins_code:
        raise InvalidInput(
            f"{node}.reflin_medins_no: 转往机构不能是本机构 {caller.fixmedins_code} "
            "(a transfer names another institution)"
        )
    extra = asdict(command)
    for moved in (
        "psn_no", "insutype", "diag_code", "diag_name", "reflin_medins_no",
        "reflin_medins_name", "begndate", "enddate", "tel", "addr", "memo",
    ):  # fmt: skip
        extra.pop(moved)
    row = _new_row(
        caller,
        kind=frepo.TRANSFER,
        psn_no=command.psn_no,
        insutype=command.insutype,
        begndate=command.begndate,
        enddate=command.enddate,
        extra=extra,
        dise_codg=command.diag_code,
        dise_name=command.diag_name,
        medins_no=command.reflin_medins_no,
        medins_name=command.reflin_medins_name,
        tel=command.tel,
        addr=command.addr,
        memo=command.memo,
    )
    frepo.insert_filing(conn, row)
    return {"result": {"trt_dcla_detl_sn": row["trt_dcla_detl_sn"]}}


def file_chronic(conn: Connection, caller: Caller, command: FileChronic) -> dict[str, Any]:
    """2503: record the person's chronic/special disease (门慢门特) filing; refuses a second
    valid filing of the same disease whose period overlaps."""
    node = "data"
    _check_person(conn, command.psn_no, command.insutype, node)
    _check_period(command.begndate, command.enddate, node)
    for other in frepo.valid_filings(conn, psn_no=command.psn_no, kinds=(frepo.CHRONIC,)):
        if other["dise_codg"] != command.opsp_dise_code:
            continue
        ends, other_ends = command.enddate or date.max, other["enddate"] or date.max
        if command.begndate <= other_ends and other["begndate"] <= ends:
            raise Conflict(
                f"{node}.opsp_dise_code: 病种 {command.opsp_dise_code} 已有有效备案 "
                f"{other['trt_dcla_detl_sn']} ({other['begndate']}–{other['enddate'] or ''}) "
                "(the person already holds a valid filing of this disease for that period)"
            )
    extra = {
        "hosp_ide_date": command.hosp_ide_date,
        "diag_dr_codg": command.diag_dr_codg,
        "diag_dr_name": command.diag_dr_name,
        "insu_optins": command.insu_optins,
    }
    row = _new_row(
        caller,
        kind=frepo.CHRONIC,
        psn_no=command.psn_no,
        insutype=command.insutype,
        begndate=command.begndate,
        enddate=command.enddate,
        extra=extra,
        dise_codg=command.opsp_dise_code,
        dise_name=command.opsp_dise_name,
        medins_no=command.ide_fixmedins_no or caller.fixmedins_code,
        medins_name=command.ide_fixmedins_name,
        tel=command.tel,
        addr=command.addr,
    )
    frepo.insert_filing(conn, row)
    return {"result": {"trt_dcla_detl_sn": row["trt_dcla_detl_sn"]}}


def file_maternity(conn: Connection, caller: Caller, command: FileMaternity) -> dict[str, Any]:
    """2699: record the person's maternity (生育) filing at the calling institution."""
    node = "data"
    _check_person(conn, command.psn_no, command.insutype, node)
    _check_period(command.begndate, command.enddate, node)
    extra = {
        "last_mena_date": command.last_mena_date,
        "plan_dlv_date": command.plan_dlv_date,
        "geso_val": command.geso_val,
        "fetts": command.fetts,
    }
    row = _new_row(
        caller,
        kind=frepo.MATERNITY,
        psn_no=command.psn_no,
        insutype=command.insutype,
        begndate=command.begndate,
        enddate=command.enddate,
        extra=extra,
        medins_no=caller.fixmedins_code,
        tel=command.tel,
        addr=command.addr,
        memo=command.memo,
    )
    frepo.insert_filing(conn, row)
    return {"result": {"trt_dcla_detl_sn": row["trt_dcla_detl_sn"]}}


def undo(conn: Connection, caller: Caller, command: UndoFiling, *, kind: str) -> None:
    """2502 / 2504: undo the institution's own filing (a flag with its time, never a delete)."""
    node = "data"
    row = frepo.own_filing(
        conn,
        fixmedins_code=caller.fixmedins_code,
        trt_dcla_detl_sn=command.trt_dcla_detl_sn,
        kind=kind,
    )
    if row is None:
        raise NotFound(
            f"{node}.trt_dcla_detl_sn: {_KIND_LABEL[kind]}不存在或不属于本机构 "
            f"'{command.trt_dcla_detl_sn}' (no such {kind} filing of this institution)"
        )
    if row["psn_no"] != command.psn_no:
        raise InvalidInput(
            f"{node}.psn_no: 与备案的人员编号不一致 '{command.psn_no}' "
            "(psn_no does not match the filing)"
        )
    if row["vali_flag"] != "1":
        raise Conflict(
            f"{node}.trt_dcla_detl_sn: 备案已撤销 '{command.trt_dcla_detl_sn}' "
            "(the filing is already undone)"
        )
    frepo.undo_filing(
        conn,
        fixmedins_code=caller.fixmedins_code,
        trt_dcla_detl_sn=command.trt_dcla_detl_sn,
        at=caller.now,
        msgid=caller.msgid,
        memo=command.memo,
    )


# ------------------------------------------------------------------ queries


def chronic_filings(conn: Connection, query: PersonFilingQuery) -> dict[str, Any]:
    """5301: the person's valid chronic filings (病种 and period)."""
    repo.person(conn, query.psn_no)
    rows = frepo.valid_filings(conn, psn_no=query.psn_no, kinds=(frepo.CHRONIC,))
    return {
        "feedetail": [
            {
                "opsp_dise_code": r["dise_codg"],
                "opsp_dise_name": r["dise_name"],
                "begndate": r["begndate"],
                "enddate": r["enddate"],
            }
            for r in rows
        ]
    }


def designated_institutions(conn: Connection, query: PersonFilingQuery) -> dict[str, Any]:
    """5302: the person's designated institutions, from the valid filings: a chronic filing's
    鉴定机构, a transfer's receiving institution, a maternity filing's institution."""
    repo.person(conn, query.psn_no)
    if query.biz_appy_type is None:
        kinds: tuple[str, ...] = (frepo.CHRONIC, frepo.TRANSFER, frepo.MATERNITY)
    elif query.biz_appy_type in BIZ_APPY_TYPES:
        kinds = BIZ_APPY_TYPES[query.biz_appy_type]
    else:
        raise InvalidInput(
            f"data.biz_appy_type: 业务申请类型 '{query.biz_appy_type}' 不在 "
            f"{', '.join(BIZ_APPY_TYPES)} 之中 (unknown biz_appy_type)"
        )
    rows = frepo.valid_filings(conn, psn_no=query.psn_no, kinds=kinds)
    out = []
    for srt, r in enumerate((r for r in rows if r["medins_no"]), start=1):
        out.append(
            {
                "psn_no": r["psn_no"],
                "insutype": r["insutype"],
                "fix_srt_no": str(srt),
                "fixmedins_code": r["medins_no"],
                "fixmedins_name": r["medins_name"],
                "begndate": r["begndate"],
                "enddate": r["enddate"],
                "biz_appy_type": _BIZ_OF_KIND[r["dcla_kind"]],
                "trt_dcla_detl_sn": r["trt_dcla_detl_sn"],
                "memo": _KIND_LABEL[r["dcla_kind"]],
            }
        )
    return {"psnfixmedin": out}


def open_admissions(
    conn: Connection, query: PeriodQuery, *, fixmedins_code: str, today: date
) -> dict[str, Any]:
    """5303: the person's admissions at the institution that are not yet settled."""
    repo.person(conn, query.psn_no)
    rows = frepo.open_admissions(
        conn,
        fixmedins_code=fixmedins_code,
        psn_no=query.psn_no,
        begn_from=query.begntime,
        begn_to=query.endtime,
    )
    return {
        "data": [
            {
                "mdtrt_id": r["mdtrt_id"],
                "psn_no": r["psn_no"],
                "psn_cert_type": r["psn_cert_type"],
                "certno": r["certno"],
                "psn_name": r["psn_name"],
                "gend": r["gend"],
                "brdy": r["brdy"],
                "age": Decimal(age_on(r["brdy"], today)),
                "insutype": r["insutype"],
                "begndate": r["begntime"].date(),
                "med_type": r["med_type"],
                "ipt_otp_no": r["ipt_otp_no"],
                "out_flag": "0",
            }
            for r in rows
        ]
    }


def transfers(conn: Connection, query: PeriodQuery, *, fixmedins_code: str) -> dict[str, Any]:
    """5304: the person's valid transfer filings that concern the institution."""
    repo.person(conn, query.psn_no)
    rows = frepo.transfer_filings(
        conn,
        fixmedins_code=fixmedins_code,
        psn_no=query.psn_no,
        begn_from=query.begntime.date() if query.begntime else None,
        begn_to=query.endtime.date() if query.endtime else None,
    )
    out = []
    for r in rows:
        extra: dict[str, Any] = _extra(r["extra"])
        out.append(
            {
                "trt_dcla_detl_sn": r["trt_dcla_detl_sn"],
                "insutype": r["insutype"],
                "dcla_souc": "2",
                "psn_no": r["psn_no"],
                "psn_cert_type": r["psn_cert_type"],
                "certno": r["certno"],
                "psn_name": r["psn_name"],
                "gend": r["gend"],
                "brdy": r["brdy"],
                "tel": r["tel"],
                "addr": r["addr"],
                "insu_optins": extra.get("insu_optins"),
                "emp_name": None,
                "diag_code": r["dise_codg"],
                "diag_name": r["dise_name"],
                "dise_cond_dscr": extra.get("dise_cond_dscr"),
                "reflin_medins_no": r["medins_no"],
                "reflin_medins_name": r["medins_name"],
                "out_flag": "0",
                "refl_date": extra.get("refl_date"),
                "refl_rea": extra.get("refl_rea"),
                "begndate": r["begndate"],
                "enddate": r["enddate"],
                "hosp_agre_refl_flag": extra.get("hosp_agre_refl_flag"),
                "opter_id": r["opter"],
                "opter_name": r["opter_name"],
                "opt_time": r["created_at"],
            }
        )
    return {"refmedin": out}


def _extra(text: str | None) -> dict[str, Any]:
    value = loads(text) if text else {}
    return value if isinstance(value, dict) else {}


# ------------------------------------------------------------------ effect on settlement


def require_for_settlement(
    conn: Connection,
    caller: Caller,
    *,
    psn_no: str,
    insutype: str,
    med_type: str,
    dise_codg: str | None,
    day: date,
    node: str = "data",
) -> None:
    """Refuse a settlement whose med_type needs a filing the person does not hold on `day`
    (med_type 14 → 2503, 23 → 2501): the filings are read here and judged by the pure rule."""
    try:
        kind = MedType.of(med_type, field=f"{node}.med_type")
    except ValueError:
        return  # the calculator refuses an unknown med_type, with its own message
    if not needs_filing(kind):
        return
    rows = frepo.valid_filings(
        conn,
        psn_no=psn_no,
        kinds=(frepo.CHRONIC, frepo.TRANSFER),
        day=day,
        insutype=insutype,
    )
    facts = FilingFacts(
        chronic_diseases=frozenset(
            r["dise_codg"] for r in rows if r["dcla_kind"] == frepo.CHRONIC and r["dise_codg"]
        ),
        transfer_targets=frozenset(
            r["medins_no"] or "" for r in rows if r["dcla_kind"] == frepo.TRANSFER
        ),
    )
    try:
        check_entitlement(kind, facts, fixmedins_code=caller.fixmedins_code, dise_codg=dise_codg)
    except PolicyRefusal as exc:
        raise InvalidInput(f"{node}.{exc.field}: {exc}") from None
