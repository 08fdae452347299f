"""The interface's dictionaries (码表) as enums with their 中文 labels.

Values and labels follow reference/nhsa-interface.md §3. Dictionaries the reference lacks are
defined locally and say so in their docstring (`LOCAL`). Use these everywhere instead of bare
strings; `label` gives the Chinese name, `of(value)` reads a value with a clear error.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Self, cast


class CodeDict(StrEnum):
    """A dictionary whose members carry a Chinese label: `Member = ("value", "标签")`."""

    _label_: str

    def __new__(cls, value: str, label: str = "") -> Self:
        obj = str.__new__(cls, value)
        obj._value_ = value
        obj._label_ = label
        return obj

    @property
    def label(self) -> str:
        return self._label_

    @classmethod
    def of(cls, value: object, *, field: str | None = None) -> Self:
        """The member for `value`, or a ValueError naming the field and the allowed values."""
        if type(value) is str:  # a look-up in the members by value, without Enum's call
            member = cls._value2member_map_.get(value)
            if member is not None:
                return cast(Self, member)
        try:
            return cls(str(value))
        except ValueError:
            allowed = ", ".join(f"{m.value} {m.label}" for m in cls)
            name = field or cls.__name__
            raise ValueError(f"{name}: 值 '{value}' 不在码表中 (allowed: {allowed})") from None

    @classmethod
    def has(cls, value: object) -> bool:
        return str(value) in cls._value2member_map_


class Insutype(CodeDict):
    """险种类型 insutype."""

    EMPLOYEE = ("310", "职工基本医疗保险")
    CIVIL_SERVANT = ("320", "公务员医疗补助")
    EMPLOYEE_LARGE = ("330", "大额医疗费用补助")
    RETIRED_CADRE = ("340", "离休人员医疗保障")
    DISABLED_VETERAN = ("350", "一至六级残废军人医疗补助")
    RED_ARMY = ("360", "老红军医疗保障")
    ENTERPRISE_SUPPLEMENT = ("370", "企业补充医疗保险")
    NEW_RURAL = ("380", "新型农村合作医疗")
    RESIDENT = ("390", "城乡居民基本医疗保险")
    URBAN_RESIDENT = ("391", "城镇居民基本医疗保险")
    RESIDENT_CRITICAL = ("392", "城乡居民大病医疗保险")
    OTHER_SPECIAL = ("399", "其他特殊人员医疗保障")
    LONG_TERM_CARE = ("410", "长期照护保险")
    MATERNITY = ("510", "生育保险")


class MedType(CodeDict):
    """医疗类别 med_type (spec 7.28). Provinces extend it with 4–6 digit codes."""

    GENERAL_OUTPATIENT = ("11", "普通门诊")
    OUTPATIENT_REGISTRATION = ("12", "门诊挂号")
    EMERGENCY = ("13", "急诊")
    CHRONIC_OUTPATIENT = ("14", "门诊慢特病")
    SPECIAL_DRUG = ("15", "特药")
    TCM_OUTPATIENT = ("16", "中医特色门诊")
    GENERAL_INPATIENT = ("21", "普通住院")
    INJURY_INPATIENT = ("22", "外伤住院")
    TRANSFER_INPATIENT = ("23", "转外诊治住院")
    EMERGENCY_TO_INPATIENT = ("24", "急诊转住院")
    NONLOCAL_INPATIENT = ("25", "异地住院")
    SINGLE_DISEASE_INPATIENT = ("26", "单病种住院")
    SELF_CARE = ("27", "自主就医")
    DAY_SURGERY = ("28", "日间手术")
    PHARMACY = ("41", "定点药店购药")
    MATERNITY_OUTPATIENT = ("51", "生育门诊")
    MATERNITY_INPATIENT = ("52", "生育住院")
    FAMILY_PLANNING = ("53", "计划生育手术费")
    CARE = ("61", "照护保险")

    @property
    def is_inpatient(self) -> bool:
        return self.value.startswith("2") or self is MedType.MATERNITY_INPATIENT


class MdtrtCertType(CodeDict):
    """就诊凭证类型 mdtrt_cert_type."""

    EC_TOKEN = ("01", "医保电子凭证")
    ID_CARD = ("02", "居民身份证")
    SSC = ("03", "社会保障卡")


class PsnCertType(CodeDict):
    """人员证件类型 psn_cert_type."""

    ID_CARD = ("01", "居民身份证(户口簿)")
    MILITARY_OFFICER = ("02", "中国人民解放军军官证")
    ARMED_POLICE = ("03", "中国人民武装警察警官证")
    HK_PASS = ("04", "香港特区护照/港澳居民来往内地通行证")
    MACAO_PASS = ("05", "澳门特区护照/港澳居民来往内地通行证")
    TAIWAN_PASS = ("06", "台湾居民来往大陆通行证")
    FOREIGN_PERMANENT = ("07", "外国人永久居留证")
    FOREIGN_PASSPORT = ("08", "外国人护照")
    DISABILITY = ("09", "残疾人证")
    MARTYR_FAMILY = ("10", "军烈属证明")
    FOREIGN_EMPLOYMENT = ("11", "外国人就业证")
    FOREIGN_EXPERT = ("12", "外国专家证")
    FOREIGN_JOURNALIST = ("13", "外国人常驻记者证")
    HKMT_EMPLOYMENT = ("14", "台港澳人员就业证")
    RETURNED_EXPERT = ("15", "回国(来华)定居专家证")
    SSC = ("90", "社会保障卡")
    OTHER = ("99", "其他身份证件")


class PsnType(CodeDict):
    """人员类别 psn_type."""

    EMPLOYEE_IN_SERVICE = ("1101", "职工在职")
    CIVIL_SERVANT_IN_SERVICE = ("1102", "公务员在职")
    FLEXIBLE_IN_SERVICE = ("1103", "灵活就业在职")
    EMPLOYEE_RETIRED = ("1201", "职工退休")
    CIVIL_SERVANT_RETIRED = ("1202", "公务员退休")
    FLEXIBLE_RETIRED = ("1203", "灵活就业退休")
    RETIRED_CADRE = ("1300", "离休")
    NEWBORN = ("1401", "新生儿")
    PRESCHOOL = ("1402", "学龄前儿童")
    SCHOOL_STUDENT = ("1403", "中小学生")
    UNIVERSITY_STUDENT = ("1404", "大学生")
    MINOR_NOT_IN_SCHOOL = ("1405", "未成年(未入学)")
    ADULT_RESIDENT = ("1501", "普通居民(成年)")

    @property
    def group(self) -> PsnGroup:
        """The policy's person group: in service, retired, or resident."""
        if self.value.startswith("11"):
            return PsnGroup.IN_SERVICE
        if self.value.startswith(("12", "13")):
            return PsnGroup.RETIRED
        return PsnGroup.RESIDENT


