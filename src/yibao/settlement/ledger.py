"""The settlement core shared by outpatient, inpatient and pharmacy: compute a split with the
policy calculator, write the settlement, reverse it, and reinstate a reversed one (2601 of a
reversal).

A settlement writes, in the caller's savepoint: the `setl` row, its `setl_fund` rows, the fee
lines' `setl_id`, the personal-account balance(s), the accumulators (`psn_accum`) and the
change-log rows of the replica. The person's row lock (`repo.insurance(lock=True)`) is taken
before the accumulators and the balance are read, so two settlements of one person at two
institutions serialise: the annual caps hold and no balance goes below zero.

A reversal never deletes: it writes a new settlement row with every amount negated
(`refd_setl_flag` "1", `init_setl_id` = the original), marks the original `vali_flag` "0",
gives the lines back (unsettled again), restores the balances and subtracts the original's
accumulator delta (kept in the original's `extra`).

The rows are built by `settlement.records` — the one definition of what a settlement writes,
which the bulk loader uses too; this module decides and writes them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection

from yibao.codes.dicts import HospLv, Insutype, MedType, PsnIdetType, PsnType
from yibao.errors import Conflict, InvalidInput
from yibao.kit.clock import age_on
from yibao.kit.records import quick_init
from yibao.policy import (
    FeeLineIn,
    PersonTerms,
    PolicyBook,
    SettlementSplit,
    VisitTerms,
    settle,
)
from yibao.policy.model import PolicyRefusal
from yibao.replica import rows as replica_rows
from yibao.settlement import accumulators, records, repo
from yibao.settlement.commands import ECHOED_TOTALS, Settle, required
from yibao.settlement.context import Caller
from yibao.settlement.insured import check_insured
from yibao.settlement.records import ZERO, extra_of
from yibao.storage.tables import setl


@quick_init
@dataclass(frozen=True, slots=True)
class Party:
    """The insured side of a settlement."""

    person: Mapping[str, Any]
    insu: Mapping[str, Any]
    #: the family member whose account may share (家庭共济), when there is one
    family: Mapping[str, Any] | None
    terms: PersonTerms


def load_party(
    conn: Connection,
    ctx: Caller,
    psn_no: str,
    insutype: str,
    day: date,
    *,
    lock: bool,
    node: str = "data",
    person: Mapping[str, Any] | None = None,
) -> Party:
    """Person, insurance (locked when `lock`), sharing family member and calculator terms.
    On the MySQL protocol the person's rows and the year's totals are read in one request
    (`repo.prefetch_party`)."""
    repo.prefetch_party(conn, psn_no, insutype, lock=lock, year=day.year)
    person = person or repo.person(conn, psn_no, node=node)
    insu = repo.insurance(conn, psn_no, insutype, node=node, lock=lock)
    check_insured(insu, ctx.insuplc_admdvs, node=node)
    family: Mapping[str, Any] | None = None
    if person["family_id"]:
        family = repo.family_sharer(conn, person["family_id"], psn_no, insutype)
        if family is not None and lock:
            family = repo.insurance(conn, family["psn_no"], insutype, lock=True)
    assistance = []
    for idet in repo.identities(conn, psn_no):
        begins = idet["begntime"].date()
        ends = idet["endtime"].date() if idet["endtime"] else None
        if (
            begins <= day
            and (ends is None or day <= ends)
            and PsnIdetType.has(idet["psn_idet_type"])
        ):
            assistance.append(PsnIdetType(idet["psn_idet_type"]))
    try:
        terms = PersonTerms(
            psn_no=psn_no,
            insutype=Insutype.of(insutype, field=f"{node}.insutype"),
            psn_type=PsnType.of(insu["psn_type"], field="psn_type"),
            age=age_on(person["brdy"], day),
            assistance=tuple(assistance),
            balc=insu["balc"],
            family_balc=family["balc"] if family is not None else ZERO,
            cvlserv_flag=insu["cvlserv_flag"] == "1",
        )
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    return Party(person=person, insu=insu, family=family, terms=terms)


def compute(
    book: PolicyBook,
    party: Party,
    lines: Sequence[FeeLineIn],
    *,
    med_type: str,
    hosp_lv: str,
    day: date,
    acct_used: bool,
    accum: Mapping[str, Decimal],
    same_admission: bool = False,
    ratio_cut: Decimal = ZERO,
    node: str = "data",
) -> SettlementSplit:
    try:
        visit = VisitTerms(
            med_type=MedType.of(med_type, field=f"{node}.med_type"),
            hosp_lv=HospLv.of(hosp_lv, field="hosp_lv"),
            admdvs=party.insu["insuplc_admdvs"],
            setl_date=day,
            acct_used_flag=acct_used,
            same_admission_settled=same_admission,
            ratio_cut=ratio_cut,
        )
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    try:
        return settle(lines, party.terms, visit, accum, book)
    except PolicyRefusal as exc:
        where = f"{node}.{exc.field}" if exc.field else node
        raise InvalidInput(f"{where}: {exc}") from None


def check_echo(split: SettlementSplit, command: Settle, node: str = "data") -> None:
    """2207/2304: the four totals the client echoes must be those of the pre-settlement."""
    for name in ECHOED_TOTALS:
        sent: Decimal = required(getattr(command, name), f"{node}.{name}")
        if sent != getattr(split, name):
            raise InvalidInput(
                f"{node}.{name}: {sent} 与预结算结果 {getattr(split, name)} 不一致 "
                "(does not match the pre-settlement of the same details)"
            )


def check_total(total: Decimal, lines: Sequence[Mapping[str, Any]], node: str = "data") -> None:
    uploaded = sum((r["det_item_fee_sumamt"] for r in lines), ZERO)
    if total != uploaded:
        raise InvalidInput(
            f"{node}.medfee_sumamt: 医疗费总额 {total} 与已上传明细合计 {uploaded} 不一致 "
            "(must equal the sum of the uploaded details)"
        )


def _set_balance(conn: Connection, psn_no: str, insutype: str, balc: Decimal, at: datetime) -> None:
    if balc < 0:
        raise Conflict(f"个人账户余额不足 (balance of {psn_no} would be negative)")
    repo.set_balance(conn, psn_no, insutype, balc, at)


def _log_setl(
    conn: Connection,
    ctx: Caller,
    rows: Sequence[Mapping[str, Any]],
    gend: str | None,
    fees: Sequence[Mapping[str, Any]],
    visit: Mapping[str, Any],
) -> None:
    """The change-log rows of a settlement written (`rows[0]`, new) and of the ones it flips."""
    repo.settlements_changed(
        conn, rows, admdvs=ctx.admdvs, gend=gend, fees=fees, visit=visit, new=rows[0]["setl_id"]
    )


def _fees(
    original: Mapping[str, Any], visit: Mapping[str, Any], lines: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """The replica's `fee` payload of a settlement: the lines it settles (none once
    reversed; `replica.rows.fee_payload`)."""
    return replica_rows.fee_payload(
        setl_id=original["setl_id"],
        setl_time=original["setl_time"],
        psn_no=original["psn_no"],
        visit=visit,
        med_type=original["med_type"],
        lines=lines,
    )


def write_settlement(
    conn: Connection,
    ctx: Caller,
    *,
    party: Party,
    visit: Mapping[str, Any],
    split: SettlementSplit,
    lines: Sequence[Mapping[str, Any]],
    structure: Mapping[str, Any],
    med_type: str,
    clr_type: str,
    mdtrt_cert_type: str | None,
    chrg_bchno: str | None = None,
    invono: str | None = None,
    mark_lines: bool = True,
) -> dict[str, Any]:
    """Write a settlement (row, funds, lines, balances, accumulators, change log)."""
    at = ctx.now
    setl_id = ctx.ids.next_str()
    insu = party.insu
    row = records.settlement_row(
        split,
        visit,
        structure,
        setl_id=setl_id,
        psn_no=party.person["psn_no"],
        insutype=insu["insutype"],
        psn_type=insu["psn_type"],
        insuplc_admdvs=insu["insuplc_admdvs"],
        age=party.terms.age,
        fixmedins_code=ctx.fixmedins_code,
        clr_optins=ctx.admdvs,
        hosp_lv=ctx.hosp_lv,
        med_type=med_type,
        clr_type=clr_type,
        mdtrt_cert_type=mdtrt_cert_type,
        setl_time=at,
        medins_setl_id=ctx.msgid,
        extra=records.settlement_extra(
            split,
            family_psn_no=party.family["psn_no"] if party.family is not None else None,
            feedetl_sns=[r["feedetl_sn"] for r in lines],
        ),
        written_at=at,
        chrg_bchno=chrg_bchno,
        invono=invono,
        opter_id=ctx.opter,
        opter_name=ctx.opter_name,
    )
    funds = records.fund_rows(setl_id, split)
    repo.insert_settlement(conn, row, funds)
    if mark_lines and lines:
        repo.link_lines(conn, visit["mdtrt_id"], [r["feedetl_sn"] for r in lines], setl_id)
    own = split.acct_pay - split.acct_mulaid_pay
    if own:
        _set_balance(conn, insu["psn_no"], insu["insutype"], split.balc, at)
    if split.acct_mulaid_pay and party.family is not None:
        _set_balance(conn, party.family["psn_no"], party.family["insutype"], split.family_balc, at)
    accumulators.add(conn, insu["psn_no"], insu["insutype"], at.year, split.accumulator_delta, at)
    _log_setl(conn, ctx, [row], party.person["gend"], [_fees(row, visit, lines)], visit)
    return row


def _mirror(
    ctx: Caller,
    source: Mapping[str, Any],
    *,
    revs_infno: str,
    balc: Decimal | None,
    extra: str,
) -> dict[str, Any]:
    """A reversal record of `source`: every amount negated, linked to it."""
    return records.reversal_row(
        source,
        (c.name for c in setl.columns),
        setl_id=ctx.ids.next_str(),
        setl_time=ctx.now,
        medins_setl_id=ctx.msgid,
        revs_infno=revs_infno,
        balc=balc,
        extra=extra,
        written_at=ctx.now,
        opter_id=ctx.opter,
        opter_name=ctx.opter_name,
    )


def _flip(conn: Connection, row: Mapping[str, Any], vali_flag: str, at: datetime) -> dict[str, Any]:
    repo.set_validity(conn, row["setl_id"], vali_flag, at)
    return {**row, "vali_flag": vali_flag, "updated_at": at}


def _move_account(
    conn: Connection,
    ctx: Caller,
    source: Mapping[str, Any],
    *,
    sign: int,
) -> Decimal | None:
    """Give back (sign +1) or take again (sign −1) the account money of settlement `source`.
    Returns the holder's balance afterwards (None when the person has no such insurance)."""
    at = ctx.now
    own = source["acct_pay"] - source["acct_mulaid_pay"]
    shared = source["acct_mulaid_pay"]
    insu = repo.insurance(conn, source["psn_no"], source["insutype"], lock=True)
    balc: Decimal = insu["balc"]
    if own:
        balc = balc + own if sign > 0 else balc - own
        if balc < 0:
            raise Conflict(
                f"个人账户余额不足, 无法恢复原结算 (account balance {insu['balc']} is below the "
                f"{own} the settlement would take again)"
            )
        _set_balance(conn, source["psn_no"], source["insutype"], balc, at)
    if shared:
        family_no = extra_of(source).get("family_psn_no")
        if family_no:
            fam = repo.insurance(conn, family_no, source["insutype"], lock=True)
            fbalc = fam["balc"] + shared if sign > 0 else fam["balc"] - shared
            if fbalc < 0:
                raise Conflict("家庭共济账户余额不足, 无法恢复原结算 (family account too low)")
            _set_balance(conn, family_no, source["insutype"], fbalc, at)
    return balc


