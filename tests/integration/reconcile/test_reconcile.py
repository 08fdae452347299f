"""3201 / 3202 / 9101 / 9102, called directly with a Connection and a CallContext, on the
migrated schema (SQLite, and MariaDB under the `mysql` marker)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from reconcile_factories import NOW, T0, add_setl, ctx, detail_zip, read_result, seed_base
from sqlalchemy import Connection, Engine, func, select

from yibao.errors import Conflict, Forbidden, InvalidInput, NotFound
from yibao.interface import registry
from yibao.interface.transactions.files import download_file, upload_file
from yibao.interface.transactions.reconcile import reconcile_detail, reconcile_totals
from yibao.settlement import reconcile
from yibao.storage.tables import file_store
from yibao.storage.uow import UnitOfWork


@pytest.fixture
def conn(engine: Engine) -> Iterator[Connection]:
    """One transaction per test, rolled back: the handlers never commit."""
    with UnitOfWork(engine) as uow:
        seed_base(uow.conn)
        yield uow.conn


def totals_input(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "insutype": "310",
        "clr_type": "11",
        "setl_optins": "110199",
        "stmt_begndate": "2024-03-01",
        "stmt_enddate": "2024-03-31",
        "medfee_sumamt": "150.00",
        "fund_pay_sumamt": "90.00",
        "acct_pay": "30.00",
        "fixmedins_setl_cnt": 2,
    }
    data.update(overrides)
    return {"data": data}


def seed_two(conn: Connection) -> None:
    add_setl(conn, "S0001", medfee="100.00", fund="60.00", acct="20.00")
    add_setl(
        conn,
        "S0002",
        medfee="50.00",
        fund="30.00",
        acct="10.00",
        when=datetime(2024, 3, 31, 23, 59, 59),
    )
    # Outside the statement: another month, another institution, insutype, clr_type, region.
    add_setl(
        conn, "S0003", medfee="7.00", fund="1.00", acct="1.00", when=datetime(2024, 4, 1, 0, 0, 0)
    )
    add_setl(conn, "S0004", medfee="7.00", fund="1.00", acct="1.00", fixmedins_code="H11010200002")
    add_setl(conn, "S0005", medfee="7.00", fund="1.00", acct="1.00", insutype="390")
    add_setl(conn, "S0006", medfee="7.00", fund="1.00", acct="1.00", clr_type="21")
    add_setl(conn, "S0007", medfee="7.00", fund="1.00", acct="1.00", clr_optins="110100")


def test_handlers_are_registered() -> None:
    for infno, writes, binary in [
        ("3201", False, False),
        ("3202", True, False),
        ("9101", True, False),
        ("9102", False, True),
    ]:
        found = registry.lookup(infno)
        assert found is not None, infno
        assert (found.writes, found.binary) == (writes, binary)


def test_3201_balanced(conn: Connection) -> None:
    seed_two(conn)
    out = reconcile_totals(conn, ctx("3201"), totals_input())
    info = out["stmtinfo"]
    assert info["setl_optins"] == "110199"
    assert info["stmt_rslt"] == "0", info
    assert "平" in info["stmt_rslt_dscr"] and "2笔" in info["stmt_rslt_dscr"]


def test_3201_unbalanced_says_which_figure_and_by_how_much(conn: Connection) -> None:
    seed_two(conn)
    out = reconcile_totals(
        conn, ctx("3201"), totals_input(medfee_sumamt="160.50", fixmedins_setl_cnt="3")
    )
    info = out["stmtinfo"]
    assert info["stmt_rslt"] == "1"
    text = info["stmt_rslt_dscr"]
    assert "医疗费总额: 医院160.50 中心150.00 差10.50" in text
    assert "结算笔数: 医院3 中心2 差1" in text
    assert "基金支付" not in text and "个人账户" not in text
    assert len(text) <= 200


def seed_with_reversals(conn: Connection) -> None:
    add_setl(conn, "S0001", medfee="100.00", fund="60.00", acct="20.00", vali_flag="0")
    add_setl(
        conn,
        "R0001",
        medfee="-100.00",
        fund="-60.00",
        acct="-20.00",
        refd_setl_flag="1",
        init_setl_id="S0001",
        when=datetime(2024, 3, 2, 9, 0, 0),
    )
    add_setl(conn, "S0002", medfee="50.00", fund="30.00", acct="10.00")
    # Erased by 2601 冲正 (no reversal record): counted in neither mode.
    add_setl(conn, "S0003", medfee="9.00", fund="9.00", acct="0.00", vali_flag="0")


def test_3201_with_reversals_included_counts_them_as_negative_rows(conn: Connection) -> None:
    seed_with_reversals(conn)
    for flag in ("1", "", None):
        data = totals_input(
            medfee_sumamt="50.00", fund_pay_sumamt="30.00", acct_pay="10.00", fixmedins_setl_cnt=3
        )
        if flag is None:
            del data["data"]["fixmedins_setl_cnt"]
            data["data"]["fixmedins_setl_cnt"] = "3"
        else:
            data["data"]["refd_setl_flag"] = flag
        out = reconcile_totals(conn, ctx("3201"), data)
        assert out["stmtinfo"]["stmt_rslt"] == "0", (flag, out)
    assert (
        reconcile.totals(
            conn,
            reconcile.Scope(
                "H11010200001", "110199", T0.date(), T0.date().replace(day=31), True, "310", "11"
            ),
        )["fixmedins_setl_cnt"]
        == 3
    )


def test_3201_with_reversals_excluded_leaves_out_reversals_and_their_originals(
    conn: Connection,
) -> None:
    seed_with_reversals(conn)
    data = totals_input(
        medfee_sumamt="50.00",
        fund_pay_sumamt="30.00",
        acct_pay="10.00",
        fixmedins_setl_cnt=1,
        refd_setl_flag="0",
    )
    assert reconcile_totals(conn, ctx("3201"), data)["stmtinfo"]["stmt_rslt"] == "0"
    # The same figures with reversals included: the count differs (3 rows).
    data["data"]["refd_setl_flag"] = "1"
    out = reconcile_totals(conn, ctx("3201"), data)["stmtinfo"]
    assert out["stmt_rslt"] == "1" and "结算笔数: 医院1 中心3" in out["stmt_rslt_dscr"]


@pytest.mark.parametrize(
    "change,field",
    [
        ({"refd_setl_flag": "2"}, "data.refd_setl_flag"),
        ({"setl_optins": "11"}, "data.setl_optins"),
        ({"stmt_enddate": "2024-02-01"}, "data.stmt_enddate"),
        ({"stmt_begndate": "2024/03/01"}, "data.stmt_begndate"),
        ({"medfee_sumamt": "1.005"}, "data.medfee_sumamt"),
        ({"fixmedins_setl_cnt": "two"}, "data.fixmedins_setl_cnt"),
        ({"insutype": None}, "data.insutype"),
    ],
)
def test_3201_bad_input_names_the_field(
    conn: Connection, change: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInput) as err:
        reconcile_totals(conn, ctx("3201"), totals_input(**change))
    assert err.value.message.startswith(field), err.value.message


def test_9101_upload_bytes_or_base64_and_9102_download(conn: Connection) -> None:
    content = b"PK\x03\x04 any bytes \xff\x00"
    out = upload_file(
        conn,
        ctx("9101"),
        {
            "fsUploadIn": {
                "in": list(content),
                "filename": "C:\\tmp\\mine.zip",
                "fixmedins_code": "H11010200001",
            }
        },
    )
    assert out["filename"] == "mine.zip"
    assert out["dld_endtime"] == "2024-04-03 10:00:00"
    got = download_file(
        conn,
        ctx("9102"),
        {
            "fsDownloadIn": {
                "file_qury_no": out["file_qury_no"],
                "filename": "mine.zip",
                "fixmedins_code": "H11010200001",
            }
        },
    )
    assert got == {"filename": "mine.zip", "content": content}

    out2 = upload_file(
        conn,
        ctx("9101"),
        {
            "fsUploadIn": {
                "in": base64.b64encode(content).decode(),
                "filename": "b.zip",
                "fixmedins_code": "H11010200001",
            }
        },
    )
    assert out2["file_qury_no"] != out["file_qury_no"]
    stored = conn.execute(
        select(file_store.c.content).where(file_store.c.file_qury_no == out2["file_qury_no"])
    ).scalar_one()
    assert bytes(stored) == content


@pytest.mark.parametrize(
    "payload,error,field",
    [
        ({"in": [1, 2, 300], "filename": "a.zip"}, InvalidInput, "fsUploadIn.in"),
        ({"in": "not base64!!", "filename": "a.zip"}, InvalidInput, "fsUploadIn.in"),
        ({"in": [], "filename": "a.zip"}, InvalidInput, "fsUploadIn.in"),
        ({"filename": "a.zip"}, InvalidInput, "fsUploadIn.in"),
        ({"in": [1], "filename": "../"}, InvalidInput, "fsUploadIn.filename"),
        (
            {"in": [1], "filename": "a.zip", "fixmedins_code": "H11010200002"},
            Forbidden,
            "fsUploadIn.fixmedins_code",
        ),
    ],
)
def test_9101_refusals_write_nothing(
    conn: Connection, payload: dict[str, Any], error: type[Exception], field: str
) -> None:
    body = {"fixmedins_code": "H11010200001", **payload}
    with pytest.raises(error) as err:
        upload_file(conn, ctx("9101"), {"fsUploadIn": body})
    assert err.value.message.startswith(field), err.value.message  # type: ignore[attr-defined]
    assert conn.execute(select(func.count()).select_from(file_store)).scalar_one() == 0


def _upload(conn: Connection, content: bytes, code: str = "H11010200001") -> str:
    out = upload_file(
        conn,
        ctx("9101", code),
        {"fsUploadIn": {"in": list(content), "filename": "d.zip", "fixmedins_code": code}},
    )
    return str(out["file_qury_no"])


def test_9102_refuses_another_institutions_file_unknown_and_expired(conn: Connection) -> None:
    number = _upload(conn, b"abc")
    other = {
        "fsDownloadIn": {
            "file_qury_no": number,
            "filename": "d.zip",
            "fixmedins_code": "H11010200002",
        }
    }
    with pytest.raises(Forbidden):
        download_file(conn, ctx("9102", "H11010200002"), other)
    # Naming someone else in fixmedins_code is refused too.
    with pytest.raises(Forbidden):
        download_file(conn, ctx("9102"), other)
    with pytest.raises(NotFound):
        download_file(
            conn,
            ctx("9102"),
            {
                "fsDownloadIn": {
                    "file_qury_no": "404",
                    "filename": "d.zip",
                    "fixmedins_code": "H11010200001",
                }
            },
        )
    with pytest.raises(InvalidInput):
        download_file(
            conn,
            ctx("9102"),
            {
                "fsDownloadIn": {
                    "file_qury_no": number,
                    "filename": "other.zip",
                    "fixmedins_code": "H11010200001",
                }
            },
        )
    with pytest.raises(Conflict):
        download_file(
            conn,
            ctx("9102", now=datetime(2024, 4, 3, 10, 0, 1)),
            {
                "fsDownloadIn": {
                    "file_qury_no": number,
                    "filename": "d.zip",
                    "fixmedins_code": "H11010200001",
                }
            },
        )


def detail_input(number: str, **overrides: Any) -> dict[str, Any]:
    data = {
        "setl_optins": "110199",
        "file_qury_no": number,
        "stmt_begndate": "2024-03-01",
        "stmt_enddate": "2024-03-31",
        "medfee_sumamt": "0",
        "fund_pay_sumamt": "0",
        "cash_payamt": "0",
        "fixmedins_setl_cnt": 0,
    }
    data.update(overrides)
    return {"data": data}


def test_3202_detail_finds_centre_extra_hospital_extra_and_amount_mismatch(
    conn: Connection,
) -> None:
    add_setl(conn, "S0001", medfee="100.00", fund="60.00", acct="20.00")
    add_setl(
        conn,
        "S0002",
        medfee="50.00",
        fund="30.00",
        acct="10.00",
        when=datetime(2024, 3, 5, 9, 0, 0),
    )
    add_setl(
        conn, "S0003", medfee="70.00", fund="40.00", acct="0.00", when=datetime(2024, 3, 6, 9, 0, 0)
    )
    add_setl(conn, "S0009", medfee="1.00", fund="0.00", acct="0.00", fixmedins_code="H11010200002")
    number = _upload(
        conn,
        detail_zip(
            [
                ("S0001", "MS0001", "P1", "100.00", "60.00", "20.00", "0"),
                ("S0002", "MS0002", "P1", "50.00", "31.00", "10.00", "0"),
                ("S0004", "MX", "P1", "12.00", "0.00", "0.00", ""),
                # Another institution's settlement is not ours to show: 医院多.
                ("S0009", "MS0009", "P1", "1.00", "0.00", "0.00", "0"),
            ]
        ),
    )
    out = reconcile_detail(conn, ctx("3202"), detail_input(number))
    info = out["fileinfo"]
    assert info["filename"].endswith(".zip") and info["dld_endtime"] == "2024-04-03 10:00:00"
    got = download_file(
        conn,
        ctx("9102"),
        {
            "fsDownloadIn": {
                "file_qury_no": info["file_qury_no"],
                "filename": info["filename"],
                "fixmedins_code": "H11010200001",
            }
        },
    )
    rows = {r["setl_id"]: r for r in read_result(got["content"])}
    assert list(rows) == ["S0001", "S0002", "S0004", "S0009", "S0003"]
    assert rows["S0001"]["stmt_rslt"] == "0" and rows["S0001"]["memo"] == ""
    assert rows["S0001"]["msgid"].startswith("H11010200001")
    assert rows["S0002"]["stmt_rslt"] == "1"
    assert (
        rows["S0002"]["memo"].startswith("金额不符")
        and "fund_pay_sumamt 医院31.00 中心30.00" in rows["S0002"]["memo"]
    )
    assert rows["S0002"]["fund_pay_sumamt"] == "30.00"  # the centre's figure
    assert rows["S0004"]["memo"].startswith("医院多") and rows["S0004"]["medfee_sumamt"] == "12.00"
    assert rows["S0004"]["msgid"] == "" and rows["S0004"]["refd_setl_flag"] == "0"
    assert rows["S0009"]["memo"].startswith("医院多")
    assert rows["S0003"]["memo"] == "中心多" and rows["S0003"]["medfee_sumamt"] == "70.00"
    assert rows["S0003"]["psn_no"] == "P1" and rows["S0003"]["mdtrt_id"] == "MS0003"


def test_3202_reversals_follow_refd_setl_flag(conn: Connection) -> None:
    seed_with_reversals(conn)
    content = detail_zip([("S0002", "MS0002", "P1", "50.00", "30.00", "10.00", "0")], header=False)
    excluded = reconcile_detail(
        conn, ctx("3202"), detail_input(_upload(conn, content), refd_setl_flag="0")
    )
    included = reconcile_detail(conn, ctx("3202"), detail_input(_upload(conn, content)))

    def result(out: dict[str, Any]) -> list[dict[str, str]]:
        info = out["fileinfo"]
        got = download_file(
            conn,
            ctx("9102"),
            {
                "fsDownloadIn": {
                    "file_qury_no": info["file_qury_no"],
                    "fixmedins_code": "H11010200001",
                }
            },
        )
        return read_result(got["content"])

    assert [(r["setl_id"], r["stmt_rslt"]) for r in result(excluded)] == [("S0002", "0")]
    rows = result(included)
    assert [(r["setl_id"], r["memo"]) for r in rows] == [
        ("S0002", ""),
        ("S0001", "中心多"),
        ("R0001", "中心多"),
    ]
    assert rows[2]["medfee_sumamt"] == "-100.00" and rows[2]["refd_setl_flag"] == "1"


def test_3202_refuses_another_institutions_upload(conn: Connection) -> None:
    number = _upload(conn, detail_zip([]), code="H11010200002")
    with pytest.raises(Forbidden) as err:
        reconcile_detail(conn, ctx("3202"), detail_input(number))
    assert err.value.message.startswith("data.file_qury_no")


@pytest.mark.parametrize(
    "content,needle",
    [
        (b"not a zip", "不是 zip"),
        (detail_zip([("S1", "M1", "P1", "1.00", "0.00")]), "第2行"),
        (detail_zip([("S1", "M1", "P1", "1.001", "0.00", "0.00", "0")]), "第2行 medfee_sumamt"),
        (detail_zip([("S1", "M1", "P1", "1.00", "0.00", "0.00", "7")]), "refd_setl_flag"),
        (detail_zip([("S1", "M1", "P1", "1", "0", "0", "0")] * 2), "重复"),
    ],
)
def test_3202_bad_files_are_refused_with_the_line(
    conn: Connection, content: bytes, needle: str
) -> None:
    number = _upload(conn, content)
    with pytest.raises(InvalidInput) as err:
        reconcile_detail(conn, ctx("3202"), detail_input(number))
    assert needle in err.value.message, err.value.message
    # Only the upload is stored; no result file.
    assert conn.execute(select(func.count()).select_from(file_store)).scalar_one() == 1


def test_now_is_after_the_seed() -> None:
    assert NOW > T0
