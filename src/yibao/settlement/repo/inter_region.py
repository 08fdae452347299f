"""异地就医 inter-region clearing SQL: a month's settlements and reversals summed by the pair
(clearing institution's district `clr_optins`, insured region `insuplc_admdvs`) — by fund from
`setl_fund`, and as bill totals from `setl`. Reversal records carry negated amounts in the
month they were written, so a plain sum is settlements − reversals."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, case, func, select

from yibao.storage.tables import setl, setl_fund
from yibao.storage.types import Money


def _money(column: Any) -> Any:
    return func.coalesce(func.sum(column), 0, type_=Money())


def _window(start: datetime, end: datetime) -> list[Any]:
    return [setl.c.setl_time >= start, setl.c.setl_time < end]


def fund_sums(conn: Connection, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """(clr_optins, insuplc_admdvs, refd_setl_flag, fund_pay_type) → Σ fund_payamt."""
    q = (
        select(
            setl.c.clr_optins,
            setl.c.insuplc_admdvs,
            setl.c.refd_setl_flag,
            setl_fund.c.fund_pay_type,
            _money(setl_fund.c.fund_payamt).label("amount"),
        )
        .select_from(setl.join(setl_fund, setl_fund.c.setl_id == setl.c.setl_id))
        .where(*_window(start, end))
        .group_by(
            setl.c.clr_optins,
            setl.c.insuplc_admdvs,
            setl.c.refd_setl_flag,
            setl_fund.c.fund_pay_type,
        )
    )
    return [dict(r) for r in conn.execute(q).mappings()]


def bill_sums(conn: Connection, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """(clr_optins, insuplc_admdvs) → settlement and reversal counts, Σ medfee_sumamt,
    Σ fund_pay_sumamt, Σ acct_pay."""
    q = (
        select(
            setl.c.clr_optins,
            setl.c.insuplc_admdvs,
            func.sum(case((setl.c.refd_setl_flag == "0", 1), else_=0)).label("setl_cnt"),
            func.sum(case((setl.c.refd_setl_flag == "1", 1), else_=0)).label("revs_cnt"),
            _money(setl.c.medfee_sumamt).label("medfee_sumamt"),
            _money(setl.c.fund_pay_sumamt).label("fund_pay_sumamt"),
            _money(setl.c.acct_pay).label("acct_pay"),
        )
        .where(*_window(start, end))
        .group_by(setl.c.clr_optins, setl.c.insuplc_admdvs)
    )
    return [dict(r) for r in conn.execute(q).mappings()]
