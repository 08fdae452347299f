"""Validators for every national code the platform receives (国家医保信息业务编码).

`validate(kind, value)` returns a :class:`CodeCheck`: whether the value is valid, the reason
for a rejection (Chinese first, then English in parentheses), and notes when a value was
accepted leniently because the reference marks its format unverified (docs/codes.md says
which formats are lenient and why). Formats follow reference/nhsa-interface.md §4.

Pure: the standard library and `yibao.codes` only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Final

from yibao.codes.dicts import CodeDict, Gend
from yibao.codes.regions import CERTNO_EXTRA_PROVINCES, PROVINCES, admdvs_problem


class CodeKind(CodeDict):
    """The kinds of code `validate` knows (the names `yibao codes validate` takes)."""

    CERTNO = ("certno", "居民身份证号码 (18位, GB 11643 校验码)")
    FIXMEDINS_CODE = ("fixmedins_code", "定点医药机构编码 (H/P + 11位数字)")
    ADMDVS = ("admdvs", "医保区划 (6位数字)")
    DRUG = ("drug", "西药/中成药代码 (23位)")
    TCM_HERB = ("tcm_herb", "中药饮片代码 (T开头)")
    SERVICE_ITEM = ("service_item", "医疗服务项目代码 (15位)")
    CONSUMABLE = ("consumable", "医用耗材代码 (C开头)")
    DIAGNOSIS = ("diagnosis", "疾病诊断代码 ICD-10 医保版")
    OPERATION = ("operation", "手术操作代码 ICD-9-CM-3 医保版")
    PRACTITIONER = ("practitioner", "医保医师/护士/药师代码 (D/N/Y + 11位数字)")
    CHRONIC_DISEASE = ("chronic_disease", "门诊慢特病病种代码 (M + 5位数字)")
    PSN_NO = ("psn_no", "人员编号 (1–30位字母数字)")


class UnknownKind(ValueError):
    """A kind `validate` does not know; the message lists the kinds."""

    def __init__(self, kind: str) -> None:
        kinds = ", ".join(k.value for k in CodeKind)
        super().__init__(f"未知的编码种类 '{kind}' (unknown kind; kinds: {kinds})")
        self.kind = kind


@dataclass(frozen=True, slots=True)
class CodeCheck:
    """The verdict on one code. `reason` is set when invalid; `notes` when accepted leniently."""

    kind: CodeKind
    value: str
    valid: bool
    reason: str | None = None
    notes: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return self.valid


# --------------------------------------------------------------------------------------------
# Patterns. ASCII classes only: `\d` would also match full-width and other Unicode digits.
# --------------------------------------------------------------------------------------------

_CERTNO_WEIGHTS: Final = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CERTNO_CHECK_CHARS: Final = "10X98765432"
_EARLIEST_BIRTH: Final = date(1880, 1, 1)

_FIXMEDINS_RE: Final = re.compile(r"[HP][0-9]{11}")
_DRUG_LENIENT_RE: Final = re.compile(r"[XZ][A-Z0-9]{22}")
#: The segment split the reference infers (分类5 + 通用名 letter+3 digits + 剂型4 + 规格包装4 +
#: 企业5): unverified, so a mismatch is only a note.
_DRUG_SEGMENTS_RE: Final = re.compile(r"[XZ][A-Z0-9]{5}[A-Z][0-9]{3}[A-Z0-9]{4}[0-9]{4}[0-9]{5}")
_TCM_HERB_RE: Final = re.compile(r"T[0-9A-Z]{5,29}")
_SERVICE_NATIONAL_RE: Final = re.compile(r"[0-9]{15}")
_SERVICE_LOCAL_RE: Final = re.compile(r"[0-9A-Z]{9,20}")
_CONSUMABLE_NATIONAL_RE: Final = re.compile(r"C[0-9]{19}(?:[0-9]{7})?")
_CONSUMABLE_LENIENT_RE: Final = re.compile(r"C[0-9A-Z]{10,26}")
_DIAGNOSIS_RE: Final = re.compile(r"[A-Z][0-9]{2}(?:\.[0-9A-Za-z]{1,8})?")
_OPERATION_RE: Final = re.compile(r"[0-9]{2}(?:\.[0-9]{1,4})?(?:[xX][0-9]{3})?")
_PRACTITIONER_RE: Final = re.compile(r"[DNY][0-9]{11}")
_PRACTITIONER_LOCAL_RE: Final = re.compile(r"[0-9A-Za-z_\-]{1,30}")
_CHRONIC_RE: Final = re.compile(r"M[0-9]{5}")
_PSN_NO_RE: Final = re.compile(r"[0-9A-Za-z]{1,30}")
_LOCAL_CODE_RE: Final = re.compile(r"[0-9A-Za-z][0-9A-Za-z.\-_]*")

UNVERIFIED: Final = "格式未经官方规范核实, 宽松受理 (format unverified against the official spec; accepted leniently)"


class _Reject(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise _Reject(f"编码须为文本 (a code must be text, got {type(value).__name__})")
    if value == "":
        raise _Reject("编码不能为空 (empty)")
    if value != value.strip():
        raise _Reject("编码首尾不能有空白 (leading or trailing whitespace)")
    return value


def _non_ascii(value: str) -> str | None:
    if not value.isascii():
        return "含有非ASCII字符, 如全角字符或中文 (non-ASCII characters such as full-width digits)"
    return None


# --------------------------------------------------------------------------------------------
# ID number (GB 11643-1999)
# --------------------------------------------------------------------------------------------


def certno_check_digit(first17: str) -> str:
    """The GB 11643 (ISO 7064 MOD 11-2) check character for the first 17 digits."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError("须为17位数字 (need exactly 17 digits)")
    total = sum(int(ch) * w for ch, w in zip(first17, _CERTNO_WEIGHTS, strict=True))
    return _CERTNO_CHECK_CHARS[total % 11]


