"""Pharmacies' 进销存 (3501–3507): what a store declares it counted, bought, returned, sold
and took back, kept per store in `inv_record`, and the two reads the review rules
(`item_substitution`, `pharmacy_non_drug`) compare billed items with.

Stock position of an item at a moment (`stock_position`): the store's last stocktake dated
that day or earlier (0 if none), plus every movement after that stocktake's day (a count is
taken at the close of its 盘存日期) through the moment:

    on_hand = stocktake + purchased − purchase_returned − sold + sale_returned
              + changed_in − changed_out

3507 removes an upload by flagging its rows (`vali_flag` "0"); flagged rows count nowhere.
Quantities are exact `Decimal` (N16,4), prices N16,6; nothing is rounded here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection

from yibao.codes.dicts_inventory import InvDataType
from yibao.errors import InvalidInput, NotFound
from yibao.settlement.commands_inventory import (
    DeleteUpload,
    ItemRef,
    Purchases,
    Sales,
    StockChanges,
    Stocktake,
)
from yibao.settlement.context import Caller
from yibao.settlement.repo import inventory as repo

ZERO_QTY = Decimal("0.0000")

#: movement names stored in `inv_record.movement`
PURCHASE = "purchase"
PURCHASE_RETURN = "purchase_return"
SALE = "sale"
SALE_RETURN = "sale_return"
CHANGE_IN = "change_in"
CHANGE_OUT = "change_out"


@dataclass(frozen=True, slots=True)
class ItemFlow:
    """What a store declared of one item (`med_list_codg`) over a period: quantities summed
    over its valid rows. An item sold but never bought has `purchased` 0."""

    med_list_codg: str
    purchased: Decimal = ZERO_QTY
    purchase_returned: Decimal = ZERO_QTY
    sold: Decimal = ZERO_QTY
    sale_returned: Decimal = ZERO_QTY
    changed_in: Decimal = ZERO_QTY
    changed_out: Decimal = ZERO_QTY

    @property
    def net_bought(self) -> Decimal:
        """Purchases less the returns to suppliers."""
        return self.purchased - self.purchase_returned

    @property
    def net_sold(self) -> Decimal:
        """Sales less the customers' returns."""
        return self.sold - self.sale_returned


@dataclass(frozen=True, slots=True)
class StockPosition:
    """A store's stock of one item at `at`: the last stocktake (date and count; None and 0
    when the item was never counted) and the movements after it (`flow`)."""

    med_list_codg: str
    at: datetime
    stocktake_date: date | None
    stocktake_cnt: Decimal
    flow: ItemFlow

    @property
    def on_hand(self) -> Decimal:
        f = self.flow
        return self.stocktake_cnt + f.net_bought - f.net_sold + f.changed_in - f.changed_out


def _flow(med_list_codg: str, sums: dict[str, Decimal]) -> ItemFlow:
    def q(name: str) -> Decimal:
        return sums.get(name, ZERO_QTY)

    return ItemFlow(
        med_list_codg=med_list_codg,
        purchased=q(PURCHASE),
        purchase_returned=q(PURCHASE_RETURN),
        sold=q(SALE),
        sale_returned=q(SALE_RETURN),
        changed_in=q(CHANGE_IN),
        changed_out=q(CHANGE_OUT),
    )


def item_flow(
    conn: Connection, *, fixmedins_code: str, med_list_codg: str, begin: datetime, end: datetime
) -> ItemFlow:
    """The purchases, sales, returns and stock changes the store `fixmedins_code` declared
    of the item `med_list_codg` from `begin` through `end` (both inclusive, by the time on
    each row: 入库时间, 销售时间, 变更时间). Stocktakes are not movements and are left out."""
    sums = repo.movement_sums(
        conn, fixmedins_code=fixmedins_code, med_list_codg=med_list_codg, since=begin, until=end
    )
    return _flow(med_list_codg, sums)


