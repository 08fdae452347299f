"""What the clearing transactions ask (3203, 3204), parsed from the envelope's `input` by
`yibao.interface.transactions.clearing`. Field names are the national interface's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class ApplyClearing:
    """3203 清算申请: the institution's claim for one month (`setlym`) and `clr_type`."""

    setlym: str
    psntime: int
    medfee_sumamt: Decimal
    #: 医保认可费用总额
    med_sumfee: Decimal
    #: 基金申报总额
    fund_appy_sum: Decimal
    cash_payamt: Decimal
    acct_pay: Decimal
    begndate: date
    enddate: date
    clr_type: str
    clr_way: str
    #: 清算机构 when the client sends it (must be the institution's own)
    clr_optins: str | None = None


@dataclass(frozen=True, slots=True)
class WithdrawClearing:
    """3204 清算申请撤销."""

    clr_appy_evt_id: str
    clr_optins: str | None = None
