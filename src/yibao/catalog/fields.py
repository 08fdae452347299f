"""The import file's columns: national field names, their Chinese aliases, value parsing.

A catalog file's header may use the national field names (`hilist_code`, `chrgitm_lv`, …) or
the Chinese column titles of the published catalogs (医保目录编码, 收费项目等级, …); both map
to one canonical field. Values may also be written the Chinese way (甲类, 是/否, 10%, 男/女,
三级, 2024/1/1). Pure: standard library, kit and codes. The value parsers are memoised: a
catalog repeats the same few dates, ratios and classes hundreds of thousands of times.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Final

from yibao.codes.dicts import CatalogKind, ChrgitmLv, Gend, HospLv, ListType, MedChrgitmType

#: canonical field → accepted header titles (national names first). Matching ignores case,
#: spaces, underscores in Chinese titles and full-width parentheses.
ALIASES: Final[dict[str, tuple[str, ...]]] = {
    "hilist_code": (
        "hilist_code",
        "med_list_codg",
        "dise_codg",
        "diag_code",
        "oprn_code",
        "医保目录编码",
        "医保目录代码",
        "医保编码",
        "医保代码",
        "国家医保编码",
        "国家医保代码",
        "医疗目录编码",
        "药品代码",
        "药品编码",
        "医保药品代码",
        "耗材代码",
        "医用耗材代码",
        "医保耗材代码",
        "项目编码",
        "项目代码",
        "服务项目编码",
        "医疗服务项目编码",
        "疾病编码",
        "疾病代码",
        "诊断编码",
        "诊断代码",
        "手术编码",
        "手术操作编码",
        "手术操作代码",
        "病种编码",
        "病种代码",
        "编码",
        "代码",
    ),
    "hilist_name": (
        "hilist_name",
        "dise_name",
        "diag_name",
        "oprn_name",
        "注册名称",
        "医保目录名称",
        "通用名",
        "通用名称",
        "药品名称",
        "药品通用名",
        "项目名称",
        "耗材名称",
        "医用耗材名称",
        "疾病名称",
        "诊断名称",
        "手术名称",
        "手术操作名称",
        "病种名称",
        "名称",
    ),
    "list_type": ("list_type", "目录类别", "目录类型"),
    "catalog_kind": ("catalog_kind", "目录种类"),
    "chrgitm_lv": ("chrgitm_lv", "收费项目等级", "医保等级", "目录等级", "甲乙类", "等级"),
    "selfpay_prop": ("selfpay_prop", "自付比例", "先行自付比例", "个人自付比例"),
    "selfpay_prop_psn": ("selfpay_prop_psn", "分人员类别自付比例", "人员类别自付比例"),
    "hilist_pric_uplmt_amt": (
        "hilist_pric_uplmt_amt",
        "pric_uplmt_amt",
        "限价",
        "最高限价",
        "医保限价",
        "支付标准",
        "医保支付标准",
        "价格上限",
    ),
    "med_chrgitm_type": ("med_chrgitm_type", "收费类别", "医疗收费项目类别", "收费项目类别"),
    "lmt_used_flag": ("lmt_used_flag", "限制使用标志", "限制使用"),
    "memo": ("memo", "lmt_used_scp", "限制使用范围", "备注", "说明"),
    "begndate": ("begndate", "开始日期", "生效日期", "开始时间", "启用日期"),
    "enddate": ("enddate", "结束日期", "失效日期", "终止日期", "结束时间"),
    "prcunt": ("prcunt", "prcunt_name", "计价单位", "单位", "最小计价单位"),
    "spec": ("spec", "规格", "药品规格"),
    "dosform_name": ("dosform_name", "剂型", "剂型名称"),
    "prodentp_name": ("prodentp_name", "生产企业", "生产企业名称", "厂家"),
    "bas_medn_flag": ("bas_medn_flag", "基本药物标志", "基药标志"),
    "hi_nego_drug_flag": ("hi_nego_drug_flag", "医保谈判药品标志", "国谈药标志", "谈判药品标志"),
    "chld_medc_flag": ("chld_medc_flag", "儿童用药标志"),
    "list_sp_item_flag": ("list_sp_item_flag", "目录特项标志"),
    "drt_reim_flag": ("drt_reim_flag", "直报标志"),
    "lmt_gend": ("lmt_gend", "限性别", "限定性别", "性别限制"),
    "lmt_age_min": ("lmt_age_min", "最小年龄", "限最小年龄", "年龄下限"),
    "lmt_age_max": ("lmt_age_max", "最大年龄", "限最大年龄", "年龄上限"),
    "lmt_hosp_lv": ("lmt_hosp_lv", "限医院等级", "限医疗机构等级", "限定医院等级"),
    "lmt_med_type": ("lmt_med_type", "限医疗类别", "限就医类别", "限就医方式"),
    "lmt_diag_codes": ("lmt_diag_codes", "限适应症", "适应症诊断", "限定诊断", "适应症"),
    "lmt_days": ("lmt_days", "限天数", "最大天数", "限用天数"),
    "lmt_cnt": ("lmt_cnt", "限数量", "最大数量", "单次限量"),
    "wubi": ("wubi", "五笔助记码", "五笔码"),
    "pinyin": ("pinyin", "拼音助记码", "拼音码"),
}

REQUIRED: Final = ("hilist_code", "hilist_name")


def _norm(title: str) -> str:
    text = (
        title.strip().replace("（", "(").replace("）", ")").replace(" ", "").replace("\u3000", "")
    )
    return text.lower()


_LOOKUP: Final[dict[str, str]] = {
    _norm(alias): field for field, names in ALIASES.items() for alias in names
}


def canonical(title: str) -> str | None:
    """The canonical field a header title names, or None."""
    return _LOOKUP.get(_norm(title))


class HeaderError(ValueError):
    """The header cannot be used: a required column is missing or a field appears twice."""


def map_header(titles: list[str]) -> tuple[dict[str, int], list[str]]:
    """Canonical field → column index, and the titles that were not recognised (ignored)."""
    columns: dict[str, int] = {}
    ignored: list[str] = []
    for index, title in enumerate(titles):
        if title is None or str(title).strip() == "":
            continue
        field = canonical(str(title))
        if field is None:
            ignored.append(str(title).strip())
            continue
        if field in columns:
            raise HeaderError(
                f"表头第{columns[field] + 1}列与第{index + 1}列都对应字段 {field} "
                f"(columns {columns[field] + 1} and {index + 1} both map to {field})"
            )
        columns[field] = index
    missing = [f for f in REQUIRED if f not in columns]
    if missing:
        wanted = "; ".join(f"{f} (或 {'/'.join(ALIASES[f][3:6])})" for f in missing)
        raise HeaderError(f"表头缺少必需的列: {wanted} (the header lacks required columns)")
    return columns, ignored


# --------------------------------------------------------------------------------------------
# Values
# --------------------------------------------------------------------------------------------


class ValueProblem(ValueError):
    pass


_LEVELS: Final = {
    "01": "01",
    "1": "01",
    "甲": "01",
    "甲类": "01",
    "02": "02",
    "2": "02",
    "乙": "02",
    "乙类": "02",
    "03": "03",
    "3": "03",
    "丙": "03",
    "丙类": "03",
    "自费": "03",
}
_FLAGS: Final = {
    "1": "1",
    "是": "1",
    "y": "1",
    "yes": "1",
    "true": "1",
    "限": "1",
    "0": "0",
    "否": "0",
    "n": "0",
    "no": "0",
    "false": "0",
    "": "0",
}
_GENDS: Final = {
    "1": "1",
    "男": "1",
    "男性": "1",
    "限男": "1",
    "2": "2",
    "女": "2",
    "女性": "2",
    "限女": "2",
}
_HOSP_LEVELS: Final = {
    "1": "1",
    "一级": "1",
    "一级及以下": "1",
    "2": "2",
    "二级": "2",
    "3": "3",
    "三级": "3",
}
_LIST_TYPE_NAMES: Final = {
    "西药": "101",
    "中成药": "101",
    "西药中成药": "101",
    "药品": "101",
    "中药饮片": "102",
    "饮片": "102",
    "医疗机构制剂": "103",
    "自制剂": "103",
    "院内制剂": "103",
    "民族药": "104",
    "中药配方颗粒": "105",
    "配方颗粒": "105",
    "医疗服务项目": "201",
    "诊疗项目": "201",
    "服务项目": "201",
    "医用耗材": "301",
    "耗材": "301",
    "长护服务项目": "501",
}
#: `--kind` names for the list types
LIST_TYPE_KINDS: Final = {
    "drug": "101",
    "tcm_herb": "102",
    "preparation": "103",
    "ethnic_drug": "104",
    "tcm_granule": "105",
    "service_item": "201",
    "consumable": "301",
    "care_service": "501",
}
_SPLIT: Final = re.compile(r"[,;，；、/|\s]+")


def split_list(text: str) -> list[str]:
    return [p for p in _SPLIT.split(text.strip()) if p]


@lru_cache(maxsize=4096)
def parse_level(text: str) -> str:
    value = _LEVELS.get(text.strip())
    if value is None:
        raise ValueProblem(
            f"收费项目等级须为 01甲类/02乙类/03丙类, 实为 '{text}' (chrgitm_lv must be 01, 02 or 03)"
        )
    return value


@lru_cache(maxsize=4096)
def parse_flag(text: str, field: str) -> str:
    value = _FLAGS.get(text.strip().lower())
    if value is None:
        raise ValueProblem(f"{field} 须为 0/1 (是/否), 实为 '{text}' (must be 0 or 1)")
    return value


@lru_cache(maxsize=4096)
def parse_gend(text: str) -> str | None:
    text = text.strip()
    if text in ("", "0", "9", "不限"):
        return None
    value = _GENDS.get(text)
    if value is None:
        raise ValueProblem(f"限性别须为 1男/2女, 实为 '{text}' (lmt_gend must be 1 or 2)")
    return value


@lru_cache(maxsize=4096)
def parse_list_type(text: str) -> str:
    text = text.strip()
    if ListType.has(text):
        return text
    value = _LIST_TYPE_NAMES.get(text)
    if value is None:
        allowed = ", ".join(f"{m.value}{m.label}" for m in ListType)
        raise ValueProblem(
            f"目录类别 '{text}' 不在码表中 (list_type not in the dictionary: {allowed})"
        )
    return value


@lru_cache(maxsize=4096)
def parse_catalog_kind(text: str) -> str:
    text = text.strip()
    if CatalogKind.has(text):
        return text
    for member in CatalogKind:
        if text == member.label:
            return member.value
    allowed = ", ".join(m.value for m in CatalogKind)
    raise ValueProblem(f"目录种类 '{text}' 未知 (unknown catalog_kind; allowed: {allowed})")


@lru_cache(maxsize=4096)
def parse_med_chrgitm_type(text: str) -> str:
    text = text.strip()
    if MedChrgitmType.has(text):
        return text
    if len(text) == 1 and MedChrgitmType.has("0" + text):
        return "0" + text
    for member in MedChrgitmType:
        if text in (member.label, member.label.removesuffix("费")):
            return member.value
    raise ValueProblem(
        f"医疗收费项目类别 '{text}' 不在码表中 (med_chrgitm_type not in the dictionary)"
    )


def parse_decimal(text: str, field: str) -> Decimal:
    raw = text.strip().replace(",", "")
    percent = raw.endswith("%")
    if percent:
        raw = raw[:-1]
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ValueProblem(f"{field} 不是数字: '{text}' (not a number)") from None
    if not value.is_finite():
        raise ValueProblem(f"{field} 不是有限数字: '{text}' (not finite)")
    return value / 100 if percent else value


@lru_cache(maxsize=4096)
def parse_ratio(text: str, field: str = "selfpay_prop") -> Decimal:
    value = parse_decimal(text, field)
    if value < 0 or value > 1:
        raise ValueProblem(f"{field} 须在0到1之间, 实为 '{text}' (a ratio must be within 0–1)")
    if value != value.quantize(Decimal("0.0001")):
        raise ValueProblem(f"{field} 最多四位小数: '{text}' (at most four decimals)")
    return value.quantize(Decimal("0.0001"))


@lru_cache(maxsize=4096)
def parse_ratio_by_psn(text: str) -> tuple[tuple[str, Decimal], ...]:
    """`1201:0.05;1401:0` → (("1201", 0.05), ("1401", 0)). Person types are 4–6 digits."""
    pairs: list[tuple[str, Decimal]] = []
    seen: set[str] = set()
    for part in re.split(r"[;；,，|]+", text.strip()):
        if not part.strip():
            continue
        psn, sep, ratio = part.replace("：", ":").replace("=", ":").partition(":")
        psn = psn.strip()
        if not sep or not re.fullmatch(r"[0-9]{4,6}", psn):
            raise ValueProblem(
                f"分人员类别自付比例须写成 人员类别:比例, 如 1201:0.05;1401:0, 实为 '{part}' "
                f"(selfpay_prop_psn must read psn_type:ratio;…)"
            )
        if psn in seen:
            raise ValueProblem(f"人员类别 {psn} 重复 (psn_type {psn} appears twice)")
        seen.add(psn)
        pairs.append((psn, parse_ratio(ratio, f"selfpay_prop_psn[{psn}]")))
    return tuple(pairs)


@lru_cache(maxsize=4096)
def parse_price(text: str, field: str = "hilist_pric_uplmt_amt") -> Decimal:
    value = parse_decimal(text, field)
    if value < 0:
        raise ValueProblem(f"{field} 不能为负: '{text}' (must not be negative)")
    if value != value.quantize(Decimal("0.000001")):
        raise ValueProblem(f"{field} 最多六位小数: '{text}' (at most six decimals)")
    if value >= Decimal("10000000000"):
        raise ValueProblem(f"{field} 超出范围: '{text}' (too large for N16,6)")
    return value


@lru_cache(maxsize=4096)
def parse_positive(text: str, field: str, places: int = 4) -> Decimal:
    value = parse_decimal(text, field)
    if value <= 0:
        raise ValueProblem(f"{field} 须大于0: '{text}' (must be positive)")
    quantum = Decimal(1).scaleb(-places)
    if value != value.quantize(quantum):
        raise ValueProblem(f"{field} 最多{places}位小数: '{text}' (at most {places} decimals)")
    return value


@lru_cache(maxsize=4096)
def parse_age(text: str, field: str) -> int:
    value = parse_decimal(text, field)
    if value != value.to_integral_value() or value < 0 or value > 150:
        raise ValueProblem(f"{field} 须为0–150的整数岁: '{text}' (whole years within 0–150)")
    return int(value)


_DATE_FORMATS: Final = ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y.%m.%d", "%Y年%m月%d日")


@lru_cache(maxsize=4096)
def parse_date(text: str, field: str) -> date:
    raw = text.strip()
    if len(raw) > 10 and raw[10] in " T":
        raw = raw[:10]
    if len(raw) == 10 and raw[4] == "-":
        try:
            return date.fromisoformat(raw)
        except ValueError:
            pass
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(raw, fmt).date()
        except ValueError:
            continue
    raise ValueProblem(f"{field} 不是有效日期: '{text}' (not a date; use yyyy-MM-dd)")


@lru_cache(maxsize=4096)
def parse_hosp_levels(text: str) -> frozenset[str]:
    levels: set[str] = set()
    for part in split_list(text):
        level = _HOSP_LEVELS.get(part) or _HOSP_LEVELS.get(part.removesuffix("医院"))
        if level is None:
            allowed = ", ".join(f"{m.value}{m.label}" for m in HospLv if m.value != "0")
            raise ValueProblem(f"限医院等级 '{part}' 无效 (lmt_hosp_lv must be among {allowed})")
        levels.add(level)
    return frozenset(levels)


@lru_cache(maxsize=4096)
def parse_med_types(text: str) -> frozenset[str]:
    types: set[str] = set()
    for part in split_list(text):
        if part in ("住院", "ipt"):
            types.add("ipt")
        elif part in ("门诊", "otp"):
            types.add("otp")
        elif re.fullmatch(r"[0-9]{2,6}", part):
            types.add(part)
        else:
            raise ValueProblem(
                f"限医疗类别 '{part}' 无效: 须为医疗类别代码或 住院/门诊 "
                f"(lmt_med_type must be med_type codes, 'ipt' or 'otp')"
            )
    return frozenset(types)


_DIAG_PREFIX: Final = re.compile(r"[A-Z][0-9]{2}(?:\.[0-9A-Za-z]{0,8})?")


@lru_cache(maxsize=4096)
def parse_diag_prefixes(text: str) -> tuple[str, ...]:
    codes: list[str] = []
    for part in split_list(text):
        if not _DIAG_PREFIX.fullmatch(part):
            raise ValueProblem(
                f"限适应症 '{part}' 不是 ICD-10 诊断代码或其前缀, 如 E11 或 E11.900 "
                f"(lmt_diag_codes must be ICD-10 codes or prefixes)"
            )
        if part not in codes:
            codes.append(part)
    return tuple(codes)


GEND_LABELS: Final = {g.value: g.label for g in Gend}
LEVEL_LABELS: Final = {lv.value: lv.label for lv in ChrgitmLv}
