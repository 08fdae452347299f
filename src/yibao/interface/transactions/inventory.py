"""Pharmacies' 进销存: 3501 商品盘存上传, 3502 商品信息变更, 3503 商品采购, 3504 商品采购退货,
3505 商品销售, 3506 商品销售退货, 3507 商品信息删除 (see `yibao.settlement.inventory`).

Node names as public clients send them: `invinfo` (3501, 3502), `purcinfo` (3503, 3504),
`selinfo` (3505, 3506), `data` (3507). Some clients send `purcinfo` for every upload, or
`selinfo` for 3504, and some send the node as a JSON string: each is read.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection

from yibao.codes.dicts_inventory import InvChgType, InvDataType
from yibao.errors import InvalidInput
from yibao.interface import fields as f
from yibao.interface.context import CallContext
from yibao.interface.registry import transaction
from yibao.interface.transactions.callers import caller
from yibao.kit import jsonx
from yibao.settlement import inventory
from yibao.settlement.commands_inventory import (
    DeleteUpload,
    ItemRef,
    PurchaseLine,
    Purchases,
    SaleLine,
    Sales,
    StockChangeLine,
    StockChanges,
    Stocktake,
    StocktakeLine,
)

#: quantities are N16,4; the largest a 16-digit number with four decimals can hold
_MAX_QTY = Decimal("999999999999.9999")


def _lines(input_: Mapping[str, Any], names: tuple[str, ...]) -> tuple[str, list[dict[str, Any]]]:
    """The first of `names` present in `input`, as a list of rows (a JSON string is read)."""
    for name in names:
        value = input_.get(name) if isinstance(input_, Mapping) else None
        if value is None or value == "":
            continue
        if isinstance(value, str):
            try:
                value = jsonx.loads(value)
            except ValueError:
                raise InvalidInput(
                    f"input.{name}: 不是合法的JSON (not valid JSON in a string)"
                ) from None
        return name, f.node_list({name: value}, name)
    raise InvalidInput(f"input.{names[0]}: 缺少节点 (missing node '{names[0]}')")


def _qty(d: Mapping[str, Any], field: str, where: str, *, positive: bool) -> Decimal:
    value = f.req_decimal(d, field, node_name=where, places=4, max_abs=_MAX_QTY)
    if positive and value <= 0:
        raise InvalidInput(f"{where}.{field}: 应大于0 (must be greater than 0): {value}")
    return value


def _item(d: Mapping[str, Any], where: str) -> ItemRef:
    return ItemRef(
        med_list_codg=f.req_str(d, "med_list_codg", node_name=where, max_len=50),
        fixmedins_hilist_id=f.req_str(d, "fixmedins_hilist_id", node_name=where, max_len=30),
        fixmedins_hilist_name=f.req_str(d, "fixmedins_hilist_name", node_name=where, max_len=200),
        fixmedins_bchno=f.req_str(d, "fixmedins_bchno", node_name=where, max_len=30),
        rx_flag=f.opt_str(d, "rx_flag", node_name=where, max_len=3),
        manu_lotnum=f.opt_str(d, "manu_lotnum", node_name=where, max_len=30),
        manu_date=f.opt_date(d, "manu_date", node_name=where),
        expy_end=f.opt_date(d, "expy_end", node_name=where),
        memo=f.opt_str(d, "memo", node_name=where, max_len=500),
    )


def _price(d: Mapping[str, Any], field: str, where: str) -> Decimal | None:
    return f.opt_decimal(d, field, node_name=where, places=6)


def parse_stocktake(input_: Mapping[str, Any]) -> Stocktake:
    name, rows = _lines(input_, ("invinfo", "purcinfo"))
    lines = []
    for i, d in enumerate(rows):
        w = f"{name}[{i}]"
        lines.append(
            StocktakeLine(
                item=_item(d, w),
                invdate=f.req_date(d, "invdate", node_name=w),
                inv_cnt=_qty(d, "inv_cnt", w, positive=False),
            )
        )
    return Stocktake(invinfo=tuple(lines))


def parse_stock_changes(input_: Mapping[str, Any]) -> StockChanges:
    name, rows = _lines(input_, ("invinfo", "purcinfo"))
    lines = []
    for i, d in enumerate(rows):
        w = f"{name}[{i}]"
        lines.append(
            StockChangeLine(
                item=_item(d, w),
                inv_chg_type=f.req_code(d, "inv_chg_type", InvChgType, node_name=w),
                cnt=_qty(d, "cnt", w, positive=True),
                pric=_price(d, "pric", w),
                inv_chg_time=f.req_datetime(d, "inv_chg_time", node_name=w),
                inv_chg_opter_name=f.opt_str(d, "inv_chg_opter_name", node_name=w, max_len=50),
                trdn_flag=f.opt_str(d, "trdn_flag", node_name=w, max_len=3),
            )
        )
    return StockChanges(invinfo=tuple(lines))


def parse_purchases(input_: Mapping[str, Any], *, returned: bool) -> Purchases:
    name, rows = _lines(input_, ("purcinfo", "selinfo"))
    lines = []
    for i, d in enumerate(rows):
        w = f"{name}[{i}]"
        lines.append(
            PurchaseLine(
                item=_item(d, w),
                spler_name=f.req_str(d, "spler_name", node_name=w, max_len=200),
                spler_pmtno=f.opt_str(d, "spler_pmtno", node_name=w, max_len=50),
                dynt_no=f.opt_str(d, "dynt_no", node_name=w, max_len=50),
                prodentp_name=f.opt_str(d, "prodentp_name", node_name=w, max_len=200)
                or f.opt_str(d, "prdr_name", node_name=w, max_len=200),
                aprvno=f.opt_str(d, "aprvno", node_name=w, max_len=100),
                finl_trns_pric=_price(d, "finl_trns_pric", w),
                purc_retn_cnt=_qty(d, "purc_retn_cnt", w, positive=True),
                purc_invo_codg=f.opt_str(d, "purc_invo_codg", node_name=w, max_len=50),
                purc_invo_no=f.opt_str(d, "purc_invo_no", node_name=w, max_len=50),
                purc_retn_stoin_time=f.req_datetime(d, "purc_retn_stoin_time", node_name=w),
                purc_retn_opter_name=f.opt_str(d, "purc_retn_opter_name", node_name=w, max_len=50),
                prod_geay_flag=f.opt_str(d, "prod_geay_flag", node_name=w, max_len=3),
                medins_prod_purc_no=f.opt_str(d, "medins_prod_purc_no", node_name=w, max_len=50),
            )
        )
    return Purchases(purcinfo=tuple(lines), returned=returned)


def parse_sales(input_: Mapping[str, Any], *, returned: bool) -> Sales:
    name, rows = _lines(input_, ("selinfo", "purcinfo"))
    lines = []
    for i, d in enumerate(rows):
        w = f"{name}[{i}]"
        lines.append(
            SaleLine(
                item=_item(d, w),
                setl_id=f.opt_str(d, "setl_id", node_name=w, max_len=30),
                # 就医流水号 `mdtrt_sn` is the visit's id as the store knows it; yibao's
                # visits are `mdtrt_id`, and clients send either
                mdtrt_id=f.opt_str(d, "mdtrt_id", node_name=w, max_len=30)
                or f.opt_str(d, "mdtrt_sn", node_name=w, max_len=30),
                psn_no=f.opt_str(d, "psn_no", node_name=w, max_len=30),
                mdtrt_setl_type=f.opt_str(d, "mdtrt_setl_type", node_name=w, max_len=3),
                finl_trns_pric=_price(d, "finl_trns_pric", w),
                sel_retn_cnt=_qty(d, "sel_retn_cnt", w, positive=True),
                sel_retn_time=f.req_datetime(d, "sel_retn_time", node_name=w),
                sel_retn_opter_name=f.opt_str(d, "sel_retn_opter_name", node_name=w, max_len=50),
                trdn_flag=f.opt_str(d, "trdn_flag", node_name=w, max_len=3),
                rtal_docno=f.opt_str(d, "rtal_docno", node_name=w, max_len=40),
                stoout_no=f.opt_str(d, "stoout_no", node_name=w, max_len=40),
                rxno=f.opt_str(d, "rxno", node_name=w, max_len=40),
                rx_circ_flag=f.opt_str(d, "rx_circ_flag", node_name=w, max_len=3),
                drug_trac_codg=f.opt_str(d, "drug_trac_codg", node_name=w, max_len=100),
                prsc_dr_name=f.opt_str(d, "prsc_dr_name", node_name=w, max_len=50),
                phar_name=f.opt_str(d, "phar_name", node_name=w, max_len=50),
                phar_prac_cert_no=f.opt_str(d, "phar_prac_cert_no", node_name=w, max_len=50),
                medins_prod_sel_no=f.opt_str(d, "medins_prod_sel_no", node_name=w, max_len=50),
            )
        )
    return Sales(selinfo=tuple(lines), returned=returned)


def parse_delete(input_: Mapping[str, Any]) -> DeleteUpload:
    d = f.node(input_, "data")
    return DeleteUpload(
        fixmedins_bchno=f.req_str(d, "fixmedins_bchno", node_name="data", max_len=30),
        inv_data_type=f.req_code(d, "inv_data_type", InvDataType, node_name="data"),
    )


@transaction("3501", "商品盘存上传", writes=True)
def stocktake(conn: Connection, ctx: CallContext, input: dict[str, Any]) -> dict[str, Any]:
    return inventory.record_stocktake(conn, caller(ctx), parse_stocktake(input))


@transaction("3502", "商品信息变更", writes=True)
def stock_change(conn: Connection, ctx: CallContext, input: dict[str, Any]) -> dict[str, Any]:
    return inventory.record_stock_changes(conn, caller(ctx), parse_stock_changes(input))


@transaction("3503", "商品采购", writes=True)
def purchase(conn: Connection, ctx: CallContext, input: dict[str, Any]) -> dict[str, Any]:
    return inventory.record_purchases(conn, caller(ctx), parse_purchases(input, returned=False))


@transaction("3504", "商品采购退货", writes=True)
def purchase_return(conn: Connection, ctx: CallContext, input: dict[str, Any]) -> dict[str, Any]:
    return inventory.record_purchases(conn, caller(ctx), parse_purchases(input, returned=True))


@transaction("3505", "商品销售", writes=True)
def sale(conn: Connection, ctx: CallContext, input: dict[str, Any]) -> dict[str, Any]:
    return inventory.record_sales(conn, caller(ctx), parse_sales(input, returned=False))


@transaction("3506", "商品销售退货", writes=True)
def sale_return(conn: Connection, ctx: CallContext, input: dict[str, Any]) -> dict[str, Any]:
    return inventory.record_sales(conn, caller(ctx), parse_sales(input, returned=True))


@transaction("3507", "商品信息删除", writes=True)
def delete(conn: Connection, ctx: CallContext, input: dict[str, Any]) -> dict[str, Any]:
    return inventory.delete_upload(conn, caller(ctx), parse_delete(input))
