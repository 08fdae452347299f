"""1301–1321 downloads (zip via 9102), 1312 paged query, 3301/3302 mapping upload/cancel."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from catalog_factories import (
    DRUG,
    DRUG2,
    GOOD_ROWS,
    NATIONAL,
    NOW,
    add_institution,
    apply,
    ctx,
    write_csv,
)
from sqlalchemy import Engine

from yibao.catalog import mapping
from yibao.catalog.downloads import DISE_COLUMNS, ITEM_COLUMNS, fetch_download
from yibao.catalog.mapping import MappingState
from yibao.errors import Forbidden, InvalidInput, NotFound
from yibao.interface import registry
from yibao.interface.transactions import catalog as transactions
from yibao.storage.uow import UnitOfWork

H1 = "H37010200001"


@pytest.fixture
def loaded(engine: Engine, tmp_path: Path) -> Engine:
    apply(engine, write_csv(tmp_path / "c.csv", NATIONAL, GOOD_ROWS))
    apply(
        engine,
        write_csv(
            tmp_path / "d.csv",
            ["dise_codg", "dise_name", "begndate"],
            [["I10.x00", "原发性高血压", "2020-01-01"]],
        ),
        kind="diagnosis",
    )
    with UnitOfWork(engine) as uow:
        add_institution(uow.conn, H1)
        uow.commit()
    return engine


def unzip(content: bytes) -> list[list[str]]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        (name,) = archive.namelist()
        text = archive.read(name).decode("utf-8")
    return [line.split("\t") for line in text.splitlines()]


def test_1301_download_then_9102(loaded: Engine) -> None:
    with UnitOfWork(loaded) as uow:
        out = transactions.handle_1301(uow.conn, ctx(H1), {"data": {"ver": "0"}})
        uow.commit()
    assert set(out) == {"file_qury_no", "filename", "dld_endtime", "data_cnt"}
    assert out["data_cnt"] == 2 and out["filename"].endswith(".zip")
    assert out["dld_endtime"] == (NOW + timedelta(hours=24)).strftime("%Y-%m-%d %H:%M:%S")
    with loaded.connect() as conn:
        name, content = fetch_download(
            conn, file_qury_no=out["file_qury_no"], fixmedins_code=H1, now=NOW
        )
        assert name == out["filename"]
        rows = unzip(content)
        assert sorted(r[0] for r in rows) == sorted([DRUG, DRUG2])
        assert all(len(r) == len(ITEM_COLUMNS) for r in rows)
        drug = next(dict(zip(ITEM_COLUMNS, r, strict=True)) for r in rows if r[0] == DRUG)
        assert drug["chrgitm_lv"] == "02" and drug["selfpay_prop"] == "0.1" and drug["ver"] == "1"
        with pytest.raises(Forbidden):
            fetch_download(
                conn, file_qury_no=out["file_qury_no"], fixmedins_code="H37010200002", now=NOW
            )
        with pytest.raises(NotFound, match="过期"):
            fetch_download(
                conn,
                file_qury_no=out["file_qury_no"],
                fixmedins_code=H1,
                now=NOW + timedelta(days=2),
            )
        with pytest.raises(NotFound):
            fetch_download(conn, file_qury_no="nope", fixmedins_code=H1, now=NOW)


def test_download_is_incremental_by_version(loaded: Engine) -> None:
    with UnitOfWork(loaded) as uow:
        assert transactions.handle_1301(uow.conn, ctx(H1), {"data": {"ver": "1"}})["data_cnt"] == 0
        assert (
            transactions.handle_1301(uow.conn, ctx(H1), {"data": {"ver": "V2021"}})["data_cnt"] == 2
        )
        assert transactions.handle_1301(uow.conn, ctx(H1), {})["data_cnt"] == 2
        assert transactions.handle_1305(uow.conn, ctx(H1), {"data": {"ver": "0"}})["data_cnt"] == 1
        dise = transactions.handle_1307(uow.conn, ctx(H1), {"data": {"ver": "0"}})
        assert dise["data_cnt"] == 1
        assert transactions.handle_1314(uow.conn, ctx(H1), {"data": {"ver": "0"}})["data_cnt"] == 0
        _, content = fetch_download(
            uow.conn, file_qury_no=dise["file_qury_no"], fixmedins_code=H1, now=NOW
        )
    (row,) = unzip(content)
    assert len(row) == len(DISE_COLUMNS) and row[0] == "I10.x00" and row[2] == "diagnosis"


def test_1312_paged_query(loaded: Engine) -> None:
    base = {"updt_time": "2000-01-01", "page_num": 1, "page_size": 2}
    with loaded.connect() as conn:
        page = transactions.handle_1312(conn, ctx(H1), {"data": base})
        assert page["recordCounts"] == 5 and page["pages"] == 3 and page["size"] == 2
        assert page["startRow"] == 1 and page["lastPage"] == 3
        last = transactions.handle_1312(conn, ctx(H1), {"data": {**base, "page_num": 3}})
        assert last["size"] == 1 and last["startRow"] == 5
        drugs = transactions.handle_1312(
            conn, ctx(H1), {"data": {**base, "list_type": "101", "page_size": 10}}
        )
        assert {r["hilist_code"] for r in drugs["data"]} == {DRUG, DRUG2}
        row = next(r for r in drugs["data"] if r["hilist_code"] == DRUG)
        assert (
            row["chrgitm_lv"] == "02" and row["vali_flag"] == "1" and row["poolarea_no"] == "370102"
        )
        named = transactions.handle_1312(
            conn, ctx(H1), {"data": {**base, "hilist_name": "阿莫西林"}}
        )
        assert [r["hilist_code"] for r in named["data"]] == [DRUG2]
        future = transactions.handle_1312(
            conn, ctx(H1), {"data": {**base, "updt_time": "2099-01-01"}}
        )
        assert future["recordCounts"] == 0 and future["pages"] == 0 and future["data"] == []
        for bad in ({"page_num": 0}, {"page_size": 5000}, {"updt_time": None}, {"vali_flag": "9"}):
            with pytest.raises(InvalidInput):
                transactions.handle_1312(conn, ctx(H1), {"data": {**base, **bad}})


def test_3301_and_3302(loaded: Engine) -> None:
    upload = {
        "data": [
            {
                "fixmedins_hilist_id": "YP0001",
                "fixmedins_hilist_name": "地喹氯铵含片(本院)",
                "list_type": "101",
                "med_list_codg": DRUG,
                "begndate": "2025-01-01",
                "aprvno": "国药准字H20000000",
            }
        ]
    }
    with UnitOfWork(loaded) as uow:
        assert transactions.handle_3301(uow.conn, ctx(H1, infno="3301"), upload) is None
        (record,) = mapping.list_mappings(uow.conn, fixmedins_code=H1)
        assert record.extra == {"aprvno": "国药准字H20000000"} and record.msgid is not None
        assert mapping.mapping_status(uow.conn, H1, "YP0001", DRUG) is MappingState.PENDING
        with pytest.raises(InvalidInput, match=r"data\[0\]"):
            bad = {
                "data": [
                    {**upload["data"][0], "fixmedins_hilist_id": "YP0002", "med_list_codg": "X"}
                ]
            }
            transactions.handle_3301(uow.conn, ctx(H1, infno="3301"), bad)
        cancel = {
            "data": {"fixmedins_code": H1, "fixmedins_hilist_id": "YP0001", "med_list_codg": DRUG}
        }
        with pytest.raises(Forbidden):
            other = {"data": {**cancel["data"], "fixmedins_code": "H37010200002"}}
            transactions.handle_3302(uow.conn, ctx(H1, infno="3302"), other)
        assert transactions.handle_3302(uow.conn, ctx(H1, infno="3302"), cancel) is None
        assert mapping.mapping_status(uow.conn, H1, "YP0001", DRUG) is MappingState.NONE


def test_3301_refuses_a_row_of_another_institution(loaded: Engine) -> None:
    """A 3301 row naming another institution's fixmedins_code is refused like 3302 and 9101
    refuse it, and nothing of the call is written (not even the caller's own rows)."""
    own = {
        "fixmedins_hilist_id": "YP0003",
        "fixmedins_hilist_name": "本院对照",
        "list_type": "101",
        "med_list_codg": DRUG,
        "fixmedins_code": H1,
    }
    foreign = {**own, "fixmedins_hilist_id": "YP0004", "fixmedins_code": "H37010200002"}
    with UnitOfWork(loaded) as uow:
        with uow.conn.begin_nested() as sp:
            with pytest.raises(Forbidden, match=r"data\[1\]\.fixmedins_code"):
                transactions.handle_3301(uow.conn, ctx(H1, infno="3301"), {"data": [own, foreign]})
            sp.rollback()
        assert mapping.list_mappings(uow.conn, fixmedins_code="H37010200002") == []
        assert mapping.list_mappings(uow.conn, fixmedins_code=H1) == []
        # naming its own code is accepted
        assert transactions.handle_3301(uow.conn, ctx(H1, infno="3301"), {"data": [own]}) is None
        (record,) = mapping.list_mappings(uow.conn, fixmedins_code=H1)
        assert record.medins_list_codg == "YP0003" and "fixmedins_code" not in record.extra


def test_handler_table_for_the_gateway() -> None:
    found = registry.lookup("1301")
    assert found is not None and found.handler is transactions.handle_1301 and found.writes
    found = registry.lookup("1312")
    assert found is not None and found.writes is False
    assert {
        "1301",
        "1302",
        "1303",
        "1305",
        "1306",
        "1307",
        "1308",
        "1309",
        "1310",
        "1311",
        "1312",
        "1321",
    } <= set(registry.all_transactions())
