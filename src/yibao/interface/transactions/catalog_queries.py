"""The paged catalog queries: 1304 民族药品目录, 1316 医疗目录与医保目录匹配, 1317 医药机构目录匹配
(the caller's own 目录对照), 1318 医保目录限价, 1319 医保目录先自付比例. Each handler parses `input`
into a `catalog.commands_queries` command and calls `catalog.queries`.

Input shapes: public client code (`Input_1304.cs` … `Input_1319.cs`); fields they carry that
yibao has nothing to filter on (rid, tabname, poolarea_no, ver, reg_name …) are accepted and
ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection

from yibao.catalog import queries
from yibao.catalog.commands_queries import (
    EthnicDrugQuery,
    InstitutionMatchQuery,
    MedListMatchQuery,
    PageRequest,
    PriceCapQuery,
    SelfpayRatioQuery,
)
from yibao.catalog.item_query import PAGE_SIZE_MAX
from yibao.codes.dicts import ListType
from yibao.errors import Forbidden, InvalidInput
from yibao.interface import fields as fx
from yibao.interface.context import CallContext
from yibao.interface.registry import transaction

_N = "data"


def _page_int(data: Mapping[str, Any], field: str, example: int) -> int:
    raw = data.get(field)
    if raw is None or raw == "":
        raise InvalidInput(f"data.{field}: 不能为空, 如 {example} (required)")
    text = str(raw).strip()
    if not (text.isascii() and text.isdigit()) or int(text) < 1:
        raise InvalidInput(f"data.{field}: 须为正整数 (must be a positive integer): {raw}")
    value = int(text)
    if value > fx.INT_MAX:
        raise InvalidInput(f"data.{field}: 超出范围 (out of range: at most {fx.INT_MAX})")
    return value


def parse_page(data: Mapping[str, Any]) -> PageRequest:
    """updt_time, page_num, page_size (all required, as in 1312) and vali_flag (default 1)."""
    updt_time = fx.opt_datetime(data, "updt_time", node_name=_N)
    if updt_time is None:
        raise InvalidInput("data.updt_time: 不能为空, 如 2000-01-01 00:00:00 (required)")
    page_num = _page_int(data, "page_num", 1)
    page_size = _page_int(data, "page_size", 100)
    if page_size > PAGE_SIZE_MAX:
        raise InvalidInput(f"data.page_size: 每页最多{PAGE_SIZE_MAX}条 (at most {PAGE_SIZE_MAX})")
    vali_flag = fx.opt_str(data, "vali_flag", node_name=_N, max_len=3) or "1"
    if vali_flag not in ("0", "1"):
        raise InvalidInput(f"data.vali_flag: 须为 0 或 1 (must be 0 or 1): {vali_flag}")
    return PageRequest(
        updt_time=updt_time, page_num=page_num, page_size=page_size, vali_flag=vali_flag
    )


def _list_type(data: Mapping[str, Any]) -> str | None:
    value = fx.opt_str(data, "list_type", node_name=_N, max_len=30)
    if value is not None and not ListType.has(value):
        raise InvalidInput(f"data.list_type: 目录类别 {value} 不在码表中 (not in the dictionary)")
    return value


def _region(ctx: CallContext, insu_admdvs: str | None) -> str | None:
    return insu_admdvs or ctx.institution.admdvs


# --------------------------------------------------------------------------- 1304


def parse_ethnic_drug_query(input_: Mapping[str, Any]) -> EthnicDrugQuery:
    data = fx.node(input_, "data")
    prodname = fx.opt_str(data, "drug_prodname", node_name=_N, max_len=500)
    genname = fx.opt_str(data, "drug_genname", node_name=_N, max_len=500)
    return EthnicDrugQuery(
        page=parse_page(data),
        med_list_codg=fx.opt_str(data, "med_list_codg", node_name=_N, max_len=50),
        name=prodname or genname,
    )


@transaction("1304", "民族药品目录查询", writes=False)
def handle_1304(conn: Connection, ctx: CallContext, input_: dict[str, Any]) -> dict[str, Any]:
    """1304 民族药品目录查询: a page of the 民族药 (list type 104) items."""
    q = parse_ethnic_drug_query(input_)
    return queries.ethnic_drugs(conn, q, admdvs=ctx.institution.admdvs)


# --------------------------------------------------------------------------- 1316


def parse_med_list_match_query(input_: Mapping[str, Any]) -> MedListMatchQuery:
    data = fx.node(input_, "data")
    return MedListMatchQuery(
        page=parse_page(data),
        query_date=fx.opt_date(data, "query_date", node_name=_N),
        medins_list_codg=fx.opt_str(data, "medins_list_codg", node_name=_N, max_len=150),
        hilist_code=fx.opt_str(data, "hilist_code", node_name=_N, max_len=50),
        list_type=_list_type(data),
        insu_admdvs=fx.opt_str(data, "insu_admdvs", node_name=_N, max_len=6),
        begndate=fx.opt_date(data, "begndate", node_name=_N),
    )


@transaction("1316", "医疗目录与医保目录匹配信息查询", writes=False)
def handle_1316(conn: Connection, ctx: CallContext, input_: dict[str, Any]) -> dict[str, Any]:
    """1316 医疗目录与医保目录匹配信息查询: which 医保目录 code each 医疗目录 code pays as."""
    q = parse_med_list_match_query(input_)
    return queries.medical_list_matches(
        conn, q, fixmedins_code=ctx.fixmedins_code, admdvs=_region(ctx, q.insu_admdvs)
    )


# --------------------------------------------------------------------------- 1317


def parse_institution_match_query(
    input_: Mapping[str, Any], *, fixmedins_code: str
) -> InstitutionMatchQuery:
    data = fx.node(input_, "data")
    named = fx.opt_str(data, "fixmedins_code", node_name=_N, max_len=30)
    if named is not None and named != fixmedins_code:
        raise Forbidden(
            f"data.fixmedins_code: 只能查询本机构的目录对照 (only your own mappings): {named}"
        )
    return InstitutionMatchQuery(
        page=parse_page(data),
        query_date=fx.opt_date(data, "query_date", node_name=_N),
        medins_list_codg=fx.opt_str(data, "medins_list_codg", node_name=_N, max_len=150),
        medins_list_name=fx.opt_str(data, "medins_list_name", node_name=_N, max_len=200),
        insu_admdvs=fx.opt_str(data, "insu_admdvs", node_name=_N, max_len=6),
        list_type=_list_type(data),
        med_list_codg=fx.opt_str(data, "med_list_codg", node_name=_N, max_len=50),
        begndate=fx.opt_date(data, "begndate", node_name=_N),
    )


@transaction("1317", "医药机构目录匹配信息查询", writes=False)
def handle_1317(conn: Connection, ctx: CallContext, input_: dict[str, Any]) -> dict[str, Any]:
    """1317 医药机构目录匹配信息查询: a page of the caller's own 目录对照 (3301) rows."""
    q = parse_institution_match_query(input_, fixmedins_code=ctx.fixmedins_code)
    return queries.institution_matches(
        conn, q, fixmedins_code=ctx.fixmedins_code, admdvs=_region(ctx, q.insu_admdvs)
    )


