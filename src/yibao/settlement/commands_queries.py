"""What the query transactions ask (5201, 5203, 5204), parsed from the envelope's `input` by
their handlers (`yibao.interface.transactions.queries`). Field names are the national
interface's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class VisitQuery:
    """5201 就诊信息查询: the person's visits at the calling institution."""

    psn_no: str
    mdtrt_id: str | None = None
    #: visits that began at or after `begntime` and at or before `endtime`
    begntime: datetime | None = None
    endtime: datetime | None = None
    med_type: str | None = None


@dataclass(frozen=True, slots=True)
class SettlementQuery:
    """5203 结算信息查询 and 5204 费用明细查询: one settlement (by `setl_id`) or one visit
    (by `mdtrt_id`; 5203 answers its latest settlement) of the person."""

    psn_no: str
    setl_id: str | None = None
    mdtrt_id: str | None = None