def certno_birth_date(certno: str) -> date:
    """The birth date inside an 18-digit ID number (characters 7–14); ValueError if none."""
    digits = certno[6:14]
    if len(digits) != 8 or not digits.isascii() or not digits.isdigit():
        raise ValueError(f"出生日期须为8位数字 (birth date must be 8 digits): '{digits}'")
    return date(int(digits[0:4]), int(digits[4:6]), int(digits[6:8]))


def certno_gend(certno: str) -> Gend:
    """Sex from the 17th digit: odd male, even female."""
    return Gend.MALE if int(certno[16]) % 2 == 1 else Gend.FEMALE


def _certno(value: str, today: date | None) -> tuple[str, ...]:
    if len(value) == 15 and value.isascii() and value.isdigit():
        raise _Reject("15位旧身份证号码不受理, 请使用18位号码 (15-digit numbers are not accepted)")
    if len(value) != 18:
        raise _Reject(
            f"身份证号码须为18位, 实为{len(value)}位 (must be 18 characters, got {len(value)})"
        )
    if bad := _non_ascii(value):
        raise _Reject(bad)
    body, check = value[:17], value[17]
    if not body.isdigit():
        raise _Reject("身份证号码前17位须为数字 (the first 17 characters must be digits)")
    if not (check.isdigit() or check in "Xx"):
        raise _Reject(
            f"校验码须为数字或X, 实为 '{check}' (the check character must be a digit or X)"
        )
    # Address: GB/T 2260 province; a foreign permanent-residence ID (2023 version) starts with 9
    # and carries the province in characters 2–3.
    province = value[1:3] if value[0] == "9" else value[:2]
    if province not in PROVINCES and province not in CERTNO_EXTRA_PROVINCES:
        raise _Reject(
            f"地址码前两位 '{province}' 不是省级行政区划代码 (GB/T 2260) "
            f"(the address code does not start with a province code)"
        )
    try:
        brdy = certno_birth_date(value)
    except ValueError:
        raise _Reject(
            f"出生日期 '{value[6:14]}' 不是有效日期 (the birth date is not a real date)"
        ) from None
    today = today or date.today()
    if brdy > today:
        raise _Reject(f"出生日期 '{value[6:14]}' 晚于今天 (the birth date is in the future)")
    if brdy < _EARLIEST_BIRTH:
        raise _Reject(f"出生日期 '{value[6:14]}' 早于1880年 (the birth date is before 1880)")
    expected = certno_check_digit(body)
    if check.upper() != expected:
        raise _Reject(
            f"校验码错误: 应为 '{expected}', 实为 '{check}' "
            f"(wrong check digit: expected '{expected}', got '{check}')"
        )
    if check == "x":
        return ("小写 x 按校验码 X 受理 (lower-case x accepted as the check character X)",)
    return ()


# --------------------------------------------------------------------------------------------
# The other kinds
# --------------------------------------------------------------------------------------------


