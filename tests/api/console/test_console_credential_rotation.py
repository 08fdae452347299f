"""Rotating a gateway credential from the console: a successor in the same mode shown once, the
old one valid for the overlap beside it, both listed with their state and refused count; rotating
a revoked, rotated or unknown credential is refused and writes nothing."""

from __future__ import annotations

import httpx
from console_factories import HOSPITAL, Auth, audit_count

from yibao.runtime import Platform

BASE = "/api/v1/institutions/H11010200001/credentials"


async def test_rotate_lists_both_with_their_states(
    client: httpx.AsyncClient, auth: Auth, platform: Platform
) -> None:
    headers = await auth("oper")
    await client.post("/api/v1/institutions", json=HOSPITAL, headers=headers)
    old = (await client.post(BASE, headers=headers)).json()
    r = await client.post(f"{BASE}/{old['paasid']}/rotate", headers=headers)
    assert r.status_code == 201, r.text
    new = r.json()
    assert new["auth_mode"] == "signature" and len(new["paas_token"]) >= 40
    assert new["rotated_from"] == old["paasid"] and new["old_expires_at"]
    listed = {c["paasid"]: c for c in (await client.get(BASE, headers=headers)).json()}
    assert listed[old["paasid"]]["state"] == "overlap"
    assert listed[old["paasid"]]["rotated_to"] == new["paasid"]
    assert listed[old["paasid"]]["expires_at"] == new["old_expires_at"]
    assert listed[new["paasid"]]["state"] == "active"
    assert all(c["refused_count"] == 0 for c in listed.values())
    assert "paas_token" not in str(listed)
    assert audit_count(platform, "credential.rotate") == 1

    again = await client.post(f"{BASE}/{old['paasid']}/rotate", headers=headers)
    assert again.status_code == 409 and again.json()["message"].startswith("paasid:")
    await client.post(f"{BASE}/{new['paasid']}/revoke", headers=headers)
    revoked = await client.post(f"{BASE}/{new['paasid']}/rotate", headers=headers)
    assert revoked.status_code == 409
    unknown = await client.post(f"{BASE}/nope/rotate", headers=headers)
    assert unknown.status_code == 404
    assert len((await client.get(BASE, headers=headers)).json()) == 2
    assert audit_count(platform, "credential.rotate") == 1
    analyst = await client.post(f"{BASE}/{old['paasid']}/rotate", headers=await auth("ana"))
    assert analyst.status_code == 403
