"""The audit trail, for admins and auditors: pages of records with filters, and the chain's
state (docs/audit.md)."""

from __future__ import annotations

import html
from functools import cache
from importlib import resources
from string import Template
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse

from yibao.api.console.deps import AuditReader, PlatformDep
from yibao.api.console.routing import ConsoleRoute
from yibao.api.console.schemas import (
    ERRORS,
    MAX_OFFSET,
    AuditAnchorOut,
    AuditChainOut,
    AuditOut,
    AuditPage,
)
from yibao.interface.console import audit

router = APIRouter(prefix="/api/v1/audit", tags=["审计 audit"], route_class=ConsoleRoute)
#: the auditor's page (`/audit`): the records with filters and paging, and the chain's state
pages = APIRouter(include_in_schema=False)


@cache
def _template() -> Template:
    return Template(
        resources.files("yibao.web").joinpath("templates/audit.html").read_text(encoding="utf-8")
    )


@pages.get("/audit", response_class=HTMLResponse)
def audit_page(user: AuditReader) -> HTMLResponse:
    return HTMLResponse(
        _template().substitute(user=html.escape(user.display_name or user.username)),
        headers={"Cache-Control": "no-store"},
    )


@router.get(
    "",
    summary="审计日志, 最新在前 (audit trail, newest first; admin and auditor; reading is audited)",
    response_model=AuditPage,
    responses={k: ERRORS[k] for k in (400, 401, 403)},
)
def list_audit(
    user: AuditReader,
    platform: PlatformDep,
    request: Request,
    actor: str | None = None,
    action: Annotated[str | None, Query(examples=["psn.unmask"])] = None,
    target: str | None = None,
    tenant: Annotated[str | None, Query(description="操作人所属租户 the actor's tenant")] = None,
    role: Annotated[str | None, Query(description="操作人角色 the actor's role")] = None,
    since: Annotated[
        str | None, Query(description="起 (含) from, inclusive: yyyy-MM-dd[ HH:mm:ss]")
    ] = None,
    until: Annotated[
        str | None, Query(description="止 (不含) to, exclusive: yyyy-MM-dd[ HH:mm:ss]")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> AuditPage:
    rows, total = audit.page(
        platform,
        reader=user,
        actor=actor,
        action=action,
        target=target,
        tenant=tenant,
        role=role,
        since=since,
        until=until,
        limit=limit,
        offset=offset,
        address=request.client.host if request.client else None,
    )
    return AuditPage(
        items=[AuditOut(**{**r, "audit_id": str(r["audit_id"])}) for r in rows],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.get(
    "/chain",
    summary="审计链校验 (verify the hash chain: intact, or the first changed, removed or "
    "reordered record)",
    response_model=AuditChainOut,
    responses={k: ERRORS[k] for k in (401, 403)},
)
def audit_chain(_user: AuditReader, platform: PlatformDep) -> AuditChainOut:
    return AuditChainOut(**audit.chain_state(platform))


@router.get(
    "/export",
    summary="导出审计记录 (export [since, until) as CSV or JSON with the hashes; audited)",
    responses={
        200: {
            "content": {"text/csv": {}, "application/json": {}},
            "description": "the records in chain order",
        },
        **{k: ERRORS[k] for k in (400, 401, 403)},
    },
    response_class=Response,
)
def export_audit(
    user: AuditReader,
    platform: PlatformDep,
    request: Request,
    since: Annotated[str, Query(description="起 (含) from, inclusive: yyyy-MM-dd[ HH:mm:ss]")],
    until: Annotated[str, Query(description="止 (不含) to, exclusive: yyyy-MM-dd[ HH:mm:ss]")],
    format: Annotated[str, Query(description="csv | json")] = "csv",
) -> Response:
    text, _count = audit.export(
        platform,
        user,
        since=since,
        until=until,
        fmt=format,
        address=request.client.host if request.client else None,
    )
    media = "application/json" if format == "json" else "text/csv; charset=utf-8"
    name = f"audit-{since[:10]}-{until[:10]}.{format}"
    return Response(
        text,
        media_type=media,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


@router.post(
    "/anchors",
    summary="锚定审计链头 (record the chain head as an anchor and return it: keep it elsewhere; "
    "`yibao audit verify --anchors` checks it)",
    response_model=AuditAnchorOut,
    status_code=201,
    responses={k: ERRORS[k] for k in (401, 403)},
)
def take_anchor(user: AuditReader, platform: PlatformDep, request: Request) -> AuditAnchorOut:
    taken = audit.take_anchor(
        platform, user, address=request.client.host if request.client else None
    )
    return AuditAnchorOut(**taken)
