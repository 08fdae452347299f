"""The audit trail for the console (the auditor reads it; the edge checks the role): pages of
records with filters, the chain's state, and the helper every console use case records with."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection

from yibao.enrolment import audit
from yibao.errors import InvalidInput
from yibao.kit.clock import fmt_datetime, parse_datetime, zone
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
    query: list[str] | None = None,
) -> None:
    """Audit one console request (`console.<method>` on `route`) with its answer's status; the
    actor is "-" when the request carried no valid sign-in."""

    def job(conn: Connection) -> None:
        detail: dict[str, Any] = {"status": status}
        if params:
            detail["params"] = dict(params)
        if query:
            detail["query"] = query
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


#: the most records one console export carries (narrow the period, or use `yibao audit export`)
MAX_EXPORT = 100_000


def export(
    platform: Platform,
    reader: User,
    *,
    since: str | None,
    until: str | None,
    fmt: str,
    address: str | None = None,
) -> tuple[str, int]:
    """The records of [since, until) in chain order with their hashes, as CSV or JSON text, and
    how many; audited (`audit.export`). InvalidInput for a bad period or format, or a period
    holding more than MAX_EXPORT records."""
    if fmt not in ("csv", "json"):
        raise InvalidInput(f"format: 应为 csv 或 json '{fmt[:20]}' (expected csv or json)")
    start, end = parse_moment(since, "since"), parse_moment(until, "until")
    if start is None or end is None:
        raise InvalidInput(
            f"{'since' if start is None else 'until'}: 导出须给出起止时间 (an export needs since "
            "and until)"
        )
    if start >= end:
        raise InvalidInput("until: 应晚于 since (until must be after since)")
    with platform.db.read() as conn:
        if audit.count_entries(conn, since=start, until=end) > MAX_EXPORT:
            raise InvalidInput(
                f"until: 期间内记录超过 {MAX_EXPORT} 条, 请缩短期间或使用 yibao audit export "
                f"(more than {MAX_EXPORT} records: narrow the period, or use the CLI)"
            )
        rows = list(audit.export_entries(conn, since=start, until=end))
    text = render(rows, fmt)
    detail = {"since": start, "until": end, "format": fmt}
    platform.db.writer.run_sync(
        lambda conn: record(
            conn,
            platform,
            reader,
            action="audit.export",
            detail=detail,
            address=address,
            records=len(rows),
        )
    )
    return text, len(rows)


def render(rows: list[dict[str, Any]], fmt: str) -> str:
    """Exported records as CSV (a header row, then one row each) or a JSON array; times as
    'YYYY-MM-DD HH:MM:SS', `audit_id` as text, `detail` as the stored JSON text."""

    def plain(row: Mapping[str, Any]) -> dict[str, Any]:
        out = {}
        for key in audit.EXPORT_FIELDS:
            value = row[key]
            if isinstance(value, datetime):
                value = fmt_datetime(value)
            elif key == "audit_id":
                value = str(value)
            out[key] = value
        return out

    if fmt == "json":
        return orjson.dumps([plain(r) for r in rows], option=orjson.OPT_INDENT_2).decode() + "\n"
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(audit.EXPORT_FIELDS)
    for row in rows:
        shown = plain(row)
        writer.writerow(["" if shown[k] is None else shown[k] for k in audit.EXPORT_FIELDS])
    return buf.getvalue()


def take_anchor(platform: Platform, user: User, *, address: str | None = None) -> dict[str, Any]:
    """Record the chain head as an anchor (audited `audit.anchor`) and return it, to be kept
    outside the platform."""

    def job(conn: Connection) -> dict[str, Any]:
        taken = audit.anchor(conn, ids=platform.ids)
        record(conn, platform, user, action="audit.anchor", detail=taken, address=address)
        return taken

    return platform.db.writer.run_sync(job)
