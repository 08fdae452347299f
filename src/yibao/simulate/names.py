"""Tables the synthetic city draws from: surnames, given-name characters, districts,
institution and department names. Plain data, no I/O.

Surname weights follow the rough shares of the most common Chinese surnames (王李张刘陈 …
account for about 30 % of the population); they are realistic in order and size, not exact.
"""

from __future__ import annotations

from typing import Final

#: (surname, weight) — common single-character surnames, weights ≈ per-mille shares
# fmt: off
SURNAMES: Final = (
    ("王", 72), ("李", 71), ("张", 68), ("刘", 54), ("陈", 46), ("杨", 32), ("黄", 23),
    ("赵", 22), ("吴", 20), ("周", 19), ("徐", 14), ("孙", 13), ("马", 12), ("朱", 12),
    ("胡", 11), ("郭", 11), ("何", 10), ("林", 10), ("高", 10), ("罗", 9), ("郑", 9),
    ("梁", 9), ("谢", 7), ("宋", 7), ("唐", 6), ("许", 6), ("韩", 6), ("邓", 6), ("冯", 6),
    ("曹", 6), ("彭", 5), ("曾", 5), ("肖", 5), ("田", 5), ("董", 5), ("潘", 5), ("袁", 5),
    ("蔡", 4), ("蒋", 4), ("余", 4), ("于", 4), ("杜", 4), ("叶", 4), ("程", 4), ("魏", 4),
    ("苏", 4), ("吕", 4), ("丁", 4), ("任", 4), ("卢", 3), ("姚", 3), ("沈", 3), ("钟", 3),
    ("姜", 3), ("崔", 3), ("谭", 3), ("陆", 3), ("范", 3), ("汪", 3), ("廖", 3), ("石", 3),
    ("金", 3), ("韦", 3), ("贾", 3), ("夏", 2), ("付", 2), ("方", 2), ("邹", 2), ("熊", 2),
    ("白", 2), ("孟", 2), ("秦", 2), ("邱", 2), ("侯", 2), ("江", 2), ("尹", 2), ("薛", 2),
    ("闫", 2), ("段", 2), ("雷", 2), ("龙", 2), ("黎", 2), ("史", 2), ("陶", 2), ("贺", 2),
    ("欧阳", 1), ("司马", 1), ("上官", 1), ("诸葛", 1),
)
# fmt: on

#: characters of male given names
# fmt: off
GIVEN_MALE: Final = (
    "伟", "强", "磊", "军", "勇", "杰", "涛", "斌", "超", "明", "刚", "平", "辉", "鹏", "华",
    "飞", "鑫", "波", "宇", "浩", "凯", "健", "俊", "帆", "帅", "旭", "宁", "龙", "林", "阳",
    "建", "国", "志", "文", "海", "东", "峰", "晨", "博", "昊", "天", "轩", "子", "然", "泽",
    "睿", "哲", "毅", "诚", "坤",
)
# fmt: on

#: characters of female given names
# fmt: off
GIVEN_FEMALE: Final = (
    "芳", "娜", "敏", "静", "丽", "艳", "娟", "霞", "秀", "玲", "燕", "琳", "洁", "红", "梅",
    "婷", "雪", "慧", "颖", "倩", "欣", "怡", "萍", "莉", "璐", "月", "晶", "佳", "悦", "彤",
    "涵", "雨", "菲", "琪", "瑶", "蕾", "岚", "薇", "桂", "英", "兰", "凤", "云", "华", "玉",
    "思", "梓", "诗", "可", "心",
)
# fmt: on

#: Beijing-style districts of the demo pooling region 110199 (admdvs, name, population weight)
# fmt: off
DISTRICTS: Final = (
    ("110101", "东城区", 7), ("110102", "西城区", 11), ("110105", "朝阳区", 34),
    ("110106", "丰台区", 20), ("110107", "石景山区", 6), ("110108", "海淀区", 31),
    ("110109", "门头沟区", 4), ("110111", "房山区", 13), ("110112", "通州区", 18),
    ("110113", "顺义区", 13), ("110114", "昌平区", 22), ("110115", "大兴区", 20),
    ("110116", "怀柔区", 4), ("110117", "平谷区", 5), ("110118", "密云区", 5),
    ("110119", "延庆区", 3),
)
# fmt: on

DISTRICT_NAMES: Final = {code: name for code, name, _w in DISTRICTS}

#: The pooling region (统筹区) of the demo city: most simulated persons are insured in it.
POOLING_REGION: Final = "110199"

#: The neighbouring pooling region (policy/params/131099_2023.toml): one person in
#: `REMOTE_EVERY` is insured there and treated in the demo city (异地就医, docs/simulate.md).
REMOTE_REGION: Final = "131099"
REMOTE_EVERY: Final = 25
#: of those, one in `REMOTE_UNREGISTERED_EVERY` has no 异地就医备案 (settled at the 未备案 ratio)
REMOTE_UNREGISTERED_EVERY: Final = 10
#: Langfang-style districts of 131099: where those persons' ID numbers and cards were issued
REMOTE_DISTRICTS: Final = ("131002", "131003", "131022", "131081", "131082")

# fmt: off
HOSPITAL_NAME_STEMS: Final = (
    "人民", "中心", "中医", "友谊", "协和", "仁和", "康复", "博爱", "同仁", "安康", "济民",
    "妇幼保健", "儿童", "中西医结合", "第一", "第二", "第三",
)
# fmt: on

PHARMACY_CHAINS: Final = (
    "同仁堂",
    "金象",
    "永安",
    "医保全新",
    "嘉事堂",
    "德威治",
    "老百姓",
    "一心堂",
)

# fmt: off
EMPLOYERS: Final = (
    "科技有限公司", "建设集团", "商贸有限公司", "信息技术有限公司", "物流有限公司",
    "餐饮管理有限公司", "教育咨询有限公司", "医药有限公司", "文化传媒有限公司", "研究院",
    "区人民政府", "街道办事处", "中学", "银行分行",
)
# fmt: on

#: (dept_code, dept_name, caty) — caty from codes.dicts.Caty
DEPARTMENTS: Final = (
    ("D01", "内科", "A03"),
    ("D02", "外科", "A04"),
    ("D03", "妇产科", "A05"),
    ("D04", "儿科", "A07"),
    ("D05", "眼科", "A10"),
    ("D06", "耳鼻咽喉科", "A11"),
    ("D07", "口腔科", "A12"),
    ("D08", "皮肤科", "A13"),
    ("D09", "急诊医学科", "A20"),
    ("D10", "康复医学科", "A21"),
    ("D11", "全科医疗科", "A02"),
    ("D12", "中医科", "A50"),
)

#: departments a community clinic runs
CLINIC_DEPARTMENTS: Final = ("D11", "D12", "D01")
PHARMACY_DEPARTMENT: Final = ("D99", "药房", "A99")
