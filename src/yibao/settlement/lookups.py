"""Lookups a client makes around a visit: 1201 医药机构信息获取, 1901 字典表查询, 2001 人员待遇
享受检查, 5202 诊断信息查询, 5205 慢特病用药记录查询, 5206 人员累计信息查询. The handlers are in
`yibao.interface.transactions.lookups`; reads of visits, diagnoses and lines are scoped by
the caller's `fixmedins_code` (another institution's visit is answered like a missing one).
A person's accumulators (5206) and entitlement (2001) are the person's, asked by any
designated institution the person visits, as on the national platform."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Final

from sqlalchemy import Connection

from yibao.codes.dictionary import DictEntry, UnknownDictionary, dictionary
from yibao.codes.dicts import (
    FundPayType,
    HospLv,
    InstitutionKind,
    Insutype,
    ListType,
    MedType,
    PsnIdetType,
    PsnInsuStas,
    PsnType,
)
from yibao.errors import InvalidInput
from yibao.kit.clock import age_on, fmt_datetime
from yibao.kit.money import round_fen
from yibao.policy import PersonTerms, PolicyBook, VisitTerms
from yibao.policy.book import RegionVersion, Resolved
from yibao.policy.model import AccKey, PolicyRefusal
from yibao.settlement import repo
from yibao.settlement.commands_lookups import (
    AccumulatorQuery,
    ChronicDrugQuery,
    DiagnosisQuery,
    DictionaryQuery,
    EntitlementCheck,
    InstitutionQuery,
    Page,
)
from yibao.settlement.output import date_text
from yibao.settlement.repo import lookups as lookups_repo

#: the most rows one answer carries (a client pages past it with page_num/page_size)
MAX_ROWS: Final = 1000

# --------------------------------------------------------------------------------------------
# Paging
# --------------------------------------------------------------------------------------------


def _window(page: Page) -> tuple[int, int]:
    """(offset, limit) of a page; no page_size = the first MAX_ROWS rows."""
    size = min(page.page_size or MAX_ROWS, MAX_ROWS)
    return (page.page_num - 1) * size, size


# --------------------------------------------------------------------------------------------
# 1201 医药机构信息获取
# --------------------------------------------------------------------------------------------

#: The national fixmedins_type (1 定点医疗机构, 2 定点零售药店) as the local kinds it covers.
NATIONAL_FIXMEDINS_TYPE: Final[Mapping[str, frozenset[str]]] = {
    "1": frozenset({InstitutionKind.HOSPITAL.value, InstitutionKind.CLINIC.value}),
    "2": frozenset({InstitutionKind.PHARMACY.value}),
}


def national_fixmedins_type(kind: str) -> str:
    return "2" if kind == InstitutionKind.PHARMACY.value else "1"


def institutions(conn: Connection, q: InstitutionQuery) -> dict[str, Any]:
    """1201: valid designated institutions by code, part of the name and type (public fields
    only: no credential, no parent chain)."""
    kinds: frozenset[str] | None = None
    if q.fixmedins_type is not None:
        kinds = NATIONAL_FIXMEDINS_TYPE.get(q.fixmedins_type)
        if kinds is None:
            if not InstitutionKind.has(q.fixmedins_type):
                raise InvalidInput(
                    f"medinsinfo.fixmedins_type: 值 '{q.fixmedins_type}' 不在码表中 "
                    "(allowed: 1 定点医疗机构, 2 定点零售药店, or hospital/clinic/pharmacy)"
                )
            kinds = frozenset({q.fixmedins_type})
    offset, limit = _window(q.page)
    rows, total = lookups_repo.institutions(
        conn,
        kinds=kinds,
        name_part=q.fixmedins_name,
        code=q.fixmedins_code,
        offset=offset,
        limit=limit,
    )
    return {
        "medinsinfo": [
            {
                "fixmedins_code": r["fixmedins_code"],
                "fixmedins_name": r["fixmedins_name"],
                "uscc": None,
                "fixmedins_type": national_fixmedins_type(r["kind"]),
                "hosp_lv": r["hosp_lv"],
                "admdvs": r["admdvs"],
                "exp_content": None,
            }
            for r in rows
        ],
        "page_num": q.page.page_num,
        "page_size": limit,
        "total": total,
    }


# --------------------------------------------------------------------------------------------
# 1901 字典表查询
# --------------------------------------------------------------------------------------------


def dictionary_rows(q: DictionaryQuery) -> list[dict[str, Any]]:
    """1901: the values of dictionary `type` in their defined order (a page of them). Every
    dictionary is national and valid on any date, so `admdvs` and `date` select nothing;
    `vali_flag` 0 answers no rows (yibao keeps no withdrawn values)."""
    try:
        entries: Sequence[DictEntry] = dictionary(q.type)
    except UnknownDictionary as exc:
        raise InvalidInput(f"data.type: {exc}") from None
    if q.parent_value is not None:
        entries = [e for e in entries if e.parent_value == q.parent_value]
    if q.vali_flag is not None and q.vali_flag != "1":
        entries = []
    offset, limit = _window(q.page)
    return [
        {
            "type": e.type,
            "label": e.label,
            "value": e.value,
            "parent_value": e.parent_value,
            "sort": e.sort,
            "vali_flag": e.vali_flag,
        }
        for e in entries[offset : offset + limit]
    ]


# --------------------------------------------------------------------------------------------
# 2001 人员待遇享受检查
# --------------------------------------------------------------------------------------------

#: The 备案 a med_type needs before it is settled (the registration transactions). The
#: registration itself is checked by the settlement that needs it; 2001 says it is needed.
REGISTRATION_NEEDED: Final[Mapping[MedType, str]] = {
    MedType.CHRONIC_OUTPATIENT: "须有有效的门诊慢特病备案 (2503) (needs a chronic-disease registration)",
    MedType.SPECIAL_DRUG: "须有有效的特药备案 (needs a special-drug registration)",
    MedType.TRANSFER_INPATIENT: "须有有效的转院备案 (2501) (needs a referral registration)",
    MedType.MATERNITY_OUTPATIENT: "须有有效的生育备案 (2699) (needs a maternity registration)",
    MedType.MATERNITY_INPATIENT: "须有有效的生育备案 (2699) (needs a maternity registration)",
}


@dataclass(frozen=True, slots=True)
class Entitlement:
    """The verdict of 2001: `reasons` empty = entitled; `funds` the funds that may pay."""

    reasons: tuple[str, ...]
    funds: tuple[FundPayType, ...]
    notes: tuple[str, ...]


def _assistance_on(identities: Iterable[Mapping[str, Any]], day: date) -> tuple[PsnIdetType, ...]:
    held = []
    for idet in identities:
        begins = idet["begntime"].date()
        ends = idet["endtime"].date() if idet["endtime"] else None
        if (
            begins <= day
            and (ends is None or day <= ends)
            and PsnIdetType.has(idet["psn_idet_type"])
        ):
            held.append(PsnIdetType(idet["psn_idet_type"]))
    return tuple(held)


def pool_fund(insutype: Insutype, resolved: Resolved) -> FundPayType | None:
    """The basic pooled fund of the resolved rule (as `policy.engine` names it)."""
    pool = resolved.basic.pool
    if pool is None:
        return None
    if pool.fund_type is not None:
        return pool.fund_type
    return FundPayType.EMPLOYEE_POOL if insutype is Insutype.EMPLOYEE else FundPayType.RESIDENT_POOL


def judge_entitlement(
    insu: Mapping[str, Any] | None,
    brdy: date,
    identities: Sequence[Mapping[str, Any]],
    q: EntitlementCheck,
    *,
    day: date,
    hosp_lv: HospLv,
    book: PolicyBook,
) -> Entitlement:
    """Pure rules of 2001: the insurance is held and active on `day` (status 正常参保, begun,
    not paused), and the region's policy book has a rule for the person and the visit."""
    ins = q.insutype
    if insu is None:
        return Entitlement(
            (f"未参加险种 {ins.value} {ins.label} (the person has no insurance of this type)",),
            (),
            (),
        )
    reasons: list[str] = []
    stas = insu["psn_insu_stas"]
    if stas != PsnInsuStas.NORMAL.value:
        label = PsnInsuStas(stas).label if PsnInsuStas.has(stas) else stas
        reasons.append(f"参保状态为{label} ({stas}), 不能享受待遇 (insurance not active)")
    if insu["psn_insu_date"] > day:
        reasons.append(
            f"参保日期 {insu['psn_insu_date'].isoformat()} 晚于就诊日期 {day.isoformat()} "
            "(insurance begins after this day)"
        )
    paused = insu["paus_insu_date"]
    if paused is not None and paused <= day:
        reasons.append(
            f"已于 {paused.isoformat()} 暂停参保, 待遇中止 (insurance paused since that day)"
        )
    funds: list[FundPayType] = []
    try:
        terms = PersonTerms(
            psn_no=q.psn_no,
            insutype=ins,
            psn_type=PsnType.of(insu["psn_type"], field="psn_type"),
            age=age_on(brdy, day),
            assistance=_assistance_on(identities, day),
            balc=insu["balc"],
            cvlserv_flag=insu["cvlserv_flag"] == "1",
        )
        visit = VisitTerms(
            med_type=q.med_type, hosp_lv=hosp_lv, admdvs=insu["insuplc_admdvs"], setl_date=day
        )
        resolved = book.resolve(terms, visit)
    except (PolicyRefusal, ValueError) as exc:
        reasons.append(f"无适用的待遇政策: {exc}")
    else:
        funds = _funds(ins, terms, resolved)
    notes = (REGISTRATION_NEEDED[q.med_type],) if q.med_type in REGISTRATION_NEEDED else ()
    return Entitlement(tuple(reasons), tuple(funds) if not reasons else (), notes)


