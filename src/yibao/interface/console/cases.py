"""Review cases for the console (docs/cases.md): the agency's reviewers open cases from rule
hits and work them to a decision; an institution reads and appeals its own once notified.
Every write is audited (`case.open`, `case.transition`, `case.assign`, `case.comment`,
`case.attach`); a decided `deduct`/`recover` case is what clearing deducts.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection

from yibao.cases import repo, service
from yibao.cases.service import AGENCY, INSTITUTION, Actor, HitRecord
from yibao.clearing import service as clearing
from yibao.enrolment import audit
from yibao.errors import InvalidInput, NotFound
from yibao.interface.console.auth import User
from yibao.kit.clock import local_naive_now
from yibao.runtime import Platform
from yibao.users.permissions import TenantKind, tenant_of


def actor_of(user: User) -> Actor:
    party = AGENCY if tenant_of(user.role) == TenantKind.AGENCY else INSTITUTION
    return Actor(user.username, user.role, party, user.fixmedins_codes)


def _audit(
    conn: Connection, platform: Platform, user: User, action: str, case_id: str, **detail: Any
) -> None:
    audit.record(
        conn, ids=platform.ids, actor=user.username, action=action, target=case_id,
        detail={"role": user.role, **detail},
    )  # fmt: skip


def list_cases(
    platform: Platform,
    user: User,
    *,
    state: str | None,
    fixmedins_code: str | None,
    category: str | None,
    assignee: str | None,
    overdue: bool,
    limit: int,
    offset: int,
) -> dict[str, Any]:
    with platform.db.read() as conn:
        return service.list_cases(
            conn, actor_of(user), state=state, fixmedins_code=fixmedins_code, category=category,
            assignee=assignee, overdue=overdue, limit=limit, offset=offset,
            now=local_naive_now(),
        )  # fmt: skip


def get_case(platform: Platform, user: User, case_id: str) -> dict[str, Any]:
    with platform.db.read() as conn:
        return service.detail(conn, actor_of(user), case_id, now=local_naive_now())


def _hit_records(rows: Sequence[dict[str, Any]]) -> list[HitRecord]:
    return [
        HitRecord(
            hit_id=str(r["hit_id"]),
            rule_id=str(r["rule_id"]),
            category=str(r["category"]),
            stage=str(r["stage"]),
            result_type=str(r["result_type"]),
            fixmedins_code=str(r["fixmedins_code"]),
            setl_id=r.get("setl_id"),
            mdtrt_id=r.get("mdtrt_id"),
            amount=Decimal(r["amount"]),
            detected_at=r["detected_at"],
            evidence=_evidence(r),
        )
        for r in rows
    ]


def _evidence(hit: dict[str, Any]) -> str:
    import orjson

    return orjson.dumps(
        {
            "reason": hit.get("reason"),
            "threshold": hit.get("threshold"),
            "value_found": hit.get("value_found"),
            "line_ids": hit.get("line_ids"),
            "action": hit.get("action"),
            "detail": orjson.loads(hit["evidence"]) if hit.get("evidence") else None,
        },
        option=orjson.OPT_SORT_KEYS,
    ).decode()


def open_hits(
    platform: Platform,
    user: User,
    *,
    fixmedins_code: str | None,
    category: str | None,
    since: datetime | None,
    limit: int,
    offset: int,
) -> dict[str, Any]:
    with platform.db.read() as conn:
        total, rows = repo.open_hits(
            conn, fixmedins_codes=user.fixmedins_codes, fixmedins_code=fixmedins_code,
            category=category, since=since, limit=limit, offset=offset,
        )  # fmt: skip
    return {
        "total": total,
        "items": [
            {
                "hit_id": r["hit_id"],
                "rule_id": r["rule_id"],
                "category": r["category"],
                "stage": r["stage"],
                "result_type": r["result_type"],
                "fixmedins_code": r["fixmedins_code"],
                "setl_id": r.get("setl_id"),
                "mdtrt_id": r.get("mdtrt_id"),
                "amount": str(Decimal(r["amount"]).quantize(Decimal("0.01"))),
                "reason": r.get("reason"),
                "detected_at": r["detected_at"].isoformat(sep=" "),
            }
            for r in rows
        ],
    }


async def open_case(
    platform: Platform, user: User, *, hit_ids: Sequence[str], title: str | None
) -> dict[str, Any]:
    wanted = list(dict.fromkeys(h.strip() for h in hit_ids if h.strip()))
    if not wanted or len(wanted) > 500:
        raise InvalidInput("hit_ids: 1–500 条疑点 (1 to 500 rule hits)")
    actor = actor_of(user)

    def job(conn: Connection) -> dict[str, Any]:
        rows = repo.rule_hits(conn, wanted)
        found = {str(r["hit_id"]) for r in rows}
        missing = [h for h in wanted if h not in found]
        if missing:
            raise NotFound(f"hit_ids: 疑点不存在 '{missing[0]}' (no such rule hit)")
        now = local_naive_now()
        case_id = service.open_case(conn, platform.ids, actor, _hit_records(rows), title=title,
                                    now=now)  # fmt: skip
        _audit(conn, platform, user, "case.open", case_id, hits=len(rows))
        return service.detail(conn, actor, case_id, now=now)

    return await platform.db.writer.run(job)


async def transition(
    platform: Platform,
    user: User,
    case_id: str,
    *,
    to: str,
    comment: str | None,
    decision: str | None,
    amount: Decimal | None,
    assignee: str | None,
) -> dict[str, Any]:
    actor = actor_of(user)

    def job(conn: Connection) -> dict[str, Any]:
        now = local_naive_now()
        out = service.transition(conn, actor, case_id, to=to, comment=comment, decision=decision,
                                 amount=amount, assignee=assignee, now=now)  # fmt: skip
        _audit(conn, platform, user, "case.transition", case_id, to=to, decision=decision,
               amount=amount)  # fmt: skip
        if out["decision"] in ("recover", "deduct"):
            # the decision feeds clearing: deducted in the institution's open application, or
            # in its next 3203 (clearing.service.take_case_decisions)
            appy = clearing.open_application(conn, fixmedins_code=out["fixmedins_code"])
            if appy is not None:
                clearing.take_case_decisions(conn, str(appy["clr_appy_evt_id"]), ids=platform.ids,
                                             actor=user.username, now=now)  # fmt: skip
                out = service.detail(conn, actor, case_id, now=now)
        return out

    return await platform.db.writer.run(job)


async def assign(platform: Platform, user: User, case_id: str, assignee: str) -> dict[str, Any]:
    actor = actor_of(user)

    def job(conn: Connection) -> dict[str, Any]:
        out = service.assign(conn, actor, case_id, assignee=assignee, now=local_naive_now())
        _audit(conn, platform, user, "case.assign", case_id, assignee=assignee)
        return out

    return await platform.db.writer.run(job)


async def comment(platform: Platform, user: User, case_id: str, text: str) -> dict[str, Any]:
    actor = actor_of(user)

    def job(conn: Connection) -> dict[str, Any]:
        out = service.comment(conn, actor, case_id, text=text, now=local_naive_now())
        _audit(conn, platform, user, "case.comment", case_id)
        return out

    return await platform.db.writer.run(job)


async def attach(
    platform: Platform, user: User, case_id: str, *, filename: str, content_type: str,
    content: bytes,
) -> dict[str, Any]:  # fmt: skip
    actor = actor_of(user)

    def job(conn: Connection) -> dict[str, Any]:
        out = service.attach(conn, platform.ids, actor, case_id, filename=filename,
                             content_type=content_type, content=content, now=local_naive_now())  # fmt: skip
        _audit(conn, platform, user, "case.attach", case_id, filename=filename, size=len(content))
        return out

    return await platform.db.writer.run(job)


def file_content(platform: Platform, user: User, case_id: str, file_id: str) -> dict[str, Any]:
    with platform.db.read() as conn:
        return service.file_content(conn, actor_of(user), case_id, file_id)
