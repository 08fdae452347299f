"""The replica's row shapes: what a change-log payload holds for each entity.

This module is the contract between the writers (settlement, enrolment, the simulator's bulk
load) and the replica applier. Writers build payloads with these functions from the row-store
rows they just wrote and append them with `storage.changelog.append_many`; the applier turns
them into Arrow batches.

- Amounts are **integer fen**; datetimes `yyyy-MM-dd HH:mm:ss`; dates `yyyy-MM-dd`.
- **No personal identifiers** leave the row store: no certno, name, phone, card numbers.
  Persons appear by `psn_no` with their attributes (sex, birth year, insurance, person type).
- Settlements: one `setl` payload per settlement row, reversal records included (amounts
  negated, `refd_setl_flag` "1"); when an original is reversed its row is sent again with
  `vali_flag` "0". Sums over all rows therefore net to what the fund really paid.
- Fee lines: one `fee` payload per settlement, keyed by `setl_id`, holding the lines it
  settled as lists (one element a line: `FEE_LINE_FIELDS`) — what the post-hoc rules over
  lines read (bed-only days, charges after discharge or death, holdings, yearly counts).
  A reversal gives the lines back (they are no longer settled): the settlement's `fee`
  payload is sent again with no lines; a 2601 that reinstates it sends its lines again.
  Quantities (`cnt`, `prd_days`) are integers in 1/10,000, as the row store keeps them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from yibao.kit.clock import fmt_date, fmt_datetime
from yibao.replica.pseudonym import given
from yibao.storage.schema.care import forced_selfpay

SETL = "setl"
PSN = "psn"
FIXMEDINS = "fixmedins"
MDTRT = "mdtrt"
RULE_HIT = "rule_hit"
FEE = "fee"

#: a `fee` payload's per-line lists (each as long as the settlement's lines)
FEE_LINE_FIELDS = (
    "feedetl_sn",
    "fee_ocur_time",
    "hilist_code",
    "list_type",
    "med_chrgitm_type",
    "cnt",
    "det_item_fee_sumamt",
    "prd_days",
    "pric",
    "hosp_appr_flag",
    "forced_selfpay",
)
_QTY = Decimal(10000)
_PRICE = Decimal(1_000_000)

#: settlement amounts carried to the replica (fen)
SETL_AMOUNTS = (
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
    "drug_sumamt",
    "mcs_sumamt",
    "exam_sumamt",
)

SETL_TEXT = (
    "setl_id",
    "mdtrt_id",
    "psn_no",
    "fixmedins_code",
    "insutype",
    "psn_type",
    "med_type",
    "clr_type",
    "hosp_lv",
    "insuplc_admdvs",
    "maindiag_code",
    "dise_codg",
    "refd_setl_flag",
    "init_setl_id",
    "vali_flag",
)


def fen(value: Decimal | int | None) -> int:
    if value is None:
        return 0
    if isinstance(value, int):
        return value
    scaled = value.scaleb(2)  # exact: the exponent moves, the digits stay
    integral = int(scaled)
    if scaled != integral:
        raise ValueError(f"amount {value} is not a whole number of fen")
    return integral


_dt = fmt_datetime
_d = fmt_date


def setl_payload(
    row: Mapping[str, Any],
    *,
    admdvs: str,
    gend: str | None,
    visit: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """From a `setl` table row (+ the institution's region, the person's sex and the visit's
    department and doctor, for the department and doctor peers of post-hoc monitoring)."""
    payload: dict[str, Any] = {name: row.get(name) for name in SETL_TEXT}
    for name in SETL_AMOUNTS:
        payload[name] = fen(row.get(name))
    setl_time: datetime = row["setl_time"]
    begndate: datetime | None = row.get("begndate")
    enddate: datetime | None = row.get("enddate")
    payload.update(
        admdvs=admdvs,
        gend=gend,
        age=row.get("age"),
        year=row.get("year") or setl_time.year,
        setl_time=_dt(setl_time),
        setl_date=_d(setl_time.date()),
        begndate=_dt(begndate),
        enddate=_dt(enddate),
        # 住院天数: discharge date minus admission date (same-day stays count one day)
        ipt_days=(
            max(1, (enddate.date() - begndate.date()).days) if begndate and enddate else None
        ),
        fee_line_cnt=int(row.get("fee_line_cnt") or 0),
        dept_code=visit.get("dept_code") if visit else None,
        caty=visit.get("caty") if visit else None,
        dr_code=visit.get("atddr_no") if visit else None,
    )
    return payload


def qty(value: Decimal | int | None) -> int | None:
    """A quantity (N16,4) as an integer in 1/10,000 (None stays None)."""
    if value is None:
        return None
    return int(Decimal(value) * _QTY)


def price(value: Decimal | int | None) -> int | None:
    """A unit price (N16,6) as an integer in millionths, as the row store keeps it."""
    return None if value is None else int(Decimal(value) * _PRICE)


def fee_payload(
    *,
    setl_id: str,
    setl_time: datetime,
    psn_no: str,
    visit: Mapping[str, Any],
    med_type: str,
    lines: Sequence[Mapping[str, Any]],
) -> dict[str, Any]:
    """The settled fee lines of settlement `setl_id` (`fee_detail` rows; `visit`: its `mdtrt`
    row, for the department and the doctor). No lines: the settlement settles none any more
    (reversed). The lines keep the order they are given in."""
    ordered = lines
    return {
        "setl_id": setl_id,
        "mdtrt_id": visit["mdtrt_id"],
        "psn_no": psn_no,
        "fixmedins_code": visit["fixmedins_code"],
        "med_type": med_type,
        "setl_date": _d(setl_time.date()),
        "dept_code": visit.get("dept_code"),
        "caty": visit.get("caty"),
        "dr_code": visit.get("atddr_no"),
        "feedetl_sn": [str(r["feedetl_sn"]) for r in ordered],
        "fee_ocur_time": [_dt(r["fee_ocur_time"]) for r in ordered],
        "hilist_code": [r["med_list_codg"] for r in ordered],
        "list_type": [r.get("list_type") for r in ordered],
        "med_chrgitm_type": [r.get("med_chrgitm_type") for r in ordered],
        "cnt": [qty(r["cnt"]) for r in ordered],
        "det_item_fee_sumamt": [fen(r["det_item_fee_sumamt"]) for r in ordered],
        "prd_days": [qty(r.get("prd_days")) for r in ordered],
        "pric": [price(r.get("pric")) for r in ordered],
        "hosp_appr_flag": [r.get("hosp_appr_flag") for r in ordered],
        # made fully self-paid at settlement (a restriction or a mapping): the fund paid nothing
        "forced_selfpay": ["1" if forced_selfpay(r.get("flags")) else "0" for r in ordered],
    }


def psn_payload(
    psn_row: Mapping[str, Any], insu_row: Mapping[str, Any] | None, *, assistance: bool
) -> dict[str, Any]:
    """From `psn` and its main `psn_insu` row. Deliberately without certno, name, phone, cards."""
    brdy: date = psn_row["brdy"]
    return {
        "psn_no": psn_row["psn_no"],
        "gend": psn_row["gend"],
        "birth_year": brdy.year,
        "insutype": insu_row["insutype"] if insu_row else None,
        "psn_type": insu_row["psn_type"] if insu_row else None,
        "psn_insu_stas": insu_row["psn_insu_stas"] if insu_row else None,
        "insuplc_admdvs": insu_row["insuplc_admdvs"] if insu_row else None,
        "assistance": assistance,
        "death_date": _d(psn_row.get("death_date")),
    }


def fixmedins_payload(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "fixmedins_code": row["fixmedins_code"],
        "fixmedins_name": row["fixmedins_name"],
        "kind": row["kind"],
        "hosp_lv": row["hosp_lv"],
        "admdvs": row["admdvs"],
        "parent_code": row.get("parent_code"),
        "vali_flag": row.get("vali_flag", "1"),
    }


def mdtrt_payload(row: Mapping[str, Any]) -> dict[str, Any]:
    """Visits: admissions and discharges (住院率, 平均住院日), registrations."""
    return {
        "mdtrt_id": row["mdtrt_id"],
        "psn_no": row["psn_no"],
        "fixmedins_code": row["fixmedins_code"],
        "insutype": row["insutype"],
        "med_type": row["med_type"],
        "mdtrt_kind": row["mdtrt_kind"],
        "begntime": _dt(row.get("begntime")),
        "endtime": _dt(row.get("endtime")),
        "maindiag_code": row.get("maindiag_code"),
        "diag_codes": row.get("diag_codes"),
        "mdtrt_stas": row["mdtrt_stas"],
        "vali_flag": row.get("vali_flag", "1"),
    }


def rule_hit_payload(row: Mapping[str, Any]) -> dict[str, Any]:
    """Review hits (docs/review.md): the rule, the institution, the person (as `psn_no`, which
    the replica turns into the keyed pseudonym `psn_ref` on the way in), the visit and
    settlement, the amount at stake. The evidence and the reason stay in the row store. A
    post-hoc hit knows only the pseudonym: it travels marked as one (`pseudonym.given`)."""
    psn_no = row.get("psn_no")
    if psn_no is None and row.get("psn_ref"):
        psn_no = given(str(row["psn_ref"]))
    return {
        "hit_id": row["hit_id"],
        "psn_no": psn_no,
        "rule_id": row["rule_id"],
        "rule_version": row["rule_version"],
        "category": row["category"],
        "stage": row["stage"],
        "result_type": row["result_type"],
        "action": row["action"],
        "infno": row.get("infno"),
        "fixmedins_code": row.get("fixmedins_code"),
        "mdtrt_id": row.get("mdtrt_id"),
        "setl_id": row.get("setl_id"),
        "amount": fen(row["amount"]),
        "detected_at": _dt(row["detected_at"]),
    }
