"""The audit trail for the console (admins and auditors; the edge checks the role)."""

from __future__ import annotations

from typing import Any

from yibao.enrolment import audit
from yibao.runtime import Platform


def list_entries(
    platform: Platform,
    *,
    actor: str | None = None,
    action: str | None = None,
    target: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Audit rows, newest first (`detail` decoded from JSON)."""
    with platform.db.read() as conn:
        return audit.list_entries(
            conn, actor=actor, action=action, target=target, limit=limit, offset=offset
        )
