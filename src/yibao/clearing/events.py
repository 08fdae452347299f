"""The steps of clearing: every state change or act is a numbered `clr_event` row (who, when,
why); `reason_text` is the one check of a step's reason."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from yibao.clearing.repo import applications as appy_repo
from yibao.errors import InvalidInput
from yibao.kit.ids import IdGenerator

APPLICATION = "清算申请"
ORDER = "拨付单"
DEPOSIT = "质量保证金"


def record_step(
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


def reason_text(reason: str | None, *, required: bool, field: str = "reason") -> str | None:
    text = (reason or "").strip()
    if required and not text:
        raise InvalidInput(f"{field}: 请填写原因 (a reason is required for this step)")
    if len(text) > 500:
        raise InvalidInput(f"{field}: 原因不超过500字 (at most 500 characters)")
    return text or None
