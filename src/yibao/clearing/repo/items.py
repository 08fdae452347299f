"""What clearing counts: the settlement rows of a month by the 3201 rule (reversals included:
`settlement.repo.reconcile.Scope`), their fund rows, and the items frozen for applications."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, String, func, insert, literal, select, type_coerce, update

from yibao.settlement.repo.reconcile import Scope
from yibao.storage.tables import clr_appy, clr_item, setl, setl_fund
from yibao.storage.types import Money

#: the largest IN list sent in one statement (portable across SQLite and MySQL)
_CHUNK = 500


def month_rows(
    conn: Connection,
    *,
    fixmedins_code: str,
    clr_optins: str,
    clr_type: str,
    begin: date,
    end: date,
    only_ids: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """The settlement rows 3201 counts for the institution over `begin`..`end` (reversals
    included: a settlement made counts positive, a valid reversal record negative); those of
    `only_ids` when given."""
    scope = Scope(
        fixmedins_code=fixmedins_code,
        setl_optins=clr_optins,
        begin=begin,
        end=end,
        include_reversals=True,
        clr_type=clr_type,
    )
    query = select(
        setl.c.setl_id,
        setl.c.setl_time,
        setl.c.refd_setl_flag,
        setl.c.init_setl_id,
        setl.c.medfee_sumamt,
        setl.c.fund_pay_sumamt,
        setl.c.acct_pay,
        setl.c.psn_cash_pay,
    ).where(*scope.where())
    if only_ids is None:
        return [
            dict(r)
            for r in conn.execute(query.order_by(setl.c.setl_time, setl.c.setl_id)).mappings()
        ]
    out: list[dict[str, Any]] = []
    for i in range(0, len(only_ids), _CHUNK):
        chunk = list(only_ids[i : i + _CHUNK])
        out += [dict(r) for r in conn.execute(query.where(setl.c.setl_id.in_(chunk))).mappings()]
    return out


def changed_ids(
    conn: Connection,
    *,
    fixmedins_code: str,
    clr_optins: str,
    clr_type: str,
    begin: date,
    end: date,
    since: datetime,
) -> list[str]:
    """Every settlement row of the institution in `begin`..`end` written or changed at or after
    `since` (counted now or not: an erased settlement is among them)."""
    return [
        r[0]
        for r in conn.execute(
            select(setl.c.setl_id).where(
                setl.c.fixmedins_code == fixmedins_code,
                setl.c.clr_optins == clr_optins,
                setl.c.clr_type == clr_type,
                setl.c.setl_time >= datetime.combine(begin, time.min),
                setl.c.setl_time < datetime.combine(end + timedelta(days=1), time.min),
                setl.c.updated_at >= since,
            )
        )
    ]


def fund_rows(conn: Connection, setl_ids: Sequence[str]) -> dict[str, dict[str, Decimal]]:
    """setl_id → {fund_pay_type: fund_payamt} (setldetail)."""
    out: dict[str, dict[str, Decimal]] = {}
    for i in range(0, len(setl_ids), _CHUNK):
        chunk = list(setl_ids[i : i + _CHUNK])
        for r in conn.execute(
            select(setl_fund.c.setl_id, setl_fund.c.fund_pay_type, setl_fund.c.fund_payamt).where(
                setl_fund.c.setl_id.in_(chunk)
            )
        ):
            out.setdefault(r.setl_id, {})[r.fund_pay_type] = r.fund_payamt
    return out


def insert_items(conn: Connection, rows: Iterable[Mapping[str, Any]]) -> None:
    batch = [dict(r) for r in rows]
    if batch:
        conn.execute(insert(clr_item), batch)


def cleared_months(
    conn: Connection, *, fixmedins_code: str, clr_optins: str, clr_type: str, before: str
) -> list[tuple[str, datetime]]:
    """The months before `before` that an accepted or approved application holds, with the
    time it was accepted."""
    return [
        (r[0], r[1])
        for r in conn.execute(
            select(clr_appy.c.setlym, clr_appy.c.accepted_at)
            .where(
                clr_appy.c.fixmedins_code == fixmedins_code,
                clr_appy.c.clr_optins == clr_optins,
                clr_appy.c.clr_type == clr_type,
                clr_appy.c.setlym < before,
                clr_appy.c.stas.in_(("accepted", "approved")),
            )
            .order_by(clr_appy.c.setlym)
        )
    ]


def counted_for_month(
    conn: Connection,
    *,
    fixmedins_code: str,
    clr_optins: str,
    clr_type: str,
    setlym: str,
    setl_ids: Sequence[str],
) -> dict[tuple[str, str], Decimal]:
    """(setl_id, fund_pay_type) → what the accepted and approved applications have counted so
    far for month `setlym` (its own items and every later adjustment of it), for `setl_ids`."""
    holding = select(clr_appy.c.clr_appy_evt_id).where(
        clr_appy.c.fixmedins_code == fixmedins_code,
        clr_appy.c.clr_optins == clr_optins,
        clr_appy.c.clr_type == clr_type,
        clr_appy.c.stas.in_(("accepted", "approved")),
    )
    out: dict[tuple[str, str], Decimal] = {}
    for i in range(0, len(setl_ids), _CHUNK):
        chunk = list(setl_ids[i : i + _CHUNK])
        rows = conn.execute(
            select(
                clr_item.c.setl_id,
                clr_item.c.fund_pay_type,
                func.sum(clr_item.c.fund_payamt, type_=Money()).label("amount"),
            )
            .where(
                clr_item.c.setlym == setlym,
                clr_item.c.setl_id.in_(chunk),
                clr_item.c.clr_appy_evt_id.in_(holding),
            )
            .group_by(clr_item.c.setl_id, clr_item.c.fund_pay_type)
        )
        out.update({(r.setl_id, r.fund_pay_type): r.amount for r in rows})
    return out


def cleared_month_of(conn: Connection, setl_ids: Sequence[str], *, before: str) -> dict[str, str]:
    """setl_id → the month an accepted or approved application counted it in, for those of
    `setl_ids` counted in a month before `before`."""
    out: dict[str, str] = {}
    for i in range(0, len(setl_ids), _CHUNK):
        chunk = list(setl_ids[i : i + _CHUNK])
        for r in conn.execute(
            select(clr_item.c.setl_id, clr_item.c.setlym)
            .join(clr_appy, clr_appy.c.clr_appy_evt_id == clr_item.c.clr_appy_evt_id)
            .where(
                clr_item.c.setl_id.in_(chunk),
                clr_item.c.item_kind == "setl",
                clr_item.c.setlym < before,
                clr_appy.c.stas.in_(("accepted", "approved")),
            )
        ):
            out[r.setl_id] = r.setlym
    return out


# ---------------------------------------------------------------------------------------------
# set-based reads and writes: a month of a large hospital is 10^5 rows, and acceptance runs in
# the writer, so the rows are summed and copied by the database, not fetched into Python
# ---------------------------------------------------------------------------------------------


def scope(*, fixmedins_code: str, clr_optins: str, clr_type: str, begin: date, end: date) -> Scope:
    """The 3201 rule with reversals included, over one clearing key and period."""
    return Scope(
        fixmedins_code=fixmedins_code,
        setl_optins=clr_optins,
        begin=begin,
        end=end,
        include_reversals=True,
        clr_type=clr_type,
    )


def month_figures(conn: Connection, where: Scope) -> dict[str, Any]:
    """Count and sums of the counted rows (what the claim is compared with)."""
    row = conn.execute(
        select(
            func.count().label("rvw_setl_cnt"),
            *(
                func.coalesce(func.sum(setl.c[col]), 0, type_=Money()).label(name)
                for name, col in (
                    ("rvw_medfee_sumamt", "medfee_sumamt"),
                    ("rvw_fund_pay_sumamt", "fund_pay_sumamt"),
                    ("rvw_acct_pay", "acct_pay"),
                    ("rvw_cash_payamt", "psn_cash_pay"),
                )
            ),
        ).where(*where.where())
    ).one()
    return {k: (int(v) if k == "rvw_setl_cnt" else Decimal(v)) for k, v in row._mapping.items()}


def _pooled_funds() -> Any:
    """The fund rows that are not the personal account (that one is `setl.acct_pay`)."""
    return setl_fund.c.fund_pay_type != "310200"


def fund_sums(conn: Connection, where: Scope) -> dict[str, Decimal]:
    """Per fund over the counted rows: setldetail rows except 310200, and 310200 = Σ acct_pay
    (the remainders of `remainders` are not included)."""
    out = {
        r.fund_pay_type: r.amount
        for r in conn.execute(
            select(
                setl_fund.c.fund_pay_type,
                func.sum(setl_fund.c.fund_payamt, type_=Money()).label("amount"),
            )
            .select_from(setl_fund.join(setl, setl.c.setl_id == setl_fund.c.setl_id))
            .where(*where.where(), _pooled_funds())
            .group_by(setl_fund.c.fund_pay_type)
        )
    }
    acct = conn.execute(
        select(func.coalesce(func.sum(setl.c.acct_pay), 0, type_=Money())).where(*where.where())
    ).scalar_one()
    if acct:
        out["310200"] = Decimal(acct)
    return {k: v for k, v in out.items() if v}


def remainders(conn: Connection, where: Scope) -> list[tuple[str, Decimal]]:
    """(setl_id, fund_pay_sumamt − Σ its non-account fund rows) where that is not zero: the
    part of a settlement's fund payment its setldetail does not name (put on 999997)."""
    named = (
        select(func.coalesce(func.sum(setl_fund.c.fund_payamt), 0))
        .where(setl_fund.c.setl_id == setl.c.setl_id, _pooled_funds())
        .scalar_subquery()
    )
    rest = type_coerce(setl.c.fund_pay_sumamt - named, Money())
    return [
        (r.setl_id, r.rest)
        for r in conn.execute(
            select(setl.c.setl_id, rest.label("rest")).where(*where.where(), rest != 0)
        )
    ]


