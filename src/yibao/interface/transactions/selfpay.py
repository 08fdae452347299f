"""自费病人 transactions: 4261 就医信息上传, 4262 就诊信息对账, 4263 零报金额不符信息查询.
Each handler parses `input` into a `settlement.commands_selfpay` command and calls
`settlement.selfpay`, whose docstring holds the rules; docs/interface/selfpay.md the shapes.

Public client code sends these in camelCase (`fmiOwnpayPatnMdtrtDDTO.mdtrtId`,
`totalFeeSumamt`); the national snake_case names (`mdtrtinfo.mdtrt_id`) are read as well.
Refusals name the node as sent and the field by its national name."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection

from yibao.errors import Forbidden, InvalidInput
from yibao.interface import fields as fx
from yibao.interface.context import CallContext
from yibao.interface.registry import transaction
from yibao.settlement import selfpay
from yibao.settlement.commands_selfpay import (
    SelfpayDiagnosis,
    SelfpayFee,
    SelfpayMismatchQuery,
    SelfpayPeriodReconcile,
    SelfpayReconcile,
    SelfpayUpload,
    SelfpayVisit,
)

#: 4263 page size bounds
PAGE_SIZE_DEFAULT = 10
PAGE_SIZE_MAX = 100

_CAMEL = re.compile(r"(?<=[a-z0-9])([A-Z])")
#: names public client code uses for a field whose national name differs
_ALIASES = {"ipt_op_no": "ipt_otp_no", "feedetl_sn": "bkkp_sn"}


def snake(key: str) -> str:
    """`detItemFeeSumamt` → `det_item_fee_sumamt`; a snake_case key is left as it is."""
    return _CAMEL.sub(r"_\1", key).lower()


def _normal(data: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = snake(str(key))
        out[_ALIASES.get(name, name)] = value
    return out


def _pick(input_: Mapping[str, Any], *names: str) -> str:
    """The first of `names` present in `input_` (else the first: its absence is reported)."""
    for name in names:
        if input_.get(name) is not None:
            return name
    return names[0]


def _own(data: Mapping[str, Any], *, node_name: str, fixmedins_code: str) -> None:
    claimed = fx.opt_str(data, "fixmedins_code", node_name=node_name, max_len=30)
    if claimed is not None and claimed != fixmedins_code:
        raise Forbidden(
            f"{node_name}.fixmedins_code: 只能操作本机构的自费病人信息 '{claimed}' "
            f"(an institution may only use its own self-pay records)"
        )


def _flag(data: Mapping[str, Any], field: str, *, node_name: str) -> str:
    value = fx.opt_str(data, field, node_name=node_name, max_len=1) or "0"
    if value not in ("0", "1"):
        raise InvalidInput(f"{node_name}.{field}: 应为 0 或 1 (must be '0' or '1'): '{value}'")
    return value


def _visit(raw: Mapping[str, Any], n: str, fixmedins_code: str) -> SelfpayVisit:
    d = _normal(raw)
    _own(d, node_name=n, fixmedins_code=fixmedins_code)
    begntime = fx.req_datetime(d, "begntime", node_name=n)
    endtime = fx.opt_datetime(d, "endtime", node_name=n)
    if endtime is not None and endtime < begntime:
        raise InvalidInput(f"{n}.endtime: 早于开始时间 begntime (before begntime)")
    return SelfpayVisit(
        mdtrt_id=fx.req_str(d, "mdtrt_id", node_name=n, max_len=30),
        psn_name=fx.req_str(d, "psn_name", node_name=n, max_len=50),
        psn_cert_type=fx.opt_str(d, "psn_cert_type", node_name=n, max_len=6),
        certno=fx.opt_str(d, "certno", node_name=n, max_len=50),
        gend=fx.opt_str(d, "gend", node_name=n, max_len=6),
        brdy=fx.opt_str(d, "brdy", node_name=n, max_len=20),
        med_type=fx.req_str(d, "med_type", node_name=n, max_len=6),
        ipt_otp_no=fx.opt_str(d, "ipt_otp_no", node_name=n, max_len=30),
        begntime=begntime,
        endtime=endtime,
        dise_no=fx.opt_str(d, "dise_no", node_name=n, max_len=30),
        dise_name=fx.opt_str(d, "dise_name", node_name=n, max_len=500),
        chfpdr_code=fx.opt_str(d, "chfpdr_code", node_name=n, max_len=30),
        chfpdr_name=fx.opt_str(d, "chfpdr_name", node_name=n, max_len=50),
        medfee_sumamt=fx.opt_amount(d, "medfee_sumamt", node_name=n),
    )


def _of_visit(d: Mapping[str, Any], *, node_name: str, mdtrt_id: str, fixmedins_code: str) -> None:
    """A diagnosis or fee detail that names its visit or institution names the upload's."""
    _own(d, node_name=node_name, fixmedins_code=fixmedins_code)
    named = fx.opt_str(d, "mdtrt_id", node_name=node_name, max_len=30)
    if named is not None and named != mdtrt_id:
        raise InvalidInput(
            f"{node_name}.mdtrt_id: 与就诊信息的 mdtrt_id 不符 '{named}' (must be the visit's)"
        )


