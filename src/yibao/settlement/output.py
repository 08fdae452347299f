"""Output nodes as the national interface names them, built as plain dicts (no models on the
hot path). Amounts stay `Decimal` (written as exact JSON numbers); fields not computed are
present as null."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from yibao.codes.dicts import FundPayType
from yibao.kit.clock import age_on, fmt_date, fmt_datetime
from yibao.policy import FundDetail, LineSplit, SettlementSplit, flag

#: setlinfo amounts, in the order of the interface table
AMOUNTS = (
    "medfee_sumamt",
    "fulamt_ownpay_amt",
    "overlmt_selfpay",
    "preselfpay_amt",
    "inscp_scp_amt",
    "act_pay_dedc",
    "hifp_pay",
    "cvlserv_pay",
    "hifes_pay",
    "hifmi_pay",
    "hifob_pay",
    "maf_pay",
    "oth_pay",
    "hifdm_pay",
    "fund_pay_sumamt",
    "psn_part_amt",
    "acct_pay",
    "psn_cash_pay",
    "hosp_part_amt",
    "acct_mulaid_pay",
)

_AGE_Q = Decimal("0.1")


def split_amounts(split: SettlementSplit) -> dict[str, Any]:
    """The setlinfo amounts of a computed split (plus ratio and balance)."""
    out: dict[str, Any] = {name: getattr(split, name) for name in AMOUNTS}
    out["pool_prop_selfpay"] = split.pool_prop_selfpay
    out["balc"] = split.balc
    return out


def date_text(value: date | None) -> str | None:
    """`fmt_date` at a fifth of the CPU (several dates in every 1101 and setlinfo): for a plain
    date of a four-digit year `isoformat` is the same text."""
    if type(value) is date and value.year >= 1000:
        return value.isoformat()
    return fmt_date(value)


def datetime_text(value: datetime | None) -> str | None:
    """`fmt_datetime` likewise, for a naive datetime of a four-digit year."""
    if type(value) is datetime and value.tzinfo is None and value.year >= 1000:
        return value.isoformat(" ", "seconds")
    return fmt_datetime(value)


def age_of(brdy: date, day: date) -> Decimal:
    """Age N4,1 as whole years (周岁) with one decimal place."""
    return Decimal(age_on(brdy, day)).quantize(_AGE_Q)


def person_fields(person: Mapping[str, Any], insu: Mapping[str, Any], day: date) -> dict[str, Any]:
    return {
        "psn_no": person["psn_no"],
        "psn_name": person["psn_name"],
        "psn_cert_type": person["psn_cert_type"],
        "certno": person["certno"],
        "gend": person["gend"],
        "naty": person["naty"],
        "brdy": date_text(person["brdy"]),
        "age": age_of(person["brdy"], day),
        "insutype": insu["insutype"],
        "psn_type": insu["psn_type"],
        "cvlserv_flag": insu["cvlserv_flag"],
    }


def setlinfo(
    *,
    amounts: Mapping[str, Any],
    person: Mapping[str, Any],
    insu: Mapping[str, Any],
    mdtrt_id: str | None,
    setl_id: str | None,
    setl_time: datetime | None,
    mdtrt_cert_type: str | None,
    med_type: str,
    medins_setl_id: str | None,
    clr_optins: str,
    clr_type: str,
    clr_way: str = "1",
    day: date,
) -> dict[str, Any]:
    """The 2206/2207/2303/2304/2101/2102 `setlinfo` (also the reversal outputs)."""
    out: dict[str, Any] = {"mdtrt_id": mdtrt_id, "setl_id": setl_id}
    out.update(person_fields(person, insu, day))
    out["setl_time"] = datetime_text(setl_time)
    out["mdtrt_cert_type"] = mdtrt_cert_type
    out["med_type"] = med_type
    for name in AMOUNTS:
        out[name] = amounts[name]
    out["pool_prop_selfpay"] = amounts.get("pool_prop_selfpay")
    out["balc"] = amounts.get("balc")
    out["medins_setl_id"] = medins_setl_id
    out["clr_optins"] = clr_optins
    out["clr_way"] = clr_way
    out["clr_type"] = clr_type
    out["exp_content"] = None
    return out


def setldetail_from_split(details: Iterable[FundDetail]) -> list[dict[str, Any]]:
    return [
        {
            "fund_pay_type": d.fund_pay_type.value,
            "inscp_scp_amt": d.inscp_scp_amt,
            "crt_payb_lmt_amt": d.crt_payb_lmt_amt,
            "fund_payamt": d.fund_payamt,
            "fund_pay_type_name": d.fund_pay_type.label,
            "setl_proc_info": d.setl_proc_info,
        }
        for d in details
    ]


def setldetail_from_rows(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for r in rows:
        code = r["fund_pay_type"]
        out.append(
            {
                "fund_pay_type": code,
                "inscp_scp_amt": r["inscp_scp_amt"],
                "crt_payb_lmt_amt": r["crt_payb_lmt_amt"],
                "fund_payamt": r["fund_payamt"],
                "fund_pay_type_name": FundPayType(code).label if FundPayType.has(code) else None,
                "setl_proc_info": r["setl_proc_info"],
            }
        )
    return out


def line_result(row: LineSplit) -> dict[str, Any]:
    """A 2204/2301 `result` row (also 2101/2102 `detlcutinfo`)."""
    return {
        "feedetl_sn": row.feedetl_sn,
        "det_item_fee_sumamt": row.det_item_fee_sumamt,
        "cnt": row.cnt,
        "pric": row.pric,
        "pric_uplmt_amt": row.pric_uplmt_amt,
        "selfpay_prop": row.selfpay_prop,
        "fulamt_ownpay_amt": row.fulamt_ownpay_amt,
        "overlmt_amt": row.overlmt_amt,
        "preselfpay_amt": row.preselfpay_amt,
        "inscp_scp_amt": row.inscp_scp_amt,
        "chrgitm_lv": row.chrgitm_lv.value,
        "med_chrgitm_type": row.med_chrgitm_type.value,
        "bas_medn_flag": flag(row.bas_medn_flag),
        "hi_nego_drug_flag": flag(row.hi_nego_drug_flag),
        "chld_medc_flag": flag(row.chld_medc_flag),
        "list_sp_item_flag": flag(row.list_sp_item_flag),
        "lmt_used_flag": flag(row.lmt_used_flag),
        "drt_reim_flag": flag(row.drt_reim_flag),
        "memo": row.memo,
        "exp_content": None,
    }


def fee_row_output(row: Mapping[str, Any], med_type: str | None) -> dict[str, Any]:
    """A 5204 row from a stored fee line."""
    flags = (row["flags"] or "").ljust(6, "0")
    return {
        "mdtrt_id": row["mdtrt_id"],
        "setl_id": row["setl_id"],
        "feedetl_sn": row["feedetl_sn"],
        "rx_drord_no": row["rxno"] or row["drord_no"],
        "med_type": med_type,
        "fee_ocur_time": fmt_datetime(row["fee_ocur_time"]),
        "cnt": row["cnt"],
        "pric": row["pric"],
        "sin_dos_dscr": row["sin_dos_dscr"],
        "used_frqu_dscr": row["used_frqu_dscr"],
        "prd_days": row["prd_days"],
        "medc_way_dscr": row["medc_way_dscr"],
        "det_item_fee_sumamt": row["det_item_fee_sumamt"],
        "pric_uplmt_amt": row["pric_uplmt_amt"],
        "selfpay_prop": row["selfpay_prop"],
        "fulamt_ownpay_amt": row["fulamt_ownpay_amt"],
        "overlmt_amt": row["overlmt_amt"],
        "preselfpay_amt": row["preselfpay_amt"],
        "inscp_scp_amt": row["inscp_scp_amt"],
        "chrgitm_lv": row["chrgitm_lv"],
        "hilist_code": row["med_list_codg"] if row["list_type"] else None,
        "hilist_name": row["hilist_name"],
        "list_type": row["list_type"],
        "med_list_codg": row["med_list_codg"],
        "medins_list_codg": row["medins_list_codg"],
        "medins_list_name": None,
        "med_chrgitm_type": row["med_chrgitm_type"],
        "prodname": None,
        "spec": None,
        "dosform_name": None,
        "bilg_dept_codg": row["bilg_dept_codg"],
        "bilg_dept_name": row["bilg_dept_name"],
        "bilg_dr_codg": row["bilg_dr_codg"],
        "bilg_dr_name": row["bilg_dr_name"],
        "lmt_used_flag": flags[0],
        "hosp_appr_flag": row["hosp_appr_flag"],
        "vali_flag": row["vali_flag"],
        "memo": row["memo"],
        "opter_id": None,
        "opter_name": None,
        "opt_time": fmt_datetime(row["created_at"]),
    }
