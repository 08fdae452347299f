"""自费病人 4261 → 4262 → 4263 through the gateway, in the camelCase shape public client code
sends (and the national snake_case one): upload, reconcile, the mismatched listed, another
institution seeing nothing, re-upload replacing, refusals naming the field."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from yibao.bench.fuzz import Caller, Counts, SeedIds, http_sender, run_fuzz, seed_inputs
from yibao.storage.tables import selfpay_diag, selfpay_fee, selfpay_mdtrt


def upload_input(
    mdtrt_id: str = "ZF0001", *, lines: tuple[str, ...] = ("12.50", "30.00")
) -> dict[str, Any]:
    """A 4261 input as public HIS code builds it (camelCase DTOs, amounts as strings)."""
    return {
        "fmiOwnpayPatnMdtrtDDTO": {
            "mdtrtId": mdtrt_id,
            "psnCertType": "01",
            "certno": "110101199003074514",
            "psnName": "张三",
            "gend": "1",
            "brdy": "1990-03-07 00:00:00",
            "begntime": "2026-12-01",
            "medType": "11",
            "iptOpNo": "MZ0001",
            "diseNo": "J00",
            "diseName": "急性鼻咽炎",
            "valiFlag": "1",
        },
        "fmiOwnpayPatnDiseListDDTOS": [
            {
                "mdtrtId": mdtrt_id,
                "diagSrtNo": 0,
                "diagInfoId": "DG1",
                "inoutDiagType": "1",
                "diagType": "1",
                "maindiagFlag": "1",
                "diagCode": "J00",
                "diagName": "急性鼻咽炎",
                "diagTime": "2026-12-01 09:00:00",
            }
        ],
        "fmiOwnpayPatnFeeListDDTO": [
            {
                "bkkpSn": f"{mdtrt_id}-{i}",
                "feeOcurTime": "2026-12-01 09:30:00",
                "medListCodg": "",
                "medinsListCodg": f"H{i:04d}",
                "medinsListName": f"项目{i}",
                "medChrgitmType": "01",
                "cnt": "1",
                "pric": amount,
                "detItemFeeSumamt": amount,
                "bilgDeptCodg": "A03",
                "bilgDrName": "李医生",
            }
            for i, amount in enumerate(lines)
        ],
        "upType": "1",
    }


def _rows(app: Any, table: Any, code: str | None = None) -> int:
    with app.state.platform.db.read() as conn:
        q = select(func.count()).select_from(table)
        if code is not None:
            q = q.where(table.c.fixmedins_code == code)
        return int(conn.execute(q).scalar_one())


async def test_upload_reconcile_match_then_mismatch_is_listed(world: dict[str, Any]) -> None:
    his, app = world["his"], world["app"]
    out = await his.ok("4261", upload_input())
    assert out["data"]["medfee_sumamt"] == Decimal("42.50")
    assert (out["data"]["fee_cnt"], out["data"]["diag_cnt"], out["data"]["upload_cnt"]) == (2, 1, 1)

    ok = await his.ok(
        "4262", {"mdtrtId": "ZF0001", "fixmedinsCode": his.code, "totalFeeSumamt": "42.50"}
    )
    assert ok["stmtinfo"]["stmt_rslt"] == "0" and ok["stmtinfo"]["medfee_sumamt"] == Decimal(
        "42.50"
    )
    page = await his.ok("4263", {"fixmedinsCode": his.code, "pageNum": 1, "pageSize": 10})
    assert page["recordCounts"] == 0 and page["data"] == []

    # a second visit whose total the institution states wrongly: 不平, and 4263 lists it
    await his.ok("4261", json.dumps(upload_input("ZF0002", lines=("8.00",))))
    bad = await his.ok(
        "4262",
        json.dumps({"mdtrtId": "ZF0002", "fixmedinsCode": his.code, "totalFeeSumamt": "9.00"}),
    )
    assert bad["stmtinfo"]["stmt_rslt"] == "1"
    assert "医院9.00 中心8.00 差1.00" in bad["stmtinfo"]["stmt_rslt_dscr"]
    page = await his.ok(
        "4263", json.dumps({"fixmedinsCode": his.code, "pageNum": "1", "pageSize": "10"})
    )
    assert page["recordCounts"] == 1
    row = page["data"][0]
    assert (row["mdtrt_id"], row["medfee_sumamt"], row["total_fee_sumamt"], row["diff_amt"]) == (
        "ZF0002",
        Decimal("8.00"),
        Decimal("9.00"),
        Decimal("1.00"),
    )
    assert row["certno"] == "110101199003074514" and row["begntime"] == "2026-12-01 00:00:00"
    by_cert = await his.ok("4263", {"certno": "110101199003074514"})
    assert [r["mdtrt_id"] for r in by_cert["data"]] == ["ZF0002"]
    by_visit = await his.ok("4263", {"mdtrtId": "ZF0001"})
    assert by_visit["recordCounts"] == 0

    # reconciled again with the right total: no longer listed
    await his.ok("4262", {"mdtrtId": "ZF0002", "totalFeeSumamt": "8.00"})
    assert (await his.ok("4263", {}))["recordCounts"] == 0
    assert _rows(app, selfpay_mdtrt, his.code) == 2


async def test_another_institution_sees_nothing(world: dict[str, Any]) -> None:
    his, his2 = world["his"], world["his2"]
    await his.ok("4261", upload_input())
    await his.ok("4262", {"mdtrtId": "ZF0001", "totalFeeSumamt": "1.00"})
    assert (await his.ok("4263", {}))["recordCounts"] == 1

    assert (await his2.ok("4263", {}))["recordCounts"] == 0
    other = await his2.call("4262", {"mdtrtId": "ZF0001", "totalFeeSumamt": "42.50"})
    assert other["infcode"] == -1 and "input.mdtrt_id" in other["err_msg"]
    # naming another institution in the body is refused
    named = await his2.call("4263", {"fixmedinsCode": his.code})
    assert named["infcode"] == -1 and "fixmedins_code" in named["err_msg"]
    # the same visit number at another institution is that institution's own visit
    out = await his2.ok("4261", upload_input(lines=("5.00",)))
    assert out["data"]["upload_cnt"] == 1
    mine = await his.ok("4262", {"mdtrtId": "ZF0001", "totalFeeSumamt": "42.50"})
    assert mine["stmtinfo"]["stmt_rslt"] == "0"


async def test_reupload_replaces_and_clears_the_reconciliation(world: dict[str, Any]) -> None:
    his, app = world["his"], world["app"]
    await his.ok("4261", upload_input())
    await his.ok("4262", {"mdtrtId": "ZF0001", "totalFeeSumamt": "50.00"})
    assert (await his.ok("4263", {}))["recordCounts"] == 1

    again = await his.ok("4261", upload_input(lines=("20.00", "20.00", "10.00")))
    assert again["data"]["upload_cnt"] == 2 and again["data"]["medfee_sumamt"] == Decimal("50.00")
    assert _rows(app, selfpay_fee, his.code) == 3 and _rows(app, selfpay_diag, his.code) == 1
    assert (await his.ok("4263", {}))["recordCounts"] == 0
    ok = await his.ok("4262", {"mdtrtId": "ZF0001", "totalFeeSumamt": "50.00"})
    assert ok["stmtinfo"]["stmt_rslt"] == "0"


async def test_retry_under_the_same_msgid_answers_again(world: dict[str, Any]) -> None:
    his, app = world["his"], world["app"]
    msgid = his.msgid()
    first = await his.call("4261", upload_input(), msgid=msgid)
    second = await his.call("4261", upload_input(), msgid=msgid)
    assert first["infcode"] == 0 and second["output"] == first["output"]
    assert _rows(app, selfpay_fee) == 2


async def test_snake_case_shape_is_read_too(world: dict[str, Any]) -> None:
    his = world["his"]
    out = await his.ok(
        "4261",
        {
            "mdtrtinfo": {
                "mdtrt_id": "ZF9",
                "psn_name": "张三",
                "med_type": "11",
                "begntime": "2026-12-01 08:00:00",
                "medfee_sumamt": "3.30",
            },
            "feedetail": [
                {
                    "feedetl_sn": "1",
                    "fee_ocur_time": "2026-12-01 08:10:00",
                    "medins_list_codg": "H1",
                    "cnt": "3",
                    "pric": "1.1",
                    "det_item_fee_sumamt": "3.30",
                }
            ],
        },
    )
    assert out["data"]["medfee_sumamt"] == Decimal("3.30")
    rec = await his.ok("4262", {"data": {"mdtrt_id": "ZF9", "total_fee_sumamt": "3.3"}})
    assert rec["stmtinfo"]["stmt_rslt"] == "0"


async def test_refusals_name_the_field_and_write_nothing(world: dict[str, Any]) -> None:
    his, app = world["his"], world["app"]

    async def refused(infno: str, input_: Any, field: str) -> None:
        answer = await his.call(infno, input_)
        assert answer["infcode"] == -1, answer
        assert field in answer["err_msg"], answer["err_msg"]

    body = upload_input()
    del body["fmiOwnpayPatnMdtrtDDTO"]["psnName"]
    await refused("4261", body, "fmiOwnpayPatnMdtrtDDTO.psn_name")
    body = upload_input()
    body["fmiOwnpayPatnFeeListDDTO"][1]["detItemFeeSumamt"] = "30.001"
    await refused("4261", body, "fmiOwnpayPatnFeeListDDTO[1].det_item_fee_sumamt")
    body = upload_input()
    body["fmiOwnpayPatnFeeListDDTO"][1]["cnt"] = "2"
    await refused("4261", body, "fmiOwnpayPatnFeeListDDTO[1].det_item_fee_sumamt")
    body = upload_input()
    body["fmiOwnpayPatnFeeListDDTO"][1]["bkkpSn"] = body["fmiOwnpayPatnFeeListDDTO"][0]["bkkpSn"]
    await refused("4261", body, "fmiOwnpayPatnFeeListDDTO[1].bkkp_sn")
    body = upload_input()
    body["fmiOwnpayPatnMdtrtDDTO"]["medfeeSumamt"] = "42.49"
    await refused("4261", body, "fmiOwnpayPatnMdtrtDDTO.medfee_sumamt")
    body = upload_input()
    body["fmiOwnpayPatnFeeListDDTO"] = []
    await refused("4261", body, "fmiOwnpayPatnFeeListDDTO")
    body = upload_input()
    body["fmiOwnpayPatnMdtrtDDTO"]["fixmedinsCode"] = "H99999999"
    await refused("4261", body, "fmiOwnpayPatnMdtrtDDTO.fixmedins_code")
    body = upload_input()
    body["fmiOwnpayPatnFeeListDDTO"][0]["mdtrtId"] = "ZF0099"
    await refused("4261", body, "fmiOwnpayPatnFeeListDDTO[0].mdtrt_id")
    body = upload_input()
    body["fmiOwnpayPatnDiseListDDTOS"][0]["fixmedinsCode"] = "H99999999"
    await refused("4261", body, "fmiOwnpayPatnDiseListDDTOS[0].fixmedins_code")
    body = upload_input()
    body["upType"] = "7"
    await refused("4261", body, "input.upType")
    assert _rows(app, selfpay_mdtrt) == 0 and _rows(app, selfpay_fee) == 0

    await refused("4262", {"mdtrtId": "ZF0001"}, "input.total_fee_sumamt")
    await refused("4262", {"mdtrtId": "NOPE", "totalFeeSumamt": "1"}, "input.mdtrt_id")
    await refused("4262", {"data": {"mdtrt_id": "NOPE", "total_fee_sumamt": "1"}}, "data.mdtrt_id")
    await refused("4262", {"totalFeeSumamt": "1"}, "input.mdtrt_id")
    period = {"stmtBegndate": "2026-12-02", "stmtEnddate": "2026-12-01", "totalFeeSumamt": "1"}
    await refused("4262", {**period, "fixmedinsMdtrtCnt": "1"}, "input.stmt_enddate")
    period["stmtEnddate"] = "2026-12-31"
    await refused("4262", period, "input.fixmedins_mdtrt_cnt")
    await refused("4262", {"mdtrtId": "X", "totalFeeSumamt": "abc"}, "input.total_fee_sumamt")
    await refused("4263", {"pageSize": "1000"}, "input.page_size")
    await refused("4263", {"pageNum": "0"}, "input.page_num")


async def test_period_reconciliation_counts_and_totals(world: dict[str, Any]) -> None:
    his, his2 = world["his"], world["his2"]
    await his.ok("4261", upload_input("ZF0001"))  # 42.50, began 2026-12-01
    await his.ok("4261", upload_input("ZF0002", lines=("8.00",)))
    late = upload_input("ZF0003", lines=("100.00",))
    late["fmiOwnpayPatnMdtrtDDTO"]["begntime"] = "2027-01-01 08:00:00"
    await his.ok("4261", late)
    await his2.ok("4261", upload_input("ZF0004", lines=("1.00",)))

    period = {"fixmedinsCode": his.code, "stmtBegndate": "2026-12-01", "stmtEnddate": "2026-12-31"}
    ok = await his.ok("4262", {**period, "fixmedinsMdtrtCnt": "2", "totalFeeSumamt": "50.50"})
    info = ok["stmtinfo"]
    assert info["stmt_rslt"] == "0" and (info["mdtrt_cnt"], info["medfee_sumamt"]) == (
        2,
        Decimal("50.50"),
    )
    bad = await his.ok(
        "4262", json.dumps({**period, "fixmedinsMdtrtCnt": 3, "totalFeeSumamt": "51.50"})
    )
    dscr = bad["stmtinfo"]["stmt_rslt_dscr"]
    assert bad["stmtinfo"]["stmt_rslt"] == "1"
    assert "就诊数: 医院3 中心2 差1" in dscr and "费用总额: 医院51.50 中心50.50 差1.00" in dscr
    # the period form marks no visit
    assert (await his.ok("4263", {}))["recordCounts"] == 0


async def test_fuzzed_selfpay_envelopes_get_clear_answers(world: dict[str, Any]) -> None:
    """Mutations of 4261–4263 (`yibao.bench.fuzz`): a clear answer each, no 5xx, a refused
    call writes nothing."""
    his = world["his"]
    caller = Caller(his.code, his.paasid, his.secret)
    person = world["people"]["emp"]
    seeds = seed_inputs(
        SeedIds(person.psn_no, person.certno),
        now=datetime.now().replace(microsecond=0),
        fixmedins_code=his.code,
    )
    await his.ok("4261", seeds["4261"])
    report = await run_fuzz(
        http_sender(world["client"]),
        caller,
        seeds,
        Counts(world["platform"].db.read_engine),
        cases_=450,
        seed=16,
        infnos=("4261", "4262", "4263"),
    )
    assert report.http_5xx == 0 and report.failures == 0, "\n".join(report.samples)
    assert report.answered > 0 and report.refused > 0
