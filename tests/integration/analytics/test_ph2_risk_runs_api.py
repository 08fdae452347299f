"""`POST /api/v1/risk/runs` in the process that owns the replica: the reviewer (risk.run) and
`yibao risk run` (the lock file's token) start a run and get its summary; other roles 403;
bad input 400 naming the field, nothing written; the nightly schedule runs the same pass."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, insert, select

from yibao.api import analytics, console, health
from yibao.api import app as app_module
from yibao.kit.clock import local_naive_now
from yibao.replica.lock import TOKEN_HEADER, running_owner
from yibao.runtime import Platform
from yibao.storage.tables import agency_user, risk_run

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
                for u, r in (("rev", "reviewer"), ("ana", "analyst"))
            ],
        )

    platform.db.writer.run_sync(seed)
    app = app_module.create_app(platform.settings, platform=platform)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as c:
            yield c


async def _login(client: httpx.AsyncClient, username: str) -> dict[str, str]:
    r = await client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _runs(platform: Platform) -> list[str]:
    with platform.db.engine.connect() as conn:
        return list(
            conn.execute(select(risk_run.c.run_by).order_by(risk_run.c.started_at)).scalars()
        )


async def test_the_reviewer_and_the_cli_start_a_run(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    rev = await _login(client, "rev")
    body = {"since": "2024-06-01", "until": "2024-06-30", "categories": ["split_admission"]}
    r = await client.post("/api/v1/risk/runs", json=body, headers=rev)
    assert r.status_code == 200, r.text
    summary = r.json()
    assert summary["since"] == "2024-06-01" and summary["categories"] == ["split_admission"]
    assert summary["hits_found"] == 0 and summary["run_id"]

    owner = running_owner(platform.settings.data_dir)
    assert owner is not None
    r = await client.post(
        "/api/v1/risk/runs", json={"until": "2024-07-31"}, headers={TOKEN_HEADER: owner.token}
    )
    assert r.status_code == 200, r.text
    assert _runs(platform) == ["console", "cli"]

    ana = await _login(client, "ana")
    r = await client.post("/api/v1/risk/runs", json={}, headers=ana)
    assert r.status_code == 403 and r.json()["error"] == "forbidden"
    r = await client.post("/api/v1/risk/runs", json={}, headers={TOKEN_HEADER: "wrong"})
    assert r.status_code == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"since": "2024-06-30", "until": "2024-06-01"}, "since/until"),
        ({"categories": ["nope"]}, "category"),
        ({"categories": "item_substitution"}, "category"),
        ({"since": "yesterday"}, "since"),
        ({"since": 20240601}, "since"),
        ({"sinse": "2024-06-01"}, "sinse"),
    ],
)
async def test_bad_input_is_400_naming_the_field_and_writes_nothing(
    client: httpx.AsyncClient, platform: Platform, body: dict[str, object], field: str
) -> None:
    rev = await _login(client, "rev")
    r = await client.post("/api/v1/risk/runs", json=body, headers=rev)
    assert r.status_code == 400, r.text
    assert r.json()["message"].startswith(field)
    with platform.db.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(risk_run)).scalar_one() == 0


async def test_the_nightly_schedule_runs_in_the_replica_s_owner(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    schedule = platform.risk_schedule
    assert schedule is not None and schedule.at == platform.settings.risk_schedule == "02:30"
    summary = schedule.run_once()
    assert "error" not in summary, summary
    assert _runs(platform) == ["schedule"]
