"""What a settlement writes, as rows: the one definition of the `setl` row, its `setl_fund`
rows, its `extra` JSON, the settled values of its fee lines and the reversal record.

Pure: no SQL, no connection, no caller context — the facts come in as arguments and the rows
go out as dicts of raw values (Decimal, datetime), keyed by column. Live settlement
(`settlement.ledger`, `settlement.fees`) writes these dicts; the bulk loader
(`simulate.settle_rows`) converts the very same dicts to its at-rest tuples, so what a
simulated city holds is what live settlement would have written for it.

A reversal never deletes (2208/2305/2103, 2601): it is a new record with every amount negated,
linked to the original (`refd_setl_flag` "1", `init_setl_id`), carrying the negated
accumulator delta in its `extra` so that adding it undoes the original.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from operator import attrgetter
from typing import Any

from yibao.policy import LineSplit, SettlementSplit
from yibao.settlement.output import AMOUNTS
from yibao.storage.schema.care import FORCED_SELFPAY as _FORCED_SELFPAY

ZERO = Decimal("0.00")

#: the fee-structure sums of a settlement (药/耗/检查检验), by med_chrgitm_type
#: (09/10/11 西药/中成药/中药饮片, 08 卫生材料, 03/04 检查/化验)
FEE_GROUP: Mapping[str, str] = {
    "09": "drug", "10": "drug", "11": "drug", "08": "mcs", "03": "exam", "04": "exam",
}  # fmt: skip
#: the setl columns the fee structure fills
FEE_STRUCTURE = ("drug_sumamt", "mcs_sumamt", "exam_sumamt", "fee_line_cnt")
#: amounts negated on a reversal record (setlinfo amounts + the fee structure sums)
REVERSED_AMOUNTS = (*AMOUNTS, "drug_sumamt", "mcs_sumamt", "exam_sumamt")
#: a split's setlinfo amounts, in the order of AMOUNTS
_amounts_of = attrgetter(*AMOUNTS)
#: position of the "self-pay forced by a restriction or mapping" marker in fee_detail.flags
#: (the column's layout: storage.schema.care)
FORCED_SELFPAY = _FORCED_SELFPAY


def neg(value: Decimal) -> Decimal:
    """An amount negated; a zero stays the zero it is (no "-0.00" in a record)."""
    return ZERO - value if value else value


# --- fee lines --------------------------------------------------------------------------------


def flags_of(split: LineSplit, forced: bool) -> str:
    """fee_detail.flags: the six catalog flags, then the forced self-pay marker."""
    return "".join(
        "1" if v else "0"
        for v in (
            split.lmt_used_flag,
            split.bas_medn_flag,
            split.hi_nego_drug_flag,
            split.chld_medc_flag,
            split.list_sp_item_flag,
            split.drt_reim_flag,
            forced,
        )
    )


def line_values(split: LineSplit, forced: bool) -> dict[str, Any]:
    """The fee_detail columns that follow from a line's split (2204/2301 明细分割) alone;
    `forced` when a restriction or the mapping rule made the line self-paid."""
    return {
        "hilist_name": split.hilist_name,
        "list_type": split.list_type.value if split.list_type is not None else None,
        "det_item_fee_sumamt": split.det_item_fee_sumamt,
        "cnt": split.cnt,
        "pric": split.pric,
        "pric_uplmt_amt": split.pric_uplmt_amt,
        "selfpay_prop": split.selfpay_prop,
        "fulamt_ownpay_amt": split.fulamt_ownpay_amt,
        "overlmt_amt": split.overlmt_amt,
        "preselfpay_amt": split.preselfpay_amt,
        "inscp_scp_amt": split.inscp_scp_amt,
        "chrgitm_lv": split.chrgitm_lv.value,
        "med_chrgitm_type": split.med_chrgitm_type.value,
        "flags": flags_of(split, forced),
        "memo": split.memo[:500] if split.memo else None,
    }


def fee_structure(lines: Iterable[tuple[str, Decimal]]) -> dict[str, Any]:
    """药/耗/检查检验 sums and the line count of the settled lines, given as
    (med_chrgitm_type, det_item_fee_sumamt) pairs (setl drug_sumamt, mcs_sumamt, exam_sumamt,
    fee_line_cnt)."""
    drug = mcs = exam = ZERO
    count = 0
    for kind, amount in lines:
        count += 1
        group = FEE_GROUP.get(kind)
        if group == "drug":
            drug += amount
        elif group == "mcs":
            mcs += amount
        elif group == "exam":
            exam += amount
    return {"drug_sumamt": drug, "mcs_sumamt": mcs, "exam_sumamt": exam, "fee_line_cnt": count}


# --- setl.extra -------------------------------------------------------------------------------


#: `json.dumps(…, ensure_ascii=False, default=str)`, with the encoder made once
_ENCODER = json.JSONEncoder(ensure_ascii=False, default=str)


def _json(values: Mapping[str, Any]) -> str:
    return _ENCODER.encode(values)


def settlement_extra(
    split: SettlementSplit,
    *,
    family_psn_no: str | None,
    feedetl_sns: Sequence[str] | None = None,
    simulated: bool = False,
) -> str:
    """setl.extra of a settlement: the accumulator delta (what a reversal subtracts), the
    family member whose account shared (家庭共济; a reversal gives the money back to them),
    the policy version and visit class applied, and the settled lines (`feedetl_sns`; a
    2601 of the reversal links them again). A bulk-loaded settlement names no lines and says
    it is `simulated`."""
    values: dict[str, Any] = {
        "acc": {k: str(v) for k, v in split.accumulator_delta.items()},
        "family_psn_no": family_psn_no,
        "policy_version": split.policy_version,
        "visit_class": split.visit_class,
    }
    if feedetl_sns is not None:
        values["feedetl_sns"] = list(feedetl_sns)
    if simulated:
        values["simulated"] = True
    return _json(values)


def reversal_extra(delta: Mapping[str, Decimal], *, family_psn_no: str | None) -> str:
    """setl.extra of a reversal record (or of the record that undoes a reversal): the
    accumulator delta it applies and the family member whose account it moves."""
    return _json({"acc": {k: str(v) for k, v in delta.items()}, "family_psn_no": family_psn_no})


def extra_of(row: Mapping[str, Any]) -> dict[str, Any]:
    """A setl row's `extra`, read back ({} when it has none)."""
    if not row.get("extra"):
        return {}
    loaded = json.loads(row["extra"])
    return loaded if isinstance(loaded, dict) else {}


