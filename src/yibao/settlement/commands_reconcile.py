"""What the reconciliation and file transactions ask (3201, 3202, 9101, 9102), parsed from the
envelope's `input` by their handlers (`yibao.interface.transactions.reconcile` and `.files`).
Field names are the national interface's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class StatementPeriod:
    """The settlements a statement covers, as the institution names them."""

    setl_optins: str
    stmt_begndate: date
    stmt_enddate: date
    #: refd_setl_flag "1", empty or absent: reversals included; "0": excluded
    include_reversals: bool
    insutype: str | None = None
    clr_type: str | None = None


@dataclass(frozen=True, slots=True)
class TotalsStatement:
    """3201 医药机构费用结算对总账: the institution's sums over the period."""

    period: StatementPeriod
    medfee_sumamt: Decimal
    fund_pay_sumamt: Decimal
    acct_pay: Decimal
    fixmedins_setl_cnt: int


@dataclass(frozen=True, slots=True)
class DetailStatement:
    """3202 医药机构费用结算对明细账: the institution's rows, in a file uploaded with 9101."""

    period: StatementPeriod
    file_qury_no: str


@dataclass(frozen=True, slots=True)
class FileUpload:
    """9101 文件上传."""

    #: the institution the client names (must be the caller's own)
    fixmedins_code: str
    filename: str
    content: bytes


@dataclass(frozen=True, slots=True)
class FileDownload:
    """9102 文件下载."""

    #: the institution the client names (must be the caller's own)
    fixmedins_code: str
    file_qury_no: str
    #: when given (other than the placeholder "plc"), must be the file's own name
    filename: str | None
