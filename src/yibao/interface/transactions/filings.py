"""Filing transactions (备案): 2501 转院备案, 2502 转院备案撤销, 2503 人员慢特病备案, 2504 人员慢特病
备案撤销, 2699 生育备案申请, and the queries 5301 慢特病备案查询, 5302 人员定点信息查询, 5303 在院
信息查询, 5304 转院信息查询. Each handler parses `input` into a `settlement.commands_filings`
command and calls `settlement.filings`. Shapes: docs/interface/filings.md."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import Connection

from yibao.codes.validators import CodeKind, validate
from yibao.errors import InvalidInput
from yibao.interface import fields as f
from yibao.interface.context import CallContext
from yibao.interface.registry import transaction
from yibao.interface.transactions.callers import caller
from yibao.settlement import filings
from yibao.settlement.commands_filings import (
    FileChronic,
    FileMaternity,
    FileTransfer,
    PeriodQuery,
    PersonFilingQuery,
    UndoFiling,
)
from yibao.settlement.repo.filings import CHRONIC, TRANSFER


def _date(d: Mapping[str, Any], field: str, *, node_name: str, required: bool) -> date | None:
    """A date sent as yyyy-MM-dd or, as several public clients format it, yyyy-MM-dd HH:mm:ss."""
    value = d.get(field)
    if isinstance(value, str) and len(value.strip()) > 10:
        moment = f.opt_datetime(d, field, node_name=node_name)
        return moment.date() if moment else None
    if required:
        return f.req_date(d, field, node_name=node_name)
    return f.opt_date(d, field, node_name=node_name)


def _req_date(d: Mapping[str, Any], field: str, *, node_name: str) -> date:
    value = _date(d, field, node_name=node_name, required=True)
    assert value is not None
    return value


def _flag(d: Mapping[str, Any], field: str, *, node_name: str) -> str | None:
    value = f.opt_str(d, field, node_name=node_name, max_len=3)
    if value is not None and value not in ("0", "1"):
        raise InvalidInput(f"{node_name}.{field}: 应为 0 或 1 '{value}' (must be 0 or 1)")
    return value


def parse_transfer(input_: Mapping[str, Any]) -> FileTransfer:
    n = "refmedin"
    d = f.node(input_, n)
    return FileTransfer(
        psn_no=f.req_str(d, "psn_no", node_name=n, max_len=30),
        insutype=f.opt_str(d, "insutype", node_name=n, max_len=6),
        diag_code=f.req_str(d, "diag_code", node_name=n, max_len=20),
        diag_name=f.req_str(d, "diag_name", node_name=n, max_len=100),
        reflin_medins_no=f.opt_str(d, "reflin_medins_no", node_name=n, max_len=30),
        reflin_medins_name=f.req_str(d, "reflin_medins_name", node_name=n, max_len=200),
        refl_date=_date(d, "refl_date", node_name=n, required=False),
        begndate=_req_date(d, "begndate", node_name=n),
        enddate=_date(d, "enddate", node_name=n, required=False),
        tel=f.opt_str(d, "tel", node_name=n, max_len=50),
        addr=f.opt_str(d, "addr", node_name=n, max_len=200),
        insu_optins=f.opt_str(d, "insu_optins", node_name=n, max_len=6),
        dise_cond_dscr=f.opt_str(d, "dise_cond_dscr", node_name=n, max_len=2000),
        mdtrt_area_admdvs=f.opt_str(d, "mdtrt_area_admdvs", node_name=n, max_len=6),
        hosp_agre_refl_flag=_flag(d, "hosp_agre_refl_flag", node_name=n),
        refl_type=f.opt_str(d, "refl_type", node_name=n, max_len=6),
        refl_rea=f.opt_str(d, "refl_rea", node_name=n, max_len=100),
        refl_opnn=f.opt_str(d, "refl_opnn", node_name=n, max_len=500),
        memo=f.opt_str(d, "memo", node_name=n, max_len=500),
    )


def parse_chronic(input_: Mapping[str, Any]) -> FileChronic:
    n = "data"
    d = f.node(input_, n)
    code = f.req_str(d, "opsp_dise_code", node_name=n, max_len=30)
    check = validate(CodeKind.CHRONIC_DISEASE, code)
    if not check.valid:
        raise InvalidInput(f"{n}.opsp_dise_code: {check.reason}")
    return FileChronic(
        psn_no=f.req_str(d, "psn_no", node_name=n, max_len=30),
        insutype=f.opt_str(d, "insutype", node_name=n, max_len=6),
        opsp_dise_code=code,
        opsp_dise_name=f.req_str(d, "opsp_dise_name", node_name=n, max_len=300),
        begndate=_req_date(d, "begndate", node_name=n),
        enddate=_date(d, "enddate", node_name=n, required=False),
        ide_fixmedins_no=f.opt_str(d, "ide_fixmedins_no", node_name=n, max_len=30),
        ide_fixmedins_name=f.opt_str(d, "ide_fixmedins_name", node_name=n, max_len=200),
        hosp_ide_date=_date(d, "hosp_ide_date", node_name=n, required=False),
        diag_dr_codg=f.opt_str(d, "diag_dr_codg", node_name=n, max_len=30),
        diag_dr_name=f.opt_str(d, "diag_dr_name", node_name=n, max_len=50),
        tel=f.opt_str(d, "tel", node_name=n, max_len=50),
        addr=f.opt_str(d, "addr", node_name=n, max_len=200),
        insu_optins=f.opt_str(d, "insu_optins", node_name=n, max_len=6),
    )


def parse_maternity(input_: Mapping[str, Any]) -> FileMaternity:
    n = "data"
    d = f.node(input_, n)
    return FileMaternity(
        psn_no=f.req_str(d, "psn_no", node_name=n, max_len=30),
        insutype=f.opt_str(d, "insutype", node_name=n, max_len=6),
        begndate=_req_date(d, "begndate", node_name=n),
        enddate=_date(d, "enddate", node_name=n, required=False),
        last_mena_date=_date(d, "last_mena_date", node_name=n, required=False),
        plan_dlv_date=_date(d, "plan_dlv_date", node_name=n, required=False),
        geso_val=f.opt_int(d, "geso_val", node_name=n, maximum=45),
        fetts=f.opt_int(d, "fetts", node_name=n, maximum=20),
        tel=f.opt_str(d, "tel", node_name=n, max_len=50),
        addr=f.opt_str(d, "addr", node_name=n, max_len=200),
        memo=f.opt_str(d, "memo", node_name=n, max_len=500),
    )


def parse_undo(input_: Mapping[str, Any]) -> UndoFiling:
    n = "data"
    d = f.node(input_, n)
    return UndoFiling(
        trt_dcla_detl_sn=f.req_str(d, "trt_dcla_detl_sn", node_name=n, max_len=30),
        psn_no=f.req_str(d, "psn_no", node_name=n, max_len=30),
        memo=f.opt_str(d, "memo", node_name=n, max_len=500),
    )


def parse_person_query(input_: Mapping[str, Any]) -> PersonFilingQuery:
    d = f.node(input_, "data")
    return PersonFilingQuery(
        psn_no=f.req_str(d, "psn_no", node_name="data", max_len=30),
        biz_appy_type=f.opt_str(d, "biz_appy_type", node_name="data", max_len=3),
    )


def parse_period_query(input_: Mapping[str, Any]) -> PeriodQuery:
    d = f.node(input_, "data")
    begntime = f.opt_datetime(d, "begntime", node_name="data")
    endtime = f.opt_datetime(d, "endtime", node_name="data")
    if begntime and endtime and endtime < begntime:
        raise InvalidInput("data.endtime: 结束时间早于开始时间 (endtime is before begntime)")
    return PeriodQuery(
        psn_no=f.req_str(d, "psn_no", node_name="data", max_len=30),
        begntime=begntime,
        endtime=endtime,
    )


@transaction("2501", "转院备案", writes=True)
def file_transfer(conn: Connection, ctx: CallContext, input: dict[str, Any]) -> dict[str, Any]:
    return filings.file_transfer(conn, caller(ctx), parse_transfer(input))


@transaction("2502", "转院备案撤销", writes=True)
def undo_transfer(conn: Connection, ctx: CallContext, input: dict[str, Any]) -> None:
    filings.undo(conn, caller(ctx), parse_undo(input), kind=TRANSFER)
    return None


@transaction("2503", "人员慢特病备案", writes=True)
def file_chronic(conn: Connection, ctx: CallContext, input: dict[str, Any]) -> dict[str, Any]:
    return filings.file_chronic(conn, caller(ctx), parse_chronic(input))


@transaction("2504", "人员慢特病备案撤销", writes=True)
def undo_chronic(conn: Connection, ctx: CallContext, input: dict[str, Any]) -> None:
    filings.undo(conn, caller(ctx), parse_undo(input), kind=CHRONIC)
    return None


@transaction("2699", "生育备案申请", writes=True)
def file_maternity(conn: Connection, ctx: CallContext, input: dict[str, Any]) -> dict[str, Any]:
    return filings.file_maternity(conn, caller(ctx), parse_maternity(input))


@transaction("5301", "慢特病备案查询", writes=False)
def chronic_filings(conn: Connection, ctx: CallContext, input: dict[str, Any]) -> dict[str, Any]:
    return filings.chronic_filings(conn, parse_person_query(input))


@transaction("5302", "人员定点信息查询", writes=False)
def designated(conn: Connection, ctx: CallContext, input: dict[str, Any]) -> dict[str, Any]:
    return filings.designated_institutions(conn, parse_person_query(input))


@transaction("5303", "在院信息查询", writes=False)
def in_hospital(conn: Connection, ctx: CallContext, input: dict[str, Any]) -> dict[str, Any]:
    return filings.open_admissions(
        conn, parse_period_query(input), fixmedins_code=ctx.fixmedins_code, today=ctx.now.date()
    )


@transaction("5304", "转院信息查询", writes=False)
def transfers(conn: Connection, ctx: CallContext, input: dict[str, Any]) -> dict[str, Any]:
    return filings.transfers(conn, parse_period_query(input), fixmedins_code=ctx.fixmedins_code)
