"""The audit trail: one `audit_log` row for every change and every unmasking.

`detail` is JSON; personal data in it is masked by the caller (see `masking`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy import Connection

from yibao.enrolment.repo import audit as repo
from yibao.kit.clock import fmt_datetime, local_naive_now
from yibao.kit.ids import IdGenerator


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return fmt_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"not serialisable: {type(value).__name__}")


def record(
    conn: Connection,
    *,
    ids: IdGenerator,
    actor: str,
    action: str,
    target: str | None,
    detail: Mapping[str, Any] | None = None,
    at: datetime | None = None,
) -> int:
    """Append one audit row; returns its id."""
    audit_id = ids.next_id()
    repo.insert_entry(
        conn,
        audit_id=audit_id,
        at=at or local_naive_now(),
        actor=actor[:50],
        action=action[:50],
        target=None if target is None else target[:100],
        detail=None if detail is None else orjson.dumps(detail, default=_default).decode(),
    )
    return audit_id


def list_entries(
    conn: Connection,
    *,
    actor: str | None = None,
    action: str | None = None,
    target: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Newest first."""
    rows = repo.list_entries(
        conn, actor=actor, action=action, target=target, limit=limit, offset=offset
    )
    out = []
    for entry in rows:
        entry["detail"] = orjson.loads(entry["detail"]) if entry["detail"] else None
        out.append(entry)
    return out
