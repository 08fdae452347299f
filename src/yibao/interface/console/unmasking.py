"""Unmasking personal data in the console (issue 17; domain.md §5).

Seeing a person unmasked needs three things:

1. the permission `person.unmask` (`has_permission`; the role → permission table is data,
   docs/console.md);
2. a **stated purpose**: a code from `PURPOSES`, optionally followed by `:` and a note (a case
   or ticket number), e.g. `case_review:AJ-2024-0012` — sent as `?purpose=` or the header
   `X-Unmask-Purpose`;
3. staying under the per-user limit: `unmask_limit_per_hour` unmaskings in a sliding hour,
   counted in the row store (`unmask_log`), so the limit holds across server processes.

Every unmasking is audited (`psn.unmask`, with the purpose and how many persons it showed) and
logged in `unmask_log`; an unusual volume — `unmask_alert_per_hour` unmaskings or
`unmask_alert_records` persons within the hour, a refusal at the limit, or an unmasking
outside `unmask_office_hours` — raises a **console alert** (`console_alert`, `GET /api/v1/alerts`) for the security administrator,
once per user, kind and hour.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import Connection

from yibao.enrolment import audit
from yibao.enrolment.masking import MASKED_FIELDS
from yibao.enrolment.repo import unmasking as repo
from yibao.errors import Forbidden, InvalidInput, NotFound, TooManyAttempts
from yibao.kit.clock import local_naive_now
from yibao.runtime import Platform
from yibao.users.service import User

#: the permission that lets a role see personal data unmasked
UNMASK = "person.unmask"
#: read the console's security alerts; acknowledge them
ALERTS_READ = "alert.read"
ALERTS_ACK = "alert.ack"

#: why personal data may be unmasked: code → 中文
PURPOSES: dict[str, str] = {
    "enrolment_check": "参保登记核对",
    "benefit_review": "待遇审核",
    "case_review": "稽核办案",
    "complaint": "投诉信访处理",
    "judicial": "司法协查",
    "audit_check": "审计检查",
}

PURPOSE_HEADER = "X-Unmask-Purpose"
_WINDOW = timedelta(hours=1)


def has_permission(user: User, permission: str) -> bool:
    """The role's grant in the permission table (`users.permissions`, docs/console.md)."""
    return user.can(permission)


def require(user: User, permission: str, what: str) -> None:
    if not has_permission(user, permission):
        raise Forbidden(f"无权{what} (the role '{user.role}' lacks the permission '{permission}')")


@dataclass(frozen=True)
class Purpose:
    code: str
    note: str | None

    @property
    def label(self) -> str:
        return PURPOSES[self.code]

    def as_detail(self) -> dict[str, Any]:
        return {"purpose": self.code, "purpose_label": self.label, "purpose_note": self.note}


def _choices() -> str:
    return ", ".join(f"{code} {label}" for code, label in PURPOSES.items())


def parse_purpose(text: str | None) -> Purpose:
    """`code` or `code:note` → Purpose; InvalidInput naming the field otherwise."""
    if text is None or not text.strip():
        raise InvalidInput(
            "purpose: 查看未脱敏信息须说明用途 (unmasking needs a stated purpose: "
            f"?purpose=<code>[:<case or ticket no.>], one of: {_choices()})"
        )
    code, _sep, note = text.strip().partition(":")
    code = code.strip()
    if code not in PURPOSES:
        raise InvalidInput(
            f"purpose: 用途代码不存在 (unknown purpose code; use one of: {_choices()})"
        )
    note = note.strip()
    if len(note) > 200:
        raise InvalidInput(
            "purpose: 用途说明最长 200 字 (the note after ':' is at most 200 characters)"
        )
    return Purpose(code, note or None)


def authorise(platform: Platform, user: User, purpose_text: str | None) -> Purpose:
    """Before reading: the permission, the purpose and the per-user limit. A refusal at the
    limit is audited and raises an alert; nothing else is written."""
    require(user, UNMASK, "查看未脱敏的个人信息 (to unmask personal data)")
    purpose = parse_purpose(purpose_text)
    settings = platform.settings
    now = local_naive_now()
    with platform.db.read() as conn:
        used, _records = repo.usage_since(conn, username=user.username, since=now - _WINDOW)
    if used >= settings.unmask_limit_per_hour:

        def refuse(conn: Connection) -> None:
            audit.record(
                conn,
                ids=platform.ids,
                actor=user.username,
                action="psn.unmask_refused",
                target=None,
                detail={**purpose.as_detail(), "used": used},
            )
            _alert(
                platform,
                conn,
                now=now,
                kind="unmask_refused",
                user=user,
                message=(
                    f"用户 {user.username} 一小时内解除脱敏达上限 {settings.unmask_limit_per_hour}"
                    f" 次后仍在请求 (unmasking refused at the hourly limit)"
                ),
                detail={"used": used, "limit": settings.unmask_limit_per_hour},
            )

        platform.db.writer.run_sync(refuse)
        raise TooManyAttempts(
            f"解除脱敏过于频繁: 每小时最多 {settings.unmask_limit_per_hour} 次 (unmasking limit "
            "reached for this hour; try later, or ask the security administrator)"
        )
    return purpose