class PsnGroup(CodeDict):
    """LOCAL: the three groups the policy tables distinguish (在职/退休/居民)."""

    IN_SERVICE = ("in_service", "在职")
    RETIRED = ("retired", "退休")
    RESIDENT = ("resident", "居民")


class PsnInsuStas(CodeDict):
    """参保状态 psn_insu_stas (1 and 4 observed; 2 from general knowledge)."""

    NORMAL = ("1", "正常参保")
    SUSPENDED = ("2", "暂停参保")
    TERMINATED = ("4", "终止参保")


class Gend(CodeDict):
    """性别 gend."""

    UNKNOWN = ("0", "未知的性别")
    MALE = ("1", "男")
    FEMALE = ("2", "女")
    UNSPECIFIED = ("9", "未说明的性别")


class FundPayType(CodeDict):
    """基金支付类型 fund_pay_type."""

    EMPLOYEE_POOL = ("310100", "职工基本医疗保险统筹基金")
    EMPLOYEE_ACCOUNT = ("310200", "职工基本医疗保险个人账户基金")
    CIVIL_SERVANT = ("320100", "公务员医疗补助基金")
    EMPLOYEE_LARGE = ("330100", "大额医疗费用补助基金")
    RETIRED_CADRE = ("340100", "离休人员医疗保障基金")
    DISABLED_VETERAN = ("350100", "一至六级残疾军人医疗补助基金")
    ENTERPRISE_SUPPLEMENT = ("370100", "企业补充医疗保险基金")
    RESIDENT_POOL = ("390100", "城乡居民基本医疗保险基金")
    RESIDENT_CRITICAL = ("390200", "城乡居民大病医疗保险基金")
    MATERNITY = ("510100", "生育基金")
    ASSISTANCE = ("610100", "医疗救助基金")
    OTHER = ("999997", "其他基金")


