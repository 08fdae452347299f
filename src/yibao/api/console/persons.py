"""参保人 endpoints: register and change persons, their insurance and identities, credit
personal personal_accounts. Personal data is masked unless an admin asks `?unmask=1` (audited).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from sqlalchemy import Connection

from yibao.api.console.deps import CurrentUser, PlatformDep, WriterUser
from yibao.api.console.routing import ConsoleRoute
from yibao.api.console.schemas import (
    ERRORS,
    CreditIn,
    CreditOut,
    IdentityIn,
    InsuranceIn,
    InsurancePatch,
    PersonIn,
    PersonOut,
    PersonPage,
    PersonPatch,
    PersonSummary,
    StatusIn,
)
from yibao.enrolment import audit, insurance, personal_accounts, persons
from yibao.enrolment.institutions import UNSET
from yibao.enrolment.masking import PERSON_MASKS, mask_person
from yibao.errors import Forbidden
from yibao.runtime import Platform
from yibao.users.service import User

router = APIRouter(prefix="/api/v1/persons", tags=["参保人 persons"], route_class=ConsoleRoute)

_READ: dict[int | str, dict[str, Any]] = {k: ERRORS[k] for k in (400, 401, 403, 404)}
_WRITE: dict[int | str, dict[str, Any]] = {k: ERRORS[k] for k in (400, 401, 403, 404, 409)}

Unmask = Annotated[
    bool,
    Query(description="管理员查看未脱敏信息, 记录审计 (admin only; audited as psn.unmask)"),
]


def _check_unmask(user: User, unmask: bool) -> bool:
    if unmask and user.role != "admin":
        raise Forbidden(
            f"仅管理员可查看未脱敏的个人信息 (only admin may unmask; your role is '{user.role}')"
        )
    return unmask


def _audit_unmask(
    platform: Platform, user: User, target: str | None, detail: dict[str, Any]
) -> None:
    platform.db.writer.run_sync(
        lambda conn: audit.record(
            conn,
            ids=platform.ids,
            actor=user.username,
            action="psn.unmask",
            target=target,
            detail={"fields": sorted(PERSON_MASKS), **detail},
        )
    )


def _present(row: dict[str, Any], *, unmask: bool = False) -> dict[str, Any]:
    shown = row if unmask else mask_person(row)
    return {**shown, "masked": not unmask}


@router.get(
    "",
    summary="查询参保人 (find persons; masked)",
    response_model=PersonPage,
    responses=_READ,
)
def find_persons(
    user: CurrentUser,
    platform: PlatformDep,
    certno: str | None = None,
    card_no: str | None = None,
    family_id: str | None = None,
    insutype: str | None = None,
    insuplc_admdvs: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
    unmask: Unmask = False,
) -> PersonPage:
    _check_unmask(user, unmask)
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
        )
    if unmask and rows:
        _audit_unmask(platform, user, None, {"psn_no": [r["psn_no"] for r in rows]})
    return PersonPage(
        total=total, items=[PersonSummary(**_present(r, unmask=unmask)) for r in rows]
    )


@router.post(
    "",
    summary="登记参保人及其险种 (register a person and their insurance)",
    status_code=201,
    response_model=PersonOut,
    responses=_WRITE,
)
async def register_person(body: PersonIn, user: WriterUser, platform: PlatformDep) -> PersonOut:
    data = body.model_dump()
    items = [persons.Insurance(**i) for i in data.pop("insurance")]

    def job(conn: Connection) -> dict[str, Any]:
        return persons.register_person(
            conn, ids=platform.ids, actor=user.username, insurance=items, **data
        )

    return PersonOut(**_present(await platform.db.writer.run(job)))


@router.get(
    "/{psn_no}",
    summary="参保人详情 (one person with insurance and identities; masked)",
    response_model=PersonOut,
    responses=_READ,
)
def get_person(
    psn_no: str, user: CurrentUser, platform: PlatformDep, unmask: Unmask = False
) -> PersonOut:
    _check_unmask(user, unmask)
    with platform.db.read() as conn:
        row = persons.get_person(conn, psn_no=psn_no)
    if unmask:
        _audit_unmask(platform, user, psn_no, {})
    return PersonOut(**_present(row, unmask=unmask))


@router.patch(
    "/{psn_no}",
    summary="变更参保人信息 (change name, phone, cards, e-voucher, family)",
    response_model=PersonOut,
    responses=_WRITE,
)
async def change_person(
    psn_no: str, body: PersonPatch, user: WriterUser, platform: PlatformDep
) -> PersonOut:
    given = body.model_dump(exclude_unset=True)
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

    return PersonOut(**_present(await platform.db.writer.run(job)))


@router.post(
    "/{psn_no}/insurance",
    summary="增加险种 (enrol the person in another insurance)",
    status_code=201,
    response_model=PersonOut,
    responses=_WRITE,
)
async def add_insurance(
    psn_no: str, body: InsuranceIn, user: WriterUser, platform: PlatformDep
) -> PersonOut:
    item = persons.Insurance(**body.model_dump())

    def job(conn: Connection) -> dict[str, Any]:
        return insurance.add_insurance(
            conn, ids=platform.ids, actor=user.username, psn_no=psn_no, insurance=item
        )

    return PersonOut(**_present(await platform.db.writer.run(job)))


@router.patch(
    "/{psn_no}/insurance/{insutype}",
    summary="变更险种信息 (change person type, insured region, civil-servant flag, employer)",
    response_model=PersonOut,
    responses=_WRITE,
)
async def change_insurance(
    psn_no: str, insutype: str, body: InsurancePatch, user: WriterUser, platform: PlatformDep
) -> PersonOut:
    given = body.model_dump(exclude_unset=True)
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

    return PersonOut(**_present(await platform.db.writer.run(job)))


@router.post(
    "/{psn_no}/insurance/{insutype}/{action}",
    summary="暂停 / 恢复 / 终止参保 (suspend, resume or terminate an insurance)",
    response_model=PersonOut,
    responses=_WRITE,
)
async def set_insurance_status(
    psn_no: str,
    insutype: str,
    action: Literal["suspend", "resume", "terminate"],
    user: WriterUser,
    platform: PlatformDep,
    body: StatusIn | None = None,
) -> PersonOut:
    status = body or StatusIn()

    def job(conn: Connection) -> dict[str, Any]:
        return insurance.set_insurance_status(
            conn,
            ids=platform.ids,
            actor=user.username,
            psn_no=psn_no,
            insutype=insutype,
            action=action,
            on=status.on,
            reason=status.reason,
        )

    return PersonOut(**_present(await platform.db.writer.run(job)))


@router.post(
    "/{psn_no}/identities",
    summary="登记救助身份 (record an assistance identity: 低保, 特困 …)",
    status_code=201,
    response_model=PersonOut,
    responses=_WRITE,
)
async def record_identity(
    psn_no: str, body: IdentityIn, user: WriterUser, platform: PlatformDep
) -> PersonOut:
    def job(conn: Connection) -> dict[str, Any]:
        return insurance.record_identity(
            conn, ids=platform.ids, actor=user.username, psn_no=psn_no, **body.model_dump()
        )

    return PersonOut(**_present(await platform.db.writer.run(job)))


@router.post(
    "/{psn_no}/account/credits",
    summary="个人账户划入 (credit the personal account)",
    status_code=201,
    response_model=CreditOut,
    responses=_WRITE,
)
async def credit_account(
    psn_no: str, body: CreditIn, user: WriterUser, platform: PlatformDep
) -> CreditOut:
    def job(conn: Connection) -> dict[str, Any]:
        return personal_accounts.credit_account(
            conn,
            ids=platform.ids,
            actor=user.username,
            psn_no=psn_no,
            amount=body.amount,
            reason=body.reason,
            insutype=body.insutype,
        )

    return CreditOut(**await platform.db.writer.run(job))