def record(
    platform: Platform,
    user: User,
    purpose: Purpose,
    *,
    target: str | None,
    psn_nos: list[str],
) -> None:
    """After reading: audit the unmasking, log it for the limit, and raise an alert when the
    user's volume in the last hour is unusual. One transaction."""
    settings = platform.settings
    now = local_naive_now()
    records = len(psn_nos)

    def job(conn: Connection) -> None:
        audit.record(
            conn,
            ids=platform.ids,
            actor=user.username,
            action="psn.unmask",
            target=target,
            detail={
                "fields": sorted(MASKED_FIELDS),
                "records": records,
                **purpose.as_detail(),
                **({"psn_no": psn_nos} if target is None else {}),
            },
        )
        repo.insert_unmask(
            conn,
            unmask_id=platform.ids.next_id(),
            at=now,
            username=user.username,
            purpose=purpose.code,
            purpose_note=purpose.note,
            records=records,
        )
        used, shown = repo.usage_since(conn, username=user.username, since=now - _WINDOW)
        if used >= settings.unmask_alert_per_hour:
            _alert(
                platform,
                conn,
                now=now,
                kind="unmask_volume",
                user=user,
                message=(
                    f"用户 {user.username} 一小时内解除脱敏 {used} 次 (unusual unmasking volume: "
                    f"{used} in an hour; alert at {settings.unmask_alert_per_hour})"
                ),
                detail={"used": used, "threshold": settings.unmask_alert_per_hour},
            )
        if not _in_hours(now, settings.unmask_office_hours):
            _alert(
                platform,
                conn,
                now=now,
                kind="unmask_off_hours",
                user=user,
                message=(
                    f"用户 {user.username} 在工作时间 {settings.unmask_office_hours} 之外解除脱敏 "
                    f"(unmasking outside office hours at {now:%H:%M})"
                ),
                detail={"at": f"{now:%H:%M}", "office_hours": settings.unmask_office_hours},
            )
        if shown >= settings.unmask_alert_records:
            _alert(
                platform,
                conn,
                now=now,
                kind="unmask_records",
                user=user,
                message=(
                    f"用户 {user.username} 一小时内查看 {shown} 人未脱敏信息 (unusual number of "
                    f"persons unmasked: {shown} in an hour; alert at "
                    f"{settings.unmask_alert_records})"
                ),
                detail={"records": shown, "threshold": settings.unmask_alert_records},
            )

    platform.db.writer.run_sync(job)


def _in_hours(now: datetime, hours: str) -> bool:
    """`hours` "HH:MM-HH:MM" (a range over midnight when the end is before the start)."""
    start, _sep, end = hours.partition("-")
    at = f"{now:%H:%M}"
    return start <= at < end if start <= end else (at >= start or at < end)


def _alert(
    platform: Platform,
    conn: Connection,
    *,
    now: datetime,
    kind: str,
    user: User,
    message: str,
    detail: dict[str, Any],
) -> None:
    """Raise an alert unless one of this kind for this user was raised in the last hour."""
    if repo.alert_raised_since(conn, username=user.username, kind=kind, since=now - _WINDOW):
        return
    repo.insert_alert(
        conn,
        alert_id=platform.ids.next_id(),
        at=now,
        kind=kind,
        username=user.username,
        message=message,
        detail=orjson.dumps(detail).decode(),
    )


# -- the alerts in the console ---------------------------------------------------------------


def _shown(row: dict[str, Any]) -> dict[str, Any]:
    return {
        **row,
        "alert_id": str(row["alert_id"]),
        "detail": orjson.loads(row["detail"]) if row.get("detail") else None,
        "open": row.get("acked_at") is None,
    }


def list_alerts(
    platform: Platform, user: User, *, open_only: bool, limit: int, offset: int
) -> dict[str, Any]:
    require(user, ALERTS_READ, "查看安全告警 (to read the security alerts)")
    with platform.db.read() as conn:
        open_count, total, rows = repo.list_alerts(
            conn, open_only=open_only, limit=limit, offset=offset
        )
    return {"open": open_count, "total": total, "items": [_shown(r) for r in rows]}


def ack_alert(platform: Platform, user: User, alert_id: str) -> dict[str, Any]:
    require(user, ALERTS_ACK, "确认安全告警 (to acknowledge security alerts)")
    try:
        key = int(alert_id)
    except ValueError:
        raise NotFound(f"告警不存在 (no alert '{alert_id[:30]}')") from None
    now = local_naive_now()

    def job(conn: Connection) -> dict[str, Any] | None:
        if repo.get_alert(conn, key) is None:
            return None
        if repo.ack_alert(conn, alert_id=key, at=now, username=user.username):
            audit.record(
                conn,
                ids=platform.ids,
                actor=user.username,
                action="alert.ack",
                target=str(key),
                detail=None,
            )
        return repo.get_alert(conn, key)

    row = platform.db.writer.run_sync(job)
    if row is None:
        raise NotFound(f"告警不存在 (no alert '{alert_id[:30]}')")
    return _shown(row)
