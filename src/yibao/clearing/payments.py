"""Payment orders after approval: the treasury's confirmation, the annual deposit decision and
the reads of orders (docs/clearing.md). Nothing here commits."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection

from yibao.clearing import arithmetic as ar
from yibao.clearing.events import DEPOSIT, ORDER, reason_text, record_step
from yibao.clearing.repo import applications as appy_repo
from yibao.clearing.repo import orders as orders_repo
from yibao.codes.dicts import FundPayType
from yibao.enrolment import audit
from yibao.errors import InvalidInput, NotFound
from yibao.kit.ids import IdGenerator
from yibao.kit.money import ZERO


def fund_name(code: str) -> str:
    return FundPayType.of(code).label if FundPayType.has(code) else code


def _order(conn: Connection, clr_order_id: str, *, lock: bool = False) -> Mapping[str, Any]:
    row = orders_repo.order(conn, clr_order_id, lock=lock)
    if row is None:
        raise NotFound(f"clr_order_id: 拨付单不存在 '{clr_order_id}' (no such payment order)")
    return row


def mark_paid(
    conn: Connection,
    clr_order_id: str,
    *,
    ids: IdGenerator,
    pay_ref: str,
    actor: str,
    now: datetime,
) -> dict[str, Any]:
    """The treasury confirmed the payment: the order becomes paid, with its reference."""
    row = _order(conn, clr_order_id, lock=True)
    ar.check_move(ORDER, ar.ORDER_MOVES, row["stas"], "paid")
    ref = (pay_ref or "").strip()
    if not ref or len(ref) > 100:
        raise InvalidInput(
            "pay_ref: 请填写国库/银行拨付凭证号, 不超过100字 (the treasury's payment reference, "
            "1-100 characters)"
        )
    orders_repo.update_order(
        conn, clr_order_id, where={"stas": "issued"}, at=now, stas="paid", paid_by=actor[:50],
        paid_at=now, pay_ref=ref,
    )  # fmt: skip
    record_step(
        conn, ids, clr_appy_evt_id=row["clr_appy_evt_id"], clr_order_id=clr_order_id,
        action="pay", actor=actor, at=now, from_stas="issued", to_stas="paid",
        reason=f"凭证 {ref}",
    )  # fmt: skip
    audit.record(
        conn, ids=ids, actor=actor, action="clearing.pay", target=clr_order_id,
        detail={"pay_ref": ref, "payable_amt": row["payable_amt"]}, at=now,
    )  # fmt: skip
    return dict(_order(conn, clr_order_id))


def settle_deposits(
    conn: Connection,
    *,
    ids: IdGenerator,
    fixmedins_code: str,
    year: int,
    action: str,
    reason: str,
    actor: str,
    now: datetime,
) -> list[dict[str, Any]]:
    """年度考核: release (返还) or forfeit (扣除) every deposit the institution's orders of
    `year` still hold. Audited; the orders' money is not changed."""
    if action not in ("release", "forfeit"):
        raise InvalidInput(
            f"action: 应为 release 或 forfeit (must be release or forfeit): '{action}'"
        )
    if not 2000 <= year <= 2999:
        raise InvalidInput(f"year: 年度无效 (not a year): {year}")
    text = reason_text(reason, required=True)
    target = "released" if action == "release" else "forfeited"
    _, held = orders_repo.list_orders(
        conn, fixmedins_code=fixmedins_code, year=year, deposit_stas="held", limit=100_000
    )
    held = [o for o in held if o["deposit_amt"]]
    if not held:
        raise NotFound(
            f"fixmedins_code/year: {fixmedins_code} {year} 年没有暂扣的质量保证金 (no deposit "
            "held for this institution and year)"
        )
    total = ZERO
    for o in held:
        ar.check_move(DEPOSIT, ar.DEPOSIT_MOVES, o["deposit_stas"], target)
        orders_repo.update_order(
            conn, o["clr_order_id"], where={"deposit_stas": "held"}, at=now,
            deposit_stas=target, deposit_by=actor[:50], deposit_at=now, deposit_reason=text,
        )  # fmt: skip
        record_step(
            conn, ids, clr_appy_evt_id=o["clr_appy_evt_id"], clr_order_id=o["clr_order_id"],
            action=action, actor=actor, at=now, from_stas="held", to_stas=target, reason=text,
        )  # fmt: skip
        total += o["deposit_amt"]
    audit.record(
        conn, ids=ids, actor=actor, action=f"clearing.deposit.{action}", target=fixmedins_code,
        detail={"year": year, "orders": len(held), "amount": total, "reason": text}, at=now,
    )  # fmt: skip
    return [dict(_order(conn, o["clr_order_id"])) for o in held]


def get_order(conn: Connection, clr_order_id: str) -> dict[str, Any]:
    row = dict(_order(conn, clr_order_id))
    row["fund_pay_type_name"] = fund_name(row["fund_pay_type"])
    row["events"] = [
        e
        for e in appy_repo.events(conn, row["clr_appy_evt_id"])
        if e["clr_order_id"] == clr_order_id
    ]
    return row


def list_orders(conn: Connection, **filters: Any) -> tuple[int, list[dict[str, Any]]]:
    total, rows = orders_repo.list_orders(conn, **filters)
    for r in rows:
        r["fund_pay_type_name"] = fund_name(r["fund_pay_type"])
    return total, rows


def monthly(conn: Connection, *, since: str, until: str) -> list[dict[str, Any]]:
    """The dashboard's clearing view (see `repo.orders.monthly`), amounts as Decimal."""
    ar.parse_setlym(since, field="since")
    ar.parse_setlym(until, field="until")
    return [
        {k: (v if k == "setlym" else Decimal(v)) for k, v in r.items()}
        for r in orders_repo.monthly(conn, since=since, until=until)
    ]
