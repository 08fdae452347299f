"""Clearing's application use cases (docs/clearing.md): 3203/3204, the agency's review,
acceptance, deductions, rejection and approval (which issues the payment orders). What is
counted is `counting`; paying orders and the deposit are `payments`. Services decide;
`clearing.repo` owns the SQL; nothing here commits (the caller's unit of work or the writer
does).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection

from yibao.cases import repo as cases_repo
from yibao.clearing import arithmetic as ar
from yibao.clearing import counting
from yibao.clearing.commands import ApplyClearing, WithdrawClearing
from yibao.clearing.counting import CLAIM_LABELS
from yibao.clearing.events import APPLICATION, reason_text, record_step
from yibao.clearing.payments import fund_name
from yibao.clearing.repo import applications as appy_repo
from yibao.clearing.repo import items as items_repo
from yibao.clearing.repo import orders as orders_repo
from yibao.codes.dicts import ClrType, ClrWay, FundPayType
from yibao.enrolment import audit
from yibao.errors import Conflict, InvalidInput, NotFound
from yibao.kit.ids import IdGenerator
from yibao.policy.book import ClearingTerms, PolicyBook
from yibao.policy.model import PolicyRefusal

# ---------------------------------------------------------------------------------------------
# 3203 / 3204 (the institution)
# ---------------------------------------------------------------------------------------------


def submit(
    conn: Connection,
    cmd: ApplyClearing,
    *,
    ids: IdGenerator,
    fixmedins_code: str,
    admdvs: str,
    msgid: str,
    now: datetime,
    opter: str | None,
    opter_name: str | None,
) -> dict[str, Any]:
    """3203: record the institution's claim; answers `{clr_appy_evt_id}`."""
    first, last = ar.parse_setlym(cmd.setlym)
    if cmd.setlym >= ar.month_of(now.date()):
        raise InvalidInput(
            f"data.setlym: {cmd.setlym} 尚未结束, 月结束后才能申请清算 (a month can be applied "
            "for once it has ended)"
        )
    if not ClrType.has(cmd.clr_type):
        raise InvalidInput(f"data.clr_type: 清算类别无效 '{cmd.clr_type}' (not a clr_type)")
    if not ClrWay.has(cmd.clr_way):
        raise InvalidInput(f"data.clr_way: 清算方式无效 '{cmd.clr_way}' (not a clr_way)")
    if not (first <= cmd.begndate <= cmd.enddate <= last):
        raise InvalidInput(
            "data.begndate/enddate: 起止日期应在清算年月之内且开始不晚于结束 (the dates must lie "
            f"within {cmd.setlym}, begndate ≤ enddate)"
        )
    if cmd.clr_optins is not None and cmd.clr_optins != admdvs:
        raise InvalidInput(
            f"data.clr_optins: 清算机构应为本机构所属医保区划 {admdvs} (the institution's own "
            f"clearing region), got '{cmd.clr_optins}'"
        )
    if cmd.psntime < 0:
        raise InvalidInput("data.psntime: 清算人次不能为负 (must not be negative)")
    evt_id = ids.next_str()
    appy_repo.insert_application(
        conn,
        {
            "clr_appy_evt_id": evt_id,
            "fixmedins_code": fixmedins_code,
            "clr_optins": admdvs,
            "setlym": cmd.setlym,
            "clr_type": cmd.clr_type,
            "clr_way": cmd.clr_way,
            "begndate": cmd.begndate,
            "enddate": cmd.enddate,
            "psntime": cmd.psntime,
            "medfee_sumamt": cmd.medfee_sumamt,
            "med_sumfee": cmd.med_sumfee,
            "fund_appy_sum": cmd.fund_appy_sum,
            "cash_payamt": cmd.cash_payamt,
            "acct_pay": cmd.acct_pay,
            "stas": "submitted",
            "live_key": appy_repo.live_key(fixmedins_code, admdvs, cmd.setlym, cmd.clr_type),
            "msgid": msgid,
            "opter": opter,
            "opter_name": opter_name,
            "created_at": now,
            "updated_at": now,
        },
    )
    record_step(
        conn,
        ids,
        clr_appy_evt_id=evt_id,
        action="submit",
        actor=f"{fixmedins_code}:{opter or ''}",
        at=now,
        to_stas="submitted",
        reason=f"3203 msgid {msgid}",
    )
    # decided cases waiting for the institution's next application are deducted in this one
    take_case_decisions(conn, evt_id, ids=ids, actor="case-decisions", now=now)
    return {"clr_appy_evt_id": evt_id}


