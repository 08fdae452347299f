"""Through the gateway: 1301 → 9102 returns the zip, 1312 pages, 3301/3302 mappings."""

from __future__ import annotations

import csv
import io
import sys
import zipfile
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "settlement"))

from settle_factories import HOSP, His, seed_institution

from yibao.api.app import create_app
from yibao.catalog import demo_data, mapping
from yibao.catalog.demo import load_demo_catalog
from yibao.catalog.mapping import MappingState
from yibao.kit import jsonx
from yibao.runtime import Platform

INSULIN = "XA10AEG006B002010100010"


def _demo_drug_rows() -> int:
    """西药中成药 (list type 101) rows of the demo catalog CSV: what 1301 must return."""
    text = (Path(demo_data.__file__).parent / "data" / "demo_catalog.csv").read_text("utf-8")
    return sum(1 for r in csv.reader(io.StringIO(text)) if r[:1] == ["hilist"] and r[3] == "101")


async def test_catalog_transactions_through_the_gateway(platform: Platform) -> None:
    app = create_app(platform.settings, platform=platform)
    with platform.db.engine.begin() as conn:
        paasid, secret = seed_institution(conn, HOSP)
        load_demo_catalog(conn)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        his = His(client, HOSP, paasid, secret)
        out = await his.ok("1301", {"data": {"ver": "0"}})
        drugs = _demo_drug_rows()
        assert drugs > 100
        assert out["data_cnt"] == drugs
        response = await client.post(
            His.PATH,
            content=jsonx.dumps(
                his.envelope(
                    "9102",
                    {
                        "fsDownloadIn": {
                            "file_qury_no": out["file_qury_no"],
                            "filename": "plc",
                            "fixmedins_code": HOSP,
                        }
                    },
                )
            ),
            headers=his.headers(),
        )
        assert response.status_code == 200
        with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
            (name,) = archive.namelist()
            lines = archive.read(name).decode("utf-8").splitlines()
        assert len(lines) == drugs and any(line.startswith(INSULIN + "\t") for line in lines)

        page = await his.ok(
            "1312",
            {
                "data": {
                    "updt_time": "2000-01-01 00:00:00",
                    "page_num": 1,
                    "page_size": 10,
                    "hilist_code": INSULIN,
                }
            },
        )
        assert page["recordCounts"] == 1 and page["data"][0]["lmt_used_flag"] == "1"

        bad = await his.call("1312", {"data": {"page_num": 1, "page_size": 10}})
        assert bad["infcode"] == -1 and "updt_time" in bad["err_msg"]

        row = {
            "fixmedins_hilist_id": "YP9",
            "fixmedins_hilist_name": "甘精胰岛素(本院)",
            "list_type": "101",
            "med_list_codg": INSULIN,
        }
        assert (await his.call("3301", {"data": [row]}))["infcode"] == 0
        with platform.db.engine.connect() as conn:
            assert mapping.mapping_status(conn, HOSP, "YP9", INSULIN) is MappingState.PENDING
        unknown = await his.call(
            "3301", {"data": [{**row, "fixmedins_hilist_id": "YP10", "med_list_codg": "XZ99"}]}
        )
        assert unknown["infcode"] == -1 and "data[0]" in unknown["err_msg"]
        cancel = {
            "data": {"fixmedins_code": HOSP, "fixmedins_hilist_id": "YP9", "med_list_codg": INSULIN}
        }
        assert (await his.call("3302", cancel))["infcode"] == 0
        with platform.db.engine.connect() as conn:
            assert mapping.mapping_status(conn, HOSP, "YP9", INSULIN) is MappingState.NONE
