"""The pure arithmetic and state rules of clearing (清算), over plain data (no I/O).

- A payment order (拨付单) per fund: `base = setl_amt + adjust_amt − deduct_amt`;
  `deposit_amt = round_fen(base × rate)` when the fund withholds a deposit and `base > 0`
  (nothing is withheld from a fund that owes money back), else 0;
  `payable_amt = base − deposit_amt`. Every figure is exact to the fen, and
  Σ payable + Σ deposit + Σ deduct = Σ setl + Σ adjust over an application's orders.
- The states: an application `submitted → withdrawn | accepted`, `accepted → approved |
  rejected`; an order `issued → paid`; an order's deposit `held → released | forfeited`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from yibao.errors import Conflict, InvalidInput
from yibao.kit.money import ZERO, round_fen

#: application states and the states each may move to
APPLICATION_MOVES: Mapping[str, frozenset[str]] = {
    "submitted": frozenset({"withdrawn", "accepted"}),
    "accepted": frozenset({"approved", "rejected"}),
    "withdrawn": frozenset(),
    "approved": frozenset(),
    "rejected": frozenset(),
}
#: applications that hold their month (a month is cleared once)
LIVE = frozenset({"submitted", "accepted", "approved"})
ORDER_MOVES: Mapping[str, frozenset[str]] = {"issued": frozenset({"paid"}), "paid": frozenset()}
DEPOSIT_MOVES: Mapping[str, frozenset[str]] = {
    "held": frozenset({"released", "forfeited"}),
    "released": frozenset(),
    "forfeited": frozenset(),
}
LABELS = {
    "submitted": "已申请",
    "withdrawn": "已撤销",
    "accepted": "已受理",
    "approved": "已审核通过",
    "rejected": "已驳回",
    "issued": "已开具",
    "paid": "已拨付",
    "held": "暂扣",
    "released": "已返还",
    "forfeited": "已扣除",
}


def check_move(what: str, moves: Mapping[str, frozenset[str]], current: str, target: str) -> None:
    """Refuse a transition the state graph does not allow, naming both states."""
    if target not in moves.get(current, frozenset()):
        allowed = ", ".join(sorted(moves.get(current, frozenset()))) or "none"
        raise Conflict(
            f"{what}状态为 {LABELS.get(current, current)}({current}), 不能变为 "
            f"{LABELS.get(target, target)}({target}) ({what_en(what)} is '{current}'; it may "
            f"move to: {allowed})"
        )


def what_en(what: str) -> str:
    return {"清算申请": "the application", "拨付单": "the order", "质量保证金": "the deposit"}.get(
        what, what
    )


# ---------------------------------------------------------------------------------------------
# months
# ---------------------------------------------------------------------------------------------


def parse_setlym(value: str, *, field: str = "data.setlym") -> tuple[date, date]:
    """The first and last day of month `yyyyMM` (InvalidInput naming `field` otherwise)."""
    if len(value) != 6 or not value.isdigit() or not 1 <= int(value[4:]) <= 12:
        raise InvalidInput(f"{field}: 清算年月格式应为 yyyyMM (expected yyyyMM): '{value}'")
    first = date(int(value[:4]), int(value[4:]), 1)
    nxt = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    return first, nxt - timedelta(days=1)


def month_of(day: date) -> str:
    return f"{day.year:04d}{day.month:02d}"


# ---------------------------------------------------------------------------------------------
# payment orders
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FundTotals:
    """What one fund owes an institution for one application, before the deposit."""

    fund_pay_type: str
    setl_amt: Decimal = ZERO
    adjust_amt: Decimal = ZERO
    deduct_amt: Decimal = ZERO


@dataclass(frozen=True, slots=True)
class OrderAmounts:
    fund_pay_type: str
    setl_amt: Decimal
    adjust_amt: Decimal
    deduct_amt: Decimal
    deposit_amt: Decimal
    payable_amt: Decimal


def order_amounts(totals: FundTotals, *, rate: Decimal, exempt: bool) -> OrderAmounts:
    """One fund's order: the deposit withheld and the amount due (module docstring)."""
    base = totals.setl_amt + totals.adjust_amt - totals.deduct_amt
    deposit = ZERO if exempt or base <= 0 else round_fen(base * rate)
    return OrderAmounts(
        fund_pay_type=totals.fund_pay_type,
        setl_amt=totals.setl_amt,
        adjust_amt=totals.adjust_amt,
        deduct_amt=totals.deduct_amt,
        deposit_amt=deposit,
        payable_amt=base - deposit,
    )


def fund_totals(
    items: Iterable[tuple[str, bool, Decimal]], deductions: Iterable[tuple[str, Decimal]]
) -> list[FundTotals]:
    """Per fund, from `(fund_pay_type, is_adjustment, amount)` items and `(fund_pay_type,
    amount)` deductions; funds with nothing in them are left out. Sorted by fund code."""
    setl: dict[str, Decimal] = {}
    adjust: dict[str, Decimal] = {}
    deduct: dict[str, Decimal] = {}
    for fund, is_adjust, amount in items:
        target = adjust if is_adjust else setl
        target[fund] = target.get(fund, ZERO) + amount
    for fund, amount in deductions:
        deduct[fund] = deduct.get(fund, ZERO) + amount
    funds = sorted(set(setl) | set(adjust) | set(deduct))
    out = []
    for fund in funds:
        t = FundTotals(fund, setl.get(fund, ZERO), adjust.get(fund, ZERO), deduct.get(fund, ZERO))
        if t.setl_amt or t.adjust_amt or t.deduct_amt:
            out.append(t)
    return out


def settlement_funds(
    *, fund_rows: Mapping[str, Decimal], fund_pay_sumamt: Decimal, acct_pay: Decimal
) -> dict[str, Decimal]:
    """What one settlement row brings to each fund's order: its fund rows (setldetail) except
    the personal account, which is the row's `acct_pay` (310200); if the fund rows do not add
    up to `fund_pay_sumamt`, the remainder goes to 999997 (其他基金), so that the orders always
    add up to what 3201 reconciles (fund_pay_sumamt + acct_pay) to the fen."""
    out = {code: amount for code, amount in fund_rows.items() if code != "310200" and amount}
    rest = fund_pay_sumamt - sum(out.values(), ZERO)
    if rest:
        out["999997"] = out.get("999997", ZERO) + rest
    if acct_pay:
        out["310200"] = acct_pay
    return out
