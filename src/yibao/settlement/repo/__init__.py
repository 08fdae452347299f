"""Row-store reads and writes of the settlement use cases (SQLAlchemy Core, no commits).

Tenant rule: every lookup by a business id that an institution sends (mdtrt_id, setl_id)
checks that the record is the calling institution's own; another institution's record is
answered exactly like a missing one, so ids cannot be probed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, insert, select, update

from yibao.errors import Conflict, InvalidInput, NotFound
from yibao.interface.context import CallContext
from yibao.replica import rows as replica_rows
from yibao.storage import changelog
from yibao.storage.prepared import Prepared, PreparedInsert
from yibao.storage.tables import (
    diag,
    fee_detail,
    mdtrt,
    psn,
    psn_idet,
    psn_insu,
    setl,
    setl_fund,
)

Row = Mapping[str, Any]

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

# Statements of the hot path, built once: building a Core statement per call costs several
# times its execution (measured: ~650 µs built per call vs ~150 µs prebuilt on this machine).
_PERSON = select(psn).where(psn.c.psn_no == bindparam("psn_no"))
_INSU = select(psn_insu).where(
    psn_insu.c.psn_no == bindparam("psn_no"), psn_insu.c.insutype == bindparam("insutype")
)
_INSU_LOCKED = _INSU.with_for_update()
_INSURANCES = (
    select(psn_insu).where(psn_insu.c.psn_no == bindparam("psn_no")).order_by(psn_insu.c.insutype)
)
_IDENTITIES = (
    select(psn_idet).where(psn_idet.c.psn_no == bindparam("psn_no")).order_by(psn_idet.c.begntime)
)
_VISIT = select(mdtrt).where(mdtrt.c.mdtrt_id == bindparam("mdtrt_id"))
_INSERT_VISIT = insert(mdtrt)
_EXISTING_LINES = select(
    fee_detail.c.feedetl_sn,
    fee_detail.c.vali_flag,
    fee_detail.c.setl_id,
    fee_detail.c.det_item_fee_sumamt,
    fee_detail.c.cnt,
).where(
    fee_detail.c.mdtrt_id == bindparam("mdtrt_id"),
    fee_detail.c.feedetl_sn.in_(bindparam("sns", expanding=True)),
)
_UNSETTLED = [
    fee_detail.c.mdtrt_id == bindparam("mdtrt_id"),
    fee_detail.c.vali_flag == "1",
    fee_detail.c.setl_id.is_(None),
]
_UNSETTLED_ALL = select(fee_detail).where(*_UNSETTLED).order_by(fee_detail.c.feedetl_sn)
_UNSETTLED_BATCH = (
    select(fee_detail)
    .where(*_UNSETTLED, fee_detail.c.chrg_bchno == bindparam("chrg_bchno"))
    .order_by(fee_detail.c.feedetl_sn)
)
#: the columns a settlement reads of its lines (fees.fee_in_from_row, fees.fee_structure,
#: core.check_total, core.write_settlement): a third of fee_detail, no datetimes
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
    )
]
_TO_SETTLE_ALL = select(*_TO_SETTLE_COLUMNS).where(*_UNSETTLED).order_by(fee_detail.c.feedetl_sn)
_TO_SETTLE_BATCH = (
    select(*_TO_SETTLE_COLUMNS)
    .where(*_UNSETTLED, fee_detail.c.chrg_bchno == bindparam("chrg_bchno"))
    .order_by(fee_detail.c.feedetl_sn)
)
_VALID_SETTLEMENTS = select(setl).where(
    setl.c.mdtrt_id == bindparam("mdtrt_id"),
    setl.c.vali_flag == "1",
    setl.c.refd_setl_flag == "0",
)
_SETTLEMENT = select(setl).where(setl.c.setl_id == bindparam("setl_id"))

# ... and executed at the driver level (storage.fast: ~10 µs instead of ~100 µs each).
_P_PERSON = Prepared(_PERSON)
_P_INSU = Prepared(_INSU)
_P_INSU_LOCKED = Prepared(_INSU_LOCKED)
_P_INSURANCES = Prepared(_INSURANCES)
_P_IDENTITIES = Prepared(_IDENTITIES)
_P_VISIT = Prepared(_VISIT)
_P_INSERT_VISIT = PreparedInsert(mdtrt)
_P_UNSETTLED_ALL = Prepared(_UNSETTLED_ALL)
_P_UNSETTLED_BATCH = Prepared(_UNSETTLED_BATCH)
_P_TO_SETTLE_ALL = Prepared(_TO_SETTLE_ALL)
_P_TO_SETTLE_BATCH = Prepared(_TO_SETTLE_BATCH)
_P_VALID_SETTLEMENTS = Prepared(_VALID_SETTLEMENTS)
_P_SETTLEMENT = Prepared(_SETTLEMENT)
_P_DIAG_CODES = Prepared(
    select(diag.c.diag_code).where(
        diag.c.mdtrt_id == bindparam("mdtrt_id"), diag.c.vali_flag == "1"
    )
)
#: existing_lines by the number of serial numbers asked (an IN list of that many binds)
_P_EXISTING: dict[int, Prepared] = {}


def _existing_stmt(count: int) -> Prepared:
    fast = _P_EXISTING.get(count)
    if fast is None:
        stmt = select(*_EXISTING_LINES.selected_columns).where(
            fee_detail.c.mdtrt_id == bindparam("mdtrt_id"),
            fee_detail.c.feedetl_sn.in_([bindparam(f"sn{i}") for i in range(count)]),
        )
        fast = Prepared(stmt)
        if count <= 64:
            _P_EXISTING[count] = fast
    return fast


# ------------------------------------------------------------------ persons


def person(conn: Connection, psn_no: str, *, node: str = "data") -> Row:
    row = _P_PERSON.first(conn, {"psn_no": psn_no})
    if row is None:
        raise NotFound(f"{node}.psn_no: 人员编号不存在 '{psn_no}' (no such insured person)")
    return row


def insurance(
    conn: Connection,
    psn_no: str,
    insutype: str,
    *,
    node: str = "data",
    lock: bool = False,
) -> Row:
    """The person's insurance of `insutype`; `lock` takes the person's row lock (MySQL
    `SELECT … FOR UPDATE`; SQLite has one writer) to serialise settlements of one person."""
    query = _P_INSU_LOCKED if lock else _P_INSU
    row = query.first(conn, {"psn_no": psn_no, "insutype": insutype})
    if row is None:
        raise InvalidInput(
            f"{node}.insutype: 人员 {psn_no} 未参加险种 {insutype} "
            f"(the person has no insurance of type {insutype})"
        )
    return row


def insurances(conn: Connection, psn_no: str) -> list[Row]:
    return _P_INSURANCES.all(conn, {"psn_no": psn_no})  # type: ignore[return-value]


def identities(conn: Connection, psn_no: str) -> list[Row]:
    return _P_IDENTITIES.all(conn, {"psn_no": psn_no})  # type: ignore[return-value]


def check_insured(ctx: CallContext, insu: Row, *, node: str = "data") -> None:
    """Insurance status normal, and the envelope's insuplc_admdvs (when given) is the
    person's insured region."""
    if insu["psn_insu_stas"] != "1":
        raise Conflict(
            f"{node}.insutype: 参保状态异常 ({insu['psn_insu_stas']}), 不能享受待遇 "
            "(insurance not active)"
        )
    if ctx.insuplc_admdvs and ctx.insuplc_admdvs != insu["insuplc_admdvs"]:
        raise InvalidInput(
            f"insuplc_admdvs: 参保地医保区划 {ctx.insuplc_admdvs} 与人员参保地 "
            f"{insu['insuplc_admdvs']} 不一致 (not the person's insured region)"
        )


