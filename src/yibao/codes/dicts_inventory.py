"""The 进销存 dictionaries of the pharmacies' stock uploads (3501–3507).

`inv_data_type` is the national 进销存数据类型 that 3507 names the record to delete by (public
HIS clients send 1 after 3501, 2 after 3502, 3 after 3503/3504, 4 after 3505/3506).
`inv_chg_type` is 库存变更类型 of 3502; the direction each value moves the stock is ours
(LOCAL), read from the labels.
"""

from __future__ import annotations

from yibao.codes.dicts import CodeDict


class InvDataType(CodeDict):
    """进销存数据类型 inv_data_type."""

    STOCKTAKE = ("1", "盘存信息")
    STOCK_CHANGE = ("2", "库存变更信息")
    PURCHASE = ("3", "采购信息")
    SALE = ("4", "销售信息")


class InvChgType(CodeDict):
    """库存变更类型 inv_chg_type."""

    TRANSFER_IN = ("101", "调拨入库")
    TRANSFER_OUT = ("102", "调拨出库")
    SURPLUS = ("103", "盘盈")
    LOSS = ("104", "盘损")
    DESTROYED = ("105", "销毁")
    OTHER_IN = ("106", "其他入库")
    OTHER_OUT = ("107", "其他出库")
    INITIAL_IN = ("108", "初始化入库")

    @property
    def inbound(self) -> bool:
        """True when the change adds to the stock (LOCAL: read from the label)."""
        return self in _INBOUND


_INBOUND = frozenset(
    {InvChgType.TRANSFER_IN, InvChgType.SURPLUS, InvChgType.OTHER_IN, InvChgType.INITIAL_IN}
)