def reversal_rows(conn: Connection, where: Scope) -> list[dict[str, Any]]:
    """The counted reversal records (few: their originals may belong to a cleared month)."""
    return [
        dict(r)
        for r in conn.execute(
            select(
                setl.c.setl_id,
                setl.c.init_setl_id,
                setl.c.fund_pay_sumamt,
                setl.c.acct_pay,
            ).where(*where.where(), setl.c.refd_setl_flag == "1")
        ).mappings()
    ]


def freeze_items(conn: Connection, where: Scope, *, clr_appy_evt_id: str, setlym: str) -> None:
    """Copy the counted rows' fund amounts into `clr_item` ('setl' items), in the database."""
    cols = ["clr_appy_evt_id", "setl_id", "item_kind", "fund_pay_type", "setlym", "fund_payamt"]
    pooled = (
        select(
            literal(clr_appy_evt_id, String()),
            setl_fund.c.setl_id,
            literal("setl", String()),
            setl_fund.c.fund_pay_type,
            literal(setlym, String()),
            setl_fund.c.fund_payamt,
        )
        .select_from(setl_fund.join(setl, setl.c.setl_id == setl_fund.c.setl_id))
        .where(*where.where(), _pooled_funds(), setl_fund.c.fund_payamt != 0)
    )
    conn.execute(insert(clr_item).from_select(cols, pooled))
    account = select(
        literal(clr_appy_evt_id, String()),
        setl.c.setl_id,
        literal("setl", String()),
        literal("310200", String()),
        literal(setlym, String()),
        setl.c.acct_pay,
    ).where(*where.where(), setl.c.acct_pay != 0)
    conn.execute(insert(clr_item).from_select(cols, account))


