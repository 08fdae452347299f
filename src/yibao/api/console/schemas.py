"""Request and response models of the console API (pydantic). Inputs forbid unknown fields so
that a misspelt field is an error, not a silent no-op. Amounts are returned as decimal strings
("12.50"), exact; send them as strings or JSON numbers with at most two decimals.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from yibao.kit.clock import zone


def _in_platform_zone(value: datetime) -> datetime:
    return value.replace(tzinfo=zone()) if value.tzinfo is None else value


#: An answer's time: stored naive in the platform zone, sent with that zone's offset
#: ("2026-12-06T20:17:45+08:00") so that it is the RFC 3339 date-time the schema declares
#: (a client generated from the OpenAPI rejects a time without an offset).
LocalDateTime = Annotated[datetime, AfterValidator(_in_platform_zone)]


#: The largest list offset accepted: past it a page is empty anyway, and a bound parameter
#: beyond 2^63 - 1 is not representable in SQLite or MySQL (OverflowError → HTTP 500, issue 23).
MAX_OFFSET = 2**31 - 1


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorOut(BaseModel):
    """Every 4xx answer: the error class and a message naming the field and the rule."""

    error: str = Field(examples=["invalid_input"])
    message: str = Field(examples=["certno: 校验码错误: 应为 '4', 实为 '5' (wrong check digit …)"])


ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "输入错误 (invalid input: the field and the rule)"},
    401: {"model": ErrorOut, "description": "未登录 (no or expired token / session)"},
    403: {"model": ErrorOut, "description": "无权限 (the role may not do this)"},
    404: {"model": ErrorOut, "description": "不存在 (not found)"},
    409: {"model": ErrorOut, "description": "冲突 (duplicate or state forbids it)"},
    429: {
        "model": ErrorOut,
        "description": "尝试过多, 稍后再试 (too many attempts: sign-ins, or unmaskings per hour)",
    },
}


# -- auth ---------------------------------------------------------------------------------------


class LoginIn(_In):
    username: str = Field(min_length=1, max_length=50)
    password: str = Field(min_length=1, max_length=200)


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_at: LocalDateTime


class UserOut(BaseModel):
    username: str
    display_name: str
    role: str


# -- institutions -------------------------------------------------------------------------------


class InstitutionIn(_In):
    fixmedins_code: str = Field(examples=["H11010200001"], description="H/P + 6 位区划 + 5 位序号")
    fixmedins_name: str = Field(examples=["北京市示例第一医院"])
    kind: Literal["hospital", "clinic", "pharmacy"]
    hosp_lv: str = Field(examples=["3"], description="1/2/3; 药店 0")
    admdvs: str = Field(examples=["110199"], description="医保区划 (6 位)")
    parent_code: str | None = Field(default=None, description="连锁总部 / 医疗集团的机构编码")


class InstitutionPatch(_In):
    fixmedins_name: str | None = None
    hosp_lv: str | None = None
    admdvs: str | None = None
    parent_code: str | None = Field(default=None, description="null 表示脱离连锁 (detach)")
    vali_flag: Literal["0", "1"] | None = None


class InstitutionOut(BaseModel):
    fixmedins_code: str
    fixmedins_name: str
    kind: str
    hosp_lv: str
    admdvs: str
    parent_code: str | None
    vali_flag: str
    created_at: LocalDateTime
    updated_at: LocalDateTime
    children: list[str] = Field(default_factory=list, description="下属门店 / 成员机构")
    active_credentials: int = 0


class InstitutionPage(BaseModel):
    total: int
    items: list[InstitutionOut]


class CredentialOut(BaseModel):
    paasid: str
    fixmedins_code: str
    auth_mode: str = "static"
    vali_flag: str
    created_at: LocalDateTime
    revoked_at: LocalDateTime | None = None


class CredentialIn(_In):
    auth_mode: Literal["signature", "static"] = Field(
        default="signature",
        description="signature: the client signs each request with its paasToken "
        "(x-tif-timestamp, x-tif-nonce, x-tif-signature); static: it sends x-yibao-key",
    )


class IssuedCredentialOut(BaseModel):
    """Shown once: keep the token or secret now; it is stored sealed (signature) or as its
    sha256 (static) and cannot be shown again."""

    paasid: str = Field(description="header x-tif-paasid")
    auth_mode: str
    paas_token: str | None = Field(
        default=None, description="signature mode: the paasToken that signs (仅显示一次 shown once)"
    )
    secret: str | None = Field(
        default=None, description="static mode: header x-yibao-key (仅显示一次 shown once)"
    )
    fixmedins_code: str
    created_at: LocalDateTime


# -- persons ------------------------------------------------------------------------------------


class InsuranceIn(_In):
    insutype: str = Field(examples=["310"])
    psn_type: str = Field(examples=["1101"])
    insuplc_admdvs: str = Field(examples=["110199"])
    psn_insu_date: date | None = Field(default=None, description="参保日期 (default today)")
    psn_insu_stas: Literal["1", "2", "4"] = "1"
    cvlserv_flag: Literal["0", "1"] = "0"
    emp_name: str | None = None


class InsurancePatch(_In):
    psn_type: str | None = None
    insuplc_admdvs: str | None = None
    cvlserv_flag: Literal["0", "1"] | None = None
    emp_name: str | None = None


class InsuranceOut(BaseModel):
    insutype: str
    psn_type: str
    psn_insu_stas: str
    psn_insu_date: date
    paus_insu_date: date | None
    cvlserv_flag: str
    insuplc_admdvs: str
    emp_name: str | None
    balc: Decimal


class StatusIn(_In):
    on: date | None = Field(default=None, description="生效日期 (default today)")
    reason: str | None = Field(default=None, max_length=200)


class IdentityIn(_In):
    psn_idet_type: str = Field(examples=["21"], description="21 低保 22 特困 23 返贫致贫 …")
    begntime: datetime
    endtime: datetime | None = None
    psn_type_lv: str | None = None
    memo: str | None = None


class IdentityOut(BaseModel):
    psn_idet_type: str
    begntime: LocalDateTime
    endtime: LocalDateTime | None
    psn_type_lv: str | None
    memo: str | None


class PersonIn(_In):
    psn_no: str | None = Field(default=None, description="不填则生成 (generated when absent)")
    psn_cert_type: str = "01"
    certno: str = Field(examples=["11010519491231002X"])
    psn_name: str = Field(examples=["段正淳"])
    gend: str | None = Field(default=None, description="1 男 2 女; 身份证可省略 (from certno)")
    brdy: date | None = Field(default=None, description="须与身份证一致 (must agree with certno)")
    naty: str = "01"
    tel: str | None = None
    card_no: str | None = None
    card_sn: str | None = None
    ec_token: str | None = None
    family_id: str | None = None
    insurance: list[InsuranceIn] = Field(default_factory=list)


class PersonPatch(_In):
    psn_name: str | None = None
    naty: str | None = None
    tel: str | None = None
    card_no: str | None = None
    card_sn: str | None = None
    ec_token: str | None = None
    family_id: str | None = None


class DeathIn(_In):
    death_date: date | None = Field(
        examples=["2024-05-01"],
        description="死亡日期; null 清除误登记 (null clears a date recorded in error)",
    )


class PersonSummary(BaseModel):
    psn_no: str
    psn_cert_type: str
    certno: str
    psn_name: str
    gend: str
    naty: str
    brdy: str = Field(
        description="出生日期 yyyy-MM-dd; 脱敏时仅年份 yyyy (masked: the year only)",
        examples=["1949-12-31", "1949"],
    )
    tel: str | None
    card_no: str | None
    card_sn: str | None
    ec_token: str | None
    family_id: str | None
    death_date: date | None = Field(default=None, description="死亡日期 (date of death)")
    created_at: LocalDateTime
    updated_at: LocalDateTime
    masked: bool = Field(description="个人信息是否已脱敏 (personal data masked)")


class PersonOut(PersonSummary):
    insurance: list[InsuranceOut]
    identities: list[IdentityOut]


class PersonPage(BaseModel):
    total: int
    items: list[PersonSummary]


class CreditIn(_In):
    amount: Decimal = Field(examples=["200.00"], description="元, > 0, 最多两位小数")
    reason: str = Field(min_length=1, max_length=200, examples=["2024 年 1 月单位划入"])
    insutype: str = "310"


class CreditOut(BaseModel):
    psn_no: str
    insutype: str
    amount: Decimal
    balc: Decimal


# -- audit --------------------------------------------------------------------------------------


class AuditOut(BaseModel):
    audit_id: str
    at: LocalDateTime
    actor: str
    action: str
    target: str | None
    detail: dict[str, Any] | None


class AuditPage(BaseModel):
    items: list[AuditOut]


# -- security alerts ----------------------------------------------------------------------------


class AlertOut(BaseModel):
    alert_id: str
    at: LocalDateTime
    kind: str = Field(
        description="unmask_volume 解除脱敏次数异常 | unmask_records 查看人数异常 | "
        "unmask_refused 达上限后仍请求"
    )
    username: str = Field(description="引发告警的用户 (the user whose behaviour raised it)")
    message: str
    detail: dict[str, Any] | None
    open: bool = Field(description="未确认 (not acknowledged yet)")
    acked_at: LocalDateTime | None
    acked_by: str | None


class AlertPage(BaseModel):
    open: int = Field(description="未确认的告警数 (open alerts, whatever the filter)")
    total: int
    items: list[AlertOut]
