"""Visits (`mdtrt`) and their diagnoses (`diag`).

Tenant rule: a lookup by a business id an institution sends (mdtrt_id, the msgid of its own
message) takes the institution's code and answers another institution's record exactly like a
missing one, so ids cannot be probed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, bindparam, or_, select, update

from yibao.errors import Conflict, InvalidInput, NotFound
from yibao.replica import rows as replica_rows
from yibao.settlement.repo.rows import Row, first
from yibao.storage import changelog, row_cache
from yibao.storage.prepared import Prepared, PreparedInsert, PreparedUpdate
from yibao.storage.tables import diag, mdtrt

#: mdtrt.mdtrt_kind
OUTPATIENT = "outpatient"
INPATIENT = "inpatient"
PHARMACY = "pharmacy"

#: mdtrt.mdtrt_stas
REGISTERED = "registered"
ADMITTED = "admitted"
DISCHARGED = "discharged"
SETTLED = "settled"
CANCELLED = "cancelled"

_KIND_LABEL = {OUTPATIENT: "门诊", INPATIENT: "住院", PHARMACY: "药店购药"}

_P_VISIT = Prepared(select(mdtrt).where(mdtrt.c.mdtrt_id == bindparam("mdtrt_id")))
_P_INSERT_VISIT = PreparedInsert(mdtrt)
_P_UPDATE_VISIT = PreparedUpdate(mdtrt, "mdtrt_id")
_P_INSERT_DIAG = PreparedInsert(diag)
_P_DIAG_NUMBERS = Prepared(
    select(diag.c.diag_srt_no).where(
        diag.c.mdtrt_id == bindparam("mdtrt_id"), diag.c.stage == bindparam("stage")
    )
)
_P_OPEN_ADMISSION = Prepared(
    select(mdtrt.c.mdtrt_id, mdtrt.c.fixmedins_code).where(
        mdtrt.c.psn_no == bindparam("psn_no"),
        mdtrt.c.mdtrt_kind == INPATIENT,
        # the two states spelled out: a prepared statement takes no IN list
        or_(mdtrt.c.mdtrt_stas == ADMITTED, mdtrt.c.mdtrt_stas == DISCHARGED),
    )
)
_P_DIAG_CODES = Prepared(
    select(diag.c.diag_code)
    .where(diag.c.mdtrt_id == bindparam("mdtrt_id"), diag.c.vali_flag == "1")
    .order_by(diag.c.stage, diag.c.diag_srt_no)
)


def visit_row(conn: Connection, mdtrt_id: str) -> Row | None:
    """A visit by id, whoever it belongs to (the caller has checked the tenant). Read once
    per flow on SQLite (the writer's `storage.row_cache`; callers get a copy)."""
    key, statement, params, _many = visit_read(mdtrt_id)
    return row_cache.row(conn, key, lambda: statement.first(conn, params))


def visit_read(mdtrt_id: str) -> row_cache.Read:
    """The visit's row as a read of the row cache (`row_cache.prefetch`)."""
    return (("mdtrt", mdtrt_id), _P_VISIT, {"mdtrt_id": mdtrt_id}, False)


def visit(
    conn: Connection,
    fixmedins_code: str,
    mdtrt_id: str,
    psn_no: str | None,
    *,
    kind: str | None = None,
    node: str = "data",
    open_only: bool = True,
) -> Row:
    """The institution's own visit; refuses another institution's (as not found), another
    person, the wrong kind, and (with `open_only`) a cancelled visit."""
    row = visit_row(conn, mdtrt_id)
    if row is None or row["fixmedins_code"] != fixmedins_code:
        raise NotFound(
            f"{node}.mdtrt_id: 就诊记录不存在或不属于本机构 '{mdtrt_id}' "
            "(no such visit of this institution)"
        )
    if psn_no is not None and row["psn_no"] != psn_no:
        raise InvalidInput(
            f"{node}.psn_no: 与就诊记录的人员编号不一致 '{psn_no}' "
            "(psn_no does not match the visit)"
        )
    if kind is not None and row["mdtrt_kind"] != kind:
        raise InvalidInput(
            f"{node}.mdtrt_id: 就诊 {mdtrt_id} 是{_KIND_LABEL.get(row['mdtrt_kind'], '')}就诊, "
            f"不能办理{_KIND_LABEL.get(kind, '')}交易 (visit is {row['mdtrt_kind']}, not {kind})"
        )
    if open_only and row["mdtrt_stas"] == CANCELLED:
        raise Conflict(f"{node}.mdtrt_id: 就诊已撤销 '{mdtrt_id}' (visit cancelled)")
    return row


def visit_of_message(conn: Connection, fixmedins_code: str, msgid: str) -> Row | None:
    """The institution's visit that its message `msgid` created (2601 of a 2401)."""
    return first(
        conn.execute(
            select(mdtrt).where(mdtrt.c.msgid == msgid, mdtrt.c.fixmedins_code == fixmedins_code)
        ).mappings()
    )


def insert_visit(conn: Connection, values: dict[str, Any]) -> dict[str, Any]:
    """A new visit (its id is new: nothing refuses the row, so on the MySQL protocol it goes
    with the transaction's next round trip, `storage.deferred`)."""
    _P_INSERT_VISIT.later(conn, [values])
    row_cache.forget(conn, ("mdtrt", values["mdtrt_id"]))
    return values


def update_visit(conn: Connection, mdtrt_id: str, values: dict[str, Any]) -> None:
    _P_UPDATE_VISIT.execute(conn, mdtrt_id, values)
    row_cache.forget(conn, ("mdtrt", mdtrt_id))


def open_admission(conn: Connection, psn_no: str) -> Row | None:
    """The person's admission not yet settled (admitted or discharged), if any."""
    return _P_OPEN_ADMISSION.first(conn, {"psn_no": psn_no})


def visit_changed(conn: Connection, row: Mapping[str, Any], *, new: bool = False) -> None:
    """Append the visit's replica row (registration, admission, discharge, cancellation);
    `new`: this transaction created the visit (its first image, `insert`)."""
    payload = replica_rows.mdtrt_payload(row)
    op: changelog.Op = changelog.INSERT if new else changelog.UPSERT
    changelog.append_later(conn, [(replica_rows.MDTRT, row["mdtrt_id"], payload, op)])


def diag_codes(conn: Connection, mdtrt_id: str) -> list[str]:
    return [r["diag_code"] for r in _P_DIAG_CODES.all(conn, {"mdtrt_id": mdtrt_id})]


def joined_codes(codes: Sequence[str]) -> str | None:
    """`mdtrt.diag_codes`: the codes in order, each once, comma-separated (None: none)."""
    return ",".join(dict.fromkeys(c for c in codes if c)) or None


def replace_diagnoses(
    conn: Connection, mdtrt_id: str, stage: str, rows: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """Store a stage's diagnoses: rows with a number sent again are overwritten, the others of
    the stage are marked invalid (nothing is deleted). The visit's `diag_codes` follows;
    answers the visit's changed values (for its replica row)."""
    existing = {
        r["diag_srt_no"] for r in _P_DIAG_NUMBERS.all(conn, {"mdtrt_id": mdtrt_id, "stage": stage})
    }
    sent = set()
    for r in rows:
        values = {**r, "mdtrt_id": mdtrt_id, "stage": stage, "vali_flag": "1"}
        sent.add(r["diag_srt_no"])
        if r["diag_srt_no"] in existing:
            conn.execute(
                update(diag)
                .where(
                    diag.c.mdtrt_id == mdtrt_id,
                    diag.c.stage == stage,
                    diag.c.diag_srt_no == r["diag_srt_no"],
                )
                .values(**values)
            )
        else:
            _P_INSERT_DIAG.execute(conn, values)
    stale = existing - sent
    if stale:
        conn.execute(
            update(diag)
            .where(
                diag.c.mdtrt_id == mdtrt_id,
                diag.c.stage == stage,
                diag.c.diag_srt_no.in_(stale),
            )
            .values(vali_flag="0")
        )
    codes = joined_codes(diag_codes(conn, mdtrt_id))
    update_visit(conn, mdtrt_id, {"diag_codes": codes})
    return {"diag_codes": codes}
