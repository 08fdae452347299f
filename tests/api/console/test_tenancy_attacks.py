"""The attack campaign (issue 17): cross-tenant reads and writes, privilege escalation (a user
changing its own role or tenant, a tenant admin granting agency roles), tampered tokens and
cookies, cross-site writes — every one refused, nothing written, each attempt audited. And
the console's hardening: cookie flags, CSRF token and Origin, security headers, session
expiry, the password policy."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from console_factories import PASSWORD, count
from fastapi import FastAPI
from sqlalchemy import func, select, update
from tenancy_world import CHAIN, HOSP_A, HOSP_B, STORE, build, record_ids

from yibao.api import analytics, console, health
from yibao.api import app as app_module
from yibao.kit.clock import local_naive_now
from yibao.runtime import Platform
from yibao.storage.tables import agency_user, audit_log, auth_session, fixmedins_credential


@pytest.fixture
def world_app(platform: Platform, password_hash: str, monkeypatch: pytest.MonkeyPatch) -> FastAPI:
    monkeypatch.setattr(app_module, "_mounters", lambda: [health.mount, console.mount])
    build(platform, password_hash)
    return app_module.create_app(platform.settings, platform=platform)


@pytest.fixture
async def wc(world_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=world_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


async def bearer(client: httpx.AsyncClient, username: str) -> dict[str, str]:
    r = await client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def denied(platform: Platform, actor: str, reason: str | None = None) -> int:
    with platform.db.read() as conn:
        rows = conn.execute(
            select(audit_log.c.detail)
            .where(audit_log.c.action == "auth.denied")
            .where(audit_log.c.actor == actor)
        ).scalars()
        return sum(1 for d in rows if reason is None or f'"reason":"{reason}"' in d)


def credentials_of(platform: Platform, code: str) -> int:
    return count(
        platform,
        fixmedins_credential,
        fixmedins_credential.c.fixmedins_code == code,
        fixmedins_credential.c.vali_flag == "1",
    )


# -- cross-tenant reads and writes ----------------------------------------------------------------


@pytest.mark.parametrize("username", ["t-cash", "t-iadm", "t-chain"])
async def test_another_tenant_s_records_are_404_and_the_probe_is_audited(
    wc: httpx.AsyncClient, platform: Platform, username: str
) -> None:
    headers = await bearer(wc, username)
    theirs = record_ids(HOSP_B)
    for path in (
        f"/api/v1/settlements/{theirs['setl_id']}",
        f"/api/v1/institutions/{HOSP_B}",
        f"/api/v1/persons/{theirs['psn_no']}",
        f"/api/v1/reconciliation/results/{theirs['file_qury_no']}",
    ):
        r = await wc.get(path, headers=headers)
        assert r.status_code == 404, path
        assert r.json()["error"] == "not_found"
    assert denied(platform, username, "not_found_or_out_of_scope") == 4


async def test_a_chain_sees_its_stores_and_not_other_institutions(
    wc: httpx.AsyncClient,
) -> None:
    headers = await bearer(wc, "t-chain")
    r = await wc.get("/api/v1/settlements", headers=headers)
    assert {row["fixmedins_code"] for row in r.json()["items"]} == {CHAIN, STORE}
    r = await wc.get("/api/v1/institutions", headers=headers)
    chain = next(i for i in r.json()["items"] if i["fixmedins_code"] == CHAIN)
    assert chain["children"] == [STORE]
    store = record_ids(STORE)
    r = await wc.get(f"/api/v1/settlements/{store['setl_id']}", headers=headers)
    assert r.status_code == 200
    assert r.json()["funds"][0]["fund_payamt"] == "70.00"
    assert r.json()["fee_lines"][0]["det_item_fee_sumamt"] == "100.00"


async def test_cross_tenant_credential_writes_are_refused_and_write_nothing(
    wc: httpx.AsyncClient, platform: Platform
) -> None:
    headers = await bearer(wc, "t-iadm")
    before = credentials_of(platform, HOSP_B)
    r = await wc.post(f"/api/v1/institutions/{HOSP_B}/credentials", json={}, headers=headers)
    assert r.status_code == 404
    paasid = record_ids(HOSP_B)["paasid"]
    r = await wc.post(f"/api/v1/institutions/{HOSP_B}/credentials/{paasid}/revoke", headers=headers)
    assert r.status_code == 404
    assert credentials_of(platform, HOSP_B) == before
    assert denied(platform, "t-iadm", "not_found_or_out_of_scope") == 2
    # its own: allowed (the institution rotates its keys: issue, then revoke the old one)
    r = await wc.post(f"/api/v1/institutions/{HOSP_A}/credentials", json={}, headers=headers)
    assert r.status_code == 201
    assert credentials_of(platform, HOSP_A) == 2


# -- privilege escalation -----------------------------------------------------------------------


def role_of(platform: Platform, username: str) -> tuple[str, str | None]:
    with platform.db.read() as conn:
        row = conn.execute(
            select(agency_user.c.role, agency_user.c.tenant_code).where(
                agency_user.c.username == username
            )
        ).one()
    return row.role, row.tenant_code


@pytest.mark.parametrize(
    "username,change",
    [
        ("t-iadm", {"role": "chain_admin"}),
        ("t-iadm", {"tenant_code": HOSP_B}),
        ("t-sec", {"role": "sysadmin"}),
        ("t-sec", {"vali_flag": "0"}),
        ("t-chain", {"tenant_code": HOSP_B}),
    ],
)
async def test_a_user_cannot_change_its_own_role_or_tenant(
    wc: httpx.AsyncClient, platform: Platform, username: str, change: dict[str, str]
) -> None:
    before = role_of(platform, username)
    r = await wc.patch(f"/api/v1/users/{username}", json=change, headers=await bearer(wc, username))
    assert r.status_code == 403, r.text
    assert role_of(platform, username) == before
    assert denied(platform, username) == 1


@pytest.mark.parametrize(
    "actor,body,status",
    [
        # a tenant admin cannot create agency roles, nor users in another tenant
        ("t-iadm", {"role": "secadmin"}, 403),
        ("t-iadm", {"role": "cashier", "tenant_code": HOSP_B}, 403),
        ("t-chain", {"role": "cashier", "tenant_code": HOSP_A}, 403),
        # a chain admin's stores are not chains of their own
        ("t-chain", {"role": "chain_admin", "tenant_code": STORE}, 403),
        # 三权分立 and the operator: only the secadmin creates users
        ("t-oper", {"role": "cashier", "tenant_code": HOSP_A}, 403),
        ("t-sys", {"role": "auditor"}, 403),
    ],
)
async def test_escalation_by_creating_users_is_refused(
    wc: httpx.AsyncClient, platform: Platform, actor: str, body: dict[str, str], status: int
) -> None:
    users_before = count(platform, agency_user)
    r = await wc.post(
        "/api/v1/users",
        json={"username": "newbie", "password": "Str0ng-pass!", **body},
        headers=await bearer(wc, actor),
    )
    assert r.status_code == status, r.text
    assert count(platform, agency_user) == users_before
    assert denied(platform, actor) == 1


async def test_separation_of_the_three_powers(wc: httpx.AsyncClient, platform: Platform) -> None:
    headers = await bearer(wc, "t-sec")
    for username, role in (("t-aud", "operator"), ("t-oper", "sysadmin"), ("t-sys", "auditor")):
        before = role_of(platform, username)
        r = await wc.patch(f"/api/v1/users/{username}", json={"role": role}, headers=headers)
        assert r.status_code == 403, r.text
        assert "三权分立" in r.json()["message"]
        assert role_of(platform, username) == before


async def test_tenant_admins_manage_their_own_tenant_s_users(
    wc: httpx.AsyncClient, platform: Platform
) -> None:
    headers = await bearer(wc, "t-chain")
    r = await wc.post(
        "/api/v1/users",
        json={
            "username": "store-cashier",
            "password": PASSWORD,
            "role": "cashier",
            "tenant_code": STORE,
        },
        headers=headers,
    )
    assert r.status_code == 201, r.text
    assert r.json()["tenant_code"] == STORE
    r = await wc.get("/api/v1/users", headers=headers)
    assert {u["tenant_code"] for u in r.json()["items"]} <= {CHAIN, STORE}
    # a user's role change ends its sessions
    cashier = await bearer(wc, "store-cashier")
    r = await wc.patch("/api/v1/users/store-cashier", json={"role": "inst_viewer"}, headers=headers)
    assert r.status_code == 200 and r.json()["role"] == "inst_viewer"
    assert (await wc.get("/api/v1/auth/me", headers=cashier)).status_code == 401
    with platform.db.read() as conn:
        actions = conn.execute(
            select(audit_log.c.action).where(audit_log.c.target == "store-cashier")
        ).scalars()
        assert {"user.create", "user.change"} <= set(actions)


@pytest.mark.parametrize(
    "password,why",
    [("Sh0rt!", "10"), ("alllowercaseletters", "三类"), ("t-new-User-1234", "用户名")],
)
async def test_the_password_policy(
    wc: httpx.AsyncClient, platform: Platform, password: str, why: str
) -> None:
    r = await wc.post(
        "/api/v1/users",
        json={"username": "t-new", "password": password, "role": "analyst"},
        headers=await bearer(wc, "t-sec"),
    )
    assert r.status_code == 400
    assert r.json()["message"].startswith("password:") and why in r.json()["message"]


# -- tampered tokens and cookies ----------------------------------------------------------------


async def test_tampered_tokens_and_cookies_are_401_and_audited(
    wc: httpx.AsyncClient, platform: Platform
) -> None:
    token = (await bearer(wc, "t-oper"))["Authorization"].split()[1]
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    r = await wc.post(
        "/api/v1/institutions/H11010200009/credentials",
        json={},
        headers={"Authorization": f"Bearer {tampered}"},
    )
    assert r.status_code == 401
    wc.cookies.set("yibao_session", tampered)
    r = await wc.get("/api/v1/settlements")
    assert r.status_code == 401
    assert denied(platform, "-", "bad_token") == 2


# -- CSRF and Origin ----------------------------------------------------------------------------


async def _page_login(client: httpx.AsyncClient, username: str) -> str:
    r = await client.post("/login", data={"username": username, "password": PASSWORD})
    assert r.status_code == 303, r.text
    return client.cookies["yibao_csrf"]


async def test_cookie_writes_need_the_csrf_token_and_a_same_site_origin(
    wc: httpx.AsyncClient, platform: Platform
) -> None:
    csrf = await _page_login(wc, "t-iadm")
    url = f"/api/v1/institutions/{HOSP_A}/credentials"
    attempts = [
        {},
        {"X-CSRF-Token": "forged"},
        {"X-CSRF-Token": csrf, "Origin": "https://evil.example"},
        {"X-CSRF-Token": csrf, "Referer": "https://evil.example/page"},
    ]
    for headers in attempts:
        r = await wc.post(url, json={}, headers=headers)
        assert r.status_code == 403, (headers, r.text)
        assert credentials_of(platform, HOSP_A) == 1
    assert denied(platform, "t-iadm", "csrf") == 2
    assert denied(platform, "t-iadm", "origin") == 2
    r = await wc.post(url, json={}, headers={"X-CSRF-Token": csrf, "Origin": "http://testserver"})
    assert r.status_code == 201, r.text
    # reads need no token
    assert (await wc.get(url)).status_code == 200


async def test_bearer_writes_are_exempt_from_the_csrf_check(wc: httpx.AsyncClient) -> None:
    headers = {**(await bearer(wc, "t-iadm")), "Origin": "https://elsewhere.example"}
    r = await wc.post(f"/api/v1/institutions/{HOSP_A}/credentials", json={}, headers=headers)
    assert r.status_code == 201


async def test_a_foreign_page_cannot_sign_a_browser_in(wc: httpx.AsyncClient) -> None:
    r = await wc.post(
        "/login",
        data={"username": "t-iadm", "password": PASSWORD},
        headers={"Origin": "https://evil.example"},
    )
    assert r.status_code == 403
    assert "yibao_session" not in wc.cookies


# -- headers and cookies ------------------------------------------------------------------------


async def test_secure_cookies_behind_tls(wc: httpx.AsyncClient) -> None:
    r = await wc.post(
        "/login",
        data={"username": "t-view", "password": PASSWORD},
        headers={"X-Forwarded-Proto": "https"},
    )
    assert r.status_code == 303
    for cookie in r.headers.get_list("set-cookie"):
        assert "; secure" in cookie.lower(), cookie


async def test_security_headers(wc: httpx.AsyncClient) -> None:
    headers = await bearer(wc, "t-rev")
    r = await wc.get(f"/api/v1/persons/{record_ids(HOSP_A)['psn_no']}", headers=headers)
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    r = await wc.get("/api/v1/settlements", headers=headers)
    assert r.headers["cache-control"] == "no-store"
    page = await wc.get("/login")
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["referrer-policy"] == "same-origin"
    assert page.headers["x-content-type-options"] == "nosniff"


# -- session expiry -----------------------------------------------------------------------------


@pytest.mark.parametrize("column", ["last_seen_at", "expires_at"])
async def test_idle_and_absolute_expiry(
    wc: httpx.AsyncClient, platform: Platform, column: str
) -> None:
    headers = await bearer(wc, "t-view")
    assert (await wc.get("/api/v1/auth/me", headers=headers)).status_code == 200
    idle = timedelta(minutes=platform.settings.session_idle_minutes)
    past = local_naive_now() - (idle + timedelta(minutes=1))
    platform.db.writer.run_sync(
        lambda conn: conn.execute(update(auth_session).values({column: past}))
    )
    r = await wc.get("/api/v1/auth/me", headers=headers)
    assert r.status_code == 401
    with platform.db.read() as conn:
        assert conn.execute(select(func.count()).select_from(auth_session)).scalar_one() == 1


# -- the institution console API and the fixed defects ------------------------------------------


async def test_the_institution_list_shows_children_and_active_credentials(
    wc: httpx.AsyncClient,
) -> None:
    r = await wc.get("/api/v1/institutions", headers=await bearer(wc, "t-oper"))
    rows = {i["fixmedins_code"]: i for i in r.json()["items"]}
    assert rows[CHAIN]["children"] == [STORE]
    assert rows[HOSP_A]["children"] == []
    assert all(i["active_credentials"] == 1 for i in rows.values())
    # the same as fetching one alone
    one = await wc.get(f"/api/v1/institutions/{CHAIN}", headers=await bearer(wc, "t-oper"))
    assert {k: one.json()[k] for k in ("children", "active_credentials")} == {
        "children": [STORE],
        "active_credentials": 1,
    }


async def test_settlement_filters_and_paging(wc: httpx.AsyncClient) -> None:
    headers = await bearer(wc, "t-rev")
    r = await wc.get("/api/v1/settlements", headers=headers)
    body = r.json()
    assert body["total"] == 5
    times = [row["setl_time"] for row in body["items"]]
    assert times == sorted(times, reverse=True)  # newest first
    row = body["items"][0]
    assert {"setl_id", "mdtrt_id", "fixmedins_code", "medfee_sumamt", "fund_pay_sumamt"} <= set(row)
    assert row["medfee_sumamt"] == "100.00" and row["fund_pay_sumamt"] == "70.00"
    page = await wc.get("/api/v1/settlements", params={"limit": 2, "offset": 1}, headers=headers)
    assert [x["setl_id"] for x in page.json()["items"]] == [
        x["setl_id"] for x in body["items"][1:3]
    ]
    ids = record_ids(HOSP_B)
    by_psn = await wc.get("/api/v1/settlements", params={"psn_no": ids["psn_no"]}, headers=headers)
    assert [x["setl_id"] for x in by_psn.json()["items"]] == [ids["setl_id"]]
    # the world settles hospital A at 10:30, B at 11:30, …: since inclusive, until exclusive
    window = await wc.get(
        "/api/v1/settlements",
        params={"since": "2026-12-01T11:30:00", "until": "2026-12-01T12:30:00+08:00"},
        headers=headers,
    )
    assert [x["fixmedins_code"] for x in window.json()["items"]] == [HOSP_B]
    bad = await wc.get("/api/v1/settlements", params={"since": "yesterday"}, headers=headers)
    assert bad.status_code == 400 and bad.json()["message"].startswith("since")


async def test_an_institution_downloads_its_reconciliation_result(wc: httpx.AsyncClient) -> None:
    headers = await bearer(wc, "t-view")
    r = await wc.get("/api/v1/reconciliation/results", headers=headers)
    assert r.json()["total"] == 1
    item = r.json()["items"][0]
    assert item["fixmedins_code"] == HOSP_A
    f = await wc.get(f"/api/v1/reconciliation/results/{item['file_qury_no']}", headers=headers)
    assert f.status_code == 200 and f.headers["content-type"] == "application/zip"
    assert f.content.startswith(b"PK") and f.headers["cache-control"] == "no-store"


async def test_a_page_the_role_may_not_open_answers_a_page(
    world_app: FastAPI, wc: httpx.AsyncClient, platform: Platform
) -> None:
    analytics.mount(world_app, platform)
    await _page_login(wc, "t-cash")  # a cashier has no analytics.read
    r = await wc.get("/dashboard", headers={"Accept": "text/html"})
    assert r.status_code == 403
    assert r.headers["content-type"].startswith("text/html") and "无权限" in r.text
    assert r.headers["x-frame-options"] == "DENY"
    assert denied(platform, "t-cash", "permission") == 1
