"""The clinical knowledge the city's bills are drawn from: items (with roles, prices, caps and
restrictions), conditions (diagnosis + what is prescribed for it).

The built-in items carry valid national code formats. When the row store holds a catalog
(the catalog engineer's demo catalog), `yibao.simulate.catalog_source` maps its items onto the
same roles so that bills use codes the platform knows; these built-in items are the fallback.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Final

D = Decimal
ONE = Decimal(1)
ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class SimItem:
    code: str
    name: str
    #: list_type: 101 drug, 102 herb, 201 service, 301 consumable
    list_type: str
    #: med_chrgitm_type (codes.dicts.MedChrgitmType)
    med_chrgitm_type: str
    chrgitm_lv: str
    #: the usual unit price the institutions charge
    price: Decimal
    #: the catalog's price cap per unit (None: no cap)
    cap: Decimal | None
    #: consult | general_care | ipt_consult | lab | exam | treatment | surgery | bed | nursing
    #: | ward (the ward's own orders: monitoring, oxygen, care) | anaesthesia | sampling
    #: | consumable | drug (the drugs' use is in `conditions`)
    role: str
    #: restrictions: only this sex ("1"/"2"); age_min inclusive, age_max exclusive
    gend: str | None = None
    age_min: int | None = None
    age_max: int | None = None
    #: units per day for a drug (cnt = per_day × days); 1 for services
    per_day: Decimal = ONE
    selfpay_prop: Decimal = ZERO
    #: further catalog restrictions (`catalog.model.Restrictions`): the institution levels
    #: allowed, the med_type codes or tokens ("ipt", "otp") allowed, indication prefixes
    hosp_lv: tuple[str, ...] = ()
    med_type: tuple[str, ...] = ()
    diag_codes: tuple[str, ...] = ()


def _drug(
    code: str,
    name: str,
    price: str,
    cap: str | None,
    per_day: str = "1",
    lv: str = "01",
    med: str = "09",
    gend: str | None = None,
    age_min: int | None = None,
    age_max: int | None = None,
    prop: str = "0",
    diag: tuple[str, ...] = (),
) -> SimItem:
    return SimItem(
        code,
        name,
        "101",
        med,
        lv,
        D(price),
        D(cap) if cap else None,
        "drug",
        gend,
        age_min,
        age_max,
        D(per_day),
        D(prop),
        diag_codes=diag,
    )


def _svc(
    code: str,
    name: str,
    role: str,
    price: str,
    cap: str | None = None,
    med: str = "05",
    lv: str = "01",
    gend: str | None = None,
    age_min: int | None = None,
    age_max: int | None = None,
    list_type: str = "201",
    prop: str = "0",
) -> SimItem:
    return SimItem(
        code,
        name,
        list_type,
        med,
        lv,
        D(price),
        D(cap) if cap else None,
        role,
        gend,
        age_min,
        age_max,
        D(1),
        D(prop),
    )


#: Built-in items (fallback catalog). Drug codes: 23 characters (X/Z + 22); service items 15
#: digits; consumables C + 19 digits.
# fmt: off
BUILTIN_ITEMS: Final = (
    # consultations and general care
    _svc("110200001000000", "普通门诊诊查费", "consult", "50.00", "50.00", med="02"),
    _svc("110200002000000", "副主任医师门诊诊查费", "consult", "80.00", "80.00", med="02"),
    _svc("110200005000000", "一般诊疗费", "general_care", "10.00", "10.00", med="12"),
    # laboratory
    _svc("250101015000000", "血细胞分析(血常规)", "lab", "20.00", "25.00", med="04"),
    _svc("250102001000000", "尿液常规检查", "lab", "10.00", "12.00", med="04"),
    _svc("250301001000000", "肝功能检测", "lab", "60.00", "70.00", med="04"),
    _svc("250302001000000", "葡萄糖测定(血糖)", "lab", "8.00", "10.00", med="04"),
    _svc("250302003000000", "糖化血红蛋白测定", "lab", "70.00", "80.00", med="04"),
    _svc("250303001000000", "血脂四项", "lab", "40.00", "48.00", med="04"),
    _svc("250404001000000", "前列腺特异性抗原测定", "lab", "90.00", "100.00", med="04", gend="1"),
    _svc("270300001000000", "宫颈细胞学检查", "lab", "110.00", "120.00", med="04", gend="2"),
    # single analytes: labs bill each analyte as its own item (全国医疗服务价格项目规范 lists
    # 丙氨酸氨基转移酶测定, 总胆固醇测定… one by one), so a panel is several fee lines (PANELS)
    _svc("250305011000000", "丙氨酸氨基转移酶测定", "lab", "6.00", "7.00", med="04"),
    _svc("250305012000000", "天门冬氨酸氨基转移酶测定", "lab", "6.00", "7.00", med="04"),
    _svc("250305013000000", "γ-谷氨酰基转移酶测定", "lab", "6.00", "7.00", med="04"),
    _svc("250305014000000", "碱性磷酸酶测定", "lab", "6.00", "7.00", med="04"),
    _svc("250307011000000", "总胆红素测定", "lab", "5.00", "6.00", med="04"),
    _svc("250307012000000", "直接胆红素测定", "lab", "5.00", "6.00", med="04"),
    _svc("250301013000000", "总蛋白测定", "lab", "5.00", "6.00", med="04"),
    _svc("250301014000000", "白蛋白测定", "lab", "5.00", "6.00", med="04"),
    _svc("250303012000000", "总胆固醇测定", "lab", "6.00", "7.00", med="04"),
    _svc("250303013000000", "甘油三酯测定", "lab", "6.00", "7.00", med="04"),
    _svc("250303014000000", "高密度脂蛋白胆固醇测定", "lab", "10.00", "12.00", med="04"),
    _svc("250303015000000", "低密度脂蛋白胆固醇测定", "lab", "12.00", "14.00", med="04"),
    _svc("250304011000000", "尿素测定", "lab", "5.00", "6.00", med="04"),
    _svc("250304012000000", "肌酐测定", "lab", "5.00", "6.00", med="04"),
    _svc("250304013000000", "尿酸测定", "lab", "5.00", "6.00", med="04"),
    _svc("250306011000000", "钾测定", "lab", "4.00", "5.00", med="04"),
    _svc("250306012000000", "钠测定", "lab", "4.00", "5.00", med="04"),
    _svc("250306013000000", "氯测定", "lab", "4.00", "5.00", med="04"),
    _svc("250306014000000", "钙测定", "lab", "4.00", "5.00", med="04"),
    # examinations
    _svc("210102001000000", "胸部X线摄影", "exam", "90.00", "100.00", med="03"),
    _svc("210300001000000", "CT平扫", "exam", "260.00", "300.00", med="03", lv="02", prop="0.10"),
    _svc("220201001000000", "彩色多普勒超声检查", "exam", "160.00", "180.00", med="03"),
    _svc("310701001000000", "常规心电图检查", "exam", "25.00", "30.00", med="03"),
    SimItem("210300010000000", "冠状动脉CT血管成像", "201", "03", "02", D("800.00"), D("900.00"),
            "exam", selfpay_prop=D("0.10"), hosp_lv=("3",)),
    # treatments
    _svc("120400001000000", "静脉输液", "treatment", "15.00", "18.00"),
    _svc("430000001000000", "针刺治疗", "treatment", "40.00", "45.00"),
    _svc("440000001000000", "推拿治疗", "treatment", "60.00", "65.00"),
    _svc("340200001000000", "中频脉冲电治疗", "treatment", "30.00", "35.00"),
    _svc("310513001000000", "龋齿充填术", "treatment", "120.00", "150.00"),
    _svc("311201001000000", "阴道冲洗上药", "treatment", "30.00", "35.00", gend="2"),
    # a bundle and its parts (分解收费: the parts billed instead of the bundle)
    _svc("120500003000000", "清创缝合术", "treatment", "120.00", "130.00"),
    _svc("120500004000000", "清创术", "treatment", "80.00", "90.00"),
    _svc("120500005000000", "缝合术", "treatment", "70.00", "80.00"),
    # inpatient
    _svc("110300002000000", "住院诊查费", "ipt_consult", "20.00", "20.00", med="02"),
    _svc("110900001000000", "床位费(三人间)", "bed", "50.00", "50.00", med="01"),
    _svc("120100002000000", "一级护理", "nursing", "39.00", "39.00", med="07"),
    _svc("120100003000000", "二级护理", "nursing", "26.00", "26.00", med="07"),
    _svc("331003001000000", "阑尾切除术", "surgery", "1800.00", "2000.00", med="06"),
    _svc("331506001000000", "骨折切开复位内固定术", "surgery", "3500.00", "3800.00", med="06"),
    _svc("331203001000000", "单胎顺产接生", "surgery", "1500.00", "1600.00", med="06", gend="2"),
    _svc("330900001000000", "经尿道前列腺电切术", "surgery", "3000.00", "3200.00", med="06", gend="1"),
    # the ward's daily orders beyond bed, nursing and the round (全国医疗服务价格项目规范:
    # 氧气吸入 and 心电监测 by the hour, 静脉输液 with a surcharge for each further group)
    _svc("120400004000000", "静脉输液(每组加收)", "ward", "4.00", "5.00"),
    _svc("120400006000000", "静脉采血", "sampling", "3.00", "4.00"),
    _svc("120600001000000", "氧气吸入", "ward", "2.50", "3.00"),
    _svc("120900001000000", "雾化吸入", "ward", "7.00", "8.00"),
    _svc("310701008000000", "心电监测", "ward", "6.00", "7.00", med="03"),
    _svc("250302002000000", "末梢血糖测定", "ward", "5.00", "6.00", med="04"),
    _svc("120100011000000", "口腔护理", "ward", "5.00", "6.00", med="07"),
    _svc("120100012000000", "会阴护理", "ward", "5.00", "6.00", med="07"),
    _svc("120500001000000", "换药(小)", "ward", "12.00", "15.00"),
    _svc("121100001000000", "导尿", "ward", "18.00", "20.00"),
    _svc("121100002000000", "膀胱冲洗", "ward", "15.00", "18.00"),
    _svc("340100001000000", "运动疗法", "ward", "35.00", "40.00"),
    # anaesthesia: general by the hour, spinal by the case, monitoring by the hour
    _svc("330100002000000", "全身麻醉", "anaesthesia", "800.00", "900.00", med="06"),
    _svc("330100003000000", "椎管内麻醉", "anaesthesia", "500.00", "600.00", med="06"),
    _svc("330100015000000", "麻醉中监测", "anaesthesia", "20.00", "25.00", med="06"),
    # consumables
    SimItem("C0101010100100000001", "一次性使用输液器", "301", "08", "01", D("3.50"), D("4.00"), "consumable"),
    SimItem("C0202010200200000002", "静脉留置针", "301", "08", "02", D("25.00"), D("30.00"), "consumable", selfpay_prop=D("0.10")),
    SimItem("C0303020100100000003", "可吸收外科缝线", "301", "08", "02", D("120.00"), D("150.00"), "consumable", selfpay_prop=D("0.10")),
    SimItem("C1001030100100000004", "金属接骨板", "301", "08", "02", D("2800.00"), D("3200.00"), "consumable", selfpay_prop=D("0.30")),
    SimItem("C0101010200100000005", "一次性使用注射器", "301", "08", "01", D("0.60"), D("0.80"), "consumable"),
    SimItem("C0201010100100000009", "一次性使用导尿包", "301", "08", "01", D("22.00"), D("25.00"), "consumable"),
    SimItem("C0301020100100000012", "透明敷贴", "301", "08", "01", D("5.00"), D("6.00"), "consumable"),
    # drugs (per_day units)
    _drug("XJ01CAA040E001010100001", "阿莫西林胶囊", "0.60", "0.80", "6"),
    _drug("XJ01DDC104A001010100002", "头孢克肟分散片", "3.20", "3.80", "2", lv="02", prop="0.05"),
    _drug("XM01AEB060E002010100003", "布洛芬缓释胶囊", "0.90", "1.10", "2"),
    _drug("XR05XAA070A001010100004", "氨酚伪麻美芬片", "0.80", "1.00", "3"),
    _drug("ZA01AAL018E001010100005", "连花清瘟胶囊", "0.75", "0.90", "12", med="11", lv="02", prop="0.05"),
    _drug("XA02BCA022E001010100006", "奥美拉唑肠溶胶囊", "1.20", "1.50", "2"),
    _drug("XC08CAA116A001010100007", "苯磺酸氨氯地平片", "0.45", "0.60", "1"),
    _drug("XC08CAN079A002010100008", "硝苯地平控释片", "2.80", "3.20", "1", lv="02", prop="0.05"),
    _drug("XA10BAE052A001010100009", "盐酸二甲双胍片", "0.30", "0.40", "3"),
    _drug("XA10AEG006B002010100010", "甘精胰岛素注射液", "75.00", "82.00", "0.1", lv="02", prop="0.10",
          diag=("E10", "E11")),
    _drug("XB01ACA056A001010100011", "阿司匹林肠溶片", "0.15", "0.20", "1"),
    _drug("XC10AAA168A001010100012", "阿托伐他汀钙片", "1.10", "1.40", "1"),
    _drug("ZC01AAF079M001010100013", "复方丹参滴丸", "0.25", "0.30", "30", med="11"),
    _drug("XR03BBT022L001010100014", "噻托溴铵粉吸入剂", "4.80", "5.50", "1", lv="02", prop="0.10",
          diag=("J44",)),
    _drug("XG04CAT006E001010100015", "盐酸坦索罗辛缓释胶囊", "3.60", "4.00", "1", lv="02", gend="1", prop="0.05"),
    _drug("XG01AFX122V001010100016", "硝酸咪康唑栓", "4.50", "5.00", "1", gend="2"),
    _drug("XR05XAX123K001010100017", "小儿氨酚黄那敏颗粒", "0.70", "0.90", "3", age_max=14),
    _drug("XS01AEZ151G001010100018", "左氧氟沙星滴眼液", "18.00", "20.00", "0.2"),
    _drug("XD07XCM145H001010100019", "糠酸莫米松乳膏", "22.00", "25.00", "0.1", lv="02", prop="0.05"),
    _drug("XM01ABS036A001010100020", "双氯芬酸钠缓释片", "1.00", "1.20", "1"),
    _drug("XB05BBL001B001010100021", "0.9%氯化钠注射液", "3.00", "3.50", "2"),
    _drug("XJ01DDT001B001010100022", "注射用头孢曲松钠", "12.00", "14.00", "2", lv="02", prop="0.05"),
    _drug("XH01BBS055B001010100023", "缩宫素注射液", "6.00", "7.00", "1", gend="2"),
    _drug("XB05AAR001B001010100024", "人血白蛋白", "380.00", "420.00", "1", lv="02", prop="0.20"),
    _drug("XA02BCP078B002010100025", "注射用泮托拉唑钠", "18.00", "21.00", "1", lv="02", prop="0.05"),
    _drug("XB05XAP031B001010100026", "氯化钾注射液", "1.20", "1.50", "2"),
    _drug("XN01AXB145B001010100027", "丙泊酚乳状注射液", "45.00", "52.00", "1"),
    _drug("XB01ABD004B001010100028", "低分子肝素钙注射液", "30.00", "35.00", "1", lv="02", prop="0.05"),
    _drug("XR05CBA030L001010100029", "吸入用乙酰半胱氨酸溶液", "14.00", "16.00", "2", lv="02", prop="0.05"),
    # restricted drugs the clean city bills only where they are allowed
    SimItem("XJ01MAL066A001010100030", "左氧氟沙星片", "101", "09", "01", D("2.00"), D("2.50"), "drug",
            age_min=18),
    SimItem("XA10BFA010A001010100031", "阿卡波糖片", "101", "09", "02", D("0.60"), D("0.80"), "drug",
            per_day=D(3), selfpay_prop=D("0.05"), diag_codes=("E11",)),
    SimItem("XC04AXD213B001010100032", "注射用丹参多酚酸盐", "101", "09", "02", D("90.00"),
            D("100.00"), "drug", selfpay_prop=D("0.10"), med_type=("ipt",)),
    # a catalog consumable a pharmacy sells beside its drugs (the demo rule base allows them at
    # a pharmacy's counter: pharmacy_non_drug's allow_consumables)
    SimItem("C1402010100100000013", "医用退热贴", "301", "08", "01", D("15.00"), D("18.00"),
            "consumable"),
)
# fmt: on


@dataclass(frozen=True, slots=True)
class Condition:
    key: str
    diag_code: str
    diag_name: str
    #: acute | chronic | inpatient
    course: str
    #: department codes that treat it (names.DEPARTMENTS)
    depts: tuple[str, ...]
    drugs: tuple[str, ...]
    labs: tuple[str, ...] = ()
    exams: tuple[str, ...] = ()
    treatments: tuple[str, ...] = ()
    surgery: str | None = None
    consumables: tuple[str, ...] = ()
    gend: str | None = None
    age_min: int = 0
    age_max: int = 200
    #: relative frequency among acute visits; winter factor for seasonal illness
    weight: float = 1.0
    winter: float = 1.0
    #: inpatient length of stay (min, max) days
    los: tuple[int, int] = (3, 10)
    #: the ward's orders for this condition: (item, units a day, when) — when is "acute"
    #: (the days the drugs are given), "stay" (every day) or "rehab" (from the third day)
    ward: tuple[tuple[str, int, str], ...] = ()
    #: the operation's anaesthesia: "general" (by the hour) or "spinal"
    anaesthesia: str | None = None


#: lab panels a doctor orders by one name and the hospital bills analyte by analyte (the
#: panel names are not catalog items); a name not here is billed as the item itself
PANELS: Final = {
    "肝功能检测": ("丙氨酸氨基转移酶测定", "天门冬氨酸氨基转移酶测定", "γ-谷氨酰基转移酶测定",
                   "碱性磷酸酶测定", "总胆红素测定", "直接胆红素测定", "总蛋白测定", "白蛋白测定"),
    "血脂四项": ("总胆固醇测定", "甘油三酯测定", "高密度脂蛋白胆固醇测定", "低密度脂蛋白胆固醇测定"),
    "肾功能检测": ("尿素测定", "肌酐测定", "尿酸测定"),
    "电解质测定": ("钾测定", "钠测定", "氯测定", "钙测定"),
}  # fmt: skip
#: labs that need no venous draw: the blood count from a fingertip, urine, a smear (the
#: chemistry labs bill one 静脉采血 per draw)
NO_DRAW: Final = frozenset({"血细胞分析(血常规)", "尿液常规检查", "宫颈细胞学检查"})
#: given alongside the condition's own drugs while an infused stay's acute phase lasts
#: (stress-ulcer prophylaxis and potassium with the drip)
WARD_DRUGS: Final = ("注射用泮托拉唑钠", "氯化钾注射液")
#: drugs only a ward gives (never sold over a pharmacy's counter)
WARD_ONLY: Final = frozenset({"丙泊酚乳状注射液", "低分子肝素钙注射液", "吸入用乙酰半胱氨酸溶液"})
#: what the ward orders for an inpatient with a chronic condition, every day of any stay:
#: the home medication goes on (dispensed day by day), a diabetic's glucose is checked
#: before meals and at night
CHRONIC_WARD: Final = {"diabetes": (("末梢血糖测定", 4),)}
#: what every admission is checked for besides the condition's own labs, and re-checked
#: every few days of the stay
ADMISSION_LABS: Final = ("血细胞分析(血常规)", "肾功能检测", "电解质测定")
RECHECK_LABS: Final = ("血细胞分析(血常规)", "电解质测定")

C = Condition

# fmt: off
CONDITIONS: Final = (
    # acute outpatient
    C("uri", "J06.900", "急性上呼吸道感染", "acute", ("D01", "D11", "D04"),
      ("阿莫西林胶囊", "氨酚伪麻美芬片", "连花清瘟胶囊", "布洛芬缓释胶囊"), ("血细胞分析(血常规)",),
      weight=10, winter=2.5),
    C("uri_child", "J06.901", "小儿急性上呼吸道感染", "acute", ("D04", "D11"),
      ("小儿氨酚黄那敏颗粒", "阿莫西林胶囊"), ("血细胞分析(血常规)",), age_max=14, weight=8, winter=2.5),
    C("bronchitis", "J20.900", "急性支气管炎", "acute", ("D01", "D11"),
      ("头孢克肟分散片", "连花清瘟胶囊"), ("血细胞分析(血常规)",), ("胸部X线摄影",), weight=4, winter=2.0),
    C("gastritis", "K29.700", "胃炎", "acute", ("D01", "D11", "D12"),
      ("奥美拉唑肠溶胶囊",), ("血细胞分析(血常规)", "肝功能检测"), ("彩色多普勒超声检查",), weight=4),
    C("back_pain", "M54.500", "腰痛", "acute", ("D02", "D10", "D12"),
      ("双氯芬酸钠缓释片",), (), ("CT平扫",), ("针刺治疗", "推拿治疗", "中频脉冲电治疗"), weight=4),
    C("conjunctivitis", "H10.900", "结膜炎", "acute", ("D05",), ("左氧氟沙星滴眼液",), weight=2),
    C("dermatitis", "L30.900", "皮炎", "acute", ("D08",), ("糠酸莫米松乳膏",), weight=2),
    C("caries", "K02.900", "龋病", "acute", ("D07",), (), (), (), ("龋齿充填术",), weight=2),
    C("bph", "N40.x00", "前列腺增生", "acute", ("D02",), ("盐酸坦索罗辛缓释胶囊",),
      ("前列腺特异性抗原测定",), ("彩色多普勒超声检查",), gend="1", age_min=45, weight=2),
    C("vaginitis", "N76.000", "阴道炎", "acute", ("D03",), ("硝酸咪康唑栓",), ("宫颈细胞学检查",),
      (), ("阴道冲洗上药",), gend="2", age_min=16, weight=2),
    C("checkup", "Z00.000", "一般医学检查", "acute", ("D01", "D11"), (),
      ("血细胞分析(血常规)", "肝功能检测", "肾功能检测", "血脂四项", "葡萄糖测定(血糖)"), ("常规心电图检查",),
      weight=2),
    # chronic (monthly visits, 30-day prescriptions)
    C("hypertension", "I10.x00", "原发性高血压", "chronic", ("D01", "D11"),
      ("苯磺酸氨氯地平片", "硝苯地平控释片"), ("血脂四项", "肾功能检测", "电解质测定"), ("常规心电图检查",)),
    C("diabetes", "E11.900", "2型糖尿病", "chronic", ("D01", "D11"),
      ("盐酸二甲双胍片", "甘精胰岛素注射液"), ("葡萄糖测定(血糖)", "糖化血红蛋白测定", "肾功能检测")),
    C("chd", "I25.100", "冠状动脉粥样硬化性心脏病", "chronic", ("D01",),
      ("阿司匹林肠溶片", "阿托伐他汀钙片", "复方丹参滴丸"), ("血脂四项", "肝功能检测"), ("常规心电图检查",)),
    C("copd", "J44.900", "慢性阻塞性肺疾病", "chronic", ("D01",), ("噻托溴铵粉吸入剂",)),
    # inpatient
    C("pneumonia", "J18.900", "肺炎", "inpatient", ("D01", "D04"),
      ("注射用头孢曲松钠", "0.9%氯化钠注射液"), ("血细胞分析(血常规)", "肝功能检测"), ("胸部X线摄影", "CT平扫"),
      ("静脉输液",), consumables=("一次性使用输液器", "静脉留置针"), weight=4, winter=2.0, los=(5, 12),
      ward=(("氧气吸入", 12, "acute"), ("雾化吸入", 2, "acute"), ("吸入用乙酰半胱氨酸溶液", 2, "acute"))),
    C("appendicitis", "K35.800", "急性阑尾炎", "inpatient", ("D02",),
      ("注射用头孢曲松钠", "0.9%氯化钠注射液"), ("血细胞分析(血常规)",), ("彩色多普勒超声检查",),
      ("静脉输液",), "阑尾切除术", ("一次性使用输液器", "可吸收外科缝线"), weight=2, los=(3, 7),
      anaesthesia="general"),
    C("fracture", "S52.500", "桡骨下端骨折", "inpatient", ("D02",),
      ("0.9%氯化钠注射液", "双氯芬酸钠缓释片"), ("血细胞分析(血常规)",), ("胸部X线摄影",), (),
      "骨折切开复位内固定术", ("金属接骨板", "可吸收外科缝线"), weight=2, los=(5, 14),
      ward=(("低分子肝素钙注射液", 1, "acute"), ("运动疗法", 1, "rehab")), anaesthesia="general"),
    C("stroke", "I63.900", "脑梗死", "inpatient", ("D01",),
      ("阿司匹林肠溶片", "阿托伐他汀钙片", "0.9%氯化钠注射液", "人血白蛋白"),
      ("血细胞分析(血常规)", "血脂四项"), ("CT平扫", "彩色多普勒超声检查"), ("静脉输液",),
      consumables=("一次性使用输液器",), age_min=40, weight=3, winter=1.3, los=(7, 21),
      ward=(("心电监测", 24, "acute"), ("氧气吸入", 12, "acute"), ("末梢血糖测定", 4, "stay"),
            ("口腔护理", 2, "stay"), ("运动疗法", 1, "rehab"), ("针刺治疗", 1, "rehab"))),
    C("delivery", "O80.000", "单胎顺产", "inpatient", ("D03",), ("缩宫素注射液", "0.9%氯化钠注射液"),
      ("血细胞分析(血常规)",), ("彩色多普勒超声检查",), (), "单胎顺产接生", ("一次性使用输液器",),
      gend="2", age_min=20, age_max=45, weight=2, los=(2, 5), ward=(("会阴护理", 2, "stay"),)),
    C("bph_surgery", "N40.x00", "前列腺增生", "inpatient", ("D02",), ("注射用头孢曲松钠",),
      ("前列腺特异性抗原测定",), ("彩色多普勒超声检查",), ("静脉输液",), "经尿道前列腺电切术",
      ("一次性使用输液器",), gend="1", age_min=55, weight=1, los=(5, 9),
      ward=(("膀胱冲洗", 2, "acute"),), anaesthesia="spinal"),
)
# fmt: on

CONDITION_BY_KEY: Final = {c.key: c for c in CONDITIONS}


def _in_store(n: int) -> str:
    """A store's own 13-digit goods code in the GS1 in-store range (prefix 2…), with its check
    digit: how a pharmacy's till knows goods that carry no medical-insurance code."""
    body = f"200{n:09d}"
    odd, even = sum(int(c) for c in body[0::2]), sum(int(c) for c in body[1::2])
    return body + str((10 - (odd + 3 * even) % 10) % 10)


#: goods a pharmacy sells that are no medicine at all — daily necessities, cosmetics, food and
#: supplements — outside every medical-insurance list (list_type "": none), under the store's
#: own codes; swiped on the card they are 药店购非药品 (domain.md §2.2) and 目录外 at once
NON_DRUG_GOODS: Final = tuple(
    SimItem(_in_store(n), name, "", "14", "03", D(price), None, "goods")
    for n, name, price in (
        (101, "保湿修护面霜(化妆品)", "128.00"),
        (102, "防脱洗发水(日化用品)", "69.00"),
        (103, "乳清蛋白粉(营养食品)", "198.00"),
        (104, "宁夏枸杞礼盒(食品)", "88.00"),
        (105, "成人纸尿裤(日用品)", "99.00"),
        (106, "美白牙膏(日化用品)", "25.90"),
    )
)

#: items a hospital may bill that are not in the medical-insurance catalog at all (目录外):
#: valid national code formats the simulator's catalog version never lists
OUT_OF_CATALOG: Final = (
    SimItem("250400099000000", "肿瘤标志物筛查套餐", "201", "04", "03", D("300.00"), None, "lab"),
    SimItem("331600099000000", "光子嫩肤治疗", "201", "05", "03", D("680.00"), None, "treatment"),
)
