"""Institutions and credentials through the console API."""

from __future__ import annotations

import hashlib

import httpx
import pytest
from console_factories import HOSPITAL, Auth, audit_count, count
from sqlalchemy import select

from yibao.enrolment import credentials
from yibao.errors import Unauthorized
from yibao.runtime import Platform
from yibao.storage import changelog
from yibao.storage.tables import audit_log, change_log, fixmedins, fixmedins_credential

CHAIN = {
    "fixmedins_code": "P11010200001",
    "fixmedins_name": "示例大药房连锁",
    "kind": "pharmacy",
    "hosp_lv": "0",
    "admdvs": "110199",
}
STORE = {**CHAIN, "fixmedins_code": "P11010200002", "fixmedins_name": "示例大药房一店"}


async def test_register_get_and_list(
    client: httpx.AsyncClient, auth: Auth, platform: Platform
) -> None:
    headers = await auth("oper")
    r = await client.post("/api/v1/institutions", json=HOSPITAL, headers=headers)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["fixmedins_code"] == "H11010200001"
    assert body["vali_flag"] == "1" and body["parent_code"] is None

    got = await client.get("/api/v1/institutions/H11010200001", headers=headers)
    assert got.json()["fixmedins_name"] == HOSPITAL["fixmedins_name"]
    page = (await client.get("/api/v1/institutions?kind=hospital", headers=headers)).json()
    assert page["total"] == 1 and page["items"][0]["fixmedins_code"] == "H11010200001"
    page = (await client.get("/api/v1/institutions?kind=pharmacy", headers=headers)).json()
    assert page["total"] == 0

    with platform.db.read() as conn:
        entry = (
            conn.execute(select(audit_log).where(audit_log.c.action == "fixmedins.register"))
            .mappings()
            .one()
        )
        logged = changelog.read_after(conn, 0, 10)
    assert entry["actor"] == "oper" and entry["target"] == "H11010200001"
    assert [(r["entity"], r["entity_key"]) for r in logged] == [("fixmedins", "H11010200001")]
    assert changelog.decode(logged[0]["payload"])["hosp_lv"] == "3"


@pytest.mark.parametrize(
    "change,field,needle",
    [
        ({"fixmedins_code": "X11010200001"}, "fixmedins_code", "H or P"),
        ({"fixmedins_code": "H1101020000"}, "fixmedins_code", "11 digits"),
        ({"fixmedins_code": "H99010200001"}, "fixmedins_code", "admdvs inside"),
        ({"fixmedins_code": "P11010200001"}, "fixmedins_code", "P 开头"),
        ({"hosp_lv": "0"}, "hosp_lv", "1、2 或 3"),
        ({"hosp_lv": "5"}, "hosp_lv", "不在码表"),
        ({"admdvs": "12345"}, "admdvs", "6位数字"),
        ({"admdvs": "310199"}, "admdvs", "同一省"),
        ({"fixmedins_name": "  "}, "fixmedins_name", "必填"),
        ({"parent_code": "H11010299999"}, "parent_code", "不存在"),
    ],
)
async def test_bad_input_is_400_naming_the_field_and_writes_nothing(
    client: httpx.AsyncClient,
    auth: Auth,
    platform: Platform,
    change: dict[str, str],
    field: str,
    needle: str,
) -> None:
    r = await client.post(
        "/api/v1/institutions", json={**HOSPITAL, **change}, headers=await auth("oper")
    )
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "invalid_input"
    assert r.json()["message"].startswith(f"{field}:")
    assert needle in r.json()["message"]
    assert count(platform, fixmedins) == 0
    assert audit_count(platform, "fixmedins.register") == 0
    assert count(platform, change_log) == 0


async def test_a_pharmacy_has_level_zero(client: httpx.AsyncClient, auth: Auth) -> None:
    r = await client.post(
        "/api/v1/institutions", json={**CHAIN, "hosp_lv": "2"}, headers=await auth("oper")
    )
    assert r.status_code == 400
    assert r.json()["message"].startswith("hosp_lv:")


async def test_duplicate_code_is_409(
    client: httpx.AsyncClient, auth: Auth, platform: Platform
) -> None:
    headers = await auth("oper")
    assert (
        await client.post("/api/v1/institutions", json=HOSPITAL, headers=headers)
    ).status_code == 201
    r = await client.post("/api/v1/institutions", json=HOSPITAL, headers=headers)
    assert r.status_code == 409
    assert r.json()["message"].startswith("fixmedins_code:")
    assert audit_count(platform, "fixmedins.register") == 1


async def test_pharmacy_chain_and_stores(client: httpx.AsyncClient, auth: Auth) -> None:
    headers = await auth("oper")
    await client.post("/api/v1/institutions", json=HOSPITAL, headers=headers)
    assert (
        await client.post("/api/v1/institutions", json=CHAIN, headers=headers)
    ).status_code == 201
    r = await client.post(
        "/api/v1/institutions",
        json={**STORE, "parent_code": CHAIN["fixmedins_code"]},
        headers=headers,
    )
    assert r.status_code == 201 and r.json()["parent_code"] == "P11010200001"
    chain = (await client.get("/api/v1/institutions/P11010200001", headers=headers)).json()
    assert chain["children"] == ["P11010200002"]
    stores = (
        await client.get("/api/v1/institutions?parent_code=P11010200001", headers=headers)
    ).json()
    assert [i["fixmedins_code"] for i in stores["items"]] == ["P11010200002"]

    # A pharmacy cannot join a hospital group.
    r = await client.post(
        "/api/v1/institutions",
        json={**STORE, "fixmedins_code": "P11010200003", "parent_code": "H11010200001"},
        headers=headers,
    )
    assert r.status_code == 400 and r.json()["message"].startswith("parent_code:")
    # No cycles: the chain cannot become its store's store.
    r = await client.patch(
        "/api/v1/institutions/P11010200001", json={"parent_code": "P11010200002"}, headers=headers
    )
    assert r.status_code == 400 and "成环" in r.json()["message"]
    # Detach with an explicit null.
    r = await client.patch(
        "/api/v1/institutions/P11010200002", json={"parent_code": None}, headers=headers
    )
    assert r.status_code == 200 and r.json()["parent_code"] is None