def withdraw(
    conn: Connection,
    cmd: WithdrawClearing,
    *,
    ids: IdGenerator,
    fixmedins_code: str,
    msgid: str,
    now: datetime,
    opter: str | None,
) -> None:
    """3204: withdraw the institution's own application while it is not yet accepted."""
    row = appy_repo.application(conn, cmd.clr_appy_evt_id, lock=True)
    if row is None or row["fixmedins_code"] != fixmedins_code:
        raise NotFound(
            f"data.clr_appy_evt_id: 清算申请不存在 '{cmd.clr_appy_evt_id}' (no application of "
            "this institution with this id)"
        )
    if cmd.clr_optins is not None and cmd.clr_optins != row["clr_optins"]:
        raise InvalidInput(
            f"data.clr_optins: 与申请的清算机构 {row['clr_optins']} 不一致 (does not match the "
            "application)"
        )
    ar.check_move(APPLICATION, ar.APPLICATION_MOVES, row["stas"], "withdrawn")
    appy_repo.set_state(conn, row["clr_appy_evt_id"], current="submitted", stas="withdrawn", at=now)
    record_step(
        conn,
        ids,
        clr_appy_evt_id=row["clr_appy_evt_id"],
        action="withdraw",
        actor=f"{fixmedins_code}:{opter or ''}",
        at=now,
        from_stas="submitted",
        to_stas="withdrawn",
        reason=f"3204 msgid {msgid}",
    )


# ---------------------------------------------------------------------------------------------
# the agency's review
# ---------------------------------------------------------------------------------------------


def _application(
    conn: Connection, clr_appy_evt_id: str, *, lock: bool = False
) -> Mapping[str, Any]:
    row = appy_repo.application(conn, clr_appy_evt_id, lock=lock)
    if row is None:
        raise NotFound(f"clr_appy_evt_id: 清算申请不存在 '{clr_appy_evt_id}' (no such application)")
    return row


def _funds_out(funds: list[ar.FundTotals]) -> list[dict[str, Any]]:
    return [
        {
            "fund_pay_type": f.fund_pay_type,
            "fund_pay_type_name": fund_name(f.fund_pay_type),
            "setl_amt": f.setl_amt,
            "adjust_amt": f.adjust_amt,
            "deduct_amt": f.deduct_amt,
        }
        for f in funds
    ]


def _frozen_totals(conn: Connection, clr_appy_evt_id: str) -> list[ar.FundTotals]:
    return ar.fund_totals(
        items_repo.item_totals(conn, clr_appy_evt_id), _deduction_pairs(conn, clr_appy_evt_id)
    )


def review(conn: Connection, clr_appy_evt_id: str) -> dict[str, Any]:
    """The review without writing anything: the claim beside the agency's count (for a
    submitted application: now; once accepted: as frozen), and per fund what would be paid."""
    appy = _application(conn, clr_appy_evt_id)
    if appy["stas"] == "submitted":
        counted = counting.count_application(conn, appy)
        figures, differences = counted["figures"], counted["differences"]
        funds = ar.fund_totals(
            [(f.fund_pay_type, False, f.setl_amt) for f in counted["funds"]]
            + [(f.fund_pay_type, True, f.adjust_amt) for f in counted["funds"]],
            _deduction_pairs(conn, clr_appy_evt_id),
        )
    else:
        figures = {mine: appy[mine] for mine, _ in CLAIM_LABELS.values()}
        figures["rvw_adjust_amt"] = appy["rvw_adjust_amt"]
        differences = counting.differences(appy, figures)
        funds = _frozen_totals(conn, clr_appy_evt_id)
    return {
        "clr_appy_evt_id": clr_appy_evt_id,
        "stas": appy["stas"],
        "figures": figures,
        "differences": differences,
        "funds": _funds_out(funds),
    }


def _deduction_pairs(conn: Connection, clr_appy_evt_id: str) -> list[tuple[str, Decimal]]:
    return [(d["fund_pay_type"], d["amount"]) for d in appy_repo.deductions(conn, clr_appy_evt_id)]