def _diagnoses(
    items: list[dict[str, Any]], node_name: str, mdtrt_id: str, fixmedins_code: str
) -> tuple[SelfpayDiagnosis, ...]:
    out: list[SelfpayDiagnosis] = []
    seen: set[int] = set()
    mains = 0
    for i, raw in enumerate(items):
        d = _normal(raw)
        n = f"{node_name}[{i}]"
        _of_visit(d, node_name=n, mdtrt_id=mdtrt_id, fixmedins_code=fixmedins_code)
        srt = fx.req_int(d, "diag_srt_no", node_name=n, maximum=9999)
        if srt in seen:
            raise InvalidInput(f"{n}.diag_srt_no: 诊断排序号重复 {srt} (duplicate)")
        seen.add(srt)
        main = _flag(d, "maindiag_flag", node_name=n)
        mains += main == "1"
        if mains > 1:
            raise InvalidInput(f"{n}.maindiag_flag: 主诊断只能有一个 (only one main diagnosis)")
        out.append(
            SelfpayDiagnosis(
                diag_srt_no=srt,
                diag_info_id=fx.opt_str(d, "diag_info_id", node_name=n, max_len=30),
                inout_diag_type=fx.opt_str(d, "inout_diag_type", node_name=n, max_len=6),
                diag_type=fx.opt_str(d, "diag_type", node_name=n, max_len=6),
                maindiag_flag=main,
                diag_code=fx.req_str(d, "diag_code", node_name=n, max_len=20),
                diag_name=fx.req_str(d, "diag_name", node_name=n, max_len=100),
                diag_dept=fx.opt_str(d, "diag_dept", node_name=n, max_len=50),
                diag_dr_code=fx.opt_str(d, "diag_dr_code", node_name=n, max_len=30),
                diag_dr_name=fx.opt_str(d, "diag_dr_name", node_name=n, max_len=50),
                diag_time=fx.opt_datetime(d, "diag_time", node_name=n),
            )
        )
    return tuple(out)


def _fees(
    items: list[dict[str, Any]], node_name: str, mdtrt_id: str, fixmedins_code: str
) -> tuple[SelfpayFee, ...]:
    out: list[SelfpayFee] = []
    seen: set[str] = set()
    for i, raw in enumerate(items):
        d = _normal(raw)
        n = f"{node_name}[{i}]"
        _of_visit(d, node_name=n, mdtrt_id=mdtrt_id, fixmedins_code=fixmedins_code)
        sn = fx.req_str(d, "bkkp_sn", node_name=n, max_len=30)
        if sn in seen:
            raise InvalidInput(f"{n}.bkkp_sn: 记账流水号重复 '{sn}' (duplicate within the visit)")
        seen.add(sn)
        out.append(
            SelfpayFee(
                bkkp_sn=sn,
                fee_ocur_time=fx.req_datetime(d, "fee_ocur_time", node_name=n),
                med_list_codg=fx.opt_str(d, "med_list_codg", node_name=n, max_len=50),
                medins_list_codg=fx.req_str(d, "medins_list_codg", node_name=n, max_len=150),
                medins_list_name=fx.opt_str(d, "medins_list_name", node_name=n, max_len=200),
                med_chrgitm_type=fx.opt_str(d, "med_chrgitm_type", node_name=n, max_len=6),
                prodname=fx.opt_str(d, "prodname", node_name=n, max_len=200),
                cnt=fx.req_decimal(d, "cnt", node_name=n, places=4),
                pric=fx.req_decimal(d, "pric", node_name=n, places=6),
                det_item_fee_sumamt=fx.req_amount(d, "det_item_fee_sumamt", node_name=n),
                bilg_dept_codg=fx.opt_str(d, "bilg_dept_codg", node_name=n, max_len=30),
                bilg_dept_name=fx.opt_str(d, "bilg_dept_name", node_name=n, max_len=100),
                bilg_dr_codg=fx.opt_str(d, "bilg_dr_codg", node_name=n, max_len=30),
                bilg_dr_name=fx.opt_str(d, "bilg_dr_name", node_name=n, max_len=50),
            )
        )
    return tuple(out)


