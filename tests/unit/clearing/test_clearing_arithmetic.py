"""Clearing's pure rules: payment-order arithmetic worked by hand, months, the state graph."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from yibao.clearing import arithmetic as ar
from yibao.errors import Conflict, InvalidInput


def test_order_amounts_worked_by_hand() -> None:
    # 统筹 310100: settlements 12,345.67, an adjustment −100.00 (a reversal of a cleared month),
    # a deduction 245.67 → base 12,000.00; 5 % deposit = 600.00; due 11,400.00
    t = ar.FundTotals("310100", D("12345.67"), D("-100.00"), D("245.67"))
    a = ar.order_amounts(t, rate=D("0.05"), exempt=False)
    assert (a.deposit_amt, a.payable_amt) == (D("600.00"), D("11400.00"))
    # 5 % of 333.33 = 16.6665 → 16.67 (ROUND_HALF_UP, to the fen); due 316.66
    a = ar.order_amounts(ar.FundTotals("310100", D("333.33")), rate=D("0.05"), exempt=False)
    assert (a.deposit_amt, a.payable_amt) == (D("16.67"), D("316.66"))
    # the personal account withholds nothing
    a = ar.order_amounts(ar.FundTotals("310200", D("80.10")), rate=D("0.05"), exempt=True)
    assert (a.deposit_amt, a.payable_amt) == (D("0.00"), D("80.10"))
    # a fund that owes money back (adjustments larger than the month) withholds nothing
    a = ar.order_amounts(
        ar.FundTotals("390100", D("10.00"), D("-50.00")), rate=D("0.05"), exempt=False
    )
    assert (a.deposit_amt, a.payable_amt) == (D("0.00"), D("-40.00"))


def test_every_order_adds_up_to_the_fen() -> None:
    for cents in range(0, 100_000, 977):
        setl = D(cents) / 100
        t = ar.FundTotals("310100", setl, D("-1.01"), D("0.37"))
        a = ar.order_amounts(t, rate=D("0.05"), exempt=False)
        assert a.payable_amt + a.deposit_amt + a.deduct_amt == a.setl_amt + a.adjust_amt
        assert a.deposit_amt == a.deposit_amt.quantize(D("0.01"))


def test_fund_totals_and_settlement_funds() -> None:
    # a settlement: 统筹 70.00, 大额 5.00, personal account 20.00 (setldetail lists 310200 too)
    funds = ar.settlement_funds(
        fund_rows={"310100": D("70.00"), "330100": D("5.00"), "310200": D("20.00")},
        fund_pay_sumamt=D("75.00"),
        acct_pay=D("20.00"),
    )
    assert funds == {"310100": D("70.00"), "330100": D("5.00"), "310200": D("20.00")}
    # fund rows short of fund_pay_sumamt: the remainder is 其他基金, so the total still holds
    funds = ar.settlement_funds(
        fund_rows={"310100": D("70.00")}, fund_pay_sumamt=D("70.50"), acct_pay=D("0.00")
    )
    assert funds == {"310100": D("70.00"), "999997": D("0.50")}
    totals = ar.fund_totals(
        [("310100", False, D("70.00")), ("310100", True, D("-30.00")), ("310200", False, D("0"))],
        [("310100", D("1.00"))],
    )
    assert totals == [ar.FundTotals("310100", D("70.00"), D("-30.00"), D("1.00"))]


def test_months() -> None:
    assert ar.parse_setlym("202402") == (date(2024, 2, 1), date(2024, 2, 29))
    assert ar.parse_setlym("202312") == (date(2023, 12, 1), date(2023, 12, 31))
    assert ar.month_of(date(2026, 11, 30)) == "202611"
    for bad in ("2024-2", "202413", "20240", "abcdef"):
        with pytest.raises(InvalidInput, match="setlym"):
            ar.parse_setlym(bad)


def test_state_graph_names_both_states() -> None:
    ar.check_move("清算申请", ar.APPLICATION_MOVES, "submitted", "withdrawn")
    ar.check_move("清算申请", ar.APPLICATION_MOVES, "accepted", "approved")
    with pytest.raises(Conflict, match=r"accepted.*withdrawn"):
        ar.check_move("清算申请", ar.APPLICATION_MOVES, "accepted", "withdrawn")
    with pytest.raises(Conflict, match=r"submitted.*approved"):
        ar.check_move("清算申请", ar.APPLICATION_MOVES, "submitted", "approved")
    with pytest.raises(Conflict, match="paid"):
        ar.check_move("拨付单", ar.ORDER_MOVES, "paid", "paid")
