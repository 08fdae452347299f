"""Client-shaped: the catalogs with content (1304, 1313–1315, 1320) and the paged catalog
queries 1316–1319, through the gateway on the demo catalog; 3301 then 1317 shows the mapping."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import AsyncIterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from settle_factories import HOSP, HOSP2, His, seed_institution

from yibao.api.app import create_app
from yibao.catalog import demo_data, mapping
from yibao.catalog.demo import load_demo_catalog
from yibao.kit import jsonx
from yibao.runtime import Platform

INSULIN = "XA10AEG006B002010100010"
PAGE = {"updt_time": "2000-01-01 00:00:00", "page_num": "1", "page_size": "100"}


def _demo_rows() -> list[list[str]]:
    text = (Path(demo_data.__file__).parent / "data" / "demo_catalog.csv").read_text("utf-8")
    return list(csv.reader(io.StringIO(text)))[1:]


@pytest.fixture
async def demo(platform: Platform) -> AsyncIterator[dict[str, Any]]:
    app = create_app(platform.settings, platform=platform)
    with platform.db.engine.begin() as conn:
        creds = {HOSP: seed_institution(conn, HOSP), HOSP2: seed_institution(conn, HOSP2)}
        load_demo_catalog(conn)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield {
            "platform": platform,
            "client": client,
            "his": His(client, HOSP, *creds[HOSP]),
            "his2": His(client, HOSP2, *creds[HOSP2]),
        }


async def _refused(his: His, infno: str, input_: Any, field: str) -> str:
    answer = await his.call(infno, input_)
    assert answer["infcode"] == -1, answer
    assert field in answer["err_msg"], answer["err_msg"]
    return str(answer["err_msg"])


# --------------------------------------------------------------------------- downloads


@pytest.mark.parametrize(
    ("infno", "kind", "code"),
    [
        ("1313", "tumour_morphology", "M81400/3"),
        ("1314", "tcm_disease", "A04.01.01."),
        ("1315", "tcm_syndrome", "B01.01.01.01."),
        ("1320", "105", "KL0001001"),
    ],
)
async def test_the_catalogs_that_were_empty_download_with_content(
    demo: dict[str, Any], infno: str, kind: str, code: str
) -> None:
    his: His = demo["his"]
    expected = sum(1 for r in _demo_rows() if kind in (r[0], r[3]))
    assert expected > 3
    out = await his.ok(infno, {"data": {"ver": "0"}})
    assert out["data_cnt"] == expected
    response = await demo["client"].post(
        His.PATH,
        content=jsonx.dumps(
            his.envelope(
                "9102",
                {"fsDownloadIn": {"file_qury_no": out["file_qury_no"], "fixmedins_code": HOSP}},
            )
        ),
        headers=his.headers(),
    )
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        (name,) = archive.namelist()
        lines = archive.read(name).decode("utf-8").splitlines()
    assert len(lines) == expected
    assert any(line.startswith(code + "\t") for line in lines)


# --------------------------------------------------------------------------- 1304


async def test_1304_pages_the_ethnic_drugs(demo: dict[str, Any]) -> None:
    his: His = demo["his"]
    ethnic = [r for r in _demo_rows() if r[0] == "hilist" and r[3] == "104"]
    out = await his.ok("1304", {"data": PAGE})
    assert out["recordCounts"] == len(ethnic) == len(out["data"])
    first = out["data"][0]
    assert {"med_list_codg", "drug_prodname", "drug_genname", "dosform", "vali_flag", "rid"} <= set(
        first
    )
    # as a JSON string, filtered by name, paged
    as_text = jsonx.dumps_str({"data": {**PAGE, "drug_prodname": "珍珠", "page_size": "1"}})
    page = await his.ok("1304", as_text)
    assert page["recordCounts"] == 2 and page["pages"] == 2 and page["size"] == 1
    assert "珍珠" in page["data"][0]["drug_prodname"]
    page2 = await his.ok(
        "1304", {"data": {**PAGE, "drug_prodname": "珍珠", "page_size": "1", "page_num": "2"}}
    )
    assert page2["startRow"] == 2 and page2["data"][0]["rid"] != page["data"][0]["rid"]
    await _refused(his, "1304", {"data": {**PAGE, "page_size": "abc"}}, "data.page_size")
    await _refused(his, "1304", {"data": {"page_num": 1, "page_size": 10}}, "data.updt_time")


# --------------------------------------------------------------------------- 3301 → 1317 → 1316


async def test_3301_then_1317_shows_the_mapping_and_1316_follows_its_approval(
    demo: dict[str, Any],
) -> None:
    his: His = demo["his"]
    his2: His = demo["his2"]
    platform: Platform = demo["platform"]
    row = {
        "fixmedins_hilist_id": "YP9",
        "fixmedins_hilist_name": "甘精胰岛素(本院)",
        "list_type": "101",
        "med_list_codg": INSULIN,
        "spec": "3ml:300单位",
        "aprvno": "国药准字J20140052",
    }
    assert (await his.call("3301", {"data": [row]}))["infcode"] == 0

    out = await his.ok("1317", {"data": {**PAGE, "medins_list_codg": "YP9"}})
    assert out["recordCounts"] == 1
    (seen,) = out["data"]
    assert seen["fixmedins_code"] == HOSP
    assert seen["medins_list_codg"] == "YP9" and seen["medins_list_name"] == "甘精胰岛素(本院)"
    assert seen["med_list_codg"] == INSULIN and seen["list_type"] == "101"
    assert seen["spec"] == "3ml:300单位" and seen["aprvno"] == "国药准字J20140052"
    assert seen["vali_flag"] == "1" and seen["map_stas"] == "submitted"

    # another institution sees none of it, and may not ask for it
    assert (await his2.ok("1317", {"data": PAGE}))["recordCounts"] == 0
    await _refused(his2, "1317", {"data": {**PAGE, "fixmedins_code": HOSP}}, "data.fixmedins_code")

    # 1316 by the local code answers only once the mapping is approved
    by_local = jsonx.dumps_str({"data": {**PAGE, "medins_list_codg": "YP9"}})
    assert (await his.ok("1316", by_local))["recordCounts"] == 0
    with platform.db.engine.begin() as conn:
        mapping.approve(conn, map_id=int(seen["rid"]), reviewer="agency", now=datetime.now())
    matched = await his.ok("1316", by_local)
    assert matched["recordCounts"] == 1
    assert matched["data"][0]["med_list_codg"] == matched["data"][0]["hilist_code"] == INSULIN
    assert (await his2.ok("1316", by_local))["recordCounts"] == 0
    approved = await his.ok("1317", {"data": {**PAGE, "med_list_codg": INSULIN}})
    assert approved["data"][0]["map_stas"] == "approved"

    # cancelled: no longer effective, listed under vali_flag 0
    cancel = {
        "data": {"fixmedins_code": HOSP, "fixmedins_hilist_id": "YP9", "med_list_codg": INSULIN}
    }
    assert (await his.call("3302", cancel))["infcode"] == 0
    assert (await his.ok("1317", {"data": PAGE}))["recordCounts"] == 0
    gone = await his.ok("1317", {"data": {**PAGE, "vali_flag": "0"}})
    assert gone["recordCounts"] == 1 and gone["data"][0]["map_stas"] == "cancelled"


async def test_1316_pages_the_catalog_by_list_type(demo: dict[str, Any]) -> None:
    his: His = demo["his"]
    services = [r for r in _demo_rows() if r[0] == "hilist" and r[3] == "201"]
    out = await his.ok("1316", {"data": {**PAGE, "list_type": "201", "page_size": "10"}})
    assert out["recordCounts"] == len(services) and out["size"] == 10
    assert all(r["list_type"] == "201" for r in out["data"])
    await _refused(his, "1316", {"data": {**PAGE, "list_type": "999"}}, "data.list_type")
    await _refused(his, "1316", {"data": {**PAGE, "page_size": "1001"}}, "data.page_size")


# --------------------------------------------------------------------------- 1318 / 1319


async def test_1318_answers_the_price_caps(demo: dict[str, Any]) -> None:
    his: His = demo["his"]
    capped = [r for r in _demo_rows() if r[0] == "hilist" and r[8]]
    out = await his.ok("1318", {"data": {**PAGE, "page_size": "20"}})
    assert out["recordCounts"] == len(capped)
    assert out["pages"] == -(-len(capped) // 20)
    one = await his.ok("1318", jsonx.dumps_str({"data": {**PAGE, "hilist_code": INSULIN}}))
    (cap,) = one["data"]
    assert Decimal(str(cap["hilist_pric_uplmt_amt"])) == Decimal("82.00")
    assert (
        cap["hilist_lmtpric_type"] and cap["overlmt_dspo_way"] and cap["begndate"] == "2020-01-01"
    )
    other = await his.ok("1318", {"data": {**PAGE, "hilist_lmtpric_type": "9"}})
    assert other["recordCounts"] == 0
    await _refused(his, "1318", {"data": {**PAGE, "query_date": "2024-13-01"}}, "data.query_date")


async def test_1319_answers_the_selfpay_ratios_by_person_type(demo: dict[str, Any]) -> None:
    his: His = demo["his"]
    out = await his.ok("1319", {"data": {**PAGE, "hilist_code": INSULIN}})
    (own,) = out["data"]
    assert own["selfpay_prop_psn_type"] == "0" and Decimal(str(own["selfpay_prop"])) == Decimal(
        "0.10"
    )
    # a 乙类 drug with a person type's own ratio: one row each
    code = next(r[1] for r in _demo_rows() if r[0] == "hilist" and r[7] == "1300:0")
    both = await his.ok("1319", {"data": {**PAGE, "hilist_code": code}})
    assert [r["selfpay_prop_psn_type"] for r in both["data"]] == ["0", "1300"]
    assert Decimal(str(both["data"][1]["selfpay_prop"])) == 0
    only = await his.ok(
        "1319",
        jsonx.dumps_str({"data": {**PAGE, "selfpay_prop_psn_type": "1300", "page_size": "5"}}),
    )
    assert only["recordCounts"] == sum(1 for r in _demo_rows() if "1300:" in r[7])
    assert all(r["selfpay_prop_psn_type"] == "1300" for r in only["data"])
    await _refused(his, "1319", {"data": {**PAGE, "vali_flag": "2"}}, "data.vali_flag")
    await _refused(his, "1319", {"data": {**PAGE, "page_num": "0"}}, "data.page_num")


@pytest.mark.parametrize("psn_type", [None, "0", "1300"])
async def test_1319_pages_add_up_to_the_whole_list(
    demo: dict[str, Any], psn_type: str | None
) -> None:
    his: His = demo["his"]
    data = {**PAGE, "page_size": "1000"}
    if psn_type is not None:
        data["selfpay_prop_psn_type"] = psn_type
    whole = await his.ok("1319", {"data": data})
    assert whole["recordCounts"] == len(whole["data"]) > 10
    walked: list[str] = []
    for num in range(1, -(-whole["recordCounts"] // 7) + 1):
        page = await his.ok("1319", {"data": {**data, "page_size": "7", "page_num": str(num)}})
        assert page["recordCounts"] == whole["recordCounts"]
        walked.extend(r["rid"] for r in page["data"])
    assert walked == [r["rid"] for r in whole["data"]]
    beyond = await his.ok("1319", {"data": {**data, "page_size": "7", "page_num": "999"}})
    assert beyond["data"] == [] and beyond["recordCounts"] == whole["recordCounts"]
