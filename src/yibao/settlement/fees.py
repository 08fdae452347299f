"""Fee lines: splitting each uploaded line (2204, 2301, 2101/2102 drugdetail, read by their
handlers into `commands.FeeLine`) with the catalog term valid at `fee_ocur_time`
(`policy.split_line`), storing them, and rebuilding the calculator's input from stored lines
at settlement.

The split stored with a line is the one returned to the client at upload; settlement rebuilds
each line's `CatalogTerms` from the stored columns so that pre-settlement and settlement see
exactly the terms the upload answered with.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection

from yibao.catalog import mapping, restrictions
from yibao.catalog.cache import CatalogCache
from yibao.catalog.mapping import MappingRule
from yibao.catalog.model import CatalogItem
from yibao.codes.dicts import ChrgitmLv, HospApprFlag, ListType, MedChrgitmType
from yibao.errors import InvalidInput
from yibao.kit.records import quick_init
from yibao.policy import CatalogTerms, FeeLineIn, LineRules, LineSplit, PolicyBook, split_line
from yibao.policy.model import PolicyRefusal
from yibao.settlement import records, repo
from yibao.settlement.commands import FeeLine
from yibao.settlement.records import FORCED_SELFPAY

#: |cnt × pric − det_item_fee_sumamt| allowed (HIS round unit prices differently)
PRICE_TOLERANCE = Decimal("0.01")

#: code → member of the enums a stored line is rebuilt with (`fee_in_from_row`, every line of
#: every pre-settlement): a dict lookup instead of an Enum call, which costs far more; anything
#: else still goes through the Enum, which refuses it as before


#: an uploaded line as its handler read it (the command type's name in this module)
LineIn = FeeLine


@quick_init
@dataclass(frozen=True, slots=True)
class VisitFacts:
    """What the restriction check and the line split need to know of the visit."""

    gend: str | None
    age: int | None
    hosp_lv: str
    med_type: str
    psn_type: str | None
    #: the person's pooling region
    admdvs: str
    #: the institution's district: the region covering it (the region of treatment, 就医地目录)
    #: selects the unknown-code rule; the person's region when no hosted region covers it
    district: str | None = None


def _terms(item: CatalogItem, psn_type: str | None, where: str) -> CatalogTerms:
    try:
        return CatalogTerms(
            hilist_code=item.hilist_code,
            hilist_name=item.hilist_name,
            list_type=ListType.of(item.list_type),
            chrgitm_lv=ChrgitmLv.of(item.chrgitm_lv),
            med_chrgitm_type=MedChrgitmType.of(item.med_chrgitm_type or MedChrgitmType.OTHER.value),
            selfpay_prop=item.selfpay_prop_for(psn_type),
            pric_uplmt_amt=item.hilist_pric_uplmt_amt,
            lmt_used_flag=item.lmt_used_flag == "1",
            bas_medn_flag=item.bas_medn_flag == "1",
            hi_nego_drug_flag=item.hi_nego_drug_flag == "1",
            chld_medc_flag=item.chld_medc_flag == "1",
            list_sp_item_flag=item.list_sp_item_flag == "1",
            drt_reim_flag=item.drt_reim_flag == "1",
        )
    except ValueError as exc:
        raise InvalidInput(
            f"{where}.med_list_codg: 目录项目 {item.hilist_code} 的目录数据不完整 ({exc})"
        ) from None


def terms_by_line(
    conn: Connection, cache: CatalogCache, lines: Sequence[LineIn]
) -> dict[int, CatalogItem | None]:
    """Each line's catalog term on its fee date (None: no term that day), by line index:
    looked up once per call for the review and the split alike."""
    by_day: dict[date, list[LineIn]] = {}
    for ln in lines:
        by_day.setdefault(ln.fee_ocur_time.date(), []).append(ln)
    picked: dict[int, CatalogItem | None] = {}
    for day, group in by_day.items():
        items = cache.terms_at(conn, {ln.med_list_codg for ln in group}, day)
        for ln in group:
            picked[ln.index] = items.get(ln.med_list_codg)
    return picked


def split_uploaded(
    conn: Connection,
    lines: Sequence[LineIn],
    facts: VisitFacts,
    *,
    node: str,
    book: PolicyBook,
    fixmedins_code: str,
    mapping_rule: MappingRule | None = None,
    diag_codes: Sequence[str] | None = None,
    diag_loader: Callable[[], Sequence[str]] | None = None,
    line_terms: Mapping[int, CatalogItem | None],
    forced: Mapping[str, str] | None = None,
) -> list[tuple[LineIn, LineSplit, bool]]:
    """Split each line against the catalog term valid on its fee date. Returns (line, split,
    forced self-pay). Unknown codes follow the region's rule (refuse → InvalidInput naming
    the line; self-pay → a fully self-paid line with a memo); so do local codes without an
    approved mapping when the region requires one (`mapping_rule`). `forced` (feedetl_sn →
    memo) are lines a review rule moves to full self-pay: the memo names the rule. `line_terms`:
    each line's catalog term by index (`terms_by_line`, which the review reads too)."""
    by_day: dict[date, list[LineIn]] = {}
    for ln in lines:
        by_day.setdefault(ln.fee_ocur_time.date(), []).append(ln)
    picked = line_terms
    rules_by_day: dict[date, LineRules] = {}
    for day, group in by_day.items():
        try:
            treatment = book.treatment_region(facts.district, day) if facts.district else None
            rules_by_day[day] = (
                LineRules(unknown_code=treatment.unknown_code)
                if treatment is not None
                else book.line_rules(facts.admdvs, day)
            )
        except PolicyRefusal as exc:
            raise InvalidInput(f"{node}[{group[0].index}].fee_ocur_time: {exc}") from None
    codes = diag_codes
    if (
        codes is None
        and diag_loader is not None
        and any(item is not None and item.restrictions.diag_codes for item in picked.values())
    ):
        codes = diag_loader()
    unmapped: dict[int, str] = {}
    if mapping_rule is not None and mapping_rule.require_approved:
        pairs = [(ln.medins_list_codg or "", ln.med_list_codg) for ln in lines]
        states = mapping.mapping_statuses(conn, fixmedins_code, pairs, at=lines[0].fee_ocur_time)
        for ln, pair in zip(lines, pairs, strict=True):
            verdict = mapping.judge(
                states[pair],
                mapping_rule,
                medins_list_codg=pair[0],
                hilist_code=ln.med_list_codg,
            )
            if verdict.action == "refuse":
                raise InvalidInput(f"{node}[{ln.index}].medins_list_codg: {verdict.reason}")
            if verdict.action == "self_pay" and verdict.reason:
                unmapped[ln.index] = verdict.reason
    out: list[tuple[LineIn, LineSplit, bool]] = []
    for ln in lines:
        where = f"{node}[{ln.index}]"
        item = picked[ln.index]
        reason: str | None = unmapped.get(ln.index)
        terms: CatalogTerms | None = None
        if item is not None:
            terms = _terms(item, facts.psn_type, where)
            if reason is None and not item.restrictions.empty:
                reasons = restrictions.check(
                    item,
                    gend=facts.gend,
                    age=facts.age,
                    hosp_lv=facts.hosp_lv,
                    med_type=facts.med_type,
                    diag_codes=codes,
                    cnt=abs(ln.cnt),
                    prd_days=ln.values.get("prd_days"),
                )
                reason = restrictions.selfpay_reason(reasons)
        if forced and ln.feedetl_sn in forced:
            reason = forced[ln.feedetl_sn]
        line = FeeLineIn(
            feedetl_sn=ln.feedetl_sn,
            det_item_fee_sumamt=ln.det_item_fee_sumamt,
            cnt=ln.cnt,
            pric=ln.pric,
            terms=terms,
            hosp_appr_flag=ln.hosp_appr_flag,
            selfpay_reason=reason,
            med_list_codg=ln.med_list_codg,
        )
        try:
            split = split_line(line, rules_by_day[ln.fee_ocur_time.date()])
        except PolicyRefusal as exc:
            field = exc.field or "med_list_codg"
            raise InvalidInput(f"{where}.{field}: {exc}") from None
        out.append((ln, split, reason is not None))
    return out