def accept(
    conn: Connection,
    clr_appy_evt_id: str,
    *,
    ids: IdGenerator,
    actor: str,
    now: datetime,
    reason: str | None = None,
) -> dict[str, Any]:
    """Accept (受理) after review: freeze what the agency counts for the application (the
    items are copied by the database: a large hospital's month is 10^5 rows)."""
    appy = _application(conn, clr_appy_evt_id, lock=True)
    ar.check_move(APPLICATION, ar.APPLICATION_MOVES, appy["stas"], "accepted")
    text = reason_text(reason, required=False)
    counted = counting.count_application(conn, appy)
    items_repo.freeze_items(
        conn, counted["scope"], clr_appy_evt_id=clr_appy_evt_id, setlym=appy["setlym"]
    )
    for setl_id, rest in counted["remainders"]:
        items_repo.add_to_item(
            conn,
            {
                "clr_appy_evt_id": clr_appy_evt_id,
                "setl_id": setl_id,
                "item_kind": "setl",
                "fund_pay_type": "999997",
                "setlym": appy["setlym"],
                "fund_payamt": rest,
            },
        )
    by_month: dict[str, list[str]] = {}
    for setl_id, month in counted["reversals_of_cleared"].items():
        by_month.setdefault(month, []).append(setl_id)
    for month, setl_ids in by_month.items():
        items_repo.mark_adjust_of(
            conn, clr_appy_evt_id=clr_appy_evt_id, setl_ids=setl_ids, month=month
        )
    items_repo.insert_items(
        conn, ({"clr_appy_evt_id": clr_appy_evt_id, **i} for i in counted["later"])
    )
    appy_repo.set_state(
        conn,
        clr_appy_evt_id,
        current="submitted",
        stas="accepted",
        at=now,
        accepted_at=now,
        **counted["figures"],
    )
    record_step(
        conn,
        ids,
        clr_appy_evt_id=clr_appy_evt_id,
        action="accept",
        actor=actor,
        at=now,
        from_stas="submitted",
        to_stas="accepted",
        reason=text,
    )
    audit.record(
        conn,
        ids=ids,
        actor=actor,
        action="clearing.accept",
        target=clr_appy_evt_id,
        detail={"differences": [d["field"] for d in counted["differences"]], "reason": text},
        at=now,
    )
    return review(conn, clr_appy_evt_id)


def reject(
    conn: Connection,
    clr_appy_evt_id: str,
    *,
    ids: IdGenerator,
    actor: str,
    now: datetime,
    reason: str,
) -> dict[str, Any]:
    """Reject (驳回) an accepted application; its month is free to be applied for again."""
    appy = _application(conn, clr_appy_evt_id, lock=True)
    ar.check_move(APPLICATION, ar.APPLICATION_MOVES, appy["stas"], "rejected")
    text = reason_text(reason, required=True)
    appy_repo.set_state(conn, clr_appy_evt_id, current="accepted", stas="rejected", at=now)
    record_step(
        conn,
        ids,
        clr_appy_evt_id=clr_appy_evt_id,
        action="reject",
        actor=actor,
        at=now,
        from_stas="accepted",
        to_stas="rejected",
        reason=text,
    )
    audit.record(
        conn, ids=ids, actor=actor, action="clearing.reject", target=clr_appy_evt_id,
        detail={"reason": text}, at=now,
    )  # fmt: skip
    return get_application(conn, clr_appy_evt_id)


