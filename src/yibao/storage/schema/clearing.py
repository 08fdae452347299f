"""Clearing (清算): the institutions' applications (3203/3204), what the agency counted for each,
its deductions, the payment orders (拨付单) and every state change. docs/clearing.md explains it.

Nothing here is rewritten: a step adds an event row, an order's money never changes after it is
issued, and a settlement that changes after its month was cleared is counted again as an
adjustment line of a later application (`clr_item.item_kind` 'adjust'), never by editing the
month that was paid.
"""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
)

from yibao.storage.schema.base import CODE, ID, audit_cols, metadata
from yibao.storage.types import Money, Ratio

#: 清算申请 (3203): the institution's claim for one month and clearing type
clr_appy = Table(
    "clr_appy",
    metadata,
    #: 机构清算申请事件ID (what 3203 answers, 3204 names), a `kit.ids` id as text
    Column("clr_appy_evt_id", String(ID), primary_key=True),
    Column("fixmedins_code", String(ID), ForeignKey("fixmedins.fixmedins_code"), nullable=False),
    #: 清算机构: the region whose fund pays (the institution's admdvs, as on its settlements)
    Column("clr_optins", String(CODE), nullable=False),
    #: 清算年月 yyyyMM
    Column("setlym", String(6), nullable=False),
    Column("clr_type", String(CODE), nullable=False),
    Column("clr_way", String(CODE), nullable=False),
    Column("begndate", Date, nullable=False),
    Column("enddate", Date, nullable=False),
    # what the institution claims (3203 input)
    Column("psntime", Integer, nullable=False),
    Column("medfee_sumamt", Money(), nullable=False),
    Column("med_sumfee", Money(), nullable=False),
    Column("fund_appy_sum", Money(), nullable=False),
    Column("cash_payamt", Money(), nullable=False),
    Column("acct_pay", Money(), nullable=False),
    #: submitted | withdrawn | accepted | approved | rejected
    Column("stas", String(12), nullable=False),
    #: "fixmedins_code|clr_optins|setlym|clr_type" while the application is live (submitted,
    #: accepted, approved); NULL once withdrawn or rejected. Unique: a month is cleared once.
    Column("live_key", String(60), nullable=True),
    # what the agency counted at review (its own records), NULL before
    Column("rvw_setl_cnt", Integer, nullable=True),
    Column("rvw_medfee_sumamt", Money(), nullable=True),
    Column("rvw_fund_pay_sumamt", Money(), nullable=True),
    Column("rvw_acct_pay", Money(), nullable=True),
    Column("rvw_cash_payamt", Money(), nullable=True),
    #: adjustments of earlier cleared months carried into this application
    Column("rvw_adjust_amt", Money(), nullable=True),
    #: when the agency accepted it (its count was frozen then): settlement rows of the month
    #: changed after this are the only ones a later application needs to look at again
    Column("accepted_at", DateTime, nullable=True),
    #: the quality-deposit rate in force at approval (policy parameter)
    Column("deposit_rate", Ratio(), nullable=True),
    Column("msgid", String(ID), nullable=False),
    Column("opter", String(ID), nullable=True),
    Column("opter_name", String(50), nullable=True),
    *audit_cols(),
    UniqueConstraint("live_key", name="live_key"),
    CheckConstraint(
        "stas IN ('submitted', 'withdrawn', 'accepted', 'approved', 'rejected')", name="stas"
    ),
)
Index(None, clr_appy.c.fixmedins_code, clr_appy.c.setlym)
Index(None, clr_appy.c.setlym, clr_appy.c.stas)

#: what the agency counted for an application, per settlement row and fund (frozen at review)
clr_item = Table(
    "clr_item",
    metadata,
    Column("clr_appy_evt_id", String(ID), ForeignKey("clr_appy.clr_appy_evt_id"), primary_key=True),
    Column("setl_id", String(ID), primary_key=True),
    #: 'setl' counted in its own month · 'adjust' a change to a month cleared earlier
    Column("item_kind", String(8), primary_key=True),
    Column("fund_pay_type", String(CODE), primary_key=True),
    #: the month the settlement row belongs to (its setl_time), yyyyMM
    Column("setlym", String(6), nullable=False),
    #: the earlier cleared month this row changes (NULL: an ordinary row of the month): set on
    #: 'adjust' rows and on reversal records of settlements cleared in an earlier month
    Column("adjust_of", String(6), nullable=True),
    Column("fund_payamt", Money(), nullable=False),
    CheckConstraint("item_kind IN ('setl', 'adjust')", name="item_kind"),
)
Index(None, clr_item.c.setl_id)

