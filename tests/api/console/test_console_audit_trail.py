"""`/api/v1/audit` for the auditor: who, tenant, role, address and records on each record,
filters and paging, the chain's state, bad filters answered 400, and reading is itself audited."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from importlib import resources

import httpx
from console_factories import CERTNO_F, HOSPITAL, PASSWORD, Auth, audit_count, person_body
from sqlalchemy import update

from yibao.kit.clock import local_naive_now
from yibao.runtime import Platform
from yibao.storage.tables import audit_log


async def test_sign_ins_carry_role_tenant_and_address_and_filters_page(
    client: httpx.AsyncClient, auth: Auth, platform: Platform
) -> None:
    await auth("admin")
    await auth("oper")
    r = await client.post("/api/v1/auth/login", json={"username": "oper", "password": "nope-nope"})
    assert r.status_code == 401
    headers = await auth("aud")
    r = await client.get("/api/v1/audit", params={"action": "auth.login"}, headers=headers)
    assert r.status_code == 200, r.text
    page = r.json()
    assert page["total"] == 3 and [i["actor"] for i in page["items"]] == ["aud", "oper", "admin"]
    first = page["items"][-1]
    assert first["role"] == "sysadmin" and first["tenant"] == "agency"
    assert first["address"] == "127.0.0.1" and first["chain_seq"] == 1
    assert len(first["row_hash"]) == 64 and first["prev_hash"] == "0" * 64
    r = await client.get(
        "/api/v1/audit", params={"action": "auth.login", "role": "operator"}, headers=headers
    )
    assert [i["actor"] for i in r.json()["items"]] == ["oper"]
    failed = await client.get(
        "/api/v1/audit", params={"action": "auth.login_failed"}, headers=headers
    )
    (item,) = failed.json()["items"]
    assert item["actor"] == "oper" and item["address"] == "127.0.0.1"
    assert PASSWORD not in failed.text and "nope-nope" not in failed.text
    paged = await client.get(
        "/api/v1/audit", params={"action": "auth.login", "limit": 1, "offset": 1}, headers=headers
    )
    assert paged.json()["total"] == 3 and [i["actor"] for i in paged.json()["items"]] == ["oper"]
    today = local_naive_now().date().isoformat()
    none = await client.get("/api/v1/audit", params={"until": today}, headers=headers)
    assert none.json()["total"] == 0
    some = await client.get("/api/v1/audit", params={"since": today}, headers=headers)
    assert some.json()["total"] >= 4
    # every reading of the trail is itself on the trail, with how many records it showed
    assert audit_count(platform, "audit.view") == 6
    r = await client.get("/api/v1/audit", params={"action": "audit.view", "limit": 1},
                         headers=headers)  # fmt: skip
    assert r.json()["items"][0]["records"] == len(some.json()["items"])
    assert r.json()["items"][0]["actor"] == "aud" and r.json()["items"][0]["role"] == "auditor"


async def test_bad_times_are_400_naming_the_field(client: httpx.AsyncClient, auth: Auth) -> None:
    headers = await auth("aud")
    for params, field in [
        ({"since": "yesterday"}, "since"),
        ({"until": "2026-13-01"}, "until"),
        ({"since": "2026-02-01", "until": "2026-01-01"}, "until"),
    ]:
        r = await client.get("/api/v1/audit", params=params, headers=headers)
        assert r.status_code == 400, r.text
        assert r.json()["message"].startswith(f"{field}:"), r.json()


async def test_the_chain_state_names_a_tampered_record(
    client: httpx.AsyncClient, auth: Auth, platform: Platform
) -> None:
    headers = await auth("aud")
    r = await client.get("/api/v1/audit/chain", headers=headers)
    assert r.status_code == 200 and r.json()["ok"] is True, r.text

    def tamper(conn):  # type: ignore[no-untyped-def]
        conn.execute(update(audit_log).where(audit_log.c.chain_seq == 1).values(actor="root"))

    platform.db.writer.run_sync(tamper)
    r = await client.get("/api/v1/audit/chain", headers=headers)
    body = r.json()
    assert body["ok"] is False and body["bad_seq"] == 1 and body["problem"] == "changed"
    oper = await client.get("/api/v1/audit/chain", headers=await auth("oper"))
    assert oper.status_code == 403


async def test_every_console_action_and_refused_attempt_is_on_the_trail(
    client: httpx.AsyncClient, auth: Auth, platform: Platform
) -> None:
    r = await client.post("/api/v1/institutions", json=HOSPITAL, headers=await auth("oper"))
    assert r.status_code == 201
    denied = await client.post("/api/v1/institutions", json=HOSPITAL, headers=await auth("ana"))
    assert denied.status_code == 403
    anonymous = await client.get("/api/v1/audit")
    assert anonymous.status_code == 401
    missing = await client.get("/api/v1/institutions/H11010299999", headers=await auth("rev"))
    assert missing.status_code == 404
    fine = await client.get("/api/v1/institutions", headers=await auth("rev"))
    assert fine.status_code == 200
    rows = await _page(client, await auth("aud"), action="console.post")
    by_actor = {i["actor"]: i for i in rows}
    assert by_actor["oper"]["detail"]["status"] == 201
    assert by_actor["oper"]["target"] == "/api/v1/institutions"
    assert by_actor["ana"]["detail"]["status"] == 403 and by_actor["ana"]["role"] == "analyst"
    assert by_actor["ana"]["address"] == "127.0.0.1"
    gets = await _page(client, await auth("aud"), action="console.get")
    seen = {(i["actor"], i["target"], i["detail"]["status"]) for i in gets}
    assert ("-", "/api/v1/audit", 401) in seen
    assert ("rev", "/api/v1/institutions/{fixmedins_code}", 404) in seen
    assert not any(i["target"] == "/api/v1/institutions" for i in gets)  # a plain read
    assert audit_count(platform, "fixmedins.register") == 1  # the use case's own record


async def _page(client: httpx.AsyncClient, headers: dict[str, str], **params: str) -> list:
    r = await client.get("/api/v1/audit", params=params, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()["items"]


async def test_every_read_of_personal_data_is_audited_with_its_count(
    client: httpx.AsyncClient, auth: Auth, platform: Platform
) -> None:
    r = await client.post("/api/v1/persons", json=person_body(), headers=await auth("oper"))
    assert r.status_code == 201, r.text
    psn_no = r.json()["psn_no"]
    headers = await auth("rev")
    found = await client.get("/api/v1/persons", params={"purpose": "稽核 case 7"}, headers=headers)
    assert found.status_code == 200
    one = await client.get(f"/api/v1/persons/{psn_no}", headers=headers)
    assert one.status_code == 200
    reads = await _page(client, await auth("aud"), action="console.get", actor="rev")
    by_route = {i["target"]: i for i in reads}
    assert by_route["/api/v1/persons"]["records"] == 1
    assert by_route["/api/v1/persons"]["purpose"] == "稽核 case 7"
    named = await client.get("/api/v1/persons", params={"certno": CERTNO_F}, headers=headers)
    assert named.status_code == 200
    latest = (await _page(client, await auth("aud"), action="console.get", actor="rev"))[0]
    assert latest["detail"]["query"] == ["certno"] and CERTNO_F not in str(latest)
    assert by_route["/api/v1/persons/{psn_no}"]["records"] == 1
    assert by_route["/api/v1/persons/{psn_no}"]["detail"]["params"] == {"psn_no": psn_no}


async def test_the_auditors_page(client: httpx.AsyncClient, auth: Auth) -> None:
    r = await client.get("/audit", headers=await auth("aud"))
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    assert '<script src="/static/audit.js"></script>' in r.text and "aud" in r.text
    assert "<script>" not in r.text  # no inline script (a strict CSP holds)
    signed_out = await client.get("/audit", follow_redirects=False)
    assert signed_out.status_code == 303 and signed_out.headers["location"].startswith("/login")
    assert (await client.get("/audit", headers=await auth("ana"))).status_code == 403
    # the script is served with the other static assets (/static, mounted by the app)
    script = resources.files("yibao.web").joinpath("static/audit.js").read_text(encoding="utf-8")
    assert "/api/v1/audit/chain" in script and "innerHTML" not in script


async def test_export_and_anchor_from_the_console(
    client: httpx.AsyncClient, auth: Auth, platform: Platform
) -> None:
    headers = await auth("aud")
    today = local_naive_now().date()
    period = {"since": today.isoformat(), "until": (today + timedelta(days=1)).isoformat()}
    r = await client.get("/api/v1/audit/export", params=period, headers=headers)
    assert r.status_code == 200, r.text
    assert (
        r.headers["content-type"].startswith("text/csv")
        and "attachment" in r.headers["content-disposition"]
    )
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert rows and rows[0]["action"] == "auth.login" and len(rows[0]["row_hash"]) == 64
    j = await client.get("/api/v1/audit/export", params={**period, "format": "json"},
                         headers=headers)  # fmt: skip
    items = j.json()
    assert [i["chain_seq"] for i in items] == sorted(i["chain_seq"] for i in items)
    assert audit_count(platform, "audit.export") == 2
    for params in ({"since": period["since"]}, {**period, "format": "xml"}):
        bad = await client.get("/api/v1/audit/export", params=params, headers=headers)
        assert bad.status_code == 400, bad.text
    anchor = await client.post("/api/v1/audit/anchors", headers=headers)
    assert anchor.status_code == 201 and len(anchor.json()["row_hash"]) == 64
    assert audit_count(platform, "audit.anchor") == 1
    denied = await client.get("/api/v1/audit/export", params=period, headers=await auth("oper"))
    assert denied.status_code == 403
