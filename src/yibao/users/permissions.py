"""Roles and what each may do: the console's permission table, as data.

Pure (standard library only): the console's edge checks a route's permission against
`allowed(role, permission)`, `docs/console.md` renders `markdown_table()` (a test keeps the
page equal to this data), and the OpenAPI carries each route's permission (`x-permission`).

Tenants: the fund agency (with its departments), each institution (hospital, clinic,
pharmacy) and each pharmacy chain with its stores. A role belongs to one kind of tenant, so
a user's role decides the kind and `tenant_code` names which one (None for the agency).

三权分立 (separation of the three powers): `sysadmin`, `secadmin` and `auditor` are held by
three different accounts. A user holds exactly one role, and an account holding one of these
three never changes to another role (`role_change_allowed`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class TenantKind(StrEnum):
    AGENCY = "agency"
    INSTITUTION = "institution"
    CHAIN = "chain"


@dataclass(frozen=True, slots=True)
class Role:
    name: str
    tenant: TenantKind
    label: str
    description: str


ROLES: dict[str, Role] = {
    r.name: r
    for r in (
        Role(
            "sysadmin", TenantKind.AGENCY, "系统管理员", "system administration: replica, settings"
        ),
        Role("secadmin", TenantKind.AGENCY, "安全管理员", "security: users, roles, credentials"),
        Role("auditor", TenantKind.AGENCY, "安全审计员", "reads the audit trail, nothing else"),
        Role("operator", TenantKind.AGENCY, "经办员", "registers institutions and persons"),
        Role("reviewer", TenantKind.AGENCY, "稽核员", "works review cases, settlements"),
        Role("analyst", TenantKind.AGENCY, "分析员", "aggregates and pseudonymous data only"),
        Role("inst_admin", TenantKind.INSTITUTION, "机构管理员", "its institution: users, keys"),
        Role("cashier", TenantKind.INSTITUTION, "收费员", "its institution's settlements"),
        Role("inst_viewer", TenantKind.INSTITUTION, "机构查询员", "reads its institution's data"),
        Role("chain_admin", TenantKind.CHAIN, "连锁管理员", "its chain's stores: data, users"),
    )
}

#: 三权分立: no account holds two of these
SEPARATED = frozenset({"sysadmin", "secadmin", "auditor"})

#: the roles of the old single-tenant console → today's
LEGACY_ROLES = {"admin": "sysadmin"}

PERMISSIONS: dict[str, str] = {
    "institution.read": "机构查询 (list and read institutions)",
    "institution.write": "机构登记与变更 (register and change institutions)",
    "credential.read": "接口凭证查询 (list gateway credentials, never a secret)",
    "credential.manage": "接口凭证签发、轮换、吊销 (issue, rotate, revoke credentials)",
    "person.read": "参保人查询, 脱敏 (read persons, masked)",
    "person.write": "参保人登记与变更 (register and change persons, insurance, identities)",
    "person.unmask": "查看未脱敏个人信息, 审计 (see personal data unmasked; audited)",
    "account.credit": "个人账户划入 (credit personal accounts)",
    "settlement.read": "结算查询 (settlements, fee lines and fund split)",
    "reconcile.read": "对账结果 (reconciliation results)",
    "analytics.read": "汇总分析与看板 (aggregates and the dashboard)",
    "replica.operate": "列存副本运维 (replica status, rebuild, verify)",
    "audit.read": "审计日志 (read the audit trail)",
    "user.read": "用户查询 (list console users)",
    "user.manage": "用户管理 (create users, change roles, disable)",
    "alert.read": "安全告警查询 (security alerts: unusual unmasking)",
    "alert.ack": "安全告警确认 (acknowledge a security alert; audited)",
    "clearing.read": "清算查询 (clearing applications, payment orders, deposits, by month)",
    "clearing.manage": "清算办理 (review, deduct, accept, approve, mark paid, deposits)",
    "registration.read": "异地就医备案查询 (remote-care registrations)",
    "registration.write": "异地就医备案登记与撤销 (register and revoke)",
    "hit.read": "规则疑点查询 (rule hits, with the person)",
    "risk.run": "发起事后监控 (start a post-hoc monitoring run on the replica)",
    "case.read": "稽核案件查询 (review cases; an institution its own, once notified)",
    "case.work": "稽核案件办理 (open, review, notify, decide, assign cases)",
    "case.appeal": "案件申诉 (an institution appeals its own notified cases)",
    "portrait.person": "参保人画像 (a person's portrait; masked unless unmasked with a purpose)",
    "portrait.institution": "机构画像 (an institution's indicators against its peers)",
}

_AGENCY_READS = {"institution.read", "person.read", "settlement.read", "reconcile.read"}

GRANTS: dict[str, frozenset[str]] = {
    "sysadmin": frozenset(
        {"institution.read", "analytics.read", "replica.operate", "clearing.read"}
    ),
    "secadmin": frozenset(
        {
            "institution.read",
            "credential.read",
            "credential.manage",
            "user.read",
            "user.manage",
            "alert.read",
            "alert.ack",
        }
    ),
    "auditor": frozenset({"audit.read"}),
    "operator": frozenset(
        _AGENCY_READS
        | {
            "institution.write",
            "credential.read",
            "credential.manage",
            "person.write",
            "person.unmask",
            "account.credit",
            "analytics.read",
            "clearing.read",
            "clearing.manage",
            "registration.read",
            "registration.write",
            "case.read",
            "portrait.person",
            "portrait.institution",
        }
    ),
    "reviewer": frozenset(
        _AGENCY_READS
        | {
            "person.unmask",
            "analytics.read",
            "clearing.read",
            "registration.read",
            "hit.read",
            "risk.run",
            "case.read",
            "case.work",
            "portrait.person",
            "portrait.institution",
        }
    ),
    "analyst": frozenset({"analytics.read", "clearing.read", "portrait.institution"}),
    "inst_admin": frozenset(
        _AGENCY_READS
        | {"credential.read", "credential.manage", "user.read", "user.manage"}
        | {"case.read", "case.appeal", "portrait.institution"}
    ),
    "cashier": frozenset(_AGENCY_READS),
    "inst_viewer": frozenset(_AGENCY_READS | {"case.read", "portrait.institution"}),
    "chain_admin": frozenset(
        _AGENCY_READS
        | {"credential.read", "credential.manage", "user.read", "user.manage"}
        | {"case.read", "case.appeal", "portrait.institution"}
    ),
}

#: the roles a tenant's own administrator may give (inside its tenant)
TENANT_GRANTABLE: dict[str, frozenset[str]] = {
    "inst_admin": frozenset({"inst_admin", "cashier", "inst_viewer"}),
    "chain_admin": frozenset({"inst_admin", "cashier", "inst_viewer", "chain_admin"}),
}


def allowed(role: str, permission: str) -> bool:
    """Whether `role` holds `permission` (an unknown role holds none)."""
    if permission not in PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")
    return permission in GRANTS.get(role, frozenset())


def tenant_of(role: str) -> TenantKind:
    return ROLES[role].tenant


def role_change_allowed(old: str, new: str) -> bool:
    """A user holds one role; an account of the three separated powers never takes another."""
    if old == new:
        return True
    return old not in SEPARATED and new not in SEPARATED


def markdown_table() -> str:
    """The permission table as Markdown (rendered into docs/console.md)."""
    roles = list(ROLES)
    head = "| permission | " + " | ".join(roles) + " |"
    rule = "|---|" + "---|" * len(roles)
    rows = [
        f"| `{perm}` {PERMISSIONS[perm].split(' (')[0]} | "
        + " | ".join("✓" if perm in GRANTS[r] else "" for r in roles)
        + " |"
        for perm in PERMISSIONS
    ]
    return "\n".join([head, rule, *rows])
