"""Fee lines (`fee_detail`): the lines of a visit, those still to settle, and the writes of
upload, cancellation, settlement (linking a line to its `setl_id`) and reversal (giving it
back)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, select, update

from yibao.settlement.repo.rows import Row, every
from yibao.storage.prepared import Prepared, PreparedInsert
from yibao.storage.tables import fee_detail

_EXISTING_COLUMNS = (
    fee_detail.c.feedetl_sn,
    fee_detail.c.vali_flag,
    fee_detail.c.setl_id,
    fee_detail.c.det_item_fee_sumamt,
    fee_detail.c.cnt,
)
_UNSETTLED = [
    fee_detail.c.mdtrt_id == bindparam("mdtrt_id"),
    fee_detail.c.vali_flag == "1",
    fee_detail.c.setl_id.is_(None),
]
#: the columns a settlement reads of its lines (fees.fee_in_from_row, fees.fee_structure,
#: ledger.check_total, ledger.write_settlement and the replica's `fee` payload,
#: `replica.rows.fee_payload`): a third of fee_detail
_TO_SETTLE_COLUMNS = [
    fee_detail.c[name]
    for name in (
        "feedetl_sn",
        "med_list_codg",
        "hilist_name",
        "list_type",
        "chrgitm_lv",
        "med_chrgitm_type",
        "selfpay_prop",
        "pric_uplmt_amt",
        "det_item_fee_sumamt",
        "cnt",
        "pric",
        "hosp_appr_flag",
        "memo",
        "flags",
        "fee_ocur_time",
        "prd_days",
    )
]
_P_UNSETTLED_ALL = Prepared(select(fee_detail).where(*_UNSETTLED).order_by(fee_detail.c.feedetl_sn))
_P_UNSETTLED_BATCH = Prepared(
    select(fee_detail)
    .where(*_UNSETTLED, fee_detail.c.chrg_bchno == bindparam("chrg_bchno"))
    .order_by(fee_detail.c.feedetl_sn)
)
_P_TO_SETTLE_ALL = Prepared(
    select(*_TO_SETTLE_COLUMNS).where(*_UNSETTLED).order_by(fee_detail.c.feedetl_sn)
)
_P_TO_SETTLE_BATCH = Prepared(
    select(*_TO_SETTLE_COLUMNS)
    .where(*_UNSETTLED, fee_detail.c.chrg_bchno == bindparam("chrg_bchno"))
    .order_by(fee_detail.c.feedetl_sn)
)
_P_INSERT_LINES = PreparedInsert(fee_detail)
#: existing_lines by the number of serial numbers asked (an IN list of that many binds)
_P_EXISTING: dict[int, Prepared] = {}
#: linking the settled lines, by the number of lines (an IN list of that many binds)
_P_LINK: dict[int, Prepared] = {}


def _existing_stmt(count: int) -> Prepared:
    prepared = _P_EXISTING.get(count)
    if prepared is None:
        stmt = select(*_EXISTING_COLUMNS).where(
            fee_detail.c.mdtrt_id == bindparam("mdtrt_id"),
            fee_detail.c.feedetl_sn.in_([bindparam(f"sn{i}") for i in range(count)]),
        )
        prepared = Prepared(stmt)
        if count <= 64:
            _P_EXISTING[count] = prepared
    return prepared


def _link_stmt(count: int) -> Prepared:
    prepared = _P_LINK.get(count)
    if prepared is None:
        prepared = Prepared(
            update(fee_detail)
            .where(
                fee_detail.c.mdtrt_id == bindparam("b_mdtrt_id"),
                fee_detail.c.feedetl_sn.in_([bindparam(f"b_sn{i}") for i in range(count)]),
                fee_detail.c.setl_id.is_(None),
            )
            .values(setl_id=bindparam("b_setl_id"))
        )
        if count <= 256:
            _P_LINK[count] = prepared
    return prepared


def existing_lines(conn: Connection, mdtrt_id: str, sns: Iterable[str]) -> dict[str, Row]:
    wanted = list(sns)
    if not wanted:
        return {}
    params: dict[str, Any] = {f"sn{i}": sn for i, sn in enumerate(wanted)}
    params["mdtrt_id"] = mdtrt_id
    return {r["feedetl_sn"]: r for r in _existing_stmt(len(wanted)).all(conn, params)}


def unsettled_lines(conn: Connection, mdtrt_id: str, *, chrg_bchno: str | None = None) -> list[Row]:
    """Valid, unsettled fee lines of a visit (of one charge batch when given)."""
    if chrg_bchno is None:
        return _P_UNSETTLED_ALL.all(conn, {"mdtrt_id": mdtrt_id})  # type: ignore[return-value]
    return _P_UNSETTLED_BATCH.all(  # type: ignore[return-value]
        conn, {"mdtrt_id": mdtrt_id, "chrg_bchno": chrg_bchno}
    )


def lines_to_settle(conn: Connection, mdtrt_id: str, *, chrg_bchno: str | None = None) -> list[Row]:
    """`unsettled_lines` with only the columns a settlement reads (see _TO_SETTLE_COLUMNS)."""
    if chrg_bchno is None:
        return _P_TO_SETTLE_ALL.all(conn, {"mdtrt_id": mdtrt_id})  # type: ignore[return-value]
    return _P_TO_SETTLE_BATCH.all(  # type: ignore[return-value]
        conn, {"mdtrt_id": mdtrt_id, "chrg_bchno": chrg_bchno}
    )


#: the columns the review reads of a stored line (review_steps._stored; every one is also in
#: `_TO_SETTLE_COLUMNS`, so a settlement's own rows serve the review too, and in
#: `every_line_of_visit`'s, with those `existing_lines` reads)
REVIEW_LINE_COLUMNS = (
    "feedetl_sn",
    "med_list_codg",
    "hilist_name",
    "list_type",
    "cnt",
    "pric",
    "det_item_fee_sumamt",
    "fee_ocur_time",
    "prd_days",
    "hosp_appr_flag",
)
_VISIT_VALID = (fee_detail.c.mdtrt_id == bindparam("mdtrt_id"), fee_detail.c.vali_flag == "1")
#: every valid line of a visit with the columns a settlement reads, whether settled and of
#: which charge batch: one read serves a (pre-)settlement and its review
_P_VISIT_TO_SETTLE = Prepared(
    select(*_TO_SETTLE_COLUMNS, fee_detail.c.setl_id, fee_detail.c.chrg_bchno)
    .where(*_VISIT_VALID)
    .order_by(fee_detail.c.feedetl_sn)
)


#: every line of a visit, cancelled ones too, with the review's columns and `vali_flag`
_P_VISIT_FOR_UPLOAD = Prepared(
    select(
        *(fee_detail.c[name] for name in REVIEW_LINE_COLUMNS),
        fee_detail.c.setl_id,
        fee_detail.c.vali_flag,
    )
    .where(fee_detail.c.mdtrt_id == bindparam("mdtrt_id"))
    .order_by(fee_detail.c.feedetl_sn)
)


def every_line_of_visit(conn: Connection, mdtrt_id: str) -> list[Row]:
    """Every line of the visit, cancelled too, with `existing_lines`' columns and the
    review's: a fee upload with review on checks its serial numbers against these and shows
    the rules the valid ones (one read for both)."""
    return _P_VISIT_FOR_UPLOAD.all(conn, {"mdtrt_id": mdtrt_id})  # type: ignore[return-value]


def visit_lines_to_settle(conn: Connection, mdtrt_id: str) -> list[Row]:
    """The visit's valid lines, settled or not, with `lines_to_settle`'s columns and
    `setl_id`, `chrg_bchno`: a settlement with review on takes its lines from these and shows
    the rules the rest (`lines_to_settle` reads only the unsettled)."""
    return _P_VISIT_TO_SETTLE.all(conn, {"mdtrt_id": mdtrt_id})  # type: ignore[return-value]


def lines_of_visit(conn: Connection, mdtrt_id: str) -> list[Row]:
    return every(
        conn.execute(
            select(fee_detail)
            .where(fee_detail.c.mdtrt_id == mdtrt_id)
            .order_by(fee_detail.c.feedetl_sn)
        ).mappings()
    )


def settled_lines(conn: Connection, mdtrt_id: str, setl_id: str) -> list[Row]:
    """The lines settlement `setl_id` settled (the columns `lines_to_settle` reads)."""
    return every(
        conn.execute(
            select(*_TO_SETTLE_COLUMNS)
            .where(fee_detail.c.mdtrt_id == mdtrt_id, fee_detail.c.setl_id == setl_id)
            .order_by(fee_detail.c.feedetl_sn)
        ).mappings()
    )


def line_states(conn: Connection, mdtrt_id: str, sns: Sequence[str]) -> list[Row]:
    """feedetl_sn, vali_flag and setl_id of the named lines of a visit."""
    return every(
        conn.execute(
            select(fee_detail.c.feedetl_sn, fee_detail.c.vali_flag, fee_detail.c.setl_id).where(
                fee_detail.c.mdtrt_id == mdtrt_id,
                fee_detail.c.feedetl_sn.in_(sns),
            )
        ).mappings()
    )


def has_valid_lines(conn: Connection, mdtrt_id: str) -> bool:
    return (
        conn.execute(
            select(fee_detail.c.feedetl_sn)
            .where(fee_detail.c.mdtrt_id == mdtrt_id, fee_detail.c.vali_flag == "1")
            .limit(1)
        ).first()
        is not None
    )


def insert_lines(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    _P_INSERT_LINES.executemany(conn, rows)


def overwrite_line(conn: Connection, row: dict[str, Any]) -> None:
    """Overwrite the (cancelled) line with the same mdtrt_id and feedetl_sn."""
    conn.execute(
        update(fee_detail)
        .where(
            fee_detail.c.mdtrt_id == row["mdtrt_id"],
            fee_detail.c.feedetl_sn == row["feedetl_sn"],
        )
        .values(**row)
    )


def cancel_lines(conn: Connection, mdtrt_id: str, sns: Sequence[str] | None, at: datetime) -> int:
    """Mark unsettled lines invalid (all of the visit's when `sns` is None)."""
    cond = [
        fee_detail.c.mdtrt_id == mdtrt_id,
        fee_detail.c.vali_flag == "1",
        fee_detail.c.setl_id.is_(None),
    ]
    if sns is not None:
        cond.append(fee_detail.c.feedetl_sn.in_(list(sns)))
    result = conn.execute(
        update(fee_detail).where(and_(*cond)).values(vali_flag="0", cancelled_at=at)
    )
    return int(result.rowcount or 0)


def link_lines(conn: Connection, mdtrt_id: str, sns: Sequence[str], setl_id: str) -> None:
    """Mark the visit's unsettled lines `sns` as settled by `setl_id` (the settlement read them
    under its lock on the person's insurance: on the MySQL protocol the UPDATE goes with the
    transaction's next round trip, `storage.deferred`)."""
    params: dict[str, Any] = {f"b_sn{i}": sn for i, sn in enumerate(sns)}
    params["b_mdtrt_id"] = mdtrt_id
    params["b_setl_id"] = setl_id
    _link_stmt(len(sns)).later(conn, [params])


def unlink_lines(conn: Connection, mdtrt_id: str, setl_id: str) -> None:
    """Give the lines of settlement `setl_id` back (unsettled again)."""
    conn.execute(
        update(fee_detail)
        .where(  # the visit's lines (the primary key), then the settlement's among them
            fee_detail.c.mdtrt_id == mdtrt_id,
            fee_detail.c.setl_id == setl_id,
        )
        .values(setl_id=None)
    )


def relink_lines(conn: Connection, mdtrt_id: str, sns: Sequence[str], setl_id: str) -> None:
    """Link the named lines of a visit to `setl_id` again (2601 of a reversal)."""
    conn.execute(
        update(fee_detail)
        .where(fee_detail.c.mdtrt_id == mdtrt_id, fee_detail.c.feedetl_sn.in_(sns))
        .values(setl_id=setl_id)
    )
