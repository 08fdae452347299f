"""5265 结算单信息查询: the statement a patient is handed for one settlement — the settlement
in the 5203 shape (`setlinfo` with the amounts by fund, the person, the self-pay parts and the
account balance after it; `setldetail`), the visit (`mdtrtinfo`) and the fee structure by
收费项目类别 (`feeinfo`). The same data fills the printable page (`interface.print_statement`).

An institution sees only its own settlements: the read is scoped by `fixmedins_code`, and
another institution's `setl_id` is answered like a missing one. The agency (console) reads
any settlement (`fixmedins_code=None`).

The output nodes beyond 5203's (`mdtrtinfo`, `feeinfo`) are provisional: no public client
code for 5265 was found (docs/interface/statement.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection

from yibao.codes.dicts import MedChrgitmType
from yibao.errors import InvalidInput, NotFound
from yibao.kit.clock import fmt_datetime
from yibao.kit.money import round_fen
from yibao.settlement import queries, records
from yibao.settlement import repo as settlement_repo
from yibao.settlement.commands_queries import SettlementQuery
from yibao.settlement.commands_statement import StatementQuery
from yibao.settlement.repo import queries as queries_repo
from yibao.settlement.repo import statement as statement_repo
from yibao.settlement.repo.rows import Row

#: the amounts of a fee line summed per category; their sum per category adds back to
#: `det_item_fee_sumamt` (reference/domain.md §1.3)
LINE_PARTS = ("fulamt_ownpay_amt", "overlmt_amt", "preselfpay_amt", "inscp_scp_amt")
_SUMMED = ("det_item_fee_sumamt", *LINE_PARTS)
_ZERO = Decimal("0.00")
#: lines whose category is not recorded are shown under 14 其他费
_OTHER = MedChrgitmType.OTHER.value


def _settlement_row(conn: Connection, setl_id: str, *, fixmedins_code: str | None) -> Row:
    if fixmedins_code is not None:
        return settlement_repo.settlement(conn, fixmedins_code, setl_id)
    row = settlement_repo.settlement_by_id(conn, setl_id)
    if row is None:
        raise NotFound(
            f"data.setl_id: 结算记录不存在或不属于本机构 '{setl_id}' "
            "(no such settlement of this institution)"
        )
    return row


def fee_structure(
    lines: Iterable[Mapping[str, Any]], *, negate: bool = False
) -> list[dict[str, Any]]:
    """The settled lines summed by 医疗收费项目类别, in the code order. A reversal record's
    statement shows its original's lines negated, so the rows add up to its (negative)
    `medfee_sumamt` as an ordinary statement's do."""
    sums: dict[str, dict[str, Decimal]] = {}
    counts: dict[str, int] = {}
    for line in lines:
        code = line["med_chrgitm_type"] or _OTHER
        bucket = sums.setdefault(code, dict.fromkeys(_SUMMED, _ZERO))
        for name in _SUMMED:
            bucket[name] += line[name] or _ZERO
        counts[code] = counts.get(code, 0) + 1
    sign = Decimal(-1) if negate else Decimal(1)
    out = []
    for code in sorted(sums):
        known = MedChrgitmType.has(code)
        row: dict[str, Any] = {
            "med_chrgitm_type": code,
            "med_chrgitm_type_name": MedChrgitmType(code).label if known else None,
        }
        row.update({name: round_fen(sign * sums[code][name]) for name in _SUMMED})
        row["line_cnt"] = counts[code]
        out.append(row)
    return out


def _settled_lines(conn: Connection, row: Row) -> tuple[list[Row], bool]:
    """The fee lines this settlement settled, and whether to negate them (a reversal record
    lists its original's lines)."""
    source = row
    negate = False
    if row["refd_setl_flag"] == "1" and row["init_setl_id"]:
        original = settlement_repo.settlement_by_id(conn, row["init_setl_id"])
        if original is not None:
            source, negate = original, True
    sns = set(records.extra_of(source).get("feedetl_sns") or [])
    lines = queries_repo.lines_of_visit(
        conn, source["mdtrt_id"], fixmedins_code=source["fixmedins_code"]
    )
    # As 5204: the lines named in the settlement's `feedetl_sns`, else those linked to it.
    chosen: list[Row] = [
        r
        for r in lines
        if r["feedetl_sn"] in sns or (not sns and r["setl_id"] == source["setl_id"])
    ]
    return chosen, negate


def _visit_node(visit: Row | None) -> dict[str, Any] | None:
    if visit is None:
        return None
    return {
        "mdtrt_id": visit["mdtrt_id"],
        "ipt_otp_no": visit["ipt_otp_no"],
        "med_type": visit["med_type"],
        "begntime": fmt_datetime(visit["begntime"]),
        "endtime": fmt_datetime(visit["endtime"]),
        "dept_code": visit["dept_code"],
        "dept_name": visit["dept_name"],
        "atddr_no": visit["atddr_no"],
        "dr_name": visit["dr_name"],
        "dise_codg": visit["dise_codg"],
        "dise_name": visit["dise_name"],
        "maindiag_code": visit["maindiag_code"],
        "maindiag_name": visit["maindiag_name"],
    }


def statement_of(conn: Connection, setl_id: str, *, fixmedins_code: str | None) -> dict[str, Any]:
    """The statement of `setl_id`, seen by `fixmedins_code` (None: the agency, any)."""
    row = _settlement_row(conn, setl_id, fixmedins_code=fixmedins_code)
    owner = row["fixmedins_code"]
    inst = statement_repo.institution(conn, owner)
    out = queries.settlement(
        conn,
        SettlementQuery(psn_no=row["psn_no"], setl_id=setl_id),
        fixmedins_code=owner,
        fixmedins_name=inst["fixmedins_name"] if inst else owner,
    )
    lines, negate = _settled_lines(conn, row)
    visit = settlement_repo.visit(conn, owner, row["mdtrt_id"], None, open_only=False)
    out["mdtrtinfo"] = _visit_node(visit)
    out["feeinfo"] = fee_structure(lines, negate=negate)
    return out


def statement(conn: Connection, q: StatementQuery, *, fixmedins_code: str) -> dict[str, Any]:
    """5265: the statement of the caller's settlement `q.setl_id`."""
    out = statement_of(conn, q.setl_id, fixmedins_code=fixmedins_code)
    info = out["setlinfo"]
    if q.psn_no is not None and q.psn_no != info["psn_no"]:
        raise InvalidInput(
            f"data.psn_no: 与结算记录的人员编号不一致 '{q.psn_no}' "
            "(psn_no does not match the settlement)"
        )
    if q.mdtrt_id is not None and q.mdtrt_id != info["mdtrt_id"]:
        raise InvalidInput(
            f"data.mdtrt_id: 与结算记录的就诊ID不一致 '{q.mdtrt_id}' "
            "(mdtrt_id does not match the settlement)"
        )
    return out