def add_deduction(
    conn: Connection,
    clr_appy_evt_id: str,
    *,
    ids: IdGenerator,
    fund_pay_type: str,
    amount: Decimal,
    reason: str,
    actor: str,
    now: datetime,
    kind: str = "deduct",
    source: str = "manual",
    case_id: str | None = None,
) -> dict[str, Any]:
    """扣款 (`deduct`) or 追回 (`recover`) from an application not yet approved. The cases
    issue's decided `deduct`/`recover` decisions call this with `source="case"` and their
    `case_id`; staff enter manual ones with a reason."""
    appy = _application(conn, clr_appy_evt_id, lock=True)
    if appy["stas"] not in ("submitted", "accepted"):
        raise ar_conflict(appy["stas"])
    if kind not in ("deduct", "recover"):
        raise InvalidInput(f"kind: 应为 deduct 或 recover (must be deduct or recover): '{kind}'")
    if source not in ("manual", "case"):
        raise InvalidInput(f"source: 应为 manual 或 case (must be manual or case): '{source}'")
    if source == "case" and not case_id:
        raise InvalidInput(
            "case_id: 来自案件的扣款须注明案件编号 (a case deduction names its case)"
        )
    if not FundPayType.has(fund_pay_type):
        raise InvalidInput(
            f"fund_pay_type: 基金支付类型无效 '{fund_pay_type}' (not a fund_pay_type)"
        )
    if amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        raise InvalidInput(
            f"amount: 扣款金额应为正数, 精确到分 (a positive amount in fen): {amount}"
        )
    text = reason_text(reason, required=True)
    if appy["stas"] == "submitted":
        counted_funds = {f.fund_pay_type for f in counting.count_application(conn, appy)["funds"]}
    else:
        counted_funds = {fund for fund, _, _ in items_repo.item_totals(conn, clr_appy_evt_id)}
    if fund_pay_type not in counted_funds:
        raise InvalidInput(
            f"fund_pay_type: 本申请没有 {fund_pay_type} 基金的支付, 不能从中扣款 (the application "
            f"has no payments of this fund; funds: {', '.join(sorted(counted_funds)) or 'none'})"
        )
    deduction_id = ids.next_str()
    row = {
        "deduction_id": deduction_id,
        "clr_appy_evt_id": clr_appy_evt_id,
        "fund_pay_type": fund_pay_type,
        "amount": amount,
        "kind": kind,
        "source": source,
        "case_id": case_id,
        "reason": text,
        "actor": actor[:50],
        "created_at": now,
    }
    appy_repo.add_deduction(conn, row)
    record_step(
        conn,
        ids,
        clr_appy_evt_id=clr_appy_evt_id,
        action=kind,
        actor=actor,
        at=now,
        reason=f"{fund_pay_type} {amount}: {text}",
    )
    audit.record(
        conn, ids=ids, actor=actor, action=f"clearing.{kind}", target=clr_appy_evt_id,
        detail={"fund_pay_type": fund_pay_type, "amount": amount, "source": source,
                "case_id": case_id, "reason": text}, at=now,
    )  # fmt: skip
    return row


def open_application(
    conn: Connection, *, fixmedins_code: str, clr_type: str | None = None
) -> dict[str, Any] | None:
    """Where a decided case's deduction goes: the institution's oldest application that still
    takes deductions (submitted or accepted), of `clr_type` when given; None when there is none
    yet (the decision waits for the next 3203)."""
    found = appy_repo.open_applications(conn, fixmedins_code=fixmedins_code, clr_type=clr_type)
    return found[0] if found else None


def take_case_decisions(
    conn: Connection, clr_appy_evt_id: str, *, ids: IdGenerator, actor: str, now: datetime
) -> list[dict[str, Any]]:
    """The institution's decided recover/deduct cases not yet deducted (docs/cases.md), taken
    into this application (submitted or accepted) as `source="case"` deductions from the fund
    that pays the most in it (the pooled fund, in practice); each case is marked with the
    application so that it is deducted once. Returns the deductions made."""
    appy = _application(conn, clr_appy_evt_id, lock=True)
    if appy["stas"] not in ("submitted", "accepted"):
        return []
    pending = cases_repo.pending_decisions(conn, appy["fixmedins_code"])
    if not pending:
        return []
    if appy["stas"] == "submitted":
        totals = [(f.fund_pay_type, f.setl_amt + f.adjust_amt)
                  for f in counting.count_application(conn, appy)["funds"]]  # fmt: skip
    else:
        by_fund: dict[str, Decimal] = {}
        for fund_pay_type, _adjust, amt in items_repo.item_totals(conn, clr_appy_evt_id):
            by_fund[fund_pay_type] = by_fund.get(fund_pay_type, Decimal(0)) + Decimal(amt)
        totals = list(by_fund.items())
    if not totals:
        return []
    fund = max(totals, key=lambda t: (t[1], t[0]))[0]
    made = []
    for case in pending:
        made.append(
            add_deduction(
                conn,
                clr_appy_evt_id,
                ids=ids,
                fund_pay_type=fund,
                amount=Decimal(case["decision_amount"]),
                reason=f"稽核案件 {case['case_id']} 处理决定 ({case['decision']})",
                actor=actor,
                now=now,
                kind=str(case["decision"]),
                source="case",
                case_id=str(case["case_id"]),
            )
        )
        cases_repo.mark_deducted(conn, str(case["case_id"]), clr_appy_evt_id)
    return made


