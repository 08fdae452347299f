"""Pharmacies' 进销存 through the gateway: 3501 stocktake, 3502 change, 3503/3504 purchase and
return, 3505/3506 sale and return, 3507 delete — client-shaped (nodes as objects, arrays and
JSON strings, amounts as strings), and the stock position and item flow the review rules read
(`yibao.settlement.inventory`)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from settle_factories import DRUG_B, EXAM_A
from sqlalchemy import func, select

from yibao.kit import jsonx
from yibao.settlement import inventory
from yibao.storage.tables import inv_record

ITEM = DRUG_B
OTHER = EXAM_A


def _item(bchno: str, code: str = ITEM) -> dict[str, Any]:
    return {
        "med_list_codg": code,
        "fixmedins_hilist_id": f"L-{code[:10]}",
        "fixmedins_hilist_name": "阿莫西林胶囊",
        "fixmedins_bchno": bchno,
        "rx_flag": "1",
        "manu_lotnum": "20290101",
        "manu_date": "2029-01-01",
        "expy_end": "2031-12-31",
        "memo": "",
    }


def stocktake(bchno: str, cnt: str, invdate: str = "2030-01-01", **kw: Any) -> dict[str, Any]:
    return {**_item(bchno, **kw), "invdate": invdate, "inv_cnt": cnt}


def change(bchno: str, kind: str, cnt: str, at: str, **kw: Any) -> dict[str, Any]:
    return {
        **_item(bchno, **kw),
        "inv_chg_type": kind,
        "pric": "1.200000",
        "cnt": cnt,
        "inv_chg_time": at,
        "inv_chg_opter_name": "店员甲",
        "trdn_flag": "0",
    }


def purchase(bchno: str, cnt: str, at: str, **kw: Any) -> dict[str, Any]:
    return {
        **_item(bchno, **kw),
        "dynt_no": "",
        "spler_name": "某医药有限公司",
        "spler_pmtno": "",
        "prodentp_name": "某制药厂",
        "aprvno": "国药准字H00000000",
        "finl_trns_pric": "1.2",
        "purc_retn_cnt": cnt,
        "purc_invo_codg": "",
        "purc_invo_no": "INV0001",
        "purc_retn_stoin_time": at,
        "purc_retn_opter_name": "采购员",
        "prod_geay_flag": "0",
    }


def sale(bchno: str, cnt: str, at: str, **kw: Any) -> dict[str, Any]:
    extra = {k: kw.pop(k) for k in list(kw) if k != "code"}
    return {
        **_item(bchno, **kw),
        "prsc_dr_name": "张医生",
        "phar_name": "李药师",
        "phar_prac_cert_no": "Y0001",
        "setl_id": "",
        "mdtrt_sn": "",
        "psn_no": "",
        "trdn_flag": "0",
        "finl_trns_pric": "4.52",
        "rxno": "",
        "rx_circ_flag": "0",
        "rtal_docno": f"R-{bchno}",
        "sel_retn_cnt": cnt,
        "sel_retn_time": at,
        "sel_retn_opter_name": "收银员",
        **extra,
    }


def _text(value: Any) -> str:
    """`value` as the JSON string some clients send in place of an object."""
    return jsonx.dumps(value).decode()


def _position(world: dict[str, Any], code: str, at: str, store: str | None = None) -> Any:
    with world["platform"].db.read() as conn:
        return inventory.stock_position(
            conn,
            fixmedins_code=store or world["pos"].code,
            med_list_codg=code,
            at=datetime.fromisoformat(at),
        )


def _flow(world: dict[str, Any], code: str, begin: str, end: str) -> Any:
    with world["platform"].db.read() as conn:
        return inventory.item_flow(
            conn,
            fixmedins_code=world["pos"].code,
            med_list_codg=code,
            begin=datetime.fromisoformat(begin),
            end=datetime.fromisoformat(end),
        )


def _rows(world: dict[str, Any]) -> int:
    with world["platform"].db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(inv_record)).scalar_one())


async def test_stock_position_after_a_sequence(world: dict[str, Any]) -> None:
    pos = world["pos"]
    # bought before the count: the stocktake already includes it
    await pos.ok("3503", {"purcinfo": purchase("OLD1", "1000", "2029-12-31 10:00:00")})
    counted = await pos.ok("3501", {"invinfo": [stocktake("S1", "60.5"), stocktake("S2", "39.5")]})
    assert counted["data"] == {
        "inv_data_type": "1",
        "rec_cnt": 2,
        "fixmedins_bchno": ["S1", "S2"],
    }
    # input as a JSON string, the node a single object
    await pos.ok("3503", _text({"purcinfo": purchase("B1", "50", "2030-01-02 09:00:00")}))
    await pos.ok(
        "3504",
        {"purcinfo": {**purchase("B1", "10", "2030-01-03 09:00:00"), "medins_prod_purc_no": "B1"}},
    )
    await pos.ok("3505", {"selinfo": [sale("B1", "30", "2030-01-04 09:00:00")]})
    await pos.ok(
        "3506",
        {"selinfo": {**sale("B1", "5", "2030-01-05 09:00:00"), "medins_prod_sel_no": "R-B1"}},
    )
    await pos.ok(
        "3502",
        {
            "invinfo": [
                change("C1", "104", "2", "2030-01-05 18:00:00"),
                change("C2", "108", "7.25", "2030-01-05 18:00:00"),
            ]
        },
    )
    got = _position(world, ITEM, "2030-01-06 00:00:00")
    assert got.stocktake_date.isoformat() == "2030-01-01"
    assert got.stocktake_cnt == Decimal("100.0000")
    assert got.flow.purchased == Decimal("50") and got.flow.purchase_returned == Decimal("10")
    assert got.flow.sold == Decimal("30") and got.flow.sale_returned == Decimal("5")
    assert got.flow.changed_in == Decimal("7.25") and got.flow.changed_out == Decimal("2")
    assert got.on_hand == Decimal("120.2500")
    # before the sale: the sale is not yet counted
    assert _position(world, ITEM, "2030-01-03 12:00:00").on_hand == Decimal("140.0000")
    # the flow over a period includes purchases before any stocktake
    flow = _flow(world, ITEM, "2029-12-01 00:00:00", "2030-01-31 23:59:59")
    assert flow.purchased == Decimal("1050") and flow.net_bought == Decimal("1040")
    assert flow.net_sold == Decimal("25")
    # another store's position is its own
    assert _position(world, ITEM, "2030-01-06 00:00:00", store=world["his"].code).on_hand == 0


async def test_3507_removes_a_record_from_the_position(world: dict[str, Any]) -> None:
    pos, his = world["pos"], world["his"]
    await pos.ok("3503", {"purcinfo": purchase("B1", "50", "2030-01-02 09:00:00")})
    await pos.ok("3503", {"purcinfo": purchase("B2", "20", "2030-01-02 10:00:00")})
    assert _position(world, ITEM, "2030-01-03 00:00:00").on_hand == Decimal("70")
    # another institution cannot remove the pharmacy's record
    theirs = await his.call("3507", {"data": {"fixmedins_bchno": "B1", "inv_data_type": "3"}})
    assert theirs["infcode"] == -1 and "data.fixmedins_bchno" in theirs["err_msg"]
    # the wrong data type names no record
    wrong = await pos.call("3507", {"data": {"fixmedins_bchno": "B1", "inv_data_type": "4"}})
    assert wrong["infcode"] == -1 and "data.fixmedins_bchno" in wrong["err_msg"]
    done = await pos.ok("3507", _text({"data": {"fixmedins_bchno": "B1", "inv_data_type": 3}}))
    assert done["data"] == {"fixmedins_bchno": "B1", "inv_data_type": "3", "rec_cnt": 1}
    assert _position(world, ITEM, "2030-01-03 00:00:00").on_hand == Decimal("20")
    again = await pos.call("3507", {"data": {"fixmedins_bchno": "B1", "inv_data_type": "3"}})
    assert again["infcode"] == -1 and "B1" in again["err_msg"]
    bad = await pos.call("3507", {"data": {"fixmedins_bchno": "B2", "inv_data_type": "9"}})
    assert bad["infcode"] == -1 and "data.inv_data_type" in bad["err_msg"]
    with world["platform"].db.read() as conn:
        kept = conn.execute(
            select(inv_record.c.vali_flag, inv_record.c.del_msgid).where(
                inv_record.c.fixmedins_bchno == "B1"
            )
        ).one()
    assert kept.vali_flag == "0" and kept.del_msgid  # flagged, never deleted


async def test_3507_removes_a_stocktake(world: dict[str, Any]) -> None:
    pos = world["pos"]
    await pos.ok("3501", {"invinfo": stocktake("S1", "100", invdate="2030-01-01")})
    await pos.ok("3501", {"invinfo": stocktake("S9", "5", invdate="2030-01-10")})
    assert _position(world, ITEM, "2030-01-11 00:00:00").on_hand == Decimal("5")
    await pos.ok("3507", {"data": {"fixmedins_bchno": "S9", "inv_data_type": "1"}})
    got = _position(world, ITEM, "2030-01-11 00:00:00")
    assert got.stocktake_date.isoformat() == "2030-01-01" and got.on_hand == Decimal("100")


async def _pharmacy_settlement(world: dict[str, Any]) -> dict[str, Any]:
    pos, p = world["pos"], world["people"]["emp"]
    detail = [
        {
            "feedetl_sn": "D1",
            "rx_circ_flag": "0",
            "fee_ocur_time": "2030-01-02 09:00:00",
            "med_list_codg": ITEM,
            "medins_list_codg": "LOCAL-1",
            "det_item_fee_sumamt": "45.20",
            "cnt": "10",
            "pric": "4.52",
        }
    ]
    druginfo = {
        "psn_no": p.psn_no,
        "mdtrt_cert_type": "02",
        "mdtrt_cert_no": p.certno,
        "begntime": "2030-01-02 09:00:00",
        "medfee_sumamt": "45.20",
        "insutype": "310",
        "acct_used_flag": "1",
        "med_type": "41",
    }
    done = await pos.ok("2102", {"druginfo": druginfo, "drugdetail": detail})
    return dict(done["setlinfo"])


async def test_a_sale_of_an_item_never_bought_shows_bought_zero(world: dict[str, Any]) -> None:
    pos, p = world["pos"], world["people"]["emp"]
    info = await _pharmacy_settlement(world)
    line = sale(
        "B7",
        "10",
        "2030-01-02 09:05:00",
        setl_id=info["setl_id"],
        psn_no=p.psn_no,
        mdtrt_setl_type="1",
    )
    # as the Java clients send it: the node itself a JSON string
    await pos.ok("3505", {"selinfo": _text([line])})
    flow = _flow(world, ITEM, "2030-01-01 00:00:00", "2030-01-31 23:59:59")
    assert flow.purchased == Decimal("0") and flow.net_bought == Decimal("0")
    assert flow.sold == Decimal("10")
    assert _position(world, ITEM, "2030-01-03 00:00:00").on_hand == Decimal("-10")
    with world["platform"].db.read() as conn:
        row = conn.execute(
            select(inv_record.c.setl_id, inv_record.c.mdtrt_id, inv_record.c.psn_no).where(
                inv_record.c.fixmedins_bchno == "B7"
            )
        ).one()
    # the visit is filled in from the settlement
    assert tuple(row) == (info["setl_id"], info["mdtrt_id"], p.psn_no)


async def test_refusals_name_the_field_and_write_nothing(world: dict[str, Any]) -> None:
    pos, his = world["pos"], world["his"]
    info = await _pharmacy_settlement(world)
    before = _rows(world)

    async def refused(infno: str, input: Any, field: str) -> None:
        answer = await pos.call(infno, input)
        assert answer["infcode"] == -1, answer
        assert field in answer["err_msg"], answer["err_msg"]

    await refused("3503", {}, "input.purcinfo")
    await refused("3503", {"purcinfo": "{not json"}, "input.purcinfo")
    good = purchase("B1", "5", "2030-01-02 09:00:00")
    await refused(
        "3503",
        {"purcinfo": [good, {**good, "purc_retn_cnt": "0"}]},
        "purcinfo[1].purc_retn_cnt",
    )
    await refused(
        "3503", {"purcinfo": {**good, "purc_retn_cnt": "-1"}}, "purcinfo[0].purc_retn_cnt"
    )
    await refused(
        "3503", {"purcinfo": {**good, "purc_retn_cnt": "1.23456"}}, "purcinfo[0].purc_retn_cnt"
    )
    await refused(
        "3503", {"purcinfo": {**good, "finl_trns_pric": "abc"}}, "purcinfo[0].finl_trns_pric"
    )
    await refused("3503", {"purcinfo": {**good, "spler_name": ""}}, "purcinfo[0].spler_name")
    await refused(
        "3503",
        {"purcinfo": {**good, "purc_retn_stoin_time": "2030/01/02"}},
        "purcinfo[0].purc_retn_stoin_time",
    )
    await refused(
        "3501", {"invinfo": {**stocktake("S1", "1"), "invdate": ""}}, "invinfo[0].invdate"
    )
    await refused(
        "3501", {"invinfo": {**stocktake("S1", "1"), "med_list_codg": None}}, "med_list_codg"
    )
    await refused(
        "3502",
        {"invinfo": change("C1", "199", "1", "2030-01-02 09:00:00")},
        "invinfo[0].inv_chg_type",
    )
    await refused(
        "3505",
        {"selinfo": sale("B1", "1", "2030-01-02 09:00:00", setl_id="NOPE")},
        "selinfo[0].setl_id",
    )
    await refused(
        "3505",
        {"selinfo": sale("B1", "1", "2030-01-02 09:00:00", mdtrt_setl_type="1")},
        "selinfo[0].setl_id",
    )
    await refused(
        "3505",
        {
            "selinfo": sale(
                "B1", "1", "2030-01-02 09:00:00", setl_id=info["setl_id"], mdtrt_id="OTHER"
            )
        },
        "selinfo[0].mdtrt_id",
    )
    await refused("3506", {"selinfo": sale("B1", "", "2030-01-02 09:00:00")}, "sel_retn_cnt")
    await refused("3507", {"data": {"inv_data_type": "3"}}, "data.fixmedins_bchno")
    # a hospital cannot link its sale to the pharmacy's settlement
    theirs = await his.call(
        "3505", {"selinfo": sale("B1", "1", "2030-01-02 09:00:00", setl_id=info["setl_id"])}
    )
    assert theirs["infcode"] == -1 and "selinfo[0].setl_id" in theirs["err_msg"]
    assert _rows(world) == before


async def test_a_retry_under_one_msgid_records_once(world: dict[str, Any]) -> None:
    pos = world["pos"]
    msgid = pos.msgid()
    body = {"purcinfo": purchase("B1", "5", "2030-01-02 09:00:00")}
    first = await pos.ok("3503", body, msgid=msgid)
    second = await pos.ok("3503", body, msgid=msgid)
    assert first == second
    assert _rows(world) == 1
    assert _position(world, ITEM, "2030-01-03 00:00:00").on_hand == Decimal("5")


async def test_client_node_aliases(world: dict[str, Any]) -> None:
    """Public clients send `purcinfo` for 3501/3502/3505 and `selinfo` for 3504."""
    pos = world["pos"]
    await pos.ok("3501", {"purcinfo": [stocktake("S1", "10", code=OTHER)]})
    await pos.ok(
        "3502", {"purcinfo": [change("C1", "101", "3", "2030-01-02 08:00:00", code=OTHER)]}
    )
    await pos.ok("3503", {"purcinfo": [purchase("B1", "4", "2030-01-02 09:00:00", code=OTHER)]})
    await pos.ok("3504", {"selinfo": [purchase("B1", "1", "2030-01-02 10:00:00", code=OTHER)]})
    await pos.ok("3505", {"purcinfo": [sale("B1", "2", "2030-01-02 11:00:00", code=OTHER)]})
    # a date-only sale time, as one client sends for 3506
    await pos.ok("3506", {"purcinfo": [sale("B1", "1", "2030-01-02", code=OTHER)]})
    assert _position(world, OTHER, "2030-01-03 00:00:00").on_hand == Decimal("15")
