"""What 5265 结算单信息查询 asks, parsed from the envelope's `input` by its handler
(`yibao.interface.transactions.statement`). Field names are the national interface's."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class StatementQuery:
    """5265: the statement of one settlement (`setl_id`) of the calling institution. `psn_no`
    and `mdtrt_id`, when sent, must match the settlement (a HIS that sends the wrong person's
    number is told so rather than handed another person's statement)."""

    setl_id: str
    psn_no: str | None = None
    mdtrt_id: str | None = None
