"""Every SQL statement of the review: the knowledge base's rows, the person's recent history,
a pharmacy's declared stock, and the rule hits it writes."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, and_, bindparam, delete, func, insert, or_, select

from yibao.storage.prepared import Prepared
from yibao.storage.tables import (
    KB_TABLES,
    fee_detail,
    inv_record,
    mdtrt,
    rule_hit,
)

#: columns of a knowledge table a file carries (not the row id nor the audit columns)
_SKIP = {"row_id", "created_at", "updated_at"}


def kb_columns(table: str) -> list[str]:
    return [c.name for c in KB_TABLES[table].columns if c.name not in _SKIP]


def kb_rows(conn: Connection, table: str) -> list[dict[str, Any]]:
    t = KB_TABLES[table]
    order = [t.c[name] for name in kb_columns(table)[:2]] + [t.c.begndate]
    return [dict(r._mapping) for r in conn.execute(select(t).order_by(*order))]


def kb_replace(conn: Connection, table: str, rows: Sequence[Mapping[str, Any]]) -> None:
    """Replace a knowledge table's rows (the import's one transaction is the caller's)."""
    t = KB_TABLES[table]
    conn.execute(delete(t))
    if rows:
        conn.execute(insert(t), [dict(r) for r in rows])


def kb_stamp(conn: Connection) -> tuple[object, ...]:
    """A cheap fingerprint of the whole knowledge base (row counts and last changes): the
    cache reloads when it moves."""
    parts: list[object] = []
    for t in KB_TABLES.values():
        parts.extend(conn.execute(select(func.count(), func.max(t.c.updated_at))).one())
    return tuple(parts)


_P_VISITS = Prepared(
    select(
        mdtrt.c.mdtrt_id,
        mdtrt.c.fixmedins_code,
        mdtrt.c.mdtrt_kind,
        mdtrt.c.med_type,
        mdtrt.c.begntime,
        mdtrt.c.endtime,
        mdtrt.c.maindiag_code,
    ).where(
        mdtrt.c.psn_no == bindparam("psn_no"),
        mdtrt.c.begntime >= bindparam("since"),
        mdtrt.c.vali_flag == "1",
        or_(
            mdtrt.c.begntime >= bindparam("recent"),
            and_(
                mdtrt.c.mdtrt_kind == "inpatient",
                or_(mdtrt.c.endtime.is_(None), mdtrt.c.endtime >= bindparam("stay_from")),
            ),
        ),
    )
)


@functools.lru_cache(maxsize=256)
def _lines_stmt(held: int, yearly: int) -> Prepared:
    """The person's valid lines of `held` drug codes dated since :hold_from and of `yearly`
    codes dated since :year_from (one compiled statement per pair of counts)."""
    wanted = []
    if held:
        wanted.append(
            and_(
                fee_detail.c.med_list_codg.in_([bindparam(f"h{i}") for i in range(held)]),
                fee_detail.c.fee_ocur_time >= bindparam("hold_from"),
            )
        )
    if yearly:
        wanted.append(
            and_(
                fee_detail.c.med_list_codg.in_([bindparam(f"y{i}") for i in range(yearly)]),
                fee_detail.c.fee_ocur_time >= bindparam("year_from"),
            )
        )
    return Prepared(
        select(
            fee_detail.c.mdtrt_id,
            fee_detail.c.med_list_codg,
            fee_detail.c.cnt,
            fee_detail.c.fee_ocur_time,
            fee_detail.c.prd_days,
        )
        .select_from(fee_detail.join(mdtrt, fee_detail.c.mdtrt_id == mdtrt.c.mdtrt_id))
        .where(
            mdtrt.c.psn_no == bindparam("psn_no"),
            mdtrt.c.begntime >= bindparam("since"),
            mdtrt.c.vali_flag == "1",
            fee_detail.c.vali_flag == "1",
            or_(*wanted),
        )
    )


