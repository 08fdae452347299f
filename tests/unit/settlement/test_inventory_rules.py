"""Pure parts of the 进销存: the stock arithmetic, the direction of each 库存变更类型, and the
parsing of client-shaped nodes into commands (no database)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from yibao.codes.dicts_inventory import InvChgType, InvDataType
from yibao.errors import InvalidInput
from yibao.interface.transactions import inventory as handlers
from yibao.settlement.inventory import ItemFlow, StockPosition


def test_on_hand_is_stocktake_plus_in_minus_out() -> None:
    flow = ItemFlow(
        "X",
        purchased=Decimal("50"),
        purchase_returned=Decimal("10"),
        sold=Decimal("30.5"),
        sale_returned=Decimal("5"),
        changed_in=Decimal("7"),
        changed_out=Decimal("2"),
    )
    pos = StockPosition("X", datetime(2030, 1, 6), date(2030, 1, 1), Decimal("100"), flow)
    assert flow.net_bought == Decimal("40") and flow.net_sold == Decimal("25.5")
    assert pos.on_hand == Decimal("119.5")


def test_never_counted_nor_bought_is_zero() -> None:
    pos = StockPosition("X", datetime(2030, 1, 6), None, Decimal("0"), ItemFlow("X"))
    assert pos.on_hand == 0 and pos.flow.purchased == 0


@pytest.mark.parametrize(
    ("code", "inbound"),
    [
        ("101", True),
        ("102", False),
        ("103", True),
        ("104", False),
        ("105", False),
        ("106", True),
        ("107", False),
        ("108", True),
    ],
)
def test_change_direction(code: str, inbound: bool) -> None:
    assert InvChgType.of(code).inbound is inbound


def test_parse_sale_reads_mdtrt_sn_and_strings() -> None:
    cmd = handlers.parse_sales(
        {
            "selinfo": '[{"med_list_codg": "X", "fixmedins_hilist_id": "L1", '
            '"fixmedins_hilist_name": "n", "fixmedins_bchno": "B1", "mdtrt_sn": "M1", '
            '"sel_retn_cnt": "2.5", "finl_trns_pric": 1.25, "sel_retn_time": "2030-01-02", '
            '"rx_flag": 1}]'
        },
        returned=True,
    )
    (line,) = cmd.selinfo
    assert cmd.returned and line.mdtrt_id == "M1" and line.item.rx_flag == "1"
    assert line.sel_retn_cnt == Decimal("2.5000") and line.finl_trns_pric == Decimal("1.25")
    assert line.sel_retn_time == datetime(2030, 1, 2)


def test_parse_delete() -> None:
    cmd = handlers.parse_delete({"data": {"fixmedins_bchno": "B1", "inv_data_type": 4}})
    assert cmd.inv_data_type is InvDataType.SALE and cmd.fixmedins_bchno == "B1"


def test_stocktake_count_may_be_zero_but_not_negative() -> None:
    row = {
        "med_list_codg": "X",
        "fixmedins_hilist_id": "L1",
        "fixmedins_hilist_name": "n",
        "fixmedins_bchno": "S1",
        "invdate": "2030-01-01",
        "inv_cnt": "0",
    }
    assert handlers.parse_stocktake({"invinfo": row}).invinfo[0].inv_cnt == 0
    with pytest.raises(InvalidInput, match=r"invinfo\[0\]\.inv_cnt"):
        handlers.parse_stocktake({"invinfo": {**row, "inv_cnt": "-1"}})
