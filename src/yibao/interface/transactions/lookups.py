"""Lookups: 1201 医药机构信息获取, 1901 字典表查询, 2001 人员待遇享受检查, 5202 诊断信息查询,
5205 慢特病用药记录查询, 5206 人员累计信息查询. Each handler parses `input` into a
`settlement.commands_lookups` command and calls `settlement.lookups`; reads of visits and
lines are scoped to the calling institution."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection

from yibao.codes.dicts import HospLv, Insutype, MedType
from yibao.errors import InvalidInput
from yibao.interface import fields as f
from yibao.interface.context import CallContext
from yibao.interface.registry import transaction
from yibao.runtime import Platform
from yibao.settlement import lookups
from yibao.settlement.commands_lookups import (
    AccumulatorQuery,
    ChronicDrugQuery,
    DiagnosisQuery,
    DictionaryQuery,
    EntitlementCheck,
    InstitutionQuery,
    Page,
)


def read_page(d: Mapping[str, Any], node: str) -> Page:
    page_num = f.opt_int(d, "page_num", node_name=node, minimum=1, maximum=1_000_000)
    page_size = f.opt_int(d, "page_size", node_name=node, minimum=1, maximum=lookups.MAX_ROWS)
    return Page(page_num=page_num or 1, page_size=page_size)


def parse_institution_query(input_: Mapping[str, Any]) -> InstitutionQuery:
    n = "medinsinfo"
    d = f.node(input_, n, required=False)
    return InstitutionQuery(
        fixmedins_type=f.opt_str(d, "fixmedins_type", node_name=n, max_len=16),
        fixmedins_name=f.opt_str(d, "fixmedins_name", node_name=n, max_len=200),
        fixmedins_code=f.opt_str(d, "fixmedins_code", node_name=n, max_len=30),
        page=read_page(d, n),
    )


def parse_dictionary_query(input_: Mapping[str, Any]) -> DictionaryQuery:
    n = "data"
    d = f.node(input_, n)
    # Clients send the parent as `parentValue` (the national sample) or `parent_value`.
    parent = f.opt_str(d, "parentValue", node_name=n, max_len=50)
    return DictionaryQuery(
        type=f.req_str(d, "type", node_name=n, max_len=50),
        parent_value=parent or f.opt_str(d, "parent_value", node_name=n, max_len=50),
        admdvs=f.opt_str(d, "admdvs", node_name=n, max_len=6),
        date=f.opt_date(d, "date", node_name=n),
        vali_flag=f.opt_str(d, "vali_flag", node_name=n, max_len=1)
        or f.opt_str(d, "valiFlag", node_name=n, max_len=1),
        page=read_page(d, n),
    )


def parse_entitlement_check(input_: Mapping[str, Any]) -> EntitlementCheck:
    n = "data"
    d = f.node(input_, n)
    return EntitlementCheck(
        psn_no=f.req_str(d, "psn_no", node_name=n, max_len=30),
        insutype=f.req_code(d, "insutype", Insutype, node_name=n),
        med_type=f.req_code(d, "med_type", MedType, node_name=n),
        fixmedins_code=f.opt_str(d, "fixmedins_code", node_name=n, max_len=30),
        begntime=f.opt_datetime(d, "begntime", node_name=n),
        endtime=f.opt_datetime(d, "endtime", node_name=n),
        dise_codg=f.opt_str(d, "dise_codg", node_name=n, max_len=30),
        dise_name=f.opt_str(d, "dise_name", node_name=n, max_len=300),
        oprn_oprt_code=f.opt_str(d, "oprn_oprt_code", node_name=n, max_len=30),
        oprn_oprt_name=f.opt_str(d, "oprn_oprt_name", node_name=n, max_len=500),
        matn_type=f.opt_str(d, "matn_type", node_name=n, max_len=6),
        birctrl_type=f.opt_str(d, "birctrl_type", node_name=n, max_len=6),
    )


def parse_diagnosis_query(input_: Mapping[str, Any]) -> DiagnosisQuery:
    d = f.node(input_, "data")
    return DiagnosisQuery(
        psn_no=f.req_str(d, "psn_no", node_name="data", max_len=30),
        mdtrt_id=f.req_str(d, "mdtrt_id", node_name="data", max_len=30),
    )


def parse_chronic_drug_query(input_: Mapping[str, Any]) -> ChronicDrugQuery:
    d = f.node(input_, "data")
    return ChronicDrugQuery(
        psn_no=f.req_str(d, "psn_no", node_name="data", max_len=30),
        begntime=f.req_datetime(d, "begntime", node_name="data"),
        endtime=f.req_datetime(d, "endtime", node_name="data"),
    )


def parse_accumulator_query(input_: Mapping[str, Any], *, this_year: int) -> AccumulatorQuery:
    d = f.node(input_, "data")
    cum_ym = f.opt_str(d, "cum_ym", node_name="data", max_len=6)
    year = this_year
    if cum_ym is not None:
        ok = len(cum_ym) == 6 and cum_ym.isascii() and cum_ym.isdigit()
        if not ok or not 1 <= int(cum_ym[4:]) <= 12 or int(cum_ym[:4]) < 1900:
            raise InvalidInput(
                f"data.cum_ym: 累计年月格式应为 yyyyMM '{cum_ym}' (cum_ym must be yyyyMM)"
            )
        year = int(cum_ym[:4])
    return AccumulatorQuery(
        psn_no=f.req_str(d, "psn_no", node_name="data", max_len=30), year=year, cum_ym=cum_ym
    )


@transaction("1201", "医药机构信息获取", writes=False)
def institutions(conn: Connection, ctx: CallContext, input: dict[str, Any]) -> dict[str, Any]:
    return lookups.institutions(conn, parse_institution_query(input))


@transaction("1901", "字典表查询", writes=False, short_read=True)
def dictionary(conn: Connection, ctx: CallContext, input: dict[str, Any]) -> Any:
    # Provisional: the output is the bare list of rows, as the clients' models read it.
    return lookups.dictionary_rows(parse_dictionary_query(input))


@transaction("2001", "人员待遇享受检查", writes=False, short_read=True)
def entitlement(conn: Connection, ctx: CallContext, input: dict[str, Any]) -> dict[str, Any]:
    command = parse_entitlement_check(input)
    platform: Platform = ctx.platform
    day = (command.begntime or ctx.now).date()
    return lookups.check_entitlement(
        conn, command, day=day, hosp_lv=HospLv(ctx.institution.hosp_lv), book=platform.book
    )


@transaction("5202", "诊断信息查询", writes=False, short_read=True)
def diagnoses(conn: Connection, ctx: CallContext, input: dict[str, Any]) -> dict[str, Any]:
    return lookups.diagnoses(conn, parse_diagnosis_query(input), fixmedins_code=ctx.fixmedins_code)


@transaction("5205", "慢特病用药记录查询", writes=False)
def chronic_drugs(conn: Connection, ctx: CallContext, input: dict[str, Any]) -> dict[str, Any]:
    return lookups.chronic_drug_lines(
        conn, parse_chronic_drug_query(input), fixmedins_code=ctx.fixmedins_code
    )


@transaction("5206", "人员累计信息查询", writes=False, short_read=True)
def accumulators(conn: Connection, ctx: CallContext, input: dict[str, Any]) -> dict[str, Any]:
    platform: Platform = ctx.platform
    command = parse_accumulator_query(input, this_year=ctx.now.year)
    return lookups.accumulators(conn, command, book=platform.book, day=ctx.now.date())
