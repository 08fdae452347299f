"""What an application counts: the agency's own records for the month (docs/clearing.md
"What is counted"), summed by the database, and the changes to months cleared earlier.

- the institution's settlement rows of the month by the 3201 rule with reversals included
  (`settlement.repo.reconcile.Scope`): every settlement made counts positive, every valid
  reversal record negative, each in the month of its own `setl_time` — so the total equals
  what 3201 reconciles for the month. A reversal record of a settlement that an earlier
  application counted is marked `adjust_of` that month (an adjustment, shown apart);
- adjustments (`item_kind` 'adjust'): for every earlier month an application holds, what 3201
  counts now minus what was counted then, over the rows changed since that count was frozen.
  Nothing already counted is rewritten.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection

from yibao.clearing import arithmetic as ar
from yibao.clearing.repo import items as items_repo
from yibao.kit.money import ZERO

#: the claim's fields, the review's column each is compared with, and its label
CLAIM_LABELS = {
    "psntime": ("rvw_setl_cnt", "结算人次"),
    "medfee_sumamt": ("rvw_medfee_sumamt", "医疗费总额"),
    "fund_appy_sum": ("rvw_fund_pay_sumamt", "基金申报总额"),
    "acct_pay": ("rvw_acct_pay", "个人账户支出"),
    "cash_payamt": ("rvw_cash_payamt", "现金支付"),
}


def _key(appy: Mapping[str, Any]) -> dict[str, str]:
    return {
        "fixmedins_code": appy["fixmedins_code"],
        "clr_optins": appy["clr_optins"],
        "clr_type": appy["clr_type"],
    }


def _later_changes(conn: Connection, appy: Mapping[str, Any]) -> list[dict[str, Any]]:
    """'adjust' items: for each earlier month an application holds, what 3201 counts now minus
    what was counted then, over the rows written or changed since that count was frozen."""
    key = _key(appy)
    out: list[dict[str, Any]] = []
    for month, accepted_at in items_repo.cleared_months(conn, before=appy["setlym"], **key):
        m_first, m_last = ar.parse_setlym(month, field="setlym")
        changed = items_repo.changed_ids(conn, begin=m_first, end=m_last, since=accepted_at, **key)
        if not changed:
            continue
        now_rows = items_repo.month_rows(conn, begin=m_first, end=m_last, only_ids=changed, **key)
        now_funds = items_repo.fund_rows(conn, [r["setl_id"] for r in now_rows])
        current: dict[tuple[str, str], Decimal] = {}
        for r in now_rows:
            for fund, amount in ar.settlement_funds(
                fund_rows=now_funds.get(r["setl_id"], {}),
                fund_pay_sumamt=r["fund_pay_sumamt"],
                acct_pay=r["acct_pay"],
            ).items():
                current[(r["setl_id"], fund)] = amount
        then = items_repo.counted_for_month(conn, setlym=month, setl_ids=changed, **key)
        for pair in sorted(set(current) | set(then)):
            diff = current.get(pair, ZERO) - then.get(pair, ZERO)
            if diff:
                out.append(
                    {
                        "setl_id": pair[0],
                        "item_kind": "adjust",
                        "fund_pay_type": pair[1],
                        "setlym": month,
                        "adjust_of": month,
                        "fund_payamt": diff,
                    }
                )
    return out


def count_application(conn: Connection, appy: Mapping[str, Any]) -> dict[str, Any]:
    """What the agency's own records say for `appy` now (module docstring), summed by the
    database: `scope`, `figures` (the rvw_* columns), `funds` (per-fund totals before
    deductions), `remainders`, `reversals_of_cleared` (reversal record id → the cleared month
    of its original), `later` (the 'adjust' items) and the claim's `differences`."""
    first, last = ar.parse_setlym(appy["setlym"], field="setlym")
    where = items_repo.scope(begin=first, end=last, **_key(appy))
    figures = items_repo.month_figures(conn, where)
    setl_sums = items_repo.fund_sums(conn, where)
    rests = items_repo.remainders(conn, where)
    for _, rest in rests:
        setl_sums["999997"] = setl_sums.get("999997", ZERO) + rest
    # reversal records of settlements an earlier application counted: shown as adjustments
    reversals = items_repo.reversal_rows(conn, where)
    cleared = items_repo.cleared_month_of(
        conn, [r["init_setl_id"] for r in reversals if r["init_setl_id"]], before=appy["setlym"]
    )
    moved = [r for r in reversals if r["init_setl_id"] in cleared]
    moved_funds = items_repo.fund_rows(conn, [r["setl_id"] for r in moved])
    adjust_sums: dict[str, Decimal] = {}
    for r in moved:
        for fund, amount in ar.settlement_funds(
            fund_rows=moved_funds.get(r["setl_id"], {}),
            fund_pay_sumamt=r["fund_pay_sumamt"],
            acct_pay=r["acct_pay"],
        ).items():
            setl_sums[fund] = setl_sums.get(fund, ZERO) - amount
            adjust_sums[fund] = adjust_sums.get(fund, ZERO) + amount
    later = _later_changes(conn, appy)
    for item in later:
        fund = item["fund_pay_type"]
        adjust_sums[fund] = adjust_sums.get(fund, ZERO) + item["fund_payamt"]
    figures["rvw_adjust_amt"] = sum(adjust_sums.values(), ZERO)
    funds = ar.fund_totals(
        [(f, False, a) for f, a in setl_sums.items()]
        + [(f, True, a) for f, a in adjust_sums.items()],
        [],
    )
    return {
        "scope": where,
        "figures": figures,
        "funds": funds,
        "remainders": rests,
        "reversals_of_cleared": {r["setl_id"]: cleared[r["init_setl_id"]] for r in moved},
        "later": later,
        "differences": differences(appy, figures),
    }


def differences(appy: Mapping[str, Any], figures: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "field": claim,
            "label": label,
            "claimed": appy[claim],
            "counted": figures[mine],
            "difference": appy[claim] - figures[mine],
        }
        for claim, (mine, label) in CLAIM_LABELS.items()
        if figures[mine] is not None and appy[claim] != figures[mine]
    ]
