"""The permission table is data, shown in docs/console.md; 三权分立; the password policy."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from yibao.errors import InvalidInput
from yibao.users.permissions import (
    GRANTS,
    PERMISSIONS,
    ROLES,
    SEPARATED,
    TenantKind,
    allowed,
    markdown_table,
    role_change_allowed,
)
from yibao.users.service import check_password, generate_password

DOC = Path(__file__).resolve().parents[3] / "docs" / "console.md"


def test_the_doc_s_permission_table_is_the_data() -> None:
    text = DOC.read_text(encoding="utf-8")
    found = re.search(
        r"<!-- permission-table:start -->\n(.*?)\n<!-- permission-table:end -->", text, re.S
    )
    assert found, "docs/console.md lost its permission-table markers"
    assert found.group(1).strip() == markdown_table(), (
        "docs/console.md's permission table differs from yibao.users.permissions: paste "
        "`python -c 'from yibao.users.permissions import markdown_table; print(markdown_table())'`"
    )


def test_every_grant_is_a_known_permission_and_tenants_follow_roles() -> None:
    for role, grants in GRANTS.items():
        assert grants <= set(PERMISSIONS), role
    assert {r.tenant for r in ROLES.values()} == set(TenantKind)
    assert ROLES["chain_admin"].tenant is TenantKind.CHAIN
    assert not allowed("nobody", "audit.read")
    with pytest.raises(KeyError):
        allowed("auditor", "audit.write")


def test_separation_of_the_three_powers() -> None:
    assert {"sysadmin", "secadmin", "auditor"} == SEPARATED
    for a in SEPARATED:
        for b in ROLES:
            if a != b:
                assert not role_change_allowed(a, b) and not role_change_allowed(b, a)
    assert role_change_allowed("cashier", "inst_viewer")
    # the three do not share their powers
    assert not GRANTS["sysadmin"] & {"user.manage", "audit.read"}
    assert not GRANTS["secadmin"] & {"audit.read", "replica.operate"}
    # analysts see aggregates only, never persons, settlements, hits or cases
    assert GRANTS["analyst"] == {"analytics.read", "clearing.read", "portrait.institution"}
    personal = {"person.read", "settlement.read", "hit.read", "case.read", "portrait.person"}
    assert not GRANTS["analyst"] & personal


@pytest.mark.parametrize(
    "password,username,ok",
    [
        ("correct-horse-9", "oper", True),
        ("Abcdefghij1", "x", True),
        ("Short1!", "x", False),
        ("abcdefghijklmnop", "x", False),
        ("abcdefgh12345", "x", False),
        ("My-Admin-2026!", "admin", False),
    ],
)
def test_the_password_policy(password: str, username: str, ok: bool) -> None:
    if ok:
        check_password(password, username)
    else:
        with pytest.raises(InvalidInput) as exc:
            check_password(password, username)
        assert exc.value.message.startswith("password:")


def test_generated_passwords_pass_the_policy() -> None:
    for _ in range(200):
        check_password(generate_password(), "admin")
