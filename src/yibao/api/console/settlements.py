"""Settlements and reconciliation results, for the agency and the institutions (each sees
its own, a chain its stores'; another tenant's record answers 404 as if absent).

- `GET /api/v1/settlements?fixmedins_code=&psn_no=&since=&until=&limit=&offset=`
- `GET /api/v1/settlements/{setl_id}` — with the fee lines and the fund split
- `GET /api/v1/reconciliation/results?fixmedins_code=&limit=&offset=` — 3202 result files
- `GET /api/v1/reconciliation/results/{file_qury_no}` — the file's bytes (zip)
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from yibao.api.console.deps import PlatformDep, ReconcileReader, SettlementReader
from yibao.api.console.routing import ConsoleRoute
from yibao.api.console.schemas import (
    ERRORS,
    MAX_OFFSET,
    ReconcileFileOut,
    ReconcileFilePage,
    SettlementDetail,
    SettlementPage,
    SettlementRow,
)
from yibao.interface.console import settlements
from yibao.kit.clock import zone

router = APIRouter(prefix="/api/v1", tags=["结算 settlements"], route_class=ConsoleRoute)

_READ: dict[int | str, dict[str, Any]] = {k: ERRORS[k] for k in (400, 401, 403, 404)}


@router.get(
    "/settlements",
    summary="结算列表, 最新在前 (settlements, newest first; an institution sees its own)",
    response_model=SettlementPage,
    responses={k: ERRORS[k] for k in (400, 401, 403)},
)
def list_settlements(
    user: SettlementReader,
    platform: PlatformDep,
    fixmedins_code: Annotated[str | None, Query(max_length=30)] = None,
    psn_no: Annotated[str | None, Query(max_length=30)] = None,
    since: Annotated[datetime | None, Query(description="结算时间起 (含) setl_time ≥")] = None,
    until: Annotated[datetime | None, Query(description="结算时间止 (不含) setl_time <")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> SettlementPage:
    total, rows = settlements.list_settlements(
        platform,
        user,
        fixmedins_code=fixmedins_code,
        psn_no=psn_no,
        since=_naive(since),
        until=_naive(until),
        limit=limit,
        offset=offset,
    )
    return SettlementPage(total=total, items=[SettlementRow(**r) for r in rows])


def _naive(value: datetime | None) -> datetime | None:
    """Times are stored in the platform's zone without an offset."""
    if value is None or value.tzinfo is None:
        return value
    return value.astimezone(zone()).replace(tzinfo=None)


@router.get(
    "/settlements/{setl_id}",
    summary="结算详情: 费用明细与基金分项 (one settlement with fee lines and the fund split)",
    response_model=SettlementDetail,
    responses=_READ,
)
def get_settlement(setl_id: str, user: SettlementReader, platform: PlatformDep) -> SettlementDetail:
    return SettlementDetail(**settlements.get_settlement(platform, user, setl_id))


@router.get(
    "/reconciliation/results",
    summary="对账结果文件 (3202 result files, newest first)",
    response_model=ReconcileFilePage,
    responses={k: ERRORS[k] for k in (400, 401, 403)},
)
def list_results(
    user: ReconcileReader,
    platform: PlatformDep,
    fixmedins_code: Annotated[str | None, Query(max_length=30)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> ReconcileFilePage:
    total, rows = settlements.list_results(
        platform, user, fixmedins_code=fixmedins_code, limit=limit, offset=offset
    )
    return ReconcileFilePage(total=total, items=[ReconcileFileOut(**r) for r in rows])


@router.get(
    "/reconciliation/results/{file_qury_no}",
    summary="下载对账结果文件 (the result file, a zip)",
    response_class=Response,
    responses={200: {"content": {"application/zip": {}}}, **_READ},
)
def download_result(file_qury_no: str, user: ReconcileReader, platform: PlatformDep) -> Response:
    row = settlements.result_file(platform, user, file_qury_no)
    return Response(
        content=bytes(row["content"]),
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{row["filename"]}"',
            "Cache-Control": "no-store",
        },
    )
