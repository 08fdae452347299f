"""Every bad input gets HTTP 200 with infcode -1 and an err_msg naming the field; nothing is
written; never an HTTP 500."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from settle_factories import (
    CONSULT_A,
    HOSP,
    His,
    echo,
    fee_line,
    register_input,
    settle_input,
)
from sqlalchemy import func, select

from yibao.kit import jsonx
from yibao.storage.tables import change_log, fee_detail, mdtrt, msg_log, setl


def _counts(platform: Any) -> tuple[int, ...]:
    with platform.db.read() as conn:
        return tuple(
            int(conn.execute(select(func.count()).select_from(t)).scalar_one())
            for t in (msg_log, mdtrt, fee_detail, setl, change_log)
        )


async def test_envelope_shape_and_paths(world: dict[str, Any]) -> None:
    his = world["his"]
    p = world["people"]["emp"]
    for path in (
        "/fsi/api/rsfComIfsService/callService",
        "/mbs/fmi/fsi/api/callFsiService/callService",
        "/fsi/api/fsiPsnInfoService/queryPsnInfo",
    ):
        answer = await his.call(
            "1101", {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": p.certno}}, path=path
        )
        assert answer["infcode"] == 0
        assert set(answer) == {
            "infcode",
            "inf_refmsgid",
            "refmsg_time",
            "respond_time",
            "err_msg",
            "warn_msg",
            "cainfo",
            "signtype",
            "enctype",
            "output",
        }
        assert len(answer["inf_refmsgid"]) == 30 and answer["inf_refmsgid"].startswith("110102")
        assert len(answer["refmsg_time"]) == 17 and len(answer["respond_time"]) == 17
        assert answer["err_msg"] is None and answer["cainfo"] is None


async def test_input_as_a_json_string_and_amounts_as_strings(world: dict[str, Any]) -> None:
    his = world["his"]
    p = world["people"]["emp"]
    envelope = his.envelope("2201", None)
    envelope["input"] = jsonx.dumps_str(register_input(p))
    answer = await his.send(envelope)
    assert answer["infcode"] == 0, answer["err_msg"]
    mdtrt_id = answer["output"]["data"]["mdtrt_id"]
    line = fee_line("1", mdtrt_id, p.psn_no, CONSULT_A, "10.00")
    line.update(det_item_fee_sumamt="10.00", cnt="1", pric="10.00", unknown_field={"x": 1})
    await his.ok("2204", {"feedetail": [line]})
    pre = await his.ok("2206", settle_input(p, mdtrt_id, "10.00"))
    data = settle_input(p, mdtrt_id, "10.00", **{k: str(v) for k, v in echo(pre).items()})
    data["data"]["medfee_sumamt"] = "10.00"
    assert (await his.call("2207", data))["infcode"] == 0


BAD_ENVELOPES = [
    (b"{not json", "JSON"),
    (b"[1, 2]", "JSON对象"),
    (jsonx.dumps({"msgid": "X", "fixmedins_code": HOSP, "input": {}}), "infno"),
    (jsonx.dumps({"infno": "1101", "fixmedins_code": HOSP, "input": {}}), "msgid"),
    (jsonx.dumps({"infno": "1101", "msgid": "M" * 31, "fixmedins_code": HOSP}), "msgid"),
    (jsonx.dumps({"infno": "9999", "msgid": "M1", "fixmedins_code": HOSP, "input": {}}), "9999"),
    (jsonx.dumps({"infno": "1101", "msgid": "M1", "fixmedins_code": HOSP, "input": "{x"}), "input"),
    (jsonx.dumps({"infno": "1101", "msgid": "M1", "fixmedins_code": HOSP, "input": [1]}), "input"),
    (b"\xff\xfe", "JSON"),
    (b"[" * 1000 + b"]" * 1000, "嵌套过深"),
    (b'{"infno": "1101", "infno": "2207", "msgid": "M1"}', "infno: 重复的键"),
    (b'{"infno": "1101", "msgid": "M1", "input": {"data": {"psn_no": "\\ud800"}}}', "psn_no"),
    (b'{"infno": "1101", "msgid": "M1", "input": {"data": {"psn_no": "\xed\xa0\x80"}}}', "UTF-8"),
    (b'{"infno": "1101", "msgid": NaN}', "NaN"),
    (
        jsonx.dumps(
            {"infno": "1101", "msgid": "M1", "fixmedins_code": HOSP, "input": '{"a":1,"a":2}'}
        ),
        "a: 重复的键",
    ),
]


@pytest.mark.parametrize(("body", "named"), BAD_ENVELOPES)
async def test_bad_envelopes(world: dict[str, Any], body: bytes, named: str) -> None:
    before = _counts(world["platform"])
    answer = await world["his"].post(body)
    assert answer["infcode"] == -1
    assert named in answer["err_msg"]
    assert answer["output"] is None
    assert _counts(world["platform"]) == before


async def test_credentials(world: dict[str, Any]) -> None:
    his, his2 = world["his"], world["his2"]
    body = {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": world["people"]["emp"].certno}}
    wrong_key = {**his.headers(), "x-yibao-key": "guess"}
    answer = await his.call("1101", body, headers=wrong_key)
    assert answer["infcode"] == -1 and "凭证" in answer["err_msg"]
    answer = await his.call("1101", body, headers={"content-type": "application/json"})
    assert answer["infcode"] == -1 and "x-tif-paasid" in answer["err_msg"]
    # a valid credential of another institution cannot act as this one
    impostor = His(his.client, HOSP, his2.paasid, his2.secret)
    answer = await impostor.call("1101", body)
    assert answer["infcode"] == -1 and "fixmedins_code" in answer["err_msg"]


async def test_field_errors_name_the_field(world: dict[str, Any]) -> None:
    his, platform = world["his"], world["platform"]
    p = world["people"]["emp"]
    mdtrt_id = (await his.ok("2201", register_input(p)))["data"]["mdtrt_id"]
    before = _counts(platform)
    line = fee_line("1", mdtrt_id, p.psn_no, CONSULT_A, "10.00")
    cases = [
        ("2204", {"feedetail": [{**line, "fee_ocur_time": None}]}, "feedetail[0].fee_ocur_time"),
        (
            "2204",
            {"feedetail": [{**line, "fee_ocur_time": "20240101"}]},
            "feedetail[0].fee_ocur_time",
        ),
        ("2204", {"feedetail": [{**line, "cnt": "abc"}]}, "feedetail[0].cnt"),
        (
            "2204",
            {"feedetail": [{**line, "det_item_fee_sumamt": Decimal("10.001")}]},
            "det_item_fee_sumamt",
        ),
        (
            "2204",
            {"feedetail": [{**line, "det_item_fee_sumamt": Decimal("1E+20")}]},
            "det_item_fee_sumamt",
        ),
        ("2204", {"feedetail": [{**line, "det_item_fee_sumamt": True}]}, "det_item_fee_sumamt"),
        ("2204", {"feedetail": [{**line, "det_item_fee_sumamt": "9.00"}]}, "det_item_fee_sumamt"),
        ("2204", {"feedetail": [line, line]}, "feedetail[1].feedetl_sn"),
        ("2204", {"feedetail": []}, "input.feedetail"),
        ("2204", {"feedetail": [{**line, "psn_no": "P0002"}]}, "psn_no"),
        ("2204", {"feedetail": [{**line, "hosp_appr_flag": "7"}]}, "feedetail[0].hosp_appr_flag"),
        (
            "2201",
            {"data": {**register_input(p)["data"], "mdtrt_cert_type": "09"}},
            "data.mdtrt_cert_type",
        ),
        ("2201", {"data": {**register_input(p)["data"], "insutype": "390"}}, "data.insutype"),
        ("2201", {"data": {**register_input(p)["data"], "psn_no": "NOBODY"}}, "data.psn_no"),
        ("2206", settle_input(p, mdtrt_id, "10.00"), "data.chrg_bchno"),  # nothing uploaded
        ("2207", settle_input(p, mdtrt_id, "-1.00"), "data.medfee_sumamt"),
        (
            "2207",
            {"data": {**settle_input(p, mdtrt_id, "1.00")["data"], "acct_used_flag": None}},
            "data.acct_used_flag",
        ),
        ("2208", {"data": {"setl_id": "1", "mdtrt_id": mdtrt_id}}, "data.psn_no"),
        (
            "2208",
            {"data": {"setl_id": "404", "mdtrt_id": mdtrt_id, "psn_no": p.psn_no}},
            "data.setl_id",
        ),
        ("1101", {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": "000"}}, "data.mdtrt_cert_no"),
        ("1101", {}, "input.data"),
    ]
    for infno, body, named in cases:
        answer = await his.call(infno, body)
        assert answer["infcode"] == -1, (infno, named)
        assert named in answer["err_msg"], (named, answer["err_msg"])
    assert _counts(platform) == before
    wrong_region = await his.call("2201", register_input(p), insuplc_admdvs="120199")
    assert wrong_region["infcode"] == -1 and "insuplc_admdvs" in wrong_region["err_msg"]


async def test_another_institutions_visit_and_settlement(world: dict[str, Any]) -> None:
    his, his2 = world["his"], world["his2"]
    p = world["people"]["emp"]
    mdtrt_id = (await his.ok("2201", register_input(p)))["data"]["mdtrt_id"]
    await his.ok("2204", {"feedetail": [fee_line("1", mdtrt_id, p.psn_no, CONSULT_A, "10.00")]})
    pre = await his.ok("2206", settle_input(p, mdtrt_id, "10.00"))
    done = await his.ok("2207", settle_input(p, mdtrt_id, "10.00", **echo(pre)))
    other = await his2.call(
        "2204", {"feedetail": [fee_line("2", mdtrt_id, p.psn_no, CONSULT_A, "1.00")]}
    )
    assert other["infcode"] == -1 and "不属于本机构" in other["err_msg"]
    other = await his2.call("2206", settle_input(p, mdtrt_id, "10.00"))
    assert other["infcode"] == -1 and "data.mdtrt_id" in other["err_msg"]
    ids = {"setl_id": done["setlinfo"]["setl_id"], "mdtrt_id": mdtrt_id, "psn_no": p.psn_no}
    other = await his2.call("2208", {"data": ids})
    assert other["infcode"] == -1 and "data.setl_id" in other["err_msg"]
    other = await his2.call("5203", {"data": ids})
    assert other["infcode"] == -1
    mine = await his.ok("5203", {"data": ids})
    assert mine["setlinfo"]["setl_id"] == ids["setl_id"]
    lines = await his.ok("5204", {"data": ids})
    assert [r["feedetl_sn"] for r in lines] == ["1"]
    visits = await his.ok("5201", {"data": {"psn_no": p.psn_no}})
    assert [v["mdtrt_id"] for v in visits["mdtrtinfo"]] == [mdtrt_id]
    assert (await his2.ok("5201", {"data": {"psn_no": p.psn_no}}))["mdtrtinfo"] == []


async def test_unexpected_error_is_an_envelope(world: dict[str, Any], monkeypatch: Any) -> None:
    from yibao.settlement import insured

    def boom(*_args: Any) -> Any:
        raise RuntimeError("bug")

    monkeypatch.setattr(insured, "find_person", boom)
    answer = await world["his"].call(
        "1101", {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": "1"}}
    )
    assert answer["infcode"] == -1 and "系统内部错误" in answer["err_msg"]


async def test_a_pipeline_that_raises_is_still_an_envelope(
    world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(world["app"].state.nhsa_gateway.pipeline, "handle", broken)
    answer = await world["his"].post(b"{}")  # asserts HTTP 200
    assert answer["infcode"] == -1 and "系统内部错误" in answer["err_msg"]
