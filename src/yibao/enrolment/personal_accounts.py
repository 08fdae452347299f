"""个人账户划入: credit a person's personal account (psn_insu.balc).

The amount is > 0 yuan with at most two decimals; the balance changes in the same
transaction as the audit row and the change-log row.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection

from yibao.enrolment import audit, checks, feed
from yibao.enrolment.repo import personal_accounts as repo
from yibao.errors import Conflict, InvalidInput, NotFound
from yibao.kit.clock import local_naive_now
from yibao.kit.ids import IdGenerator
from yibao.kit.money import MoneyError, parse_amount


def credit_account(
    conn: Connection,
    *,
    ids: IdGenerator,
    actor: str,
    psn_no: str,
    amount: object,
    reason: str,
    insutype: str = "310",
    now: datetime | None = None,
) -> dict[str, Any]:
    """Add `amount` to the account of the person's `insutype`; returns the new balance."""
    try:
        value = parse_amount(amount, field="amount")
    except MoneyError as exc:
        raise InvalidInput(str(exc)) from None
    if value <= 0:
        raise InvalidInput(f"amount: 划入金额须大于 0 (must be greater than 0): {amount}")
    note = checks.req_text(reason, field="reason", max_len=200)
    row = repo.balance_and_status(conn, psn_no, insutype)
    if row is None:
        raise NotFound(
            f"psn_no: 人员 '{psn_no}' 未参加险种 '{insutype}' (no such person or insurance)"
        )
    if row.psn_insu_stas == "4":
        raise Conflict(
            f"insutype: 险种 '{insutype}' 已终止, 不能划入 (the insurance is terminated)"
        )
    moment = now or local_naive_now()
    before: Decimal = row.balc
    after = repo.add_to_balance(conn, psn_no, insutype, value, updated_at=moment)
    audit.record(
        conn,
        ids=ids,
        actor=actor,
        action="acct.credit",
        target=psn_no,
        detail={
            "insutype": insutype,
            "amount": value,
            "reason": note,
            "balc_before": before,
            "balc_after": after,
        },
        at=moment,
    )
    feed.person_changed(conn, psn_no, now=moment)
    return {"psn_no": psn_no, "insutype": insutype, "amount": value, "balc": after}
