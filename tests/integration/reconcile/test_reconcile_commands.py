"""The reconciliation, file and query transactions' input → typed command parsing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from yibao.errors import InvalidInput
from yibao.interface.transactions.files import parse_download, parse_upload
from yibao.interface.transactions.queries import parse_settlement_query, parse_visit_query
from yibao.interface.transactions.reconcile import parse_detail_statement, parse_totals
from yibao.settlement.commands_queries import SettlementQuery


def _period(**extra: object) -> dict[str, object]:
    return {
        "setl_optins": "110199",
        "stmt_begndate": "2024-03-01",
        "stmt_enddate": "2024-03-31",
        **extra,
    }


def test_totals_statement() -> None:
    cmd = parse_totals(
        {
            "data": _period(
                insutype="310",
                clr_type="11",
                medfee_sumamt="50.00",
                fund_pay_sumamt="30",
                acct_pay="-1.50",
                fixmedins_setl_cnt="3",
                refd_setl_flag="0",
            )
        }
    )
    assert cmd.period.stmt_enddate == date(2024, 3, 31) and not cmd.period.include_reversals
    assert (cmd.medfee_sumamt, cmd.acct_pay, cmd.fixmedins_setl_cnt) == (
        Decimal("50.00"),
        Decimal("-1.50"),
        3,
    )
    with pytest.raises(InvalidInput, match=r"data\.stmt_enddate: 对账结束日期早于开始日期"):
        parse_totals({"data": _period(insutype="310", clr_type="11", stmt_enddate="2024-02-01")})


def test_detail_statement_reversals_included_by_default() -> None:
    cmd = parse_detail_statement({"data": _period(file_qury_no="F1")})
    assert cmd.file_qury_no == "F1" and cmd.period.include_reversals
    assert cmd.period.insutype is None and cmd.period.clr_type is None


def test_file_commands() -> None:
    up = parse_upload(
        {"fsUploadIn": {"fixmedins_code": "H1", "filename": "x/../d.zip", "in": [1, 2]}}
    )
    assert (up.filename, up.content) == ("d.zip", b"\x01\x02")
    down = parse_download({"fsDownloadIn": {"fixmedins_code": "H1", "file_qury_no": "9"}})
    assert down.filename is None and down.file_qury_no == "9"


def test_query_commands() -> None:
    assert parse_settlement_query({"data": {"psn_no": "P1", "setl_id": "S1"}}) == (
        SettlementQuery("P1", "S1", None)
    )
    q = parse_visit_query({"data": {"psn_no": "P1", "med_type": "11"}})
    assert q.med_type == "11" and q.begntime is None
