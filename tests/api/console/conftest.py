"""Console API fixtures: the app on a migrated SQLite platform, one user per role, an HTTP
client (httpx over ASGI) and `auth(username)` → bearer headers."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from argon2 import PasswordHasher
from console_factories import PASSWORD, USERS, Auth
from fastapi import FastAPI
from sqlalchemy import insert

from yibao.api import app as app_module
from yibao.api import console, health
from yibao.kit.clock import local_naive_now
from yibao.runtime import Platform
from yibao.storage.tables import agency_user


@pytest.fixture(scope="session")
def password_hash() -> str:
    """Hashed once: Argon2 is deliberately slow."""
    return PasswordHasher().hash(PASSWORD)


@pytest.fixture
def app(platform: Platform, password_hash: str, monkeypatch: pytest.MonkeyPatch) -> FastAPI:
    # Only this edge: the console's tests do not depend on the other edges' start-up.
    monkeypatch.setattr(app_module, "_mounters", lambda: [health.mount, console.mount])

    def job(conn):  # type: ignore[no-untyped-def]
        conn.execute(
            insert(agency_user),
            [
                {
                    "username": name,
                    "password_hash": password_hash,
                    "display_name": name,
                    "role": role,
                    "vali_flag": "1",
                    "created_at": local_naive_now(),
                }
                for name, role in USERS.items()
            ],
        )

    platform.db.writer.run_sync(job)
    return app_module.create_app(platform.settings, platform=platform)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.fixture
def auth(client: httpx.AsyncClient) -> Auth:
    tokens: dict[str, str] = {}

    async def headers(username: str) -> dict[str, str]:
        if username not in tokens:
            r = await client.post(
                "/api/v1/auth/login", json={"username": username, "password": PASSWORD}
            )
            assert r.status_code == 200, r.text
            tokens[username] = r.json()["access_token"]
        return {"Authorization": f"Bearer {tokens[username]}"}

    return headers