def _fixmedins(value: str) -> tuple[str, ...]:
    if bad := _non_ascii(value):
        raise _Reject(bad)
    if not _FIXMEDINS_RE.fullmatch(value):
        raise _Reject(
            f"定点医药机构编码 '{value}' 须为 H(医疗机构) 或 P(零售药店) 加11位数字 "
            "(must be H or P followed by 11 digits)"
        )
    if problem := admdvs_problem(value[1:7]):
        raise _Reject(f"机构编码第2–7位的医保区划无效 (the admdvs inside is invalid): {problem}")
    return ()


def _admdvs(value: str) -> tuple[str, ...]:
    if problem := admdvs_problem(value):
        raise _Reject(problem)
    return ()


def _drug(value: str) -> tuple[str, ...]:
    if bad := _non_ascii(value):
        raise _Reject(bad)
    if len(value) != 23:
        raise _Reject(
            f"西药/中成药代码须为23位, 实为{len(value)}位 (must be 23 characters, got {len(value)})"
        )
    if value[0] not in "XZ":
        raise _Reject(
            f"西药/中成药代码须以 X(西药) 或 Z(中成药) 开头, 实为 '{value[0]}' (must start with X or Z)"
        )
    if not _DRUG_LENIENT_RE.fullmatch(value):
        raise _Reject("西药/中成药代码只能含大写字母和数字 (only upper-case letters and digits)")
    if not _DRUG_SEGMENTS_RE.fullmatch(value):
        return (
            "不符合推定的分段结构 (分类5+通用名4+剂型4+规格包装4+企业5), 该结构未经核实, 宽松受理 "
            "(does not fit the inferred segment structure, which is unverified; accepted)",
        )
    return ()


def _tcm_herb(value: str) -> tuple[str, ...]:
    if bad := _non_ascii(value):
        raise _Reject(bad)
    if not _TCM_HERB_RE.fullmatch(value):
        raise _Reject(
            f"中药饮片代码 '{value}' 须以 T 开头, 后接5–29位大写字母或数字 "
            "(must be T followed by 5–29 upper-case letters or digits)"
        )
    return (UNVERIFIED,)


def _service_item(value: str) -> tuple[str, ...]:
    if bad := _non_ascii(value):
        raise _Reject(bad)
    if _SERVICE_NATIONAL_RE.fullmatch(value):
        return ()
    if _SERVICE_LOCAL_RE.fullmatch(value):
        return (
            "不是15位国家医疗服务项目代码, 按地方项目编码宽松受理 "
            "(not a 15-digit national code; accepted as a local item code)",
        )
    raise _Reject(
        f"医疗服务项目代码 '{value}' 须为15位数字, 地方编码可为9–20位大写字母或数字 "
        "(must be 15 digits, or 9–20 upper-case letters/digits for a local code)"
    )


def _consumable(value: str) -> tuple[str, ...]:
    if bad := _non_ascii(value):
        raise _Reject(bad)
    if _CONSUMABLE_NATIONAL_RE.fullmatch(value):
        return (UNVERIFIED,)
    if _CONSUMABLE_LENIENT_RE.fullmatch(value):
        return (
            "不是 C+19位 或 C+26位 数字的形式, 宽松受理 "
            "(not C + 19 or 26 digits; accepted leniently, the format is unverified)",
        )
    raise _Reject(
        f"医用耗材代码 '{value}' 须以 C 开头, 后接10–26位大写字母或数字 "
        "(must be C followed by 10–26 upper-case letters or digits)"
    )


def _diagnosis(value: str) -> tuple[str, ...]:
    if bad := _non_ascii(value):
        raise _Reject(bad)
    if not _DIAGNOSIS_RE.fullmatch(value):
        raise _Reject(
            f"疾病诊断代码 '{value}' 须为 ICD-10 医保版形式, 如 I10.x00 或 J18.900x001 "
            "(must look like an ICD-10 code: a capital letter, two digits, "
            "then optionally '.' and 1–8 letters/digits)"
        )
    return ()


def _operation(value: str) -> tuple[str, ...]:
    if bad := _non_ascii(value):
        raise _Reject(bad)
    if not _OPERATION_RE.fullmatch(value):
        raise _Reject(
            f"手术操作代码 '{value}' 须为 ICD-9-CM-3 医保版形式, 如 47.0900 或 36.0700x001 "
            "(must be two digits, optionally '.' and 1–4 digits, optionally x + 3 digits)"
        )
    return (UNVERIFIED,)