def visits_since(
    conn: Connection, psn_no: str, *, since: datetime, recent: datetime, stay_from: datetime
) -> list[dict[str, Any]]:
    """The person's valid visits begun since `since` that matter to the visit rules: those
    begun since `recent`, and admissions still open or ended since `stay_from`."""
    return _P_VISITS.all(
        conn, {"psn_no": psn_no, "since": since, "recent": recent, "stay_from": stay_from}
    )


def lines_since(
    conn: Connection,
    psn_no: str,
    *,
    held: Iterable[str],
    hold_from: datetime,
    yearly: Iterable[str],
    year_from: datetime,
) -> list[dict[str, Any]]:
    """The person's valid fee lines of the `held` codes since `hold_from` (holdings) and of
    the `yearly` codes since `year_from` (yearly limits)."""
    h, y = sorted(set(held)), sorted(set(yearly))
    if not h and not y:
        return []
    params: dict[str, Any] = {f"h{i}": c for i, c in enumerate(h)}
    params.update({f"y{i}": c for i, c in enumerate(y)})
    params["psn_no"] = psn_no
    params["hold_from"] = hold_from
    params["year_from"] = year_from
    params["since"] = min(hold_from if h else year_from, year_from if y else hold_from)
    return _lines_stmt(len(h), len(y)).all(conn, params)


_IN = ("stocktake", "change_in", "purchase", "sale_return")
_OUT = ("change_out", "purchase_return", "sale")


_P_DECLARES_STOCK = Prepared(
    select(inv_record.c.rec_id)
    .where(
        inv_record.c.fixmedins_code == bindparam("fixmedins_code"), inv_record.c.vali_flag == "1"
    )
    .limit(1)
)


@functools.lru_cache(maxsize=64)
def _stock_stmt(count: int) -> Prepared:
    """The store's valid movements of `count` codes, oldest first."""
    return Prepared(
        select(
            inv_record.c.med_list_codg,
            inv_record.c.movement,
            inv_record.c.cnt,
            inv_record.c.occurred_at,
        )
        .where(
            inv_record.c.fixmedins_code == bindparam("fixmedins_code"),
            inv_record.c.vali_flag == "1",
            inv_record.c.med_list_codg.in_([bindparam(f"c{i}") for i in range(count)]),
        )
        .order_by(inv_record.c.occurred_at)
    )


def stock(conn: Connection, fixmedins_code: str, codes: Iterable[str]) -> dict[str, Decimal] | None:
    """A store's declared stock of `codes` from its 进销存 ledger (3501–3506): the latest
    stocktake, then movements after it. None when the store declares no 进销存 at all (the
    item_substitution rule has nothing to compare with)."""
    if _P_DECLARES_STOCK.first(conn, {"fixmedins_code": fixmedins_code}) is None:
        return None
    out: dict[str, Decimal] = {}
    wanted = sorted(set(codes))
    if not wanted:
        return out
    params: dict[str, Any] = {f"c{i}": c for i, c in enumerate(wanted)}
    params["fixmedins_code"] = fixmedins_code
    rows = [
        (r["med_list_codg"], r["movement"], r["cnt"], r["occurred_at"])
        for r in _stock_stmt(len(wanted)).all(conn, params)
    ]
    for code, movement, cnt, _ in rows:
        have = out.get(code, Decimal(0))
        if movement == "stocktake":
            have = Decimal(cnt)
        elif movement in _IN:
            have += cnt
        elif movement in _OUT:
            have -= cnt
        out[code] = have
    return out


def insert_hits(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    if rows:
        conn.execute(insert(rule_hit), [dict(r) for r in rows])


def hits_of(
    conn: Connection, *, mdtrt_id: str | None = None, psn_no: str | None = None
) -> list[dict[str, Any]]:
    query = select(rule_hit).order_by(rule_hit.c.detected_at, rule_hit.c.hit_id)
    if mdtrt_id is not None:
        query = query.where(rule_hit.c.mdtrt_id == mdtrt_id)
    if psn_no is not None:
        query = query.where(rule_hit.c.psn_no == psn_no)
    return [dict(r._mapping) for r in conn.execute(query)]
