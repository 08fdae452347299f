"""Departments and practitioners through the gateway, shaped as real HIS clients send them:
3401 → 5101 → 3402 → 3403 (the issue's round trip), 3401A batches, 5102 practitioners; input
as an object and as a JSON string, counts as strings, refusals naming the field, and an
institution that sees only its own records."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from yibao.enrolment import practitioners
from yibao.enrolment.commands_departments import PracInfo, PracPsnType
from yibao.storage.tables import fixmedins_dept


def dept(code: str = "0101", name: str = "心血管内科", **extra: Any) -> dict[str, Any]:
    """A `deptinfo` as the public clients fill it (counts often as strings)."""
    return {
        "hosp_dept_codg": code,
        "caty": "A03",
        "hosp_dept_name": name,
        "begntime": "2020-01-01 00:00:00",
        "endtime": "",
        "itro": "心内科门诊与病房",
        "dept_resper_name": "张主任",
        "dept_resper_tel": "010-88886666",
        "dept_med_serv_scp": "",
        "dept_estbdat": "2001-06-01",
        "aprv_bed_cnt": "40",
        "hi_crtf_bed_cnt": 38,
        "poolarea_no": "110100",
        "dr_psncnt": "12",
        "phar_psncnt": 0,
        "nurs_psncnt": "20",
        "tecn_psncnt": "3",
        "memo": "",
        **extra,
    }


def _rows(world: dict[str, Any]) -> int:
    with world["platform"].db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(fixmedins_dept)).scalar_one())


async def test_round_trip_upload_query_change_cancel(world: dict[str, Any]) -> None:
    his = world["his"]
    assert await his.ok("3401", {"deptinfo": dept()}) is None

    out = await his.ok("5101", {"data": {"hosp_dept_codg": "0101"}})
    (row,) = out["feedetail"]
    assert row["hosp_dept_codg"] == "0101"
    assert row["hosp_dept_name"] == "心血管内科"
    assert row["caty"] == "A03"
    assert row["begntime"] == "2020-01-01 00:00:00"
    assert row["dept_estbdat"] == "2001-06-01 00:00:00"
    assert row["aprv_bed_cnt"] == 40 and row["nurs_psncnt"] == 20
    assert row["vali_flag"] == "1"

    # 3402 sends the whole record: the name and the beds change
    changed = dept(name="心血管内科(新院区)", aprv_bed_cnt="60")
    await his.ok("3402", json.dumps({"deptinfo": changed}, ensure_ascii=False))
    (row,) = (await his.ok("5101", {"data": {"hosp_dept_codg": "0101"}}))["feedetail"]
    assert row["hosp_dept_name"] == "心血管内科(新院区)"
    assert row["aprv_bed_cnt"] == 60

    # 3403 cancels, it does not delete
    await his.ok(
        "3403",
        {
            "data": {
                "hosp_dept_codg": "0101",
                "hosp_dept_name": "心血管内科(新院区)",
                "begntime": "2020-01-01 00:00:00",
            }
        },
    )
    assert (await his.ok("5101", {"data": {}}))["feedetail"] == []
    cancelled = (await his.ok("5101", {"data": {"vali_flag": "0"}}))["feedetail"]
    assert [r["hosp_dept_codg"] for r in cancelled] == ["0101"]
    assert cancelled[0]["vali_flag"] == "0" and cancelled[0]["endtime"]
    assert _rows(world) == 1

    # a cancelled department is neither changed nor cancelled again
    again = await his.call("3402", {"deptinfo": changed})
    assert again["infcode"] == -1 and "deptinfo.hosp_dept_codg" in again["err_msg"]
    assert "已撤销" in again["err_msg"]
    again = await his.call("3403", {"data": {"hosp_dept_codg": "0101"}})
    assert again["infcode"] == -1 and "已撤销" in again["err_msg"]

    # uploading its code again reopens it
    await his.ok("3401", {"deptinfo": dept(name="心内科")})
    (row,) = (await his.ok("5101", {}))["feedetail"]
    assert row["hosp_dept_name"] == "心内科" and row["vali_flag"] == "1"
    assert row["endtime"] is None
    assert _rows(world) == 1


async def test_input_as_json_string_and_duplicate_upload(world: dict[str, Any]) -> None:
    his = world["his"]
    await his.ok("3401", json.dumps({"deptinfo": dept("0201", "骨科")}, ensure_ascii=False))
    dup = await his.call("3401", {"deptinfo": dept("0201", "骨科")})
    assert dup["infcode"] == -1
    assert "deptinfo.hosp_dept_codg" in dup["err_msg"] and "3402" in dup["err_msg"]
    out = await his.ok("5101", json.dumps({"data": {"hosp_dept_name": "骨"}}, ensure_ascii=False))
    assert [r["hosp_dept_codg"] for r in out["feedetail"]] == ["0201"]


async def test_refusals_name_the_field_and_write_nothing(world: dict[str, Any]) -> None:
    his = world["his"]
    cases = [
        ({"deptinfo": dept(hosp_dept_codg="")}, "deptinfo.hosp_dept_codg"),
        ({"deptinfo": dept(hosp_dept_codg="X" * 21)}, "deptinfo.hosp_dept_codg"),
        ({"deptinfo": dept(caty=None)}, "deptinfo.caty"),
        ({"deptinfo": dept(begntime="2020/01/01")}, "deptinfo.begntime"),
        ({"deptinfo": dept(endtime="2019-01-01 00:00:00")}, "deptinfo.endtime"),
        ({"deptinfo": dept(aprv_bed_cnt="4.5")}, "deptinfo.aprv_bed_cnt"),
        ({"deptinfo": dept(dr_psncnt="-1")}, "deptinfo.dr_psncnt"),
        ({"deptinfo": dept(nurs_psncnt="100000")}, "deptinfo.nurs_psncnt"),
        ({}, "input.deptinfo"),
    ]
    for body, field in cases:
        answer = await his.call("3401", body)
        assert answer["infcode"] == -1, body
        assert field in answer["err_msg"], (field, answer["err_msg"])
    missing = await his.call("3402", {"deptinfo": dept("0999")})
    assert missing["infcode"] == -1 and "科室不存在" in missing["err_msg"]
    missing = await his.call("3403", {"data": {"hosp_dept_name": "x"}})
    assert missing["infcode"] == -1 and "data.hosp_dept_codg" in missing["err_msg"]
    bad = await his.call("5101", {"data": {"vali_flag": "2"}})
    assert bad["infcode"] == -1 and "data.vali_flag" in bad["err_msg"]
    assert _rows(world) == 0


async def test_batch_upload_all_or_nothing(world: dict[str, Any]) -> None:
    his = world["his"]
    batch = [dept("0301", "儿科"), dept("0302", "眼科", caty="A10")]
    await his.ok("3401A", {"deptinfo": batch})
    out = await his.ok("5101", {"data": {}})
    assert [r["hosp_dept_codg"] for r in out["feedetail"]] == ["0301", "0302"]

    # one bad element refuses the batch, naming its index; nothing of it is written
    bad = [dept("0303", "口腔科"), dept("0304", "皮肤科", begntime="")]
    answer = await his.call("3401A", json.dumps({"deptinfo": bad}, ensure_ascii=False))
    assert answer["infcode"] == -1 and "deptinfo[1].begntime" in answer["err_msg"]
    twice = [dept("0305", "急诊科"), dept("0305", "急诊科")]
    answer = await his.call("3401A", {"deptinfo": twice})
    assert answer["infcode"] == -1 and "deptinfo[1].hosp_dept_codg" in answer["err_msg"]
    known = [dept("0306", "康复科"), dept("0301", "儿科")]
    answer = await his.call("3401A", {"deptinfo": known})
    assert answer["infcode"] == -1 and "deptinfo[1].hosp_dept_codg" in answer["err_msg"]
    assert _rows(world) == 2


async def test_an_institution_sees_and_changes_only_its_own(world: dict[str, Any]) -> None:
    his, his2 = world["his"], world["his2"]
    await his.ok("3401", {"deptinfo": dept("0401", "神经内科")})
    assert (await his2.ok("5101", {"data": {}}))["feedetail"] == []
    foreign = await his2.call("3402", {"deptinfo": dept("0401", "改名")})
    assert foreign["infcode"] == -1 and "科室不存在" in foreign["err_msg"]
    foreign = await his2.call("3403", {"data": {"hosp_dept_codg": "0401"}})
    assert foreign["infcode"] == -1
    # the other hospital may use the same code for its own department
    await his2.ok("3401", {"deptinfo": dept("0401", "消化内科")})
    (mine,) = (await his.ok("5101", {}))["feedetail"]
    (theirs,) = (await his2.ok("5101", {}))["feedetail"]
    assert mine["hosp_dept_name"] == "神经内科" and theirs["hosp_dept_name"] == "消化内科"


async def test_retry_under_one_msgid_answers_again(world: dict[str, Any]) -> None:
    his = world["his"]
    envelope = his.envelope("3401", {"deptinfo": dept("0501", "中医科", caty="A50")})
    first = await his.send(envelope)
    second = await his.send(envelope)
    assert first["infcode"] == 0 and second["infcode"] == 0, second["err_msg"]
    assert _rows(world) == 1
    # a query repeated under one msgid answers again (no 报文ID重复 for reads)
    query = his.envelope("5101", {"data": {}})
    assert (await his.send(query))["output"] == (await his.send(query))["output"]


async def test_gbk_body_from_a_windows_his(world: dict[str, Any]) -> None:
    his = world["his"]
    body = json.dumps(
        his.envelope("3401", {"deptinfo": dept("0601", "耳鼻咽喉科", caty="A11")}),
        ensure_ascii=False,
    ).encode("gbk")
    headers = {**his.headers(), "content-type": "application/json;charset=GBK"}
    answer = await his.post(body, headers=headers)
    assert answer["infcode"] == 0, answer["err_msg"]
    (row,) = (await his.ok("5101", {"data": {"hosp_dept_codg": "0601"}}))["feedetail"]
    assert row["hosp_dept_name"] == "耳鼻咽喉科"


def _seed_practitioners(world: dict[str, Any], code: str) -> None:
    platform = world["platform"]
    at = datetime(2020, 1, 1)
    staff = [
        PracInfo("D110102000001", "李医生", PracPsnType.DOCTOR, at, hi_dr_flag="1",
                 psn_cert_type="01", certno="110101198001010011", hosp_dept_codg="0101"),
        PracInfo("D110102000002", "王医生", PracPsnType.DOCTOR, at, hi_dr_flag="1"),
        PracInfo("N110102000001", "赵护士", PracPsnType.NURSE, at),
        PracInfo("Y110102000001", "钱药师", PracPsnType.PHARMACIST, at),
    ]  # fmt: skip
    with platform.db.engine.begin() as conn:
        added = practitioners.seed(conn, staff, fixmedins_code=code, ids=platform.ids, now=at)
        assert added == 4
        assert practitioners.seed(conn, staff, fixmedins_code=code, ids=platform.ids, now=at) == 0
        practitioners.end(
            conn,
            fixmedins_code=code,
            prac_psn_code="D110102000002",
            reason="调离",
            ids=platform.ids,
            actor="test",
            now=datetime(2024, 1, 1),
        )


async def test_practitioners_query(world: dict[str, Any]) -> None:
    his, his2 = world["his"], world["his2"]
    _seed_practitioners(world, his.code)
    out = await his.ok("5102", {"data": {"prac_psn_type": "1"}})
    (doctor,) = out["feedetail"]  # the one who left is not listed
    assert doctor["prac_psn_code"] == "D110102000001"
    assert doctor["prac_psn_name"] == "李医生"
    assert doctor["prac_psn_type"] == "1" and doctor["hi_dr_flag"] == "1"
    assert doctor["begntime"] == "2020-01-01 00:00:00"
    assert doctor["hosp_dept_codg"] == "0101"

    body = {"data": {"prac_psn_type": 2, "prac_psn_name": "赵", "psn_cert_type": ""}}
    nurses = await his.ok("5102", json.dumps(body, ensure_ascii=False))
    assert [r["prac_psn_code"] for r in nurses["feedetail"]] == ["N110102000001"]
    by_cert = await his.ok("5102", {"data": {"prac_psn_type": "1", "certno": "110101198001010011"}})
    assert len(by_cert["feedetail"]) == 1
    none = await his.ok("5102", {"data": {"prac_psn_type": "3", "prac_psn_code": "nobody"}})
    assert none["feedetail"] == []

    # another institution sees none of them
    assert (await his2.ok("5102", {"data": {"prac_psn_type": "1"}}))["feedetail"] == []

    missing = await his.call("5102", {"data": {"prac_psn_name": "李"}})
    assert missing["infcode"] == -1 and "data.prac_psn_type" in missing["err_msg"]
    wrong = await his.call("5102", {"data": {"prac_psn_type": "9"}})
    assert wrong["infcode"] == -1 and "data.prac_psn_type" in wrong["err_msg"]
