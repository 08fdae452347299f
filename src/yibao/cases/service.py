"""The cases' use cases: open a case from rule hits, list and read cases in the caller's
scope, move a case through the workflow, assign it, comment on it, attach files.

Callers pass who acts (`Actor`); the workflow (`cases.workflow`) says what may happen. Every
write goes through the caller's unit of work; the interface audits it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection

from yibao.cases import repo
from yibao.cases.workflow import (
    AGENCY,
    DECISION_NAMES,
    INSTITUTION,
    STATE_NAMES,
    VISIBLE_TO_INSTITUTION,
    Decision,
    State,
    check_move,
    next_states,
    parse_state,
)
from yibao.errors import Conflict, InvalidInput, NotFound
from yibao.kit.ids import IdGenerator

#: an attached file's size limit (an appeal's scanned letter, a report)
MAX_FILE_BYTES = 10 * 1024 * 1024
ALLOWED_TYPES = frozenset(
    {"application/pdf", "image/png", "image/jpeg", "text/plain", "text/csv",
     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
)  # fmt: skip


@dataclass(frozen=True)
class Actor:
    username: str
    role: str
    #: AGENCY or INSTITUTION
    party: str
    #: the institutions the actor sees (None: every one, the agency)
    fixmedins_codes: frozenset[str] | None


@dataclass(frozen=True)
class HitRecord:
    """A rule hit as a case keeps it (`rule_hit`, real-time or post-hoc)."""

    hit_id: str
    rule_id: str
    category: str
    stage: str
    result_type: str
    fixmedins_code: str
    setl_id: str | None
    mdtrt_id: str | None
    amount: Decimal
    detected_at: datetime
    evidence: str


def _in_scope(actor: Actor, case: dict[str, Any]) -> bool:
    if actor.fixmedins_codes is not None and case["fixmedins_code"] not in actor.fixmedins_codes:
        return False
    return not (actor.party == INSTITUTION and case["state"] not in VISIBLE_TO_INSTITUTION)


def _case_or_404(conn: Connection, actor: Actor, case_id: str) -> dict[str, Any]:
    case = repo.get_case(conn, case_id)
    if case is None or not _in_scope(actor, case):
        raise NotFound(f"case_id: 案件不存在 '{case_id}' (no such case)")
    return case


def open_case(
    conn: Connection,
    ids: IdGenerator,
    actor: Actor,
    hits: Sequence[HitRecord],
    *,
    title: str | None,
    now: datetime,
) -> str:
    """A case of one institution from one or more hits not yet in a case."""
    if actor.party != AGENCY:
        raise InvalidInput("hit_ids: 只有医保经办机构可立案 (only the agency opens cases)")
    if not hits:
        raise InvalidInput("hit_ids: 至少一条疑点 (at least one rule hit)")
    codes = {h.fixmedins_code for h in hits}
    if len(codes) != 1:
        raise InvalidInput(
            f"hit_ids: 一个案件只涉及一家机构 (one institution per case; got {', '.join(sorted(codes))})"
        )
    taken = repo.hits_in_cases(conn, (h.hit_id for h in hits))
    if taken:
        first = sorted(taken.items())[0]
        raise Conflict(f"hit_ids: 疑点 {first[0]} 已在案件 {first[1]} 中 (already in a case)")
    (code,) = codes
    case_id = "CASE" + str(ids.next_id())
    days = [h.detected_at.date() for h in hits]
    categories = sorted({h.category for h in hits})
    at_stake = sum((h.amount for h in hits), Decimal(0))
    repo.insert_case(
        conn,
        {
            "case_id": case_id,
            "fixmedins_code": code,
            "title": (title or f"{code} {'、'.join(categories)}")[:200],
            "categories": ",".join(categories)[:400],
            "period_begin": min(days),
            "period_end": max(days),
            "state": State.OPEN.value,
            "assignee": None,
            "deadline": None,
            "notified_at": None,
            "amount_at_stake": at_stake,
            "decision": None,
            "decision_amount": None,
            "decided_at": None,
            "opened_by": actor.username,
            "opened_at": now,
            "updated_at": now,
            "version": 1,
        },
    )
    repo.insert_hits(
        conn,
        [
            {
                "case_id": case_id,
                "hit_id": h.hit_id,
                "rule_id": h.rule_id,
                "category": h.category,
                "stage": h.stage,
                "result_type": h.result_type,
                "setl_id": h.setl_id,
                "mdtrt_id": h.mdtrt_id,
                "amount": h.amount,
                "detected_at": h.detected_at,
                "evidence": h.evidence,
            }
            for h in hits
        ],
    )
    _step(conn, case_id, actor, now, kind="transition", to_state=State.OPEN.value,
          comment=f"由 {len(hits)} 条疑点立案 (opened from {len(hits)} hits)")  # fmt: skip
    return case_id


def _step(conn: Connection, case_id: str, actor: Actor, now: datetime, **values: Any) -> int:
    step_no = repo.next_step_no(conn, case_id)
    row = {
        "case_id": case_id,
        "step_no": step_no,
        "kind": "comment",
        "from_state": None,
        "to_state": None,
        "actor": actor.username,
        "actor_role": actor.role,
        "at": now,
        "comment": None,
        "assignee": None,
        "deadline": None,
        "decision": None,
        "amount": None,
        "file_id": None,
    }
    row.update(values)
    repo.insert_step(conn, row)
    return step_no


def _moved(conn: Connection, case: dict[str, Any], values: dict[str, Any]) -> None:
    if not repo.update_case(conn, case["case_id"], int(case["version"]), values):
        raise Conflict("case_id: 案件已被他人更新，请刷新后重试 (changed by someone else; reload)")


def transition(
    conn: Connection,
    actor: Actor,
    case_id: str,
    *,
    to: str,
    comment: str | None,
    decision: str | None,
    amount: Decimal | None,
    assignee: str | None,
    now: datetime,
) -> dict[str, Any]:
    case = _case_or_404(conn, actor, case_id)
    current = State(case["state"])
    target = parse_state(to)
    if actor.party == INSTITUTION and not (comment and comment.strip()):
        raise InvalidInput("comment: 申诉须写明理由 (an appeal states its reasons)")
    move = check_move(
        current=current,
        to=target,
        party=actor.party,
        now=now,
        notified_deadline=case["deadline"] if current == State.NOTIFIED else None,
        decision=decision,
        amount=amount,
        at_stake_fen=int(Decimal(case["amount_at_stake"]) * 100),
    )
    values: dict[str, Any] = {"state": move.to.value, "deadline": move.deadline, "updated_at": now}
    if assignee is not None:
        values["assignee"] = assignee or None
    if move.to == State.NOTIFIED:
        values["notified_at"] = now
    if move.to == State.DECIDED:
        assert move.decision is not None
        values.update(
            decision=move.decision.value,
            decision_amount=Decimal(move.amount_fen) / 100,
            decided_at=now,
            deadline=None,
        )
    _moved(conn, case, values)
    _step(conn, case_id, actor, now, kind="transition", from_state=current.value,
          to_state=move.to.value, comment=comment, assignee=values.get("assignee"),
          deadline=move.deadline, decision=move.decision.value if move.decision else None,
          amount=Decimal(move.amount_fen) / 100 if move.decision else None)  # fmt: skip
    return detail(conn, actor, case_id, now=now)


def assign(
    conn: Connection, actor: Actor, case_id: str, *, assignee: str, now: datetime
) -> dict[str, Any]:
    if actor.party != AGENCY:
        raise InvalidInput("assignee: 只有医保经办机构可指派 (only the agency assigns)")
    case = _case_or_404(conn, actor, case_id)
    if case["state"] == State.DECIDED.value:
        raise Conflict("case_id: 案件已处理 (the case is decided)")
    name = assignee.strip()
    if not name or len(name) > 50:
        raise InvalidInput("assignee: 1–50 个字符 (a username, 1–50 characters)")
    _moved(conn, case, {"assignee": name, "updated_at": now})
    _step(conn, case_id, actor, now, kind="assign", assignee=name)
    return detail(conn, actor, case_id, now=now)


def comment(
    conn: Connection, actor: Actor, case_id: str, *, text: str, now: datetime
) -> dict[str, Any]:
    _case_or_404(conn, actor, case_id)
    body = text.strip()
    if not body or len(body) > 4000:
        raise InvalidInput("comment: 1–4000 个字符 (1–4000 characters)")
    _step(conn, case_id, actor, now, kind="comment", comment=body)
    return detail(conn, actor, case_id, now=now)


def attach(
    conn: Connection,
    ids: IdGenerator,
    actor: Actor,
    case_id: str,
    *,
    filename: str,
    content_type: str,
    content: bytes,
    now: datetime,
) -> dict[str, Any]:
    case = _case_or_404(conn, actor, case_id)
    if case["state"] == State.DECIDED.value:
        raise Conflict("case_id: 案件已处理，不能再附文件 (the case is decided)")
    if actor.party == INSTITUTION and case["state"] not in (
        State.NOTIFIED.value,
        State.APPEALED.value,
    ):
        raise Conflict(
            "file: 机构只能在告知后、申诉复核前附文件 (only while notified or appealing)"
        )
    name = filename.strip().replace("/", "_").replace("\\", "_")
    if not name or len(name) > 200:
        raise InvalidInput("file: 文件名 1–200 个字符 (a file name of 1–200 characters)")
    kind = content_type.split(";")[0].strip().lower()
    if kind not in ALLOWED_TYPES:
        raise InvalidInput(f"file: 不支持的文件类型 '{kind}' (PDF, PNG, JPEG, text, CSV or XLSX)")
    if not content or len(content) > MAX_FILE_BYTES:
        raise InvalidInput("file: 文件为空或超过 10 MB (empty, or larger than 10 MB)")
    file_id = "F" + str(ids.next_id())
    repo.insert_file(
        conn,
        {
            "file_id": file_id,
            "case_id": case_id,
            "filename": name,
            "content_type": kind,
            "size": len(content),
            "sha256": hashlib.sha256(content).hexdigest(),
            "content": content,
            "uploaded_by": actor.username,
            "uploaded_at": now,
        },
    )
    _step(conn, case_id, actor, now, kind="attach", file_id=file_id, comment=name)
    return detail(conn, actor, case_id, now=now)


def file_content(conn: Connection, actor: Actor, case_id: str, file_id: str) -> dict[str, Any]:
    _case_or_404(conn, actor, case_id)
    found = repo.get_file(conn, case_id, file_id)
    if found is None:
        raise NotFound(f"file_id: 文件不存在 '{file_id}' (no such file)")
    return found


def _summary(case: dict[str, Any], now: datetime) -> dict[str, Any]:
    state = State(case["state"])
    deadline: datetime | None = case["deadline"]
    return {
        "case_id": case["case_id"],
        "fixmedins_code": case["fixmedins_code"],
        "title": case["title"],
        "categories": [c for c in str(case["categories"]).split(",") if c],
        "period_begin": case["period_begin"].isoformat(),
        "period_end": case["period_end"].isoformat(),
        "state": state.value,
        "state_name": STATE_NAMES[state],
        "next_states": [s.value for s in next_states(state)],
        "assignee": case["assignee"],
        "deadline": deadline.isoformat(sep=" ") if deadline else None,
        "overdue": bool(deadline and deadline < now and state != State.DECIDED),
        "amount_at_stake": str(Decimal(case["amount_at_stake"]).quantize(Decimal("0.01"))),
        "decision": case["decision"],
        "decision_name": DECISION_NAMES[Decision(case["decision"])] if case["decision"] else None,
        "decision_amount": (
            None
            if case["decision_amount"] is None
            else str(Decimal(case["decision_amount"]).quantize(Decimal("0.01")))
        ),
        "opened_at": case["opened_at"].isoformat(sep=" "),
        #: the clearing application the decision was deducted in (null: waiting for the next)
        "clr_appy_evt_id": case.get("clr_appy_evt_id"),
        "version": case["version"],
    }


def list_cases(
    conn: Connection,
    actor: Actor,
    *,
    state: str | None,
    fixmedins_code: str | None,
    category: str | None,
    assignee: str | None,
    overdue: bool,
    limit: int,
    offset: int,
    now: datetime,
) -> dict[str, Any]:
    states: list[str] | None = None
    if state:
        states = [parse_state(state).value]
    if actor.party == INSTITUTION:
        visible = [s.value for s in VISIBLE_TO_INSTITUTION]
        states = [s for s in (states or visible) if s in visible]
    total, rows = repo.list_cases(
        conn,
        fixmedins_codes=actor.fixmedins_codes,
        states=states,
        fixmedins_code=fixmedins_code,
        category=category,
        assignee=assignee,
        overdue_at=now if overdue else None,
        limit=limit,
        offset=offset,
    )
    return {"total": total, "items": [_summary(r, now) for r in rows]}


def detail(conn: Connection, actor: Actor, case_id: str, *, now: datetime) -> dict[str, Any]:
    case = _case_or_404(conn, actor, case_id)
    out = _summary(case, now)
    out["hits"] = [
        {
            "hit_id": h["hit_id"],
            "rule_id": h["rule_id"],
            "category": h["category"],
            "stage": h["stage"],
            "result_type": h["result_type"],
            "setl_id": h["setl_id"],
            "mdtrt_id": h["mdtrt_id"],
            "amount": str(Decimal(h["amount"]).quantize(Decimal("0.01"))),
            "detected_at": h["detected_at"].isoformat(sep=" "),
            "evidence": h["evidence"],
        }
        for h in repo.case_hits(conn, case_id)
    ]
    out["steps"] = [
        {
            "step_no": s["step_no"],
            "kind": s["kind"],
            "from_state": s["from_state"],
            "to_state": s["to_state"],
            "actor": s["actor"],
            "actor_role": s["actor_role"],
            "at": s["at"].isoformat(sep=" "),
            "comment": s["comment"],
            "assignee": s["assignee"],
            "deadline": s["deadline"].isoformat(sep=" ") if s["deadline"] else None,
            "decision": s["decision"],
            "amount": None
            if s["amount"] is None
            else str(Decimal(s["amount"]).quantize(Decimal("0.01"))),
            "file_id": s["file_id"],
        }
        for s in repo.case_steps(conn, case_id)
    ]
    out["files"] = [
        {**f, "uploaded_at": f["uploaded_at"].isoformat(sep=" ")}
        for f in repo.case_files(conn, case_id)
    ]
    return out


def decided_amounts(conn: Connection, case_id: str) -> tuple[str, Decimal] | None:
    """(decision, amount) of a decided recover/deduct case (what clearing deducts)."""
    case = repo.get_case(conn, case_id)
    if case is None or case["decision"] not in (Decision.RECOVER.value, Decision.DEDUCT.value):
        return None
    return str(case["decision"]), Decimal(case["decision_amount"])


__all__ = [
    "AGENCY",
    "INSTITUTION",
    "Actor",
    "HitRecord",
    "assign",
    "attach",
    "comment",
    "detail",
    "file_content",
    "list_cases",
    "open_case",
    "transition",
]