def _funds(ins: Insutype, terms: PersonTerms, resolved: Resolved) -> list[FundPayType]:
    funds: list[FundPayType] = []
    if (kind := pool_fund(ins, resolved)) is not None:
        funds.append(kind)
    if resolved.basic.acct.scope != "none" and ins is Insutype.EMPLOYEE:
        funds.append(FundPayType.EMPLOYEE_ACCOUNT)
    if resolved.topup is not None:
        funds.append(FundPayType.EMPLOYEE_LARGE)
    if resolved.critical is not None:
        funds.append(FundPayType.RESIDENT_CRITICAL)
    if resolved.cvlserv is not None and terms.cvlserv_flag:
        funds.append(FundPayType.CIVIL_SERVANT)
    if resolved.assistance is not None and resolved.assistance.tier_for(terms.assistance):
        funds.append(FundPayType.ASSISTANCE)
    return funds


def check_entitlement(
    conn: Connection, q: EntitlementCheck, *, day: date, hosp_lv: HospLv, book: PolicyBook
) -> dict[str, Any]:
    """2001: `trtinfo`, one row per fund that may pay (trt_enjymnt_flag 1), or one refusing
    row (flag 0) whose trt_chk_rslt gives every reason."""
    person = repo.person(conn, q.psn_no)
    insu = next((i for i in repo.insurances(conn, q.psn_no) if i["insutype"] == q.insutype), None)
    verdict = judge_entitlement(
        insu,
        person["brdy"],
        repo.identities(conn, q.psn_no),
        q,
        day=day,
        hosp_lv=hosp_lv,
        book=book,
    )
    begndate = date_text(insu["psn_insu_date"]) if insu else None
    enddate = date_text(insu["paus_insu_date"]) if insu else None
    default = (
        FundPayType.EMPLOYEE_POOL if q.insutype is Insutype.EMPLOYEE else FundPayType.RESIDENT_POOL
    )
    if verdict.reasons:
        rows = [
            {
                "fund_pay_type": default.value,
                "trt_enjymnt_flag": "0",
                "begndate": begndate,
                "enddate": enddate,
                "trt_chk_rslt": "; ".join(verdict.reasons + verdict.notes),
            }
        ]
    else:
        result = "; ".join(("可享受待遇 (entitled)", *verdict.notes))
        rows = [
            {
                "fund_pay_type": fund.value,
                "trt_enjymnt_flag": "1",
                "begndate": begndate,
                "enddate": enddate,
                "trt_chk_rslt": result,
            }
            for fund in verdict.funds or (default,)
        ]
    return {"trtinfo": rows}