# --------------------------------------------------------------------------- 1318


def parse_price_cap_query(input_: Mapping[str, Any]) -> PriceCapQuery:
    data = fx.node(input_, "data")
    return PriceCapQuery(
        page=parse_page(data),
        query_date=fx.opt_date(data, "query_date", node_name=_N),
        hilist_code=fx.opt_str(data, "hilist_code", node_name=_N, max_len=50),
        hilist_lmtpric_type=fx.opt_str(data, "hilist_lmtpric_type", node_name=_N, max_len=6),
        overlmt_dspo_way=fx.opt_str(data, "overlmt_dspo_way", node_name=_N, max_len=6),
        insu_admdvs=fx.opt_str(data, "insu_admdvs", node_name=_N, max_len=6),
        begndate=fx.opt_date(data, "begndate", node_name=_N),
        enddate=fx.opt_date(data, "enddate", node_name=_N),
    )


@transaction("1318", "医保目录限价信息查询", writes=False)
def handle_1318(conn: Connection, ctx: CallContext, input_: dict[str, Any]) -> dict[str, Any]:
    """1318 医保目录限价信息查询: a page of the catalog's price caps."""
    q = parse_price_cap_query(input_)
    return queries.price_caps(conn, q, admdvs=_region(ctx, q.insu_admdvs))


# --------------------------------------------------------------------------- 1319


def parse_selfpay_ratio_query(input_: Mapping[str, Any]) -> SelfpayRatioQuery:
    data = fx.node(input_, "data")
    return SelfpayRatioQuery(
        page=parse_page(data),
        query_date=fx.opt_date(data, "query_date", node_name=_N),
        hilist_code=fx.opt_str(data, "hilist_code", node_name=_N, max_len=50),
        selfpay_prop_psn_type=fx.opt_str(data, "selfpay_prop_psn_type", node_name=_N, max_len=6),
        selfpay_prop_type=fx.opt_str(data, "selfpay_prop_type", node_name=_N, max_len=6),
        insu_admdvs=fx.opt_str(data, "insu_admdvs", node_name=_N, max_len=6),
        begndate=fx.opt_date(data, "begndate", node_name=_N),
        enddate=fx.opt_date(data, "enddate", node_name=_N),
    )


@transaction("1319", "医保目录先自付比例信息查询", writes=False)
def handle_1319(conn: Connection, ctx: CallContext, input_: dict[str, Any]) -> dict[str, Any]:
    """1319 医保目录先自付比例信息查询: a page of 先行自付 ratios by item and person type."""
    q = parse_selfpay_ratio_query(input_)
    return queries.selfpay_ratios(conn, q, admdvs=_region(ctx, q.insu_admdvs))
