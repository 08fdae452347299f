"""Settlements and reconciliation results for the console: the agency sees every
institution's, an institution its own, a chain its stores' (out of scope: 404)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from yibao.interface.console.auth import User, scope_of
from yibao.runtime import Platform
from yibao.settlement import console


def list_settlements(
    platform: Platform,
    user: User,
    *,
    fixmedins_code: str | None = None,
    psn_no: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[int, list[dict[str, Any]]]:
    with platform.db.read() as conn:
        return console.list_settlements(
            conn,
            scope=scope_of(user),
            fixmedins_code=fixmedins_code,
            psn_no=psn_no,
            since=since,
            until=until,
            limit=limit,
            offset=offset,
        )


def get_settlement(platform: Platform, user: User, setl_id: str) -> dict[str, Any]:
    with platform.db.read() as conn:
        return console.get_settlement(conn, setl_id=setl_id, scope=scope_of(user))


def list_results(
    platform: Platform,
    user: User,
    *,
    fixmedins_code: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[int, list[dict[str, Any]]]:
    with platform.db.read() as conn:
        return console.list_results(
            conn, scope=scope_of(user), fixmedins_code=fixmedins_code, limit=limit, offset=offset
        )


def result_file(platform: Platform, user: User, file_qury_no: str) -> dict[str, Any]:
    with platform.db.read() as conn:
        return console.result_file(conn, file_qury_no=file_qury_no, scope=scope_of(user))
