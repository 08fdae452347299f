"""参保人 use cases for the console: find and show persons (masked — name, certno, phone,
address, cards, birth date to its year; a role with `person.unmask` may unmask with a stated
purpose, rate-limited and audited as `psn.unmask`: `unmasking`), register and change them,
their insurance and identities, and credit personal accounts. Answers carry `masked` (True
unless unmasked)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import Connection

from yibao.enrolment import insurance, personal_accounts, persons
from yibao.enrolment.institutions import UNSET
from yibao.enrolment.masking import mask_person
from yibao.interface.console import unmasking
from yibao.interface.console.auth import User, scope_of
from yibao.runtime import Platform


def _present(row: dict[str, Any], *, unmask: bool = False) -> dict[str, Any]:
    """Masked (the birth date to its year) unless unmasked; the birth date as text."""
    shown = dict(row) if unmask else mask_person(row)
    if isinstance(shown.get("brdy"), date):
        shown["brdy"] = shown["brdy"].isoformat()
    return {**shown, "masked": not unmask}


def find_persons(
    platform: Platform,
    user: User,
    *,
    certno: str | None = None,
    card_no: str | None = None,
    family_id: str | None = None,
    insutype: str | None = None,
    insuplc_admdvs: str | None = None,
    limit: int = 100,
    offset: int = 0,
    unmask: bool = False,
    purpose: str | None = None,
) -> tuple[int, list[dict[str, Any]]]:
    """(total, page) of persons (their own columns), masked unless unmasked (`unmasking`)."""
    stated = unmasking.authorise(platform, user, purpose) if unmask else None
    with platform.db.read() as conn:
        total, rows = persons.find_persons(
            conn,
            certno=certno,
            card_no=card_no,
            family_id=family_id,
            insutype=insutype,
            insuplc_admdvs=insuplc_admdvs,
            limit=limit,
            offset=offset,
            scope=scope_of(user),
        )
    if stated is not None and rows:
        unmasking.record(platform, user, stated, target=None, psn_nos=[r["psn_no"] for r in rows])
    return total, [_present(r, unmask=unmask) for r in rows]


def get_person(
    platform: Platform,
    user: User,
    psn_no: str,
    *,
    unmask: bool = False,
    purpose: str | None = None,
) -> dict[str, Any]:
    """The person with insurance and identities, masked unless unmasked (`unmasking`)."""
    stated = unmasking.authorise(platform, user, purpose) if unmask else None
    with platform.db.read() as conn:
        row = persons.get_person(conn, psn_no=psn_no, scope=scope_of(user))
    if stated is not None:
        unmasking.record(platform, user, stated, target=psn_no, psn_nos=[psn_no])
    return _present(row, unmask=unmask)


async def register_person(
    platform: Platform, user: User, fields: Mapping[str, Any]
) -> dict[str, Any]:
    """`fields`: the person's columns and `insurance`, a list of insurance field mappings."""
    data = dict(fields)
    items = [persons.Insurance(**i) for i in data.pop("insurance")]

    def job(conn: Connection) -> dict[str, Any]:
        return persons.register_person(
            conn, ids=platform.ids, actor=user.username, insurance=items, **data
        )

    return _present(await platform.db.writer.run(job))


async def change_person(
    platform: Platform, user: User, psn_no: str, given: Mapping[str, Any]
) -> dict[str, Any]:
    """Change the fields sent in `given`: a null name or nationality is "unchanged"; a null
    phone, card, e-voucher or family clears it."""
    fields: dict[str, Any] = {}
    for name in ("psn_name", "naty"):
        if given.get(name) is not None:
            fields[name] = given[name]
    for name in ("tel", "card_no", "card_sn", "ec_token", "family_id"):
        fields[name] = given.get(name, UNSET)

    def job(conn: Connection) -> dict[str, Any]:
        return persons.change_person(
            conn, ids=platform.ids, actor=user.username, psn_no=psn_no, **fields
        )

    return _present(await platform.db.writer.run(job))


async def record_death(
    platform: Platform, user: User, psn_no: str, death_date: date | None
) -> dict[str, Any]:
    """Record, correct or (None) clear the person's date of death; audited."""

    def job(conn: Connection) -> dict[str, Any]:
        return persons.record_death(
            conn, ids=platform.ids, actor=user.username, psn_no=psn_no, death_date=death_date
        )

    return _present(await platform.db.writer.run(job))


async def add_insurance(
    platform: Platform, user: User, psn_no: str, fields: Mapping[str, Any]
) -> dict[str, Any]:
    item = persons.Insurance(**fields)

    def job(conn: Connection) -> dict[str, Any]:
        return insurance.add_insurance(
            conn, ids=platform.ids, actor=user.username, psn_no=psn_no, insurance=item
        )

    return _present(await platform.db.writer.run(job))


async def change_insurance(
    platform: Platform, user: User, psn_no: str, insutype: str, given: Mapping[str, Any]
) -> dict[str, Any]:
    """Change the person type, insured region or civil-servant flag (empty: unchanged) and
    the employer (sent null: cleared)."""
    fields: dict[str, Any] = {
        k: given[k] for k in ("psn_type", "insuplc_admdvs", "cvlserv_flag") if given.get(k)
    }
    fields["emp_name"] = given.get("emp_name", UNSET)

    def job(conn: Connection) -> dict[str, Any]:
        return insurance.change_insurance(
            conn,
            ids=platform.ids,
            actor=user.username,
            psn_no=psn_no,
            insutype=insutype,
            **fields,
        )

    return _present(await platform.db.writer.run(job))


async def set_insurance_status(
    platform: Platform,
    user: User,
    psn_no: str,
    insutype: str,
    action: str,
    *,
    on: date | None = None,
    reason: str | None = None,
) -> dict[str, Any]:
    """`action` suspend, resume or terminate, effective `on` (default today)."""

    def job(conn: Connection) -> dict[str, Any]:
        return insurance.set_insurance_status(
            conn,
            ids=platform.ids,
            actor=user.username,
            psn_no=psn_no,
            insutype=insutype,
            action=action,
            on=on,
            reason=reason,
        )

    return _present(await platform.db.writer.run(job))


async def record_identity(
    platform: Platform, user: User, psn_no: str, fields: Mapping[str, Any]
) -> dict[str, Any]:
    """`fields`: psn_idet_type, begntime, endtime, psn_type_lv, memo."""

    def job(conn: Connection) -> dict[str, Any]:
        return insurance.record_identity(
            conn, ids=platform.ids, actor=user.username, psn_no=psn_no, **fields
        )

    return _present(await platform.db.writer.run(job))


async def credit_account(
    platform: Platform,
    user: User,
    psn_no: str,
    *,
    amount: object,
    reason: str,
    insutype: str = "310",
) -> dict[str, Any]:
    """个人账户划入; answers {psn_no, insutype, amount, balc}."""

    def job(conn: Connection) -> dict[str, Any]:
        return personal_accounts.credit_account(
            conn,
            ids=platform.ids,
            actor=user.username,
            psn_no=psn_no,
            amount=amount,
            reason=reason,
            insutype=insutype,
        )

    return await platform.db.writer.run(job)
