"""The pure rules of the self-pay upload (4261): the visit total, the line check, and the
camelCase names public client code sends."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yibao.errors import InvalidInput
from yibao.interface.transactions.selfpay import parse_upload, snake
from yibao.kit.money import round_fen
from yibao.settlement.commands_selfpay import SelfpayFee, SelfpayUpload, SelfpayVisit
from yibao.settlement.selfpay import visit_total

AT = datetime(2026, 12, 1, 9, 0, 0)


def _fee(sn: str, cnt: str, pric: str, amount: str) -> SelfpayFee:
    return SelfpayFee(
        bkkp_sn=sn,
        fee_ocur_time=AT,
        med_list_codg=None,
        medins_list_codg="H1",
        medins_list_name=None,
        med_chrgitm_type=None,
        prodname=None,
        cnt=Decimal(cnt),
        pric=Decimal(pric),
        det_item_fee_sumamt=Decimal(amount),
        bilg_dept_codg=None,
        bilg_dept_name=None,
        bilg_dr_codg=None,
        bilg_dr_name=None,
    )


def _upload(*fees: SelfpayFee, stated: str | None = None) -> SelfpayUpload:
    visit = SelfpayVisit(
        mdtrt_id="V1",
        psn_name="张三",
        psn_cert_type=None,
        certno=None,
        gend=None,
        brdy=None,
        med_type="11",
        ipt_otp_no=None,
        begntime=AT,
        endtime=None,
        dise_no=None,
        dise_name=None,
        chfpdr_code=None,
        chfpdr_name=None,
        medfee_sumamt=Decimal(stated) if stated is not None else None,
    )
    return SelfpayUpload(visit=visit, diagnoses=(), fees=fees, up_type=None)


def test_snake_names() -> None:
    assert snake("detItemFeeSumamt") == "det_item_fee_sumamt"
    assert snake("mdtrtId") == "mdtrt_id"
    assert snake("fixmedinsCode") == "fixmedins_code"
    assert snake("det_item_fee_sumamt") == "det_item_fee_sumamt"
    assert snake("certno") == "certno"


def test_total_is_the_exact_sum_of_the_lines() -> None:
    fees = (_fee("1", "3", "0.1", "0.30"), _fee("2", "1", "0.2", "0.20"))
    assert visit_total(_upload(*fees)) == Decimal("0.50")
    assert visit_total(_upload(*fees, stated="0.50")) == Decimal("0.50")
    with pytest.raises(InvalidInput, match=r"fmiOwnpayPatnMdtrtDDTO\.medfee_sumamt"):
        visit_total(_upload(*fees, stated="0.51"))


def test_line_must_agree_with_count_times_price_within_a_fen() -> None:
    # a unit price rounded by the HIS: 3 × 3.333 = 9.999 → 10.00, within a fen of 10.00
    assert visit_total(_upload(_fee("1", "3", "3.333", "10.00"))) == Decimal("10.00")
    with pytest.raises(InvalidInput, match=r"\[0\]\.det_item_fee_sumamt"):
        visit_total(_upload(_fee("1", "2", "5", "9.00")))


def test_parse_refuses_a_second_main_diagnosis() -> None:
    diag = {"diagCode": "J00", "diagName": "x", "maindiagFlag": "1"}
    body = {
        "fmiOwnpayPatnMdtrtDDTO": {
            "mdtrtId": "V1",
            "psnName": "张三",
            "medType": "11",
            "begntime": "2026-12-01",
        },
        "fmiOwnpayPatnDiseListDDTOS": [{**diag, "diagSrtNo": 0}, {**diag, "diagSrtNo": 1}],
        "fmiOwnpayPatnFeeListDDTO": [
            {
                "bkkpSn": "1",
                "feeOcurTime": "2026-12-01 09:00:00",
                "medinsListCodg": "H1",
                "cnt": 1,
                "pric": "1",
                "detItemFeeSumamt": "1",
            }
        ],
    }
    with pytest.raises(InvalidInput, match=r"fmiOwnpayPatnDiseListDDTOS\[1\]\.maindiag_flag"):
        parse_upload(body, fixmedins_code="H1")


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(min_value=1, max_value=999_999),  # cnt in 1/10000
            st.integers(min_value=0, max_value=9_999_999),  # pric in 1/1000000
        ),
        min_size=1,
        max_size=30,
    )
)
def test_total_adds_back_exactly(lines: list[tuple[int, int]]) -> None:
    """Whatever the lines, the visit total is the exact sum of their fen amounts."""
    fees = []
    for i, (cnt_units, pric_units) in enumerate(lines):
        cnt = Decimal(cnt_units).scaleb(-4)
        pric = Decimal(pric_units).scaleb(-6)
        amount = round_fen(cnt * pric)
        fees.append(_fee(str(i), str(cnt), str(pric), str(amount)))
    total = visit_total(_upload(*fees))
    assert total == sum((f.det_item_fee_sumamt for f in fees), Decimal("0.00"))
    assert total == total.quantize(Decimal("0.01"))
    assert visit_total(_upload(*fees, stated=str(total))) == total
