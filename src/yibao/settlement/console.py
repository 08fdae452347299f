"""The console's settlement use cases (read only): an institution's settlements with their
fee lines and fund split, and its reconciliation results (3202 result files). Every read
takes the caller's `Scope`; out of scope is NotFound, like a missing record."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from yibao.enrolment.scope import AGENCY, Scope
from yibao.errors import NotFound
from yibao.settlement.repo import console as repo


def list_settlements(
    conn: Connection,
    *,
    scope: Scope = AGENCY,
    fixmedins_code: str | None = None,
    psn_no: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[int, list[dict[str, Any]]]:
    """(total, page) newest first; `since` inclusive, `until` exclusive (setl_time)."""
    total, rows = repo.page_settlements(
        conn,
        scope=scope,
        fixmedins_code=fixmedins_code,
        psn_no=psn_no,
        since=since,
        until=until,
        limit=limit,
        offset=offset,
    )
    return total, [dict(r) for r in rows]


def get_settlement(conn: Connection, *, setl_id: str, scope: Scope = AGENCY) -> dict[str, Any]:
    """The settlement with `funds` (the fund split) and `fee_lines`."""
    row = repo.settlement(conn, setl_id, scope=scope)
    if row is None:
        raise NotFound(f"setl_id: 结算记录不存在 '{setl_id}' (no such settlement)")
    out = dict(row)
    out["funds"] = [dict(f) for f in repo.funds(conn, setl_id)]
    out["fee_lines"] = [dict(f) for f in repo.fee_lines(conn, setl_id)]
    return out


def list_results(
    conn: Connection,
    *,
    scope: Scope = AGENCY,
    fixmedins_code: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[int, list[dict[str, Any]]]:
    total, rows = repo.page_results(
        conn, scope=scope, fixmedins_code=fixmedins_code, limit=limit, offset=offset
    )
    return total, [dict(r) for r in rows]


def result_file(conn: Connection, *, file_qury_no: str, scope: Scope = AGENCY) -> dict[str, Any]:
    row = repo.result_file(conn, file_qury_no, scope=scope)
    if row is None:
        raise NotFound(f"file_qury_no: 对账结果不存在 '{file_qury_no}' (no such result file)")
    return dict(row)