class ChrgitmLv(CodeDict):
    """收费项目等级 chrgitm_lv."""

    CLASS_A = ("01", "甲类")
    CLASS_B = ("02", "乙类")
    CLASS_C = ("03", "丙类")


class MedChrgitmType(CodeDict):
    """医疗收费项目类别 med_chrgitm_type."""

    BED = ("01", "床位费")
    CONSULTATION = ("02", "诊察费")
    EXAMINATION = ("03", "检查费")
    LABORATORY = ("04", "化验费")
    TREATMENT = ("05", "治疗费")
    SURGERY = ("06", "手术费")
    NURSING = ("07", "护理费")
    MATERIAL = ("08", "卫生材料费")
    WESTERN_DRUG = ("09", "西药费")
    TCM_HERB = ("10", "中药饮片费")
    PATENT_DRUG = ("11", "中成药费")
    GENERAL_CARE = ("12", "一般诊疗费")
    REGISTRATION = ("13", "挂号费")
    OTHER = ("14", "其他费")

    @property
    def is_drug(self) -> bool:
        return self in (
            MedChrgitmType.WESTERN_DRUG,
            MedChrgitmType.TCM_HERB,
            MedChrgitmType.PATENT_DRUG,
        )


class ListType(CodeDict):
    """目录类别 list_type."""

    DRUG = ("101", "西药中成药")
    TCM_HERB = ("102", "中药饮片")
    PREPARATION = ("103", "医疗机构制剂")
    ETHNIC_DRUG = ("104", "民族药")
    #: LOCAL (provisional): 1320 downloads the 中药配方颗粒 catalog; no public client code shows
    #: its list_type, so yibao files the granules under 105
    TCM_GRANULE = ("105", "中药配方颗粒")
    SERVICE_ITEM = ("201", "医疗服务项目")
    CONSUMABLE = ("301", "医用耗材")
    CARE_SERVICE = ("501", "长护服务项目")


class ClrType(CodeDict):
    """清算类别 clr_type."""

    OUTPATIENT = ("11", "门诊")
    INPATIENT = ("21", "住院")
    PHARMACY = ("41", "药店购药")
    OTHER = ("99", "其他")


class ClrWay(CodeDict):
    """清算方式 clr_way ("1" recorded; the rest LOCAL)."""

    BY_ITEM = ("1", "按项目")
    BY_QUOTA = ("2", "按定额")
    BY_DISEASE = ("3", "按病种")


class PsnSetlway(CodeDict):
    """个人结算方式 psn_setlway."""

    BY_ITEM = ("01", "按项目结算")
    BY_QUOTA = ("02", "按定额结算")


class DiagType(CodeDict):
    """诊断类别 diag_type."""

    WESTERN = ("1", "西医诊断")
    TCM_DISEASE = ("2", "中医主病诊断")
    TCM_SYNDROME = ("3", "中医主证诊断")


class DscgWay(CodeDict):
    """离院方式 dscg_way."""

    ORDERED = ("1", "医嘱离院")
    TRANSFER_HOSPITAL = ("2", "医嘱转院")
    TRANSFER_COMMUNITY = ("3", "医嘱转社区卫生服务机构/乡镇卫生院")
    AGAINST_ADVICE = ("4", "非医嘱离院")
    DEATH = ("5", "死亡")
    OTHER = ("9", "其他")


class HospApprFlag(CodeDict):
    """医院审批标志 hosp_appr_flag."""

    NOT_REQUIRED = ("0", "无须审批")
    APPROVED = ("1", "审批通过")
    REJECTED = ("2", "审批不通过")


class Flag(CodeDict):
    """是否标志 (cvlserv_flag, acct_used_flag, lmt_used_flag, refd_setl_flag, …)."""

    NO = ("0", "否")
    YES = ("1", "是")


