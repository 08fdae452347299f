"""A month of the demo city cleared end to end: settlements through the gateway, 3201, 3203 /
3204 through the interface, the agency's review, deduction, approval and payment through the
console API — every payment order recomputed here from the `setl` rows — then a settlement
reversed after its month was cleared, which the next month carries as an adjustment."""

from __future__ import annotations

import csv
import io
import json
import sys
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "settlement"))

from settle_factories import His

from yibao.api.app import create_app
from yibao.interface import pipeline
from yibao.interface.console import clearing as console_clearing
from yibao.kit.clock import local_naive_now
from yibao.runtime import Platform
from yibao.simulate.demo import load_demo
from yibao.storage.tables import clr_order, setl, setl_fund

D = Decimal
CONSULT = "110200001000000"  # 普通门诊诊查费 50.00 (demo catalog)
DRUG = "XA02BCA022E001010100006"  # 奥美拉唑肠溶胶囊 1.20


def _month(day: date) -> str:
    return f"{day.year:04d}{day.month:02d}"


def _months_back(n: int) -> date:
    first = local_naive_now().date().replace(day=1)
    for _ in range(n):
        first = (first - timedelta(days=1)).replace(day=1)
    return first


class Clock:
    """The server's time at receipt (the pipeline's and the console's), set by the test."""

    def __init__(self) -> None:
        self.at: datetime | None = None

    def __call__(self) -> datetime:
        return self.at or local_naive_now()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    c = Clock()
    monkeypatch.setattr(pipeline, "_now", c)
    monkeypatch.setattr(console_clearing, "_now", c)
    yield c


@pytest.fixture
async def city(platform: Platform, clock: Clock, tmp_path: Path) -> AsyncIterator[dict[str, Any]]:
    load_demo(platform.db.engine, tmp_path, persons=40)
    doc = json.loads((tmp_path / "demo-fixtures.json").read_text())
    app = create_app(platform.settings, platform=platform)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        outpatient = [i for i in doc["institutions"] if i["kind"] != "pharmacy"][:3]
        his = {
            i["code"]: His(
                client,
                i["code"],
                i["credentials"]["headers"]["x-tif-paasid"],
                i["credentials"]["headers"]["x-yibao-key"],
            )
            for i in outpatient
        }
        login = await client.post(
            "/api/v1/auth/login",
            json={"username": doc["agency"]["username"], "password": doc["agency"]["password"]},
        )
        assert login.status_code == 200, login.text
        token = login.json()["access_token"]
        yield {
            "platform": platform,
            "client": client,
            "his": his,
            "persons": doc["persons"],
            "admdvs": {i["code"]: i["admdvs"] for i in outpatient},
            "auth": {"Authorization": f"Bearer {token}"},
        }


