"""对账 reads: which of an institution's settlements a statement covers, their sums and their
rows. The rule of which settlements count is `settlement.reconcile`'s module docstring."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, exists, func, or_, select

from yibao.kit.money import ZERO
from yibao.storage.tables import setl
from yibao.storage.types import Money

#: the amounts a statement compares, by their national field names
AMOUNTS = ("medfee_sumamt", "fund_pay_sumamt", "acct_pay")


@dataclass(frozen=True, slots=True)
class Scope:
    """The settlements a statement covers: the institution's own (`fixmedins_code` is the
    tenant scope), cleared by `setl_optins`, settled from `begin` 00:00:00 through `end`
    23:59:59, of `insutype` / `clr_type` when given."""

    fixmedins_code: str
    setl_optins: str
    begin: date
    end: date
    include_reversals: bool
    insutype: str | None = None
    clr_type: str | None = None

    def where(self) -> list[ColumnElement[bool]]:
        conds: list[ColumnElement[bool]] = [
            setl.c.fixmedins_code == self.fixmedins_code,
            setl.c.clr_optins == self.setl_optins,
            setl.c.setl_time >= datetime.combine(self.begin, time.min),
            setl.c.setl_time < datetime.combine(self.end + timedelta(days=1), time.min),
        ]
        if self.insutype:
            conds.append(setl.c.insutype == self.insutype)
        if self.clr_type:
            conds.append(setl.c.clr_type == self.clr_type)
        if not self.include_reversals:
            conds += [setl.c.refd_setl_flag == "0", setl.c.vali_flag == "1"]
            return conds
        reversal = setl.alias("reversal")
        reversed_by_record = exists(
            select(reversal.c.setl_id).where(
                reversal.c.init_setl_id == setl.c.setl_id,
                reversal.c.refd_setl_flag == "1",
                reversal.c.vali_flag == "1",
            )
        )
        conds.append(
            or_(
                and_(setl.c.refd_setl_flag == "1", setl.c.vali_flag == "1"),
                and_(
                    setl.c.refd_setl_flag == "0",
                    or_(setl.c.vali_flag == "1", reversed_by_record),
                ),
            )
        )
        return conds


def totals(conn: Connection, scope: Scope) -> dict[str, Decimal | int]:
    """The platform's sums and count over `scope`."""
    row = conn.execute(
        select(
            *(
                func.coalesce(func.sum(setl.c[name]), 0, type_=Money()).label(name)
                for name in AMOUNTS
            ),
            func.count().label("fixmedins_setl_cnt"),
        ).where(*scope.where())
    ).one()
    return {
        "medfee_sumamt": row.medfee_sumamt or ZERO,
        "fund_pay_sumamt": row.fund_pay_sumamt or ZERO,
        "acct_pay": row.acct_pay or ZERO,
        "fixmedins_setl_cnt": int(row.fixmedins_setl_cnt),
    }


def detail_rows(conn: Connection, scope: Scope) -> list[Mapping[str, Any]]:
    """The centre's rows of a detail statement, in settlement order."""
    return [
        dict(r)
        for r in conn.execute(
            select(
                setl.c.setl_id,
                setl.c.mdtrt_id,
                setl.c.psn_no,
                setl.c.medfee_sumamt,
                setl.c.fund_pay_sumamt,
                setl.c.acct_pay,
                setl.c.refd_setl_flag,
                setl.c.medins_setl_id,
            )
            .where(*scope.where())
            .order_by(setl.c.setl_time, setl.c.setl_id)
        ).mappings()
    ]