def row_values(
    ln: LineIn,
    split: LineSplit,
    forced: bool,
    *,
    mdtrt_id: str,
    psn_no: str,
    fixmedins_code: str,
    msgid: str,
    at: datetime,
    chrg_bchno: str | None = None,
) -> dict[str, Any]:
    return {
        "mdtrt_id": mdtrt_id,
        "feedetl_sn": ln.feedetl_sn,
        "psn_no": psn_no,
        "fixmedins_code": fixmedins_code,
        "chrg_bchno": chrg_bchno if chrg_bchno is not None else ln.chrg_bchno,
        "init_feedetl_sn": ln.init_feedetl_sn,
        "fee_ocur_time": ln.fee_ocur_time,
        "med_list_codg": ln.med_list_codg,
        "medins_list_codg": ln.medins_list_codg,
        **records.line_values(split, forced),
        "hosp_appr_flag": ln.hosp_appr_flag.value,
        "setl_id": None,
        "vali_flag": "1",
        "msgid": msgid,
        "created_at": at,
        "cancelled_at": None,
        **ln.values,
    }


def store(conn: Connection, rows: Sequence[dict[str, Any]], replace: Sequence[str] = ()) -> None:
    """Insert new lines; lines in `replace` overwrite a cancelled line with the same
    feedetl_sn (a client re-uploading after 2205/2302 reuses its serial numbers)."""
    fresh = [r for r in rows if r["feedetl_sn"] not in replace]
    if fresh:
        repo.insert_lines(conn, fresh)
    for r in rows:
        if r["feedetl_sn"] in replace:
            repo.overwrite_line(conn, r)


