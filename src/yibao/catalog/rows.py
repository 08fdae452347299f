"""One import row → a CatalogItem or a DiseEntry, or every reason it is rejected.

Row checks that need no database: the code's format for its list type or catalog kind, the
class (01/02/03), ratios within 0–1, prices, dates (end not before start), restrictions.
Checks across rows and against stored versions (overlapping terms) live in
`yibao.catalog.versions`. Pure: standard library, kit and codes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Final, TypeVar

from yibao.catalog import fields as f
from yibao.catalog.model import CatalogItem, DiseEntry, Restrictions
from yibao.codes.dicts import CatalogKind, ChrgitmLv, ListType
from yibao.codes.validators import CodeKind, check_local_code, validate

T = TypeVar("T")

#: The code validator for each list type (None: a locally assigned code, checked loosely).
_LIST_TYPE_KIND: Final[dict[str, CodeKind | None]] = {
    "101": CodeKind.DRUG,
    "102": CodeKind.TCM_HERB,
    "103": None,
    "104": None,
    "105": None,
    "201": CodeKind.SERVICE_ITEM,
    "301": CodeKind.CONSUMABLE,
    "501": None,
}
_CATALOG_KIND_KIND: Final[dict[str, CodeKind | None]] = {
    "diagnosis": CodeKind.DIAGNOSIS,
    "operation": CodeKind.OPERATION,
    "chronic_disease": CodeKind.CHRONIC_DISEASE,
    "disease_payment": None,
    "day_surgery": None,
    "tumour_morphology": None,
    "tcm_disease": None,
    "tcm_syndrome": None,
}
#: med_chrgitm_type when the file gives none
_DEFAULT_CHRGITM_TYPE: Final = {
    "102": "10",
    "103": "09",
    "104": "11",
    "105": "10",
    "301": "08",
    "201": "14",
    "501": "14",
}

_TEXT_LIMITS: Final = (
    ("prcunt", 20),
    ("spec", 200),
    ("dosform_name", 100),
    ("prodentp_name", 200),
    ("wubi", 50),
    ("pinyin", 50),
)

#: an enddate this far out means "no end"
_OPEN_END_YEAR: Final = 9999


@dataclass(frozen=True, slots=True)
class ImportDefaults:
    """What applies to rows that do not say: from `yibao catalog import --kind … --begndate …`."""

    catalog_kind: str = CatalogKind.HILIST.value
    list_type: str | None = None
    begndate: date | None = None


def resolve_kind(name: str | None) -> ImportDefaults:
    """`--kind`: a list type (101 or drug, tcm_herb, …), a catalog kind (diagnosis, …) or
    `hilist`; ValueError listing the kinds."""
    if name is None or name == "" or name == CatalogKind.HILIST.value:
        return ImportDefaults()
    if name in f.LIST_TYPE_KINDS:
        return ImportDefaults(list_type=f.LIST_TYPE_KINDS[name])
    if ListType.has(name):
        return ImportDefaults(list_type=name)
    if CatalogKind.has(name):
        return ImportDefaults(catalog_kind=name)
    kinds = ", ".join([*f.LIST_TYPE_KINDS, *(k.value for k in CatalogKind)])
    raise ValueError(f"未知的目录种类 '{name}' (unknown kind; kinds: {kinds}, or a list_type code)")


class _Reasons(list[str]):
    def attempt(self, fn: Callable[..., T], *args: object) -> T | None:
        """fn(*args), or None with its ValueProblem recorded as a reason."""
        try:
            return fn(*args)
        except f.ValueProblem as exc:
            self.append(str(exc))
            return None


class RowRejected(ValueError):
    def __init__(self, reasons: list[str]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons


def infer_list_type(code: str) -> str | None:
    """The list type a national code's shape implies, if any."""
    if len(code) == 23 and code[0] in "XZ":
        return "101"
    if code.startswith("T"):
        return "102"
    if code.startswith("C"):
        return "301"
    if len(code) == 15 and code.isascii() and code.isdigit():
        return "201"
    return None


#: ICD-O-3 morphology as the 医保版 writes it: M, the 4-digit histology with an optional extra
#: digit, "/" and the behaviour digit (M81400/3 腺癌)
_MORPHOLOGY: Final = re.compile(r"M[0-9]{4,5}/[0-9]")


