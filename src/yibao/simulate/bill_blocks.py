"""The building blocks of a chunk's bills: its random stream and memos, fee lines, lab
panels, drug courses, the doctor who sees a visit, visit records, anomaly labels and counts.
`yibao.simulate.visits.ChunkBuilder` builds the outpatient, inpatient and pharmacy flows on
them.
"""

from __future__ import annotations

import random
from datetime import date, datetime
from decimal import Decimal
from itertools import accumulate

from yibao.kit.money import round_fen
from yibao.simulate.clinical import BUILTIN_ITEMS, NO_DRAW, PANELS, Condition, SimItem
from yibao.simulate.context import CityContext, Staff, weighted
from yibao.simulate.kb import demo_kb
from yibao.simulate.model import Institution, Label, Line, Person, Visit

CHUNK_STRIDE = 100_000_000
ITEMS = {i.name: i for i in BUILTIN_ITEMS}
_Q4 = Decimal("0.0001")
#: distinct (item, quantity, price, days) a chunk remembers (bounds memory, not results)
_LINE_MEMO_LIMIT = 50_000
#: clinic opening hours and their weights (mornings busiest)
_HOURS = (8, 9, 10, 11, 13, 14, 15, 16)
_HOURS_CUM = list(accumulate((3, 4, 4, 3, 2, 3, 2, 1)))
#: builds a `Line` from its fields in order without the named tuple's Python-level __new__
#: (a city builds tens of millions of lines)
_new_line = tuple.__new__


