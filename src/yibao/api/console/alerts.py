"""Security alerts for the security administrator: unusual unmasking volume, refusals at
the hourly limit (`yibao.interface.console.unmasking`). The console shows the open count."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from yibao.api.console.deps import AlertAcknowledger, AlertReader, PlatformDep
from yibao.api.console.routing import ConsoleRoute
from yibao.api.console.schemas import ERRORS, MAX_OFFSET, AlertOut, AlertPage
from yibao.interface.console import unmasking

router = APIRouter(prefix="/api/v1/alerts", tags=["安全告警 alerts"], route_class=ConsoleRoute)


@router.get(
    "",
    summary="安全告警, 最新在前 (security alerts, newest first; permission alert.read)",
    response_model=AlertPage,
    responses={k: ERRORS[k] for k in (400, 401, 403)},
)
def list_alerts(
    user: AlertReader,
    platform: PlatformDep,
    open_only: Annotated[
        bool, Query(alias="open", description="仅未确认的 (only those not acknowledged)")
    ] = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> AlertPage:
    page = unmasking.list_alerts(platform, user, open_only=open_only, limit=limit, offset=offset)
    return AlertPage(
        open=page["open"], total=page["total"], items=[AlertOut(**r) for r in page["items"]]
    )


@router.post(
    "/{alert_id}/ack",
    summary="确认告警 (acknowledge an alert; permission alert.ack; audited)",
    response_model=AlertOut,
    responses={k: ERRORS[k] for k in (400, 401, 403, 404)},
)
def ack_alert(alert_id: str, user: AlertAcknowledger, platform: PlatformDep) -> AlertOut:
    return AlertOut(**unmasking.ack_alert(platform, user, alert_id))
