"""Pharmacy transactions: 2101 药店预结算, 2102 药店结算, 2103 药店结算撤销.

A pharmacy does not register: 2102 creates the visit (`mdtrt_kind` pharmacy), stores the drug
lines and settles them in one transaction; 2101 computes the same without writing anything.
Each store (a `fixmedins` of its own) settles itself; a chain's parent does not act for its
stores.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from yibao.codes.dicts import Flag, MdtrtCertType
from yibao.errors import InvalidInput
from yibao.interface import fields as f
from yibao.interface.context import CallContext
from yibao.interface.registry import transaction
from yibao.settlement import accumulators, fees, ledger, output, repo, services, steps
from yibao.settlement.outpatient import new_visit

PHARMACY_MED_TYPE = "41"


def _pharmacy(
    conn: Connection, ctx: CallContext, input: dict[str, Any], *, final: bool
) -> dict[str, Any]:
    n = "druginfo"
    d = f.node(input, n)
    psn_no = f.req_str(d, "psn_no", node_name=n, max_len=30)
    cert_type = f.req_code(d, "mdtrt_cert_type", MdtrtCertType, node_name=n)
    cert_no = f.opt_str(d, "mdtrt_cert_no", node_name=n, max_len=50)
    total = f.req_amount(d, "medfee_sumamt", node_name=n)
    insutype = f.req_str(d, "insutype", node_name=n, max_len=6)
    acct_used = f.req_code(d, "acct_used_flag", Flag, node_name=n) is Flag.YES
    med_type = f.opt_str(d, "med_type", node_name=n, max_len=6) or PHARMACY_MED_TYPE
    begntime = f.opt_datetime(d, "begntime", node_name=n) or ctx.now
    invono = f.opt_str(d, "invono", node_name=n, max_len=20)
    dise_codg = f.opt_str(d, "dise_codg", node_name=n, max_len=30)
    dise_name = f.opt_str(d, "dise_name", node_name=n, max_len=500)
    lines = fees.read_lines(f.node_list(input, "drugdetail"), "drugdetail", require_visit=False)
    uploaded = sum((ln.det_item_fee_sumamt for ln in lines), ledger.ZERO)
    if uploaded != total:
        raise InvalidInput(
            f"{n}.medfee_sumamt: 医疗费总额 {total} 与药品明细合计 {uploaded} 不一致 "
            "(must equal the sum of drugdetail)"
        )
    day = ctx.now.date()
    person = repo.person(conn, psn_no, node=n)
    party = ledger.load_party(conn, ctx, psn_no, insutype, day, lock=final, node=n, person=person)
    split_rows = fees.split_uploaded(
        conn,
        lines,
        steps.facts(ctx, person, party.insu, med_type, day),
        node="drugdetail",
        cache=services.catalog(ctx.platform),
        fixmedins_code=ctx.fixmedins_code,
        mapping_rule=services.mapping_rule(ctx.platform),
        book=services.book(ctx.platform),
        diag_codes=[dise_codg] if dise_codg else [],
    )
    mdtrt_id = ctx.platform.ids.next_str() if final else None
    rows = [
        fees.row_values(
            ln,
            split,
            forced,
            mdtrt_id=mdtrt_id or "",
            psn_no=psn_no,
            fixmedins_code=ctx.fixmedins_code,
            msgid=ctx.msgid,
            at=ctx.now,
        )
        for ln, split, forced in split_rows
    ]
    split = ledger.compute(
        services.book(ctx.platform),
        party,
        [fees.fee_in_from_row(r) for r in rows],
        med_type=med_type,
        hosp_lv=ctx.institution.hosp_lv,
        day=day,
        acct_used=acct_used,
        accum=accumulators.read(conn, psn_no, insutype, day.year),
        node=n,
    )
    setl_id = setl_time = medins_setl_id = None
    if final:
        assert mdtrt_id is not None
        visit = new_visit(
            ctx,
            mdtrt_id=mdtrt_id,
            psn_no=psn_no,
            insutype=insutype,
            med_type=med_type,
            kind=repo.PHARMACY,
            stas=repo.SETTLED,
            cert_type=cert_type.value,
            cert_no=cert_no,
            begntime=begntime,
            endtime=ctx.now,
            dise_codg=dise_codg,
            dise_name=dise_name,
        )
        repo.insert_visit(conn, visit)
        fees.store(conn, rows)
        row = ledger.write_settlement(
            conn,
            ctx,
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
        repo.visit_changed(conn, visit)
        setl_id, setl_time, medins_setl_id = row["setl_id"], row["setl_time"], ctx.msgid
    return {
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
            clr_optins=ctx.institution.admdvs,
            clr_type=steps.CLR_TYPE[repo.PHARMACY],
            day=day,
        ),
        "setldetail": output.setldetail_from_split(split.setldetail),
        "detlcutinfo": [output.line_result(s) for s in split.lines],
    }


@transaction("2101", "药店预结算", writes=False, inline_read=True)
def pre_settle(conn: Connection, ctx: CallContext, input: dict[str, Any]) -> dict[str, Any]:
    return _pharmacy(conn, ctx, input, final=False)


@transaction("2102", "药店结算", writes=True)
def settle(conn: Connection, ctx: CallContext, input: dict[str, Any]) -> dict[str, Any]:
    return _pharmacy(conn, ctx, input, final=True)


@transaction("2103", "药店结算撤销", writes=True)
def reverse(conn: Connection, ctx: CallContext, input: dict[str, Any]) -> dict[str, Any]:
    out = steps.reverse_by_request(conn, ctx, input, kind=repo.PHARMACY, infno="2103")
    info = out["setlinfo"]
    # 2103 names the personal part and the cash part psn_pay / cash_payamt.
    info["psn_pay"] = info["psn_part_amt"]
    info["cash_payamt"] = info["psn_cash_pay"]
    return out
