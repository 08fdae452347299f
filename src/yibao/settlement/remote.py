"""异地就医 at settlement: is this visit outside the person's insured region, and may it be
settled (a valid 异地就医备案, or emergency care, or the insured region's lower 未备案 ratio)?

The facts come from the row store (the person's registrations valid on the day) and the policy
book (which hosted region covers the institution's district); the decision is the pure rule
`policy.remote.remote_verdict`. A local visit costs no query.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import Connection

from yibao.codes.dicts import MedType
from yibao.enrolment.repo import remote as remote_repo
from yibao.errors import InvalidInput
from yibao.policy import PolicyBook
from yibao.policy.model import PolicyRefusal
from yibao.policy.remote import RemoteVerdict, is_remote, remote_verdict


def check(
    conn: Connection,
    book: PolicyBook,
    *,
    district: str,
    insu: Mapping[str, Any],
    med_type: str,
    day: date,
    node: str = "data",
) -> RemoteVerdict:
    """The verdict for the person of `insu` treated at an institution in `district`; refuses
    (InvalidInput naming `med_type`) when the insured region requires a registration."""
    try:
        insured = book.version_for(insu["insuplc_admdvs"], day)
    except PolicyRefusal as exc:
        raise InvalidInput(f"{node}.insuplc_admdvs: {exc}") from None
    treatment = book.treatment_region(district, day)
    if not is_remote(insured, treatment):
        return RemoteVerdict(remote=False, treatment_admdvs=insured.admdvs)
    assert treatment is not None
    try:
        kind = MedType.of(med_type, field=f"{node}.med_type")
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    registered = any(
        (area := book.treatment_region(r["mdtrt_area_admdvs"], day)) is not None
        and area.admdvs == treatment.admdvs
        for r in remote_repo.valid_of_person(
            conn, insu["psn_no"], on=day, insutype=insu["insutype"]
        )
    )
    try:
        return remote_verdict(
            insured=insured, treatment=treatment, med_type=kind, registered=registered
        )
    except PolicyRefusal as exc:
        raise InvalidInput(f"{node}.{exc.field or 'med_type'}: {exc}") from None