async def test_change_and_deactivate(
    client: httpx.AsyncClient, auth: Auth, platform: Platform
) -> None:
    headers = await auth("oper")
    await client.post("/api/v1/institutions", json=HOSPITAL, headers=headers)
    r = await client.patch(
        "/api/v1/institutions/H11010200001",
        json={"fixmedins_name": "新名称医院", "hosp_lv": "2", "vali_flag": "0"},
        headers=headers,
    )
    assert r.status_code == 200
    assert (r.json()["fixmedins_name"], r.json()["hosp_lv"], r.json()["vali_flag"]) == (
        "新名称医院",
        "2",
        "0",
    )
    with platform.db.read() as conn:
        entry = conn.execute(
            select(audit_log.c.detail).where(audit_log.c.action == "fixmedins.change")
        ).scalar_one()
        seqs = changelog.read_after(conn, 0, 10)
    assert '"from":"3"' in entry and '"to":"2"' in entry
    assert len(seqs) == 2 and changelog.decode(seqs[1]["payload"])["vali_flag"] == "0"
    # A deactivated institution gets no new credential.
    r = await client.post("/api/v1/institutions/H11010200001/credentials", headers=headers)
    assert r.status_code == 409


async def test_changing_an_unknown_institution_is_404(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    r = await client.patch(
        "/api/v1/institutions/H11010299999", json={"hosp_lv": "2"}, headers=await auth("oper")
    )
    assert r.status_code == 404
    assert r.json()["message"].startswith("fixmedins_code:")
    r = await client.get("/api/v1/institutions/H11010299999", headers=await auth("rev"))
    assert r.status_code == 404


async def test_credentials_issue_list_verify_revoke(
    client: httpx.AsyncClient, auth: Auth, platform: Platform
) -> None:
    headers = await auth("oper")
    await client.post("/api/v1/institutions", json=HOSPITAL, headers=headers)
    r = await client.post(
        "/api/v1/institutions/H11010200001/credentials",
        json={"auth_mode": "static"},
        headers=headers,
    )
    assert r.status_code == 201
    issued = r.json()
    assert issued["paasid"].startswith("H11010200001-") and len(issued["secret"]) >= 40
    assert issued["auth_mode"] == "static" and issued["paas_token"] is None

    listed = (
        await client.get("/api/v1/institutions/H11010200001/credentials", headers=headers)
    ).json()
    assert [c["paasid"] for c in listed] == [issued["paasid"]]
    assert "secret" not in listed[0]
    with platform.db.read() as conn:
        stored = conn.execute(select(fixmedins_credential)).mappings().one()
        assert stored["secret_sha256"] == hashlib.sha256(issued["secret"].encode()).hexdigest()
        assert issued["secret"] not in str(dict(stored))
        assert (
            credentials.verify_credential(conn, paasid=issued["paasid"], key=issued["secret"])
            == "H11010200001"
        )
        with pytest.raises(Unauthorized):
            credentials.verify_credential(conn, paasid=issued["paasid"], key="wrong")
    assert audit_count(platform, "credential.issue") == 1

    # signature mode is the default: the paasToken is shown once and stored sealed
    signing = (
        await client.post("/api/v1/institutions/H11010200001/credentials", headers=headers)
    ).json()
    assert signing["auth_mode"] == "signature" and signing["secret"] is None
    assert len(signing["paas_token"]) >= 40
    with platform.db.read() as conn:
        sealed = conn.execute(
            select(fixmedins_credential.c.token_sealed).where(
                fixmedins_credential.c.paasid == signing["paasid"]
            )
        ).scalar_one()
    assert sealed and signing["paas_token"] not in sealed
    bad = await client.post(
        "/api/v1/institutions/H11010200001/credentials",
        json={"auth_mode": "plain"},
        headers=headers,
    )
    assert bad.status_code == 400

    r = await client.post(
        f"/api/v1/institutions/H11010200001/credentials/{issued['paasid']}/revoke", headers=headers
    )
    assert r.status_code == 200 and r.json()["vali_flag"] == "0" and r.json()["revoked_at"]
    with platform.db.read() as conn, pytest.raises(Unauthorized):
        credentials.verify_credential(conn, paasid=issued["paasid"], key=issued["secret"])
    r = await client.post(
        f"/api/v1/institutions/H11010200001/credentials/{issued['paasid']}/revoke", headers=headers
    )
    assert r.status_code == 409
    assert audit_count(platform, "credential.revoke") == 1


async def test_credentials_of_unknown_institutions_or_paasids_are_404(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    headers = await auth("oper")
    assert (
        await client.post("/api/v1/institutions/H11010299999/credentials", headers=headers)
    ).status_code == 404
    await client.post("/api/v1/institutions", json=HOSPITAL, headers=headers)
    r = await client.post(
        "/api/v1/institutions/H11010200001/credentials/nope/revoke", headers=headers
    )
    assert r.status_code == 404 and r.json()["message"].startswith("paasid:")