def check_against_existing(
    lines: Sequence[LineIn], existing: Mapping[str, Mapping[str, Any]], node: str
) -> list[str]:
    """Refuse a serial number already used by a valid line of the visit; return those that
    overwrite cancelled lines."""
    replace: list[str] = []
    for ln in lines:
        old = existing.get(ln.feedetl_sn)
        if old is None:
            continue
        if old["vali_flag"] == "1":
            raise InvalidInput(
                f"{node}[{ln.index}].feedetl_sn: 明细流水号在本次就诊中已存在 '{ln.feedetl_sn}' "
                "(feedetl_sn already uploaded for this visit)"
            )
        replace.append(ln.feedetl_sn)
    return replace


def fee_in_from_row(row: Mapping[str, Any]) -> FeeLineIn:
    """The calculator's input rebuilt from a stored line (reproduces its stored split)."""
    flags = (row["flags"] or "").ljust(7, "0")
    terms: CatalogTerms | None = None
    if row["list_type"]:
        terms = CatalogTerms(
            hilist_code=row["med_list_codg"],
            hilist_name=row["hilist_name"] or "",
            list_type=ListType.of(row["list_type"]),
            chrgitm_lv=ChrgitmLv.of(row["chrgitm_lv"]),
            med_chrgitm_type=MedChrgitmType.of(row["med_chrgitm_type"]),
            selfpay_prop=row["selfpay_prop"] if row["selfpay_prop"] is not None else Decimal(0),
            pric_uplmt_amt=row["pric_uplmt_amt"],
            lmt_used_flag=flags[0] == "1",
            bas_medn_flag=flags[1] == "1",
            hi_nego_drug_flag=flags[2] == "1",
            chld_medc_flag=flags[3] == "1",
            list_sp_item_flag=flags[4] == "1",
            drt_reim_flag=flags[5] == "1",
        )
    return FeeLineIn(
        feedetl_sn=row["feedetl_sn"],
        det_item_fee_sumamt=row["det_item_fee_sumamt"],
        cnt=row["cnt"],
        pric=row["pric"],
        terms=terms,
        hosp_appr_flag=HospApprFlag.of(row["hosp_appr_flag"] or "0"),
        selfpay_reason=(row["memo"] or "自费") if flags[FORCED_SELFPAY] == "1" else None,
        med_list_codg=row["med_list_codg"],
    )


def fee_structure(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """药/耗/检查检验 sums of the settled lines (setl drug_sumamt, mcs_sumamt, exam_sumamt)."""
    return records.fee_structure((r["med_chrgitm_type"], r["det_item_fee_sumamt"]) for r in rows)