# --------------------------------------------------------------------------------------------
# 5202 诊断信息查询
# --------------------------------------------------------------------------------------------


def diagnoses(conn: Connection, q: DiagnosisQuery, *, fixmedins_code: str) -> dict[str, Any]:
    """5202: the visit's diagnoses (of every stage it has: 2203 outpatient, 2401 admission,
    2402 discharge), the visit being the caller's and the person's."""
    repo.visit(conn, fixmedins_code, q.mdtrt_id, q.psn_no, open_only=False)
    rows = lookups_repo.diagnoses_of_visit(conn, q.mdtrt_id, fixmedins_code=fixmedins_code)
    return {
        "diseinfo": [
            {
                "mdtrt_id": r["mdtrt_id"],
                "psn_no": q.psn_no,
                "diag_type": r["diag_type"],
                "maindiag_flag": r["maindiag_flag"],
                "diag_srt_no": r["diag_srt_no"],
                "diag_code": r["diag_code"],
                "diag_name": r["diag_name"],
                "diag_dept": r["diag_dept"],
                "dise_dor_no": r["dise_dor_no"],
                "dise_dor_name": r["dise_dor_name"],
                "diag_time": fmt_datetime(r["diag_time"]),
                "inout_diag_type": _INOUT.get(r["stage"]),
                "vali_flag": r["vali_flag"],
            }
            for r in rows
        ]
    }


