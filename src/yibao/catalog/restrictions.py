"""The restriction check the settlement service (事中) and the risk rules call.

`check(item, *, gend, age, hosp_lv, med_type, diag_codes, cnt, prd_days)` returns the reasons a
fee line breaks its item's restrictions (empty when it breaks none); `violations(...)` returns
the same as structured records with a rule name, for the risk engine; `selfpay_reason(reasons)`
makes them one self-paid line's reason. A fact given as None is
unknown and its rule is skipped. What to do with a violation is the caller's decision: the
fund does not pay for a restricted item used outside its scope (domain.md §1.2), but the item
may still be used and paid by the patient.

Pure: standard library, kit and codes only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from yibao.catalog.model import CatalogItem, Restrictions
from yibao.codes.dicts import Gend, HospLv, MedType


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken restriction. `rule` names the restriction column (`lmt_gend`, `lmt_age`,
    `lmt_hosp_lv`, `lmt_med_type`, `lmt_diag_codes`, `lmt_days`, `lmt_cnt`)."""

    rule: str
    hilist_code: str
    reason: str


def _gend_label(value: str) -> str:
    return Gend(value).label if Gend.has(value) else value


def _levels(values: Iterable[str]) -> str:
    return "/".join(HospLv(v).label if HospLv.has(v) else v for v in sorted(values))


def _med_types(values: Iterable[str]) -> str:
    names = []
    for v in sorted(values):
        if v == "ipt":
            names.append("住院")
        elif v == "otp":
            names.append("门诊")
        elif MedType.has(v):
            names.append(MedType(v).label)
        else:
            names.append(v)
    return "/".join(names)


def _num(value: Decimal | int) -> str:
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f")
        return text
    return str(value)


def violations(
    item: CatalogItem,
    *,
    gend: str | None = None,
    age: int | Decimal | None = None,
    hosp_lv: str | None = None,
    med_type: str | None = None,
    diag_codes: Iterable[str] | None = None,
    cnt: Decimal | None = None,
    prd_days: Decimal | None = None,
) -> list[Violation]:
    """Every restriction of `item` the fee line breaks, in a fixed order."""
    r: Restrictions = item.restrictions
    code, name = item.hilist_code, item.hilist_name
    out: list[Violation] = []
    if r.empty:
        return out

    if (
        r.gend is not None
        and gend is not None
        and gend in (Gend.MALE, Gend.FEMALE)
        and gend != r.gend
    ):
        want, got = _gend_label(r.gend), _gend_label(gend)
        out.append(
            Violation(
                "lmt_gend",
                code,
                f"{name}[{code}] 限{want}性使用, 患者性别为{got} "
                f"(restricted to sex {r.gend}; the patient's sex is {gend})",
            )
        )

    if age is not None:
        if r.age_min is not None and age < r.age_min:
            out.append(
                Violation(
                    "lmt_age",
                    code,
                    f"{name}[{code}] 限{r.age_min}岁及以上使用, 患者{_num(age)}岁 "
                    f"(restricted to age >= {r.age_min}; the patient is {_num(age)})",
                )
            )
        if r.age_max is not None and age >= r.age_max:
            out.append(
                Violation(
                    "lmt_age",
                    code,
                    f"{name}[{code}] 限{r.age_max}岁以下使用, 患者{_num(age)}岁 "
                    f"(restricted to age < {r.age_max}; the patient is {_num(age)})",
                )
            )

    if r.hosp_lv and hosp_lv is not None and hosp_lv not in r.hosp_lv:
        out.append(
            Violation(
                "lmt_hosp_lv",
                code,
                f"{name}[{code}] 限{_levels(r.hosp_lv)}医疗机构使用, 本机构为"
                f"{_levels([hosp_lv])} (restricted to institution levels "
                f"{','.join(sorted(r.hosp_lv))}; this institution is level {hosp_lv})",
            )
        )

    if r.med_type and med_type is not None and not r.allows_med_type(med_type):
        out.append(
            Violation(
                "lmt_med_type",
                code,
                f"{name}[{code}] 限{_med_types(r.med_type)}使用, 本次医疗类别为"
                f"{_med_types([med_type])} (restricted to med_type "
                f"{','.join(sorted(r.med_type))}; this visit is {med_type})",
            )
        )

    if r.diag_codes and diag_codes is not None:
        codes = [c for c in diag_codes if c]
        if not r.allows_diagnoses(codes):
            shown = ",".join(codes) if codes else "无"
            out.append(
                Violation(
                    "lmt_diag_codes",
                    code,
                    f"{name}[{code}] 限适应症 {','.join(r.diag_codes)} 使用, 本次诊断为 {shown} "
                    f"(indications {','.join(r.diag_codes)}; the visit's diagnoses are "
                    f"{','.join(codes) or 'none'})",
                )
            )

    if r.max_days is not None and prd_days is not None and prd_days > r.max_days:
        out.append(
            Violation(
                "lmt_days",
                code,
                f"{name}[{code}] 最多开{_num(r.max_days)}天, 本次{_num(prd_days)}天 "
                f"(at most {_num(r.max_days)} days per line; this line covers {_num(prd_days)})",
            )
        )

    if r.max_cnt is not None and cnt is not None and cnt > r.max_cnt:
        out.append(
            Violation(
                "lmt_cnt",
                code,
                f"{name}[{code}] 单次最多{_num(r.max_cnt)}{item.prcunt or ''}, 本次{_num(cnt)} "
                f"(at most {_num(r.max_cnt)} per line; this line has {_num(cnt)})",
            )
        )
    return out


def check(
    item: CatalogItem,
    *,
    gend: str | None = None,
    age: int | Decimal | None = None,
    hosp_lv: str | None = None,
    med_type: str | None = None,
    diag_codes: Iterable[str] | None = None,
    cnt: Decimal | None = None,
    prd_days: Decimal | None = None,
) -> list[str]:
    """The reasons (Chinese, then English in parentheses) the fee line breaks `item`'s
    restrictions; empty when it breaks none. Facts given as None are not checked."""
    return [
        v.reason
        for v in violations(
            item,
            gend=gend,
            age=age,
            hosp_lv=hosp_lv,
            med_type=med_type,
            diag_codes=diag_codes,
            cnt=cnt,
            prd_days=prd_days,
        )
    ]


#: the fee_detail ``memo`` column's width, which holds a self-paid line's reason
REASON_WIDTH = 500


def selfpay_reason(reasons: Iterable[str]) -> str | None:
    """The reasons of `check` as one self-paid line's reason (``memo``): joined, cut to the
    column's width; None when there are none. Live settlement and the bulk load both use it,
    so a simulated line says what a settled one would."""
    joined = "; ".join(reasons)
    return joined[:REASON_WIDTH] if joined else None
