"""参保人 endpoints: register and change persons, their insurance and identities, credit
personal accounts. Personal data is masked unless a role with `person.unmask` asks
`?unmask=1` with a stated purpose (`?purpose=` or the header `X-Unmask-Purpose`), within its
hourly limit; audited. The use cases are `yibao.interface.console.persons` and
`…console.unmasking`; this module keeps HTTP.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query

from yibao.api.console.deps import AccountCreditor, PersonReader, PersonWriter, PlatformDep
from yibao.api.console.routing import ConsoleRoute
from yibao.api.console.schemas import (
    ERRORS,
    MAX_OFFSET,
    CreditIn,
    CreditOut,
    DeathIn,
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
from yibao.interface.console import persons, unmasking

router = APIRouter(prefix="/api/v1/persons", tags=["参保人 persons"], route_class=ConsoleRoute)

_READ: dict[int | str, dict[str, Any]] = {k: ERRORS[k] for k in (400, 401, 403, 404, 429)}
_WRITE: dict[int | str, dict[str, Any]] = {k: ERRORS[k] for k in (400, 401, 403, 404, 409)}

Unmask = Annotated[
    bool,
    Query(
        description=(
            "查看未脱敏信息: 须有 person.unmask 权限并说明用途, 每小时限次, 记录审计 "
            "(needs the permission person.unmask and a purpose; rate-limited; audited)"
        )
    ),
]
PurposeQuery = Annotated[
    str | None,
    Query(
        max_length=231,
        description=(
            "解除脱敏的用途 (why; required with unmask): a code, optionally ':' and a case or "
            "ticket number — " + ", ".join(f"{k} {v}" for k, v in unmasking.PURPOSES.items())
        ),
        examples=["case_review:AJ-2024-0012"],
    ),
]
PurposeHeader = Annotated[
    str | None,
    Header(
        alias=unmasking.PURPOSE_HEADER,
        max_length=231,
        description="用途, 同 ?purpose= (the same as ?purpose=; the query wins)",
    ),
]


def _purpose(query: str | None, header: str | None) -> str | None:
    return query if query is not None else header


@router.get(
    "",
    summary="查询参保人 (find persons; masked)",
    response_model=PersonPage,
    responses=_READ,
)
def find_persons(
    user: PersonReader,
    platform: PlatformDep,
    certno: str | None = None,
    card_no: str | None = None,
    family_id: str | None = None,
    insutype: str | None = None,
    insuplc_admdvs: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    unmask: Unmask = False,
    purpose: PurposeQuery = None,
    x_unmask_purpose: PurposeHeader = None,
) -> PersonPage:
    total, rows = persons.find_persons(
        platform,
        user,
        certno=certno,
        card_no=card_no,
        family_id=family_id,
        insutype=insutype,
        insuplc_admdvs=insuplc_admdvs,
        limit=limit,
        offset=offset,
        unmask=unmask,
        purpose=_purpose(purpose, x_unmask_purpose),
    )
    return PersonPage(total=total, items=[PersonSummary(**r) for r in rows])


@router.post(
    "",
    summary="登记参保人及其险种 (register a person and their insurance)",
    status_code=201,
    response_model=PersonOut,
    responses=_WRITE,
)
async def register_person(body: PersonIn, user: PersonWriter, platform: PlatformDep) -> PersonOut:
    return PersonOut(**await persons.register_person(platform, user, body.model_dump()))


@router.get(
    "/{psn_no}",
    summary="参保人详情 (one person with insurance and identities; masked)",
    response_model=PersonOut,
    responses=_READ,
)
def get_person(
    psn_no: str,
    user: PersonReader,
    platform: PlatformDep,
    unmask: Unmask = False,
    purpose: PurposeQuery = None,
    x_unmask_purpose: PurposeHeader = None,
) -> PersonOut:
    return PersonOut(
        **persons.get_person(
            platform,
            user,
            psn_no,
            unmask=unmask,
            purpose=_purpose(purpose, x_unmask_purpose),
        )
    )


@router.patch(
    "/{psn_no}",
    summary="变更参保人信息 (change name, phone, cards, e-voucher, family)",
    response_model=PersonOut,
    responses=_WRITE,
)
async def change_person(
    psn_no: str, body: PersonPatch, user: PersonWriter, platform: PlatformDep
) -> PersonOut:
    given = body.model_dump(exclude_unset=True)
    return PersonOut(**await persons.change_person(platform, user, psn_no, given))


@router.put(
    "/{psn_no}/death",
    summary="登记死亡日期 (record, correct or clear the date of death)",
    response_model=PersonOut,
    responses=_WRITE,
)
async def record_death(
    psn_no: str, body: DeathIn, user: PersonWriter, platform: PlatformDep
) -> PersonOut:
    return PersonOut(**await persons.record_death(platform, user, psn_no, body.death_date))


@router.post(
    "/{psn_no}/insurance",
    summary="增加险种 (enrol the person in another insurance)",
    status_code=201,
    response_model=PersonOut,
    responses=_WRITE,
)
async def add_insurance(
    psn_no: str, body: InsuranceIn, user: PersonWriter, platform: PlatformDep
) -> PersonOut:
    return PersonOut(**await persons.add_insurance(platform, user, psn_no, body.model_dump()))


@router.patch(
    "/{psn_no}/insurance/{insutype}",
    summary="变更险种信息 (change person type, insured region, civil-servant flag, employer)",
    response_model=PersonOut,
    responses=_WRITE,
)
async def change_insurance(
    psn_no: str, insutype: str, body: InsurancePatch, user: PersonWriter, platform: PlatformDep
) -> PersonOut:
    given = body.model_dump(exclude_unset=True)
    row = await persons.change_insurance(platform, user, psn_no, insutype, given)
    return PersonOut(**row)


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
    user: PersonWriter,
    platform: PlatformDep,
    body: StatusIn | None = None,
) -> PersonOut:
    status = body or StatusIn()
    row = await persons.set_insurance_status(
        platform, user, psn_no, insutype, action, on=status.on, reason=status.reason
    )
    return PersonOut(**row)


@router.post(
    "/{psn_no}/identities",
    summary="登记救助身份 (record an assistance identity: 低保, 特困 …)",
    status_code=201,
    response_model=PersonOut,
    responses=_WRITE,
)
async def record_identity(
    psn_no: str, body: IdentityIn, user: PersonWriter, platform: PlatformDep
) -> PersonOut:
    row = await persons.record_identity(platform, user, psn_no, body.model_dump())
    return PersonOut(**row)


@router.post(
    "/{psn_no}/account/credits",
    summary="个人账户划入 (credit the personal account)",
    status_code=201,
    response_model=CreditOut,
    responses=_WRITE,
)
async def credit_account(
    psn_no: str, body: CreditIn, user: AccountCreditor, platform: PlatformDep
) -> CreditOut:
    credited = await persons.credit_account(
        platform, user, psn_no, amount=body.amount, reason=body.reason, insutype=body.insutype
    )
    return CreditOut(**credited)