def _morphology_problem(code: str) -> str | None:
    if _MORPHOLOGY.fullmatch(code):
        return None
    return f"肿瘤形态学编码须如 M81400/3, 实为 '{code}' (a morphology code reads like M81400/3)"


def _code_problem(kind: CodeKind | None, code: str, what: str) -> str | None:
    if kind is None:
        return check_local_code(code, max_len=50, what=what)
    result = validate(kind, code)
    return None if result.valid else result.reason


def parse_row(values: Mapping[str, str], defaults: ImportDefaults) -> CatalogItem | DiseEntry:
    """Build the row's item; RowRejected with every reason when it cannot be accepted.

    `values` maps canonical fields (`yibao.catalog.fields`) to text with no surrounding
    whitespace ("" = empty), as `catalog.source` reads it.
    """
    reasons = _Reasons()
    attempt = reasons.attempt

    g = {name: values.get(name, "") for name in f.ALIASES}

    code = g["hilist_code"]
    name = g["hilist_name"]
    if not code:
        reasons.append("编码为空 (hilist_code is empty)")
    if not name:
        reasons.append("名称为空 (hilist_name is empty)")
    elif len(name) > 200:
        reasons.append(f"名称超过200字 (hilist_name longer than 200 characters: {len(name)})")

    kind = defaults.catalog_kind
    if g["catalog_kind"]:
        kind = attempt(f.parse_catalog_kind, g["catalog_kind"]) or kind

    begndate: date | None = defaults.begndate
    if g["begndate"]:
        begndate = attempt(f.parse_date, g["begndate"], "begndate")
    elif begndate is None:
        reasons.append("开始日期为空 (begndate is empty)")
    enddate: date | None = None
    if g["enddate"]:
        enddate = attempt(f.parse_date, g["enddate"], "enddate")
        if enddate is not None and enddate.year >= _OPEN_END_YEAR:
            enddate = None
    if begndate is not None and enddate is not None and enddate < begndate:
        reasons.append(f"结束日期 {enddate} 早于开始日期 {begndate} (enddate is before begndate)")

    gend = attempt(f.parse_gend, g["lmt_gend"]) if g["lmt_gend"] else None
    memo = g["memo"] or None
    if memo is not None and len(memo) > 500:
        reasons.append("备注超过500字 (memo longer than 500 characters)")

    if kind != CatalogKind.HILIST.value:
        if code and kind == CatalogKind.TUMOUR_MORPHOLOGY.value:
            problem = _morphology_problem(code)
            if problem:
                reasons.append(problem)
        elif code:
            problem = _code_problem(_CATALOG_KIND_KIND[kind], code, "编码")
            if problem:
                reasons.append(problem)
        if len(name) > 300:
            reasons.append("名称超过300字 (name longer than 300 characters)")
        if reasons:
            raise RowRejected(reasons)
        assert begndate is not None
        return DiseEntry(
            catalog_kind=kind,
            dise_codg=code,
            dise_name=name,
            begndate=begndate,
            enddate=enddate,
            lmt_gend=gend,
            memo=memo,
        )

    # ---- 医保目录 items ----
    list_type: str | None = None
    if g["list_type"]:
        list_type = attempt(f.parse_list_type, g["list_type"])
    elif defaults.list_type is not None:
        list_type = defaults.list_type
    elif code:
        list_type = infer_list_type(code)
        if list_type is None:
            reasons.append(
                f"无法由编码 '{code}' 判断目录类别, 请给出 list_type 列或 --kind "
                f"(cannot infer list_type from the code; give a list_type column or --kind)"
            )
    if code and list_type is not None:
        problem = _code_problem(_LIST_TYPE_KIND.get(list_type), code, "编码")
        if problem:
            reasons.append(problem)

    level: str | None = None
    if g["chrgitm_lv"]:
        level = attempt(f.parse_level, g["chrgitm_lv"])
    else:
        reasons.append("收费项目等级为空 (chrgitm_lv is empty)")

    ratio: Decimal | None = None
    if g["selfpay_prop"]:
        ratio = attempt(f.parse_ratio, g["selfpay_prop"])
    elif level == ChrgitmLv.CLASS_B:
        reasons.append("乙类项目须给出自付比例 (a class-B item needs selfpay_prop)")
    elif level == ChrgitmLv.CLASS_C:
        ratio = Decimal("1.0000")
    else:
        ratio = Decimal("0.0000")

    by_psn: tuple[tuple[str, Decimal], ...] = ()
    if g["selfpay_prop_psn"]:
        by_psn = attempt(f.parse_ratio_by_psn, g["selfpay_prop_psn"]) or ()

    cap = attempt(f.parse_price, g["hilist_pric_uplmt_amt"]) if g["hilist_pric_uplmt_amt"] else None

    chrgitm_type: str | None = None
    if g["med_chrgitm_type"]:
        chrgitm_type = attempt(f.parse_med_chrgitm_type, g["med_chrgitm_type"])
    elif list_type == "101":
        chrgitm_type = "11" if code.startswith("Z") else "09"
    elif list_type is not None:
        chrgitm_type = _DEFAULT_CHRGITM_TYPE.get(list_type, "14")

    flags: dict[str, str] = {}
    for flag in (
        "lmt_used_flag",
        "bas_medn_flag",
        "hi_nego_drug_flag",
        "chld_medc_flag",
        "list_sp_item_flag",
        "drt_reim_flag",
    ):
        raw = g[flag]
        flags[flag] = raw if raw in ("0", "1") else (attempt(f.parse_flag, raw, flag) or "0")

    age_min = attempt(f.parse_age, g["lmt_age_min"], "lmt_age_min") if g["lmt_age_min"] else None
    age_max = attempt(f.parse_age, g["lmt_age_max"], "lmt_age_max") if g["lmt_age_max"] else None
    if isinstance(age_min, int) and isinstance(age_max, int) and age_max <= age_min:
        reasons.append(
            f"最大年龄 {age_max} 须大于最小年龄 {age_min} (lmt_age_max must exceed lmt_age_min)"
        )
    hosp_lv = attempt(f.parse_hosp_levels, g["lmt_hosp_lv"]) if g["lmt_hosp_lv"] else None
    med_type = attempt(f.parse_med_types, g["lmt_med_type"]) if g["lmt_med_type"] else None
    diag = attempt(f.parse_diag_prefixes, g["lmt_diag_codes"]) if g["lmt_diag_codes"] else None
    max_days = attempt(f.parse_positive, g["lmt_days"], "lmt_days", 2) if g["lmt_days"] else None
    max_cnt = attempt(f.parse_positive, g["lmt_cnt"], "lmt_cnt", 4) if g["lmt_cnt"] else None

    for field, limit in _TEXT_LIMITS:
        if len(g[field]) > limit:
            reasons.append(f"{field} 超过{limit}字 (longer than {limit} characters)")

    if reasons:
        raise RowRejected(reasons)
    assert (
        begndate is not None and list_type is not None and level is not None and ratio is not None
    )
    restrictions = Restrictions(
        gend=gend,
        age_min=age_min,
        age_max=age_max,
        hosp_lv=hosp_lv or frozenset(),
        med_type=med_type or frozenset(),
        diag_codes=diag or (),
        max_days=max_days,
        max_cnt=max_cnt,
    )
    # An item with indications is a 限制使用 item whatever the flag column says.
    lmt_used = "1" if restrictions.diag_codes else flags["lmt_used_flag"]
    return CatalogItem(
        hilist_code=code,
        hilist_name=name,
        list_type=list_type,
        chrgitm_lv=level,
        selfpay_prop=ratio,
        begndate=begndate,
        enddate=enddate,
        med_chrgitm_type=chrgitm_type,
        selfpay_prop_psn=by_psn,
        hilist_pric_uplmt_amt=cap,
        lmt_used_flag=lmt_used,
        prcunt=g["prcunt"] or None,
        spec=g["spec"] or None,
        dosform_name=g["dosform_name"] or None,
        prodentp_name=g["prodentp_name"] or None,
        bas_medn_flag=flags["bas_medn_flag"],
        hi_nego_drug_flag=flags["hi_nego_drug_flag"],
        chld_medc_flag=flags["chld_medc_flag"],
        list_sp_item_flag=flags["list_sp_item_flag"],
        drt_reim_flag=flags["drt_reim_flag"],
        restrictions=restrictions,
        memo=memo,
        wubi=g["wubi"] or None,
        pinyin=g["pinyin"] or None,
    )