#: 出入院诊断类别 inout_diag_type: 1 入院诊断, 2 出院诊断 (outpatient diagnoses carry none).
_INOUT: Final = {"adm": "1", "dscg": "2"}


# --------------------------------------------------------------------------------------------
# 5205 慢特病用药记录查询
# --------------------------------------------------------------------------------------------

CHRONIC_MED_TYPES: Final = frozenset({MedType.CHRONIC_OUTPATIENT.value, MedType.SPECIAL_DRUG.value})
DRUG_LIST_TYPES: Final = frozenset(
    {
        ListType.DRUG.value,
        ListType.TCM_HERB.value,
        ListType.PREPARATION.value,
        ListType.ETHNIC_DRUG.value,
        ListType.TCM_GRANULE.value,
    }
)


def chronic_drug_lines(
    conn: Connection, q: ChronicDrugQuery, *, fixmedins_code: str
) -> dict[str, Any]:
    """5205: the person's settled drug lines of 门诊慢特病/特药 visits at the institution,
    fee time within begntime..endtime (at most MAX_ROWS, by fee time)."""
    if q.endtime < q.begntime:
        raise InvalidInput("data.endtime: 不能早于 begntime (endtime before begntime)")
    repo.person(conn, q.psn_no)
    rows = lookups_repo.settled_lines_of_person(
        conn,
        fixmedins_code=fixmedins_code,
        psn_no=q.psn_no,
        med_types=CHRONIC_MED_TYPES,
        list_types=DRUG_LIST_TYPES,
        fee_from=q.begntime,
        fee_to=q.endtime,
        limit=MAX_ROWS,
    )
    return {
        "feedetail": [
            {
                "mdtrt_id": r["mdtrt_id"],
                "setl_id": r["setl_id"],
                "psn_no": r["psn_no"],
                "fixmedins_code": r["fixmedins_code"],
                "med_type": r["med_type"],
                "opsp_dise_code": r["visit_dise_codg"],
                "opsp_dise_name": r["visit_dise_name"],
                "feedetl_sn": r["feedetl_sn"],
                "rxno": r["rxno"],
                "fee_ocur_time": fmt_datetime(r["fee_ocur_time"]),
                "med_list_codg": r["med_list_codg"],
                "medins_list_codg": r["medins_list_codg"],
                "hilist_name": r["hilist_name"],
                "list_type": r["list_type"],
                "cnt": r["cnt"],
                "pric": r["pric"],
                "det_item_fee_sumamt": r["det_item_fee_sumamt"],
                "sin_dos_dscr": r["sin_dos_dscr"],
                "used_frqu_dscr": r["used_frqu_dscr"],
                "prd_days": r["prd_days"],
                "medc_way_dscr": r["medc_way_dscr"],
                "bilg_dr_codg": r["bilg_dr_codg"],
                "bilg_dr_name": r["bilg_dr_name"],
            }
            for r in rows
        ]
    }


# --------------------------------------------------------------------------------------------
# 5206 人员累计信息查询
# --------------------------------------------------------------------------------------------

#: What each accumulator of a paid fund counts, and its fund (the pool's by insutype).
_PAID_FUND: Final[Mapping[str, FundPayType]] = {
    AccKey.HIFOB_PAID: FundPayType.EMPLOYEE_LARGE,
    AccKey.HIFMI_PAID: FundPayType.RESIDENT_CRITICAL,
    AccKey.CVLSERV_PAID: FundPayType.CIVIL_SERVANT,
    AccKey.MAF_PAID: FundPayType.ASSISTANCE,
}
_NAMES: Final[Mapping[str, str]] = {
    AccKey.IPT_ADMISSIONS: "住院次数",
    AccKey.HIFOB_PAID: "大额医疗费用补助累计支付",
    AccKey.HIFMI_BASE: "大病保险累计合规自付",
    AccKey.HIFMI_PAID: "大病保险累计支付",
    AccKey.CVLSERV_PAID: "公务员医疗补助累计支付",
    AccKey.MAF_BASE: "医疗救助累计合规自付",
    AccKey.MAF_PAID: "医疗救助累计支付",
}
_SUFFIX_NAMES: Final[Mapping[str, str]] = {
    "dedc_used": "起付线累计",
    "inscp": "累计符合范围金额",
    "pool_paid": "统筹基金累计支付",
}


