"""定点医药机构 endpoints: register, change, list, get; issue and revoke gateway credentials."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from yibao.api.console.deps import (
    CredentialManager,
    CredentialReader,
    InstitutionReader,
    InstitutionWriter,
    PlatformDep,
)
from yibao.api.console.routing import ConsoleRoute
from yibao.api.console.schemas import (
    ERRORS,
    MAX_OFFSET,
    CredentialIn,
    CredentialOut,
    InstitutionIn,
    InstitutionOut,
    InstitutionPage,
    InstitutionPatch,
    IssuedCredentialOut,
)
from yibao.interface.console import institutions

router = APIRouter(
    prefix="/api/v1/institutions", tags=["机构 institutions"], route_class=ConsoleRoute
)

_READ: dict[int | str, dict[str, Any]] = {401: ERRORS[401], 404: ERRORS[404]}
_WRITE: dict[int | str, dict[str, Any]] = {k: ERRORS[k] for k in (400, 401, 403, 404, 409)}


@router.get(
    "",
    summary="机构列表 (list institutions)",
    response_model=InstitutionPage,
    responses={400: ERRORS[400], 401: ERRORS[401]},
)
def list_institutions(
    user: InstitutionReader,
    platform: PlatformDep,
    kind: Literal["hospital", "clinic", "pharmacy"] | None = None,
    admdvs: str | None = None,
    parent_code: Annotated[str | None, Query(description="某连锁的门店")] = None,
    q: Annotated[str | None, Query(description="编码或名称包含")] = None,
    vali_flag: Literal["0", "1"] | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> InstitutionPage:
    total, rows = institutions.list_institutions(
        platform,
        user,
        kind=kind,
        admdvs=admdvs,
        parent_code=parent_code,
        q=q,
        vali_flag=vali_flag,
        limit=limit,
        offset=offset,
    )
    return InstitutionPage(total=total, items=[InstitutionOut(**r) for r in rows])


@router.post(
    "",
    summary="登记机构 (register an institution)",
    status_code=201,
    response_model=InstitutionOut,
    responses=_WRITE,
)
async def register_institution(
    body: InstitutionIn, user: InstitutionWriter, platform: PlatformDep
) -> InstitutionOut:
    row = await institutions.register_institution(platform, user, body.model_dump())
    return InstitutionOut(**row)


@router.get(
    "/{fixmedins_code}",
    summary="机构详情 (one institution)",
    response_model=InstitutionOut,
    responses=_READ,
)
def get_institution(
    fixmedins_code: str, user: InstitutionReader, platform: PlatformDep
) -> InstitutionOut:
    return InstitutionOut(**institutions.get_institution(platform, user, fixmedins_code))


@router.patch(
    "/{fixmedins_code}",
    summary="变更机构 (change name, level, region, chain or validity)",
    response_model=InstitutionOut,
    responses=_WRITE,
)
async def change_institution(
    fixmedins_code: str, body: InstitutionPatch, user: InstitutionWriter, platform: PlatformDep
) -> InstitutionOut:
    # Only what was sent changes (an explicitly sent null parent_code detaches).
    given = body.model_dump(exclude_unset=True)
    row = await institutions.change_institution(platform, user, fixmedins_code, given)
    return InstitutionOut(**row)


@router.get(
    "/{fixmedins_code}/credentials",
    summary="机构接口凭证 (the institution's gateway credentials, without secrets)",
    response_model=list[CredentialOut],
    responses=_READ,
)
def list_credentials(
    fixmedins_code: str, user: CredentialReader, platform: PlatformDep
) -> list[CredentialOut]:
    rows = institutions.list_credentials(platform, user, fixmedins_code)
    return [CredentialOut(**r) for r in rows]


@router.post(
    "/{fixmedins_code}/credentials",
    summary="签发接口凭证 (signature 或 static), 密钥仅显示一次 (issue a credential; its token is "
    "shown once)",
    status_code=201,
    response_model=IssuedCredentialOut,
    responses=_WRITE,
)
async def issue_credential(
    fixmedins_code: str,
    user: CredentialManager,
    platform: PlatformDep,
    body: CredentialIn | None = None,
) -> IssuedCredentialOut:
    mode = body.auth_mode if body is not None else "signature"
    issued = await institutions.issue_credential(platform, user, fixmedins_code, auth_mode=mode)
    return IssuedCredentialOut(**issued)


@router.post(
    "/{fixmedins_code}/credentials/{paasid}/rotate",
    summary="轮换接口凭证: 签发同模式的新凭证, 旧凭证在重叠期内仍有效 (rotate: a successor in the "
    "same mode, shown once; the old one stays valid for YIBAO_CREDENTIAL_OVERLAP_S)",
    status_code=201,
    response_model=IssuedCredentialOut,
    responses=_WRITE,
)
async def rotate_credential(
    fixmedins_code: str, paasid: str, user: CredentialManager, platform: PlatformDep
) -> IssuedCredentialOut:
    issued = await institutions.rotate_credential(platform, user, fixmedins_code, paasid)
    return IssuedCredentialOut(**issued)


@router.post(
    "/{fixmedins_code}/credentials/{paasid}/revoke",
    summary="吊销接口凭证 (revoke a credential)",
    response_model=CredentialOut,
    responses=_WRITE,
)
async def revoke_credential(
    fixmedins_code: str, paasid: str, user: CredentialManager, platform: PlatformDep
) -> CredentialOut:
    revoked = await institutions.revoke_credential(platform, user, fixmedins_code, paasid)
    return CredentialOut(**revoked)