def stock_position(
    conn: Connection, *, fixmedins_code: str, med_list_codg: str, at: datetime
) -> StockPosition:
    """The stock of the item `med_list_codg` the store `fixmedins_code` holds at `at`, by
    its own uploads (the rule in this module's docstring)."""
    taken = repo.latest_stocktake(
        conn, fixmedins_code=fixmedins_code, med_list_codg=med_list_codg, on_or_before=at.date()
    )
    since = None if taken is None else datetime.combine(taken[0] + timedelta(days=1), time.min)
    sums = repo.movement_sums(
        conn, fixmedins_code=fixmedins_code, med_list_codg=med_list_codg, since=since, until=at
    )
    return StockPosition(
        med_list_codg=med_list_codg,
        at=at,
        stocktake_date=None if taken is None else taken[0],
        stocktake_cnt=ZERO_QTY if taken is None else taken[1],
        flow=_flow(med_list_codg, sums),
    )


# ------------------------------------------------------------------ the uploads


def _row(
    caller: Caller,
    *,
    infno: str,
    inv_data_type: InvDataType,
    movement: str,
    item: ItemRef,
    cnt: Decimal,
    occurred_at: datetime,
    **more: Any,
) -> dict[str, Any]:
    return {
        "rec_id": caller.ids.next_str(),
        "fixmedins_code": caller.fixmedins_code,
        "infno": infno,
        "inv_data_type": inv_data_type.value,
        "movement": movement,
        "fixmedins_bchno": item.fixmedins_bchno,
        "med_list_codg": item.med_list_codg,
        "fixmedins_hilist_id": item.fixmedins_hilist_id,
        "fixmedins_hilist_name": item.fixmedins_hilist_name,
        "rx_flag": item.rx_flag,
        "manu_lotnum": item.manu_lotnum,
        "manu_date": item.manu_date,
        "expy_end": item.expy_end,
        "memo": item.memo,
        "cnt": cnt,
        "occurred_at": occurred_at,
        "vali_flag": "1",
        "msgid": caller.msgid,
        "created_at": caller.now,
        "updated_at": caller.now,
        **more,
    }


def _answer(inv_data_type: InvDataType, rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "data": {
            "inv_data_type": inv_data_type.value,
            "rec_cnt": len(rows),
            "fixmedins_bchno": [r["fixmedins_bchno"] for r in rows],
        }
    }