async def settle(his: His, person: dict[str, Any], at: datetime, n: int) -> dict[str, Any]:
    """An outpatient visit settled through the gateway at `at` (2201, 2204, 2206, 2207)."""
    stamp = f"{at:%Y-%m-%d %H:%M:%S}"
    reg = await his.ok(
        "2201",
        {
            "data": {
                "psn_no": person["psn_no"],
                "insutype": person["insutype"],
                "begntime": stamp,
                "mdtrt_cert_type": "02",
                "mdtrt_cert_no": person["certno"],
                "ipt_otp_no": f"OTP{n:05d}",
                "atddr_no": "D110102000001",
                "dr_name": "李医生",
                "dept_code": "A03",
                "dept_name": "内科",
                "caty": "A03",
            }
        },
        insuplc_admdvs=person["insuplc_admdvs"],
    )
    mdtrt_id = reg["data"]["mdtrt_id"]
    lines = [
        (CONSULT, D("50.00"), D("1")),
        (DRUG, D("1.20") * (200 + n * 37), D(200 + n * 37)),
    ]
    feedetail = [
        {
            "feedetl_sn": str(k),
            "mdtrt_id": mdtrt_id,
            "psn_no": person["psn_no"],
            "chrg_bchno": "CB1",
            "rx_circ_flag": "0",
            "fee_ocur_time": stamp,
            "med_list_codg": code,
            "medins_list_codg": f"L-{code[:10]}",
            "det_item_fee_sumamt": amount,
            "cnt": cnt,
            "pric": (amount / cnt).quantize(D("0.000001")),
            "bilg_dept_codg": "A03",
            "bilg_dept_name": "内科",
            "bilg_dr_codg": "D110102000001",
            "bilg_dr_name": "李医生",
            "hosp_appr_flag": "1",
        }
        for k, (code, amount, cnt) in enumerate(lines, 1)
    ]
    await his.ok("2204", {"feedetail": feedetail}, insuplc_admdvs=person["insuplc_admdvs"])
    total = sum((a for _, a, _ in lines), D("0"))
    data = {
        "psn_no": person["psn_no"],
        "mdtrt_cert_type": "02",
        "mdtrt_cert_no": person["certno"],
        "med_type": "11",
        "medfee_sumamt": total,
        "psn_setlway": "01",
        "mdtrt_id": mdtrt_id,
        "chrg_bchno": "CB1",
        "insutype": person["insutype"],
        "acct_used_flag": "1",
        "invono": "",
    }
    pre = await his.ok("2206", {"data": data}, insuplc_admdvs=person["insuplc_admdvs"])
    echo = {
        k: pre["setlinfo"][k]
        for k in ("fulamt_ownpay_amt", "overlmt_selfpay", "preselfpay_amt", "inscp_scp_amt")
    }
    done = await his.ok("2207", {"data": {**data, **echo}}, insuplc_admdvs=person["insuplc_admdvs"])
    info: dict[str, Any] = done["setlinfo"]
    return info


def _setl_rows(platform: Platform, code: str, first: date, last: date) -> list[dict[str, Any]]:
    """The month's rows the way 3201 counts them with reversals included, read here directly."""
    with platform.db.engine.connect() as conn:
        rows = [
            dict(r)
            for r in conn.execute(
                select(setl).where(
                    setl.c.fixmedins_code == code,
                    setl.c.setl_time >= datetime.combine(first, datetime.min.time()),
                    setl.c.setl_time
                    < datetime.combine(last + timedelta(days=1), datetime.min.time()),
                )
            ).mappings()
        ]
        funds = defaultdict(dict)
        for f in conn.execute(select(setl_fund)).mappings():
            funds[f["setl_id"]][f["fund_pay_type"]] = f["fund_payamt"]
    reversed_in_month = {r["init_setl_id"] for r in rows if r["refd_setl_flag"] == "1"}
    out = []
    for r in rows:
        # a settlement made counts; a valid reversal record counts (negative)
        if r["refd_setl_flag"] == "0" or r["vali_flag"] == "1":
            r["funds"] = funds[r["setl_id"]]
            out.append(r)
    assert reversed_in_month <= {r["setl_id"] for r in rows} | reversed_in_month
    return out


def _expected_orders(
    rows: list[dict[str, Any]], deductions: dict[str, D]
) -> dict[str, dict[str, D]]:
    """Per fund, by hand: Σ fund rows (310200 = acct_pay), − deductions, 5 % deposit except the
    personal account, rounded half up to the fen."""
    by_fund: dict[str, D] = defaultdict(lambda: D("0.00"))
    for r in rows:
        for fund, amount in r["funds"].items():
            if fund != "310200":
                by_fund[fund] += amount
        if r["acct_pay"]:
            by_fund["310200"] += r["acct_pay"]
    out = {}
    for fund, amount in by_fund.items():
        if not amount and not deductions.get(fund):
            continue
        base = amount - deductions.get(fund, D("0"))
        deposit = (
            D("0.00")
            if fund == "310200" or base <= 0
            else (base * D("0.05")).quantize(D("0.01"), rounding=ROUND_HALF_UP)
        )
        out[fund] = {"setl_amt": amount, "deposit_amt": deposit, "payable_amt": base - deposit}
    return out


