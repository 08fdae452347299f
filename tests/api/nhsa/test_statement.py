"""5265 结算单信息查询 and the printable statement page, as a HIS calls them: a settlement made
through the gateway, its statement (amounts equal to 2207's, the fee structure adding back to
the total), the `print_url` opened without a login, and the refusals."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

from argon2 import PasswordHasher
from settle_factories import CONSULT_A, DRUG_B, EXAM_A, echo, fee_line, settle_input
from sqlalchemy import insert

from yibao.kit.clock import local_naive_now
from yibao.settlement import print_token
from yibao.storage.tables import agency_user


async def _settle(his: Any, p: Any) -> tuple[str, dict[str, Any]]:
    """1101-free outpatient settlement of three lines in three categories: 2000 化验 (甲),
    1000 诊察 (甲), 4.52 西药 (乙, 10 % 先行自付)."""
    reg = await his.ok(
        "2201",
        {
            "data": {
                "psn_no": p.psn_no,
                "insutype": p.insutype,
                "begntime": "2024-05-20 10:00:00",
                "mdtrt_cert_type": "02",
                "mdtrt_cert_no": p.certno,
                "ipt_otp_no": "OTP5265",
                "atddr_no": "D110102000001",
                "dr_name": "李医生",
                "dept_code": "A03",
                "dept_name": "内科",
                "caty": "A03",
            }
        },
    )
    mdtrt_id = reg["data"]["mdtrt_id"]
    lines = [
        fee_line("1", mdtrt_id, p.psn_no, EXAM_A, "2000.00"),
        fee_line("2", mdtrt_id, p.psn_no, CONSULT_A, "1000.00"),
        fee_line("3", mdtrt_id, p.psn_no, DRUG_B, "4.52"),
    ]
    await his.ok("2204", {"feedetail": lines})
    pre = await his.ok("2206", settle_input(p, mdtrt_id, "3004.52"))
    done = await his.ok("2207", settle_input(p, mdtrt_id, "3004.52", **echo(pre)))
    return mdtrt_id, done


async def test_statement_matches_the_settlement_and_its_lines(world: dict[str, Any]) -> None:
    his = world["his"]
    p = world["people"]["emp"]
    mdtrt_id, done = await _settle(his, p)
    setl_id = done["setlinfo"]["setl_id"]

    out = await his.ok("5265", {"data": {"setl_id": setl_id, "psn_no": p.psn_no}})
    info = out["setlinfo"]
    # the settlement's amounts, to the fen, as 2207 answered them
    for name in ("medfee_sumamt", "hifp_pay", "fund_pay_sumamt", "acct_pay", "psn_cash_pay"):
        assert info[name] == done["setlinfo"][name], name
    assert info["balc"] == done["setlinfo"]["balc"] == Decimal("0.00")
    assert info["psn_pay"] == info["psn_part_amt"]
    assert info["fixmedins_code"] == his.code and info["fixmedins_name"]
    assert info["psn_name"] == "张三"  # the HIS prints its own statement: unmasked data
    assert {d["fund_pay_type"] for d in out["setldetail"]} == {
        d["fund_pay_type"] for d in done["setldetail"]
    }
    assert out["mdtrtinfo"]["mdtrt_id"] == mdtrt_id
    assert out["mdtrtinfo"]["dept_name"] == "内科"
    assert out["mdtrtinfo"]["ipt_otp_no"] == "OTP5265"

    fees = {r["med_chrgitm_type"]: r for r in out["feeinfo"]}
    assert list(fees) == ["02", "04", "09"]
    assert fees["04"]["det_item_fee_sumamt"] == Decimal("2000.00")
    assert fees["04"]["med_chrgitm_type_name"] == "化验费"
    assert fees["09"]["preselfpay_amt"] == Decimal("0.45")
    assert sum(r["det_item_fee_sumamt"] for r in out["feeinfo"]) == info["medfee_sumamt"]
    for part in ("fulamt_ownpay_amt", "preselfpay_amt", "inscp_scp_amt"):
        assert sum(r[part] for r in out["feeinfo"]) == info[part], part
    for r in out["feeinfo"]:
        assert r["det_item_fee_sumamt"] == (
            r["fulamt_ownpay_amt"] + r["overlmt_amt"] + r["preselfpay_amt"] + r["inscp_scp_amt"]
        )
    assert out["print_url"].startswith(f"/print/settlements/{setl_id}?token=")

    # the same query as a JSON string, and with mdtrt_id: the same statement
    again = await his.ok("5265", json.dumps({"data": {"setl_id": setl_id, "mdtrt_id": mdtrt_id}}))
    assert again["setlinfo"] == info
    assert again["feeinfo"] == out["feeinfo"]


async def test_print_page_opens_with_the_link_and_masks_the_person(world: dict[str, Any]) -> None:
    his, client = world["his"], world["client"]
    p = world["people"]["emp"]
    _, done = await _settle(his, p)
    setl_id = done["setlinfo"]["setl_id"]
    out = await his.ok("5265", {"data": {"setl_id": setl_id}})

    page = await client.get(out["print_url"])
    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-store"
    body = page.text
    assert "医疗保障基金结算单" in body
    assert "张*" in body and "张三" not in body
    assert p.certno not in body and "1" + "*" * 15 + "14" in body
    assert "3,004.52" in body and "化验费" in body and "/static/statement.css" in body
    assert "http://" not in body and "https://" not in body  # nothing from outside

    assert "size: A4;" in body
    a5 = await client.get(out["print_url"] + "&paper=a5")
    assert a5.status_code == 200 and "size: A5 landscape;" in a5.text
    assert (await client.get(out["print_url"] + "&paper=letter")).status_code == 422

    css = await client.get("/static/statement.css")
    assert css.status_code == 200 and "@media print" in css.text


async def test_print_link_refusals(world: dict[str, Any]) -> None:
    his, his2, client, platform = world["his"], world["his2"], world["client"], world["platform"]
    p = world["people"]["emp"]
    _, done = await _settle(his, p)
    setl_id = done["setlinfo"]["setl_id"]
    out = await his.ok("5265", {"data": {"setl_id": setl_id}})
    token = parse_qs(urlsplit(out["print_url"]).query)["token"][0]

    # a token names one settlement
    other = await client.get(f"/print/settlements/S-OTHER?token={token}")
    assert other.status_code == 403 and "无效或已过期" in other.text
    # a forged token (another institution's code, the same mac) does not open it
    parts = token.split(".")
    forged = ".".join([parts[0], parts[1], his2.code, parts[3]])
    assert (await client.get(f"/print/settlements/{setl_id}?token={forged}")).status_code == 403
    # an expired one neither
    data_dir = platform.settings.data_dir
    old = print_token.issue(data_dir, setl_id=setl_id, fixmedins_code=his.code, now_unix=1000)
    assert (await client.get(f"/print/settlements/{setl_id}?token={old}")).status_code == 403
    # without a token and signed out: the login page
    bare = await client.get(f"/print/settlements/{setl_id}", follow_redirects=False)
    assert bare.status_code == 303
    assert bare.headers["location"].startswith("/login?next=%2Fprint%2Fsettlements")


async def test_agency_user_opens_any_statement(world: dict[str, Any]) -> None:
    his, client, platform = world["his"], world["client"], world["platform"]
    p = world["people"]["emp"]
    _, done = await _settle(his, p)
    setl_id = done["setlinfo"]["setl_id"]
    password = "statement-pass-1"
    hashed = PasswordHasher().hash(password)

    def job(conn: Any) -> None:
        conn.execute(
            insert(agency_user).values(
                username="rev",
                password_hash=hashed,
                display_name="稽核员",
                role="reviewer",
                vali_flag="1",
                created_at=local_naive_now(),
            )
        )

    platform.db.writer.run_sync(job)
    login = await client.post("/api/v1/auth/login", json={"username": "rev", "password": password})
    assert login.status_code == 200, login.text
    bearer = {"Authorization": f"Bearer {login.json()['access_token']}"}
    page = await client.get(f"/print/settlements/{setl_id}", headers=bearer)
    assert page.status_code == 200 and "张*" in page.text
    missing = await client.get("/print/settlements/NO-SUCH", headers=bearer)
    assert missing.status_code == 404 and "结算单不存在" in missing.text


async def test_5265_refusals_name_the_field(world: dict[str, Any]) -> None:
    his, his2 = world["his"], world["his2"]
    p = world["people"]["emp"]
    _, done = await _settle(his, p)
    setl_id = done["setlinfo"]["setl_id"]

    missing = await his.call("5265", {"data": {"psn_no": p.psn_no}})
    assert missing["infcode"] == -1 and "data.setl_id" in missing["err_msg"]
    # another institution's settlement is answered like a missing one
    foreign = await his2.call("5265", {"data": {"setl_id": setl_id}})
    assert foreign["infcode"] == -1 and "data.setl_id" in foreign["err_msg"]
    assert "不存在或不属于本机构" in foreign["err_msg"]
    wrong_psn = await his.call("5265", {"data": {"setl_id": setl_id, "psn_no": "P0002"}})
    assert wrong_psn["infcode"] == -1 and wrong_psn["err_msg"].startswith("data.psn_no")
    wrong_visit = await his.call("5265", {"data": {"setl_id": setl_id, "mdtrt_id": "M-X"}})
    assert wrong_visit["infcode"] == -1 and "data.mdtrt_id" in wrong_visit["err_msg"]
    too_long = await his.call("5265", {"data": {"setl_id": "S" * 31}})
    assert too_long["infcode"] == -1 and "data.setl_id" in too_long["err_msg"]
    no_node = await his.call("5265", {"setl_id": setl_id})
    assert no_node["infcode"] == -1 and "data" in no_node["err_msg"]
    # a query repeated under one msgid answers again (no 报文ID重复 for reads)
    msgid = his.msgid()
    first = await his.call("5265", {"data": {"setl_id": setl_id}}, msgid=msgid)
    second = await his.call("5265", {"data": {"setl_id": setl_id}}, msgid=msgid)
    assert first["infcode"] == second["infcode"] == 0
    assert first["output"]["setlinfo"] == second["output"]["setlinfo"]


async def test_reversal_record_statement_is_negated(world: dict[str, Any]) -> None:
    his = world["his"]
    p = world["people"]["emp"]
    mdtrt_id, done = await _settle(his, p)
    setl_id = done["setlinfo"]["setl_id"]
    rev = await his.ok(
        "2208", {"data": {"setl_id": setl_id, "mdtrt_id": mdtrt_id, "psn_no": p.psn_no}}
    )
    rev_id = rev["setlinfo"]["setl_id"]
    out = await his.ok("5265", {"data": {"setl_id": rev_id}})
    info = out["setlinfo"]
    assert info["refd_setl_flag"] == "1" and info["init_setl_id"] == setl_id
    assert info["medfee_sumamt"] == Decimal("-3004.52")
    assert sum(r["det_item_fee_sumamt"] for r in out["feeinfo"]) == info["medfee_sumamt"]
    original = await his.ok("5265", {"data": {"setl_id": setl_id}})
    assert original["setlinfo"]["vali_flag"] == "0"
    assert sum(r["det_item_fee_sumamt"] for r in original["feeinfo"]) == Decimal("3004.52")
    page = await world["client"].get(out["print_url"])
    assert page.status_code == 200 and "冲销记录" in page.text
