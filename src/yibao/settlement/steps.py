"""Steps shared by the outpatient, inpatient and pharmacy transactions: uploading fee lines,
(pre-)settling a visit and answering a reversal."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection

from yibao.errors import Conflict, InvalidInput
from yibao.kit.clock import age_on
from yibao.policy import PolicyBook, SettlementSplit
from yibao.settlement import (
    accumulators,
    fees,
    filings,
    ledger,
    output,
    remote,
    repo,
    review_steps,
)
from yibao.settlement.commands import ReverseSettlement, Settle, UploadFees, required
from yibao.settlement.context import Caller, Pricing

#: chrg_bchno meaning "every unsettled line of the visit"
ALL_BATCHES = "0000"
CLR_TYPE = {repo.OUTPATIENT: "11", repo.INPATIENT: "21", repo.PHARMACY: "41"}


def facts(
    caller: Caller,
    person: Mapping[str, Any],
    insu: Mapping[str, Any],
    med_type: str,
    day: date,
) -> fees.VisitFacts:
    return fees.VisitFacts(
        gend=person["gend"],
        age=age_on(person["brdy"], day),
        hosp_lv=caller.hosp_lv,
        med_type=med_type,
        psn_type=insu["psn_type"],
        admdvs=insu["insuplc_admdvs"],
        district=caller.admdvs,
    )


def upload(
    conn: Connection,
    caller: Caller,
    pricing: Pricing,
    command: UploadFees,
    *,
    kind: str,
    refunds: bool,
) -> dict[str, Any]:
    """2204 / 2301: split and store the lines; answer the `result` rows."""
    node = "feedetail"
    lines = command.feedetail
    first = lines[0]
    assert first.mdtrt_id is not None and first.psn_no is not None
    for ln in lines[1:]:
        if ln.mdtrt_id != first.mdtrt_id or ln.psn_no != first.psn_no:
            raise InvalidInput(
                f"{node}[{ln.index}].mdtrt_id: 同一报文的明细须属于同一就诊和人员 "
                "(all lines of one message must belong to one visit and person)"
            )
    # MySQL protocol: the visit and the person in one request
    repo.prefetch(conn, [repo.visit_read(first.mdtrt_id), repo.person_read(first.psn_no)])
    visit = repo.visit(
        conn, caller.fixmedins_code, first.mdtrt_id, first.psn_no, kind=kind, node=f"{node}[0]"
    )
    if kind == repo.INPATIENT and visit["mdtrt_stas"] == repo.SETTLED:
        raise Conflict(f"{node}[0].mdtrt_id: 住院已结算, 不能再上传明细 (admission settled)")
    sns = [ln.feedetl_sn for ln in lines]
    visit_rows: list[repo.Row] = []
    if review_steps.reviewing(pricing):
        # the review shows the rules the visit's earlier lines: one read serves both
        visit_rows = repo.every_line_of_visit(conn, visit["mdtrt_id"])
        sent = set(sns)
        existing = {r["feedetl_sn"]: r for r in visit_rows if r["feedetl_sn"] in sent}
    else:
        existing = repo.existing_lines(conn, visit["mdtrt_id"], sns)
    replace = fees.check_against_existing(lines, existing, node)
    if refunds:
        _check_refunds(conn, visit["mdtrt_id"], lines, existing, node)
    person = repo.person(conn, visit["psn_no"])
    insu = repo.insurance(conn, visit["psn_no"], visit["insutype"])
    day = first.fee_ocur_time.date()
    infno = "2204" if kind == repo.OUTPATIENT else "2301"
    diag_cache: list[Sequence[str]] = []

    def diags() -> Sequence[str]:
        if not diag_cache:
            diag_cache.append(repo.diag_codes(conn, visit["mdtrt_id"]))
        return diag_cache[0]

    terms = fees.terms_by_line(conn, pricing.catalog, lines)
    outcome = review_steps.at_upload(
        conn,
        caller,
        pricing,
        visit=visit,
        person=person,
        lines=lines,
        kind=kind,
        diag_loader=diags,
        infno=infno,
        terms=terms,
        visit_rows=visit_rows,
    )
    split_rows = fees.split_uploaded(
        conn,
        lines,
        facts(caller, person, insu, visit["med_type"], day),
        node=node,
        fixmedins_code=caller.fixmedins_code,
        mapping_rule=pricing.mapping_rule,
        book=pricing.book,
        diag_loader=diags,
        forced=outcome.selfpay(),
        line_terms=terms,
    )
    rows = [
        fees.row_values(
            ln,
            split,
            forced,
            mdtrt_id=visit["mdtrt_id"],
            psn_no=visit["psn_no"],
            fixmedins_code=caller.fixmedins_code,
            msgid=caller.msgid,
            at=caller.now,
        )
        for ln, split, forced in split_rows
    ]
    fees.store(conn, rows, replace)
    review_steps.store(
        conn, caller, outcome, psn_no=visit["psn_no"], mdtrt_id=visit["mdtrt_id"], infno=infno
    )
    return outcome.attach({"result": [output.line_result(split) for _, split, _ in split_rows]})


def _check_refunds(
    conn: Connection,
    mdtrt_id: str,
    lines: Sequence[fees.LineIn],
    existing: Mapping[str, Any],
    node: str,
) -> None:
    refs = [ln.init_feedetl_sn for ln in lines if ln.init_feedetl_sn and ln.det_item_fee_sumamt < 0]
    if not refs:
        return
    found = repo.existing_lines(conn, mdtrt_id, [r for r in refs if r])
    sent = {ln.feedetl_sn for ln in lines}
    for ln in lines:
        if ln.det_item_fee_sumamt >= 0 or not ln.init_feedetl_sn:
            continue
        orig = found.get(ln.init_feedetl_sn)
        if (orig is None or orig["vali_flag"] != "1") and ln.init_feedetl_sn not in sent:
            raise InvalidInput(
                f"{node}[{ln.index}].init_feedetl_sn: 原明细不存在 '{ln.init_feedetl_sn}' "
                "(the refunded line does not exist in this visit)"
            )


def cancel_lines(
    conn: Connection,
    caller: Caller,
    visit: Mapping[str, Any],
    sns: Sequence[str] | None,
    *,
    batch: str | None,
    node: str,
) -> int:
    """2205 / 2302: cancel unsettled lines; refused when any named line is settled."""
    lines = repo.lines_of_visit(conn, visit["mdtrt_id"])
    chosen = [
        r
        for r in lines
        if r["vali_flag"] == "1"
        and (sns is None or r["feedetl_sn"] in sns)
        and (batch is None or r["chrg_bchno"] == batch)
    ]
    settled = [r for r in chosen if r["setl_id"] is not None]
    if settled:
        raise Conflict(
            f"{node}: 明细 {settled[0]['feedetl_sn']} 已结算, 请先撤销结算 "
            "(lines under a valid settlement cannot be cancelled; reverse the settlement first)"
        )
    if sns is not None:
        known = {r["feedetl_sn"] for r in chosen}
        for sn in sns:
            if sn not in known:
                raise InvalidInput(
                    f"{node}.feedetl_sn: 明细不存在或已撤销 '{sn}' (no such valid line)"
                )
    if not chosen:
        raise InvalidInput(f"{node}: 没有可撤销的费用明细 (no unsettled lines to cancel)")
    return repo.cancel_lines(conn, visit["mdtrt_id"], [r["feedetl_sn"] for r in chosen], caller.now)


def settle_visit(
    conn: Connection,
    caller: Caller,
    pricing: Pricing,
    command: Settle,
    *,
    kind: str,
    final: bool,
    node: str = "data",
) -> dict[str, Any]:
    """2206/2207 (outpatient) and 2303/2304 (inpatient): settle the unsettled lines of a visit
    (of one charge batch for outpatients when `chrg_bchno` names one)."""
    psn_no = command.psn_no
    mdtrt_id = command.mdtrt_id
    total = command.medfee_sumamt
    insutype = command.insutype
    acct_used = command.acct_used_flag
    cert_type = command.mdtrt_cert_type
    invono = command.invono
    # MySQL protocol: the visit and the person's rows in one request (`repo.prefetch_party`)
    repo.prefetch_party(
        conn,
        psn_no,
        insutype,
        lock=final,
        year=caller.now.year,
        first=[repo.visit_read(mdtrt_id)],
    )
    visit = repo.visit(conn, caller.fixmedins_code, mdtrt_id, psn_no, kind=kind, node=node)
    if insutype != visit["insutype"]:
        raise InvalidInput(
            f"{node}.insutype: 险种 {insutype} 与就诊登记的险种 {visit['insutype']} 不一致 "
            "(insutype differs from the visit's)"
        )
    if kind == repo.OUTPATIENT:
        med_type: str = required(command.med_type, f"{node}.med_type")
        batch = command.chrg_bchno
        if batch == ALL_BATCHES:
            batch = None
        same_admission = False
    else:
        med_type = command.med_type or visit["med_type"]
        batch = None
        mid = command.mid_setl_flag
        previous = repo.valid_settlements(conn, mdtrt_id)
        same_admission = bool(previous)
        if final and not mid and visit["mdtrt_stas"] != repo.DISCHARGED:
            raise Conflict(
                f"{node}.mdtrt_id: 未办理出院, 不能结算 (discharge with 2402 first, or send "
                "mid_setl_flag 1 for an interim settlement)"
            )
    visit_lines: list[repo.Row] = []
    if review_steps.reviewing(pricing):
        # the review shows the rules the visit's other lines too: one read serves both
        visit_lines = repo.visit_lines_to_settle(conn, mdtrt_id)
        lines = [
            r
            for r in visit_lines
            if r["setl_id"] is None and (batch is None or r["chrg_bchno"] == batch)
        ]
    else:
        lines = repo.lines_to_settle(conn, mdtrt_id, chrg_bchno=batch)
    if not lines:
        where = f"{node}.chrg_bchno" if batch else f"{node}.mdtrt_id"
        raise InvalidInput(f"{where}: 没有待结算的费用明细 (no unsettled fee lines)")
    ledger.check_total(total, lines, node)
    day = caller.now.date()
    party = ledger.load_party(conn, caller, psn_no, insutype, day, lock=final, node=node)
    filings.require_for_settlement(
        conn,
        caller,
        psn_no=psn_no,
        insutype=insutype,
        med_type=med_type,
        dise_codg=visit["dise_codg"],
        day=day,
        node=node,
    )
    infno = {
        (repo.OUTPATIENT, False): "2206",
        (repo.OUTPATIENT, True): "2207",
        (repo.INPATIENT, False): "2303",
        (repo.INPATIENT, True): "2304",
    }[(kind, final)]
    outcome = review_steps.at_settlement(
        conn,
        caller,
        pricing,
        visit=visit,
        person=party.person,
        med_type=med_type,
        kind=kind,
        final=final,
        infno=infno,
        to_settle=lines,
        visit_lines=visit_lines,
    )
    verdict = remote.check(
        conn,
        pricing.book,
        district=caller.admdvs,
        insu=party.insu,
        med_type=med_type,
        day=day,
        node=node,
    )
    accum = accumulators.read(conn, psn_no, insutype, day.year)
    split = _split_of(
        pricing.book,
        party,
        lines,
        med_type=med_type,
        hosp_lv=caller.hosp_lv,
        day=day,
        acct_used=acct_used,
        accum=accum,
        same_admission=same_admission,
        ratio_cut=verdict.ratio_cut,
        node=node,
    )
    clr_type = CLR_TYPE[kind]
    setl_id = None
    setl_time = None
    medins_setl_id = None
    if final:
        ledger.check_echo(split, command, node)
        row = ledger.write_settlement(
            conn,
            caller,
            party=party,
            visit=visit,
            split=split,
            lines=lines,
            structure=fees.fee_structure(lines),
            med_type=med_type,
            clr_type=clr_type,
            mdtrt_cert_type=cert_type or visit["mdtrt_cert_type"],
            chrg_bchno=batch,
            invono=invono,
        )
        setl_id, setl_time, medins_setl_id = row["setl_id"], row["setl_time"], caller.msgid
        if kind == repo.INPATIENT and visit["mdtrt_stas"] == repo.DISCHARGED:
            repo.update_visit(
                conn, mdtrt_id, {"mdtrt_stas": repo.SETTLED, "updated_at": caller.now}
            )
            repo.visit_changed(conn, {**visit, "mdtrt_stas": repo.SETTLED})
        review_steps.store(
            conn, caller, outcome, psn_no=psn_no, mdtrt_id=mdtrt_id, infno=infno, setl_id=setl_id
        )
    return outcome.attach(
        {
            "setlinfo": output.setlinfo(
                amounts=output.split_amounts(split),
                person=party.person,
                insu=party.insu,
                mdtrt_id=mdtrt_id,
                setl_id=setl_id,
                setl_time=setl_time,
                mdtrt_cert_type=cert_type or visit["mdtrt_cert_type"],
                med_type=med_type,
                medins_setl_id=medins_setl_id,
                clr_optins=caller.admdvs,
                clr_type=clr_type,
                day=day,
            ),
            "setldetail": output.setldetail_from_split(split.setldetail),
        }
    )


#: The split of a visit's stored lines, by every input of `ledger.compute`: a 2207 takes the
#: split its 2206 computed (the same lines, person, accumulators and parameters) instead of
#: rebuilding the lines and running the calculator again. Every input is read from the row
#: store, where amounts come back at their column's scale, so equal keys are equal
#: representations and the split is exactly the one computing would give. An entry is taken
#: out when used, and the oldest go first past a few hundred: a cache that grew to thousands
#: of entries kept enough objects alive to set off full garbage collections, which cost more
#: than the calculator saved. An entry is placed by a few plain values (the book, the visit,
#: its first line, the count) and taken only when every input is equal: hashing the inputs
#: themselves cost ~1 µs per amount, as a Decimal fresh from the row store computes its hash
#: on first use, and a bill holds dozens.
_SPLITS: dict[tuple[Any, ...], tuple[PolicyBook, tuple[Any, ...], SettlementSplit]] = {}
_SPLITS_MAX = 256
_SPLITS_LOCK = threading.Lock()


def _split_of(
    book: PolicyBook,
    party: ledger.Party,
    lines: Sequence[Mapping[str, Any]],
    *,
    med_type: str,
    hosp_lv: str,
    day: date,
    acct_used: bool,
    accum: Mapping[str, Decimal],
    same_admission: bool,
    node: str,
    ratio_cut: Decimal = Decimal(0),
) -> SettlementSplit:
    key = (
        id(book),
        party.terms,
        party.insu["insuplc_admdvs"],
        med_type,
        hosp_lv,
        day,
        acct_used,
        same_admission,
        ratio_cut,
        tuple(accum.items()),
        tuple(lines[0]) if lines else (),  # the column names, then each line's values
        *[tuple(r.values()) for r in lines],
    )
    first = lines[0] if lines else {}
    place = (id(book), first.get("mdtrt_id"), first.get("feedetl_sn"), len(lines))
    with _SPLITS_LOCK:  # the event loop (2206) and the writer (2207) share it
        hit = _SPLITS.pop(place, None)
    if hit is not None and hit[0] is book and hit[1] == key:
        return hit[2]
    split = ledger.compute(
        book,
        party,
        [fees.fee_in_from_row(r) for r in lines],
        med_type=med_type,
        hosp_lv=hosp_lv,
        day=day,
        acct_used=acct_used,
        accum=accum,
        same_admission=same_admission,
        ratio_cut=ratio_cut,
        node=node,
    )
    with _SPLITS_LOCK:
        while len(_SPLITS) >= _SPLITS_MAX:
            del _SPLITS[next(iter(_SPLITS))]  # the oldest
        _SPLITS[place] = (book, key, split)
    return split


def settlement_output(
    conn: Connection, row: Mapping[str, Any], *, day: date | None = None
) -> dict[str, Any]:
    """setlinfo + setldetail of a stored settlement (or reversal) row."""
    person = repo.person(conn, row["psn_no"])
    insu = repo.insurance(conn, row["psn_no"], row["insutype"])
    info = output.setlinfo(
        amounts=row,
        person=person,
        insu={**insu, "psn_type": row["psn_type"]},
        mdtrt_id=row["mdtrt_id"],
        setl_id=row["setl_id"],
        setl_time=row["setl_time"],
        mdtrt_cert_type=row["mdtrt_cert_type"],
        med_type=row["med_type"],
        medins_setl_id=row["medins_setl_id"],
        clr_optins=row["clr_optins"],
        clr_type=row["clr_type"],
        clr_way=row["clr_way"],
        day=day or row["setl_time"].date(),
    )
    return {
        "setlinfo": info,
        "setldetail": output.setldetail_from_rows(repo.funds(conn, row["setl_id"])),
    }


def reverse_by_request(
    conn: Connection, caller: Caller, command: ReverseSettlement, *, kind: str, infno: str
) -> dict[str, Any]:
    """2208 / 2305 / 2103: reverse a whole settlement named by setl_id + mdtrt_id + psn_no."""
    setl_id = command.setl_id
    mdtrt_id = command.mdtrt_id
    psn_no = command.psn_no
    row = repo.settlement(conn, caller.fixmedins_code, setl_id)
    if row["mdtrt_id"] != mdtrt_id:
        raise InvalidInput(
            f"data.mdtrt_id: 与结算记录的就诊ID不一致 '{mdtrt_id}' (does not match the settlement)"
        )
    if row["psn_no"] != psn_no:
        raise InvalidInput(
            f"data.psn_no: 与结算记录的人员编号不一致 '{psn_no}' (does not match the settlement)"
        )
    if row["clr_type"] != CLR_TYPE[kind]:
        raise InvalidInput(
            f"data.setl_id: 结算 {setl_id} 不是本交易可撤销的结算类别 (clr_type {row['clr_type']})"
        )
    reversal = ledger.reverse(conn, caller, row, revs_infno=infno)
    if kind == repo.INPATIENT:
        visit = repo.visit(conn, caller.fixmedins_code, mdtrt_id, psn_no, open_only=False)
        if visit["mdtrt_stas"] == repo.SETTLED:
            repo.update_visit(
                conn, mdtrt_id, {"mdtrt_stas": repo.DISCHARGED, "updated_at": caller.now}
            )
            repo.visit_changed(conn, {**visit, "mdtrt_stas": repo.DISCHARGED})
    return settlement_output(conn, reversal, day=caller.now.date())
