"""The audit trail for the console (the auditor reads it; the edge checks the role): pages of
records with filters, the chain's state, and the helper every console use case records with."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from yibao.enrolment import audit
from yibao.errors import InvalidInput
from yibao.kit.clock import parse_datetime, zone
from yibao.runtime import Platform
from yibao.users.service import User


def who(user: User) -> dict[str, str | None]:
    """The actor fields of a console user's audit record: name, role and tenant (the tenant
    once users carry one; the agency's users until then)."""
    tenant = getattr(user, "tenant", None)
    return {
        "actor": user.username,
        "role": user.role,
        "tenant": str(tenant) if tenant is not None else "agency",
    }


def record(
    conn: Connection,
    platform: Platform,
    user: User,
    *,
    action: str,
    target: str | None = None,
    detail: Mapping[str, Any] | None = None,
    address: str | None = None,
    purpose: str | None = None,
    records: int | None = None,
) -> int:
    """Append a record for `user`'s console action in the caller's transaction."""
    return audit.record(
        conn,
        ids=platform.ids,
        action=action,
        target=target,
        detail=detail,
        address=address,
        purpose=purpose,
        records=records,
        **who(user),  # type: ignore[arg-type]  # actor is always a str
    )


async def record_request(
    platform: Platform,
    user: User | None,
    *,
    method: str,
    route: str,
    params: Mapping[str, str],
    status: int,
    address: str | None,
    purpose: str | None = None,
    records: int | None = None,
) -> None:
    """Audit one console request (`console.<method>` on `route`) with its answer's status; the
    actor is "-" when the request carried no valid sign-in."""

    def job(conn: Connection) -> None:
        detail = {"status": status, **({"params": dict(params)} if params else {})}
        if user is None:
            audit.record(conn, ids=platform.ids, actor="-", action=f"console.{method.lower()}",
                         target=route, detail=detail, address=address, purpose=purpose,
                         records=records)  # fmt: skip
        else:
            record(conn, platform, user, action=f"console.{method.lower()}", target=route,
                   detail=detail, address=address, purpose=purpose, records=records)  # fmt: skip

    await platform.db.writer.run(job)


def parse_moment(value: str | None, field: str) -> datetime | None:
    """A filter time: `yyyy-MM-dd`, `yyyy-MM-dd HH:mm:ss` or ISO 8601 (an offset is converted
    to the platform's zone); InvalidInput naming the field otherwise."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return parse_datetime(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(
            f"{field}: 时间格式应为 yyyy-MM-dd 或 yyyy-MM-dd HH:mm:ss (expected a date or a "
            f"datetime): '{text[:40]}'"
        ) from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(zone()).replace(tzinfo=None)
    return moment


def list_entries(
    platform: Platform,
    *,
    actor: str | None = None,
    action: str | None = None,
    target: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Audit rows, newest first (`detail` decoded from JSON); not itself audited."""
    with platform.db.read() as conn:
        return audit.list_entries(
            conn, actor=actor, action=action, target=target, limit=limit, offset=offset
        )


def page(
    platform: Platform,
    *,
    reader: User | None = None,
    actor: str | None = None,
    action: str | None = None,
    target: str | None = None,
    tenant: str | None = None,
    role: str | None = None,
    since: str | None = None,
    until: str | None = None,
    limit: int = 100,
    offset: int = 0,
    address: str | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """A page of records, newest first (`detail` decoded from JSON), and how many match.
    `since` is inclusive, `until` exclusive. The reading is itself audited (`audit.view`) when
    the reader is given."""
    start, end = parse_moment(since, "since"), parse_moment(until, "until")
    if start is not None and end is not None and start >= end:
        raise InvalidInput("until: 应晚于 since (until must be after since)")
    filters = {"actor": actor, "action": action, "target": target, "tenant": tenant, "role": role}
    with platform.db.read() as conn:
        rows = audit.list_entries(
            conn, **filters, since=start, until=end, limit=limit, offset=offset
        )
        total = audit.count_entries(conn, **filters, since=start, until=end)
    if reader is not None:
        shown = {k: v for k, v in filters.items() if v}
        detail = {**shown, "since": start, "until": end, "offset": offset}
        platform.db.writer.run_sync(
            lambda conn: record(
                conn,
                platform,
                reader,
                action="audit.view",
                detail=detail,
                address=address,
                records=len(rows),
            )
        )
    return rows, total


def chain_state(platform: Platform) -> dict[str, Any]:
    """Whether the chain verifies, where it starts and ends, and the first bad record."""
    with platform.db.read() as conn:
        report = audit.verify(conn)
    return {
        "ok": report.ok,
        "checked": report.checked,
        "start_seq": report.start_seq,
        "head_seq": report.head_seq,
        "bad_seq": report.bad_seq,
        "bad_audit_id": None if report.bad_audit_id is None else str(report.bad_audit_id),
        "problem": report.problem,
        "message": report.message,
    }