def reverse(
    conn: Connection, ctx: Caller, original: Mapping[str, Any], *, revs_infno: str
) -> dict[str, Any]:
    """Reverse a valid ordinary settlement (2208/2305/2103, 2601 of 2207/2304/2102)."""
    at = ctx.now
    if original["refd_setl_flag"] != "0":
        raise InvalidInput(
            f"data.setl_id: {original['setl_id']} 是冲销记录, 不能撤销 (a reversal record)"
        )
    if original["vali_flag"] != "1":
        raise Conflict(
            f"data.setl_id: 结算已撤销 '{original['setl_id']}' (settlement already reversed)"
        )
    person = repo.person(conn, original["psn_no"])
    balc = _move_account(conn, ctx, original, sign=+1)
    extra = extra_of(original)
    delta = records.accumulator_delta(extra, negate=True)
    row = _mirror(
        ctx,
        original,
        revs_infno=revs_infno,
        balc=balc,
        extra=records.reversal_extra(delta, family_psn_no=extra.get("family_psn_no")),
    )
    funds = records.reversal_funds(repo.funds(conn, original["setl_id"]), row["setl_id"])
    repo.insert_reversal(conn, row, funds)
    flipped = _flip(conn, original, "0", at)
    repo.unlink_lines(conn, original["mdtrt_id"], original["setl_id"])
    accumulators.add(conn, original["psn_no"], original["insutype"], original["year"], delta, at)
    # the lines are given back: the replica's fee lines of the original go (an empty payload
    # keeps the settlement date, so the replica's delete stays pruned to that day)
    visit = _visit_of(conn, original)
    gone = _fees(original, visit, ())
    _log_setl(conn, ctx, [row, flipped], person["gend"], [gone], visit)
    return row