#: 扣款 / 追回: money the agency keeps back from an application, with the reason
clr_deduction = Table(
    "clr_deduction",
    metadata,
    Column("deduction_id", String(ID), primary_key=True),
    Column("clr_appy_evt_id", String(ID), ForeignKey("clr_appy.clr_appy_evt_id"), nullable=False),
    Column("fund_pay_type", String(CODE), nullable=False),
    Column("amount", Money(), nullable=False),
    #: 'deduct' (扣款) or 'recover' (追回)
    Column("kind", String(8), nullable=False),
    #: 'manual' (the agency's staff) or 'case' (a decided case; `case_id` names it)
    Column("source", String(8), nullable=False),
    Column("case_id", String(ID), nullable=True),
    Column("reason", String(500), nullable=False),
    Column("actor", String(50), nullable=False),
    Column("created_at", DateTime, nullable=False),
    CheckConstraint("kind IN ('deduct', 'recover')", name="kind"),
    CheckConstraint("source IN ('manual', 'case')", name="source"),
)
Index(None, clr_deduction.c.clr_appy_evt_id)

#: 拨付单: what the fund pays one institution for one application, per fund
clr_order = Table(
    "clr_order",
    metadata,
    Column("clr_order_id", String(ID), primary_key=True),
    Column("clr_appy_evt_id", String(ID), ForeignKey("clr_appy.clr_appy_evt_id"), nullable=False),
    Column("fixmedins_code", String(ID), nullable=False),
    Column("clr_optins", String(CODE), nullable=False),
    Column("setlym", String(6), nullable=False),
    Column("clr_type", String(CODE), nullable=False),
    Column("fund_pay_type", String(CODE), nullable=False),
    #: Σ of the month's settlement rows of this fund
    Column("setl_amt", Money(), nullable=False),
    #: Σ of the adjustments to earlier cleared months
    Column("adjust_amt", Money(), nullable=False),
    Column("deduct_amt", Money(), nullable=False),
    #: 质量保证金 withheld
    Column("deposit_amt", Money(), nullable=False),
    #: amount due = setl_amt + adjust_amt − deduct_amt − deposit_amt
    Column("payable_amt", Money(), nullable=False),
    #: issued | paid
    Column("stas", String(8), nullable=False),
    Column("issued_by", String(50), nullable=False),
    Column("issued_at", DateTime, nullable=False),
    Column("paid_by", String(50), nullable=True),
    Column("paid_at", DateTime, nullable=True),
    #: the treasury's payment reference (国库/银行 凭证号)
    Column("pay_ref", String(100), nullable=True),
    #: the withheld deposit: held | released | forfeited (annual assessment 年度考核)
    Column("deposit_stas", String(10), nullable=False),
    Column("deposit_by", String(50), nullable=True),
    Column("deposit_at", DateTime, nullable=True),
    Column("deposit_reason", String(500), nullable=True),
    *audit_cols(),
    UniqueConstraint("clr_appy_evt_id", "fund_pay_type", name="appy_fund"),
    CheckConstraint("stas IN ('issued', 'paid')", name="stas"),
    CheckConstraint("deposit_stas IN ('held', 'released', 'forfeited')", name="deposit_stas"),
)
Index(None, clr_order.c.fixmedins_code, clr_order.c.setlym)
Index(None, clr_order.c.setlym, clr_order.c.stas)

#: every step of an application or an order: who, when, why (never updated)
clr_event = Table(
    "clr_event",
    metadata,
    Column("event_id", String(ID), primary_key=True),
    Column("clr_appy_evt_id", String(ID), ForeignKey("clr_appy.clr_appy_evt_id"), nullable=False),
    #: the step's number within its application (1, 2, …): the order of the history
    Column("seq", Integer, nullable=False),
    Column("clr_order_id", String(ID), nullable=True),
    #: submit, withdraw, accept, reject, approve, issue, deduct, recover, pay, release, forfeit
    Column("action", String(12), nullable=False),
    Column("from_stas", String(12), nullable=True),
    Column("to_stas", String(12), nullable=True),
    Column("actor", String(50), nullable=False),
    Column("reason", String(500), nullable=True),
    Column("at", DateTime, nullable=False),
)
Index(None, clr_event.c.clr_appy_evt_id, clr_event.c.seq, unique=True)
