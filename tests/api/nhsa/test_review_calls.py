"""Real-time review inside the settlement calls (issue 18): a `selfpay` rule moves the line
and names itself in the memo, a `warn` rule answers in warn_msg, a `refuse` rule answers
infcode -1 naming the rule and writes nothing but its hit; 2206 persists nothing and its 2207
stores the same hits; review off changes nothing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from settle_factories import CHILD_ONLY, DRUG_B, EXAM_A, fee_line, register_input, settle_input
from sqlalchemy import func, select

from yibao.review.kb_rows import import_table
from yibao.risk.params_io import load_ruleset, ruleset_from_texts
from yibao.storage.tables import fee_detail, rule_hit, setl


def _rows(app: Any, table: Any) -> list[dict[str, Any]]:
    with app.state.platform.db.read() as conn:
        return [dict(r._mapping) for r in conn.execute(select(table))]


def _count(app: Any, table: Any) -> int:
    with app.state.platform.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def _price_cap(world: dict[str, Any], code: str, cap: str) -> None:
    platform = world["platform"]
    with platform.db.engine.begin() as conn:
        import_table(
            conn,
            "price_limits",
            [
                {
                    "hilist_code": code,
                    "hosp_lv": "*",
                    "max_pric": Decimal(cap),
                    "begndate": date(2020, 1, 1),
                    "enddate": None,
                    "memo": "test",
                }
            ],
            ids=platform.ids,
            now=_now(),
        )


def _now() -> Any:
    from yibao.kit.clock import local_naive_now

    return local_naive_now()


async def _visit(his: Any, p: Any, otp: str = "OTP0001") -> str:
    out = await his.ok("2201", register_input(p, ipt_otp_no=otp))
    return str(out["data"]["mdtrt_id"])


async def test_selfpay_rule_moves_the_line_and_names_itself(world: dict[str, Any]) -> None:
    his, app = world["his"], world["app"]
    p = world["people"]["emp"]  # an adult
    mdtrt_id = await _visit(his, p)
    answer = await his.call(
        "2204", {"feedetail": [fee_line("1", mdtrt_id, p.psn_no, CHILD_ONLY, "30.00")]}
    )
    assert answer["infcode"] == 0
    line = answer["output"]["result"][0]
    assert line["fulamt_ownpay_amt"] == Decimal("30.00")
    assert line["memo"].startswith("CHLD-01 儿童专用/限儿童: ")
    hits = _rows(app, rule_hit)
    assert [(h["rule_id"], h["category"], h["action"], h["stage"]) for h in hits] == [
        ("CHLD-01", "child_only", "selfpay", "mid")
    ]
    assert hits[0]["mdtrt_id"] == mdtrt_id and hits[0]["line_ids"] == "1"
    assert hits[0]["amount"] == Decimal("30.00") and hits[0]["infno"] == "2204"
    assert p.certno not in (hits[0]["evidence"] or "") and p.certno not in hits[0]["reason"]


async def test_warn_rule_answers_in_warn_msg(world: dict[str, Any]) -> None:
    his, app = world["his"], world["app"]
    p = world["people"]["emp"]
    _price_cap(world, EXAM_A, "50")
    mdtrt_id = await _visit(his, p)
    answer = await his.call(
        "2204", {"feedetail": [fee_line("1", mdtrt_id, p.psn_no, EXAM_A, "80.00")]}
    )
    assert answer["infcode"] == 0
    assert answer["warn_msg"].splitlines() == [
        "PRIC-01 超标准收费: 血常规[002501010150200] 单价80元高于标准价50元 "
        "(unit price above the standard price 50)"
    ]
    assert answer["output"]["result"][0]["fulamt_ownpay_amt"] == Decimal("0.00")
    (hit,) = _rows(app, rule_hit)
    assert hit["amount"] == Decimal("30.00") and hit["threshold"] == "50"
    assert hit["value_found"] == "80"
    # a clean line answers no warning
    clean = await his.call(
        "2204", {"feedetail": [fee_line("2", mdtrt_id, p.psn_no, EXAM_A, "50.00")]}
    )
    assert clean["infcode"] == 0 and not clean["warn_msg"]


async def test_refuse_rule_writes_only_its_hit(world: dict[str, Any]) -> None:
    his, app, platform = world["his"], world["app"], world["platform"]
    p = world["people"]["emp"]
    platform.use_ruleset(
        ruleset_from_texts(
            '[ruleset]\nadmdvs = "110199"\ncovers = ["1101"]\nversion = "t1"\n'
            "begndate = 2020-01-01\n"
            '[[rule]]\nid = "PRIC-09"\ncategory = "over_price"\nname = "超标准收费(拒付)"\n'
            'result_type = "violation"\naction = "refuse"\n'
        )
    )
    _price_cap(world, EXAM_A, "50")
    mdtrt_id = await _visit(his, p)
    answer = await his.call(
        "2204", {"feedetail": [fee_line("1", mdtrt_id, p.psn_no, EXAM_A, "80.00")]}
    )
    assert answer["infcode"] == -1
    assert "PRIC-09 超标准收费(拒付)" in answer["err_msg"]
    assert _count(app, fee_detail) == 0
    (hit,) = _rows(app, rule_hit)
    assert hit["action"] == "refuse" and hit["rule_version"] == "t1"


async def test_settlement_review_2206_answers_and_2207_stores(world: dict[str, Any]) -> None:
    his, his2, app = world["his"], world["his2"], world["app"]
    p = world["people"]["emp"]
    await _visit(his, p, "OTP0001")  # a second visit at the same hospital is ordinary
    await _visit(his2, p, "OTP0002")  # minutes later at another: two places, one card
    last = await _visit(his, p, "OTP0003")
    await his.ok("2204", {"feedetail": [fee_line("1", last, p.psn_no, EXAM_A, "20.00")]})
    pre = await his.call("2206", settle_input(p, last, "20.00"))
    assert pre["infcode"] == 0
    warned = pre["warn_msg"].splitlines()
    assert [w.split(":")[0] for w in warned] == ["SDMV-01 同日多家机构就诊", "CARD-02 一卡两地"]
    assert warned[0].startswith("SDMV-01 同日多家机构就诊: 同一天在2家机构门诊就诊")
    assert _count(app, rule_hit) == 0  # 2206 persists nothing
    done = await his.call("2207", settle_input(p, last, "20.00", **_echo(pre["output"])))
    assert done["infcode"] == 0 and done["warn_msg"] == pre["warn_msg"]
    hits = _rows(app, rule_hit)
    assert sorted(h["category"] for h in hits) == ["card_misuse", "same_day_multi_visit"]
    assert {h["setl_id"] for h in hits} == {done["output"]["setlinfo"]["setl_id"]}
    assert _count(app, setl) == 1


async def test_pharmacy_non_drug_and_review_off(world: dict[str, Any]) -> None:
    pos, app, platform = world["pos"], world["app"], world["platform"]
    p = world["people"]["emp"]

    def sale(sn: str) -> dict[str, Any]:
        detail = [
            {
                "feedetl_sn": sn,
                "fee_ocur_time": "2030-01-02 09:00:00",
                "med_list_codg": EXAM_A,
                "medins_list_codg": "LOCAL-2",
                "det_item_fee_sumamt": "10.00",
                "cnt": "1",
                "pric": "10.00",
            },
            {
                "feedetl_sn": sn + "b",
                "fee_ocur_time": "2030-01-02 09:00:00",
                "med_list_codg": DRUG_B,
                "medins_list_codg": "LOCAL-1",
                "det_item_fee_sumamt": "4.52",
                "cnt": "1",
                "pric": "4.52",
            },
        ]
        info = {
            "psn_no": p.psn_no,
            "mdtrt_cert_type": "02",
            "mdtrt_cert_no": p.certno,
            "begntime": "2030-01-02 09:00:00",
            "medfee_sumamt": "14.52",
            "insutype": "310",
            "acct_used_flag": "0",
            "med_type": "41",
        }
        return {"druginfo": info, "drugdetail": detail}

    done = await pos.ok("2102", sale("D1"))
    cut = done["detlcutinfo"]
    assert cut[0]["fulamt_ownpay_amt"] == Decimal("10.00")
    assert cut[0]["memo"].startswith("PHND-01 药店刷卡购非药品: ")
    assert cut[1]["fulamt_ownpay_amt"] == Decimal("0.00")
    (hit,) = _rows(app, rule_hit)
    assert hit["category"] == "pharmacy_non_drug" and hit["setl_id"]
    platform.use_ruleset(load_ruleset(), enabled=False)
    again = await pos.ok("2102", sale("D2"))
    assert again["detlcutinfo"][0]["fulamt_ownpay_amt"] == Decimal("0.00")
    assert _count(app, rule_hit) == 1


def _echo(pre: dict[str, Any]) -> dict[str, Any]:
    info = pre["setlinfo"]
    return {
        name: info[name]
        for name in ("fulamt_ownpay_amt", "overlmt_selfpay", "preselfpay_amt", "inscp_scp_amt")
    }


def _prescreen(p: Any, orders: list[dict[str, Any]], **enc: Any) -> dict[str, Any]:
    encounter = {
        "mdtrt_id": "HIS-V1",
        "medins_id": "H11010200001",
        "med_type": "11",
        "adm_date": "2030-01-02 09:00:00",
        "fsi_diagnose_dtos": [{"dise_codg": "R51.x00", "maindise_flag": "1"}],
        "fsi_order_dtos": orders,
        **enc,
    }
    return {
        "data": {
            "patient_dtos": [
                {
                    "patn_id": p.psn_no,
                    "patn_name": "x",
                    "gend": "1",
                    "brdy": "1990-03-07",
                    "fsi_encounter_dtos": [encounter],
                }
            ],
            "trig_scen": "1",
        }
    }


def _order(rx_id: str, code: str, cnt: str, pric: str) -> dict[str, Any]:
    return {"rx_id": rx_id, "hilist_code": code, "cnt": cnt, "pric": pric}


async def test_3101_and_3102_answer_result_in_the_reference_shape(world: dict[str, Any]) -> None:
    his, app = world["his"], world["app"]
    p = world["people"]["emp"]
    clean = await his.ok("3101", _prescreen(p, [_order("RX1", EXAM_A, "1", "20")]))
    assert clean == {"result": []}
    out = await his.ok(
        "3101",
        _prescreen(p, [_order("RX1", EXAM_A, "1", "20"), _order("RX2", CHILD_ONLY, "2", "15")]),
    )
    (res,) = out["result"]
    assert res["rule_id"] == "CHLD-01" and res["rule_name"] == "儿童专用/限儿童"
    assert res["patn_id"] == p.psn_no and res["mdtrt_id"] == "HIS-V1"
    assert res["vola_amt"] == Decimal("30.00") and res["sev_deg"] == "1"
    assert res["judge_result_detail_dtos"] == [
        {
            "jrd_id": "HIS-V1-1-1",
            "patn_id": p.psn_no,
            "mdtrt_id": "HIS-V1",
            "rx_id": "RX2",
            "vola_item_type": "1",
            "vola_amt": Decimal("30.00"),
        }
    ]
    assert "vola_cont" in res and res["vola_bhvr_type"] == "child_only"
    # 3102 runs the mid rules; rule_ids narrows them
    mid = await his.ok(
        "3102",
        {
            "data": {
                **_prescreen(p, [_order("RX2", CHILD_ONLY, "2", "15")])["data"],
                "rule_ids": ["GEND-01"],
            }
        },
    )
    assert mid == {"result": []}
    assert _count(app, rule_hit) == 0  # 3101/3102 persist nothing
    bad = await his.call("3101", _prescreen(p, [{"rx_id": "RX1", "cnt": "1", "pric": "2"}]))
    assert bad["infcode"] == -1
    assert "fsi_encounter_dtos[0].fsi_order_dtos[0].hilist_code" in bad["err_msg"]


async def test_a_refused_settlement_stores_its_hit_and_nothing_else(
    world: dict[str, Any],
) -> None:
    his, app, platform = world["his"], world["app"], world["platform"]
    p = world["people"]["emp"]
    platform.use_ruleset(
        ruleset_from_texts(
            '[ruleset]\nadmdvs = "110199"\ncovers = ["1101"]\nversion = "t2"\n'
            "begndate = 2020-01-01\n"
            '[[rule]]\nid = "SDMV-09"\ncategory = "same_day_multi_visit"\n'
            'result_type = "suspicious"\naction = "refuse"\n[rule.params]\nmax_institutions = 1\n'
        )
    )
    first = await _visit(world["his2"], p, "OTP0001")
    second = await _visit(his, p, "OTP0002")
    await his.ok("2204", {"feedetail": [fee_line("1", second, p.psn_no, EXAM_A, "20.00")]})
    pre = await his.call("2206", settle_input(p, second, "20.00"))
    assert pre["infcode"] == -1 and "SDMV-09" in pre["err_msg"]
    assert _count(app, rule_hit) == 0  # 2206 persists nothing, even a refusal
    done = await his.call("2207", settle_input(p, second, "20.00"))
    assert done["infcode"] == -1 and "SDMV-09 同日多次就诊" in done["err_msg"]  # its default name
    (hit,) = _rows(app, rule_hit)
    assert hit["infno"] == "2207" and hit["action"] == "refuse" and hit["setl_id"] is None
    assert _count(app, setl) == 0
    assert first != second


async def test_an_upload_checks_its_serial_numbers_alike_with_review_on_and_off(
    world: dict[str, Any],
) -> None:
    """With review on an upload reads every line of the visit once, for its serial-number
    checks and the rules alike; off, it looks up only its own serial numbers. Both must
    refuse a serial number in use, overwrite a cancelled one and settle the same bill."""
    his, platform = world["his"], world["platform"]
    answers = []
    for on, otp, p in ((True, "OTP0701", world["people"]["emp"]), (False, "OTP0702", world["people"]["emp"])):  # fmt: skip
        platform.use_ruleset(load_ruleset(), enabled=on)
        out = await his.ok("2201", register_input(p, ipt_otp_no=otp))
        mdtrt_id = str(out["data"]["mdtrt_id"])
        first = [
            fee_line("1", mdtrt_id, p.psn_no, EXAM_A, "50.00", batch="B1"),
            fee_line("2", mdtrt_id, p.psn_no, EXAM_A, "20.00", batch="B2"),
        ]
        await his.ok("2204", {"feedetail": first})
        dup = await his.call("2204", {"feedetail": [fee_line("1", mdtrt_id, p.psn_no, EXAM_A, "50.00", batch="B1")]})  # fmt: skip
        assert dup["infcode"] == -1 and "feedetail[0].feedetl_sn" in dup["err_msg"], on
        await his.ok("2205", {"data": {"mdtrt_id": mdtrt_id, "chrg_bchno": "B2", "psn_no": p.psn_no}})  # fmt: skip
        # the cancelled charge again under a new serial number: no duplicate of a cancelled
        # line; then the cancelled serial number used again, for another amount
        hits = _count(world["app"], rule_hit)
        await his.ok("2204", {"feedetail": [fee_line("3", mdtrt_id, p.psn_no, EXAM_A, "20.00", batch="B3")]})  # fmt: skip
        await his.ok("2204", {"feedetail": [fee_line("2", mdtrt_id, p.psn_no, EXAM_A, "30.00", batch="B3")]})  # fmt: skip
        assert _count(world["app"], rule_hit) == hits, on
        pre = await his.ok("2206", settle_input(p, mdtrt_id, "100.00", batch="0000"))
        answers.append(pre["setlinfo"]["medfee_sumamt"])
    platform.use_ruleset(load_ruleset())
    assert answers == [Decimal("100.00"), Decimal("100.00")]
