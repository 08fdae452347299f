"""The case workflow as data: the states, who may move a case from one to the next, and the
deadlines. Pure (standard library only) — the service applies it, the tests read it.

    open → first_review (初审) → second_review (复审) → notified (告知机构)
         → appealed (申诉) → appeal_review (申诉复核) → [investigation (调查)] → decided

A first or second review may dismiss at once (不予处理); a second review may send the case back
to the first; a notified institution that does not appeal before its deadline (or waives the
appeal) is decided without one. `decided` is final: `recover` (追回), `deduct` (扣款) or
`dismiss` (不予处理), with the amount the decision names.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from yibao.errors import Conflict, Forbidden, InvalidInput


class State(StrEnum):
    OPEN = "open"
    FIRST_REVIEW = "first_review"
    SECOND_REVIEW = "second_review"
    NOTIFIED = "notified"
    APPEALED = "appealed"
    APPEAL_REVIEW = "appeal_review"
    INVESTIGATION = "investigation"
    DECIDED = "decided"


class Decision(StrEnum):
    RECOVER = "recover"
    DEDUCT = "deduct"
    DISMISS = "dismiss"


STATE_NAMES: dict[State, str] = {
    State.OPEN: "待审",
    State.FIRST_REVIEW: "初审",
    State.SECOND_REVIEW: "复审",
    State.NOTIFIED: "已告知机构",
    State.APPEALED: "机构已申诉",
    State.APPEAL_REVIEW: "申诉复核",
    State.INVESTIGATION: "调查",
    State.DECIDED: "已处理",
}
DECISION_NAMES: dict[Decision, str] = {
    Decision.RECOVER: "追回",
    Decision.DEDUCT: "扣款",
    Decision.DISMISS: "不予处理",
}

#: who moves a case: the agency's reviewers, or the institution the case is about
AGENCY, INSTITUTION = "agency", "institution"

#: (from, to) → who may make the move
TRANSITIONS: dict[tuple[State, State], str] = {
    (State.OPEN, State.FIRST_REVIEW): AGENCY,
    (State.FIRST_REVIEW, State.SECOND_REVIEW): AGENCY,
    (State.FIRST_REVIEW, State.DECIDED): AGENCY,  # dismiss only
    (State.SECOND_REVIEW, State.FIRST_REVIEW): AGENCY,  # sent back
    (State.SECOND_REVIEW, State.NOTIFIED): AGENCY,
    (State.SECOND_REVIEW, State.DECIDED): AGENCY,  # dismiss only
    (State.NOTIFIED, State.APPEALED): INSTITUTION,
    (State.NOTIFIED, State.DECIDED): AGENCY,  # no appeal before the deadline, or waived
    (State.APPEALED, State.APPEAL_REVIEW): AGENCY,
    (State.APPEAL_REVIEW, State.INVESTIGATION): AGENCY,
    (State.APPEAL_REVIEW, State.DECIDED): AGENCY,
    (State.INVESTIGATION, State.DECIDED): AGENCY,
}

#: days each state may last before the case is overdue (the appeal window when notified)
DEADLINE_DAYS: dict[State, int] = {
    State.OPEN: 5,
    State.FIRST_REVIEW: 10,
    State.SECOND_REVIEW: 10,
    State.NOTIFIED: 15,
    State.APPEALED: 5,
    State.APPEAL_REVIEW: 15,
    State.INVESTIGATION: 30,
}

#: an institution sees its cases only once it has been told of them
VISIBLE_TO_INSTITUTION = frozenset(
    {State.NOTIFIED, State.APPEALED, State.APPEAL_REVIEW, State.INVESTIGATION, State.DECIDED}
)


def next_states(state: State) -> list[State]:
    return [to for (frm, to) in TRANSITIONS if frm == state]


def parse_state(value: str) -> State:
    try:
        return State(value)
    except ValueError:
        raise InvalidInput(
            f"to: 没有状态 '{value}' (no such state; one of {', '.join(s.value for s in State)})"
        ) from None


@dataclass(frozen=True)
class Move:
    """A transition checked against the workflow: what the service writes."""

    frm: State
    to: State
    decision: Decision | None
    amount_fen: int
    deadline: datetime | None


def check_move(
    *,
    current: State,
    to: State,
    party: str,
    now: datetime,
    notified_deadline: datetime | None,
    decision: str | None,
    amount: Decimal | None,
    at_stake_fen: int,
) -> Move:
    """The move from `current` to `to` by `party` (AGENCY or INSTITUTION), or the error that
    names the states allowed. Nothing here writes."""
    who = TRANSITIONS.get((current, to))
    if who is None:
        allowed = (
            ", ".join(s.value for s in next_states(current)) or "无 (none: the case is decided)"
        )
        raise Conflict(
            f"to: 不能从 {current.value} 转到 {to.value} (not allowed from '{current.value}'; "
            f"allowed: {allowed})"
        )
    if who != party:
        raise Forbidden(
            f"to: {to.value} 须由{'机构' if who == INSTITUTION else '医保经办机构'}操作 "
            f"(this step belongs to the {who})"
        )
    late = notified_deadline is not None and now > notified_deadline
    if current == State.NOTIFIED and to == State.APPEALED and late:
        assert notified_deadline is not None
        raise Conflict(
            f"to: 申诉期已过 (the appeal window closed at {notified_deadline:%Y-%m-%d %H:%M})"
        )
    chosen: Decision | None = None
    amount_fen = 0
    if to == State.DECIDED:
        if decision is None:
            raise InvalidInput("decision: 处理决定必填 (recover | deduct | dismiss)")
        try:
            chosen = Decision(decision)
        except ValueError:
            raise InvalidInput(
                f"decision: 没有决定 '{decision}' (one of recover, deduct, dismiss)"
            ) from None
        if current in (State.FIRST_REVIEW, State.SECOND_REVIEW) and chosen != Decision.DISMISS:
            raise Conflict(
                f"decision: {current.value} 只能不予处理 (before the institution is told, a case "
                "can only be dismissed; notify it first)"
            )
        if chosen == Decision.DISMISS:
            if amount not in (None, Decimal(0)):
                raise InvalidInput("amount: 不予处理的金额为 0 (a dismissal names no amount)")
        else:
            if amount is None:
                raise InvalidInput("amount: 追回或扣款须写明金额 (recover/deduct name an amount)")
            if amount <= 0 or amount != amount.quantize(Decimal("0.01")):
                raise InvalidInput(
                    f"amount: 金额须为正且精确到分 (a positive amount in yuan, to the fen; got {amount})"
                )
            amount_fen = int(amount * 100)
            if amount_fen > at_stake_fen:
                raise InvalidInput(
                    f"amount: 超过疑点金额 {Decimal(at_stake_fen) / 100} 元 (more than the amount at "
                    "stake in the case's hits)"
                )
    elif decision is not None or amount is not None:
        raise InvalidInput("decision: 只有转到 decided 时才有处理决定 (only a decision names one)")
    days = DEADLINE_DAYS.get(to)
    return Move(
        frm=current,
        to=to,
        decision=chosen,
        amount_fen=amount_fen,
        deadline=None if days is None else now + timedelta(days=days),
    )
