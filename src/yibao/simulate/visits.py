"""A year of visits for a chunk of persons: outpatient (acute and chronic monthly), inpatient
stays with a length of stay, pharmacy purchases — with anomalies injected and labelled.

Deterministic: one `random.Random(f"{seed}:visits:{chunk}")` per chunk of persons, visit
numbers `chunk × 10^8 + n`. Rhythms: fewer visits at weekends, respiratory illness peaking in
winter, chronic patients back every month at their usual clinic around the same day.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from itertools import accumulate

from yibao.kit.clock import age_on
from yibao.simulate.bill_blocks import ITEMS, BillBlocks
from yibao.simulate.clinical import (
    ADMISSION_LABS,
    BUILTIN_ITEMS,
    CHRONIC_WARD,
    CONDITION_BY_KEY,
    CONDITIONS,
    RECHECK_LABS,
    WARD_DRUGS,
    WARD_ONLY,
    Condition,
)
from yibao.simulate.context import (
    INPATIENT_KINDS,
    OUTPATIENT_KINDS,
    CityContext,
    weighted,
)
from yibao.simulate.model import Institution, Label, Line, Person, Visit
from yibao.simulate.rates import acute_rate, inpatient_rate, pharmacy_rate, poisson

ACUTE = [c for c in CONDITIONS if c.course == "acute"]
INPATIENT = [c for c in CONDITIONS if c.course == "inpatient"]
SEX_ITEMS = {g: [i for i in BUILTIN_ITEMS if i.gend == g] for g in "12"}
CHILD_ITEMS = [i for i in BUILTIN_ITEMS if i.age_max is not None]
CAPPED_SERVICES = [i for i in BUILTIN_ITEMS if i.cap and i.role in ("lab", "exam", "treatment")]
#: acute drugs: the ordinary outpatient prescription covers 3–7 days (处方管理办法 Art. 19)
ORDINARY_MAX_DAYS = 7
#: drugs a pharmacy sells over the counter beside a condition's own (any sex, any age), in
#: catalog order: drawn from on every pharmacy visit, so listed once
_OTC_EXTRAS = [
    i
    for i in BUILTIN_ITEMS
    if i.role == "drug" and i.gend is None and i.age_max is None and i.name not in WARD_ONLY
]
#: the capped ones, for a pharmacy's price above the cap
_OTC_CAPPED = [i for i in _OTC_EXTRAS if i.cap]
ROUTINE_LABS = ("血细胞分析(血常规)", "尿液常规检查")


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
    ) -> Visit:
        rng = self.rng
        age = age_on(person.brdy, day)
        if cond is None:
            cond = self._condition(ACUTE, person, age, day)
        inst = inst or self.ctx.pick(rng, OUTPATIENT_KINDS, person.district)
        when = self._when(day, "outpatient")
        lines: list[Line] = []
        consult = (
            "一般诊疗费"
            if inst.kind == "clinic"
            else rng.choice(("普通门诊诊查费", "副主任医师门诊诊查费"))
        )
        self._line(lines, ITEMS[consult], Decimal(1), when, inst)
        for lab in cond.labs:
            if rng.random() < 0.7:
                self._lab(lines, lab, when, inst)
        if rng.random() < 0.4:
            self._lab(lines, rng.choice(ROUTINE_LABS), when, inst)
        if cond.exams and rng.random() < 0.4:
            self._line(lines, ITEMS[rng.choice(cond.exams)], Decimal(1), when, inst)
        for tr in cond.treatments:
            if rng.random() < 0.6:
                self._line(lines, ITEMS[tr], Decimal(rng.randint(1, 3)), when, inst)
        for name in rng.sample(cond.drugs, k=min(len(cond.drugs), rng.randint(1, 4))):
            self._drug(lines, name, rng.randint(3, ORDINARY_MAX_DAYS), when, inst)
        if cond.drugs and rng.random() < 0.3:  # 门诊输液: infusion, saline and the set
            days = Decimal(rng.randint(1, 3))
            for name in ("静脉输液", "0.9%氯化钠注射液", "一次性使用输液器"):
                self._line(lines, ITEMS[name], days, when, inst)
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
    ) -> Visit:
        rng = self.rng
        tags: list[tuple[str, str]] = []
        if anomalies:
            self._count("sex_restricted_item")
            if self._hit("sex_restricted_item"):
                other = "2" if person.gend == "1" else "1"
                item = rng.choice(SEX_ITEMS[other])
                self._line(
                    lines, item, Decimal(1) if item.role != "drug" else item.per_day * 5, when, inst
                )
                tags.append(
                    ("sex_restricted_item", f"{item.name} 限{'男' if other == '1' else '女'}性")
                )
            if age >= 14:
                self._count("age_restricted_item")
                if self._hit("age_restricted_item"):
                    item = rng.choice(CHILD_ITEMS)
                    self._line(lines, item, item.per_day * 5, when, inst, days=5)
                    tags.append(
                        ("age_restricted_item", f"{item.name} 限{item.age_max}岁以下, 患者{age}岁")
                    )
            if med_type == "11":
                self._count("over_quantity")
                if self._hit("over_quantity") and cond.drugs:
                    name = rng.choice(cond.drugs)
                    self._drug(lines, name, rng.choice((30, 60, 90)), when, inst)
                    tags.append(("over_quantity", f"{name} 普通门诊超{ORDINARY_MAX_DAYS}天用量"))
            tags += self._line_anomalies(lines, when, inst)
        visit = self._visit("outpatient", med_type, person, inst, when, None, cond, lines)
        for kind, detail in tags:
            self._label(kind, visit, person, detail)
        return visit

    def _line_anomalies(
        self, lines: list[Line], when: datetime, inst: Institution
    ) -> list[tuple[str, str]]:
        rng = self.rng
        tags = []
        self._count("price_above_cap")
        if self._hit("price_above_cap"):
            item = rng.choice(CAPPED_SERVICES)
            assert item.cap is not None
            price = (item.cap * Decimal(rng.choice(("1.2", "1.5", "1.8")))).quantize(
                Decimal("0.01")
            )
            self._line(lines, item, Decimal(1), when, inst, pric=price)
            tags.append(("price_above_cap", f"{item.name} 单价 {price} 超限价 {item.cap}"))
        self._count("duplicate_billing")
        if self._hit("duplicate_billing"):
            services = [ln for ln in lines if ln.list_type == "201"] or lines
            dup = rng.choice(services)
            lines.append(dup._replace(feedetl_sn=str(len(lines) + 1)))
            tags.append(("duplicate_billing", f"{dup.hilist_name} 重复收费"))
        return tags

    def chronic(self, person: Person, day: date, cond: Condition, inst: Institution) -> Visit:
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
            self._drug(lines, name, 30, when, inst)
        for other in person.chronic:
            if other != cond.key and rng.random() < 0.5:  # co-morbidity drugs in the same visit
                self._drug(lines, CONDITION_BY_KEY[other].drugs[0], 30, when, inst)
        for lab in cond.labs:
            if rng.random() < 0.5:
                self._lab(lines, lab, when, inst)
        for exam in cond.exams:
            if rng.random() < 0.15:
                self._line(lines, ITEMS[exam], Decimal(1), when, inst)
        return self._finish_outpatient(person, inst, when, cond, lines, age, "14", True)

    def pharmacy(self, person: Person, day: date) -> Visit:
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
        for name in rng.sample(cond.drugs, k=min(len(cond.drugs), rng.randint(1, 3))):
            self._drug(lines, name, rng.randint(5, 30), when, inst)
        for _ in range(rng.randint(0, 2)):
            extra = rng.choice(_OTC_EXTRAS)
            self._line(lines, extra, extra.per_day * rng.randint(3, 10), when, inst, days=7)
        self._count("price_above_cap")
        self._count("duplicate_billing")
        tags = []
        if self._hit("price_above_cap"):
            drug = rng.choice(_OTC_CAPPED)
            assert drug.cap is not None
            price = (drug.cap * Decimal("1.5")).quantize(Decimal("0.01"))
            self._line(lines, drug, drug.per_day * 7, when, inst, pric=price, days=7)
            tags.append(("price_above_cap", f"{drug.name} 单价 {price} 超限价 {drug.cap}"))
        if self._hit("duplicate_billing"):
            dup = rng.choice(lines)
            lines.append(dup._replace(feedetl_sn=str(len(lines) + 1)))
            tags.append(("duplicate_billing", f"{dup.hilist_name} 重复收费"))
        visit = self._visit("pharmacy", "41", person, inst, when, None, cond, lines)
        for kind, detail in tags:
            self._label(kind, visit, person, detail)
        return visit

    def inpatient(
        self,
        person: Person,
        day: date,
        *,
        cond: Condition | None = None,
        inst: Institution | None = None,
    ) -> Visit:
        rng = self.rng
        age = age_on(person.brdy, day)
        if cond is None:
            cond = self._condition(INPATIENT, person, age, day)
        inst = inst or self.ctx.pick(rng, INPATIENT_KINDS, person.district)
        los = rng.randint(*cond.los) + (1 if inst.hosp_lv == "3" else 0)
        adm = datetime.combine(day, time(rng.randint(8, 20), rng.randrange(60)))
        dscg = datetime.combine(
            day + timedelta(days=los), time(rng.randint(9, 11), rng.randrange(60))
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
        tags = self._line_anomalies(lines, adm, inst)
        visit = self._visit("inpatient", "21", person, inst, adm, dscg, cond, lines, comorbid)
        for kind, detail in tags:
            self._label(kind, visit, person, detail)
        return visit

    # ------------------------------------------------------------------ one person's year

    def person_year(self, person: Person) -> None:
        ctx, rng, s = self.ctx, self.rng, self.ctx.scale
        # the rates are yearly; a shorter (or longer) window gets its share (chronic visits
        # below are monthly by date and need no factor)
        span = self.p.days / 365
        start = self.p.start
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
                if day >= start + timedelta(days=self.p.days):
                    break
                if day >= start and rng.random() < min(1.0, s):
                    self.chronic(person, day, cond, home)
                month = (month + timedelta(days=32)).replace(day=1)
        for _ in range(poisson(rng, acute_rate(age) * s * span)):
            day = ctx.day(rng, "winter" if rng.random() < 0.4 else "plain")
            visit = self.outpatient(person, day)
            self._count("same_day_visits")
            if self._hit("same_day_visits"):
                other = self.outpatient(person, day, anomalies=False)
                self._label(
                    "same_day_visits",
                    other,
                    person,
                    f"同日第2次就诊 (first visit {visit.visit_no})",
                )
        for _ in range(poisson(rng, pharmacy_rate(age, bool(person.chronic)) * s * span)):
            self.pharmacy(person, ctx.day(rng, "flat"))
        for _ in range(poisson(rng, inpatient_rate(age) * s * span)):
            first = self.inpatient(
                person, ctx.day(rng, "winter" if rng.random() < 0.3 else "plain")
            )
            assert first.endtime is not None
            self._count("readmission_15d")
            if self._hit("readmission_15d"):
                again = first.endtime.date() + timedelta(days=rng.randint(1, 14))
                same = CONDITION_BY_KEY.get(_cond_key(first))
                inst = next(i for i in ctx.institutions if i.fixmedins_code == first.fixmedins_code)
                second = self.inpatient(
                    person, again, cond=same, inst=inst if rng.random() < 0.7 else None
                )
                days = (second.begntime.date() - first.endtime.date()).days
                self._label(
                    "readmission_15d",
                    second,
                    person,
                    f"出院{days}天后再入院 (after {first.visit_no})",
                )
            self._count("otp_during_ipt")
            if self._hit("otp_during_ipt"):
                span = (first.endtime.date() - first.begntime.date()).days
                day = first.begntime.date() + timedelta(days=rng.randint(1, max(1, span - 1)))
                other = (
                    self.pharmacy(person, day)
                    if rng.random() < 0.5
                    else self.outpatient(person, day, anomalies=False)
                )
                self._label(
                    "otp_during_ipt",
                    other,
                    person,
                    f"住院期间{other.kind}结算 (stay {first.visit_no})",
                )
        self._count("frequent_visits")
        if self._hit("frequent_visits"):
            month_start = ctx.day(rng, "flat")
            insts = [
                ctx.pick(rng, OUTPATIENT_KINDS, person.district) for _ in range(rng.randint(1, 3))
            ]
            for _ in range(rng.randint(10, 15)):
                day = month_start + timedelta(days=rng.randrange(28))
                if day >= start + timedelta(days=self.p.days):
                    day = month_start
                v = self.outpatient(person, day, inst=rng.choice(insts), anomalies=False)
                self._label("frequent_visits", v, person, f"一个月内频繁就诊 (from {month_start})")

    def groups(self, persons: Sequence[Person]) -> None:
        """聚集性就诊: flagged persons of the chunk form groups of 5–8 that visit one
        institution together on the same days, several times a year."""
        rng = self.rng
        flagged = []
        for p in persons:
            self._count("group_visits")
            if self._hit("group_visits"):
                flagged.append(p)
        i = 0
        while len(flagged) - i >= 3:
            size = min(len(flagged) - i, rng.randint(5, 8))
            group = flagged[i : i + size]
            i += size
            inst = self.ctx.pick(rng, OUTPATIENT_KINDS, group[0].district)
            cond = CONDITION_BY_KEY["back_pain"]
            gid = f"G{group[0].psn_no}"
            for _ in range(rng.randint(3, 6)):
                day = self.ctx.day(rng, "plain")
                for p in group:
                    v = self.outpatient(p, day, cond=cond, inst=inst, anomalies=False)
                    self._label("group_visits", v, p, f"聚集性就诊 group {gid} ({size} persons)")


def _cond_key(v: Visit) -> str:
    code = v.diagnoses[0][0] if v.diagnoses else ""
    return next((c.key for c in INPATIENT if c.diag_code == code), INPATIENT[0].key)


def build_chunk(ctx: CityContext, chunk: int, persons: Sequence[Person]) -> ChunkBuilder:
    """Every visit of these persons over the simulated period, sorted by time per person."""
    builder = ChunkBuilder(ctx, chunk)
    for p in persons:
        builder.person_year(p)
    builder.groups(persons)
    builder.visits.sort(key=lambda v: (v.psn_no, v.endtime or v.begntime, v.visit_no))
    return builder


def institution_labels(institutions: Sequence[Institution]) -> list[Label]:
    return [
        Label(
            "cost_outlier_institution",
            0,
            None,
            i.fixmedins_code,
            None,
            "机构费用系统性偏高 (×3 quantities)",
        )
        for i in institutions
        if i.cost_outlier
    ]