def _claim(rows: list[dict[str, Any]], setlym: str, first: date, last: date) -> dict[str, Any]:
    return {
        "setlym": setlym,
        "psntime": len(rows),
        "medfee_sumamt": sum((r["medfee_sumamt"] for r in rows), D("0")),
        "med_sumfee": sum((r["inscp_scp_amt"] for r in rows), D("0")),
        "fund_appy_sum": sum((r["fund_pay_sumamt"] for r in rows), D("0")),
        "cash_payamt": sum((r["psn_cash_pay"] for r in rows), D("0")),
        "acct_pay": sum((r["acct_pay"] for r in rows), D("0")),
        "begndate": first.isoformat(),
        "enddate": last.isoformat(),
        "clr_type": "11",
        "clr_way": "1",
    }


async def test_a_month_of_the_demo_city_cleared_end_to_end(
    city: dict[str, Any], clock: Clock
) -> None:
    platform, client, auth = city["platform"], city["client"], city["auth"]
    hises: dict[str, His] = city["his"]
    persons = city["persons"]
    first = _months_back(2)
    nxt = _months_back(1)
    last = nxt - timedelta(days=1)
    setlym, next_ym = _month(first), _month(nxt)

    # --- the month: 3 institutions × 4 visits; one settlement reversed within the month
    settled: dict[str, list[dict[str, Any]]] = defaultdict(list)
    employees = [p for p in persons if p["insutype"] == "310"]
    residents = [p for p in persons if p["insutype"] == "390"]
    mixed = [x for pair in zip(residents, employees, strict=False) for x in pair]
    n = 0
    for k, (code, his) in enumerate(hises.items()):
        for j in range(4):
            n += 1
            clock.at = datetime.combine(first, datetime.min.time()) + timedelta(
                days=3 + j * 5, hours=9 + k
            )
            person = mixed[(k * 4 + j) % len(mixed)]
            settled[code].append(await settle(his, person, clock.at, n))
    code0 = next(iter(hises))
    first_setl = settled[code0][0]
    clock.at = datetime.combine(first, datetime.min.time()) + timedelta(days=20)
    await hises[code0].ok(
        "2208",
        {
            "data": {
                "setl_id": first_setl["setl_id"],
                "mdtrt_id": first_setl["mdtrt_id"],
                "psn_no": first_setl["psn_no"],
            }
        },
    )

    # --- 3201 balances for the month; 3203 through the interface, once the month has ended
    clock.at = datetime.combine(nxt, datetime.min.time()) + timedelta(days=2, hours=10)
    rows = {code: _setl_rows(platform, code, first, last) for code in hises}
    for code, his in hises.items():
        for insutype in sorted({r["insutype"] for r in rows[code]}):
            mine = [r for r in rows[code] if r["insutype"] == insutype]
            stmt = await his.ok(
                "3201",
                {
                    "data": {
                        "insutype": insutype,
                        "clr_type": "11",
                        "setl_optins": city["admdvs"][code],
                        "stmt_begndate": first.isoformat(),
                        "stmt_enddate": last.isoformat(),
                        "medfee_sumamt": sum((r["medfee_sumamt"] for r in mine), D("0")),
                        "fund_pay_sumamt": sum((r["fund_pay_sumamt"] for r in mine), D("0")),
                        "acct_pay": sum((r["acct_pay"] for r in mine), D("0")),
                        "fixmedins_setl_cnt": len(mine),
                        "refd_setl_flag": "1",
                    }
                },
            )
            assert stmt["stmtinfo"]["stmt_rslt"] == "0", stmt
    evt: dict[str, str] = {}
    for code, his in hises.items():
        out = await his.ok("3203", {"data": _claim(rows[code], setlym, first, last)})
        evt[code] = out["clr_appy_evt_id"]
    # a month cannot be applied for twice while an application holds it
    again = await hises[code0].call("3203", {"data": _claim(rows[code0], setlym, first, last)})
    assert again["infcode"] == -1 and "setlym" in again["err_msg"]
    # the current month has not ended
    early = await hises[code0].call(
        "3203", {"data": {**_claim([], next_ym, nxt, nxt), "setlym": _month(clock.at.date())}}
    )
    assert early["infcode"] == -1 and "setlym" in early["err_msg"]
    # 3204 withdraws; the month can then be applied for again
    code1 = list(hises)[1]
    await hises[code1].ok("3204", {"data": {"clr_appy_evt_id": evt[code1]}})
    out = await hises[code1].ok("3203", {"data": _claim(rows[code1], setlym, first, last)})
    evt[code1] = out["clr_appy_evt_id"]
    # another institution cannot withdraw it
    other = await hises[code0].call("3204", {"data": {"clr_appy_evt_id": evt[code1]}})
    assert other["infcode"] == -1 and "clr_appy_evt_id" in other["err_msg"]

    # --- the agency: list, review, deduct, accept, approve (console API)
    page = await client.get(
        "/api/v1/clearing/applications", params={"setlym": setlym}, headers=auth
    )
    assert page.status_code == 200, page.text
    by_stas = defaultdict(int)
    for item in page.json()["items"]:
        by_stas[item["stas"]] += 1
    assert by_stas == {"submitted": 3, "withdrawn": 1}
    for code in hises:
        review = await client.get(f"/api/v1/clearing/applications/{evt[code]}/review", headers=auth)
        assert review.status_code == 200, review.text
        assert review.json()["differences"] == []
    # approving before acceptance is refused, naming both states, and writes nothing
    bad = await client.post(
        f"/api/v1/clearing/applications/{evt[code0]}/transitions",
        json={"action": "approve"},
        headers=auth,
    )
    assert bad.status_code == 409 and "submitted" in bad.json()["message"]
    assert "approved" in bad.json()["message"]
    pooled = _expected_orders(rows[code0], {})
    fund0 = max((f for f in pooled if f != "310200"), key=lambda f: pooled[f]["setl_amt"])
    refused = await client.post(
        f"/api/v1/clearing/applications/{evt[code0]}/deductions",
        json={"fund_pay_type": "510100", "amount": "3.33", "reason": "超标准收费 (稽核)"},
        headers=auth,
    )
    assert refused.status_code == 400 and "fund_pay_type" in refused.json()["message"]
    deduction = await client.post(
        f"/api/v1/clearing/applications/{evt[code0]}/deductions",
        json={"fund_pay_type": fund0, "amount": "3.33", "reason": "超标准收费 (稽核)"},
        headers=auth,
    )
    assert deduction.status_code == 201, deduction.text
    for code in hises:
        for action in ("accept", "approve"):
            r = await client.post(
                f"/api/v1/clearing/applications/{evt[code]}/transitions",
                json={"action": action},
                headers=auth,
            )
            assert r.status_code == 200, r.text
    # the institution cannot withdraw an accepted application
    late = await hises[code0].call("3204", {"data": {"clr_appy_evt_id": evt[code0]}})
    assert late["infcode"] == -1 and "approved" in late["err_msg"]

    # --- every order recomputed from the settlements
    for code in hises:
        detail = (
            await client.get(f"/api/v1/clearing/applications/{evt[code]}", headers=auth)
        ).json()
        assert detail["stas"] == "approved"
        assert [e["action"] for e in detail["events"]][:1] == ["submit"]
        expected = _expected_orders(rows[code], {fund0: D("3.33")} if code == code0 else {})
        got = {o["fund_pay_type"]: o for o in detail["orders"]}
        assert set(got) == set(expected)
        for fund, exp in expected.items():
            o = got[fund]
            assert D(o["setl_amt"]) == exp["setl_amt"]
            assert D(o["adjust_amt"]) == 0
            assert D(o["deposit_amt"]) == exp["deposit_amt"]
            assert D(o["payable_amt"]) == exp["payable_amt"]
        # the orders add up to what 3201 reconciles for the month (fund_pay_sumamt + acct_pay)
        reconciled = sum((r["fund_pay_sumamt"] + r["acct_pay"] for r in rows[code]), D("0"))
        assert sum((D(o["setl_amt"]) + D(o["adjust_amt"]) for o in got.values()), D(0)) == (
            reconciled
        )
        for o in got.values():
            assert D(o["payable_amt"]) + D(o["deposit_amt"]) + D(o["deduct_amt"]) == D(
                o["setl_amt"]
            ) + D(o["adjust_amt"])

    # --- the treasury pays; the order cannot be paid twice
    orders = (
        await client.get("/api/v1/clearing/orders", params={"setlym": setlym}, headers=auth)
    ).json()
    assert orders["total"] == sum(len(_expected_orders(rows[c], {})) for c in hises)
    one = orders["items"][0]["clr_order_id"]
    paid = await client.post(
        f"/api/v1/clearing/orders/{one}/paid", json={"pay_ref": "GK2024-0001"}, headers=auth
    )
    assert paid.status_code == 200 and paid.json()["stas"] == "paid"
    twice = await client.post(
        f"/api/v1/clearing/orders/{one}/paid", json={"pay_ref": "GK2024-0002"}, headers=auth
    )
    assert twice.status_code == 409 and "paid" in twice.json()["message"]

    # --- exports: CSV and XLSX carry the same orders
    exported = await client.get(
        "/api/v1/clearing/orders/export", params={"setlym": setlym, "format": "csv"}, headers=auth
    )
    assert exported.status_code == 200
    table = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert table[0][0] == "拨付单号(clr_order_id)" and len(table) == orders["total"] + 1
    xlsx = await client.get(
        "/api/v1/clearing/orders/export", params={"setlym": setlym, "format": "xlsx"}, headers=auth
    )
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None
    cells = [[c.value for c in line] for line in sheet.iter_rows()]
    assert cells[0] == table[0] and len(cells) == len(table)
    assert {line[11] for line in cells[1:]} == {line[11] for line in table[1:]}  # payable_amt

    # --- next month: a settlement of the cleared month is reversed, and a new one is made
    victim = settled[code0][1]
    clock.at = datetime.combine(nxt, datetime.min.time()) + timedelta(days=5, hours=11)
    await hises[code0].ok(
        "2208",
        {"data": {k: victim[k] for k in ("setl_id", "mdtrt_id", "psn_no")}},
    )
    await settle(hises[code0], persons[1], clock.at, 99)
    with platform.db.engine.connect() as conn:
        paid_before = conn.execute(
            select(clr_order.c.clr_order_id, clr_order.c.payable_amt).where(
                clr_order.c.setlym == setlym
            )
        ).all()
    clock.at = None  # today: the next month has ended
    next_last = _months_back(0) - timedelta(days=1)
    next_rows = _setl_rows(platform, code0, nxt, next_last)
    out = await hises[code0].ok("3203", {"data": _claim(next_rows, next_ym, nxt, next_last)})
    nid = out["clr_appy_evt_id"]
    for action in ("accept", "approve"):
        r = await client.post(
            f"/api/v1/clearing/applications/{nid}/transitions",
            json={"action": action},
            headers=auth,
        )
        assert r.status_code == 200, r.text
    detail = r.json()
    got = {o["fund_pay_type"]: o for o in detail["orders"]}
    victim_funds = {
        f: a
        for f, a in next(x for x in rows[code0] if x["setl_id"] == victim["setl_id"])[
            "funds"
        ].items()
        if f != "310200"
    }
    for fund, amount in victim_funds.items():
        assert D(got[fund]["adjust_amt"]) == -amount
    if victim["acct_pay"]:
        assert D(got["310200"]["adjust_amt"]) == -D(str(victim["acct_pay"]))
    assert D(detail["rvw_adjust_amt"]) == -(
        D(str(victim["fund_pay_sumamt"])) + D(str(victim["acct_pay"]))
    )
    # the whole next month still adds up to what 3201 reconciles for it
    assert sum((D(o["setl_amt"]) + D(o["adjust_amt"]) for o in got.values()), D(0)) == sum(
        (r["fund_pay_sumamt"] + r["acct_pay"] for r in next_rows), D("0")
    )
    # nothing of the cleared month was rewritten
    with platform.db.engine.connect() as conn:
        assert (
            conn.execute(
                select(clr_order.c.clr_order_id, clr_order.c.payable_amt).where(
                    clr_order.c.setlym == setlym
                )
            ).all()
            == paid_before
        )

    # --- the dashboard's clearing view by month
    months = await client.get(
        "/api/v1/clearing/months", params={"since": setlym, "until": next_ym}, headers=auth
    )
    assert months.status_code == 200
    figures = {m["setlym"]: m for m in months.json()}
    assert D(figures[setlym]["deducted"]) == D("3.33")
    assert D(figures[setlym]["paid"]) == D(orders["items"][0]["payable_amt"])
