"""The analytics edge through HTTP with the server's start-up (lifespan): signed-in JSON
answers carrying seq and lag, the dashboard page and its redirect, the replica operations."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from argon2 import PasswordHasher
from sqlalchemy import insert

from yibao.api import analytics, console, health
from yibao.api import app as app_module
from yibao.kit import clock
from yibao.kit.clock import local_naive_now
from yibao.replica.lock import TOKEN_HEADER, running_owner
from yibao.runtime import Platform
from yibao.storage.tables import agency_user

sys.path.insert(0, str(Path(__file__).parents[1] / "replica"))
import factories

PASSWORD = "correct-horse-9"


@pytest.fixture
async def client(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[httpx.AsyncClient]:
    monkeypatch.setattr(
        app_module, "_mounters", lambda: [health.mount, console.mount, analytics.mount]
    )
    hashed = PasswordHasher().hash(PASSWORD)

    def seed(conn):  # type: ignore[no-untyped-def]
        conn.execute(
            insert(agency_user),
            [
                {
                    "username": u,
                    "password_hash": hashed,
                    "display_name": u,
                    "role": r,
                    "vali_flag": "1",
                    "created_at": local_naive_now(),
                }
                for u, r in (("admin", "sysadmin"), ("ana", "analyst"))
            ],
        )
        factories.institution(conn)
        person = factories.person(conn)
        factories.settlement(
            conn,
            fixmedins_code="H11010100001",
            psn_no=person["psn_no"],
            medfee=Decimal("200.00"),
            setl_time=clock.local_naive_now(),
        )
        return person

    person = platform.db.writer.run_sync(seed)
    app = app_module.create_app(platform.settings, platform=platform)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as c:
            c.person = person  # type: ignore[attr-defined]
            yield c


async def _login(client: httpx.AsyncClient, username: str = "ana") -> dict[str, str]:
    r = await client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def test_signed_out_gets_401_and_the_page_redirects_to_login(
    client: httpx.AsyncClient,
) -> None:
    r = await client.get("/api/v1/analytics/summary")
    assert r.status_code == 401
    r = await client.get("/dashboard", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=%2Fdashboard"


async def test_an_answer_carries_seq_lag_and_consistency(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    headers = await _login(client)
    r = await client.get("/api/v1/analytics/summary", headers=headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) >= {"seq", "lag_rows", "lag_ms", "consistency", "data"}
    assert body["consistency"] == "strong" and body["lag_rows"] == 0 and body["seq"] == 4
    assert body["data"][0]["medfee_sumamt"] == "200.00"  # exact, as a string
    # a bounded read that happens to be caught up is, and says it is, strong
    r = await client.get(
        "/api/v1/analytics/by_insutype?consistency=bounded&max_lag_ms=60000", headers=headers
    )
    assert r.json()["consistency"] == "strong" and r.json()["lag_rows"] == 0
    assert r.json()["data"][0]["name"] == "职工基本医疗保险"
    # one behind the log, within its bound, says bounded and how far behind it is
    replica = platform.replica
    replica.applier.paused.set()  # a step under way read the log before the commit below
    try:
        platform.db.writer.run_sync(
            lambda conn: factories.settlement(
                conn,
                fixmedins_code="H11010100001",
                psn_no=client.person["psn_no"],  # type: ignore[attr-defined]
                medfee=Decimal("0.01"),
            )
        )
        r = await client.get(
            "/api/v1/analytics/summary?consistency=bounded&max_lag_ms=60000", headers=headers
        )
        body = r.json()
        assert body["consistency"] == "bounded" and body["lag_rows"] >= 1
        assert body["data"][0]["medfee_sumamt"] == "200.00"  # the new one is not in it yet
    finally:
        replica.applier.paused.clear()


async def test_a_settlement_committed_before_the_request_is_in_the_answer(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    headers = await _login(client)
    before = (await client.get("/api/v1/analytics/summary", headers=headers)).json()
    platform.db.writer.run_sync(
        lambda conn: factories.settlement(
            conn,
            fixmedins_code="H11010100001",
            psn_no=client.person["psn_no"],  # type: ignore[attr-defined]
            medfee=Decimal("0.01"),
            setl_time=clock.local_naive_now(),
        )
    )
    after = (await client.get("/api/v1/analytics/summary", headers=headers)).json()
    assert after["seq"] == before["seq"] + 2
    assert Decimal(after["data"][0]["medfee_sumamt"]) == Decimal(
        before["data"][0]["medfee_sumamt"]
    ) + Decimal("0.01")


async def test_bad_parameters_are_400_with_the_field(client: httpx.AsyncClient) -> None:
    headers = await _login(client)
    r = await client.get("/api/v1/analytics/by_day?date_from=2024-13-01", headers=headers)
    assert r.status_code == 400 and "date_from" in r.json()["message"]
    r = await client.get("/api/v1/analytics/nope", headers=headers)
    assert r.status_code == 400 and "unknown query" in r.json()["message"]
    r = await client.get("/api/v1/analytics/summary?consistency=eventual", headers=headers)
    assert r.status_code == 400


async def test_dashboard_data_catalogue_position_and_page(client: httpx.AsyncClient) -> None:
    headers = await _login(client)
    body = (await client.get("/api/v1/analytics/dashboard", headers=headers)).json()
    data = body["data"]
    assert data["today"]["setl_cnt"] == 1 and data["month"]["fund_pay_sumamt"] != "0.00"
    assert {f["fund"] for f in data["funds_month"]} >= {"hifp_pay", "acct_pay"}
    assert data["top_institutions"][0]["name"] == "北京示例医院"
    position = (await client.get("/api/v1/analytics/position", headers=headers)).json()
    assert position["seq"] == position["latest_seq"] == body["seq"]
    catalogue = (await client.get("/api/v1/analytics", headers=headers)).json()
    names = {q["name"] for q in catalogue["queries"]}
    assert {"summary", "by_region", "settlements"} <= names
    page = await client.get("/dashboard", headers=headers)
    assert page.status_code == 200 and "医保基金 T+0 监测看板" in page.text
    assert "/static/vendor/echarts/echarts.min.js" in page.text
    js = await client.get("/static/vendor/echarts/echarts.min.js")
    assert js.status_code == 200 and len(js.content) > 500_000


async def test_replica_operations_need_the_lock_token_or_an_admin(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    r = await client.get("/api/v1/replica/status", headers=await _login(client, "ana"))
    assert r.status_code == 403
    owner = running_owner(platform.settings.data_dir)
    assert owner is not None and owner.token
    status = (
        await client.get("/api/v1/replica/status", headers={TOKEN_HEADER: owner.token})
    ).json()
    assert status["engine"] == "duckdb" and status["applier"]["running"] is True
    report = (
        await client.post("/api/v1/replica/verify", headers=await _login(client, "admin"))
    ).json()
    assert report["ok"] is True
    r = await client.post("/api/v1/replica/rebuild?source=log", headers={TOKEN_HEADER: owner.token})
    assert r.json()["started"] is True
    r = await client.get("/api/v1/replica/status", headers={TOKEN_HEADER: "wrong"})
    assert r.status_code == 401


async def test_the_lock_is_released_when_the_server_stops(platform: Platform) -> None:
    app = app_module.create_app(platform.settings, platform=platform)
    async with app.router.lifespan_context(app):
        assert running_owner(platform.settings.data_dir) is not None
        assert platform.replica is not None
    assert running_owner(platform.settings.data_dir) is None
    assert platform.replica is None
