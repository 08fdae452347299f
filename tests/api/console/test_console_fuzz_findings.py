"""What the OpenAPI fuzz (test_openapi_fuzz.py, issue 23) found, pinned as plain tests."""

from __future__ import annotations

from datetime import datetime

import httpx
import pytest
from console_factories import Auth

from yibao.api.console.schemas import MAX_OFFSET


@pytest.mark.parametrize(
    "path,username",
    [
        ("/api/v1/audit", "aud"),
        ("/api/v1/institutions", "oper"),
        ("/api/v1/persons", "oper"),
        ("/api/v1/settlements", "oper"),
        ("/api/v1/users", "sec"),
    ],
)
@pytest.mark.parametrize("offset", [MAX_OFFSET + 1, 2**63, 10**30])
async def test_an_offset_past_the_bound_is_invalid_input_not_a_server_error(
    client: httpx.AsyncClient, auth: Auth, path: str, username: str, offset: int
) -> None:
    r = await client.get(path, params={"offset": offset}, headers=await auth(username))
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "invalid_input"
    assert "offset" in r.json()["message"]


async def test_the_largest_offset_is_an_empty_page(client: httpx.AsyncClient, auth: Auth) -> None:
    r = await client.get("/api/v1/audit", params={"offset": MAX_OFFSET}, headers=await auth("aud"))
    assert r.status_code == 200, r.text
    assert r.json()["items"] == []


async def test_times_are_rfc3339_with_the_platform_offset(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    headers = await auth("aud")
    refused = await client.post("/api/v1/auth/login", json={"username": "aud", "password": "x"})
    assert refused.status_code == 401  # one more audited event to list
    at = (await client.get("/api/v1/audit", headers=headers)).json()["items"][0]["at"]
    assert at.endswith("+08:00"), at
    assert datetime.fromisoformat(at).utcoffset() is not None
