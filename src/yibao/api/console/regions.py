"""异地就医 endpoints: `/api/v1/registrations/remote` (异地就医备案: register, list, show,
revoke) and `/api/v1/clearing/inter-region` (the monthly inter-region clearing report). The use
cases are `yibao.interface.console.regions`; this module keeps HTTP."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from yibao.api.console.deps import (
    ClearingReader,
    PlatformDep,
    RegistrationReader,
    RegistrationWriter,
)
from yibao.api.console.routing import ConsoleRoute
from yibao.api.console.schemas import ERRORS, MAX_OFFSET, LocalDateTime, _In
from yibao.interface.console import regions

registrations = APIRouter(
    prefix="/api/v1/registrations/remote",
    tags=["异地就医备案 remote-care registrations"],
    route_class=ConsoleRoute,
)
clearing = APIRouter(
    prefix="/api/v1/clearing", tags=["异地清算 inter-region clearing"], route_class=ConsoleRoute
)

_READ: dict[int | str, dict[str, Any]] = {k: ERRORS[k] for k in (400, 401, 403, 404)}
_WRITE: dict[int | str, dict[str, Any]] = {k: ERRORS[k] for k in (400, 401, 403, 404, 409)}


class RemoteRegIn(_In):
    psn_no: str = Field(max_length=30, description="人员编号")
    mdtrt_area_admdvs: str = Field(
        min_length=6,
        max_length=6,
        examples=["110199"],
        description="就医地医保区划 (region or district)",
    )
    reg_type: Literal["long_term", "temporary"] = Field(
        description="long_term 异地长期居住 | temporary 临时外出就医 (needs enddate)"
    )
    begndate: date
    enddate: date | None = Field(default=None, description="含当日; 长期居住可不填")
    insutype: str | None = Field(default=None, max_length=6, description="不填: 人员的全部险种")
    tel: str | None = Field(default=None, max_length=50)
    addr: str | None = Field(default=None, max_length=200)
    memo: str | None = Field(default=None, max_length=500)


class RevokeIn(_In):
    reason: str = Field(min_length=1, max_length=500, examples=["已返回参保地"])


class RemoteRegOut(BaseModel):
    remote_reg_id: str
    psn_no: str
    insutype: str | None
    insuplc_admdvs: str
    mdtrt_area_admdvs: str
    reg_type: str
    reg_type_name: str
    begndate: date
    enddate: date | None
    tel: str | None
    addr: str | None
    memo: str | None
    valid: bool
    crte_by: str
    created_at: LocalDateTime
    revs_time: LocalDateTime | None
    revs_by: str | None
    revs_memo: str | None


class RemoteRegPage(BaseModel):
    total: int
    items: list[RemoteRegOut]


class FundLine(BaseModel):
    fund_pay_type: str
    fund_pay_type_name: str
    settled: Decimal
    reversed: Decimal
    net: Decimal


class RegionPair(BaseModel):
    treatment_admdvs: str = Field(description="就医地 (advanced the money)")
    insured_admdvs: str = Field(description="参保地 (owes it)")
    setl_cnt: int
    revs_cnt: int
    medfee_sumamt: Decimal
    fund_pay_sumamt: Decimal
    acct_pay: Decimal
    funds: list[FundLine]
    owed: Decimal = Field(description="Σ funds.net (310200 个人账户 included)")
    bill_total: Decimal = Field(description="Σ(fund_pay_sumamt + acct_pay): equals owed")


class RegionBook(BaseModel):
    admdvs: str
    name: str
    covers: list[str]
    receivable: Decimal
    liability: Decimal
    net: Decimal


class InterRegionReport(BaseModel):
    month: str
    regions: list[RegionBook]
    receivables: list[RegionPair]
    liabilities: list[RegionPair]
    owed_sumamt: Decimal
    balanced: bool


@registrations.post(
    "",
    summary="登记异地就医备案 (register a person for care in another region)",
    status_code=201,
    response_model=RemoteRegOut,
    responses=_WRITE,
)
async def register(
    body: RemoteRegIn, user: RegistrationWriter, platform: PlatformDep
) -> RemoteRegOut:
    return RemoteRegOut(**await regions.register(platform, user, body.model_dump()))


@registrations.get(
    "",
    summary="查询异地就医备案 (list registrations)",
    response_model=RemoteRegPage,
    responses=_READ,
)
def find(
    user: RegistrationReader,
    platform: PlatformDep,
    psn_no: str | None = None,
    mdtrt_area_admdvs: str | None = None,
    insuplc_admdvs: str | None = None,
    active_on: Annotated[date | None, Query(description="有效于该日")] = None,
    include_revoked: bool = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> RemoteRegPage:
    total, rows = regions.find(
        platform,
        psn_no=psn_no,
        mdtrt_area_admdvs=mdtrt_area_admdvs,
        insuplc_admdvs=insuplc_admdvs,
        active_on=active_on,
        include_revoked=include_revoked,
        limit=limit,
        offset=offset,
    )
    return RemoteRegPage(total=total, items=[RemoteRegOut(**r) for r in rows])


@registrations.get(
    "/{remote_reg_id}",
    summary="异地就医备案详情 (one registration)",
    response_model=RemoteRegOut,
    responses=_READ,
)
def get(remote_reg_id: str, user: RegistrationReader, platform: PlatformDep) -> RemoteRegOut:
    return RemoteRegOut(**regions.get(platform, remote_reg_id))


@registrations.post(
    "/{remote_reg_id}/revoke",
    summary="撤销异地就医备案 (revoke, with the reason)",
    response_model=RemoteRegOut,
    responses=_WRITE,
)
async def revoke(
    remote_reg_id: str, body: RevokeIn, user: RegistrationWriter, platform: PlatformDep
) -> RemoteRegOut:
    return RemoteRegOut(**await regions.revoke(platform, user, remote_reg_id, body.reason))


@clearing.get(
    "/inter-region",
    summary="异地就医月度清算 (what each insured region owes each region of treatment)",
    response_model=InterRegionReport,
    responses=_READ,
)
def inter_region(
    user: ClearingReader,
    platform: PlatformDep,
    month: Annotated[str, Query(pattern=r"^\d{4}-\d{2}$", examples=["2024-05"])],
) -> InterRegionReport:
    return InterRegionReport(**regions.inter_region_report(platform, month=month))
