"""Pharmacy use cases: 2101 药店预结算, 2102 药店结算, 2103 药店结算撤销.

A pharmacy does not register: 2102 creates the visit (`mdtrt_kind` pharmacy), stores the drug
lines and settles them in one transaction; 2101 computes the same without writing anything.
Each store (a `fixmedins` of its own) settles itself; a chain's parent does not act for its
stores.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from yibao.errors import InvalidInput
from yibao.settlement import (
    accumulators,
    fees,
    filings,
    ledger,
    output,
    records,
    remote,
    repo,
    review_steps,
    steps,
)
from yibao.settlement.commands import ReverseSettlement, SettlePharmacy
from yibao.settlement.context import Caller, Pricing
from yibao.settlement.visits import new_visit

#: med_type of a pharmacy purchase when the POS sends none (定点药店购药)
PHARMACY_MED_TYPE = "41"


def settle(
    conn: Connection, caller: Caller, pricing: Pricing, command: SettlePharmacy, *, final: bool
) -> dict[str, Any]:
    """2101 (`final` False: compute only) / 2102 (open the visit, store the lines, settle)."""
    n = "druginfo"
    psn_no = command.psn_no
    cert_type = command.mdtrt_cert_type
    cert_no = command.mdtrt_cert_no
    total = command.medfee_sumamt
    insutype = command.insutype
    acct_used = command.acct_used_flag
    med_type = command.med_type
    begntime = command.begntime or caller.now
    invono = command.invono
    dise_codg = command.dise_codg
    dise_name = command.dise_name
    lines = command.drugdetail
    uploaded = sum((ln.det_item_fee_sumamt for ln in lines), records.ZERO)
    if uploaded != total:
        raise InvalidInput(
            f"{n}.medfee_sumamt: 医疗费总额 {total} 与药品明细合计 {uploaded} 不一致 "
            "(must equal the sum of drugdetail)"
        )
    day = caller.now.date()
    person = repo.person(conn, psn_no, node=n)
    party = ledger.load_party(
        conn, caller, psn_no, insutype, day, lock=final, node=n, person=person
    )
    # a pharmacy's 门慢 purchase (med_type 14) is entitled by the person's filing too
    filings.require_for_settlement(
        conn,
        caller,
        psn_no=psn_no,
        insutype=insutype,
        med_type=med_type,
        dise_codg=dise_codg,
        day=day,
        node=n,
    )
    mdtrt_id = caller.ids.next_str() if final else None
    infno = "2102" if final else "2101"
    terms = fees.terms_by_line(conn, pricing.catalog, lines)
    outcome = review_steps.at_pharmacy(
        conn,
        caller,
        pricing,
        person=person,
        psn_no=psn_no,
        mdtrt_id=mdtrt_id,
        med_type=med_type,
        begntime=begntime,
        dise_codg=dise_codg,
        lines=lines,
        final=final,
        infno=infno,
        terms=terms,
    )
    verdict = remote.check(
        conn,
        pricing.book,
        district=caller.admdvs,
        insu=party.insu,
        med_type=med_type,
        day=day,
        node=n,
    )
    split_rows = fees.split_uploaded(
        conn,
        lines,
        steps.facts(caller, person, party.insu, med_type, day),
        node="drugdetail",
        fixmedins_code=caller.fixmedins_code,
        mapping_rule=pricing.mapping_rule,
        book=pricing.book,
        diag_codes=[dise_codg] if dise_codg else [],
        forced=outcome.selfpay(),
        line_terms=terms,
    )
    rows = [
        fees.row_values(
            ln,
            split,
            forced,
            mdtrt_id=mdtrt_id or "",
            psn_no=psn_no,
            fixmedins_code=caller.fixmedins_code,
            msgid=caller.msgid,
            at=caller.now,
        )
        for ln, split, forced in split_rows
    ]
    split = ledger.compute(
        pricing.book,
        party,
        [fees.fee_in_from_row(r) for r in rows],
        med_type=med_type,
        hosp_lv=caller.hosp_lv,
        day=day,
        acct_used=acct_used,
        accum=accumulators.read(conn, psn_no, insutype, day.year),
        ratio_cut=verdict.ratio_cut,
        node=n,
    )
    setl_id = setl_time = medins_setl_id = None
    if final:
        assert mdtrt_id is not None
        visit = new_visit(
            caller,
            mdtrt_id=mdtrt_id,
            psn_no=psn_no,
            insutype=insutype,
            med_type=med_type,
            kind=repo.PHARMACY,
            stas=repo.SETTLED,
            cert_type=cert_type.value,
            cert_no=cert_no,
            begntime=begntime,
            endtime=caller.now,
            dise_codg=dise_codg,
            dise_name=dise_name,
        )
        repo.insert_visit(conn, visit)
        fees.store(conn, rows)
        row = ledger.write_settlement(
            conn,
            caller,
            party=party,
            visit=visit,
            split=split,
            lines=rows,
            structure=fees.fee_structure(rows),
            med_type=med_type,
            clr_type=steps.CLR_TYPE[repo.PHARMACY],
            mdtrt_cert_type=cert_type.value,
            invono=invono,
        )
        repo.visit_changed(conn, visit, new=True)
        setl_id, setl_time, medins_setl_id = row["setl_id"], row["setl_time"], caller.msgid
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
                mdtrt_cert_type=cert_type.value,
                med_type=med_type,
                medins_setl_id=medins_setl_id,
                clr_optins=caller.admdvs,
                clr_type=steps.CLR_TYPE[repo.PHARMACY],
                day=day,
            ),
            "setldetail": output.setldetail_from_split(split.setldetail),
            "detlcutinfo": [output.line_result(s) for s in split.lines],
        }
    )


def reverse(conn: Connection, caller: Caller, command: ReverseSettlement) -> dict[str, Any]:
    """2103: reverse a pharmacy settlement."""
    out = steps.reverse_by_request(conn, caller, command, kind=repo.PHARMACY, infno="2103")
    info = out["setlinfo"]
    # 2103 names the personal part and the cash part psn_pay / cash_payamt.
    info["psn_pay"] = info["psn_part_amt"]
    info["cash_payamt"] = info["psn_cash_pay"]
    return out