def ar_conflict(stas: str) -> Exception:
    return Conflict(
        f"清算申请状态为 {ar.LABELS.get(stas, stas)}({stas}), 不能再扣款 (deductions are taken "
        "while the application is submitted or accepted)"
    )


def clearing_terms(book: PolicyBook, clr_optins: str, setlym: str) -> ClearingTerms:
    """The region's clearing parameters valid on the month's last day."""
    _, last = ar.parse_setlym(setlym, field="setlym")
    try:
        return book.version_for(clr_optins, last).clearing
    except PolicyRefusal:
        return ClearingTerms()


def approve(
    conn: Connection,
    clr_appy_evt_id: str,
    *,
    ids: IdGenerator,
    book: PolicyBook,
    actor: str,
    now: datetime,
    reason: str | None = None,
) -> dict[str, Any]:
    """Approve (审核通过) an accepted application: issue one payment order per fund."""
    appy = _application(conn, clr_appy_evt_id, lock=True)
    ar.check_move(APPLICATION, ar.APPLICATION_MOVES, appy["stas"], "approved")
    text = reason_text(reason, required=False)
    terms = clearing_terms(book, appy["clr_optins"], appy["setlym"])
    totals = _frozen_totals(conn, clr_appy_evt_id)
    appy_repo.set_state(
        conn,
        clr_appy_evt_id,
        current="accepted",
        stas="approved",
        at=now,
        deposit_rate=terms.quality_deposit_rate,
    )
    for t in totals:
        a = ar.order_amounts(
            t,
            rate=terms.quality_deposit_rate,
            exempt=t.fund_pay_type in terms.deposit_exempt_funds,
        )
        order_id = ids.next_str()
        orders_repo.insert_order(
            conn,
            {
                "clr_order_id": order_id,
                "clr_appy_evt_id": clr_appy_evt_id,
                "fixmedins_code": appy["fixmedins_code"],
                "clr_optins": appy["clr_optins"],
                "setlym": appy["setlym"],
                "clr_type": appy["clr_type"],
                "fund_pay_type": a.fund_pay_type,
                "setl_amt": a.setl_amt,
                "adjust_amt": a.adjust_amt,
                "deduct_amt": a.deduct_amt,
                "deposit_amt": a.deposit_amt,
                "payable_amt": a.payable_amt,
                "stas": "issued",
                "issued_by": actor[:50],
                "issued_at": now,
                "deposit_stas": "held",
                "created_at": now,
                "updated_at": now,
            },
        )
        record_step(
            conn, ids, clr_appy_evt_id=clr_appy_evt_id, clr_order_id=order_id, action="issue",
            actor=actor, at=now, to_stas="issued",
            reason=f"{a.fund_pay_type} 应拨付 {a.payable_amt}",
        )  # fmt: skip
    record_step(
        conn,
        ids,
        clr_appy_evt_id=clr_appy_evt_id,
        action="approve",
        actor=actor,
        at=now,
        from_stas="accepted",
        to_stas="approved",
        reason=text,
    )
    audit.record(
        conn, ids=ids, actor=actor, action="clearing.approve", target=clr_appy_evt_id,
        detail={"orders": len(totals), "reason": text}, at=now,
    )  # fmt: skip
    return get_application(conn, clr_appy_evt_id)


# ---------------------------------------------------------------------------------------------
# reads
# ---------------------------------------------------------------------------------------------


def get_application(conn: Connection, clr_appy_evt_id: str) -> dict[str, Any]:
    """The application with its deductions, orders and history; the review's figures."""
    appy = dict(_application(conn, clr_appy_evt_id))
    appy.pop("live_key", None)
    appy["stas_name"] = ar.LABELS.get(appy["stas"], appy["stas"])
    appy["deductions"] = appy_repo.deductions(conn, clr_appy_evt_id)
    appy["orders"] = orders_repo.orders_of(conn, clr_appy_evt_id)
    appy["events"] = appy_repo.events(conn, clr_appy_evt_id)
    return appy


def list_applications(conn: Connection, **filters: Any) -> tuple[int, list[dict[str, Any]]]:
    total, rows = appy_repo.list_applications(conn, **filters)
    for r in rows:
        r.pop("live_key", None)
        r["stas_name"] = ar.LABELS.get(r["stas"], r["stas"])
    return total, rows
