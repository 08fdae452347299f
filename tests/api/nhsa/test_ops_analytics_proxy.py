"""A gateway beside an analytics process (`yibao serve`) passes the analytics APIs on to it;
while that process is down those answer 503 at once and settlement goes on."""

from __future__ import annotations

from typing import Any

import httpx
from settle_factories import register_input

from yibao.api.app import create_app
from yibao.cli.supervise import free_port
from yibao.runtime import Platform


async def test_analytics_down_answers_503_and_settlement_goes_on(world: dict[str, Any]) -> None:
    platform: Platform = world["platform"]
    app = create_app(
        platform.settings, platform=platform, analytics_url=f"http://127.0.0.1:{free_port()}"
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        for path in ("/api/v1/analytics", "/api/v1/analytics/position", "/api/v1/replica/status"):
            answer = await client.get(path)
            assert answer.status_code == 503, path
            assert answer.json()["error"] == "analytics_unavailable"
        assert (await client.post("/api/v1/replica/rebuild")).status_code == 503
        # post-hoc runs read the replica: passed on too (docs/monitoring.md)
        assert (await client.post("/api/v1/risk/runs", json={})).status_code == 503
        # the page itself is the gateway's (it redirects to the login when signed out)
        page = await client.get("/dashboard")
        assert page.status_code in (302, 303, 307, 401)
        his = world["his"]
        his.client = client
        await his.ok("2201", register_input(world["people"]["emp"]))
    # the gateway never takes up the replica (the analytics process owns it)
    assert platform.serve_replica not in app.state.on_start
