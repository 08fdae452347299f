"""What enrolment tells the replica: the `fixmedins` and `psn` payloads of
`yibao.replica.rows`, appended to the change log in the changing transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from yibao.enrolment.repo import identities as identity_repo
from yibao.enrolment.repo import institutions as institution_repo
from yibao.enrolment.repo import insurance as insurance_repo
from yibao.enrolment.repo import persons as person_repo
from yibao.enrolment.scope import AGENCY
from yibao.kit.clock import local_naive_now
from yibao.replica import rows as replica_rows
from yibao.storage import changelog

#: which insurance is a person's main one when there are several (employee before resident …)
_MAIN_ORDER = ("310", "390", "391", "380", "340", "320", "330", "392", "370")


def _main_insu(rows: list[dict[str, object]]) -> dict[str, object] | None:
    if not rows:
        return None

    def rank(r: dict[str, object]) -> tuple[int, int, str]:
        insutype = str(r["insutype"])
        order = _MAIN_ORDER.index(insutype) if insutype in _MAIN_ORDER else len(_MAIN_ORDER)
        return (0 if r["psn_insu_stas"] == "1" else 1, order, insutype)

    return min(rows, key=rank)


def person_payload(conn: Connection, psn_no: str, *, now: datetime | None = None) -> dict[str, Any]:
    # The replica mirrors every person: the feed reads with the agency's scope.
    row = person_repo.get(conn, psn_no, scope=AGENCY)
    if row is None:
        raise LookupError(f"psn_no {psn_no}: no such person to feed the replica")
    insu = insurance_repo.of_person(conn, psn_no)
    moment = now or local_naive_now()
    assistance = identity_repo.held_at(conn, psn_no, moment)
    return replica_rows.psn_payload(row, _main_insu(insu), assistance=assistance)


def person_changed(conn: Connection, psn_no: str, *, now: datetime | None = None) -> int:
    """Append the person's payload; call last in the transaction (holds the seq lock shortest)."""
    return changelog.append(conn, replica_rows.PSN, psn_no, person_payload(conn, psn_no, now=now))


def institution_changed(conn: Connection, fixmedins_code: str) -> int:
    row = institution_repo.get(conn, fixmedins_code, scope=AGENCY)
    if row is None:
        raise LookupError(f"fixmedins_code {fixmedins_code}: no such institution to feed")
    return changelog.append(
        conn, replica_rows.FIXMEDINS, fixmedins_code, replica_rows.fixmedins_payload(row)
    )
