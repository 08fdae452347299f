"""Issue 17: masking covers the birth date (year only); unmasking needs the permission AND a
stated purpose, is audited with the purpose, is rate-limited per user, and an unusual volume
raises an alert the security administrator sees in the console (`GET /api/v1/alerts`)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from console_factories import CERTNO_F, Auth, audit_count, count, person_body
from sqlalchemy import select

from yibao.config import Settings, load_settings
from yibao.runtime import Platform
from yibao.storage.tables import audit_log, console_alert, unmask_log

URL = "/api/v1/persons"
LIMIT = 4
ALERT_AT = 3


@pytest.fixture
def settings(tmp_path: Path, sqlite_url: str) -> Settings:
    return load_settings(
        data_dir=tmp_path / "data",
        database_url=sqlite_url,
        unmask_limit_per_hour=LIMIT,
        unmask_alert_per_hour=ALERT_AT,
        unmask_alert_records=1000,
        unmask_office_hours="00:00-24:00",  # always office hours, whenever the test runs
    )


async def _register(client: httpx.AsyncClient, auth: Auth) -> str:
    r = await client.post(URL, json=person_body(), headers=await auth("oper"))
    assert r.status_code == 201, r.text
    return str(r.json()["psn_no"])


async def test_masked_answers_show_the_birth_year_only(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    psn_no = await _register(client, auth)
    for username in ("oper", "rev"):
        r = await client.get(f"{URL}/{psn_no}", headers=await auth(username))
        assert r.status_code == 200
        assert r.json()["brdy"] == "1949" and r.json()["masked"] is True
        r = await client.get(f"{URL}?certno={CERTNO_F}", headers=await auth(username))
        assert r.json()["items"][0]["brdy"] == "1949"
    r = await client.get(
        f"{URL}/{psn_no}?unmask=1&purpose=enrolment_check", headers=await auth("rev")
    )
    assert r.json()["brdy"] == "1949-12-31" and r.json()["masked"] is False


@pytest.mark.parametrize(
    "purpose",
    [None, "", "   ", "curiosity", "because:I want to", "case_review:" + "x" * 201],
)
async def test_unmasking_without_a_valid_purpose_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, auth: Auth, platform: Platform, purpose: str | None
) -> None:
    psn_no = await _register(client, auth)
    query = "" if purpose is None else f"&purpose={purpose}"
    r = await client.get(f"{URL}/{psn_no}?unmask=1{query}", headers=await auth("rev"))
    assert r.status_code == 400, r.text
    assert r.json()["message"].startswith("purpose: ")
    assert CERTNO_F not in r.text
    assert audit_count(platform, "psn.unmask") == 0
    assert count(platform, unmask_log) == 0


async def test_the_purpose_is_audited_from_the_query_or_the_header(
    client: httpx.AsyncClient, auth: Auth, platform: Platform
) -> None:
    psn_no = await _register(client, auth)
    r = await client.get(
        f"{URL}/{psn_no}?unmask=1&purpose=case_review:AJ-2024-0012", headers=await auth("rev")
    )
    assert r.status_code == 200 and r.json()["certno"] == CERTNO_F
    r = await client.get(
        f"{URL}?certno={CERTNO_F}&unmask=1",
        headers={**await auth("rev"), "X-Unmask-Purpose": "complaint"},
    )
    assert r.status_code == 200 and r.json()["items"][0]["certno"] == CERTNO_F
    with platform.db.read() as conn:
        rows = conn.execute(
            select(audit_log.c.detail)
            .where(audit_log.c.action == "psn.unmask")
            .order_by(audit_log.c.at, audit_log.c.audit_id)
        ).all()
        logged = conn.execute(
            select(unmask_log.c.purpose, unmask_log.c.purpose_note, unmask_log.c.records)
        ).all()
    details = [json.loads(r.detail) for r in rows]
    assert [(d["purpose"], d["purpose_note"], d["records"]) for d in details] == [
        ("case_review", "AJ-2024-0012", 1),
        ("complaint", None, 1),
    ]
    assert details[0]["purpose_label"] == "稽核办案" and "brdy" in details[0]["fields"]
    assert sorted(tuple(r) for r in logged) == [
        ("case_review", "AJ-2024-0012", 1),
        ("complaint", None, 1),
    ]


@pytest.mark.parametrize("username", ["admin", "sec", "aud", "ana"])
async def test_roles_without_the_permission_are_refused_even_with_a_purpose(
    client: httpx.AsyncClient, auth: Auth, platform: Platform, username: str
) -> None:
    psn_no = await _register(client, auth)
    r = await client.get(
        f"{URL}/{psn_no}?unmask=1&purpose=case_review", headers=await auth(username)
    )
    assert r.status_code == 403 and "person." in r.json()["message"]
    assert audit_count(platform, "psn.unmask") == 0 and count(platform, unmask_log) == 0


async def test_unmasking_is_rate_limited_and_an_unusual_volume_alerts_the_console(
    client: httpx.AsyncClient, auth: Auth, platform: Platform
) -> None:
    psn_no = await _register(client, auth)
    reviewer = await auth("rev")
    security = await auth("sec")
    url = f"{URL}/{psn_no}?unmask=1&purpose=case_review:AJ-1"
    r = await client.get("/api/v1/alerts", headers=security)
    assert r.status_code == 200 and r.json() == {"open": 0, "total": 0, "items": []}
    for n in range(1, LIMIT + 1):
        r = await client.get(url, headers=reviewer)
        assert r.status_code == 200, (n, r.text)
        alerts = (await client.get("/api/v1/alerts", headers=security)).json()
        # an alert once the volume reaches the threshold, and only one per hour and kind
        assert alerts["open"] == (1 if n >= ALERT_AT else 0)
    r = await client.get(url, headers=reviewer)
    assert r.status_code == 429
    assert "每小时最多" in r.json()["message"] and CERTNO_F not in r.text
    assert audit_count(platform, "psn.unmask") == LIMIT
    assert audit_count(platform, "psn.unmask_refused") == 1
    # a masked read is not limited
    r = await client.get(f"{URL}/{psn_no}", headers=reviewer)
    assert r.status_code == 200 and r.json()["masked"] is True

    alerts = (await client.get("/api/v1/alerts?open=1", headers=security)).json()
    assert alerts["open"] == 2
    kinds = {a["kind"]: a for a in alerts["items"]}
    assert set(kinds) == {"unmask_volume", "unmask_refused"}
    assert kinds["unmask_volume"]["username"] == "rev"
    assert kinds["unmask_volume"]["detail"] == {"used": ALERT_AT, "threshold": ALERT_AT}
    assert CERTNO_F not in json.dumps(alerts) and psn_no not in json.dumps(alerts)

    # acknowledged: no longer open, audited; an unknown alert is 404
    alert_id = kinds["unmask_refused"]["alert_id"]
    r = await client.post(f"/api/v1/alerts/{alert_id}/ack", headers=security)
    assert r.status_code == 200 and r.json()["open"] is False and r.json()["acked_by"] == "sec"
    assert (await client.get("/api/v1/alerts", headers=security)).json()["open"] == 1
    assert audit_count(platform, "alert.ack") == 1
    r = await client.post("/api/v1/alerts/123/ack", headers=security)
    assert r.status_code == 404
    r = await client.post("/api/v1/alerts/not-a-number/ack", headers=security)
    assert r.status_code == 404
    assert count(platform, console_alert) == 2


async def test_the_limit_is_per_user(
    client: httpx.AsyncClient, auth: Auth, platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:

    psn_no = await _register(client, auth)
    # a second user holding the permission (the operator) is not held up by the first's limit
    for _ in range(LIMIT):
        r = await client.get(
            f"{URL}/{psn_no}?unmask=1&purpose=case_review", headers=await auth("rev")
        )
        assert r.status_code == 200
    r = await client.get(f"{URL}/{psn_no}?unmask=1&purpose=case_review", headers=await auth("rev"))
    assert r.status_code == 429
    r = await client.get(f"{URL}/{psn_no}?unmask=1&purpose=case_review", headers=await auth("oper"))
    assert r.status_code == 200 and r.json()["masked"] is False


@pytest.mark.parametrize("username", ["oper", "ana"])
async def test_alerts_are_for_the_security_roles_only(
    client: httpx.AsyncClient, auth: Auth, username: str
) -> None:
    r = await client.get("/api/v1/alerts", headers=await auth(username))
    assert r.status_code == 403
    r = await client.post("/api/v1/alerts/1/ack", headers=await auth(username))
    assert r.status_code == 403


async def test_the_auditor_reads_the_audit_trail_only_not_alerts(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    r = await client.get("/api/v1/alerts", headers=await auth("aud"))
    assert r.status_code == 403
    r = await client.post("/api/v1/alerts/1/ack", headers=await auth("aud"))
    assert r.status_code == 403


async def test_unmasking_outside_office_hours_alerts(
    client: httpx.AsyncClient, auth: Auth, platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import datetime

    from yibao.interface.console import unmasking

    psn_no = await _register(client, auth)
    platform.settings.unmask_office_hours = "08:00-20:00"
    monkeypatch.setattr(unmasking, "local_naive_now", lambda: datetime(2024, 6, 3, 23, 30))
    r = await client.get(
        f"{URL}/{psn_no}?unmask=1&purpose=judicial:XC-7", headers=await auth("rev")
    )
    assert r.status_code == 200
    alerts = (await client.get("/api/v1/alerts", headers=await auth("sec"))).json()
    assert [a["kind"] for a in alerts["items"]] == ["unmask_off_hours"]
    assert alerts["items"][0]["detail"] == {"at": "23:30", "office_hours": "08:00-20:00"}


@pytest.mark.parametrize(
    ("hours", "at", "inside"),
    [
        ("08:00-20:00", "07:59", False),
        ("08:00-20:00", "08:00", True),
        ("08:00-20:00", "20:00", False),
        ("22:00-06:00", "23:00", True),
        ("22:00-06:00", "05:59", True),
        ("22:00-06:00", "12:00", False),
        ("00:00-24:00", "23:59", True),
    ],
)
def test_office_hours(hours: str, at: str, inside: bool) -> None:
    from datetime import datetime

    from yibao.interface.console.unmasking import _in_hours

    h, m = (int(x) for x in at.split(":"))
    assert _in_hours(datetime(2024, 6, 3, h, m), hours) is inside
