"""Sign-in, tokens, the session cookie, 401 without either, roles, the login page."""

from __future__ import annotations

import re

import httpx
import pytest
from console_factories import HOSPITAL, PASSWORD, Auth, audit_count, count, person_body
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse
from sqlalchemy import select, update

from yibao.api.console.deps import CurrentUser
from yibao.runtime import Platform
from yibao.storage.tables import agency_user, auth_session, fixmedins, psn

PROTECTED = [
    ("GET", "/api/v1/auth/me"),
    ("POST", "/api/v1/auth/logout"),
    ("GET", "/api/v1/institutions"),
    ("POST", "/api/v1/institutions"),
    ("GET", "/api/v1/institutions/H11010200001"),
    ("PATCH", "/api/v1/institutions/H11010200001"),
    ("GET", "/api/v1/institutions/H11010200001/credentials"),
    ("POST", "/api/v1/institutions/H11010200001/credentials"),
    ("POST", "/api/v1/institutions/H11010200001/credentials/x/revoke"),
    ("GET", "/api/v1/persons"),
    ("POST", "/api/v1/persons"),
    ("GET", "/api/v1/persons/1"),
    ("PATCH", "/api/v1/persons/1"),
    ("POST", "/api/v1/persons/1/insurance"),
    ("PATCH", "/api/v1/persons/1/insurance/310"),
    ("POST", "/api/v1/persons/1/insurance/310/suspend"),
    ("POST", "/api/v1/persons/1/identities"),
    ("POST", "/api/v1/persons/1/account/credits"),
    ("GET", "/api/v1/audit"),
]