class OpterType(CodeDict):
    """经办人类别 opter_type."""

    CLERK = ("1", "经办人")
    SELF_SERVICE = ("2", "自助终端")
    MOBILE = ("3", "移动终端")


class StmtRslt(CodeDict):
    """对账结果 stmt_rslt ("0" 平 / "1" 不平; provisional)."""

    BALANCED = ("0", "平")
    UNBALANCED = ("1", "不平")


class InstitutionKind(CodeDict):
    """LOCAL: 定点医药机构类型 (the reference has no dictionary)."""

    HOSPITAL = ("hospital", "医院")
    CLINIC = ("clinic", "基层医疗机构/诊所")
    PHARMACY = ("pharmacy", "定点零售药店")


class HospLv(CodeDict):
    """LOCAL: 医疗机构等级 hosp_lv as the policy tables use it (pharmacies "0")."""

    NONE = ("0", "无等级(药店)")
    LEVEL_1 = ("1", "一级(含社区)")
    LEVEL_2 = ("2", "二级")
    LEVEL_3 = ("3", "三级")


class PsnIdetType(CodeDict):
    """LOCAL: 人员身份类别 psn_idet_type (assistance identities)."""

    SUBSISTENCE = ("21", "低保对象")
    EXTREME_POVERTY = ("22", "特困供养人员")
    POVERTY_RETURN_RISK = ("23", "返贫致贫人口")
    ORPHAN = ("24", "孤儿")
    DISABLED = ("25", "重度残疾人")
    VETERAN = ("31", "优抚对象")


class Caty(CodeDict):
    """LOCAL: 科别 caty (a subset of the national department dictionary)."""

    INTERNAL = ("A03", "内科")
    SURGERY = ("A04", "外科")
    GYNECOLOGY = ("A05", "妇产科")
    PEDIATRICS = ("A07", "儿科")
    OPHTHALMOLOGY = ("A10", "眼科")
    ENT = ("A11", "耳鼻咽喉科")
    STOMATOLOGY = ("A12", "口腔科")
    DERMATOLOGY = ("A13", "皮肤科")
    EMERGENCY = ("A20", "急诊医学科")
    REHABILITATION = ("A21", "康复医学科")
    GENERAL_PRACTICE = ("A02", "全科医疗科")
    TCM = ("A50", "中医科")
    PHARMACY = ("A99", "药房")


class CatalogKind(CodeDict):
    """LOCAL: 目录种类 — which national catalog a row belongs to (yibao.catalog).

    `hilist` is the 医保目录 of drugs, herbs, preparations, service items and consumables
    (`list_type` tells them apart); the others are the code catalogs of 1307–1311 and 1313–1315.
    """

    HILIST = ("hilist", "医保目录(药品/诊疗项目/耗材)")
    DIAGNOSIS = ("diagnosis", "疾病与诊断(ICD-10 医保版)")
    OPERATION = ("operation", "手术操作(ICD-9-CM-3 医保版)")
    CHRONIC_DISEASE = ("chronic_disease", "门诊慢特病病种")
    DISEASE_PAYMENT = ("disease_payment", "按病种付费病种")
    DAY_SURGERY = ("day_surgery", "日间手术病种")
    TUMOUR_MORPHOLOGY = ("tumour_morphology", "肿瘤形态学(ICD-O-3 医保版)")
    TCM_DISEASE = ("tcm_disease", "中医疾病")
    TCM_SYNDROME = ("tcm_syndrome", "中医证候")


class MapStatus(CodeDict):
    """LOCAL: 目录对照状态 — the state of an institution's local-to-national code mapping."""

    SUBMITTED = ("submitted", "待审核")
    APPROVED = ("approved", "审核通过")
    REJECTED = ("rejected", "审核不通过")
    CANCELLED = ("cancelled", "已撤销")
    SUPERSEDED = ("superseded", "已被新对照替代")


class CatalogMissRule(CodeDict):
    """LOCAL: how a region treats a fee line outside the catalog or without an approved mapping."""

    REFUSE = ("refuse", "拒绝结算")
    SELF_PAY = ("self_pay", "全额自费")
