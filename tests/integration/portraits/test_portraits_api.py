"""Portraits through HTTP on a demo city: a person's figures equal what its settlements say,
the person is masked for a role without unmasking, an institution sees its own portrait only,
and the indicators come with peer percentiles."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, insert, select

from yibao.analytics.portraits import percentile, person_risk
from yibao.api import analytics, console, health
from yibao.api import app as app_module
from yibao.kit.clock import local_naive_now
from yibao.runtime import Platform
from yibao.simulate.demo import load_demo, load_history
from yibao.simulate.replica_load import replica_for_load
from yibao.storage.tables import agency_user, setl

PASSWORD = "Portrait-2026!"
USERS = (("rev", "reviewer", None), ("ana", "analyst", None))


@pytest.fixture
async def client(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[httpx.AsyncClient]:
    monkeypatch.setattr(
        app_module, "_mounters", lambda: [health.mount, console.mount, analytics.mount]
    )
    load_demo(platform.db.engine, platform.settings.data_dir, persons=300)
    with replica_for_load(platform.settings) as replica:
        load_history(platform.db.engine, platform.settings.data_dir, replica, persons=300, days=60)
    hashed = PasswordHasher().hash(PASSWORD)
    with platform.db.engine.connect() as conn:
        busiest = conn.execute(
            select(setl.c.psn_no, setl.c.fixmedins_code, func.count().label("n"))
            .group_by(setl.c.psn_no, setl.c.fixmedins_code).order_by(func.count().desc()).limit(1)
        ).one()  # fmt: skip
    users = [*USERS, ("inst", "inst_admin", busiest.fixmedins_code)]

    def seed(conn):  # type: ignore[no-untyped-def]
        conn.execute(insert(agency_user), [
            {"username": u, "password_hash": hashed, "display_name": u, "role": r,
             "tenant_code": t, "vali_flag": "1", "created_at": local_naive_now()}
            for u, r, t in users
        ])  # fmt: skip

    platform.db.writer.run_sync(seed)
    app = app_module.create_app(platform.settings, platform=platform)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as c,
    ):
        c.busiest = busiest  # type: ignore[attr-defined]
        yield c


async def _as(client: httpx.AsyncClient, username: str) -> dict[str, str]:
    r = await client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def test_a_person_portrait_adds_up_and_is_masked(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    psn_no = client.busiest.psn_no  # type: ignore[attr-defined]
    r = await client.get(f"/api/v1/portraits/persons/{psn_no}", params={"since": "2026-01-01"},
                         headers=await _as(client, "rev"))  # fmt: skip
    assert r.status_code == 200, r.text
    p = r.json()
    with platform.db.engine.connect() as conn:
        n, fee = conn.execute(
            select(func.count(), func.sum(setl.c.medfee_sumamt)).where(
                setl.c.psn_no == psn_no, setl.c.vali_flag == "1", setl.c.refd_setl_flag != "1")
        ).one()  # fmt: skip
    assert p["totals"]["visits"] == n and Decimal(p["totals"]["medfee"]) == Decimal(fee)
    assert sum(m["visits"] for m in p["months"]) == n
    assert p["person"]["masked"] is True and "*" in p["person"]["certno"]
    assert len(str(p["person"]["brdy"])) == 4  # the year only
    assert 0 <= p["risk"]["score"] <= 100 and p["institutions"]
    r = await client.get(f"/api/v1/portraits/persons/{psn_no}", headers=await _as(client, "ana"))
    assert r.status_code == 403  # an analyst sees aggregates only


async def test_an_institution_portrait_with_peers_in_scope_only(client: httpx.AsyncClient) -> None:
    code = client.busiest.fixmedins_code  # type: ignore[attr-defined]
    own = await client.get(f"/api/v1/portraits/institutions/{code}", params={"since": "2026-01-01"},
                           headers=await _as(client, "inst"))  # fmt: skip
    assert own.status_code == 200, own.text
    body: dict[str, Any] = own.json()
    assert body["peers"] >= 1 and body["trend"]
    keys = {i["key"] for i in body["indicators"]}
    assert {"cost_per_visit", "drug_share", "visits_per_person", "selfpay_share"} <= keys
    for i in body["indicators"]:
        assert i["percentile"] is None or 0 <= i["percentile"] <= 100
    others = await client.get("/api/v1/institutions", headers=await _as(client, "rev"))
    other = next(i["fixmedins_code"] for i in others.json()["items"] if i["fixmedins_code"] != code)
    r = await client.get(
        f"/api/v1/portraits/institutions/{other}", headers=await _as(client, "inst")
    )
    assert r.status_code == 404
    r = await client.get(f"/api/v1/portraits/institutions/{code}", params={"since": "2026-02-01",
                         "until": "2026-01-01"}, headers=await _as(client, "ana"))  # fmt: skip
    assert r.status_code == 400 and "since/until" in r.json()["message"]


def test_risk_score_and_percentiles() -> None:
    util = {"totals": {"institutions": 6}, "months": [{"month": "2026-01", "visit_kind": "outpatient", "visits": 9}],
            "readmission_gaps_days": [5, 40]}  # fmt: skip
    risk = person_risk([{"result_type": "violation"}, {"result_type": "suspicious"}],
                       [{"decision": "deduct", "state": "decided"}], util)  # fmt: skip
    assert risk["score"] == 15 + 6 + 20 + 10 + 15 + 10 and risk["level"] == "高"
    assert person_risk([], [], {"totals": {"institutions": 1}, "months": [],
                                "readmission_gaps_days": []})["score"] == 0  # fmt: skip
    assert percentile(5, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]) == 45.0
    assert percentile(1, []) == 50.0
