"""The settlement handlers' input readers: an `input` node becomes a typed command once, and
a refusal names the node, the index and the field."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from yibao.codes.dicts import HospApprFlag
from yibao.errors import InvalidInput
from yibao.interface.transactions.readers import read_diagnoses, read_fee_lines, read_settle
from yibao.settlement.commands import FeeLine, Settle

LINE = {
    "feedetl_sn": "1",
    "mdtrt_id": "M1",
    "psn_no": "P1",
    "chrg_bchno": "CB1",
    "fee_ocur_time": "2026-11-25 09:30:00",
    "med_list_codg": "002501010150200",
    "det_item_fee_sumamt": Decimal("12.50"),
    "cnt": Decimal("1"),
    "pric": Decimal("12.50"),
}


def test_a_fee_line_is_read_into_a_command() -> None:
    (line,) = read_fee_lines([LINE], "feedetail", require_batch=True)
    assert isinstance(line, FeeLine)
    assert (line.index, line.feedetl_sn, line.mdtrt_id, line.chrg_bchno) == (0, "1", "M1", "CB1")
    assert line.det_item_fee_sumamt == Decimal("12.50") and line.cnt == Decimal("1.0000")
    assert line.hosp_appr_flag is HospApprFlag.NOT_REQUIRED
    assert line.values["prd_days"] is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"det_item_fee_sumamt": Decimal("13.00")}, r"^feedetail\[1\]\.det_item_fee_sumamt: "),
        ({"det_item_fee_sumamt": Decimal("-1.00")}, r"^feedetail\[1\]\.det_item_fee_sumamt: "),
        ({"feedetl_sn": "1"}, r"^feedetail\[1\]\.feedetl_sn: 明细流水号重复 '1'"),
        ({"chrg_bchno": None}, r"^feedetail\[1\]\.chrg_bchno: 必填 \(required\)$"),
    ],
)
def test_a_refusal_names_the_line_and_the_field(change: dict[str, Any], message: str) -> None:
    second = {**LINE, "feedetl_sn": "2", **change}
    with pytest.raises(InvalidInput, match=message):
        read_fee_lines([LINE, second], "feedetail", require_batch=True)


def test_a_refund_line_must_name_the_line_it_refunds() -> None:
    refund = {**LINE, "det_item_fee_sumamt": Decimal("-12.50"), "cnt": Decimal("-1")}
    with pytest.raises(InvalidInput, match=r"^feedetail\[0\]\.init_feedetl_sn: "):
        read_fee_lines([refund], "feedetail", refunds=True)
    (line,) = read_fee_lines([{**refund, "init_feedetl_sn": "0"}], "feedetail", refunds=True)
    assert line.init_feedetl_sn == "0"


def test_diagnoses_number_one_is_the_main_one_and_numbers_are_unique() -> None:
    diag = {"diag_srt_no": "1", "diag_type": "1", "diag_code": "J06.9", "diag_name": "感冒"}
    (main,) = read_diagnoses({"diseinfo": [diag]}, "diseinfo", required=False)
    assert (main.diag_srt_no, main.maindiag_flag) == (1, "1")
    with pytest.raises(InvalidInput, match=r"^diseinfo\.diag_srt_no: 诊断排序号重复"):
        read_diagnoses({"diseinfo": [diag, diag]}, "diseinfo", required=False)
    assert read_diagnoses({}, "diseinfo", required=False) == ()


def test_a_pre_settlement_reads_no_echoed_totals_a_settlement_does() -> None:
    data = {
        "psn_no": "P1",
        "mdtrt_id": "M1",
        "medfee_sumamt": Decimal("12.50"),
        "insutype": "310",
        "acct_used_flag": "1",
        "chrg_bchno": "0000",
        "fulamt_ownpay_amt": "not a number",
    }
    pre = read_settle({"data": data}, outpatient=True, final=False)
    assert isinstance(pre, Settle) and pre.fulamt_ownpay_amt is None
    assert pre.acct_used_flag is True and pre.med_type is None and pre.chrg_bchno == "0000"
    with pytest.raises(InvalidInput, match=r"^data\.fulamt_ownpay_amt"):
        read_settle({"data": data}, outpatient=True, final=True)
    inpatient = read_settle({"data": {**data, "mid_setl_flag": "1"}}, outpatient=False, final=False)
    assert inpatient.mid_setl_flag is True and inpatient.chrg_bchno is None
