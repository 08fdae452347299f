"""Readers of the input nodes several settlement transactions share: fee lines (feedetail of
2204/2301, drugdetail of 2101/2102), diagnoses (diseinfo of 2203, 2401, 2402, 2403), the
(pre-)settlement and reversal requests of the outpatient, inpatient and pharmacy sides. Every
refusal names the node and the field (`feedetail[3].det_item_fee_sumamt`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from yibao.codes.dicts import DiagType, Flag, HospApprFlag
from yibao.errors import InvalidInput
from yibao.interface import fields as f
from yibao.kit.money import round_fen
from yibao.settlement.commands import (
    ECHOED_TOTALS,
    Diagnosis,
    FeeLine,
    ReverseSettlement,
    Settle,
    VisitRef,
)
from yibao.settlement.fees import PRICE_TOLERANCE


def read_fee_lines(
    items: Sequence[Mapping[str, Any]],
    node: str,
    *,
    refunds: bool = False,
    require_visit: bool = True,
    require_batch: bool = False,
) -> tuple[FeeLine, ...]:
    """Read `items`: each line's fields, its serial number unique in the message, its amount
    equal to cnt × pric (within the tolerance HIS rounding needs), a refund naming its line."""
    out: list[FeeLine] = []
    seen: set[str] = set()
    for i, d in enumerate(items):
        where = f"{node}[{i}]"
        sn = f.req_str(d, "feedetl_sn", node_name=where, max_len=30)
        if sn in seen:
            raise InvalidInput(
                f"{where}.feedetl_sn: 明细流水号重复 '{sn}' (duplicate feedetl_sn in the message)"
            )
        seen.add(sn)
        amount = f.req_amount(d, "det_item_fee_sumamt", node_name=where, allow_negative=refunds)
        cnt = f.req_decimal(d, "cnt", node_name=where, places=4, allow_negative=refunds)
        pric = f.req_decimal(d, "pric", node_name=where, places=6)
        if abs(round_fen(cnt * pric) - amount) > PRICE_TOLERANCE:
            raise InvalidInput(
                f"{where}.det_item_fee_sumamt: 明细金额 {amount} 与 数量×单价 "
                f"{cnt}×{pric} 不符 (must equal cnt × pric)"
            )
        init_sn = f.opt_str(d, "init_feedetl_sn", node_name=where, max_len=30)
        if amount < 0 and not init_sn:
            raise InvalidInput(
                f"{where}.init_feedetl_sn: 退费明细须填写原明细流水号 "
                "(a refund line must name the line it refunds)"
            )
        appr = f.opt_code(d, "hosp_appr_flag", HospApprFlag, node_name=where)
        out.append(
            FeeLine(
                index=i,
                feedetl_sn=sn,
                mdtrt_id=(
                    f.req_str(d, "mdtrt_id", node_name=where, max_len=30)
                    if require_visit
                    else f.opt_str(d, "mdtrt_id", node_name=where, max_len=30)
                ),
                psn_no=(
                    f.req_str(d, "psn_no", node_name=where, max_len=30)
                    if require_visit
                    else f.opt_str(d, "psn_no", node_name=where, max_len=30)
                ),
                chrg_bchno=(
                    f.req_str(d, "chrg_bchno", node_name=where, max_len=30)
                    if require_batch
                    else f.opt_str(d, "chrg_bchno", node_name=where, max_len=30)
                ),
                fee_ocur_time=f.req_datetime(d, "fee_ocur_time", node_name=where),
                med_list_codg=f.req_str(d, "med_list_codg", node_name=where, max_len=50),
                medins_list_codg=f.opt_str(d, "medins_list_codg", node_name=where, max_len=150),
                det_item_fee_sumamt=amount,
                cnt=cnt,
                pric=pric,
                hosp_appr_flag=appr or HospApprFlag.NOT_REQUIRED,
                init_feedetl_sn=init_sn,
                values={
                    "rxno": f.opt_str(d, "rxno", node_name=where, max_len=30),
                    "drord_no": f.opt_str(d, "drord_no", node_name=where, max_len=30),
                    "rx_circ_flag": f.opt_str(d, "rx_circ_flag", node_name=where, max_len=1),
                    "bilg_dept_codg": f.opt_str(d, "bilg_dept_codg", node_name=where, max_len=30),
                    "bilg_dept_name": f.opt_str(d, "bilg_dept_name", node_name=where, max_len=100),
                    "bilg_dr_codg": f.opt_str(d, "bilg_dr_codg", node_name=where, max_len=30),
                    "bilg_dr_name": f.opt_str(d, "bilg_dr_name", node_name=where, max_len=50),
                    "sin_dos_dscr": f.opt_str(d, "sin_dos_dscr", node_name=where, max_len=200),
                    "used_frqu_dscr": f.opt_str(d, "used_frqu_dscr", node_name=where, max_len=200),
                    "prd_days": f.opt_decimal(d, "prd_days", node_name=where, places=2),
                    "medc_way_dscr": f.opt_str(d, "medc_way_dscr", node_name=where, max_len=200),
                },
            )
        )
    return tuple(out)


def read_diagnoses(input: Mapping[str, Any], node: str, *, required: bool) -> tuple[Diagnosis, ...]:
    """The `node` array of diagnoses; diag_srt_no unique, 1 the main one unless flagged."""
    out: list[Diagnosis] = []
    for i, d in enumerate(f.node_list(input, node, required=required)):
        w = f"{node}[{i}]"
        srt = f.req_decimal(d, "diag_srt_no", node_name=w, places=0, max_abs=Decimal(99))
        out.append(
            Diagnosis(
                diag_srt_no=int(srt),
                diag_type=f.req_code(d, "diag_type", DiagType, node_name=w).value,
                maindiag_flag=f.opt_str(d, "maindiag_flag", node_name=w, max_len=1)
                or ("1" if int(srt) == 1 else "0"),
                diag_code=f.req_str(d, "diag_code", node_name=w, max_len=20),
                diag_name=f.req_str(d, "diag_name", node_name=w, max_len=100),
                diag_dept=f.opt_str(d, "diag_dept", node_name=w, max_len=50),
                dise_dor_no=f.opt_str(d, "dise_dor_no", node_name=w, max_len=30),
                dise_dor_name=f.opt_str(d, "dise_dor_name", node_name=w, max_len=50),
                diag_time=f.opt_datetime(d, "diag_time", node_name=w),
            )
        )
    numbers = [r.diag_srt_no for r in out]
    if len(numbers) != len(set(numbers)):
        raise InvalidInput(f"{node}.diag_srt_no: 诊断排序号重复 (duplicate diag_srt_no)")
    return tuple(out)


def read_settle(
    input: Mapping[str, Any], *, outpatient: bool, final: bool, node: str = "data"
) -> Settle:
    """The `data` node of 2206/2207 (outpatient) and 2303/2304 (inpatient); a settlement
    (`final`) also carries the four totals echoed from its pre-settlement."""
    d = f.node(input, node)
    psn_no = f.req_str(d, "psn_no", node_name=node, max_len=30)
    mdtrt_id = f.req_str(d, "mdtrt_id", node_name=node, max_len=30)
    total = f.req_amount(d, "medfee_sumamt", node_name=node)
    insutype = f.req_str(d, "insutype", node_name=node, max_len=6)
    acct_used = f.req_code(d, "acct_used_flag", Flag, node_name=node) is Flag.YES
    cert_type = f.opt_str(d, "mdtrt_cert_type", node_name=node, max_len=3)
    invono = f.opt_str(d, "invono", node_name=node, max_len=20)
    med_type = f.opt_str(d, "med_type", node_name=node, max_len=6)
    chrg_bchno = None
    mid_setl_flag = False
    if outpatient:
        chrg_bchno = f.opt_str(d, "chrg_bchno", node_name=node, max_len=30)
    else:
        mid_setl_flag = f.opt_str(d, "mid_setl_flag", node_name=node, max_len=3) == "1"
    echoed: dict[str, Decimal | None] = {}
    if final:
        echoed = {name: f.opt_amount(d, name, node_name=node) for name in ECHOED_TOTALS}
    return Settle(
        psn_no=psn_no,
        mdtrt_id=mdtrt_id,
        medfee_sumamt=total,
        insutype=insutype,
        acct_used_flag=acct_used,
        mdtrt_cert_type=cert_type,
        invono=invono,
        med_type=med_type,
        chrg_bchno=chrg_bchno,
        mid_setl_flag=mid_setl_flag,
        **echoed,
    )


def read_reverse(input: Mapping[str, Any]) -> ReverseSettlement:
    """The `data` node of 2208/2305/2103."""
    d = f.node(input, "data")
    return ReverseSettlement(
        setl_id=f.req_str(d, "setl_id", node_name="data", max_len=30),
        mdtrt_id=f.req_str(d, "mdtrt_id", node_name="data", max_len=30),
        psn_no=f.req_str(d, "psn_no", node_name="data", max_len=30),
    )


def read_visit_ref(input: Mapping[str, Any]) -> VisitRef:
    """The `data` node naming a visit (mdtrt_id, psn_no) of 2202/2404/2405."""
    d = f.node(input, "data")
    return VisitRef(
        mdtrt_id=f.req_str(d, "mdtrt_id", node_name="data", max_len=30),
        psn_no=f.req_str(d, "psn_no", node_name="data", max_len=30),
    )
