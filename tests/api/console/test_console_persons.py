"""Persons, insurance, identities, account credits and masking through the console API."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest
from console_factories import CERTNO_F, CERTNO_M, Auth, audit_count, count, person_body
from sqlalchemy import select

from yibao.runtime import Platform
from yibao.storage import changelog
from yibao.storage.tables import audit_log, change_log, psn, psn_insu

URL = "/api/v1/persons"


async def _register(client: httpx.AsyncClient, auth: Auth, **extra: object) -> dict:
    r = await client.post(URL, json=person_body(**extra), headers=await auth("oper"))
    assert r.status_code == 201, r.text
    return r.json()


def _all_audit_text(platform: Platform) -> str:
    with platform.db.read() as conn:
        rows = conn.execute(select(audit_log.c.detail, audit_log.c.target)).all()
    return " ".join(f"{r.detail} {r.target}" for r in rows)


async def test_register_masks_and_derives_birth_date_and_sex(
    client: httpx.AsyncClient, auth: Auth, platform: Platform
) -> None:
    body = await _register(client, auth)
    assert body["masked"] is True
    assert body["psn_name"] == "段**"
    assert body["certno"] == "1***************2X"
    assert body["tel"] == "180****1999"
    assert body["brdy"] == "1949" and body["gend"] == "2"  # masked: the year only
    assert body["psn_no"].startswith("110199") and len(body["psn_no"]) == 25
    assert body["insurance"][0]["balc"] == "0.00"

    # Stored unmasked, audited masked; the replica's payload has no personal identifiers.
    with platform.db.read() as conn:
        stored = conn.execute(select(psn.c.certno, psn.c.psn_name)).one()
        logged = changelog.read_after(conn, 0, 10)
    assert tuple(stored) == (CERTNO_F, "段正淳")
    text = _all_audit_text(platform)
    assert CERTNO_F not in text and "段正淳" not in text and "18012341999" not in text
    assert "段**" in text
    assert [(r["entity"], r["entity_key"]) for r in logged] == [("psn", body["psn_no"])]
    payload = logged[0]["payload"]
    assert CERTNO_F not in payload and "段" not in payload
    assert changelog.decode(payload)["insutype"] == "310"


async def test_a_given_psn_no_is_kept_and_must_be_unique(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    body = await _register(client, auth, psn_no="P0001")
    assert body["psn_no"] == "P0001"
    r = await client.post(
        URL, json=person_body(CERTNO_M, psn_no="P0001"), headers=await auth("oper")
    )
    assert r.status_code == 409 and r.json()["message"].startswith("psn_no:")


@pytest.mark.parametrize(
    "extra,status,field,needle",
    [
        ({"certno": "110105194912310025"}, 400, "certno", "校验码"),
        ({"certno": "1101051949123100"}, 400, "certno", "18"),
        ({"brdy": "1950-01-01"}, 400, "brdy", "不符"),
        ({"gend": "1"}, 400, "gend", "不符"),
        ({"psn_cert_type": "77"}, 400, "psn_cert_type", "码表"),
        ({"psn_name": ""}, 400, "psn_name", "必填"),
        ({"psn_no": "bad no!"}, 400, "psn_no", "字母或数字"),
        ({"card_sn": "SN1"}, 400, "card_sn", "card_no"),
        (
            {"insurance": [{"insutype": "310", "psn_type": "1501", "insuplc_admdvs": "110199"}]},
            400,
            "insurance[0].psn_type",
            "职工",
        ),
        (
            {"insurance": [{"insutype": "999", "psn_type": "1101", "insuplc_admdvs": "110199"}]},
            400,
            "insurance[0].insutype",
            "码表",
        ),
        (
            {"insurance": [{"insutype": "390", "psn_type": "1501", "insuplc_admdvs": "99"}]},
            400,
            "insurance[0].insuplc_admdvs",
            "6位数字",
        ),
        ({"brdy": "not-a-date"}, 400, "brdy", "格式错误"),
    ],
)
async def test_bad_input_is_400_naming_the_field_and_writes_nothing(
    client: httpx.AsyncClient,
    auth: Auth,
    platform: Platform,
    extra: dict[str, object],
    status: int,
    field: str,
    needle: str,
) -> None:
    r = await client.post(URL, json=person_body(**extra), headers=await auth("oper"))
    assert r.status_code == status, r.text
    assert r.json()["error"] == "invalid_input"
    assert r.json()["message"].startswith(f"{field}:"), r.json()["message"]
    assert needle in r.json()["message"]
    assert count(platform, psn) == 0
    assert count(platform, psn_insu) == 0
    assert count(platform, change_log) == 0
    assert audit_count(platform, "psn.register") == 0


async def test_duplicate_certno_is_409_and_the_message_is_masked(
    client: httpx.AsyncClient, auth: Auth, platform: Platform
) -> None:
    existing = await _register(client, auth)
    r = await client.post(URL, json=person_body(), headers=await auth("oper"))
    assert r.status_code == 409
    message = r.json()["message"]
    assert message.startswith("certno:") and CERTNO_F not in message and "1***" in message
    # It says only that the person exists: the existing person's psn_no is not revealed.
    assert existing["psn_no"] not in r.text and "人员编号" not in message
    # A lower-case check character is the same person.
    r = await client.post(URL, json=person_body(CERTNO_F.lower()), headers=await auth("oper"))
    assert r.status_code == 409
    assert count(platform, psn) == 1


async def test_card_and_ec_token_are_unique(client: httpx.AsyncClient, auth: Auth) -> None:
    await _register(client, auth, card_no="C123456789", ec_token="TOKEN-1")
    r = await client.post(
        URL, json=person_body(CERTNO_M, card_no="C123456789"), headers=await auth("oper")
    )
    assert r.status_code == 409 and r.json()["message"].startswith("card_no:")
    r = await client.post(
        URL, json=person_body(CERTNO_M, ec_token="TOKEN-1"), headers=await auth("oper")
    )
    assert r.status_code == 409 and r.json()["message"].startswith("ec_token:")


async def test_unknown_person_is_404_naming_psn_no(client: httpx.AsyncClient, auth: Auth) -> None:
    headers = await auth("oper")
    for method, path, body in [
        ("GET", f"{URL}/NOPE", None),
        ("PATCH", f"{URL}/NOPE", {"tel": "13900000000"}),
        (
            "POST",
            f"{URL}/NOPE/insurance",
            {"insutype": "390", "psn_type": "1501", "insuplc_admdvs": "110199"},
        ),
        (
            "POST",
            f"{URL}/NOPE/identities",
            {"psn_idet_type": "21", "begntime": "2024-01-01 00:00:00"},
        ),
        ("POST", f"{URL}/NOPE/account/credits", {"amount": "10.00", "reason": "x"}),
        ("POST", f"{URL}/NOPE/insurance/310/suspend", {}),
    ]:
        r = await client.request(method, path, json=body, headers=headers)
        assert r.status_code == 404, (path, r.text)
        assert r.json()["message"].startswith("psn_no:"), r.text


async def test_change_person_masks_and_audits(
    client: httpx.AsyncClient, auth: Auth, platform: Platform
) -> None:
    body = await _register(client, auth)
    r = await client.patch(
        f"{URL}/{body['psn_no']}",
        json={"tel": "13912345678", "family_id": "F1"},
        headers=await auth("oper"),
    )
    assert r.status_code == 200
    assert r.json()["tel"] == "139****5678" and r.json()["family_id"] == "F1"
    text = _all_audit_text(platform)
    assert "13912345678" not in text and "139****5678" in text
    # Clearing a field with null.
    r = await client.patch(
        f"{URL}/{body['psn_no']}", json={"tel": None}, headers=await auth("oper")
    )
    assert r.json()["tel"] is None
    # The identity does not change here.
    r = await client.patch(
        f"{URL}/{body['psn_no']}", json={"certno": CERTNO_M}, headers=await auth("oper")
    )
    assert r.status_code == 400 and "certno" in r.json()["message"]


async def test_insurance_add_change_suspend_resume_terminate(
    client: httpx.AsyncClient, auth: Auth, platform: Platform
) -> None:
    headers = await auth("oper")
    body = await _register(client, auth)
    base = f"{URL}/{body['psn_no']}/insurance"
    r = await client.post(
        base,
        json={"insutype": "310", "psn_type": "1101", "insuplc_admdvs": "110199"},
        headers=headers,
    )
    assert r.status_code == 409
    r = await client.post(
        base,
        json={"insutype": "330", "psn_type": "1101", "insuplc_admdvs": "110199"},
        headers=headers,
    )
    assert r.status_code == 201 and [i["insutype"] for i in r.json()["insurance"]] == ["310", "330"]

    r = await client.patch(
        f"{base}/310", json={"psn_type": "1201", "emp_name": "示例公司"}, headers=headers
    )
    assert r.status_code == 200
    insu = r.json()["insurance"][0]
    assert (insu["psn_type"], insu["emp_name"]) == ("1201", "示例公司")
    r = await client.patch(f"{base}/310", json={"psn_type": "1501"}, headers=headers)
    assert r.status_code == 400 and r.json()["message"].startswith("insurance.psn_type:")
    r = await client.patch(f"{base}/390", json={"psn_type": "1501"}, headers=headers)
    assert r.status_code == 404 and r.json()["message"].startswith("insutype:")

    r = await client.post(
        f"{base}/310/suspend", json={"on": "2030-01-01", "reason": "停保"}, headers=headers
    )
    assert r.status_code == 200
    insu = r.json()["insurance"][0]
    assert (insu["psn_insu_stas"], insu["paus_insu_date"]) == ("2", "2030-01-01")
    r = await client.post(f"{base}/310/suspend", headers=headers)
    assert r.status_code == 409 and r.json()["message"].startswith("psn_insu_stas:")
    r = await client.post(f"{base}/310/resume", headers=headers)
    assert r.json()["insurance"][0]["psn_insu_stas"] == "1"
    assert r.json()["insurance"][0]["paus_insu_date"] is None
    r = await client.post(f"{base}/310/terminate", json={"reason": "死亡"}, headers=headers)
    assert r.json()["insurance"][0]["psn_insu_stas"] == "4"
    r = await client.post(f"{base}/310/resume", headers=headers)
    assert r.status_code == 409
    r = await client.post(f"{base}/310/cancel", headers=headers)
    assert r.status_code == 400 and r.json()["message"].startswith("action:")
    assert audit_count(platform, "psn_insu.suspend") == 1
    assert audit_count(platform, "psn_insu.terminate") == 1
    with platform.db.read() as conn:
        last = changelog.decode(changelog.read_after(conn, 0, 100)[-1]["payload"])
    # The replica's main insurance is the one in force (330) once 310 ended.
    assert last["insutype"] == "330"


async def test_identities_mark_assistance_in_the_replica(
    client: httpx.AsyncClient, auth: Auth, platform: Platform
) -> None:
    body = await _register(client, auth)
    r = await client.post(
        f"{URL}/{body['psn_no']}/identities",
        json={"psn_idet_type": "21", "begntime": "2024-01-01 00:00:00", "memo": "低保"},
        headers=await auth("oper"),
    )
    assert r.status_code == 201
    assert r.json()["identities"][0]["psn_idet_type"] == "21"
    with platform.db.read() as conn:
        last = changelog.decode(changelog.read_after(conn, 0, 100)[-1]["payload"])
    assert last["assistance"] is True
    r = await client.post(
        f"{URL}/{body['psn_no']}/identities",
        json={"psn_idet_type": "21", "begntime": "2024-01-01 00:00:00"},
        headers=await auth("oper"),
    )
    assert r.status_code == 409
    r = await client.post(
        f"{URL}/{body['psn_no']}/identities",
        json={"psn_idet_type": "88", "begntime": "2024-01-01 00:00:00"},
        headers=await auth("oper"),
    )
    assert r.status_code == 400 and r.json()["message"].startswith("psn_idet_type:")


async def test_account_credit_changes_the_balance_with_audit_and_change_log(
    client: httpx.AsyncClient, auth: Auth, platform: Platform
) -> None:
    body = await _register(client, auth)
    url = f"{URL}/{body['psn_no']}/account/credits"
    headers = await auth("oper")
    r = await client.post(url, json={"amount": "200.50", "reason": "1月划入"}, headers=headers)
    assert r.status_code == 201
    assert r.json() == {
        "psn_no": body["psn_no"],
        "insutype": "310",
        "amount": "200.50",
        "balc": "200.50",
    }
    r = await client.post(url, json={"amount": 0.1, "reason": "补划"}, headers=headers)
    assert r.json()["balc"] == "200.60"
    with platform.db.read() as conn:
        balc = conn.execute(select(psn_insu.c.balc)).scalar_one()
        entries = (
            conn.execute(select(audit_log.c.detail).where(audit_log.c.action == "acct.credit"))
            .scalars()
            .all()
        )
        logged = changelog.read_after(conn, 0, 100)
    assert balc == Decimal("200.60")
    assert len(entries) == 2 and '"amount":"200.50"' in " ".join(entries)
    assert [r["entity"] for r in logged] == ["psn", "psn", "psn"]


@pytest.mark.parametrize(
    "payload,field",
    [
        ({"amount": "0", "reason": "x"}, "amount"),
        ({"amount": "-5", "reason": "x"}, "amount"),
        ({"amount": "1.005", "reason": "x"}, "amount"),
        ({"amount": "abc", "reason": "x"}, "amount"),
        ({"amount": "10.00", "reason": ""}, "reason"),
        ({"amount": "10.00"}, "reason"),
    ],
)
async def test_bad_credits_are_refused_and_the_balance_stays(
    client: httpx.AsyncClient, auth: Auth, platform: Platform, payload: dict, field: str
) -> None:
    body = await _register(client, auth)
    r = await client.post(
        f"{URL}/{body['psn_no']}/account/credits", json=payload, headers=await auth("oper")
    )
    assert r.status_code == 400, r.text
    assert r.json()["message"].startswith(f"{field}:")
    with platform.db.read() as conn:
        assert conn.execute(select(psn_insu.c.balc)).scalar_one() == Decimal("0.00")
    assert audit_count(platform, "acct.credit") == 0


async def test_credit_to_an_insurance_the_person_lacks_is_404(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    body = await _register(client, auth)
    r = await client.post(
        f"{URL}/{body['psn_no']}/account/credits",
        json={"amount": "10.00", "reason": "x", "insutype": "390"},
        headers=await auth("oper"),
    )
    assert r.status_code == 404


async def test_admin_may_unmask_and_it_is_audited(
    client: httpx.AsyncClient, auth: Auth, platform: Platform
) -> None:
    body = await _register(client, auth)
    r = await client.get(
        f"{URL}/{body['psn_no']}?unmask=1&purpose=enrolment_check", headers=await auth("oper")
    )
    assert r.status_code == 200
    assert r.json()["masked"] is False
    assert (r.json()["certno"], r.json()["psn_name"], r.json()["tel"]) == (
        CERTNO_F,
        "段正淳",
        "18012341999",
    )
    assert audit_count(platform, "psn.unmask") == 1
    # Without the flag even the admin sees masked data, and nothing is audited.
    r = await client.get(f"{URL}/{body['psn_no']}", headers=await auth("oper"))
    assert r.json()["certno"] == "1***************2X"
    assert audit_count(platform, "psn.unmask") == 1
    r = await client.get(
        f"{URL}?certno={CERTNO_F}&unmask=1&purpose=enrolment_check", headers=await auth("oper")
    )
    assert r.json()["items"][0]["psn_name"] == "段正淳"
    assert audit_count(platform, "psn.unmask") == 2


@pytest.mark.parametrize("username", ["admin", "sec", "aud", "ana"])
async def test_other_roles_may_not_unmask(
    client: httpx.AsyncClient, auth: Auth, platform: Platform, username: str
) -> None:
    body = await _register(client, auth)
    r = await client.get(
        f"{URL}/{body['psn_no']}?unmask=1&purpose=case_review", headers=await auth(username)
    )
    assert r.status_code == 403
    assert audit_count(platform, "psn.unmask") == 0
    # a reader without ?unmask sees the masked person
    r = await client.get(f"{URL}/{body['psn_no']}", headers=await auth("rev"))
    assert r.status_code == 200 and r.json()["psn_name"] == "段**"


async def test_find_persons_masked(client: httpx.AsyncClient, auth: Auth) -> None:
    await _register(client, auth, family_id="FAM1")
    await _register(
        client,
        auth,
        certno=CERTNO_M,
        insurance=[{"insutype": "390", "psn_type": "1501", "insuplc_admdvs": "110199"}],
    )
    headers = await auth("rev")
    page = (await client.get(f"{URL}?certno={CERTNO_M}", headers=headers)).json()
    assert page["total"] == 1 and page["items"][0]["certno"] == "1***************14"
    page = (await client.get(f"{URL}?insutype=390", headers=headers)).json()
    assert page["total"] == 1
    page = (await client.get(f"{URL}?family_id=FAM1", headers=headers)).json()
    assert page["total"] == 1 and page["items"][0]["brdy"] == "1949"  # the year only
    page = (await client.get(URL, headers=headers)).json()
    assert page["total"] == 2 and all(i["masked"] for i in page["items"])
