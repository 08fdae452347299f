"""Province codes (GB/T 2260) and the 医保区划 (admdvs) rules built on them.

An admdvs is six digits: province (2) + city (2) + county (2). The first two digits must be a
GB/T 2260 province-level code. The rest is not checked against a county list: pooling regions
invent codes that no administrative table holds (a city-level pooling area ends in ``99``,
e.g. ``130399``; a province's own level is ``xx0000`` or ``xx9900``), and the county table
changes every year. See docs/codes.md.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

#: GB/T 2260 province-level divisions (省级行政区划代码, first two digits).
PROVINCES: Final = MappingProxyType(
    {
        "11": "北京市",
        "12": "天津市",
        "13": "河北省",
        "14": "山西省",
        "15": "内蒙古自治区",
        "21": "辽宁省",
        "22": "吉林省",
        "23": "黑龙江省",
        "31": "上海市",
        "32": "江苏省",
        "33": "浙江省",
        "34": "安徽省",
        "35": "福建省",
        "36": "江西省",
        "37": "山东省",
        "41": "河南省",
        "42": "湖北省",
        "43": "湖南省",
        "44": "广东省",
        "45": "广西壮族自治区",
        "46": "海南省",
        "50": "重庆市",
        "51": "四川省",
        "52": "贵州省",
        "53": "云南省",
        "54": "西藏自治区",
        "61": "陕西省",
        "62": "甘肃省",
        "63": "青海省",
        "64": "宁夏回族自治区",
        "65": "新疆维吾尔自治区",
        "71": "台湾省",
        "81": "香港特别行政区",
        "82": "澳门特别行政区",
    }
)

#: Province-level codes the 医保 system uses beyond GB/T 2260: the Xinjiang Production and
#: Construction Corps has its own 医保 administration (admdvs 66xxxx).
ADMDVS_EXTRA_PROVINCES: Final = MappingProxyType({"66": "新疆生产建设兵团"})

#: Address prefixes an 18-digit ID number may carry beyond GB/T 2260: ``83`` is the prefix of
#: the residence-permit numbers of Taiwan residents (港澳台居民居住证: 81/82/83).
CERTNO_EXTRA_PROVINCES: Final = MappingProxyType({"83": "台湾居民居住证"})


def province_name(code: str) -> str | None:
    """The province (or 医保 province-level unit) for the first two digits of `code`."""
    prefix = code[:2]
    return PROVINCES.get(prefix) or ADMDVS_EXTRA_PROVINCES.get(prefix)


def admdvs_problem(value: str) -> str | None:
    """Why `value` is not an admdvs, or None when it is one (reason: 中文 (English))."""
    if len(value) != 6 or not value.isascii() or not value.isdigit():
        return f"医保区划 '{value}' 须为6位数字 (admdvs must be six digits)"
    prefix = value[:2]
    if prefix not in PROVINCES and prefix not in ADMDVS_EXTRA_PROVINCES:
        return (
            f"医保区划前两位 '{prefix}' 不是省级行政区划代码 GB/T 2260 "
            f"(the first two digits are not a GB/T 2260 province code)"
        )
    return None


#: LOCAL: names of the demo pooling region's districts (北京市, GB/T 2260 county-level codes)
#: and its pooling code. A region adds its own; codes not listed fall back to the province.
REGION_NAMES: Final = MappingProxyType(
    {
        "110199": "北京市(统筹区)",
        "110101": "东城区",
        "110102": "西城区",
        "110105": "朝阳区",
        "110106": "丰台区",
        "110107": "石景山区",
        "110108": "海淀区",
        "110109": "门头沟区",
        "110111": "房山区",
        "110112": "通州区",
        "110113": "顺义区",
        "110114": "昌平区",
        "110115": "大兴区",
        "110116": "怀柔区",
        "110117": "平谷区",
        "110118": "密云区",
        "110119": "延庆区",
    }
)


def region_name(admdvs: str) -> str | None:
    """A display name for an admdvs: the district's, else its province's with the code."""
    name = REGION_NAMES.get(admdvs)
    if name is not None:
        return name
    province = PROVINCES.get(admdvs[:2])
    return None if province is None else f"{province} {admdvs}"
