"""The console's use cases run without HTTP: a `Platform`, a signed-in `User`, plain data in
and out — the same audit rows and masking the console API answers with."""

from __future__ import annotations

from datetime import date

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, insert, select

from yibao.errors import Forbidden, NotFound, Unauthorized
from yibao.interface.console import audit, auth, institutions, persons
from yibao.interface.console.auth import User
from yibao.kit.clock import local_naive_now
from yibao.runtime import Platform
from yibao.storage.tables import agency_user, audit_log

REVIEWER = User("rev", "稽核员", "reviewer")
ANALYST = User("ana", "分析员", "analyst")
OPER = User("oper", "经办", "operator")
CERTNO = "110101199003074514"
HOSPITAL = {
    "fixmedins_code": "H11010200001",
    "fixmedins_name": "北京市示例第一医院",
    "kind": "hospital",
    "hosp_lv": "3",
    "admdvs": "110199",
    "parent_code": None,
}
PERSON = {
    "certno": CERTNO,
    "psn_name": "张三丰",
    "tel": "18012341999",
    "insurance": [
        {
            "insutype": "310",
            "psn_type": "1101",
            "insuplc_admdvs": "110199",
            "psn_insu_date": date(2020, 1, 1),
        }
    ],
}


def _actions(platform: Platform, action: str) -> int:
    with platform.db.read() as conn:
        return int(
            conn.execute(
                select(func.count()).select_from(audit_log).where(audit_log.c.action == action)
            ).scalar_one()
        )


async def test_institution_and_its_credentials(platform: Platform) -> None:
    registered = await institutions.register_institution(platform, OPER, HOSPITAL)
    assert registered["fixmedins_code"] == "H11010200001"
    assert registered["children"] == [] and registered["active_credentials"] == 0

    issued = await institutions.issue_credential(platform, OPER, "H11010200001")
    assert issued["paas_token"]  # signature mode unless asked otherwise
    static = await institutions.issue_credential(platform, OPER, "H11010200001", auth_mode="static")
    assert static["secret"]
    shown = institutions.list_credentials(platform, OPER, "H11010200001")
    assert {c["paasid"] for c in shown} == {issued["paasid"], static["paasid"]}
    for credential in shown:
        assert not {"secret", "secret_sha256", "paas_token", "token_sealed"} & set(credential)

    total, rows = institutions.list_institutions(platform, OPER, q="示例")
    assert total == 1 and rows[0]["fixmedins_code"] == "H11010200001"
    changed = await institutions.change_institution(
        platform, OPER, "H11010200001", {"fixmedins_name": "改名医院", "hosp_lv": None}
    )
    assert changed["fixmedins_name"] == "改名医院" and changed["hosp_lv"] == "3"
    assert institutions.get_institution(platform, OPER, "H11010200001")["active_credentials"] == 2
    with pytest.raises(NotFound):
        institutions.list_credentials(platform, OPER, "H11010299999")
    entries = audit.list_entries(platform, target="H11010200001")
    assert sorted(e["action"] for e in entries) == [
        "credential.issue",
        "credential.issue",
        "fixmedins.change",
        "fixmedins.register",
    ]


async def test_persons_are_masked_and_unmasking_needs_the_permission_and_is_audited(
    platform: Platform,
) -> None:
    person = await persons.register_person(platform, OPER, PERSON)
    assert person["masked"] is True and person["certno"] != CERTNO
    psn_no = person["psn_no"]

    total, rows = persons.find_persons(platform, OPER, certno=CERTNO.lower())
    assert total == 1 and rows[0]["psn_name"] == "张**" and rows[0]["tel"] == "180****1999"

    with pytest.raises(Forbidden):
        persons.get_person(platform, ANALYST, psn_no, unmask=True, purpose="case_review")
    assert _actions(platform, "psn.unmask") == 0
    clear = persons.get_person(platform, REVIEWER, psn_no, unmask=True, purpose="case_review")
    assert clear["certno"] == CERTNO and clear["masked"] is False
    assert _actions(platform, "psn.unmask") == 1

    credited = await persons.credit_account(
        platform, OPER, psn_no, amount="200.00", reason="单位划入"
    )
    assert str(credited["balc"]) == "200.00"
    changed = await persons.change_person(platform, OPER, psn_no, {"tel": None})
    assert changed["tel"] is None
    suspended = await persons.set_insurance_status(platform, OPER, psn_no, "310", "suspend")
    assert suspended["insurance"][0]["psn_insu_stas"] == "2"


async def test_sign_in_audits_and_the_token_authenticates(platform: Platform) -> None:
    hashed = PasswordHasher().hash("correct-horse-9")
    platform.db.writer.run_sync(
        lambda conn: conn.execute(
            insert(agency_user).values(
                username="oper",
                password_hash=hashed,
                display_name="经办",
                role="operator",
                vali_flag="1",
                created_at=local_naive_now(),
            )
        )
    )
    with pytest.raises(Unauthorized):
        await auth.login(platform, "oper", "wrong-password", via="test", address="10.0.0.1")
    assert _actions(platform, "auth.login_failed") == 1

    result = await auth.login(platform, "oper", "correct-horse-9", via="test", address="10.0.0.1")
    token, user = result.token, result.user
    assert user == OPER and _actions(platform, "auth.login") == 1
    assert auth.authenticate(platform, token) == OPER
    assert await auth.session_user(platform, token) == OPER

    await auth.logout(platform, token, user, via="test")
    with pytest.raises(Unauthorized):
        auth.authenticate(platform, token)
    assert _actions(platform, "auth.logout") == 1