def _all_columns(rows: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Rows with the same keys (an executemany needs one shape)."""
    keys = {k for r in rows for k in r}
    for r in rows:
        yield {k: r.get(k) for k in keys}


def _store(
    conn: Connection, inv_data_type: InvDataType, rows: list[dict[str, Any]]
) -> dict[str, Any]:
    repo.insert_records(conn, _all_columns(rows))
    return _answer(inv_data_type, rows)


def record_stocktake(conn: Connection, caller: Caller, cmd: Stocktake) -> dict[str, Any]:
    """3501 商品盘存上传."""
    rows = [
        _row(
            caller,
            infno="3501",
            inv_data_type=InvDataType.STOCKTAKE,
            movement=repo.STOCKTAKE,
            item=line.item,
            cnt=line.inv_cnt,
            occurred_at=datetime.combine(line.invdate, time.min),
        )
        for line in cmd.invinfo
    ]
    return _store(conn, InvDataType.STOCKTAKE, rows)


def record_stock_changes(conn: Connection, caller: Caller, cmd: StockChanges) -> dict[str, Any]:
    """3502 商品信息变更."""
    rows = [
        _row(
            caller,
            infno="3502",
            inv_data_type=InvDataType.STOCK_CHANGE,
            movement=CHANGE_IN if line.inv_chg_type.inbound else CHANGE_OUT,
            item=line.item,
            cnt=line.cnt,
            occurred_at=line.inv_chg_time,
            inv_chg_type=line.inv_chg_type.value,
            pric=line.pric,
            opter_name=line.inv_chg_opter_name,
            trdn_flag=line.trdn_flag,
        )
        for line in cmd.invinfo
    ]
    return _store(conn, InvDataType.STOCK_CHANGE, rows)


def record_purchases(conn: Connection, caller: Caller, cmd: Purchases) -> dict[str, Any]:
    """3503 商品采购 and 3504 商品采购退货."""
    rows = [
        _row(
            caller,
            infno="3504" if cmd.returned else "3503",
            inv_data_type=InvDataType.PURCHASE,
            movement=PURCHASE_RETURN if cmd.returned else PURCHASE,
            item=line.item,
            cnt=line.purc_retn_cnt,
            occurred_at=line.purc_retn_stoin_time,
            pric=line.finl_trns_pric,
            spler_name=line.spler_name,
            spler_pmtno=line.spler_pmtno,
            dynt_no=line.dynt_no,
            prodentp_name=line.prodentp_name,
            aprvno=line.aprvno,
            purc_invo_codg=line.purc_invo_codg,
            purc_invo_no=line.purc_invo_no,
            prod_geay_flag=line.prod_geay_flag,
            opter_name=line.purc_retn_opter_name,
            orig_no=line.medins_prod_purc_no,
        )
        for line in cmd.purcinfo
    ]
    return _store(conn, InvDataType.PURCHASE, rows)


def record_sales(conn: Connection, caller: Caller, cmd: Sales) -> dict[str, Any]:
    """3505 商品销售 and 3506 商品销售退货. A line naming a settlement (`setl_id`) must name
    one of this store's own, and its `mdtrt_id` / `psn_no` when sent must be that
    settlement's; a line marked 医保结算 (`mdtrt_setl_type` "1") must name it."""
    node = "selinfo"
    rows = []
    for i, line in enumerate(cmd.selinfo):
        mdtrt_id, psn_no = line.mdtrt_id, line.psn_no
        if line.setl_id is not None:
            found = repo.settlement_of(
                conn, fixmedins_code=caller.fixmedins_code, setl_id=line.setl_id
            )
            if found is None:
                raise NotFound(
                    f"{node}[{i}].setl_id: 本机构无此结算 '{line.setl_id}' "
                    "(no settlement of this institution with this id)"
                )
            if mdtrt_id is not None and mdtrt_id != found[0]:
                raise InvalidInput(
                    f"{node}[{i}].mdtrt_id: 与结算的就诊ID不符 (not the settlement's visit "
                    f"{found[0]})"
                )
            if psn_no is not None and psn_no != found[1]:
                raise InvalidInput(
                    f"{node}[{i}].psn_no: 与结算的人员编号不符 (not the settled person)"
                )
            mdtrt_id, psn_no = found
        elif line.mdtrt_setl_type == "1":
            raise InvalidInput(
                f"{node}[{i}].setl_id: 医保结算的销售必填结算ID "
                "(required when mdtrt_setl_type is 1, a 医保 sale)"
            )
        rows.append(
            _row(
                caller,
                infno="3506" if cmd.returned else "3505",
                inv_data_type=InvDataType.SALE,
                movement=SALE_RETURN if cmd.returned else SALE,
                item=line.item,
                cnt=line.sel_retn_cnt,
                occurred_at=line.sel_retn_time,
                pric=line.finl_trns_pric,
                setl_id=line.setl_id,
                mdtrt_id=mdtrt_id,
                psn_no=psn_no,
                mdtrt_setl_type=line.mdtrt_setl_type,
                trdn_flag=line.trdn_flag,
                rtal_docno=line.rtal_docno,
                stoout_no=line.stoout_no,
                rxno=line.rxno,
                rx_circ_flag=line.rx_circ_flag,
                drug_trac_codg=line.drug_trac_codg,
                prsc_dr_name=line.prsc_dr_name,
                phar_name=line.phar_name,
                phar_prac_cert_no=line.phar_prac_cert_no,
                opter_name=line.sel_retn_opter_name,
                orig_no=line.medins_prod_sel_no,
            )
        )
    return _store(conn, InvDataType.SALE, rows)


def delete_upload(conn: Connection, caller: Caller, cmd: DeleteUpload) -> dict[str, Any]:
    """3507 商品信息删除: flag (never delete) the store's valid rows of `inv_data_type`
    uploaded with `fixmedins_bchno`; refused when there are none."""
    flagged = repo.flag_deleted(
        conn,
        fixmedins_code=caller.fixmedins_code,
        inv_data_type=cmd.inv_data_type.value,
        fixmedins_bchno=cmd.fixmedins_bchno,
        msgid=caller.msgid,
        now=caller.now,
    )
    if not flagged:
        raise NotFound(
            f"data.fixmedins_bchno: 本机构无此{cmd.inv_data_type.label}记录 "
            f"'{cmd.fixmedins_bchno}' (no valid record of inv_data_type "
            f"{cmd.inv_data_type.value} with this id)"
        )
    return {
        "data": {
            "fixmedins_bchno": cmd.fixmedins_bchno,
            "inv_data_type": cmd.inv_data_type.value,
            "rec_cnt": flagged,
        }
    }
