"""What the pharmacies' 进销存 uploads say (3501–3507), parsed from the envelope's `input` by
`yibao.interface.transactions.inventory`. Field names are the national interface's; each
line is one row of the node (`invinfo`, `purcinfo`, `selinfo`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from yibao.codes.dicts_inventory import InvChgType, InvDataType


@dataclass(frozen=True, slots=True)
class ItemRef:
    """The goods a line is about: the national code and the store's own catalog entry."""

    med_list_codg: str
    fixmedins_hilist_id: str
    fixmedins_hilist_name: str
    #: 定点医药机构批次流水号: the store's record id, what 3507 deletes by
    fixmedins_bchno: str
    rx_flag: str | None
    manu_lotnum: str | None
    manu_date: date | None
    expy_end: date | None
    memo: str | None


@dataclass(frozen=True, slots=True)
class StocktakeLine:
    """3501 商品盘存上传: the count of one item (batch) on `invdate`."""

    item: ItemRef
    invdate: date
    inv_cnt: Decimal


@dataclass(frozen=True, slots=True)
class StockChangeLine:
    """3502 商品信息变更: stock moved other than by purchase or sale."""

    item: ItemRef
    inv_chg_type: InvChgType
    cnt: Decimal
    pric: Decimal | None
    inv_chg_time: datetime
    inv_chg_opter_name: str | None
    trdn_flag: str | None


@dataclass(frozen=True, slots=True)
class PurchaseLine:
    """3503 商品采购 / 3504 商品采购退货: goods bought from (or returned to) a supplier."""

    item: ItemRef
    spler_name: str
    spler_pmtno: str | None
    dynt_no: str | None
    prodentp_name: str | None
    aprvno: str | None
    finl_trns_pric: Decimal | None
    purc_retn_cnt: Decimal
    purc_invo_codg: str | None
    purc_invo_no: str | None
    purc_retn_stoin_time: datetime
    purc_retn_opter_name: str | None
    prod_geay_flag: str | None
    #: 3504: 商品采购流水号 of the purchase returned
    medins_prod_purc_no: str | None


@dataclass(frozen=True, slots=True)
class SaleLine:
    """3505 商品销售 / 3506 商品销售退货: goods sold to (or returned by) a customer; a 医保
    sale names its settlement (`setl_id`, and `mdtrt_id` or `mdtrt_sn`)."""

    item: ItemRef
    setl_id: str | None
    mdtrt_id: str | None
    psn_no: str | None
    mdtrt_setl_type: str | None
    finl_trns_pric: Decimal | None
    sel_retn_cnt: Decimal
    sel_retn_time: datetime
    sel_retn_opter_name: str | None
    trdn_flag: str | None
    rtal_docno: str | None
    stoout_no: str | None
    rxno: str | None
    rx_circ_flag: str | None
    drug_trac_codg: str | None
    prsc_dr_name: str | None
    phar_name: str | None
    phar_prac_cert_no: str | None
    #: 3506: 商品销售流水号 of the sale returned
    medins_prod_sel_no: str | None


@dataclass(frozen=True, slots=True)
class Stocktake:
    invinfo: tuple[StocktakeLine, ...]


@dataclass(frozen=True, slots=True)
class StockChanges:
    invinfo: tuple[StockChangeLine, ...]


@dataclass(frozen=True, slots=True)
class Purchases:
    purcinfo: tuple[PurchaseLine, ...]
    #: 3504 (a return to the supplier) rather than 3503
    returned: bool


@dataclass(frozen=True, slots=True)
class Sales:
    selinfo: tuple[SaleLine, ...]
    #: 3506 (a customer's return) rather than 3505
    returned: bool


@dataclass(frozen=True, slots=True)
class DeleteUpload:
    """3507 商品信息删除: the store's rows of `inv_data_type` with `fixmedins_bchno`."""

    fixmedins_bchno: str
    inv_data_type: InvDataType