async def test_login_returns_a_bearer_token_that_authenticates(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    r = await client.post("/api/v1/auth/login", json={"username": "oper", "password": PASSWORD})
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"] == "bearer"
    assert body["expires_at"]
    me = await client.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    me_body = me.json()
    assert {k: me_body[k] for k in ("username", "display_name", "role", "tenant_kind")} == {
        "username": "oper",
        "display_name": "oper",
        "role": "operator",
        "tenant_kind": "agency",
    }
    assert me_body["tenant_code"] is None and "person.write" in me_body["permissions"]
    assert audit_count(platform, "auth.login") == 1


@pytest.mark.parametrize("username,password", [("oper", "wrong-password"), ("nobody", PASSWORD)])
async def test_wrong_credentials_are_401_and_audited(
    client: httpx.AsyncClient, platform: Platform, username: str, password: str
) -> None:
    r = await client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert r.status_code == 401
    assert r.json()["error"] == "unauthorized"
    assert "用户名或密码错误" in r.json()["message"]
    assert audit_count(platform, "auth.login_failed") == 1
    assert count(platform, auth_session) == 0


async def test_repeated_failures_lock_the_account_out_for_a_while(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    for _ in range(5):
        r = await client.post(
            "/api/v1/auth/login", json={"username": "oper", "password": "wrong-password"}
        )
        assert r.status_code == 401
    # locked: even the right password is refused, without being checked, and said so
    r = await client.post("/api/v1/auth/login", json={"username": "oper", "password": PASSWORD})
    assert r.status_code == 429, r.text
    assert r.json()["error"] == "too_many_attempts"
    assert "分钟后再试" in r.json()["message"]
    assert audit_count(platform, "auth.login_throttled") == 1
    assert count(platform, auth_session) == 0
    page = await client.post("/login", data={"username": "OPER", "password": PASSWORD})
    assert page.status_code == 429 and "分钟后再试" in page.text
    # another account is not affected
    r = await client.post("/api/v1/auth/login", json={"username": "admin", "password": PASSWORD})
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("method,path", PROTECTED)
async def test_every_api_route_needs_a_token(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    r = await client.request(method, path, json={})
    assert r.status_code == 401, r.text
    assert r.json()["error"] == "unauthorized"
    assert "登录" in r.json()["message"]


async def test_an_unknown_token_is_401(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/institutions", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401
    assert r.json()["error"] == "unauthorized"


async def test_logout_revokes_the_token(client: httpx.AsyncClient, auth: Auth) -> None:
    headers = await auth("oper")
    assert (await client.get("/api/v1/auth/me", headers=headers)).status_code == 200
    assert (await client.post("/api/v1/auth/logout", headers=headers)).status_code == 204
    assert (await client.get("/api/v1/auth/me", headers=headers)).status_code == 401


async def test_page_login_sets_a_strict_httponly_cookie_that_the_api_accepts(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    r = await client.post(
        "/login", data={"username": "aud", "password": PASSWORD, "next": "/api/v1/auth/me"}
    )
    assert r.status_code == 303
    assert r.headers["location"] == "/api/v1/auth/me"
    cookies = r.headers.get_list("set-cookie")
    session = next(c for c in cookies if c.startswith("yibao_session="))
    assert "HttpOnly" in session
    assert "samesite=strict" in session.lower()
    assert "secure" not in session.lower()  # plain http (tests); see the TLS test
    csrf = next(c for c in cookies if c.startswith("yibao_csrf="))
    assert "HttpOnly" not in csrf and "samesite=strict" in csrf.lower()
    me = await client.get("/api/v1/auth/me")  # the client keeps the cookie
    assert me.json()["username"] == "aud"

    # signing out needs the CSRF token too (a foreign page must not sign users out)
    refused = await client.post("/logout")
    assert refused.status_code == 403
    out = await client.post("/logout", data={"csrf_token": client.cookies["yibao_csrf"]})
    assert out.status_code == 303
    assert out.headers["location"] == "/login"
    client.cookies.clear()
    with platform.db.read() as conn:
        revoked = conn.execute(select(auth_session.c.revoked_at)).scalars().all()
    assert len(revoked) == 1 and revoked[0] is not None
    assert audit_count(platform, "auth.logout") == 1


async def test_page_login_failure_shows_the_form_again_without_a_cookie(
    client: httpx.AsyncClient,
) -> None:
    r = await client.post("/login", data={"username": "aud", "password": "bad", "next": "/x"})
    assert r.status_code == 401
    assert "用户名或密码错误" in r.text
    assert "set-cookie" not in r.headers
    assert 'value="aud"' in r.text


@pytest.mark.parametrize(
    "target", ["//evil.example/x", "https://evil.example/", "/\\evil.example", "", "/login"]
)
async def test_login_never_redirects_off_site(client: httpx.AsyncClient, target: str) -> None:
    r = await client.post("/login", data={"username": "aud", "password": PASSWORD, "next": target})
    assert r.status_code == 303
    assert r.headers["location"] == "/dashboard"


async def test_login_page_is_chinese_self_contained_html(client: httpx.AsyncClient) -> None:
    r = await client.get("/login?next=/dashboard/fund")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert "登录" in r.text and 'lang="zh-CN"' in r.text
    assert 'name="next" value="/dashboard/fund"' in r.text
    # Offline: no external stylesheet, script, font or image.
    assert not re.search(r"(src|href)=\"(https?:)?//", r.text)
    assert "<script" not in r.text


async def test_current_user_redirects_pages_and_admits_the_cookie(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    @app.get("/page-under-test")
    def page(user: CurrentUser) -> PlainTextResponse:
        return PlainTextResponse(f"hello {user.username}")

    r = await client.get("/page-under-test?tab=1")
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=%2Fpage-under-test%3Ftab%3D1"
    await client.post("/login", data={"username": "ana", "password": PASSWORD, "next": "/"})
    r = await client.get("/page-under-test")
    assert r.status_code == 200 and r.text == "hello ana"


@pytest.mark.parametrize("username", ["aud", "ana"])
async def test_read_only_roles_get_403_on_writes_and_nothing_is_written(
    client: httpx.AsyncClient, auth: Auth, platform: Platform, username: str
) -> None:
    headers = await auth(username)
    r = await client.post("/api/v1/institutions", json=HOSPITAL, headers=headers)
    assert r.status_code == 403
    assert r.json()["error"] == "forbidden"
    assert "institution.write" in r.json()["message"]
    r = await client.post("/api/v1/persons", json=person_body(), headers=headers)
    assert r.status_code == 403
    assert count(platform, fixmedins) == 0
    assert count(platform, psn) == 0
    # auth.denied rows are all that was written
    assert audit_count(platform, "auth.denied") == 2


async def test_operator_can_write(client: httpx.AsyncClient, auth: Auth) -> None:
    r = await client.post("/api/v1/institutions", json=HOSPITAL, headers=await auth("oper"))
    assert r.status_code == 201


@pytest.mark.parametrize(
    "username,status",
    [("admin", 403), ("sec", 403), ("aud", 200), ("oper", 403), ("ana", 403), ("rev", 403)],
)
async def test_the_audit_trail_is_for_the_auditor_alone(
    client: httpx.AsyncClient, auth: Auth, username: str, status: int
) -> None:
    r = await client.get("/api/v1/audit", headers=await auth(username))
    assert r.status_code == status


async def test_malformed_bodies_are_400_naming_the_field(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    headers = await auth("oper")
    r = await client.post(
        "/api/v1/institutions", json={**HOSPITAL, "kind": "castle"}, headers=headers
    )
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_input"
    assert r.json()["message"].startswith("kind:")
    r = await client.post("/api/v1/institutions", json={**HOSPITAL, "colour": 1}, headers=headers)
    assert r.status_code == 400 and "colour" in r.json()["message"]


async def test_openapi_documents_tags_security_and_error_bodies(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    op = spec["paths"]["/api/v1/persons"]["post"]
    assert op["tags"] == ["参保人 persons"]
    assert "register" in op["summary"] and "登记" in op["summary"]
    for status in ("400", "401", "403", "409"):
        assert op["responses"][status]["content"]["application/json"]["schema"]["$ref"].endswith(
            "/ErrorOut"
        )
    schemes = spec["components"]["securitySchemes"]
    assert any(s.get("scheme") == "bearer" for s in schemes.values())
    assert any(s.get("in") == "cookie" for s in schemes.values())
    assert "/login" not in spec["paths"]


async def test_a_deactivated_user_cannot_sign_in(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    platform.db.writer.run_sync(
        lambda conn: conn.execute(
            update(agency_user).where(agency_user.c.username == "oper").values(vali_flag="0")
        )
    )
    r = await client.post("/api/v1/auth/login", json={"username": "oper", "password": PASSWORD})
    assert r.status_code == 401
    assert count(platform, auth_session) == 0