def parse_upload(input_: Mapping[str, Any], *, fixmedins_code: str) -> SelfpayUpload:
    visit_node = _pick(input_, "fmiOwnpayPatnMdtrtDDTO", "mdtrtinfo")
    diag_node = _pick(input_, "fmiOwnpayPatnDiseListDDTOS", "diseinfo")
    fee_node = _pick(input_, "fmiOwnpayPatnFeeListDDTO", "feedetail")
    visit = _visit(fx.node(input_, visit_node), visit_node, fixmedins_code)
    diagnoses = _diagnoses(
        fx.node_list(input_, diag_node, required=False), diag_node, visit.mdtrt_id, fixmedins_code
    )
    fees = _fees(fx.node_list(input_, fee_node), fee_node, visit.mdtrt_id, fixmedins_code)
    up_type = fx.opt_str(_normal(input_), "up_type", node_name="input", max_len=1)
    if up_type not in (None, "0", "1"):
        raise InvalidInput(f"input.upType: 应为 0 或 1 (must be '0' or '1'): '{up_type}'")
    return SelfpayUpload(visit=visit, diagnoses=diagnoses, fees=fees, up_type=up_type)


def _flat(input_: Mapping[str, Any]) -> tuple[dict[str, Any], str]:
    """4262/4263 send their fields at the top of `input`; a `data` node is read too."""
    data = input_.get("data")
    if isinstance(data, Mapping) or (isinstance(data, list) and len(data) == 1):
        return _normal(fx.node(input_, "data")), "data"
    return _normal(input_), "input"


def parse_reconcile(
    input_: Mapping[str, Any], *, fixmedins_code: str
) -> tuple[SelfpayReconcile | SelfpayPeriodReconcile, str]:
    """One visit (`mdtrtId`, the public shape) or a period (`stmt_begndate`/`stmt_enddate`,
    provisional); with the node name the fields were read from."""
    d, n = _flat(input_)
    _own(d, node_name=n, fixmedins_code=fixmedins_code)
    total = fx.req_amount(d, "total_fee_sumamt", node_name=n)
    if fx.opt_str(d, "mdtrt_id", node_name=n, max_len=30) is None and (
        d.get("stmt_begndate") is not None or d.get("stmt_enddate") is not None
    ):
        begin = fx.req_date(d, "stmt_begndate", node_name=n)
        end = fx.req_date(d, "stmt_enddate", node_name=n)
        if end < begin:
            raise InvalidInput(
                f"{n}.stmt_enddate: 对账结束日期早于开始日期 (end date before begin date)"
            )
        count = fx.req_int(d, "fixmedins_mdtrt_cnt", node_name=n)
        return SelfpayPeriodReconcile(begin, end, count, total), n
    mdtrt_id = fx.req_str(d, "mdtrt_id", node_name=n, max_len=30)
    return SelfpayReconcile(mdtrt_id=mdtrt_id, total_fee_sumamt=total), n


def parse_mismatch_query(input_: Mapping[str, Any], *, fixmedins_code: str) -> SelfpayMismatchQuery:
    d, n = _flat(input_)
    _own(d, node_name=n, fixmedins_code=fixmedins_code)
    page_num = fx.opt_int(d, "page_num", node_name=n, minimum=1) or 1
    page_size = fx.opt_int(d, "page_size", node_name=n, minimum=1) or PAGE_SIZE_DEFAULT
    if page_size > PAGE_SIZE_MAX:
        raise InvalidInput(f"{n}.page_size: 每页最多{PAGE_SIZE_MAX}条 (at most {PAGE_SIZE_MAX})")
    return SelfpayMismatchQuery(
        mdtrt_id=fx.opt_str(d, "mdtrt_id", node_name=n, max_len=30),
        certno=fx.opt_str(d, "certno", node_name=n, max_len=50),
        page_num=page_num,
        page_size=page_size,
    )


@transaction("4261", "自费病人就医信息上传", writes=True)
def handle_4261(conn: Connection, ctx: CallContext, input_: dict[str, Any]) -> dict[str, Any]:
    cmd = parse_upload(input_, fixmedins_code=ctx.fixmedins_code)
    return selfpay.upload(
        conn, cmd, fixmedins_code=ctx.fixmedins_code, now=ctx.now, msgid=ctx.msgid
    )


@transaction("4262", "自费病人就诊信息对账", writes=True)
def handle_4262(conn: Connection, ctx: CallContext, input_: dict[str, Any]) -> dict[str, Any]:
    cmd, n = parse_reconcile(input_, fixmedins_code=ctx.fixmedins_code)
    if isinstance(cmd, SelfpayPeriodReconcile):
        return selfpay.reconcile_period(conn, cmd, fixmedins_code=ctx.fixmedins_code)
    return selfpay.reconcile(
        conn,
        cmd,
        fixmedins_code=ctx.fixmedins_code,
        now=ctx.now,
        msgid=ctx.msgid,
        where=f"{n}.mdtrt_id",
    )


@transaction("4263", "零报金额不符信息查询", writes=False)
def handle_4263(conn: Connection, ctx: CallContext, input_: dict[str, Any]) -> dict[str, Any]:
    cmd = parse_mismatch_query(input_, fixmedins_code=ctx.fixmedins_code)
    return selfpay.mismatches(conn, cmd, fixmedins_code=ctx.fixmedins_code)
