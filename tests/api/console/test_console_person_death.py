"""The person's date of death through the console API: recorded, corrected, cleared,
audited; a bad date is refused naming the field and changes nothing."""

from __future__ import annotations

import httpx
from console_factories import Auth, audit_count, person_body
from sqlalchemy import select

from yibao.runtime import Platform
from yibao.storage.tables import audit_log, psn

URL = "/api/v1/persons"


async def _person(client: httpx.AsyncClient, auth: Auth) -> str:
    r = await client.post(URL, json=person_body(), headers=await auth("oper"))
    assert r.status_code == 201, r.text
    return str(r.json()["psn_no"])


async def test_death_is_recorded_corrected_and_cleared_with_an_audit_row(
    client: httpx.AsyncClient, auth: Auth, platform: Platform
) -> None:
    psn_no = await _person(client, auth)
    headers = await auth("oper")
    shown = await client.get(f"{URL}/{psn_no}", headers=headers)
    assert shown.json()["death_date"] is None
    r = await client.put(
        f"{URL}/{psn_no}/death", json={"death_date": "2024-05-01"}, headers=headers
    )
    assert r.status_code == 200, r.text
    assert r.json()["death_date"] == "2024-05-01"
    assert (await client.get(f"{URL}/{psn_no}", headers=headers)).json()[
        "death_date"
    ] == "2024-05-01"
    again = await client.put(
        f"{URL}/{psn_no}/death", json={"death_date": "2024-05-01"}, headers=headers
    )
    assert again.status_code == 200
    assert audit_count(platform, "psn.death") == 1  # unchanged: nothing written
    fixed = await client.put(
        f"{URL}/{psn_no}/death", json={"death_date": "2024-04-30"}, headers=headers
    )
    assert fixed.json()["death_date"] == "2024-04-30"
    cleared = await client.put(f"{URL}/{psn_no}/death", json={"death_date": None}, headers=headers)
    assert cleared.status_code == 200 and cleared.json()["death_date"] is None
    assert audit_count(platform, "psn.death") == 3
    with platform.db.read() as conn:
        details = [
            r.detail
            for r in conn.execute(
                select(audit_log.c.detail).where(audit_log.c.action == "psn.death")
            )
        ]
    assert any("2024-05-01" in str(d) and "2024-04-30" in str(d) for d in details)


async def test_a_bad_death_date_is_refused_naming_the_field(
    client: httpx.AsyncClient, auth: Auth, platform: Platform
) -> None:
    psn_no = await _person(client, auth)
    headers = await auth("oper")
    for body in ({"death_date": "2999-01-01"}, {"death_date": "1940-01-01"}):
        r = await client.put(f"{URL}/{psn_no}/death", json=body, headers=headers)
        assert r.status_code == 400, r.text
        assert r.json()["message"].startswith("death_date:")
        assert "1949-12-31" not in r.text  # the birth date is not echoed
    missing = await client.put(
        f"{URL}/NOPE/death", json={"death_date": "2024-01-01"}, headers=headers
    )
    assert missing.status_code == 404
    with platform.db.read() as conn:
        assert conn.execute(select(psn.c.death_date)).scalar_one() is None
    assert audit_count(platform, "psn.death") == 0
    viewer = await client.put(
        f"{URL}/{psn_no}/death", json={"death_date": "2024-01-01"}, headers=await auth("aud")
    )
    assert viewer.status_code == 403
