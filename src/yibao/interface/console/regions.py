"""Regions and 异地就医 use cases for the console: the hosted pooling regions, 异地就医备案
(register, list, show, revoke) and the monthly inter-region clearing report."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import Connection

from yibao.enrolment import remote
from yibao.interface.console.auth import User
from yibao.runtime import Platform
from yibao.settlement import inter_region


async def register(platform: Platform, user: User, fields: Mapping[str, Any]) -> dict[str, Any]:
    """`fields`: psn_no, mdtrt_area_admdvs, reg_type, begndate, enddate, insutype, tel, addr,
    memo."""

    def job(conn: Connection) -> dict[str, Any]:
        return remote.register(conn, ids=platform.ids, actor=user.username, **fields)

    return await platform.db.writer.run(job)


async def revoke(platform: Platform, user: User, remote_reg_id: str, reason: str) -> dict[str, Any]:
    def job(conn: Connection) -> dict[str, Any]:
        return remote.revoke(
            conn, ids=platform.ids, actor=user.username, remote_reg_id=remote_reg_id, reason=reason
        )

    return await platform.db.writer.run(job)


def get(platform: Platform, remote_reg_id: str) -> dict[str, Any]:
    with platform.db.read() as conn:
        return remote.get(conn, remote_reg_id)


def find(
    platform: Platform,
    *,
    psn_no: str | None = None,
    mdtrt_area_admdvs: str | None = None,
    insuplc_admdvs: str | None = None,
    active_on: date | None = None,
    include_revoked: bool = False,
    limit: int = 100,
    offset: int = 0,
) -> tuple[int, list[dict[str, Any]]]:
    with platform.db.read() as conn:
        return remote.find(
            conn,
            psn_no=psn_no,
            mdtrt_area_admdvs=mdtrt_area_admdvs,
            insuplc_admdvs=insuplc_admdvs,
            active_on=active_on,
            include_revoked=include_revoked,
            limit=limit,
            offset=offset,
        )


def inter_region_report(platform: Platform, *, month: str) -> dict[str, Any]:
    with platform.db.read() as conn:
        return inter_region.report(conn, platform.book, month=month)