class BillBlocks:
    """One chunk's random stream, memos and results, and the pieces every bill is made of."""

    def __init__(self, ctx: CityContext, chunk: int) -> None:
        self.ctx = ctx
        self.p = ctx.params
        self.rates = ctx.params.rates
        self.rng = random.Random(f"{ctx.params.seed}:visits:{chunk}")
        self.base = chunk * CHUNK_STRIDE
        self.n = 0
        self.visits: list[Visit] = []
        self.labels: list[Label] = []
        #: eligible units per anomaly kind (for the rate statistics), besides the menus'
        self._units: dict[str, int] = {}
        #: draws made per menu (`_pick`): expanded into `units`
        self._menu_draws: dict[tuple[tuple[str, bool], ...], int] = {}
        self._menus: dict[tuple[tuple[str, bool], ...], list[float]] = {}
        #: visits of near-misses (kept by `coherent` like the labelled ones)
        self._keep: set[int] = set()
        self._staff: dict[str, Staff] = {}
        self._line_memo: dict[
            tuple[object, ...], tuple[Decimal, Decimal, Decimal | None, str | None]
        ] = {}
        #: the bill and time of the last blood draw billed (`_lab`)
        self._drawn_for: list[Line] | None = None
        self._drawn_at: datetime | None = None
        self._cond_memo: dict[tuple[object, ...], tuple[list[Condition], list[float]]] = {}
        #: the drug supplies the chunk's persons took home — (psn_no, code) → [(first day,
        #: days)] — so that nobody is prescribed a drug they still hold (`holds`)
        self._supplies: dict[tuple[str, str], list[tuple[date, int]]] = {}
        #: the drug supplies of the bill being built — (code, time, days) — recorded with
        #: its visit (`_take_home`)
        self._pending: list[tuple[str, datetime, int]] = []
        #: the supply a person may still hold when a drug is prescribed again (重复开药)
        self.grace = demo_kb().holding_days

    # ------------------------------------------------------------------ building blocks

    @property
    def units(self) -> dict[str, int]:
        """Eligible units per category: how many times an anomaly of it could have been
        injected (the denominator of its rate)."""
        out = dict(self._units)
        for menu, n in self._menu_draws.items():
            for kind, near in menu:
                if not near:
                    out[kind] = out.get(kind, 0) + n
        return out

    def _pick(self, menu: tuple[tuple[str, bool], ...]) -> tuple[str, bool] | None:
        """One draw for a unit that may host any entry of `menu`: an anomaly `(kind, False)`
        or a near-miss `(kind, True)`, each with the category's rate; None (most draws): the
        unit stays as it is. Rates in one menu share the draw: when they add up to more than
        1 the later entries get less."""
        cum = self._menus.get(menu)
        if cum is None:
            acc, cum = 0.0, []
            for kind, _near in menu:
                acc += self.rates.get(kind, 0.0)
                cum.append(acc)
            self._menus[menu] = cum
        self._menu_draws[menu] = self._menu_draws.get(menu, 0) + 1
        u = self.rng.random()
        if not cum or u >= cum[-1]:
            return None
        for entry, edge in zip(menu, cum, strict=True):
            if u < edge:
                return entry
        return None  # pragma: no cover - u < cum[-1]

    def _label(
        self,
        kind: str,
        v: Visit | None,
        person: Person | None,
        detail: str,
        inst: Institution | None = None,
        feedetl_sn: str | None = None,
    ) -> None:
        self.labels.append(
            Label(
                category=kind,
                visit_no=v.visit_no if v else 0,
                psn_no=(v.psn_no if v else person.psn_no if person else None),
                fixmedins_code=(v.fixmedins_code if v else inst.fixmedins_code if inst else None),
                day=v.begntime.date() if v else None,
                detail=detail,
                feedetl_sn=feedetl_sn,
            )
        )

    def _when(self, day: date, kind: str) -> datetime:
        rng = self.rng
        hour = rng.randint(8, 20) if kind == "pharmacy" else weighted(rng, _HOURS, _HOURS_CUM)
        return datetime(day.year, day.month, day.day, hour, rng.randrange(60), rng.randrange(60))

    def _line(
        self,
        lines: list[Line],
        item: SimItem,
        cnt: Decimal,
        when: datetime,
        inst: Institution,
        *,
        days: int | None = None,
        pric: Decimal | None = None,
    ) -> None:
        price = pric if pric is not None else item.price
        # quantity, amount and days of a line follow from these alone: computed once each
        key = (item.code, cnt, price, days)
        calc = self._line_memo.get(key)
        if calc is None:
            q = cnt.quantize(_Q4)
            calc = (
                q,
                round_fen(q * price),
                Decimal(days) if days is not None else None,
                "每日" if days else None,
            )
            if len(self._line_memo) >= _LINE_MEMO_LIMIT:
                self._line_memo.clear()
            self._line_memo[key] = calc
        lines.append(
            _new_line(
                Line,
                (
                    str(len(lines) + 1),
                    item.code,
                    item.name,
                    item.list_type,
                    item.med_chrgitm_type,
                    calc[0],
                    price,
                    calc[1],
                    when,
                    calc[2],
                    calc[3],
                    None,
                    None,
                ),
            )
        )
        if days is not None and item.role == "drug":
            self._pending.append((item.code, when, days))

    def _lab(
        self, lines: list[Line], name: str, when: datetime, inst: Institution, cnt: int = 1
    ) -> None:
        """A lab order: a panel's analytes as one line each, or the single item; the blood
        drawn for it is billed once per bill and time (one draw serves every lab ordered
        with it)."""
        if name not in NO_DRAW and (lines is not self._drawn_for or when != self._drawn_at):
            self._drawn_for, self._drawn_at = lines, when
            self._line(lines, ITEMS["静脉采血"], Decimal(1), when, inst)
        for analyte in PANELS.get(name, (name,)):
            self._line(lines, ITEMS[analyte], Decimal(cnt), when, inst)

    def _drug(
        self, lines: list[Line], name: str, days: int, when: datetime, inst: Institution
    ) -> None:
        item = ITEMS[name]
        self._line(lines, item, item.per_day * days, when, inst, days=days)

    # ------------------------------------------------------------------ holdings (持有量)

    def holds(
        self, psn_no: str, code: str, day: date, days: int, *, later_only: bool = False
    ) -> bool:
        """Whether a supply of `days` from `day` would overlap one the person takes home on
        another visit by more than the grace days: an earlier supply with more than that left
        on `day`, or a later one begun while more than that of this one is left (`later_only`:
        the later ones alone). A clinic or pharmacy prescribes only what the patient has run
        short of — real patients refill near the end of a supply — so a clean city holds no
        重复开药 (repeat_prescription) but the injected ones."""
        for start, held in self._supplies.get((psn_no, code), ()):
            if start <= day and not later_only and (start - day).days + held > self.grace:
                return True
            if start >= day and (day - start).days + days > self.grace:
                return True
        return False

    def _take_home(self, v: Visit) -> None:
        """Records the drug supplies billed since the last visit as this clinic or pharmacy
        visit's (a stay's drugs are given on the ward day by day and held by nobody)."""
        pending, self._pending = self._pending, []
        if v.kind == "inpatient":
            return
        supplies, psn_no = self._supplies, v.psn_no
        for code, when, days in pending:
            supplies.setdefault((psn_no, code), []).append((when.date(), days))

    def _doctor(self, inst: Institution, depts: tuple[str, ...]) -> tuple[str, str, str, str, str]:
        staff = self._staff.get(inst.fixmedins_code)
        if staff is None:
            staff = self._staff[inst.fixmedins_code] = Staff(inst)
        have = staff.depts
        wanted = staff.wanted.get(depts)
        if wanted is None:
            wanted = staff.wanted[depts] = [d for d in depts if d in have]
        dept = have[self.rng.choice(wanted)] if wanted else inst.departments[0]
        dr = self.rng.choice(staff.doctors_of(dept.dept_code))
        return dept.dept_code, dept.dept_name, dept.caty, dr.dr_code, dr.dr_name

    def _visit(
        self,
        kind: str,
        med_type: str,
        person: Person,
        inst: Institution,
        begn: datetime,
        end: datetime | None,
        cond: Condition | None,
        lines: list[Line],
        also: tuple[Condition, ...] = (),
    ) -> Visit:
        """The visit record; `also` are secondary diagnoses (a stay's chronic conditions)."""
        self.n += 1
        depts = cond.depts if cond else ("D99",)
        dept_code, dept_name, caty, dr_code, dr_name = self._doctor(inst, depts)
        diagnoses: tuple[tuple[str, str], ...] = ((cond.diag_code, cond.diag_name),) if cond else ()
        if also:
            diagnoses += tuple((c.diag_code, c.diag_name) for c in also)
        visit = Visit(
            visit_no=self.base + self.n,
            kind=kind,
            med_type=med_type,
            psn_no=person.psn_no,
            fixmedins_code=inst.fixmedins_code,
            hosp_lv=inst.hosp_lv,
            dept_code=dept_code,
            dept_name=dept_name,
            caty=caty,
            dr_code=dr_code,
            dr_name=dr_name,
            begntime=begn,
            endtime=end,
            diagnoses=diagnoses,
            lines=tuple(lines),
            ipt_otp_no=f"{'ZY' if kind == 'inpatient' else 'MZ'}{self.base + self.n:012d}",
            reversed=self.rng.random() < self.p.reversal_rate,
        )
        self.visits.append(visit)
        self._take_home(visit)
        return visit
