"""Every console endpoint × every role × a record in the caller's scope and one outside it,
generated from the OpenAPI: each operation publishes the permission it checks
(`x-permission`); the role's grants (`users.permissions`, the table in docs/console.md) say
whether it is allowed. Refused → 403; allowed → never 401/403; another tenant's record → 404
as if absent (lists never show it)."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from console_factories import PASSWORD
from fastapi import FastAPI
from tenancy_world import (
    HOSP_B,
    IN_SCOPE,
    OUT_OF_SCOPE,
    TENANCY_USERS,
    build,
    path_values,
)

from yibao.api import analytics, console, health
from yibao.api import app as app_module
from yibao.runtime import Platform
from yibao.users.permissions import GRANTS, PERMISSIONS, ROLES

#: operations any signed-in user may call (about the caller itself)
SELF_SERVICE = {("get", "/api/v1/auth/me"), ("post", "/api/v1/auth/logout")}
#: operations before sign-in
PUBLIC = {("post", "/api/v1/auth/login")}

#: bodies valid enough to reach the handler (allowed roles); others get {}
BODIES: dict[tuple[str, str], Any] = {
    ("post", "/api/v1/institutions/{fixmedins_code}/credentials"): {"auth_mode": "static"},
    ("patch", "/api/v1/users/{username}"): {"display_name": "改名"},
    ("patch", "/api/v1/institutions/{fixmedins_code}"): {"fixmedins_name": "改名"},
    ("post", "/api/v1/persons/{psn_no}/account/credits"): {"amount": "1.00", "reason": "测试"},
    ("post", "/api/v1/cases"): {"hit_ids": ["RH-NONE"]},
    ("post", "/api/v1/cases/{case_id}/transitions"): {"to": "decided", "decision": "dismiss"},
    ("post", "/api/v1/cases/{case_id}/appeal"): {"reasons": "两次收费为不同部位"},
    ("post", "/api/v1/cases/{case_id}/assign"): {"assignee": "t-rev"},
    ("post", "/api/v1/cases/{case_id}/comments"): {"text": "批注"},
}


@pytest.fixture
def tenancy_app(platform: Platform, password_hash: str, monkeypatch: pytest.MonkeyPatch) -> FastAPI:
    monkeypatch.setattr(
        app_module, "_mounters", lambda: [health.mount, console.mount, analytics.mount]
    )
    build(platform, password_hash)
    return app_module.create_app(platform.settings, platform=platform)


def operations(app: FastAPI) -> list[tuple[str, str, dict[str, Any]]]:
    spec = app.openapi()
    out = []
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if path.startswith("/api/v1/"):
                out.append((method, path, op))
    return out


def _url(path: str, values: dict[str, Any]) -> str:
    names = re.findall(r"{(\w+)}", path)
    unknown = [n for n in names if n not in values]
    assert not unknown, f"{path}: add a world value for {unknown} (tenancy_world.path_values)"
    return path.format(**{n: values[n] for n in names})


async def _token(client: httpx.AsyncClient, username: str) -> dict[str, str]:
    r = await client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def test_every_console_operation_declares_its_permission(tenancy_app: FastAPI) -> None:
    for method, path, op in operations(tenancy_app):
        if (method, path) in SELF_SERVICE | PUBLIC:
            continue
        assert op.get("x-permission") in PERMISSIONS, f"{method.upper()} {path}"


def test_the_roles_are_exactly_the_issue_s() -> None:
    assert list(ROLES) == [
        "sysadmin",
        "secadmin",
        "auditor",
        "operator",
        "reviewer",
        "analyst",
        "inst_admin",
        "cashier",
        "inst_viewer",
        "chain_admin",
    ]
    assert set(GRANTS) == set(ROLES)
    # the auditor reads the audit trail and nothing else; only the auditor reads it
    assert GRANTS["auditor"] == {"audit.read"}
    assert [r for r, g in GRANTS.items() if "audit.read" in g] == ["auditor"]


@pytest.mark.parametrize("username", list(TENANCY_USERS))
async def test_endpoint_x_role_x_scope(
    tenancy_app: FastAPI, platform: Platform, username: str
) -> None:
    role, _tenant = TENANCY_USERS[username]
    transport = httpx.ASGITransport(app=tenancy_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        headers = await _token(client, username)
        own = path_values(IN_SCOPE[username])
        foreign_code = OUT_OF_SCOPE[username]
        checked = 0
        for method, path, op in operations(tenancy_app):
            if (method, path) in PUBLIC or (method, path) == ("post", "/api/v1/auth/logout"):
                continue
            permission = op.get("x-permission")
            allowed = permission is None or permission in GRANTS[role]
            body = BODIES.get((method, path), {}) if method != "get" else None
            r = await client.request(method, _url(path, own), json=body, headers=headers)
            where = f"{role} {method.upper()} {path} (in scope)"
            if not allowed:
                assert r.status_code == 403, f"{where}: {r.status_code} {r.text[:200]}"
                assert r.headers.get("content-type", "").startswith("application/json"), where
                assert r.json()["error"] == "forbidden"
                continue
            assert r.status_code not in (401, 403, 500), f"{where}: {r.status_code} {r.text[:300]}"
            json_answer = r.headers.get("content-type", "").startswith("application/json")
            if method == "get" and r.status_code == 200 and "{" not in path and json_answer:
                _no_foreign_rows(r.json(), foreign_code, where)
            if foreign_code is None or "{" not in path:
                continue
            foreign = path_values(foreign_code)
            r = await client.request(method, _url(path, foreign), json=body, headers=headers)
            where = f"{role} {method.upper()} {path} (another tenant's)"
            assert r.status_code == 404, f"{where}: {r.status_code} {r.text[:300]}"
            checked += 1
        if OUT_OF_SCOPE[username] is not None:
            assert checked >= 4, "the out-of-scope half ran on too few endpoints"


def _no_foreign_rows(body: Any, foreign_code: str | None, where: str) -> None:
    if foreign_code is None or not isinstance(body, dict):
        return
    for row in body.get("items", []):
        codes = {row.get("fixmedins_code"), row.get("tenant_code")}
        assert foreign_code not in codes, f"{where}: lists another tenant's record {row}"


async def test_lists_filtered_by_another_tenant_s_code_are_empty(
    tenancy_app: FastAPI,
) -> None:
    transport = httpx.ASGITransport(app=tenancy_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        headers = await _token(client, "t-cash")
        for path in ("/api/v1/settlements", "/api/v1/reconciliation/results"):
            r = await client.get(path, params={"fixmedins_code": HOSP_B}, headers=headers)
            assert r.status_code == 200 and r.json() == {"total": 0, "items": []}, path
        r = await client.get("/api/v1/institutions", headers=headers)
        assert [i["fixmedins_code"] for i in r.json()["items"]] == ["H11010200001"]