# ------------------------------------------------------------------ visits


def visit(
    conn: Connection,
    ctx: CallContext,
    mdtrt_id: str,
    psn_no: str | None,
    *,
    kind: str | None = None,
    node: str = "data",
    open_only: bool = True,
) -> Row:
    """The caller's own visit; refuses another institution's (as not found), another person,
    the wrong kind, and (with `open_only`) a cancelled visit."""
    row = _P_VISIT.first(conn, {"mdtrt_id": mdtrt_id})
    if row is None or row["fixmedins_code"] != ctx.fixmedins_code:
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


def insert_visit(conn: Connection, values: dict[str, Any]) -> dict[str, Any]:
    _P_INSERT_VISIT.execute(conn, values)
    return values


def update_visit(conn: Connection, mdtrt_id: str, values: dict[str, Any]) -> None:
    conn.execute(update(mdtrt).where(mdtrt.c.mdtrt_id == mdtrt_id).values(**values))


def open_admission(conn: Connection, psn_no: str) -> Row | None:
    return (
        conn.execute(
            select(mdtrt.c.mdtrt_id, mdtrt.c.fixmedins_code).where(
                mdtrt.c.psn_no == psn_no,
                mdtrt.c.mdtrt_kind == INPATIENT,
                mdtrt.c.mdtrt_stas.in_((ADMITTED, DISCHARGED)),
            )
        )
        .mappings()
        .first()
    )


