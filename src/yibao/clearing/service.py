"""Clearing use cases (docs/clearing.md). Services decide; `clearing.repo` owns the SQL;
nothing here commits (the caller's unit of work or the writer does).

What a month's application counts (its items, frozen when the agency accepts it):

- the institution's settlement rows of the month by the 3201 rule with reversals included
  (`settlement.repo.reconcile.Scope`): every settlement made counts positive, every valid
  reversal record negative, each in the month of its own `setl_time` — so the total equals
  what 3201 reconciles for the month. A reversal record of a settlement that an earlier
  application counted is marked `adjust_of` that month (an adjustment, shown apart);
- adjustments (`item_kind` 'adjust'): for every earlier month an application holds, what 3201
  would count for it now minus what was counted for it then (a settlement whose validity
  changed after its month was cleared). Nothing already counted is rewritten.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection

from yibao.clearing import arithmetic as ar
from yibao.clearing.commands import ApplyClearing, WithdrawClearing
from yibao.clearing.repo import applications as appy_repo
from yibao.clearing.repo import items as items_repo
from yibao.clearing.repo import orders as orders_repo
from yibao.codes.dicts import ClrType, ClrWay, FundPayType
from yibao.enrolment import audit
from yibao.errors import Conflict, InvalidInput, NotFound
from yibao.kit.ids import IdGenerator
from yibao.kit.money import ZERO
from yibao.policy.book import ClearingTerms, PolicyBook
from yibao.policy.model import PolicyRefusal

APPLICATION = "清算申请"
ORDER = "拨付单"
DEPOSIT = "质量保证金"
_CLAIM_LABELS = {
    "psntime": ("rvw_setl_cnt", "结算人次"),
    "medfee_sumamt": ("rvw_medfee_sumamt", "医疗费总额"),
    "fund_appy_sum": ("rvw_fund_pay_sumamt", "基金申报总额"),
    "acct_pay": ("rvw_acct_pay", "个人账户支出"),
    "cash_payamt": ("rvw_cash_payamt", "现金支付"),
}


def _event(
    conn: Connection,
    ids: IdGenerator,
    *,
    clr_appy_evt_id: str,
    action: str,
    actor: str,
    at: datetime,
    from_stas: str | None = None,
    to_stas: str | None = None,
    reason: str | None = None,
    clr_order_id: str | None = None,
) -> None:
    appy_repo.add_event(
        conn,
        {
            "event_id": ids.next_str(),
            "clr_appy_evt_id": clr_appy_evt_id,
            "clr_order_id": clr_order_id,
            "action": action,
            "from_stas": from_stas,
            "to_stas": to_stas,
            "actor": actor[:50],
            "reason": None if reason is None else reason[:500],
            "at": at,
        },
    )


def _reason(reason: str | None, *, required: bool, field: str = "reason") -> str | None:
    text = (reason or "").strip()
    if required and not text:
        raise InvalidInput(f"{field}: 请填写原因 (a reason is required for this step)")
    if len(text) > 500:
        raise InvalidInput(f"{field}: 原因不超过500字 (at most 500 characters)")
    return text or None


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
    _event(
        conn,
        ids,
        clr_appy_evt_id=evt_id,
        action="submit",
        actor=f"{fixmedins_code}:{opter or ''}",
        at=now,
        to_stas="submitted",
        reason=f"3203 msgid {msgid}",
    )
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
    _event(
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
        "differences": _differences(appy, figures),
    }


def _differences(appy: Mapping[str, Any], figures: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "field": claim,
            "label": label,
            "claimed": appy[claim],
            "counted": figures[mine],
            "difference": appy[claim] - figures[mine],
        }
        for claim, (mine, label) in _CLAIM_LABELS.items()
        if figures[mine] is not None and appy[claim] != figures[mine]
    ]


def _funds_out(funds: list[ar.FundTotals]) -> list[dict[str, Any]]:
    return [
        {
            "fund_pay_type": f.fund_pay_type,
            "fund_pay_type_name": _fund_name(f.fund_pay_type),
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
        counted = count_application(conn, appy)
        figures, differences = counted["figures"], counted["differences"]
        funds = ar.fund_totals(
            [(f.fund_pay_type, False, f.setl_amt) for f in counted["funds"]]
            + [(f.fund_pay_type, True, f.adjust_amt) for f in counted["funds"]],
            _deduction_pairs(conn, clr_appy_evt_id),
        )
    else:
        figures = {mine: appy[mine] for mine, _ in _CLAIM_LABELS.values()}
        figures["rvw_adjust_amt"] = appy["rvw_adjust_amt"]
        differences = _differences(appy, figures)
        funds = _frozen_totals(conn, clr_appy_evt_id)
    return {
        "clr_appy_evt_id": clr_appy_evt_id,
        "stas": appy["stas"],
        "figures": figures,
        "differences": differences,
        "funds": _funds_out(funds),
    }


def _fund_name(code: str) -> str:
    return FundPayType.of(code).label if FundPayType.has(code) else code


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
    text = _reason(reason, required=False)
    counted = count_application(conn, appy)
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
    _event(
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
    text = _reason(reason, required=True)
    appy_repo.set_state(conn, clr_appy_evt_id, current="accepted", stas="rejected", at=now)
    _event(
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
    text = _reason(reason, required=True)
    if appy["stas"] == "submitted":
        counted_funds = {f.fund_pay_type for f in count_application(conn, appy)["funds"]}
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
    _event(
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
    text = _reason(reason, required=False)
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
        _event(
            conn, ids, clr_appy_evt_id=clr_appy_evt_id, clr_order_id=order_id, action="issue",
            actor=actor, at=now, to_stas="issued",
            reason=f"{a.fund_pay_type} 应拨付 {a.payable_amt}",
        )  # fmt: skip
    _event(
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
# payment orders and the deposit
# ---------------------------------------------------------------------------------------------


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
    _event(
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
    text = _reason(reason, required=True)
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
        _event(
            conn, ids, clr_appy_evt_id=o["clr_appy_evt_id"], clr_order_id=o["clr_order_id"],
            action=action, actor=actor, at=now, from_stas="held", to_stas=target, reason=text,
        )  # fmt: skip
        total += o["deposit_amt"]
    audit.record(
        conn, ids=ids, actor=actor, action=f"clearing.deposit.{action}", target=fixmedins_code,
        detail={"year": year, "orders": len(held), "amount": total, "reason": text}, at=now,
    )  # fmt: skip
    return [dict(_order(conn, o["clr_order_id"])) for o in held]


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


def get_order(conn: Connection, clr_order_id: str) -> dict[str, Any]:
    row = dict(_order(conn, clr_order_id))
    row["fund_pay_type_name"] = _fund_name(row["fund_pay_type"])
    row["events"] = [
        e
        for e in appy_repo.events(conn, row["clr_appy_evt_id"])
        if e["clr_order_id"] == clr_order_id
    ]
    return row


def list_orders(conn: Connection, **filters: Any) -> tuple[int, list[dict[str, Any]]]:
    total, rows = orders_repo.list_orders(conn, **filters)
    for r in rows:
        r["fund_pay_type_name"] = _fund_name(r["fund_pay_type"])
    return total, rows


def monthly(conn: Connection, *, since: str, until: str) -> list[dict[str, Any]]:
    """The dashboard's clearing view (see `repo.orders.monthly`), amounts as Decimal."""
    ar.parse_setlym(since, field="since")
    ar.parse_setlym(until, field="until")
    return [
        {k: (v if k == "setlym" else Decimal(v)) for k, v in r.items()}
        for r in orders_repo.monthly(conn, since=since, until=until)
    ]
