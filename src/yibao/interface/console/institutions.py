"""定点医药机构 use cases for the console: list, register, get, change; the institution's
gateway credentials (list without secrets, issue — the secret shown once —, revoke)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection

from yibao.enrolment import credentials, institutions
from yibao.interface import credentials as gateway_credentials
from yibao.interface.console.auth import User, scope_of
from yibao.runtime import Platform


def list_institutions(
    platform: Platform,
    user: User,
    *,
    kind: str | None = None,
    admdvs: str | None = None,
    parent_code: str | None = None,
    q: str | None = None,
    vali_flag: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[int, list[dict[str, Any]]]:
    """(total, page) of the institutions the user may see, ordered by code."""
    with platform.db.read() as conn:
        return institutions.list_institutions(
            conn,
            kind=kind,
            admdvs=admdvs,
            parent_code=parent_code,
            q=q,
            vali_flag=vali_flag,
            limit=limit,
            offset=offset,
            scope=scope_of(user),
        )


def get_institution(platform: Platform, user: User, fixmedins_code: str) -> dict[str, Any]:
    with platform.db.read() as conn:
        return institutions.get_institution(
            conn, fixmedins_code=fixmedins_code, scope=scope_of(user)
        )


async def register_institution(
    platform: Platform, user: User, fields: Mapping[str, Any]
) -> dict[str, Any]:
    """`fields`: fixmedins_code, fixmedins_name, kind, hosp_lv, admdvs, parent_code."""

    def job(conn: Connection) -> dict[str, Any]:
        return institutions.register_institution(
            conn, ids=platform.ids, actor=user.username, **fields
        )

    return await platform.db.writer.run(job)


async def change_institution(
    platform: Platform, user: User, fixmedins_code: str, given: Mapping[str, Any]
) -> dict[str, Any]:
    """Change the fields sent in `given`. A null is "unchanged", except for parent_code: an
    explicitly sent null detaches the institution from its chain."""
    fields = dict(given)
    parent = fields.pop("parent_code", institutions.UNSET)
    fields = {k: v for k, v in fields.items() if v is not None}

    def job(conn: Connection) -> dict[str, Any]:
        institutions.get_institution(conn, fixmedins_code=fixmedins_code, scope=scope_of(user))
        return institutions.change_institution(
            conn,
            ids=platform.ids,
            actor=user.username,
            fixmedins_code=fixmedins_code,
            parent_code=parent,
            **fields,
        )

    return await platform.db.writer.run(job)


def list_credentials(platform: Platform, user: User, fixmedins_code: str) -> list[dict[str, Any]]:
    """The institution's credentials without their secrets; NotFound for no institution."""
    with platform.db.read() as conn:
        institutions.get_institution(conn, fixmedins_code=fixmedins_code, scope=scope_of(user))
        return credentials.list_credentials(conn, fixmedins_code=fixmedins_code)


async def issue_credential(
    platform: Platform, user: User, fixmedins_code: str, *, auth_mode: str | None = None
) -> dict[str, Any]:
    """A new credential (signature mode unless `static`); its token or secret is in this
    answer only."""

    def job(conn: Connection) -> dict[str, Any]:
        # out of the user's scope answers like a missing institution (404)
        institutions.get_institution(conn, fixmedins_code=fixmedins_code, scope=scope_of(user))
        return gateway_credentials.issue_credential(
            conn,
            platform=platform,
            actor=user.username,
            fixmedins_code=fixmedins_code,
            auth_mode=auth_mode,
        )

    return await platform.db.writer.run(job)


async def revoke_credential(
    platform: Platform, user: User, fixmedins_code: str, paasid: str
) -> dict[str, Any]:
    def job(conn: Connection) -> dict[str, Any]:
        institutions.get_institution(conn, fixmedins_code=fixmedins_code, scope=scope_of(user))
        return credentials.revoke_credential(
            conn,
            ids=platform.ids,
            actor=user.username,
            fixmedins_code=fixmedins_code,
            paasid=paasid,
        )

    return await platform.db.writer.run(job)


async def rotate_credential(
    platform: Platform, user: User, fixmedins_code: str, paasid: str
) -> dict[str, Any]:
    """A successor of `paasid` (its token or secret in this answer only); the old credential
    stays valid for the overlap (YIBAO_CREDENTIAL_OVERLAP_S)."""

    def job(conn: Connection) -> dict[str, Any]:
        # out of the user's scope answers like a missing institution (404)
        institutions.get_institution(conn, fixmedins_code=fixmedins_code, scope=scope_of(user))
        return gateway_credentials.rotate_credential(
            conn,
            platform=platform,
            actor=user.username,
            fixmedins_code=fixmedins_code,
            paasid=paasid,
        )

    return await platform.db.writer.run(job)