def visit_changed(conn: Connection, row: Mapping[str, Any]) -> None:
    """Append the visit's replica row (registration, admission, discharge, cancellation)."""
    payload = replica_rows.mdtrt_payload(row)
    changelog.append_many(conn, [(replica_rows.MDTRT, row["mdtrt_id"], payload, "upsert")])


def diag_codes(conn: Connection, mdtrt_id: str) -> list[str]:
    return [r["diag_code"] for r in _P_DIAG_CODES.all(conn, {"mdtrt_id": mdtrt_id})]


def replace_diagnoses(
    conn: Connection, mdtrt_id: str, stage: str, rows: Sequence[dict[str, Any]]
) -> None:
    """Store a stage's diagnoses: rows with a number sent again are overwritten, the others of
    the stage are marked invalid (nothing is deleted)."""
    existing = {
        r[0]
        for r in conn.execute(
            select(diag.c.diag_srt_no).where(diag.c.mdtrt_id == mdtrt_id, diag.c.stage == stage)
        )
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
            conn.execute(insert(diag).values(**values))
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


# ------------------------------------------------------------------ fee details


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


def lines_of_visit(conn: Connection, mdtrt_id: str) -> list[Row]:
    return list(
        conn.execute(
            select(fee_detail)
            .where(fee_detail.c.mdtrt_id == mdtrt_id)
            .order_by(fee_detail.c.feedetl_sn)
        ).mappings()
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


def has_valid_lines(conn: Connection, mdtrt_id: str) -> bool:
    return (
        conn.execute(
            select(fee_detail.c.feedetl_sn)
            .where(fee_detail.c.mdtrt_id == mdtrt_id, fee_detail.c.vali_flag == "1")
            .limit(1)
        ).first()
        is not None
    )


# ------------------------------------------------------------------ settlements


def valid_settlements(conn: Connection, mdtrt_id: str) -> list[Row]:
    """Valid ordinary settlements of a visit (not reversed, not reversal records)."""
    return _P_VALID_SETTLEMENTS.all(conn, {"mdtrt_id": mdtrt_id})  # type: ignore[return-value]


def settlement(conn: Connection, ctx: CallContext, setl_id: str, *, node: str = "data") -> Row:
    row = _P_SETTLEMENT.first(conn, {"setl_id": setl_id})
    if row is None or row["fixmedins_code"] != ctx.fixmedins_code:
        raise NotFound(
            f"{node}.setl_id: 结算记录不存在或不属于本机构 '{setl_id}' "
            "(no such settlement of this institution)"
        )
    return row


def settlement_by_id(conn: Connection, setl_id: str) -> Row | None:
    return _P_SETTLEMENT.first(conn, {"setl_id": setl_id})


def funds(conn: Connection, setl_id: str) -> list[Row]:
    return list(
        conn.execute(
            select(setl_fund)
            .where(setl_fund.c.setl_id == setl_id)
            .order_by(setl_fund.c.fund_pay_type)
        ).mappings()
    )


def latest_settlement(conn: Connection, ctx: CallContext, mdtrt_id: str) -> Row | None:
    return (
        conn.execute(
            select(setl)
            .where(setl.c.mdtrt_id == mdtrt_id, setl.c.fixmedins_code == ctx.fixmedins_code)
            .order_by(setl.c.setl_time.desc(), setl.c.created_at.desc())
            .limit(1)
        )
        .mappings()
        .first()
    )


def year_of(day: date | datetime) -> int:
    return day.year
