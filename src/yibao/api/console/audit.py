"""The audit trail, for admins and auditors."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from yibao.api.console.deps import AuditReader, PlatformDep
from yibao.api.console.routing import ConsoleRoute
from yibao.api.console.schemas import ERRORS, MAX_OFFSET, AuditOut, AuditPage
from yibao.interface.console import audit

router = APIRouter(prefix="/api/v1/audit", tags=["审计 audit"], route_class=ConsoleRoute)


@router.get(
    "",
    summary="审计日志, 最新在前 (audit trail, newest first; admin and auditor)",
    response_model=AuditPage,
    responses={k: ERRORS[k] for k in (400, 401, 403)},
)
def list_audit(
    _user: AuditReader,
    platform: PlatformDep,
    actor: str | None = None,
    action: Annotated[str | None, Query(examples=["psn.unmask"])] = None,
    target: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> AuditPage:
    rows = audit.list_entries(
        platform, actor=actor, action=action, target=target, limit=limit, offset=offset
    )
    return AuditPage(items=[AuditOut(**{**r, "audit_id": str(r["audit_id"])}) for r in rows])