def cum_type_name(key: str) -> str:
    if key in _NAMES:
        return _NAMES[key]
    counter, _, suffix = key.rpartition(".")
    return f"{counter} {_SUFFIX_NAMES.get(suffix, suffix)}"


def caps_of(version: RegionVersion, insutype: Insutype, psn_type: PsnType) -> dict[str, Decimal]:
    """Annual caps of the region's parameter file for the person's insurance, by accumulator
    key: each pool cap on its counter's `pool_paid`, the top-up's, 大病保险's and the civil
    servants' on their paid totals. A counter capped differently by two rules keeps the lowest
    (the cap the person reaches first)."""
    caps: dict[str, Decimal] = {}

    def keep(key: str, cap: Decimal | None) -> None:
        if cap is not None:
            cap = round_fen(cap)
            caps[key] = min(cap, caps.get(key, cap))

    ins = insutype.value
    for rule in version.rules:
        if ins not in rule.insutypes or psn_type.group.value not in rule.psn_groups:
            continue
        if rule.psn_types is not None and psn_type.value not in rule.psn_types:
            continue
        if rule.pool is not None:
            keep(AccKey.pool_paid(rule.pool.cap_counter), rule.pool.cap)
    for topup in version.topups:
        if ins in topup.insutypes:
            keep(AccKey.HIFOB_PAID, topup.cap)
    for critical in version.criticals:
        if ins in critical.insutypes:
            keep(AccKey.HIFMI_PAID, critical.cap)
    for cvlserv in version.cvlservs:
        if ins in cvlserv.insutypes:
            keep(AccKey.CVLSERV_PAID, cvlserv.cap)
    return caps


def fund_of_key(key: str, insutype: Insutype) -> FundPayType | None:
    if key in _PAID_FUND:
        return _PAID_FUND[key]
    if key.endswith(".pool_paid"):
        return (
            FundPayType.EMPLOYEE_POOL
            if insutype is Insutype.EMPLOYEE
            else FundPayType.RESIDENT_POOL
        )
    return None


def accumulators(
    conn: Connection, q: AccumulatorQuery, *, book: PolicyBook, day: date
) -> dict[str, Any]:
    """5206: `cuminfo`, one row per stored accumulator of the person's year (per insutype),
    with its fund and the cap the policy book sets on it; every capped total the person has
    not yet reached is listed too, at 0."""
    repo.person(conn, q.psn_no)
    stored = repo.accumulators_of_year(conn, q.psn_no, q.year)
    by_insutype: dict[str, dict[str, Decimal]] = {}
    for r in stored:
        insutype, _, key = r["acc_key"].partition(":")
        by_insutype.setdefault(insutype, {})[key] = r["amount"]
    rows: list[dict[str, Any]] = []
    on = date(q.year, 12, 31) if q.year < day.year else day
    for insu in repo.insurances(conn, q.psn_no):
        if not Insutype.has(insu["insutype"]):
            continue
        ins = Insutype(insu["insutype"])
        try:
            version = book.version_for(insu["insuplc_admdvs"], on)
            caps = caps_of(version, ins, PsnType.of(insu["psn_type"]))
        except (PolicyRefusal, ValueError):
            caps = {}
        totals = by_insutype.pop(ins.value, {})
        rows.extend(_cum_rows(ins, q.year, totals, caps))
    for orphan, totals in sorted(by_insutype.items()):
        if Insutype.has(orphan):
            rows.extend(_cum_rows(Insutype(orphan), q.year, totals, {}))
    return {"cuminfo": rows}


def _cum_rows(
    ins: Insutype, year: int, totals: Mapping[str, Decimal], caps: Mapping[str, Decimal]
) -> list[dict[str, Any]]:
    rows = []
    for key in sorted({*totals, *caps}):
        fund = fund_of_key(key, ins)
        cum = totals.get(key, Decimal("0.00"))
        cap = caps.get(key)
        rows.append(
            {
                "insutype": ins.value,
                "year": str(year),
                "cum_type_code": key,
                "cum_type_name": cum_type_name(key),
                "fund_pay_type": fund.value if fund else None,
                "cum": cum,
                "cum_lmt": cap,
                "cum_balc": None if cap is None else max(Decimal("0.00"), cap - cum),
            }
        )
    return rows