def _visit_of(conn: Connection, setl_row: Mapping[str, Any]) -> Mapping[str, Any]:
    """The settlement's visit row (its department and doctor for the `fee` payload)."""
    found = repo.visit_row(conn, setl_row["mdtrt_id"])
    return (
        found
        if found is not None
        else {
            "mdtrt_id": setl_row["mdtrt_id"],
            "fixmedins_code": setl_row["fixmedins_code"],
        }
    )


def reinstate(conn: Connection, ctx: Caller, reversal: Mapping[str, Any]) -> dict[str, Any]:
    """2601 of a reversal (2208/2305/2103): the original settlement becomes valid again.
    Writes a record negating the reversal, takes the account money again, re-adds the
    accumulators and links the lines to the original again."""
    at = ctx.now
    original = repo.settlement_by_id(conn, reversal["init_setl_id"])
    if original is None:
        raise Conflict("原结算记录不存在 (the reversed settlement is missing)")
    if reversal["vali_flag"] != "1" or original["vali_flag"] != "0":
        raise Conflict("原结算已恢复 (the settlement is already valid again)")
    sns = extra_of(original).get("feedetl_sns") or []
    if sns:
        rows = repo.line_states(conn, original["mdtrt_id"], sns)
        usable = [r for r in rows if r["vali_flag"] == "1" and r["setl_id"] is None]
        if len(usable) != len(sns):
            raise Conflict(
                "原结算的费用明细已撤销或已重新结算, 无法冲正撤销交易 "
                "(the settled lines were cancelled or settled again since the reversal)"
            )
    person = repo.person(conn, original["psn_no"])
    balc = _move_account(conn, ctx, original, sign=-1)
    extra = extra_of(original)
    delta = records.accumulator_delta(extra, negate=False)
    row = _mirror(
        ctx,
        reversal,
        revs_infno="2601",
        balc=balc,
        extra=records.reversal_extra(delta, family_psn_no=extra.get("family_psn_no")),
    )
    funds = records.reversal_funds(repo.funds(conn, reversal["setl_id"]), row["setl_id"])
    repo.insert_reversal(conn, row, funds)
    dead = _flip(conn, reversal, "0", at)
    alive = _flip(conn, original, "1", at)
    if sns:
        repo.relink_lines(conn, original["mdtrt_id"], sns, original["setl_id"])
    accumulators.add(conn, original["psn_no"], original["insutype"], original["year"], delta, at)
    settled = repo.settled_lines(conn, original["mdtrt_id"], original["setl_id"])
    visit = _visit_of(conn, original)
    back = _fees(original, visit, settled)
    _log_setl(conn, ctx, [row, dead, alive], person["gend"], [back], visit)
    return row