def accumulator_delta(extra: Mapping[str, Any], *, negate: bool) -> dict[str, Decimal]:
    """The accumulator delta kept in a settlement's `extra`, negated when `negate` (what
    undoes it)."""
    raw = extra.get("acc") or {}
    out = {}
    for key, value in raw.items():
        amount = Decimal(str(value))
        out[key] = neg(amount) if negate else amount
    return out


def negated(delta: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """An accumulator delta negated (what a reversal records)."""
    return {k: neg(v) for k, v in delta.items()}


# --- setl_fund --------------------------------------------------------------------------------


def fund_rows(setl_id: str, split: SettlementSplit) -> list[dict[str, Any]]:
    """The settlement's setl_fund rows: one per fund type (setldetail rows of one fund type
    are summed), the process text cut to the column's 4000 characters."""
    merged: dict[str, dict[str, Any]] = {}
    for d in split.setldetail:
        code = d.fund_pay_type.value
        if code in merged:
            merged[code]["fund_payamt"] += d.fund_payamt
            continue
        merged[code] = {
            "setl_id": setl_id,
            "fund_pay_type": code,
            "inscp_scp_amt": d.inscp_scp_amt,
            "crt_payb_lmt_amt": d.crt_payb_lmt_amt,
            "fund_payamt": d.fund_payamt,
            "setl_proc_info": (d.setl_proc_info or "")[:4000] or None,
        }
    return list(merged.values())


def reversal_funds(funds: Iterable[Mapping[str, Any]], setl_id: str) -> list[dict[str, Any]]:
    """The fund rows of a reversal record `setl_id`: those of the record it negates, amounts
    negated."""
    return [
        {
            **f,
            "setl_id": setl_id,
            "inscp_scp_amt": neg(f["inscp_scp_amt"]),
            "fund_payamt": neg(f["fund_payamt"]),
        }
        for f in funds
    ]


# --- setl -------------------------------------------------------------------------------------


def settlement_row(
    split: SettlementSplit,
    visit: Mapping[str, Any],
    structure: Mapping[str, Any],
    *,
    setl_id: str,
    psn_no: str,
    insutype: str,
    psn_type: str,
    insuplc_admdvs: str,
    age: int,
    fixmedins_code: str,
    clr_optins: str,
    hosp_lv: str,
    med_type: str,
    clr_type: str,
    mdtrt_cert_type: str | None,
    setl_time: datetime,
    medins_setl_id: str,
    extra: str,
    written_at: datetime,
    chrg_bchno: str | None = None,
    invono: str | None = None,
    opter_id: str | None = None,
    opter_name: str | None = None,
    vali_flag: str = "1",
) -> dict[str, Any]:
    """The `setl` row of a settlement: the split's amounts, the visit's (`visit`: its mdtrt
    row) diagnosis and dates, the insured person's insurance, the institution (清算经办机构 =
    its region), the fee `structure` (`fee_structure`). An inpatient settlement before
    discharge (clr_type 21, no endtime) has no end date; any other ends when it settles."""
    return {
        "setl_id": setl_id,
        "mdtrt_id": visit["mdtrt_id"],
        "psn_no": psn_no,
        "fixmedins_code": fixmedins_code,
        "insutype": insutype,
        "psn_type": psn_type,
        "med_type": med_type,
        "clr_type": clr_type,
        "clr_way": "1",
        "clr_optins": clr_optins,
        "hosp_lv": hosp_lv,
        "insuplc_admdvs": insuplc_admdvs,
        "mdtrt_cert_type": mdtrt_cert_type,
        "setl_time": setl_time,
        "year": setl_time.year,
        "age": age,
        "chrg_bchno": chrg_bchno,
        "dise_codg": visit.get("dise_codg"),
        "dise_name": visit.get("dise_name"),
        "maindiag_code": visit.get("maindiag_code"),
        "begndate": visit.get("begntime"),
        "enddate": visit.get("endtime") or (setl_time if clr_type != "21" else None),
        **dict(zip(AMOUNTS, _amounts_of(split), strict=True)),
        "pool_prop_selfpay": split.pool_prop_selfpay,
        "balc": split.balc,
        **structure,
        "medins_setl_id": medins_setl_id,
        "refd_setl_flag": "0",
        "init_setl_id": None,
        "vali_flag": vali_flag,
        "revs_infno": None,
        "invono": invono,
        "opter_id": opter_id or None,
        "opter_name": opter_name or None,
        "extra": extra,
        "created_at": written_at,
        "updated_at": written_at,
    }


def reversal_row(
    source: Mapping[str, Any],
    columns: Iterable[str],
    *,
    setl_id: str,
    setl_time: datetime,
    medins_setl_id: str,
    revs_infno: str,
    balc: Decimal | None,
    extra: str,
    written_at: datetime,
    opter_id: str | None = None,
    opter_name: str | None = None,
) -> dict[str, Any]:
    """A reversal record of `source` (a setl row; `columns` the setl columns): every amount
    negated and the line count too, linked to it, valid; `balc` the holder's balance after
    the money went back."""
    row = {name: source[name] for name in columns}
    for name in REVERSED_AMOUNTS:
        row[name] = neg(source[name])
    row.update(
        setl_id=setl_id,
        fee_line_cnt=-int(source["fee_line_cnt"] or 0),
        setl_time=setl_time,
        medins_setl_id=medins_setl_id,
        refd_setl_flag="1",
        init_setl_id=source["setl_id"],
        vali_flag="1",
        revs_infno=revs_infno,
        balc=balc,
        opter_id=opter_id or None,
        opter_name=opter_name or None,
        extra=extra,
        created_at=written_at,
        updated_at=written_at,
    )
    return row
