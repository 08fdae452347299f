"""Shared data and helpers of the console tests (imported by name; fixtures live in
conftest.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy import func, select

from yibao.runtime import Platform
from yibao.storage.tables import audit_log

PASSWORD = "correct-horse-9"
#: username → role
USERS = {
    "admin": "sysadmin",
    "sec": "secadmin",
    "oper": "operator",
    "aud": "auditor",
    "ana": "analyst",
    "rev": "reviewer",
}

Auth = Callable[[str], Awaitable[dict[str, str]]]


def count(platform: Platform, table, *where) -> int:  # type: ignore[no-untyped-def]
    with platform.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())


def audit_count(platform: Platform, action: str) -> int:
    return count(platform, audit_log, audit_log.c.action == action)


HOSPITAL = {
    "fixmedins_code": "H11010200001",
    "fixmedins_name": "北京市示例第一医院",
    "kind": "hospital",
    "hosp_lv": "3",
    "admdvs": "110199",
}
#: valid GB 11643 numbers: female born 1949-12-31, male born 1990-03-07
CERTNO_F = "11010519491231002X"
CERTNO_M = "110101199003074514"


def person_body(certno: str = CERTNO_F, **extra: object) -> dict[str, object]:
    body: dict[str, object] = {
        "certno": certno,
        "psn_name": "段正淳",
        "tel": "18012341999",
        "insurance": [{"insutype": "310", "psn_type": "1101", "insuplc_admdvs": "110199"}],
    }
    body.update(extra)
    return body
