"""清算 endpoints: `/api/v1/clearing/applications` (list, detail, review, accept / reject /
approve, deductions, export) and `/api/v1/clearing/orders` (list, detail, mark paid, export),
the annual deposit decision and the monthly figures of the dashboard's clearing view.

Reads need the permission `clearing.read`; every step that changes something `clearing.manage`
(admin, operator). docs/clearing.md is the staff's guide; the rules are `clearing.service`'s.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from yibao.api.console.deps import ClearingManager, ClearingReader, PlatformDep
from yibao.api.console.routing import ConsoleRoute
from yibao.api.console.schemas import ERRORS, MAX_OFFSET, LocalDateTime, _In
from yibao.interface.console import clearing

router = APIRouter(prefix="/api/v1/clearing", tags=["清算 clearing"], route_class=ConsoleRoute)

_READ: dict[int | str, dict[str, Any]] = {k: ERRORS[k] for k in (400, 401, 404)}
_WRITE: dict[int | str, dict[str, Any]] = {k: ERRORS[k] for k in (400, 401, 403, 404, 409)}
Setlym = Annotated[str | None, Query(pattern=r"^\d{6}$", description="清算年月 yyyyMM")]
Limit = Annotated[int, Query(ge=1, le=1000)]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET)]
_MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


class EventOut(BaseModel):
    event_id: str
    seq: int
    clr_order_id: str | None
    action: str
    from_stas: str | None
    to_stas: str | None
    actor: str
    reason: str | None
    at: LocalDateTime


class DeductionIn(_In):
    fund_pay_type: str = Field(min_length=6, max_length=6, examples=["310100"])
    amount: Decimal = Field(examples=["120.00"], description="元, > 0, 最多两位小数")
    reason: str = Field(min_length=1, max_length=500, examples=["超标准收费, 稽核单 2024-031"])
    kind: Literal["deduct", "recover"] = "deduct"


class DeductionOut(BaseModel):
    deduction_id: str
    fund_pay_type: str
    amount: Decimal
    kind: str
    source: str
    case_id: str | None
    reason: str
    actor: str
    created_at: LocalDateTime


class OrderOut(BaseModel):
    clr_order_id: str
    clr_appy_evt_id: str
    fixmedins_code: str
    clr_optins: str
    setlym: str
    clr_type: str
    fund_pay_type: str
    fund_pay_type_name: str | None = None
    setl_amt: Decimal
    adjust_amt: Decimal
    deduct_amt: Decimal
    deposit_amt: Decimal
    payable_amt: Decimal
    stas: str
    issued_by: str
    issued_at: LocalDateTime
    paid_by: str | None
    paid_at: LocalDateTime | None
    pay_ref: str | None
    deposit_stas: str
    deposit_by: str | None
    deposit_at: LocalDateTime | None
    deposit_reason: str | None


class OrderDetail(OrderOut):
    events: list[EventOut]


class OrderPage(BaseModel):
    total: int
    items: list[OrderOut]


class ApplicationOut(BaseModel):
    clr_appy_evt_id: str
    fixmedins_code: str
    clr_optins: str
    setlym: str
    clr_type: str
    clr_way: str
    begndate: date
    enddate: date
    psntime: int
    medfee_sumamt: Decimal
    med_sumfee: Decimal
    fund_appy_sum: Decimal
    cash_payamt: Decimal
    acct_pay: Decimal
    stas: str
    stas_name: str
    rvw_setl_cnt: int | None
    rvw_medfee_sumamt: Decimal | None
    rvw_fund_pay_sumamt: Decimal | None
    rvw_acct_pay: Decimal | None
    rvw_cash_payamt: Decimal | None
    rvw_adjust_amt: Decimal | None
    accepted_at: LocalDateTime | None
    deposit_rate: Decimal | None
    msgid: str
    created_at: LocalDateTime
    updated_at: LocalDateTime


class ApplicationDetail(ApplicationOut):
    deductions: list[DeductionOut]
    orders: list[OrderOut]
    events: list[EventOut]


class ApplicationPage(BaseModel):
    total: int
    items: list[ApplicationOut]


class DifferenceOut(BaseModel):
    field: str
    label: str
    claimed: Decimal
    counted: Decimal
    difference: Decimal


class FundOut(BaseModel):
    fund_pay_type: str
    fund_pay_type_name: str
    setl_amt: Decimal
    adjust_amt: Decimal
    deduct_amt: Decimal


class ReviewOut(BaseModel):
    clr_appy_evt_id: str
    stas: str
    figures: dict[str, Decimal | int | None]
    differences: list[DifferenceOut]
    funds: list[FundOut]


class TransitionIn(_In):
    action: Literal["accept", "reject", "approve"]
    reason: str | None = Field(default=None, max_length=500, description="驳回时必填")


class PaidIn(_In):
    pay_ref: str = Field(min_length=1, max_length=100, description="国库/银行拨付凭证号")


class DepositIn(_In):
    fixmedins_code: str = Field(min_length=1, max_length=30)
    year: int = Field(ge=2000, le=2999)
    action: Literal["release", "forfeit"]
    reason: str = Field(min_length=1, max_length=500, examples=["2024 年度考核 92 分, 全额返还"])


class MonthOut(BaseModel):
    setlym: str
    claimed: Decimal
    approved: Decimal
    deducted: Decimal
    withheld: Decimal
    paid: Decimal
    due: Decimal


def _file(content: bytes, name: str, fmt: str) -> Response:
    return Response(
        content,
        media_type=_MEDIA[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"'},
    )


# -- applications ------------------------------------------------------------------------------


@router.get(
    "/applications",
    summary="清算申请列表 (list clearing applications)",
    response_model=ApplicationPage,
    responses=_READ,
)
def list_applications(
    user: ClearingReader,
    platform: PlatformDep,
    setlym: Setlym = None,
    fixmedins_code: str | None = None,
    stas: Literal["submitted", "withdrawn", "accepted", "approved", "rejected"] | None = None,
    clr_type: str | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> ApplicationPage:
    total, rows = clearing.list_applications(
        platform, user, setlym=setlym, fixmedins_code=fixmedins_code, stas=stas,
        clr_type=clr_type, limit=limit, offset=offset,
    )  # fmt: skip
    return ApplicationPage(total=total, items=[ApplicationOut(**r) for r in rows])


@router.get(
    "/applications/export",
    summary="导出清算申请 (export applications as CSV or XLSX)",
    response_class=Response,
    responses=_READ,
)
def export_applications(
    user: ClearingReader,
    platform: PlatformDep,
    format: Literal["csv", "xlsx"] = "csv",
    setlym: Setlym = None,
    fixmedins_code: str | None = None,
    stas: str | None = None,
) -> Response:
    content = clearing.export(
        platform, user, what="applications", fmt=format, setlym=setlym,
        fixmedins_code=fixmedins_code, stas=stas,
    )  # fmt: skip
    return _file(content, f"clearing-applications-{setlym or 'all'}", format)


@router.get(
    "/applications/{clr_appy_evt_id}",
    summary="清算申请详情 (one application: deductions, orders, history)",
    response_model=ApplicationDetail,
    responses=_READ,
)
def get_application(
    clr_appy_evt_id: str, user: ClearingReader, platform: PlatformDep
) -> ApplicationDetail:
    return ApplicationDetail(**clearing.get_application(platform, user, clr_appy_evt_id))


@router.get(
    "/applications/{clr_appy_evt_id}/review",
    summary="审核: 申报与经办机构记录对照 (the claim beside the agency's own count, per fund)",
    response_model=ReviewOut,
    responses=_READ,
)
def review_application(
    clr_appy_evt_id: str, user: ClearingReader, platform: PlatformDep
) -> ReviewOut:
    return ReviewOut(**clearing.review(platform, user, clr_appy_evt_id))


@router.post(
    "/applications/{clr_appy_evt_id}/transitions",
    summary="受理 / 驳回 / 审核通过并开具拨付单 (accept, reject or approve: issues the orders)",
    response_model=ApplicationDetail,
    responses=_WRITE,
)
async def transition_application(
    clr_appy_evt_id: str, body: TransitionIn, user: ClearingManager, platform: PlatformDep
) -> ApplicationDetail:
    row = await clearing.transition(
        platform, user, clr_appy_evt_id, action=body.action, reason=body.reason
    )
    return ApplicationDetail(**row)


@router.post(
    "/applications/{clr_appy_evt_id}/deductions",
    summary="扣款 / 追回 (a deduction with its reason, before approval)",
    status_code=201,
    response_model=DeductionOut,
    responses=_WRITE,
)
async def add_deduction(
    clr_appy_evt_id: str, body: DeductionIn, user: ClearingManager, platform: PlatformDep
) -> DeductionOut:
    row = await clearing.add_deduction(platform, user, clr_appy_evt_id, body.model_dump())
    return DeductionOut(**row)


# -- orders ------------------------------------------------------------------------------------


@router.get(
    "/orders",
    summary="拨付单列表 (list payment orders)",
    response_model=OrderPage,
    responses=_READ,
)
def list_orders(
    user: ClearingReader,
    platform: PlatformDep,
    setlym: Setlym = None,
    fixmedins_code: str | None = None,
    stas: Literal["issued", "paid"] | None = None,
    fund_pay_type: str | None = None,
    deposit_stas: Literal["held", "released", "forfeited"] | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> OrderPage:
    total, rows = clearing.list_orders(
        platform, user, setlym=setlym, fixmedins_code=fixmedins_code, stas=stas,
        fund_pay_type=fund_pay_type, deposit_stas=deposit_stas, limit=limit, offset=offset,
    )  # fmt: skip
    return OrderPage(total=total, items=[OrderOut(**r) for r in rows])


@router.get(
    "/orders/export",
    summary="导出拨付单 (export payment orders as CSV or XLSX)",
    response_class=Response,
    responses=_READ,
)
def export_orders(
    user: ClearingReader,
    platform: PlatformDep,
    format: Literal["csv", "xlsx"] = "csv",
    setlym: Setlym = None,
    fixmedins_code: str | None = None,
    stas: str | None = None,
) -> Response:
    content = clearing.export(
        platform, user, what="orders", fmt=format, setlym=setlym,
        fixmedins_code=fixmedins_code, stas=stas,
    )  # fmt: skip
    return _file(content, f"clearing-orders-{setlym or 'all'}", format)


@router.get(
    "/orders/{clr_order_id}",
    summary="拨付单详情 (one payment order with its history)",
    response_model=OrderDetail,
    responses=_READ,
)
def get_order(clr_order_id: str, user: ClearingReader, platform: PlatformDep) -> OrderDetail:
    return OrderDetail(**clearing.get_order(platform, user, clr_order_id))


@router.post(
    "/orders/{clr_order_id}/paid",
    summary="国库确认拨付 (the treasury confirmed the payment)",
    response_model=OrderDetail,
    responses=_WRITE,
)
async def mark_paid(
    clr_order_id: str, body: PaidIn, user: ClearingManager, platform: PlatformDep
) -> OrderDetail:
    await clearing.mark_paid(platform, user, clr_order_id, pay_ref=body.pay_ref)
    return OrderDetail(**clearing.get_order(platform, user, clr_order_id))


@router.post(
    "/deposits",
    summary="年度考核: 返还或扣除质量保证金 (release or forfeit a year's deposits)",
    response_model=list[OrderOut],
    responses=_WRITE,
)
async def settle_deposits(
    body: DepositIn, user: ClearingManager, platform: PlatformDep
) -> list[OrderOut]:
    rows = await clearing.settle_deposits(
        platform, user, fixmedins_code=body.fixmedins_code, year=body.year, action=body.action,
        reason=body.reason,
    )  # fmt: skip
    return [OrderOut(**r) for r in rows]


@router.get(
    "/months",
    summary="清算按月汇总 (claimed, approved, deducted, withheld, paid, by month)",
    response_model=list[MonthOut],
    responses=_READ,
)
def months(
    user: ClearingReader,
    platform: PlatformDep,
    since: Annotated[str, Query(pattern=r"^\d{6}$")],
    until: Annotated[str, Query(pattern=r"^\d{6}$")],
) -> list[MonthOut]:
    return [MonthOut(**r) for r in clearing.monthly(platform, user, since=since, until=until)]
