"""A year of visits for a chunk of persons: outpatient (acute and chronic monthly), inpatient
stays with a length of stay, pharmacy purchases — with anomalies injected and labelled.

Deterministic: one `random.Random(f"{seed}:visits:{chunk}")` per chunk of persons, visit
numbers `chunk × 10^8 + n`. Rhythms: fewer visits at weekends, respiratory illness peaking in
winter, chronic patients back every month at their usual clinic around the same day.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from itertools import accumulate
from math import ceil

from yibao.kit.clock import age_on
from yibao.simulate.bill_blocks import ITEMS, BillBlocks
from yibao.simulate.clinical import (
    ADMISSION_LABS,
    BUILTIN_ITEMS,
    CHRONIC_WARD,
    CONDITION_BY_KEY,
    CONDITIONS,
    NON_DRUG_GOODS,
    OUT_OF_CATALOG,
    RECHECK_LABS,
    WARD_DRUGS,
    WARD_ONLY,
    Condition,
    SimItem,
)
from yibao.simulate.context import (
    INPATIENT_KINDS,
    OUTPATIENT_KINDS,
    CityContext,
    weighted,
)
from yibao.simulate.kb import demo_kb
from yibao.simulate.model import CATEGORIES, Institution, Label, Line, Person, Visit
from yibao.simulate.rates import acute_rate, inpatient_rate, pharmacy_rate, poisson

ACUTE = [c for c in CONDITIONS if c.course == "acute"]
INPATIENT = [c for c in CONDITIONS if c.course == "inpatient"]
KB = demo_kb()


def _plain(i: SimItem) -> bool:
    """An item without restrictions (any sex, age, level, visit type, diagnosis)."""
    return (
        i.gend is None
        and i.age_min is None
        and i.age_max is None
        and not i.hosp_lv
        and not i.med_type
        and not i.diag_codes
    )


_BUNDLED = {code for bundle, parts in KB.bundles for code in (bundle, *parts)}
SEX_ITEMS = {g: [i for i in BUILTIN_ITEMS if i.gend == g] for g in "12"}
CHILD_ITEMS = [i for i in BUILTIN_ITEMS if i.age_max is not None]
ADULT_ITEMS = [i for i in BUILTIN_ITEMS if i.age_min is not None]
LEVEL_ITEMS = [i for i in BUILTIN_ITEMS if i.hosp_lv]
INDICATION_ITEMS = [i for i in BUILTIN_ITEMS if i.diag_codes]
WARD_TYPE_ITEMS = [i for i in BUILTIN_ITEMS if "ipt" in i.med_type]
#: a catalog consumable a pharmacy sells beside its drugs (pharmacy_non_drug's near-miss)
PHARMACY_CONSUMABLES = [
    i for i in BUILTIN_ITEMS if i.role == "consumable" and i.name == "医用退热贴"
]
CAPPED_SERVICES = [
    i
    for i in BUILTIN_ITEMS
    if i.cap and i.role in ("lab", "exam", "treatment") and _plain(i) and i.code not in _BUNDLED
]
#: acute drugs: the ordinary outpatient prescription covers 3–7 days (处方管理办法 Art. 19;
#: the knowledge base's drug_limits)
ORDINARY_MAX_DAYS = KB.max_days("11")
#: a chronic patient's monthly prescription (门诊慢特病 长处方 within the 30 days of
#: drug_limits for med_type 14)
CHRONIC_SUPPLY = KB.max_days("14")
#: drugs a pharmacy sells over the counter beside a condition's own (any sex, any age), in
#: catalog order: drawn from on every pharmacy visit, so listed once
_OTC_EXTRAS = [
    i for i in BUILTIN_ITEMS if i.role == "drug" and _plain(i) and i.name not in WARD_ONLY
]
#: the ones a patient takes home (not an injection, given where it is bought)
_TAKE_HOME = [i for i in _OTC_EXTRAS if "注射" not in i.name]
#: the capped ones, for a pharmacy's price above the cap
_OTC_CAPPED = [i for i in _OTC_EXTRAS if i.cap]
ROUTINE_LABS = ("血细胞分析(血常规)", "尿液常规检查")
_BY_CODE = {i.code: i for i in BUILTIN_ITEMS}
_DAILY = KB.daily_items
#: what an outpatient clinic treats (the knowledge base's outpatient_diagnoses): admitted,
#: a low-threshold admission
LOW_THRESHOLD = [c for c in ACUTE if c.diag_code.startswith(KB.outpatient_diagnoses)]
#: a visit a label's detail refers to: "#<visit_no>"
_VISIT_REF = re.compile(r"#(\d+)")


def _menu(*entries: tuple[str, bool]) -> tuple[tuple[str, bool], ...]:
    return tuple(entries)


#: a stay: anomalies of its lines and its shape, near-misses of a few
_STAY_MENU = _menu(
    ("duplicate_charge", False), ("over_price", False), ("frequency_limit", False),
    ("bed_hogging", False), ("los_outlier", False), ("fabricated_service", False),
    ("high_value_consumable", False),
    ("over_price", True), ("bed_hogging", True), ("los_outlier", True),
    ("fabricated_service", True), ("med_type_limit", True),
)  # fmt: skip
_PHARMACY_MENU = _menu(
    ("over_price", False), ("duplicate_charge", False), ("med_type_limit", False),
    ("pharmacy_non_drug", False), ("over_price", True), ("pharmacy_non_drug", True),
)  # fmt: skip
#: a chronic patient's monthly supply: bought again elsewhere while held (or, the near-miss,
#: with the grace days left)
_REFILL_MENU = _menu(("repeat_prescription", False), ("repeat_prescription", True))
_PERSON_MENU = _menu(
    ("frequent_visits", False), ("low_threshold_admission", False), ("frequent_visits", True)
)
_GROUP_MENU = _menu(
    ("clustered_visits", False),
)
_SPLIT_MENU = _menu(("split_admission", False), ("split_admission", True))
_DURING_MENU = _menu(("outpatient_during_stay", False), ("outpatient_during_stay", True))
_SAME_DAY_MENU = _menu(("same_day_multi_visit", False), ("same_day_multi_visit", True))
_CARD_MENU = _menu(
    ("card_misuse", False),
)


def _outpatient_menu(
    child: bool, adult: bool, level3: bool, indicated: bool, general: bool
) -> tuple[tuple[str, bool], ...]:
    """What an outpatient bill may host: each restricted category as an anomaly where the
    visit breaks the restriction and as a near-miss where it keeps it (`indicated`: a
    diagnosis of the visit is the indication of a restricted drug)."""
    menu = _OUTPATIENT_MENUS.get((child, adult, level3, indicated, general))
    if menu is not None:
        return menu
    menu = _OUTPATIENT_MENUS[(child, adult, level3, indicated, general)] = _menu(
        ("gender_limit", False),
        ("child_only", child),
        ("age_limit", adult),
        ("hosp_lv_limit", level3),
        ("indication_limit", indicated),
        ("med_type_limit", False),
        ("duplicate_charge", False),
        ("over_price", False),
        ("split_charge", False),
        *((("over_quantity", False),) if general else ()),
        ("out_of_catalog", False),
        ("gender_limit", True),
        ("duplicate_charge", True),
        ("over_price", True),
        ("split_charge", True),
        *((("over_quantity", True),) if general else ()),
    )
    return menu


_OUTPATIENT_MENUS: dict[tuple[bool, ...], tuple[tuple[str, bool], ...]] = {}


def _indicated(item: SimItem, codes: Sequence[str]) -> bool:
    """Whether one of the diagnoses is an indication of the item (ICD-10 prefix, as the
    catalog's restriction matches)."""
    return any(c.startswith(item.diag_codes) for c in codes)


_ANY_INDICATED: dict[tuple[str, ...], bool] = {}


def _any_indicated(codes: tuple[str, ...]) -> bool:
    """Whether the diagnoses are the indication of a restricted drug (memoised: a city has
    few sets of diagnoses and an outpatient visit asks once)."""
    found = _ANY_INDICATED.get(codes)
    if found is None:
        found = _ANY_INDICATED[codes] = any(_indicated(i, codes) for i in INDICATION_ITEMS)
    return found


class ChunkBuilder(BillBlocks):
    """Builds the visits and labels of one chunk of persons."""

    def _condition(
        self, conditions: Sequence[Condition], person: Person, age: int, day: date
    ) -> Condition:
        """A condition that fits the person, weighted (winter weights in Dec–Feb): the draw
        `rng.choices(fits, weights)` makes, with the fitting list and its cumulative weights
        kept per (sex, age, winter) — they depend on nothing else."""
        winter = day.month in (12, 1, 2)
        key = (id(conditions), person.gend, age, winter)
        memo = self._cond_memo.get(key)
        if memo is None:
            fits = [c for c in conditions if self._fits(c, person, age)]
            cum = list(accumulate(c.weight * (c.winter if winter else 1.0) for c in fits))
            memo = self._cond_memo[key] = (fits, cum)
        return weighted(self.rng, memo[0], memo[1])

    def _fits(self, cond: Condition, person: Person, age: int) -> bool:
        return (
            cond.gend is None or cond.gend == person.gend
        ) and cond.age_min <= age < cond.age_max

    # ------------------------------------------------------------------ visit kinds

    def outpatient(
        self,
        person: Person,
        day: date,
        *,
        cond: Condition | None = None,
        inst: Institution | None = None,
        anomalies: bool = True,
        when: datetime | None = None,
    ) -> Visit:
        rng = self.rng
        age = age_on(person.brdy, day)
        if cond is None:
            cond = self._condition(ACUTE, person, age, day)
        inst = inst or self.ctx.pick(rng, OUTPATIENT_KINDS, person.district)
        when = when or self._when(day, "outpatient")
        # an up-coding institution (peer_outlier) bills the senior consultation and orders
        # everything the condition may need; the draws are the same
        up = inst.pattern == "peer_outlier"
        lines: list[Line] = []
        senior = rng.choice(("普通门诊诊查费", "副主任医师门诊诊查费"))
        consult = (
            "副主任医师门诊诊查费" if up else "一般诊疗费" if inst.kind == "clinic" else senior
        )
        self._line(lines, ITEMS[consult], Decimal(1), when, inst)
        for lab in cond.labs:
            if rng.random() < 0.7 or up:
                self._lab(lines, lab, when, inst)
        if rng.random() < 0.4 or up:
            routine = rng.choice(ROUTINE_LABS)
            if all(ln.hilist_name != routine for ln in lines):  # a lab is billed once
                self._lab(lines, routine, when, inst)
        if cond.exams and (rng.random() < 0.4 or up):
            self._line(lines, ITEMS[rng.choice(cond.exams)], Decimal(1), when, inst)
        for tr in cond.treatments:
            if rng.random() < 0.6 or up:
                self._line(lines, ITEMS[tr], Decimal(rng.randint(1, 3)), when, inst)
        for name in rng.sample(cond.drugs, k=min(len(cond.drugs), rng.randint(1, 4))):
            supply = rng.randint(3, ORDINARY_MAX_DAYS)
            if not self.holds(person.psn_no, ITEMS[name].code, when.date(), supply):
                self._drug(lines, name, supply, when, inst)
        if cond.drugs and rng.random() < 0.3:  # 门诊输液: infusion, saline and the set
            days = Decimal(rng.randint(1, 3))
            for name in ("静脉输液", "0.9%氯化钠注射液", "一次性使用输液器"):
                self._line(lines, ITEMS[name], days, when, inst)
        if up and all(ln.hilist_name != "CT平扫" for ln in lines):
            self._line(lines, ITEMS["CT平扫"], Decimal(1), when, inst)  # and a scan for everyone
        return self._finish_outpatient(person, inst, when, cond, lines, age, "11", anomalies)

    def _finish_outpatient(
        self,
        person: Person,
        inst: Institution,
        when: datetime,
        cond: Condition,
        lines: list[Line],
        age: int,
        med_type: str,
        anomalies: bool,
        also: tuple[Condition, ...] = (),
    ) -> Visit:
        """The visit with the anomaly or near-miss it hosts; `also`: further conditions the
        visit treated (a chronic patient's other conditions whose drugs were prescribed),
        recorded as its secondary diagnoses."""
        tags: list[tuple[str, str, str | None]] = []
        if anomalies:
            codes = (cond.diag_code, *(c.diag_code for c in also))
            menu = _outpatient_menu(
                age < 14, age >= 18, inst.hosp_lv == "3", _any_indicated(codes), med_type == "11"
            )
            picked = self._pick(menu)
            if picked is not None:
                tags = self._outpatient_line(picked, person, age, inst, when, cond, codes, lines)
        visit = self._visit("outpatient", med_type, person, inst, when, None, cond, lines, also)
        for kind, detail, sn in tags:
            self._label(kind, visit, person, detail, feedetl_sn=sn)
        return visit

    def _outpatient_line(
        self,
        picked: tuple[str, bool],
        person: Person,
        age: int,
        inst: Institution,
        when: datetime,
        cond: Condition,
        codes: tuple[str, ...],
        lines: list[Line],
    ) -> list[tuple[str, str, str | None]]:
        """Adds the anomaly (labelled) or the near-miss (not) an outpatient bill hosts, on a
        visit for `cond` with these diagnoses (main first). A drug it adds is one the person
        does not hold (`_free`): the line shows its own category, never a repeat prescription
        too."""
        rng = self.rng
        kind, near = picked
        if kind == "gender_limit":
            own = person.gend if near else ("2" if person.gend == "1" else "1")
            free = self._free(SEX_ITEMS[own], person, when, 5, lines)
            if not free:
                return []
            item = rng.choice(free)
            qty = Decimal(1) if item.role != "drug" else item.per_day * 5
            sn = self._add(lines, item, qty, when, inst, days=5 if item.role == "drug" else None)
            return [] if near else [(kind, f"{item.name} 限{'男' if own == '1' else '女'}性", sn)]
        if kind in ("child_only", "age_limit"):
            pool = CHILD_ITEMS if kind == "child_only" else ADULT_ITEMS
            free = self._free(pool, person, when, 5, lines)
            if not free:
                return []
            item = rng.choice(free)
            sn = self._add(lines, item, item.per_day * 5, when, inst, days=5)
            limit = f"限{item.age_max}岁以下" if kind == "child_only" else f"限{item.age_min}岁以上"
            return [] if near else [(kind, f"{item.name} {limit}, 患者{age}岁", sn)]
        if kind == "hosp_lv_limit":
            item = rng.choice(LEVEL_ITEMS)
            sn = self._add(lines, item, Decimal(1), when, inst)
            allowed = "/".join(item.hosp_lv)
            detail = f"{item.name} 限{allowed}级机构, 本机构{inst.hosp_lv}级"
            return [] if near else [(kind, detail, sn)]
        if kind == "indication_limit":
            # the near-miss: a restricted drug one of the diagnoses is its indication for;
            # the anomaly: one none of them is
            pool = [i for i in INDICATION_ITEMS if _indicated(i, codes) == near]
            free = self._free(pool, person, when, 5, lines)
            if not free:
                return []
            item = rng.choice(free)
            sn = self._add(lines, item, item.per_day * 5, when, inst, days=5)
            shown = "/".join(codes)
            detail = f"{item.name} 限{'/'.join(item.diag_codes)}适应症, 诊断{shown}"
            return [] if near else [(kind, detail, sn)]
        if kind == "med_type_limit":
            item = rng.choice(WARD_TYPE_ITEMS)
            sn = self._add(lines, item, item.per_day, when, inst, days=1)
            return [(kind, f"{item.name} 限住院使用, 门诊开具", sn)]
        if kind == "duplicate_charge":
            return self._duplicate(lines, near)
        if kind == "over_price":
            return self._over_price(lines, when, inst, near, person)
        if kind == "split_charge":
            bundle, parts = rng.choice(KB.bundles)
            if near:  # the bundle billed as the bundle
                self._add(lines, _BY_CODE[bundle], Decimal(1), when, inst)
                return []
            name = _BY_CODE[bundle].name
            out: list[tuple[str, str, str | None]] = []
            for code in parts:
                sn = self._add(lines, _BY_CODE[code], Decimal(1), when, inst)
                out.append((kind, f"{_BY_CODE[code].name} 为{name}的组成部分, 分项收费", sn))
            return out
        if kind == "over_quantity":
            # a drug the patient takes home (an injection is given at the clinic), not on the
            # bill yet (a second line of one would be a duplicate), of the condition where one
            # is free, that the person does not hold
            days = ORDINARY_MAX_DAYS if near else rng.choice((60, 90))  # past 7 and 30
            takes = [ITEMS[n] for n in cond.drugs if "注射" not in n]
            fresh = self._free(takes, person, when, days, lines) or self._free(
                _TAKE_HOME, person, when, days, lines
            )
            if not fresh:
                return []
            item = rng.choice(fresh)
            name = item.name
            sn = self._add(lines, item, item.per_day * days, when, inst, days=days)
            return [] if near else [(kind, f"{name} {days}天, 普通门诊限{ORDINARY_MAX_DAYS}天", sn)]
        if kind == "out_of_catalog":
            item = rng.choice(OUT_OF_CATALOG)
            sn = self._add(lines, item, Decimal(1), when, inst)
            return [(kind, f"{item.name} ({item.code}) 不在医保目录", sn)]
        raise AssertionError(kind)  # pragma: no cover - the menus list only these

    def _free(
        self,
        items: Sequence[SimItem],
        person: Person,
        when: datetime,
        days: int,
        lines: Sequence[Line],
    ) -> list[SimItem]:
        """The items not on the bill yet that the person may take home: a drug whose supply
        of `days` would not overlap one they hold (`holds`), any other item."""
        billed = {ln.hilist_code for ln in lines}
        day = when.date()
        return [
            i
            for i in items
            if i.code not in billed
            and (i.role != "drug" or not self.holds(person.psn_no, i.code, day, days))
        ]

    def _add(
        self,
        lines: list[Line],
        item: SimItem,
        cnt: Decimal,
        when: datetime,
        inst: Institution,
        *,
        days: int | None = None,
        pric: Decimal | None = None,
    ) -> str:
        """`_line`, returning the new line's feedetl_sn (the label's line)."""
        self._line(lines, item, cnt, when, inst, days=days, pric=pric)
        return lines[-1].feedetl_sn

    def _duplicate(self, lines: list[Line], near: bool) -> list[tuple[str, str, str | None]]:
        """A service line billed twice (the same item, quantity and time); the near-miss is
        the same item again an hour later (a repeat the doctor ordered). Daily items (the
        frequency limits) are left alone: billing them twice is `frequency_limit`'s."""
        services = [ln for ln in lines if ln.list_type == "201" and ln.hilist_code not in _DAILY]
        if not services:
            return []
        dup = self.rng.choice(services)
        sn = str(len(lines) + 1)
        if near:
            lines.append(
                dup._replace(feedetl_sn=sn, fee_ocur_time=dup.fee_ocur_time + timedelta(hours=1))
            )
            return []
        lines.append(dup._replace(feedetl_sn=sn))
        return [("duplicate_charge", f"{dup.hilist_name} 重复收费 (line {dup.feedetl_sn})", sn)]

    def _over_price(
        self,
        lines: list[Line],
        when: datetime,
        inst: Institution,
        near: bool,
        person: Person | None = None,
    ) -> list[tuple[str, str, str | None]]:
        """A line priced 1.2–1.8 × its cap; the near-miss is priced at the cap. A pharmacy's
        is a week of a drug the person does not hold (`_free`)."""
        rng = self.rng
        pharmacy = inst.kind == "pharmacy"
        pool = CAPPED_SERVICES
        if pharmacy:
            assert person is not None
            pool = self._free(_OTC_CAPPED, person, when, 7, lines)
            if not pool:
                return []
        item = rng.choice(pool)
        assert item.cap is not None
        factor = Decimal(1) if near else Decimal(rng.choice(("1.2", "1.5", "1.8")))
        price = (item.cap * factor).quantize(Decimal("0.01"))
        if item.role == "drug":
            sn = self._add(lines, item, item.per_day * 7, when, inst, pric=price, days=7)
        else:
            sn = self._add(lines, item, Decimal(1), when, inst, pric=price)
        return [] if near else [("over_price", f"{item.name} 单价 {price} 超限价 {item.cap}", sn)]

    def chronic(
        self, person: Person, day: date, cond: Condition, inst: Institution
    ) -> Visit | None:
        """The month's visit of a chronic patient: a month's supply of the condition's drugs
        (and of another condition's, recorded as a further diagnosis) that the patient has run
        short of — none while they still hold it (`holds`: a drug bought elsewhere in between,
        or the other condition's visit gave it); a month with nothing to prescribe has no
        visit (None)."""
        rng = self.rng
        age = age_on(person.brdy, day)
        when = self._when(day, "outpatient")
        lines: list[Line] = []
        self._line(
            lines,
            ITEMS["一般诊疗费" if inst.kind == "clinic" else "普通门诊诊查费"],
            Decimal(1),
            when,
            inst,
        )
        for name in cond.drugs[: rng.randint(1, len(cond.drugs))]:
            if not self.holds(person.psn_no, ITEMS[name].code, day, CHRONIC_SUPPLY):
                self._drug(lines, name, CHRONIC_SUPPLY, when, inst)
        also: list[Condition] = []
        for other in person.chronic:
            if other != cond.key and rng.random() < 0.5:  # co-morbidity drugs in the same visit
                other_cond = CONDITION_BY_KEY[other]
                name = other_cond.drugs[0]
                billed = any(ln.hilist_name == name for ln in lines)
                if not billed and not self.holds(
                    person.psn_no, ITEMS[name].code, day, CHRONIC_SUPPLY
                ):
                    self._drug(lines, name, CHRONIC_SUPPLY, when, inst)
                    also.append(other_cond)
        if len(lines) == 1:
            return None
        for lab in cond.labs:
            if rng.random() < 0.5:
                self._lab(lines, lab, when, inst)
        for exam in cond.exams:
            if rng.random() < 0.15:
                self._line(lines, ITEMS[exam], Decimal(1), when, inst)
        return self._finish_outpatient(
            person, inst, when, cond, lines, age, "14", True, also=tuple(also)
        )

    def pharmacy(self, person: Person, day: date, *, anomalies: bool = True) -> Visit:
        rng = self.rng
        inst = self.ctx.pick(rng, (("pharmacy", 1.0),), person.district)
        when = self._when(day, "pharmacy")
        age = age_on(person.brdy, day)
        lines: list[Line] = []
        if person.chronic and rng.random() < 0.5:
            cond = CONDITION_BY_KEY[rng.choice(person.chronic)]
        else:
            fits = [c for c in ACUTE if c.drugs and self._fits(c, person, age)]
            cond = rng.choice(fits)
        # a benford pharmacy makes its bill up from the first drug, over up to a month
        # (`_made_up`): the drugs it may sell are those the person could take home for that
        month = CHRONIC_SUPPLY if inst.pattern == "benford" else 0
        for name in rng.sample(cond.drugs, k=min(len(cond.drugs), rng.randint(1, 3))):
            days = rng.randint(5, 30)
            if not self.holds(person.psn_no, ITEMS[name].code, day, max(days, month)):
                self._drug(lines, name, days, when, inst)
        for _ in range(rng.randint(0, 2)):
            k = rng.randrange(len(_OTC_EXTRAS))
            self._extra(lines, person, k, rng.randint(3, 10), when, inst, month=month)
        if not lines:  # what the condition needs is still at home: something over the counter
            k = rng.randrange(len(_OTC_EXTRAS))
            self._extra(lines, person, k, rng.randint(3, 10), when, inst, month=month, anyway=True)
        if inst.pattern == "benford":
            made = self._made_up(lines, when, inst)
            if made is not lines:  # the supply taken home is the made-up line's alone
                self._pending = self._pending[-len(made) :]
            lines = made
        tags: list[tuple[str, str, str | None]] = []
        picked = self._pick(_PHARMACY_MENU) if anomalies else None
        if picked is not None:
            kind, near = picked
            if kind == "over_price":
                tags = self._over_price(lines, when, inst, near, person)
            elif kind == "duplicate_charge":
                dup = rng.choice(lines)
                sn = str(len(lines) + 1)
                lines.append(dup._replace(feedetl_sn=sn))
                tags = [(kind, f"{dup.hilist_name} 重复收费 (line {dup.feedetl_sn})", sn)]
            elif kind == "med_type_limit":
                item = rng.choice(WARD_TYPE_ITEMS)
                sn = self._add(lines, item, item.per_day, when, inst, days=1)
                tags = [(kind, f"{item.name} 限住院使用, 药店销售", sn)]
            elif near:  # pharmacy_non_drug's near-miss: a catalog consumable, allowed
                item = rng.choice(PHARMACY_CONSUMABLES)
                self._add(lines, item, Decimal(rng.randint(2, 6)), when, inst)
            else:  # pharmacy_non_drug: goods that are no medicine, outside the catalog too
                item = rng.choice(NON_DRUG_GOODS)
                sn = self._add(lines, item, Decimal(rng.randint(1, 3)), when, inst)
                tags = [
                    (kind, f"{item.name} 非药品, 药店医保卡结算", sn),
                    ("out_of_catalog", f"{item.name} ({item.code}) 不在医保目录 (药店非药品)", sn),
                ]
        if anomalies:  # a pharmacy's non-drug goods are 目录外 too: a unit of that rate
            self._units["out_of_catalog"] = self._units.get("out_of_catalog", 0) + 1
        visit = self._visit("pharmacy", "41", person, inst, when, None, cond, lines)
        for tag, detail, line_sn in tags:
            self._label(tag, visit, person, detail, feedetl_sn=line_sn)
        return visit

    def _extra(
        self,
        lines: list[Line],
        person: Person,
        k: int,
        cnt_days: int,
        when: datetime,
        inst: Institution,
        *,
        month: int = 0,
        anyway: bool = False,
    ) -> None:
        """An over-the-counter drug beside the condition's: the k-th of `_OTC_EXTRAS` or the
        next one not billed yet that the person does not hold for a week (or `month` days;
        with `anyway`, the k-th when they hold them all: a bill has a line)."""
        billed = {ln.hilist_code for ln in lines}
        day = when.date()
        days = max(7, month)
        for step in range(len(_OTC_EXTRAS)):  # one line per item: the next one not billed
            extra = _OTC_EXTRAS[(k + step) % len(_OTC_EXTRAS)]
            if extra.code not in billed and not self.holds(person.psn_no, extra.code, day, days):
                self._line(lines, extra, extra.per_day * cnt_days, when, inst, days=7)
                return
        if anyway:
            extra = _OTC_EXTRAS[k]
            self._line(lines, extra, extra.per_day * cnt_days, when, inst, days=7)

    def _made_up(self, lines: list[Line], when: datetime, inst: Institution) -> list[Line]:
        """A benford pharmacy's bill: one drug whose quantity is set so the total begins
        with a digit drawn uniformly (invented figures ignore Benford's law), within the
        drug's limits (≤ 30 days, ≤ twice the daily dose)."""
        rng = self.rng
        digit = rng.randint(1, 9)
        first = lines[0]
        item = ITEMS[first.hilist_name]
        lo, hi = int(item.per_day * 5), int(item.per_day * 60)
        fits = [
            n
            for n in range(max(1, lo), hi + 1)
            if str(n * item.price).lstrip("0.")[:1] == str(digit)
        ]
        if not fits:
            return lines
        n = rng.choice(fits)
        days = min(30, max(5, ceil(Decimal(n) / (item.per_day * 2))))
        out: list[Line] = []
        self._line(out, item, Decimal(n), when, inst, days=days)
        return out

    def inpatient(
        self,
        person: Person,
        day: date,
        *,
        cond: Condition | None = None,
        inst: Institution | None = None,
        anomalies: bool = True,
        los: int | None = None,
    ) -> Visit:
        rng = self.rng
        age = age_on(person.brdy, day)
        if cond is None:
            cond = self._condition(INPATIENT, person, age, day)
        inst = inst or self.ctx.pick(rng, INPATIENT_KINDS, person.district)
        picked = self._pick(_STAY_MENU) if anomalies else None
        kind, near = picked or ("", False)
        if los is None:
            los = rng.randint(*cond.los) + (1 if inst.hosp_lv == "3" else 0)
            if kind == "los_outlier":  # far beyond the condition's longest stay (or at the limit)
                ceiling = int(cond.los[1] * KB.los_ratio)
                # beyond any peer stay, a tertiary hospital's extra day included
                los = ceiling if near else ceiling + rng.randint(3, 9)
        adm = datetime.combine(day, time(rng.randint(8, 20), rng.randrange(60)))
        idle = 0  # days at the end with only bed and nursing billed (挂床)
        if kind == "bed_hogging":
            idle = KB.bed_only_days - 1 if near else KB.bed_only_days + rng.randint(0, 3)
        dscg = datetime.combine(
            day + timedelta(days=los + idle), time(rng.randint(9, 11), rng.randrange(60))
        )
        lines: list[Line] = []
        nursing = ITEMS["一级护理" if cond.surgery or cond.key == "stroke" else "二级护理"]
        infusion = "静脉输液" in cond.treatments
        acute_days = max(3, los - 2)
        ward = [(ITEMS[name], units, when) for name, units, when in cond.ward]
        ordered = {name for name, _u, _w in cond.ward}
        # chronic conditions go on in hospital: the home medication dispensed day by day
        # and, for a diabetic, the glucose checks
        comorbid = tuple(CONDITION_BY_KEY[key] for key in person.chronic)
        for other in comorbid:
            if other.drugs[0] not in cond.drugs:  # a drug the ward gives anyway, given once
                ward.append((ITEMS[other.drugs[0]], 1, "stay"))
            for name, units in CHRONIC_WARD.get(other.key, ()):
                if name not in ordered:
                    ordered.add(name)
                    ward.append((ITEMS[name], units, "stay"))
        # the HIS uploads the stay's orders day by day: bed, nursing and the ward round every
        # day; drugs (and the infusion that gives them, a surcharge for each further group)
        # while the acute phase lasts; the ward's own orders (monitoring, oxygen, care,
        # rehabilitation); after an operation, monitoring and the wound dressed every other
        # day; labs on admission and re-checked every third day
        for d in range(los):
            at = datetime.combine(day + timedelta(days=d), time(8))
            self._line(lines, ITEMS["床位费(三人间)"], Decimal(1), at, inst)
            self._line(lines, nursing, Decimal(1), at, inst)
            self._line(lines, ITEMS["住院诊查费"], Decimal(1), at, inst)
            acute = d < acute_days
            if acute:
                for name in cond.drugs:
                    item = ITEMS[name]
                    self._line(lines, item, item.per_day, at, inst, days=1)
                if infusion:
                    groups = Decimal(len(WARD_DRUGS))
                    self._line(lines, ITEMS["静脉输液"], Decimal(1), at, inst)
                    self._line(lines, ITEMS["静脉输液(每组加收)"], groups, at, inst)
                    self._line(lines, ITEMS["一次性使用输液器"], Decimal(1), at, inst)
                    self._line(lines, ITEMS["一次性使用注射器"], groups + 1, at, inst)
                    for name in WARD_DRUGS:
                        item = ITEMS[name]
                        self._line(lines, item, item.per_day, at, inst, days=1)
            for item, units, when in ward:
                if when == "stay" or (acute if when == "acute" else d >= 2):
                    if item.role == "drug":
                        self._line(lines, item, item.per_day, at, inst, days=1)
                    else:
                        self._line(lines, item, Decimal(units), at, inst)
            if cond.anaesthesia:
                if d in (1, 2):  # the day of the operation and the next
                    self._line(lines, ITEMS["心电监测"], Decimal(24), at, inst)
                    if "氧气吸入" not in ordered:
                        self._line(lines, ITEMS["氧气吸入"], Decimal(6), at, inst)
                if d >= 3 and d % 2 == 1:
                    self._line(lines, ITEMS["换药(小)"], Decimal(1), at, inst)
                    self._line(lines, ITEMS["透明敷贴"], Decimal(1), at, inst)
            if d and d % 3 == 0:
                for lab in RECHECK_LABS:
                    self._lab(lines, lab, at, inst)
        for d in range(los, los + idle):  # 挂床: the bed and the nursing, nobody seen
            at = datetime.combine(day + timedelta(days=d), time(8))
            self._line(lines, ITEMS["床位费(三人间)"], Decimal(1), at, inst)
            self._line(lines, nursing, Decimal(1), at, inst)
        for lab in dict.fromkeys((*ADMISSION_LABS, *cond.labs)):
            self._lab(lines, lab, adm, inst)
        for exam in cond.exams:
            self._line(lines, ITEMS[exam], Decimal(1), adm, inst)
        for tr in cond.treatments:
            if tr != "静脉输液":
                self._line(lines, ITEMS[tr], Decimal(max(1, los - 2)), adm, inst)
        if cond.surgery:
            op = adm + timedelta(days=1)
            self._line(lines, ITEMS[cond.surgery], Decimal(1), op, inst)
            if cond.anaesthesia:
                hours = Decimal(rng.randint(2, 3))
                if cond.anaesthesia == "general":
                    self._line(lines, ITEMS["全身麻醉"], hours, op, inst)
                    self._line(lines, ITEMS["丙泊酚乳状注射液"], Decimal(2), op, inst)
                else:
                    self._line(lines, ITEMS["椎管内麻醉"], Decimal(1), op, inst)
                self._line(lines, ITEMS["麻醉中监测"], hours, op, inst)
                self._line(lines, ITEMS["导尿"], Decimal(1), op, inst)
                self._line(lines, ITEMS["一次性使用导尿包"], Decimal(1), op, inst)
                self._line(lines, ITEMS["一次性使用注射器"], Decimal(4), op, inst)
            for cons in cond.consumables:
                if not (infusion and cons == "一次性使用输液器"):
                    self._line(lines, ITEMS[cons], Decimal(rng.randint(1, 2)), op, inst)
        elif cond.consumables:
            for cons in cond.consumables:
                if not (infusion and cons == "一次性使用输液器"):
                    self._line(lines, ITEMS[cons], Decimal(max(1, los - 2)), adm, inst)
        tags = self._stay_anomaly(kind, near, lines, adm, dscg, los, idle, cond, inst)
        visit = self._visit("inpatient", "21", person, inst, adm, dscg, cond, lines, comorbid)
        for tag, detail, sn in tags:
            self._label(tag, visit, person, detail, feedetl_sn=sn)
        return visit

    def _stay_anomaly(
        self,
        kind: str,
        near: bool,
        lines: list[Line],
        adm: datetime,
        dscg: datetime,
        los: int,
        idle: int,
        cond: Condition,
        inst: Institution,
    ) -> list[tuple[str, str, str | None]]:
        rng = self.rng
        if kind == "duplicate_charge":
            return self._duplicate(lines, near)
        if kind == "over_price":
            return self._over_price(lines, adm, inst, near)
        if kind == "frequency_limit":  # a once-a-day item at quantity 2 on one day
            daily = [i for i, ln in enumerate(lines) if ln.hilist_code in _DAILY]
            i = rng.choice(daily)
            ln = lines[i]
            lines[i] = ln._replace(cnt=ln.cnt * 2, det_item_fee_sumamt=ln.det_item_fee_sumamt * 2)
            return [(kind, f"{ln.hilist_name} 一日{ln.cnt * 2:f}次, 限每日1次", ln.feedetl_sn)]
        if kind == "bed_hogging":
            if near:
                return []
            return [("bed_hogging", f"末{idle}天仅床位费与护理费 (住院{los + idle}天)", None)]
        if kind == "los_outlier":
            if near:
                return []
            return [
                (
                    "los_outlier",
                    f"住院{los}天, {cond.diag_name}通常{cond.los[0]}–{cond.los[1]}天",
                    None,
                )
            ]
        if kind == "fabricated_service":
            # an exam billed after the patient left (near-miss: on the day of discharge,
            # before the discharge time)
            exam = ITEMS["彩色多普勒超声检查"]
            if near:
                at = datetime.combine(dscg.date(), time(8))
                self._add(lines, exam, Decimal(1), at, inst)
                return []
            at = datetime.combine(dscg.date() + timedelta(days=rng.randint(1, 3)), time(10))
            sn = self._add(lines, exam, Decimal(1), at, inst)
            return [(kind, f"{exam.name} 记于出院({dscg.date()})之后 {at.date()}", sn)]
        if kind == "high_value_consumable":
            if any(cons == "金属接骨板" for cons in cond.consumables):
                return []  # the link holds: a fracture's plate with its operation
            plate = ITEMS["金属接骨板"]
            sn = self._add(lines, plate, Decimal(1), adm + timedelta(days=1), inst)
            return [(kind, f"{plate.name} 无相应手术 (诊断 {cond.diag_code})", sn)]
        if kind == "med_type_limit":  # near-miss: an inpatient-only drug on a ward
            item = rng.choice(WARD_TYPE_ITEMS)
            self._add(lines, item, item.per_day, adm, inst, days=1)
            return []
        return []

    # ------------------------------------------------------------------ one person's year

    def person_year(self, person: Person) -> None:
        ctx, rng, s = self.ctx, self.rng, self.ctx.scale
        # the rates are yearly; a shorter (or longer) window gets its share (chronic visits
        # below are monthly by date and need no factor)
        span = self.p.days / 365
        start = self.p.start
        end = start + timedelta(days=self.p.days)
        first_visit, first_label = len(self.visits), len(self.labels)
        age = age_on(person.brdy, start)
        # chronic: monthly at the usual institution, around the same day of the month
        for key in person.chronic:
            cond = CONDITION_BY_KEY[key]
            home = ctx.pick(
                rng, (("clinic", 0.6), ("hospital2", 0.25), ("hospital3", 0.15)), person.district
            )
            dom = rng.randint(1, 28)
            month = date(start.year, start.month, 1)
            while True:
                day = month.replace(day=dom) + timedelta(days=rng.randint(-3, 3))
                if day >= end:
                    break
                if day >= start and rng.random() < min(1.0, s):
                    visit = self.chronic(person, day, cond, home)
                    if visit is not None:
                        self._refill(person, visit, cond, end)
                month = (month + timedelta(days=32)).replace(day=1)
        acute: list[Visit] = []
        for _ in range(poisson(rng, acute_rate(age) * s * span)):
            day = ctx.day(rng, "winter" if rng.random() < 0.4 else "plain")
            visit = self.outpatient(person, day)
            acute.append(visit)
            picked = self._pick(_SAME_DAY_MENU)
            if picked is not None:
                # a second outpatient visit the same day elsewhere (near-miss: the next day)
                later = day + timedelta(days=1 if picked[1] else 0)
                if later < end:
                    # the same day: one to four hours after the first visit, before 20:00
                    at = None
                    if not picked[1]:
                        at = min(
                            visit.begntime + timedelta(minutes=rng.randint(60, 240)),
                            datetime.combine(day, time(20)),
                        )
                    inst = None
                    if not picked[1]:  # elsewhere: another institution than the first's
                        inst = self._elsewhere(person, visit.fixmedins_code)
                    other = self.outpatient(person, later, inst=inst, anomalies=False, when=at)
                    self._keep.add(other.visit_no)
                    if not picked[1]:
                        self._label(
                            "same_day_multi_visit",
                            other,
                            person,
                            f"同日第2次就诊 (first visit #{visit.visit_no})",
                        )
        for _ in range(poisson(rng, pharmacy_rate(age, bool(person.chronic)) * s * span)):
            self.pharmacy(person, ctx.day(rng, "flat"))
        for _ in range(poisson(rng, inpatient_rate(age) * s * span)):
            first = self.inpatient(
                person, ctx.day(rng, "winter" if rng.random() < 0.3 else "plain")
            )
            self._after_stay(person, first, end)
        picked = self._pick(_PERSON_MENU)
        if picked == ("frequent_visits", False) or picked == ("frequent_visits", True):
            self._frequent(person, near=picked[1], end=end)
        elif picked is not None:  # low_threshold_admission: a cold admitted for a few days
            day = ctx.day(rng, "winter")
            cond = self._condition(LOW_THRESHOLD, person, age_on(person.brdy, day), day)
            stay = self.inpatient(person, day, cond=cond, anomalies=False, los=rng.randint(2, 3))
            stay_days = ((stay.endtime or stay.begntime).date() - day).days
            detail = f"{cond.diag_name}({cond.diag_code}) 门诊可治, 住院{stay_days}天"
            self._label("low_threshold_admission", stay, person, detail)
        if person.death_date is not None:
            self._after_death(person, first_visit, first_label, end)
        elif person.misuse == "two_places":
            self._two_places(person, acute, end)

    def _refill(self, person: Person, source: Visit, cond: Condition, end: date) -> None:
        """重复开药 (repeat_prescription): some of a chronic visit's month of drugs bought again
        at a pharmacy while more than the grace days of it are left — 3 days after the visit
        or up to the day before the grace days begin (stockpiling, or drugs for someone else);
        the near-miss buys them with exactly the grace days left, as a patient refills near
        the end of a supply. A drug whose new supply would overlap a later one the person
        already has (a visit for another condition) is left out: its line would be a repeat
        the label does not name."""
        picked = self._pick(_REFILL_MENU)
        if picked is None:
            return
        rng = self.rng
        near = picked[1]
        supply = CHRONIC_SUPPLY
        drugs = [ln for ln in source.lines if ln.prd_days == supply and ln.list_type[:2] == "10"]
        if not drugs:
            return
        gap = supply - self.grace if near else rng.randint(3, supply - self.grace - 1)
        day = source.begntime.date() + timedelta(days=gap)
        if day >= end:
            return
        inst = self.ctx.pick(rng, (("pharmacy", 1.0),), person.district)
        when = self._when(day, "pharmacy")
        lines: list[Line] = []
        for ln in rng.sample(drugs, k=rng.randint(1, len(drugs))):
            # the near-miss holds the visit's supply alone (its grace days, not more)
            if not self.holds(person.psn_no, ln.hilist_code, day, supply, later_only=not near):
                self._drug(lines, ln.hilist_name, supply, when, inst)
        if not lines:
            return
        # the diagnoses the drugs are for: the visit's condition and any other whose drug it is
        bought = {ln.hilist_name for ln in lines}
        also = tuple(
            CONDITION_BY_KEY[k]
            for k in person.chronic
            if k != cond.key and bought & set(CONDITION_BY_KEY[k].drugs)
        )
        # not kept by `coherent` (a purchase is no pattern of visits): one that falls into a
        # stay goes, and so does the label of one whose chronic visit went
        visit = self._visit("pharmacy", "41", person, inst, when, None, cond, lines, also)
        if not near:
            for ln in lines:
                detail = (
                    f"{ln.hilist_name} 尚余{supply - gap}天用量时再次购药{supply}天 "
                    f"(supply of #{source.visit_no})"
                )
                self._label("repeat_prescription", visit, person, detail, feedetl_sn=ln.feedetl_sn)

    def _elsewhere(self, person: Person, code: str) -> Institution:
        """An outpatient institution other than `code` (near home, as `pick` chooses)."""
        for _ in range(8):
            inst = self.ctx.pick(self.rng, OUTPATIENT_KINDS, person.district)
            if inst.fixmedins_code != code:
                return inst
        return next(
            i
            for k in ("clinic", "hospital1", "hospital2", "hospital3")
            for i in self.ctx.by_kind.get(k, ())
            if i.fixmedins_code != code
        )

    def _after_stay(self, person: Person, first: Visit, end: date) -> None:
        ctx, rng = self.ctx, self.rng
        assert first.endtime is not None
        window = KB.readmission_days
        picked = self._pick(_SPLIT_MENU)
        if picked is not None:
            # readmitted within the window (near-miss: a day or a few past it)
            near = picked[1]
            gap = rng.randint(window + 1, window + 5) if near else rng.randint(1, window)
            again = first.endtime.date() + timedelta(days=gap)
            if again < end:
                same = CONDITION_BY_KEY.get(_cond_key(first))
                inst = next(i for i in ctx.institutions if i.fixmedins_code == first.fixmedins_code)
                second = self.inpatient(
                    person, again, cond=same, inst=inst if rng.random() < 0.7 else None,
                    anomalies=False,
                )  # fmt: skip
                self._keep.add(second.visit_no)
                if not near:
                    self._label(
                        "split_admission",
                        second,
                        person,
                        f"出院{gap}天后再入院 (after #{first.visit_no})",
                    )
        picked = self._pick(_DURING_MENU)
        if picked is not None:
            near = picked[1]
            stay_days = (first.endtime.date() - first.begntime.date()).days
            if near:  # the day after discharge
                day = first.endtime.date() + timedelta(days=1)
            else:
                day = first.begntime.date() + timedelta(days=rng.randint(1, max(1, stay_days - 1)))
            if day < end:
                other = (
                    self.pharmacy(person, day, anomalies=False)
                    if rng.random() < 0.5
                    else self.outpatient(person, day, anomalies=False)
                )
                self._keep.add(other.visit_no)
                if not near:
                    self._label(
                        "outpatient_during_stay",
                        other,
                        person,
                        f"住院期间{other.kind}结算 (stay #{first.visit_no})",
                    )

    def _frequent(self, person: Person, *, near: bool, end: date) -> None:
        """频繁就诊: the window's threshold of visits or more within it, on distinct days at
        1–3 institutions (near-miss: half the threshold)."""
        ctx, rng = self.ctx, self.rng
        days, threshold = KB.frequent_visits
        # the whole window inside the period, and before any death
        last = min(end, person.death_date or end) - timedelta(days=days)
        month_start = min(ctx.day(rng, "flat"), last)
        if month_start < self.p.start:
            return
        insts = [ctx.pick(rng, OUTPATIENT_KINDS, person.district) for _ in range(rng.randint(1, 3))]
        count = threshold // 2 if near else rng.randint(threshold + 2, threshold + 7)
        offsets = sorted(rng.sample(range(days - 2), k=min(count, days - 2)))
        window = f"W{month_start.isoformat()}"
        for off in offsets:
            day = month_start + timedelta(days=off)
            if day >= end:
                break
            v = self.outpatient(person, day, inst=rng.choice(insts), anomalies=False)
            self._keep.add(v.visit_no)
            if not near:
                self._label("frequent_visits", v, person, f"{window} {days}天内{count}次门诊")

    def _after_death(self, person: Person, first_visit: int, first_label: int, end: date) -> None:
        """Nobody visits after dying: the person's visits past the date of death go (with
        any label they carried); then, for a misused card, visits after it."""
        death = person.death_date
        assert death is not None
        mine = self.visits[first_visit:]
        gone = {
            v.visit_no
            for v in mine
            if v.begntime.date() > death or (v.endtime is not None and v.endtime.date() > death)
        }
        if gone:
            self.visits[first_visit:] = [v for v in mine if v.visit_no not in gone]
            # a label goes with its visit, and with the visit its detail refers to (the stay
            # an outpatient visit fell in, the first of two visits)
            self.labels[first_label:] = [
                lb
                for lb in self.labels[first_label:]
                if lb.visit_no not in gone and not gone.intersection(_refs(lb))
            ]
        if person.misuse != "after_death":
            return
        self._units["card_misuse"] = self._units.get("card_misuse", 0) + 1
        rng = self.rng
        for _ in range(rng.randint(1, 3)):
            day = death + timedelta(days=rng.randint(1, 60))
            if day >= end:
                continue
            v = (
                self.pharmacy(person, day, anomalies=False)
                if rng.random() < 0.5
                else self.outpatient(person, day, anomalies=False)
            )
            self._label("card_misuse", v, person, f"死亡({death})后就诊")

    def _two_places(self, person: Person, acute: list[Visit], end: date) -> None:
        """一卡两地: a second outpatient visit 10–40 minutes after one of the person's, at an
        institution elsewhere — labelled card_misuse and same_day_multi_visit (it is both)."""
        self._units["card_misuse"] = self._units.get("card_misuse", 0) + 1
        rng = self.rng
        if acute:
            first = rng.choice(acute)
        else:
            first = self.outpatient(person, self.ctx.day(self.rng, "plain"), anomalies=False)
        others = [i for k in ("hospital2", "hospital3") for i in self.ctx.by_kind.get(k, ())]
        others = [i for i in others if i.admdvs != first.fixmedins_code[1:7]] or others
        inst = rng.choice([i for i in others if i.fixmedins_code != first.fixmedins_code] or others)
        when = first.begntime + timedelta(minutes=rng.randint(10, 40))
        if when.date() >= end:
            return
        v = self.outpatient(person, when.date(), inst=inst, anomalies=False, when=when)
        detail = f"{when - first.begntime}后另一机构就诊 (first visit #{first.visit_no})"
        self._label("card_misuse", v, person, f"一卡两地 {detail}")
        self._label("same_day_multi_visit", v, person, f"同日第2次就诊 {detail}")

    def coherent(self) -> None:
        """A person is in one place at a time, as in life. Visits are drawn independently,
        so some fall into a stay, two stays overlap or follow within the readmission window,
        two outpatient visits share a day. Such a pattern stays only where it is the point
        of a label (split_admission, outpatient_during_stay, same_day_multi_visit,
        card_misuse: the labelled visit and the one its detail refers to) or of a
        near-miss; any other visit caught in one goes, with its labels and those that refer
        to it (a repeat prescription's earlier supply). So the only such patterns in the
        city are the labelled ones."""
        pattern = set(self._keep)
        for lb in self.labels:
            if lb.category in _PATTERN_CATEGORIES:
                pattern.add(lb.visit_no)
                pattern.update(_refs(lb))
        window = KB.readmission_days
        by_person: dict[str, list[Visit]] = {}
        for v in self.visits:
            by_person.setdefault(v.psn_no, []).append(v)
        gone: set[int] = set()
        moved: dict[int, timedelta] = {}
        end = self.p.start + timedelta(days=self.p.days)
        for visits in by_person.values():
            if len(visits) < 2:
                continue
            visits.sort(key=lambda v: (v.begntime, v.visit_no))
            fixed_days = [
                v.begntime.date() for v in visits if v.kind != "inpatient" and v.visit_no in pattern
            ]
            spans = [_days(v) for v in visits if v.kind == "inpatient" and v.visit_no in pattern]
            for v in visits:
                if v.kind != "inpatient" or v.visit_no in pattern:
                    continue
                a, b = _days(v)
                clash = [d2 for d1, d2 in spans if a <= d2 + timedelta(days=window) and d1 <= b]
                if clash or any(a <= d <= b for d in fixed_days):
                    # the admission comes later instead: past the window after the last
                    # stay it clashed with (or dropped when that leaves no room)
                    delta = (max(clash) + timedelta(days=window + 1) - a) if clash else None
                    a2, b2 = (a + delta, b + delta) if delta else (a, b)
                    if (
                        delta is not None
                        and b2 < end
                        and not any(
                            a2 <= d2 + timedelta(days=window) and d1 <= b2 for d1, d2 in spans
                        )
                        and not any(a2 <= d <= b2 for d in fixed_days)
                    ):
                        moved[v.visit_no] = delta
                        spans.append((a2, b2))
                    else:
                        gone.add(v.visit_no)
                else:
                    spans.append((a, b))
            seen_days = {
                v.begntime.date()
                for v in visits
                if v.kind == "outpatient" and v.visit_no in pattern
            }
            for v in visits:
                if v.kind == "inpatient" or v.visit_no in pattern:
                    continue
                d = v.begntime.date()
                if any(a <= d <= b for a, b in spans) or (
                    v.kind == "outpatient" and d in seen_days
                ):
                    gone.add(v.visit_no)
                elif v.kind == "outpatient":
                    seen_days.add(d)
        if moved:
            self.visits = [
                _shifted(v, moved[v.visit_no]) if v.visit_no in moved else v for v in self.visits
            ]
        if gone:
            # a label goes with its visit, and with the visit its detail refers to (a repeat
            # prescription's earlier supply)
            self.visits = [v for v in self.visits if v.visit_no not in gone]
            self.labels = [
                lb
                for lb in self.labels
                if lb.visit_no not in gone and not gone.intersection(_refs(lb))
            ]

    def groups(self, persons: Sequence[Person]) -> None:
        """聚集性就诊: flagged persons of the chunk form groups of 5–8 (the last up to 12)
        that visit one institution together on 4–6 days of the year. A group's labels carry
        its key (`G` + the first member's psn_no) as the detail's first word."""
        rng = self.rng
        flagged = [p for p in persons if p.death_date is None and self._pick(_GROUP_MENU)]
        i = 0
        while len(flagged) - i >= 5:
            size = rng.randint(5, 8)
            if len(flagged) - i - size < 5:  # too few left for a group of their own: join
                size = len(flagged) - i
            group = flagged[i : i + size]
            i += size
            inst = self.ctx.pick(rng, OUTPATIENT_KINDS, group[0].district)
            cond = CONDITION_BY_KEY["back_pain"]
            gid = f"G{group[0].psn_no}"
            days: list[date] = []
            for _ in range(rng.randint(4, 6)):
                day = self.ctx.day(rng, "plain")
                if day in days:  # one visit a day together
                    continue
                days.append(day)
                for p in group:
                    v = self.outpatient(p, day, cond=cond, inst=inst, anomalies=False)
                    self._label("clustered_visits", v, p, f"{gid} 聚集性就诊 ({size} persons)")


#: categories whose label is about visits in a pattern (a stay and what falls into it, two
#: visits a day, a readmission, a group's days together): `ChunkBuilder.coherent` keeps
#: their visits
_PATTERN_CATEGORIES = frozenset(
    {
        "split_admission",
        "outpatient_during_stay",
        "same_day_multi_visit",
        "card_misuse",
        "clustered_visits",
    }
)


def _refs(lb: Label) -> set[int]:
    """The visits a label's detail refers to ("#<visit_no>")."""
    return {int(n) for n in _VISIT_REF.findall(lb.detail)}


def _shifted(v: Visit, delta: timedelta) -> Visit:
    """The stay `delta` later: its times and every line's."""
    return replace(
        v,
        begntime=v.begntime + delta,
        endtime=v.endtime + delta if v.endtime else None,
        lines=tuple(ln._replace(fee_ocur_time=ln.fee_ocur_time + delta) for ln in v.lines),
    )


def _days(v: Visit) -> tuple[date, date]:
    return v.begntime.date(), (v.endtime or v.begntime).date()


def _cond_key(v: Visit) -> str:
    code = v.diagnoses[0][0] if v.diagnoses else ""
    return next((c.key for c in INPATIENT if c.diag_code == code), INPATIENT[0].key)


def build_chunk(ctx: CityContext, chunk: int, persons: Sequence[Person]) -> ChunkBuilder:
    """Every visit of these persons over the simulated period, sorted by time per person."""
    builder = ChunkBuilder(ctx, chunk)
    for p in persons:
        builder.person_year(p)
    builder.groups(persons)
    builder.coherent()
    builder.visits.sort(key=lambda v: (v.psn_no, v.endtime or v.begntime, v.visit_no))
    return builder


_PATTERN_DETAIL = {
    "peer_outlier": "机构高套: 高级别诊查费、检查检验全开 (up-coding)",
    "benford": "药店结算金额编造: 首位数字均匀 (made-up bill totals)",
}


def institution_labels(institutions: Sequence[Institution]) -> list[Label]:
    return [
        Label(i.pattern, 0, None, i.fixmedins_code, None, _PATTERN_DETAIL[i.pattern])
        for i in institutions
        if i.pattern is not None and i.pattern in CATEGORIES
    ]
