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
    #: only needed when the token is later sent as the session cookie (pages)
    csrf_token: str = Field(description="X-CSRF-Token for cookie-authenticated writes")
    expires_at: LocalDateTime


class UserOut(BaseModel):
    username: str
    display_name: str
    role: str
    tenant_kind: str = Field(description="agency | institution | chain")
    tenant_code: str | None = Field(default=None, description="机构编码; 经办机构为 null")
    department: str | None = None
    permissions: list[str] = Field(default_factory=list)


# -- users --------------------------------------------------------------------------------------


class ConsoleUserIn(_In):
    username: str = Field(min_length=1, max_length=50)
    password: str = Field(
        min_length=1, max_length=200, description="≥10 位, 至少三类字符, 不含用户名"
    )
    role: str = Field(examples=["cashier"])
    display_name: str | None = Field(default=None, max_length=50)
    tenant_code: str | None = Field(
        default=None, max_length=30, description="机构/连锁编码; 经办机构角色不填"
    )
    department: str | None = Field(default=None, max_length=50, description="经办机构科室")


class ConsoleUserPatch(_In):
    role: str | None = None
    tenant_code: str | None = Field(default=None, max_length=30)
    display_name: str | None = Field(default=None, max_length=50)
    department: str | None = Field(default=None, max_length=50)
    vali_flag: Literal["0", "1"] | None = None
    password: str | None = Field(default=None, min_length=1, max_length=200)


class ConsoleUserOut(BaseModel):
    username: str
    display_name: str
    role: str
    tenant_code: str | None = None
    department: str | None = None
    vali_flag: str
    created_at: LocalDateTime
    last_login_at: LocalDateTime | None = None


class ConsoleUserPage(BaseModel):
    total: int
    items: list[ConsoleUserOut]


# -- settlements --------------------------------------------------------------------------------


class SettlementRow(BaseModel):
    setl_id: str
    mdtrt_id: str
    fixmedins_code: str
    psn_no: str
    insutype: str
    med_type: str
    setl_time: LocalDateTime
    refd_setl_flag: str
    vali_flag: str
    medfee_sumamt: Decimal
    fulamt_ownpay_amt: Decimal
    overlmt_selfpay: Decimal
    preselfpay_amt: Decimal
    inscp_scp_amt: Decimal
    hifp_pay: Decimal
    cvlserv_pay: Decimal
    hifes_pay: Decimal
    hifmi_pay: Decimal
    hifob_pay: Decimal
    maf_pay: Decimal
    oth_pay: Decimal
    fund_pay_sumamt: Decimal
    psn_part_amt: Decimal
    acct_pay: Decimal
    psn_cash_pay: Decimal
    hosp_part_amt: Decimal
    acct_mulaid_pay: Decimal


class SettlementPage(BaseModel):
    total: int
    items: list[SettlementRow]


class FundLine(BaseModel):
    fund_pay_type: str
    inscp_scp_amt: Decimal
    crt_payb_lmt_amt: Decimal | None = None
    fund_payamt: Decimal


class FeeLine(BaseModel):
    feedetl_sn: str
    fee_ocur_time: LocalDateTime
    med_list_codg: str
    medins_list_codg: str | None = None
    hilist_name: str | None = None
    list_type: str | None = None
    cnt: Decimal
    pric: Decimal
    det_item_fee_sumamt: Decimal
    fulamt_ownpay_amt: Decimal
    overlmt_amt: Decimal
    preselfpay_amt: Decimal
    inscp_scp_amt: Decimal
    chrgitm_lv: str | None = None


class SettlementDetail(SettlementRow):
    funds: list[FundLine]
    fee_lines: list[FeeLine]


class ReconcileFileOut(BaseModel):
    file_qury_no: str
    fixmedins_code: str
    filename: str
    created_at: LocalDateTime
    expires_at: LocalDateTime


class ReconcileFilePage(BaseModel):
    total: int
    items: list[ReconcileFileOut]


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
    #: active | overlap (rotated, valid until expires_at) | expired | revoked
    state: str = "active"
    created_at: LocalDateTime
    revoked_at: LocalDateTime | None = None
    #: a rotated credential is refused from this time
    expires_at: LocalDateTime | None = None
    #: the successor's paasid (after a rotation)
    rotated_to: str | None = None
    #: calls refused because the credential was revoked or expired, and the last one's time
    refused_count: int = 0
    last_refused_at: LocalDateTime | None = None


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
    #: a rotation: the credential this one replaces, valid until old_expires_at
    rotated_from: str | None = None
    old_expires_at: LocalDateTime | None = None


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
    #: the record's position in the hash chain (1, 2, 3 …)
    chain_seq: int
    at: LocalDateTime
    actor: str
    tenant: str | None = None
    role: str | None = None
    #: from where: the client address, or "cli"
    address: str | None = None
    purpose: str | None = None
    action: str
    target: str | None
    #: how many records were viewed, exported or changed
    records: int | None = None
    detail: dict[str, Any] | None
    prev_hash: str
    row_hash: str


class AuditPage(BaseModel):
    items: list[AuditOut]
    #: how many records match the filters (for paging with limit/offset)
    total: int = 0
    limit: int = 100
    offset: int = 0


class AuditAnchorOut(BaseModel):
    """The chain head at a moment: the line `yibao audit anchor` prints."""

    chain_seq: int
    row_hash: str
    at: str


class AuditChainOut(BaseModel):
    """`yibao audit verify` for the console."""

    ok: bool
    checked: int
    start_seq: int
    head_seq: int
    bad_seq: int | None
    bad_audit_id: str | None
    #: changed | removed | reordered | truncated
    problem: str | None
    message: str


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
