"""/api/v1/registrations/remote (异地就医备案) and /api/v1/clearing/inter-region over HTTP."""

from __future__ import annotations

import httpx
from console_factories import Auth, audit_count, person_body

from yibao.runtime import Platform

URL = "/api/v1/registrations/remote"


async def _person(client: httpx.AsyncClient, auth: Auth) -> str:
    body = person_body(
        insurance=[{"insutype": "310", "psn_type": "1101", "insuplc_admdvs": "131099"}]
    )
    r = await client.post("/api/v1/persons", json=body, headers=await auth("oper"))
    assert r.status_code == 201, r.text
    return str(r.json()["psn_no"])


async def test_register_list_show_revoke(
    client: httpx.AsyncClient, auth: Auth, platform: Platform
) -> None:
    psn_no = await _person(client, auth)
    body = {
        "psn_no": psn_no,
        "mdtrt_area_admdvs": "110199",
        "reg_type": "long_term",
        "begndate": "2024-01-01",
        "addr": "北京市朝阳区示例路1号",
    }
    r = await client.post(URL, json=body, headers=await auth("oper"))
    assert r.status_code == 201, r.text
    reg = r.json()
    assert reg["insuplc_admdvs"] == "131099" and reg["valid"] is True
    assert reg["reg_type_name"] == "异地长期居住" and reg["enddate"] is None
    assert audit_count(platform, "remote_reg.register") == 1

    # a reviewer may read but not write (an analyst not even read: the registrations name
    # persons); an overlapping registration is a 409
    denied = await client.post(URL, json=body, headers=await auth("rev"))
    assert (await client.get(URL, headers=await auth("ana"))).status_code == 403
    assert denied.status_code == 403
    again = await client.post(URL, json=body, headers=await auth("oper"))
    assert again.status_code == 409 and "重叠" in again.text

    page = await client.get(
        URL, params={"psn_no": psn_no, "active_on": "2024-06-01"}, headers=await auth("rev")
    )
    assert page.status_code == 200 and page.json()["total"] == 1
    one = await client.get(f"{URL}/{reg['remote_reg_id']}", headers=await auth("rev"))
    assert one.json()["remote_reg_id"] == reg["remote_reg_id"]

    gone = await client.post(
        f"{URL}/{reg['remote_reg_id']}/revoke",
        json={"reason": "已返回参保地"},
        headers=await auth("oper"),
    )
    assert gone.status_code == 200 and gone.json()["valid"] is False
    assert gone.json()["revs_by"] == "oper"
    twice = await client.post(
        f"{URL}/{reg['remote_reg_id']}/revoke", json={"reason": "x"}, headers=await auth("oper")
    )
    assert twice.status_code == 409
    listed = await client.get(URL, params={"psn_no": psn_no}, headers=await auth("rev"))
    assert listed.json()["total"] == 0  # revoked ones only with include_revoked
    listed = await client.get(
        URL, params={"psn_no": psn_no, "include_revoked": "true"}, headers=await auth("rev")
    )
    assert listed.json()["total"] == 1


async def test_bad_registrations_name_the_field(client: httpx.AsyncClient, auth: Auth) -> None:
    psn_no = await _person(client, auth)
    base = {"psn_no": psn_no, "begndate": "2024-01-01"}
    cases = [
        ({"mdtrt_area_admdvs": "110199", "reg_type": "temporary"}, "enddate"),
        ({"mdtrt_area_admdvs": "131002", "reg_type": "long_term"}, "mdtrt_area_admdvs"),
        (
            {
                "mdtrt_area_admdvs": "110199",
                "reg_type": "temporary",
                "enddate": "2023-12-01",
            },
            "enddate",
        ),
    ]
    for extra, field in cases:
        r = await client.post(URL, json={**base, **extra}, headers=await auth("oper"))
        assert r.status_code == 400, r.text
        assert field in r.json()["message"]
    r = await client.post(
        URL,
        json={
            "psn_no": "NOPE",
            "mdtrt_area_admdvs": "110199",
            "reg_type": "long_term",
            "begndate": "2024-01-01",
        },
        headers=await auth("oper"),
    )
    assert r.status_code == 404


async def test_inter_region_report_of_an_empty_month(client: httpx.AsyncClient, auth: Auth) -> None:
    r = await client.get(
        "/api/v1/clearing/inter-region", params={"month": "2024-05"}, headers=await auth("rev")
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["balanced"] is True and body["receivables"] == []
    assert {g["admdvs"] for g in body["regions"]} >= {"110199", "131099"}
    bad = await client.get(
        "/api/v1/clearing/inter-region", params={"month": "2024-13"}, headers=await auth("rev")
    )
    assert bad.status_code in (400, 422)
    assert "month" in bad.text