def _practitioner(value: str) -> tuple[str, ...]:
    if _PRACTITIONER_RE.fullmatch(value) and admdvs_problem(value[1:7]) is None:
        return ()
    if _PRACTITIONER_LOCAL_RE.fullmatch(value):
        return (
            "不是国家医保医师/护士/药师代码 (D/N/Y+医保区划+5位序号), 按机构内部工号宽松受理 "
            "(not a national practitioner code; accepted as an institution's own staff id)",
        )
    raise _Reject(
        f"医师/护士/药师代码 '{value}' 只能含字母、数字、下划线或连字符, 最长30位 "
        "(only letters, digits, '_' or '-', at most 30 characters)"
    )


def _chronic(value: str) -> tuple[str, ...]:
    if bad := _non_ascii(value):
        raise _Reject(bad)
    if not _CHRONIC_RE.fullmatch(value):
        raise _Reject(
            f"门诊慢特病病种代码 '{value}' 须为 M 加5位数字, 如 M03900 (must be M followed by 5 digits)"
        )
    return ()


def _psn_no(value: str) -> tuple[str, ...]:
    if bad := _non_ascii(value):
        raise _Reject(bad)
    if not _PSN_NO_RE.fullmatch(value):
        raise _Reject(f"人员编号 '{value}' 须为1–30位字母或数字 (must be 1–30 letters or digits)")
    return ()


def check_local_code(value: object, *, max_len: int = 50, what: str = "编码") -> str | None:
    """Why `value` is not an acceptable locally assigned code (医疗机构制剂, 民族药, 病种…), or None.

    Such codes are assigned by provinces with no national format: letters, digits, '.', '-'
    and '_' up to `max_len` characters.
    """
    try:
        text = _text(value)
    except _Reject as exc:
        return exc.reason
    if bad := _non_ascii(text):
        return bad
    if len(text) > max_len:
        return f"{what}最长{max_len}位, 实为{len(text)}位 (at most {max_len} characters)"
    if not _LOCAL_CODE_RE.fullmatch(text):
        return (
            f"{what}只能含字母、数字、'.'、'-'、'_' (only letters, digits, '.', '-', '_'): '{text}'"
        )
    return None


# --------------------------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------------------------


def kind_of(kind: str | CodeKind) -> CodeKind:
    """The CodeKind named `kind`; UnknownKind if there is none."""
    if isinstance(kind, CodeKind):
        return kind
    if not CodeKind.has(kind):
        raise UnknownKind(str(kind))
    return CodeKind(kind)


def validate(kind: str | CodeKind, value: object, *, today: date | None = None) -> CodeCheck:
    """Validate `value` as a code of `kind`. `today` bounds ID birth dates (default: today)."""
    k = kind_of(kind)
    shown = value if isinstance(value, str) else repr(value)
    try:
        text = _text(value)
        if k is CodeKind.CERTNO:
            notes = _certno(text, today)
        elif k is CodeKind.FIXMEDINS_CODE:
            notes = _fixmedins(text)
        elif k is CodeKind.ADMDVS:
            notes = _admdvs(text)
        elif k is CodeKind.DRUG:
            notes = _drug(text)
        elif k is CodeKind.TCM_HERB:
            notes = _tcm_herb(text)
        elif k is CodeKind.SERVICE_ITEM:
            notes = _service_item(text)
        elif k is CodeKind.CONSUMABLE:
            notes = _consumable(text)
        elif k is CodeKind.DIAGNOSIS:
            notes = _diagnosis(text)
        elif k is CodeKind.OPERATION:
            notes = _operation(text)
        elif k is CodeKind.PRACTITIONER:
            notes = _practitioner(text)
        elif k is CodeKind.CHRONIC_DISEASE:
            notes = _chronic(text)
        else:
            notes = _psn_no(text)
    except _Reject as exc:
        return CodeCheck(k, shown, False, exc.reason)
    return CodeCheck(k, shown, True, None, notes)


def is_valid(kind: str | CodeKind, value: object) -> bool:
    return validate(kind, value).valid


def require(kind: str | CodeKind, value: object, *, field: str) -> str:
    """`value` if it is a valid code of `kind`; else ValueError naming `field` and the rule."""
    result = validate(kind, value)
    if not result.valid:
        raise ValueError(f"{field}: {result.reason}")
    return result.value
