"""The pure logic of every category that one call plus the person's history can judge
(事前/事中). Each function reads `Facts` and returns findings; the engine turns them into hits
with the rule's identity, result type and action. docs/review.md explains each in Chinese.

Reasons are Chinese first, then English in parentheses; they name items, never the person.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from decimal import Decimal

from yibao.kit.money import round_fen
from yibao.risk.model import CONSUMABLE_LIST_TYPE, Line, PastVisit
from yibao.risk.registry import Facts, Finding, ParamSpec, logic

ZERO = Decimal(0)


def _n(value: Decimal | int) -> str:
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f")
        return text
    return str(value)


def _item(ln: Line) -> str:
    return f"{ln.hilist_name}[{ln.hilist_code}]"


def _ev(lines: Iterable[Line]) -> list[dict[str, object]]:
    return [
        {
            "line_id": ln.line_id,
            "hilist_code": ln.hilist_code,
            "cnt": str(ln.cnt),
            "pric": str(ln.pric),
            "amount": str(ln.amount),
            "fee_ocur_time": ln.fee_ocur_time.isoformat(sep=" "),
        }
        for ln in lines
    ]


def _one(ln: Line, reason: str, threshold: str, value: str, amount: Decimal | None = None,
         **evidence: object) -> Finding:  # fmt: skip
    return Finding(
        reason=reason,
        line_ids=(ln.line_id,),
        threshold=threshold,
        value=value,
        amount=ln.amount if amount is None else amount,
        evidence={"lines": _ev([ln]), **evidence},
    )


# --------------------------------------------------------------------------- catalog limits


@logic("gender_limit", threshold=None, restricted_lines_only=True)
def gender_limit(f: Facts) -> Sequence[Finding]:
    gend = f.bill.person.gend
    if gend not in ("1", "2"):
        return []
    out = []
    for ln in f.charged:
        want = ln.limits.gend
        if want is not None and want != gend:
            label = {"1": "男", "2": "女"}.get(want, want)
            out.append(
                _one(
                    ln,
                    f"{_item(ln)} 限{label}性使用, 与患者性别不符 "
                    f"(restricted to sex {want}; the patient's sex differs)",
                    want,
                    gend,
                )
            )
    return out


_CHILD = {
    "child_age": ParamSpec("int", 18, "儿童年龄上限(不含) the first age that is no longer a child")
}


@logic("child_only", params=_CHILD, threshold="child_age", restricted_lines_only=True)
def child_only(f: Facts) -> Sequence[Finding]:
    age = f.bill.person.age
    if age is None:
        return []
    child_age = int(f.params["child_age"])  # type: ignore[arg-type]
    out = []
    for ln in f.charged:
        lim = ln.limits
        bound: int | None = None
        if lim.age_max is not None and lim.age_max <= child_age:
            bound = lim.age_max
        elif lim.child_drug:
            bound = child_age
        if bound is not None and age >= bound:
            out.append(
                _one(
                    ln,
                    f"{_item(ln)} 为儿童专用/限{bound}岁以下使用, 患者{age}岁 "
                    f"(for children under {bound}; the patient is {age})",
                    f"<{bound}",
                    str(age),
                )
            )
    return out


@logic("age_limit", params=_CHILD, threshold=None, restricted_lines_only=True)
def age_limit(f: Facts) -> Sequence[Finding]:
    age = f.bill.person.age
    if age is None:
        return []
    child_age = int(f.params["child_age"])  # type: ignore[arg-type]
    out = []
    for ln in f.charged:
        lim = ln.limits
        if lim.age_min is not None and age < lim.age_min:
            out.append(
                _one(
                    ln,
                    f"{_item(ln)} 限{lim.age_min}岁及以上使用, 患者{age}岁 "
                    f"(restricted to age >= {lim.age_min}; the patient is {age})",
                    f">={lim.age_min}",
                    str(age),
                )
            )
        elif lim.age_max is not None and lim.age_max > child_age and age >= lim.age_max:
            # an upper bound at or below child_age is child_only's
            out.append(
                _one(
                    ln,
                    f"{_item(ln)} 限{lim.age_max}岁以下使用, 患者{age}岁 "
                    f"(restricted to age < {lim.age_max}; the patient is {age})",
                    f"<{lim.age_max}",
                    str(age),
                )
            )
    return out


@logic("hosp_lv_limit", restricted_lines_only=True)
def hosp_lv_limit(f: Facts) -> Sequence[Finding]:
    lv = f.bill.institution.hosp_lv
    out = []
    for ln in f.charged:
        allowed = ln.limits.hosp_lv
        if allowed and lv not in allowed:
            shown = ",".join(sorted(allowed))
            out.append(
                _one(
                    ln,
                    f"{_item(ln)} 限{shown}级医疗机构使用, 本机构为{lv}级 "
                    f"(restricted to hosp_lv {shown}; this institution is {lv})",
                    shown,
                    lv,
                )
            )
    return out


_INDICATION = {
    "accept_approval": ParamSpec(
        "bool", False, "医院审批通过(hosp_appr_flag 1)视同符合适应症 (take the hospital's approval for a qualifying diagnosis)"
    )
}  # fmt: skip


@logic("indication_limit", params=_INDICATION, restricted_lines_only=True)
def indication_limit(f: Facts) -> Sequence[Finding]:
    """domain.md §2.2 限定支付范围: a restricted item without a qualifying diagnosis is
    suspicious (a violation without approval). The approval (审批通过) is the hospital's claim
    that the use qualifies, which is what the fund pays on and what this rule checks, so it
    does not stand in for the diagnosis unless the region says so (`accept_approval`). A line
    the hospital billed as self-pay (审批不通过) puts nothing on the fund."""
    codes = [c.upper() for c in f.bill.visit.diag_codes if c]
    accept = bool(f.params["accept_approval"])
    out = []
    for ln in f.charged:
        wanted = ln.limits.diag_codes
        if not wanted or ln.hosp_appr_flag == "2" or (accept and ln.hosp_appr_flag == "1"):
            continue
        if any(c.startswith(p.upper()) for c in codes for p in wanted):
            continue
        shown = ",".join(codes) or "无"
        approved = ln.hosp_appr_flag == "1"
        claim = "医院标记审批通过, 但" if approved else "未经审批, "
        said = "approved by the hospital, but" if approved else "not approved;"
        out.append(
            _one(
                ln,
                f"{_item(ln)} 限适应症 {','.join(wanted)}, {claim}本次诊断为 {shown} "
                f"(indications {','.join(wanted)}; {said} the visit's diagnoses are "
                f"{','.join(codes) or 'none'})",
                ",".join(wanted),
                ",".join(codes),
                hosp_appr_flag=ln.hosp_appr_flag,
            )
        )
    return out


@logic("med_type_limit", restricted_lines_only=True)
def med_type_limit(f: Facts) -> Sequence[Finding]:
    med_type = f.bill.visit.med_type
    out = []
    for ln in f.charged:
        if not ln.limits.allows_med_type(med_type):
            shown = ",".join(sorted(ln.limits.med_type))
            out.append(
                _one(
                    ln,
                    f"{_item(ln)} 限就医方式 {shown} 使用, 本次医疗类别为 {med_type} "
                    f"(restricted to med_type {shown}; this visit is {med_type})",
                    shown,
                    med_type,
                )
            )
    return out


@logic("out_of_catalog")
def out_of_catalog(f: Facts) -> Sequence[Finding]:
    return [
        _one(
            ln,
            f"{_item(ln)} 在费用发生日不在医保目录内 (not in the catalog on "
            f"{ln.fee_ocur_time.date().isoformat()})",
            "in catalog",
            "not in catalog",
        )
        for ln in f.charged
        if not ln.in_catalog
    ]


_PHARMACY = {
    "allow_consumables": ParamSpec(
        "bool", True, "药店可售目录内医用耗材 (catalog consumables are allowed)"
    )
}


@logic("pharmacy_non_drug", params=_PHARMACY)
def pharmacy_non_drug(f: Facts) -> Sequence[Finding]:
    if f.bill.visit.scene != "pharmacy":
        return []
    allow_mcs = bool(f.params["allow_consumables"])
    out = []
    for ln in f.charged:
        if ln.is_drug or (allow_mcs and ln.list_type == CONSUMABLE_LIST_TYPE):
            continue
        kind = "目录外商品" if ln.list_type is None else f"目录类别 {ln.list_type}"
        out.append(
            _one(
                ln,
                f"药店结算 {_item(ln)} 不是药品({kind}) "
                f"(a pharmacy sale of a non-drug: list_type {ln.list_type or 'none'})",
                "drug",
                ln.list_type or "none",
            )
        )
    return out


# --------------------------------------------------------------------------- quantities and prices


@logic("over_quantity")
def over_quantity(f: Facts) -> Sequence[Finding]:
    out = []
    for ln in f.charged:
        reasons: list[str] = []
        threshold = value = ""
        lim = ln.limits
        if lim.max_cnt is not None and ln.cnt > lim.max_cnt:
            reasons.append(f"数量{_n(ln.cnt)}超过单次上限{_n(lim.max_cnt)}")
            threshold, value = f"cnt<={_n(lim.max_cnt)}", _n(ln.cnt)
        days = ln.prd_days
        drug = f.kb.drug_limit(ln.hilist_code, ln.fee_ocur_time.date(), f.bill.visit.med_type)
        max_days = lim.max_days
        if drug is not None and drug.max_days is not None:
            max_days = drug.max_days if max_days is None else min(max_days, drug.max_days)
        if days is not None and max_days is not None and days > max_days:
            reasons.append(f"用药天数{_n(days)}超过{_n(max_days)}天")
            threshold, value = f"days<={_n(max_days)}", _n(days)
        if drug is not None and drug.max_daily_dose is not None and days is not None and days > 0:
            daily = ln.cnt / days
            if daily > drug.max_daily_dose:
                reasons.append(
                    f"日用量{_n(daily.quantize(Decimal('0.01')))}超过{_n(drug.max_daily_dose)}"
                )
                threshold, value = f"daily<={_n(drug.max_daily_dose)}", _n(daily)
        if reasons:
            out.append(
                _one(
                    ln,
                    f"{_item(ln)} {'; '.join(reasons)} (quantity or days over the limit)",
                    threshold,
                    value,
                )
            )
    return out


@logic("over_price")
def over_price(f: Facts) -> Sequence[Finding]:
    lv = f.bill.institution.hosp_lv
    out = []
    for ln in f.charged:
        cap = f.kb.max_price(ln.hilist_code, lv, ln.fee_ocur_time.date())
        if cap is None or ln.pric <= cap.max_pric:
            continue
        excess = round_fen((ln.pric - cap.max_pric) * ln.cnt)
        out.append(
            _one(
                ln,
                f"{_item(ln)} 单价{_n(ln.pric)}元高于标准价{_n(cap.max_pric)}元 "
                f"(unit price above the standard price {_n(cap.max_pric)})",
                _n(cap.max_pric),
                _n(ln.pric),
                amount=excess,
            )
        )
    return out


def _same_visit(f: Facts) -> list[Line]:
    """The bill's lines and the visit's earlier lines (charges only)."""
    return list(f.visit_charged)


@logic("duplicate_charge")
def duplicate_charge(f: Facts) -> Sequence[Finding]:
    all_lines = f.visit_charged
    new_ids = {ln.line_id for ln in f.bill.lines}
    new_codes = {ln.hilist_code for ln in f.bill.lines}
    out: list[Finding] = []
    flagged: set[str] = set()
    # the same item at the same moment, quantity and price: one charge uploaded twice. Only a
    # line of this bill is flagged, so only its items' lines are keyed (a stay's upload
    # would otherwise key every earlier line of the stay again), and only when an item of
    # the bill is billed more than once at all (most bills bill each item once)
    mine = [ln for ln in all_lines if ln.hilist_code in new_codes]
    repeated = len(mine) > len({ln.hilist_code for ln in mine})
    seen: dict[tuple[object, ...], Line] = {}
    for ln in mine if repeated else ():
        key = (ln.hilist_code, ln.fee_ocur_time, ln.cnt, ln.pric)
        first = seen.get(key)
        if first is None:
            seen[key] = ln
            continue
        if ln.line_id in new_ids and ln.line_id not in flagged:
            flagged.add(ln.line_id)
            out.append(
                _one(
                    ln,
                    f"{_item(ln)} 与明细 {first.line_id} 同一时间、数量、单价重复收费 "
                    f"(the same charge as line {first.line_id})",
                    "once",
                    "twice",
                    duplicate_of=first.line_id,
                )
            )
    # a pair with no line of this bill on either side has nothing to flag
    pairs = f.kb.pairs(f.day, touching=new_codes)
    by_code: dict[str, list[Line]] = defaultdict(list)
    for ln in all_lines if pairs else ():
        by_code[ln.hilist_code].append(ln)
    for pair in pairs:
        a_lines = by_code.get(pair.hilist_code_a, [])
        b_lines = by_code.get(pair.hilist_code_b, [])
        if not a_lines or not b_lines:
            continue
        a_days = {ln.fee_ocur_time.date() for ln in a_lines}
        for ln in b_lines:
            if ln.line_id not in new_ids or ln.line_id in flagged:
                continue
            if pair.relation == "includes" and ln.fee_ocur_time.date() not in a_days:
                continue  # 项目内涵: included in A's charge of the same day
            flagged.add(ln.line_id)
            a = a_lines[0]
            what = "项目内涵已包含" if pair.relation == "includes" else "互斥"
            out.append(
                _one(
                    ln,
                    f"{_item(ln)} 与 {_item(a)} {what}, 不应同时收费 "
                    f"({pair.relation}: {pair.hilist_code_a} / {pair.hilist_code_b})",
                    pair.relation,
                    pair.hilist_code_a,
                    pair={"a": pair.hilist_code_a, "b": pair.hilist_code_b, "memo": pair.memo},
                )
            )
        if pair.relation == "excludes":
            # 互斥 either way round: a new line of A beside B is flagged too
            for ln in a_lines:
                if ln.line_id not in new_ids or ln.line_id in flagged:
                    continue
                flagged.add(ln.line_id)
                out.append(
                    _one(
                        ln,
                        f"{_item(ln)} 与 {_item(b_lines[0])} 互斥, 不应同时收费 "
                        f"(excludes: {pair.hilist_code_a} / {pair.hilist_code_b})",
                        pair.relation,
                        pair.hilist_code_b,
                    )
                )
    return out


@logic("split_charge")
def split_charge(f: Facts) -> Sequence[Finding]:
    # a finding needs a line of this bill among the components, so only the bundles the
    # bill's items belong to are looked at (most bills: none)
    new_codes = {ln.hilist_code for ln in f.bill.lines}
    bundles = f.kb.bundle_parts(f.day, touching=new_codes)
    if not bundles:
        return []
    all_lines = _same_visit(f)
    new_ids = {ln.line_id for ln in f.bill.lines}
    # a finding needs a line of this bill, so only the days this bill charges can hold one
    # (a stay's upload need not regroup the stay's earlier days)
    new_days = {ln.fee_ocur_time.date() for ln in f.bill.lines}
    by_day: dict[date, dict[str, list[Line]]] = defaultdict(lambda: defaultdict(list))
    for ln in all_lines:
        day = ln.fee_ocur_time.date()
        if day in new_days:
            by_day[day][ln.hilist_code].append(ln)
    out = []
    for bundle_code, parts in bundles.items():
        members = {p.hilist_code for p in parts}
        need = max(p.min_parts for p in parts)
        name = parts[0].bundle_name
        for codes in by_day.values():
            if bundle_code in codes:
                continue
            present = sorted(members & codes.keys())
            if len(present) < need:
                continue
            lines = [ln for c in present for ln in codes[c]]
            if not any(ln.line_id in new_ids for ln in lines):
                continue
            found = [ln for ln in lines if ln.line_id in new_ids]
            out.append(
                Finding(
                    reason=f"{name}[{bundle_code}] 的 {len(present)} 个组成项目同日分别收费 "
                    f"({','.join(present)}) (a bundled service billed as its parts)",
                    line_ids=tuple(ln.line_id for ln in found),
                    threshold=f"<{need}",
                    value=str(len(present)),
                    amount=sum((ln.amount for ln in found), ZERO),
                    evidence={"bundle": bundle_code, "lines": _ev(lines)},
                )
            )
    return out


#: a frequency limit's period: its Chinese and English words
_PERIODS = {
    "day": ("每日", "day"),
    "admission": ("每次住院", "admission"),
    "year": ("每年", "year"),
}


@logic("frequency_limit")
def frequency_limit(f: Facts) -> Sequence[Finding]:
    new = f.charged
    if not new:
        return []
    visit_all = _same_visit(f)
    out = []
    by_code: dict[str, list[Line]] = {}
    for ln in new:
        by_code.setdefault(ln.hilist_code, []).append(ln)
    for code in sorted(by_code):
        mine = by_code[code]
        lim = f.kb.frequency_limit(code, mine[0].fee_ocur_time.date())
        if lim is None:
            continue
        same = [ln for ln in visit_all if ln.hilist_code == code]
        broke: tuple[str, Decimal, Decimal] | None = None
        # the lines found: those of the days over a daily limit (the other days keep to it),
        # or every new line of the item for a limit per admission or year
        found_lines = mine
        when = ""
        if lim.per_day is not None:
            per_day: dict[date, Decimal] = defaultdict(Decimal)
            for ln in same:
                per_day[ln.fee_ocur_time.date()] += ln.cnt
            days = {ln.fee_ocur_time.date() for ln in mine}
            over = sorted(d for d in days if per_day[d] > lim.per_day)
            if over:
                broke = ("day", lim.per_day, max(per_day[d] for d in over))
                found_lines = [ln for ln in mine if ln.fee_ocur_time.date() in over]
                when = ",".join(d.isoformat() for d in over)
        if broke is None and lim.per_admission is not None and f.bill.visit.scene == "inpatient":
            total = sum((ln.cnt for ln in same), ZERO)
            if total > lim.per_admission:
                broke = ("admission", lim.per_admission, total)
        if broke is None and lim.per_year is not None:
            year = mine[0].fee_ocur_time.year
            past = sum(
                (
                    p.cnt
                    for p in f.history.lines
                    if p.hilist_code == code and p.fee_ocur_time.year == year
                ),
                ZERO,
            )
            total = past + sum((ln.cnt for ln in same if ln.fee_ocur_time.year == year), ZERO)
            if total > lim.per_year:
                broke = ("year", lim.per_year, total)
        if broke is None:
            continue
        period, limit, found = broke
        zh, en = _PERIODS[period]
        on = f" ({when})" if when else ""
        out.append(
            Finding(
                reason=f"{_item(mine[0])} {zh}数量{_n(found)}超过上限{_n(limit)}{on} "
                f"(count per {en} {_n(found)} above {_n(limit)}{on})",
                line_ids=tuple(ln.line_id for ln in found_lines),
                threshold=f"{zh}<={_n(limit)}",
                value=_n(found),
                amount=sum((ln.amount for ln in found_lines), ZERO),
                evidence={"lines": _ev(same)},
            )
        )
    return out


_HOLD = {
    "default_days": ParamSpec("int", 7, "无用药天数时按此天数计持有量 (days assumed when prd_days is missing)"),
    "grace_days": ParamSpec("int", 3, "允许的剩余持有天数 (supply that may remain), unless the windows table sets 'holding'"),
}  # fmt: skip


@logic("repeat_prescription", params=_HOLD, threshold="grace_days")
def repeat_prescription(f: Facts) -> Sequence[Finding]:
    drugs = [ln for ln in f.charged if ln.is_drug]
    if not drugs or not f.history.lines:
        return []
    default_days = int(f.params["default_days"])  # type: ignore[arg-type]
    grace = f.kb.window("holding", f.day, int(f.params["grace_days"]))  # type: ignore[arg-type]
    this_visit = f.bill.visit.mdtrt_id
    out = []
    for ln in drugs:
        day = ln.fee_ocur_time.date()
        held = 0
        source = None
        for p in f.history.lines:
            if p.hilist_code != ln.hilist_code or p.mdtrt_id == this_visit or p.cnt <= 0:
                continue
            start = p.fee_ocur_time.date()
            if start > day:
                continue
            days = int(p.prd_days) if p.prd_days is not None and p.prd_days > 0 else default_days
            left = (start + timedelta(days=days) - day).days
            if left > held:
                held, source = left, p
        if source is not None and held > grace:
            out.append(
                _one(
                    ln,
                    f"{_item(ln)} 此前所开同一药品尚余约{held}天用量, 超过允许的{grace}天 "
                    f"(about {held} days of an earlier supply remain; {grace} allowed)",
                    str(grace),
                    str(held),
                    earlier={
                        "mdtrt_id": source.mdtrt_id,
                        "fee_ocur_time": source.fee_ocur_time.isoformat(sep=" "),
                        "prd_days": str(source.prd_days),
                    },
                )
            )
    return out


@logic("item_substitution")
def item_substitution(f: Facts) -> Sequence[Finding]:
    stock = f.history.stock
    if stock is None or f.bill.visit.scene != "pharmacy":
        return []
    want: dict[str, Decimal] = defaultdict(Decimal)
    lines: dict[str, list[Line]] = defaultdict(list)
    for ln in f.charged:
        want[ln.hilist_code] += ln.cnt
        lines[ln.hilist_code].append(ln)
    out = []
    for code, cnt in sorted(want.items()):
        have = stock.get(code, ZERO)
        if cnt <= have:
            continue
        mine = lines[code]
        out.append(
            Finding(
                reason=f"{_item(mine[0])} 销售数量{_n(cnt)}超过进销存库存{_n(have)} "
                f"(sold {_n(cnt)}; the declared stock is {_n(have)})",
                line_ids=tuple(ln.line_id for ln in mine),
                threshold=_n(have),
                value=_n(cnt),
                amount=sum((ln.amount for ln in mine), ZERO),
                evidence={"lines": _ev(mine), "stock": str(have)},
            )
        )
    return out


@logic("fabricated_service")
def fabricated_service(f: Facts) -> Sequence[Finding]:
    death = f.bill.person.death_date
    if death is None or f.bill.visit.begntime.date() > death:
        return []  # a visit begun after death is card_misuse's
    return [
        _one(
            ln,
            f"{_item(ln)} 发生于参保人死亡日期之后 (a charge dated after the date of death)",
            death.isoformat(),
            ln.fee_ocur_time.date().isoformat(),
        )
        for ln in f.charged
        if ln.fee_ocur_time.date() > death
    ]


_HVC = {
    "min_pric": ParamSpec("decimal", Decimal(0), "只看单价不低于此值的耗材 (only consumables at or above this unit price)")
}  # fmt: skip


@logic("high_value_consumable", params=_HVC, threshold="min_pric")
def high_value_consumable(f: Facts) -> Sequence[Finding]:
    floor = f.params["min_pric"]
    assert isinstance(floor, Decimal)
    out = []
    all_codes: set[str] | None = None  # the visit's items, gathered when a consumable needs them
    for ln in f.charged:
        if ln.pric < floor:
            continue
        procs = f.kb.procedures_for(ln.hilist_code, ln.fee_ocur_time.date())
        if not procs:
            continue
        if all_codes is None:
            all_codes = {x.hilist_code for x in _same_visit(f)}
        if procs & all_codes:
            continue
        shown = ",".join(sorted(procs))
        out.append(
            _one(
                ln,
                f"{_item(ln)} 为高值耗材, 本次就诊未收取配套的手术/操作项目({shown}) "
                f"(a high-value consumable without its procedure {shown})",
                shown,
                "none",
            )
        )
    return out


# --------------------------------------------------------------------------- visits and history


def _total(f: Facts) -> Decimal:
    return sum((ln.amount for ln in f.charged), ZERO)


_CARD = {
    "checks": ParamSpec("strs", ("death", "same_place"), "判断哪些情形: death 死亡后就诊, same_place 一卡两地 (which signs: a visit after death; two institutions too close in time)", ("death", "same_place")),
    "same_place_minutes": ParamSpec("int", 60, "同日两家机构门诊间隔少于此分钟数为一卡两地, windows 表的 same_place 阈值优先 (minutes; the windows table's same_place threshold wins)"),
}  # fmt: skip


@logic("card_misuse", params=_CARD)
def card_misuse(f: Facts) -> Sequence[Finding]:
    checks = f.params["checks"]
    assert isinstance(checks, tuple)
    visit = f.bill.visit
    death = f.bill.person.death_date
    day = visit.begntime.date()
    if "death" in checks and death is not None and day > death:
        return [
            Finding(
                reason=f"就诊日期 {day.isoformat()} 在参保人死亡日期之后, 疑似冒用医保凭证 "
                "(the visit is after the insured person's date of death)",
                threshold=death.isoformat(),
                value=day.isoformat(),
                amount=_total(f),
                evidence={"visit_date": day.isoformat()},
            )
        ]
    if "same_place" not in checks or visit.scene != "outpatient":
        return []
    found = f.kb.window_threshold("same_place", f.day)
    minutes = int(found) if found is not None else int(f.params["same_place_minutes"])  # type: ignore[arg-type]
    here = f.bill.institution.fixmedins_code
    for v in f.history.visits:
        if v.scene != "outpatient" or v.mdtrt_id == visit.mdtrt_id or v.fixmedins_code == here:
            continue
        if v.begntime.date() != day:
            continue
        gap = abs((visit.begntime - v.begntime).total_seconds()) / 60
        if gap < minutes:
            return [
                Finding(
                    reason=f"同日另一机构门诊就诊仅相隔{int(gap)}分钟, 疑似一卡两地 "
                    f"(another institution's visit {int(gap)} minutes apart; {minutes} needed)",
                    threshold=f">={minutes}min",
                    value=f"{int(gap)}min",
                    amount=_total(f),
                    evidence={"other": _pv(v)},
                )
            ]
    return []


_SAME_DAY = {
    "max_institutions": ParamSpec("int", 1, "同一天允许门诊就诊的机构数; 同一机构的再次就诊不计 (institutions allowed per day; a second visit at the same one is not counted)"),
}  # fmt: skip


@logic("same_day_multi_visit", params=_SAME_DAY, threshold="max_institutions")
def same_day_multi_visit(f: Facts) -> Sequence[Finding]:
    visit = f.bill.visit
    if visit.scene != "outpatient":
        return []
    day = visit.begntime.date()
    others = [
        v
        for v in f.history.visits
        if v.scene == "outpatient" and v.mdtrt_id != visit.mdtrt_id and v.begntime.date() == day
    ]
    places = {v.fixmedins_code for v in others} | {f.bill.institution.fixmedins_code}
    limit = int(f.params["max_institutions"])  # type: ignore[arg-type]
    if len(places) <= limit:
        return []
    return [
        Finding(
            reason=f"同一天在{len(places)}家机构门诊就诊, 超过{limit}家 "
            f"(outpatient visits at {len(places)} institutions in one day; {limit} allowed)",
            threshold=str(limit),
            value=str(len(places)),
            amount=_total(f),
            evidence={"visits": [_pv(v) for v in others]},
        )
    ]


def _pv(v: PastVisit) -> dict[str, object]:
    return {
        "mdtrt_id": v.mdtrt_id,
        "fixmedins_code": v.fixmedins_code,
        "scene": v.scene,
        "begntime": v.begntime.isoformat(sep=" "),
        "endtime": v.endtime.isoformat(sep=" ") if v.endtime else None,
    }


_FREQ = {
    "max_visits": ParamSpec("int", 12, "期间内允许的门诊就诊次数 (outpatient visits allowed in the window)"),
    "window_days": ParamSpec("int", 30, "统计期天数, windows 表的 frequent_visits 优先 (the window, unless the windows table sets frequent_visits)"),
}  # fmt: skip


@logic("frequent_visits", params=_FREQ, threshold="max_visits")
def frequent_visits(f: Facts) -> Sequence[Finding]:
    visit = f.bill.visit
    if visit.scene != "outpatient":
        return []
    days = f.kb.window("frequent_visits", f.day, int(f.params["window_days"]))  # type: ignore[arg-type]
    start = visit.begntime.date() - timedelta(days=days - 1)
    end = visit.begntime.date()
    inside = {
        v.mdtrt_id
        for v in f.history.visits
        if v.scene == "outpatient"
        and v.mdtrt_id != visit.mdtrt_id
        and start <= v.begntime.date() <= end
    }
    count = len(inside) + 1
    frequent = f.kb.window_threshold("frequent_visits", f.day)
    # the windows table names the count that is frequent; the parameter the most allowed
    limit = int(frequent) - 1 if frequent is not None else int(f.params["max_visits"])  # type: ignore[arg-type]
    if count <= limit:
        return []
    return [
        Finding(
            reason=f"近{days}天门诊就诊{count}次, 超过{limit}次 "
            f"({count} outpatient visits in {days} days; {limit} allowed)",
            threshold=str(limit),
            value=str(count),
            amount=_total(f),
            evidence={"window_days": days, "visits": sorted(inside)},
        )
    ]


@logic("outpatient_during_stay")
def outpatient_during_stay(f: Facts) -> Sequence[Finding]:
    visit = f.bill.visit
    if visit.scene == "inpatient":
        return []
    day = visit.begntime.date()
    for v in f.history.visits:
        if v.scene != "inpatient" or v.mdtrt_id == visit.mdtrt_id:
            continue
        adm = v.begntime.date()
        dscg = v.endtime.date() if v.endtime is not None else None
        # strictly inside the stay: an outpatient visit on the admission day (then admitted)
        # or on the discharge day is ordinary care
        if adm < day and (dscg is None or day < dscg):
            return [
                Finding(
                    reason=f"住院期间({adm.isoformat()} 入院, "
                    f"{dscg.isoformat() if dscg else '未出院'})发生{'药店购药' if visit.scene == 'pharmacy' else '门诊'}结算 "
                    "(an outpatient or pharmacy settlement during an inpatient stay)",
                    threshold=f"{adm.isoformat()}~{dscg.isoformat() if dscg else ''}",
                    value=day.isoformat(),
                    amount=_total(f),
                    evidence={"stay": _pv(v)},
                )
            ]
    return []


_READMIT = {
    "days": ParamSpec("int", 15, "出院后再入院的天数窗口, windows 表的 readmission 优先 (the readmission window, unless the windows table sets readmission)"),
    "same_institution": ParamSpec("bool", False, "只看同一机构的再入院 (only readmissions to the same institution)"),
    "same_diagnosis": ParamSpec("bool", False, "只看主诊断前3位相同的再入院 (only readmissions for the same 3-character main diagnosis)"),
}  # fmt: skip


@logic("split_admission", params=_READMIT, threshold="days")
def split_admission(f: Facts) -> Sequence[Finding]:
    visit = f.bill.visit
    if visit.scene != "inpatient":
        return []
    window = f.kb.window("readmission", f.day, int(f.params["days"]))  # type: ignore[arg-type]
    adm = visit.begntime.date()
    same_inst = bool(f.params["same_institution"])
    same_diag = bool(f.params["same_diagnosis"])
    best = None
    for v in f.history.visits:
        if v.scene != "inpatient" or v.mdtrt_id == visit.mdtrt_id or v.endtime is None:
            continue
        if same_inst and v.fixmedins_code != f.bill.institution.fixmedins_code:
            continue
        if same_diag and (
            not v.main_diag
            or not visit.main_diag
            or v.main_diag[:3].upper() != visit.main_diag[:3].upper()
        ):
            continue
        gap = (adm - v.endtime.date()).days
        if 0 <= gap <= window and (best is None or gap < best[0]):
            best = (gap, v)
    if best is None:
        return []
    gap, v = best
    return [
        Finding(
            reason=f"出院{gap}天后再次入院, 在{window}天窗口内, 疑似分解住院 "
            f"(readmitted {gap} days after discharge; window {window} days)",
            threshold=str(window),
            value=str(gap),
            amount=_total(f),
            evidence={"previous": _pv(v)},
        )
    ]