def add_to_item(conn: Connection, row: Mapping[str, Any]) -> None:
    """Insert an item, or add its amount to the same (application, setl, kind, fund) item."""
    key = [
        clr_item.c.clr_appy_evt_id == row["clr_appy_evt_id"],
        clr_item.c.setl_id == row["setl_id"],
        clr_item.c.item_kind == row["item_kind"],
        clr_item.c.fund_pay_type == row["fund_pay_type"],
    ]
    found = conn.execute(select(clr_item.c.fund_payamt).where(*key)).first()
    if found is None:
        conn.execute(insert(clr_item).values(**row))
    else:
        conn.execute(update(clr_item).where(*key).values(fund_payamt=found[0] + row["fund_payamt"]))


def mark_adjust_of(
    conn: Connection, *, clr_appy_evt_id: str, setl_ids: Sequence[str], month: str
) -> None:
    for i in range(0, len(setl_ids), _CHUNK):
        conn.execute(
            update(clr_item)
            .where(
                clr_item.c.clr_appy_evt_id == clr_appy_evt_id,
                clr_item.c.setl_id.in_(list(setl_ids[i : i + _CHUNK])),
            )
            .values(adjust_of=month)
        )


def item_totals(conn: Connection, clr_appy_evt_id: str) -> list[tuple[str, bool, Decimal]]:
    """(fund_pay_type, is_adjustment, Σ amount) of an application's frozen items."""
    is_adjust = clr_item.c.adjust_of.is_not(None)
    return [
        (r.fund_pay_type, bool(r.is_adjust), r.amount)
        for r in conn.execute(
            select(
                clr_item.c.fund_pay_type,
                is_adjust.label("is_adjust"),
                func.sum(clr_item.c.fund_payamt, type_=Money()).label("amount"),
            )
            .where(clr_item.c.clr_appy_evt_id == clr_appy_evt_id)
            .group_by(clr_item.c.fund_pay_type, is_adjust)
        )
    ]
