"""Institutions and insured persons of the synthetic city.

Deterministic: every function takes its own `random.Random`. Persons get valid 18-digit ID
numbers (GB 11643 check digit) whose region is a district of the demo region and whose birth
date is `brdy`; the sequence digit's parity carries the sex.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from itertools import accumulate
from typing import Final

from yibao.codes.validators import certno_check_digit
from yibao.simulate import names
from yibao.simulate.model import CityParams, Department, Doctor, Institution, Person

# ------------------------------------------------------------------ institutions

#: (kind, level) → share of the institutions of a city
INSTITUTION_MIX: Final = (
    ("hospital", "3", 0.06),
    ("hospital", "2", 0.14),
    ("hospital", "1", 0.10),
    ("clinic", "1", 0.35),
    ("pharmacy", "0", 0.35),
)
MIN_INSTITUTIONS: Final = 12

#: the demo city's fixed plan: (kind, level, count); pharmacies: one chain + stores, one alone
DEMO_PLAN: Final = (
    ("hospital", "3", 3),
    ("hospital", "2", 3),
    ("hospital", "1", 2),
    ("clinic", "1", 3),
)
DEMO_CHAIN_STORES: Final = 3
DEMO_INDEPENDENT_PHARMACIES: Final = 1


#: the weighted tables persons are drawn from, built once (a city draws a million times)
_DISTRICT_CODES = [d for d, _n, _w in names.DISTRICTS]
_DISTRICT_CUM = list(accumulate(w for _d, _n, w in names.DISTRICTS))
_SURNAMES = [s for s, _w in names.SURNAMES]
_SURNAME_CUM = list(accumulate(w for _s, w in names.SURNAMES))


def _district(rng: random.Random) -> str:
    return rng.choices(_DISTRICT_CODES, cum_weights=_DISTRICT_CUM)[0]


class _Codes:
    """Institution codes: H/P + admdvs (6) + a 5-digit serial per prefix and district."""

    def __init__(self) -> None:
        self._next: dict[tuple[str, str], int] = {}
        self.doctor_serial = 0

    def code(self, prefix: str, admdvs: str) -> str:
        n = self._next.get((prefix, admdvs), 0) + 1
        self._next[(prefix, admdvs)] = n
        return f"{prefix}{admdvs}{n:05d}"

    def doctor(self) -> str:
        self.doctor_serial += 1
        return f"D110199{self.doctor_serial:05d}"[:12]


def person_name(rng: random.Random, gend: str) -> str:
    surname = rng.choices(_SURNAMES, cum_weights=_SURNAME_CUM)[0]
    chars = names.GIVEN_MALE if gend == "1" else names.GIVEN_FEMALE
    given = rng.choice(chars) + (rng.choice(chars) if rng.random() < 0.7 else "")
    return surname + given


def _hospital_name(rng: random.Random, admdvs: str, level: str, kind: str, n: int) -> str:
    district = names.DISTRICT_NAMES[admdvs].removesuffix("区")
    if kind == "clinic":
        streets = (
            "和平里",
            "东花市",
            "望京",
            "清河",
            "学院路",
            "马家堡",
            "八角",
            "永定",
            "良乡",
            "梨园",
        )
        return f"{district}{streets[n % len(streets)]}社区卫生服务中心"
    stem = names.HOSPITAL_NAME_STEMS[n % len(names.HOSPITAL_NAME_STEMS)]
    suffix = {"3": "医院", "2": "医院", "1": "卫生院"}[level] if level != "1" else "医院"
    return f"北京市{district}{stem}{suffix}" if level == "3" else f"{district}{stem}{suffix}"


def _staff(
    rng: random.Random, codes: _Codes, kind: str, level: str
) -> tuple[tuple[Department, ...], tuple[Doctor, ...]]:
    if kind == "pharmacy":
        dept_rows = [names.PHARMACY_DEPARTMENT]
        per_dept = 1
    elif kind == "clinic":
        dept_rows = [d for d in names.DEPARTMENTS if d[0] in names.CLINIC_DEPARTMENTS]
        per_dept = 2
    else:
        count = {"3": len(names.DEPARTMENTS), "2": 9, "1": 5}[level]
        dept_rows = list(names.DEPARTMENTS[:count])
        per_dept = {"3": 4, "2": 3, "1": 2}[level]
    departments = tuple(Department(*d) for d in dept_rows)
    doctors = []
    for dept in departments:
        for _ in range(per_dept):
            gend = rng.choice("12")
            doctors.append(Doctor(codes.doctor(), person_name(rng, gend), dept.dept_code))
    return departments, tuple(doctors)


def _plan(total: int) -> list[tuple[str, str, int]]:
    plan = []
    for kind, level, share in INSTITUTION_MIX:
        plan.append((kind, level, max(2, round(total * share))))
    # fit the total on the largest group (clinics)
    diff = total - sum(n for _k, _l, n in plan)
    kind, level, n = plan[3]
    plan[3] = (kind, level, max(2, n + diff))
    return plan


def make_institutions(params: CityParams, *, demo: bool = False) -> list[Institution]:
    """Hospitals of every level, community clinics, pharmacy chains with stores."""
    rng = random.Random(f"{params.seed}:institutions")
    codes = _Codes()
    out: list[Institution] = []
    serial = 0

    def add(
        kind: str, level: str, parent: str | None = None, name: str | None = None
    ) -> Institution:
        nonlocal serial
        serial += 1
        admdvs = _district(rng)
        code = codes.code("P" if kind == "pharmacy" else "H", admdvs)
        departments, doctors = _staff(rng, codes, kind, level)
        inst = Institution(
            fixmedins_code=code,
            fixmedins_name=name or _hospital_name(rng, admdvs, level, kind, serial),
            kind=kind,
            hosp_lv=level,
            admdvs=admdvs,
            parent_code=parent,
            departments=departments,
            doctors=doctors,
        )
        out.append(inst)
        return inst

    if demo:
        plan = list(DEMO_PLAN)
        pharmacies = 1 + DEMO_CHAIN_STORES + DEMO_INDEPENDENT_PHARMACIES
    else:
        full = _plan(params.institutions)
        plan = full[:4]
        pharmacies = full[4][2]
    for kind, level, count in plan:
        for _ in range(count):
            add(kind, level)
    # pharmacy chains: a head office (itself a store) and its stores; a few independents
    chain_no = 0
    left = pharmacies
    independents = DEMO_INDEPENDENT_PHARMACIES if demo else max(1, pharmacies // 5)
    while left > independents:
        chain = names.PHARMACY_CHAINS[chain_no % len(names.PHARMACY_CHAINS)]
        tag = (
            ""
            if chain_no < len(names.PHARMACY_CHAINS)
            else str(chain_no // len(names.PHARMACY_CHAINS) + 1)
        )
        size = min(left - independents, (1 + DEMO_CHAIN_STORES) if demo else rng.randint(3, 12))
        head = add("pharmacy", "0", name=f"北京{chain}{tag}大药房连锁有限公司")
        for i in range(1, size):
            district = names.DISTRICT_NAMES[_district(rng)]
            add(
                "pharmacy",
                "0",
                parent=head.fixmedins_code,
                name=f"北京{chain}{tag}大药房{district}第{i}分店",
            )
        left -= size
        chain_no += 1
    for i in range(left):
        add("pharmacy", "0", name=f"北京{names.DISTRICT_NAMES[_district(rng)]}康民药店{i + 1}")
    # institution-level patterns, one draw each: an up-coding hospital or clinic
    # (peer_outlier), a pharmacy whose bill totals are made up (benford)
    upcoding = params.rates.get("peer_outlier", 0.0)
    made_up = params.rates.get("benford", 0.0)
    flagged = rng.random
    result = []
    for inst in out:
        u = flagged()
        if inst.kind == "pharmacy":
            result.append(_with_pattern(inst, "benford" if u < made_up else None))
        else:
            result.append(_with_pattern(inst, "peer_outlier" if u < upcoding else None))
    return result


def _with_pattern(inst: Institution, pattern: str | None) -> Institution:
    if pattern is None:
        return inst
    return Institution(
        inst.fixmedins_code,
        inst.fixmedins_name,
        inst.kind,
        inst.hosp_lv,
        inst.admdvs,
        inst.parent_code,
        inst.departments,
        inst.doctors,
        pattern=pattern,
    )


# ------------------------------------------------------------------ persons

#: (age band start, weight) in 5-year bands, a big-city pyramid (more adults of working age)
# fmt: off
AGE_BANDS: Final = (
    (0, 4.0), (5, 4.5), (10, 4.0), (15, 3.5), (20, 5.0), (25, 7.5), (30, 9.5), (35, 9.0),
    (40, 8.0), (45, 7.5), (50, 7.5), (55, 7.0), (60, 6.0), (65, 5.0), (70, 4.0), (75, 2.5),
    (80, 1.8), (85, 1.0), (90, 0.4), (95, 0.1),
)
# fmt: on
_AGE_CUM: Final = list(accumulate(w for _a, w in AGE_BANDS))

#: chronic conditions: key → (age from which it appears, prevalence by decade from there)
CHRONIC_PREVALENCE: Final = {
    "hypertension": ((30, 0.04), (40, 0.10), (50, 0.22), (60, 0.38), (70, 0.50)),
    "diabetes": ((30, 0.02), (40, 0.05), (50, 0.10), (60, 0.17), (70, 0.20)),
    "chd": ((50, 0.03), (60, 0.08), (70, 0.14)),
    "copd": ((50, 0.02), (60, 0.05), (70, 0.09)),
}

#: age range (whole years) that fits each person type, for forced (showcase) persons
# fmt: off
FORCED_AGES: Final = {
    "1101": (25, 54), "1102": (30, 54), "1103": (25, 50), "1201": (62, 80), "1202": (62, 80),
    "1203": (61, 75), "1300": (90, 96), "1401": (0, 0), "1402": (2, 5), "1403": (7, 14),
    "1404": (18, 22), "1405": (15, 17), "1501": (30, 70),
}
# fmt: on

#: every (insutype, psn_type) the city holds; the demo shows each of them
# fmt: off
ALL_TYPES: Final = (
    ("310", "1101"), ("310", "1102"), ("310", "1103"), ("310", "1201"), ("310", "1202"),
    ("310", "1203"), ("310", "1300"), ("390", "1401"), ("390", "1402"), ("390", "1403"),
    ("390", "1404"), ("390", "1405"), ("390", "1501"), ("391", "1501"),
)
# fmt: on

ASSISTANCE_TYPES: Final = (("21", 0.6), ("22", 0.1), ("23", 0.15), ("25", 0.15))


def _prevalence(table: tuple[tuple[int, float], ...], age: int) -> float:
    rate = 0.0
    for start, value in table:
        if age >= start:
            rate = value
    return rate


def insurance_for(rng: random.Random, age: int, gend: str) -> tuple[str, str, str]:
    """(insutype, psn_type, cvlserv_flag) for a person of that age and sex."""
    if age < 1:
        return "390", "1401", "0"
    if age < 6:
        return "390", "1402", "0"
    if age < 18:
        return ("390", "1405", "0") if age >= 15 and rng.random() < 0.05 else ("390", "1403", "0")
    if age < 23 and rng.random() < 0.5:
        return "390", "1404", "0"
    retired = age >= (60 if gend == "1" else 55)
    if rng.random() >= (0.75 if retired else 0.72):
        return ("391" if rng.random() < 0.03 else "390"), "1501", "0"
    r = rng.random()
    if retired:
        if age >= 88 and r < 0.05:
            return "310", "1300", "0"
        if r < 0.07:
            return "310", "1202", "1"
        return ("310", "1203", "0") if r < 0.15 else ("310", "1201", "0")
    if r < 0.06:
        return "310", "1102", "1"
    return ("310", "1103", "0") if r < 0.16 else ("310", "1101", "0")


def _balance(rng: random.Random, psn_type: str, age: int) -> Decimal:
    if psn_type.startswith("11"):
        yuan = rng.randint(0, 400) * 10 + age * 20
    elif psn_type.startswith(("12", "13")):
        yuan = rng.randint(50, 800) * 10
    else:
        return Decimal("0.00")
    return Decimal(yuan).quantize(Decimal("0.01")) + Decimal(rng.randint(0, 99)) / 100


def certno_for(admdvs: str, brdy: date, seq: int) -> str:
    """An 18-digit ID number: region (6) + birth date (8) + sequence (3) + check."""
    first17 = f"{admdvs}{brdy:%Y%m%d}{seq:03d}"
    return first17 + certno_check_digit(first17)


class PersonFactory:
    """Makes persons one by one; keeps ID numbers unique across the city."""

    def __init__(self, params: CityParams) -> None:
        self.params = params
        self.rng = random.Random(f"{params.seed}:persons")
        #: deaths and card misuse, one draw a person: a stream of their own, so the persons'
        #: other draws are those of a city without them
        self.fate = random.Random(f"{params.seed}:fates")
        self._used: set[int] = set()
        self._tag = params.seed % 10000

    def make(self, index: int, *, force: tuple[str, str] | None = None) -> Person:
        """The person number `index`; `force` = (insutype, psn_type) picks an age that fits
        (the demo's showcase persons of every insurance and person type)."""
        rng = self.rng
        p = self.params
        band = rng.choices(AGE_BANDS, cum_weights=_AGE_CUM)[0][0]
        age = band + rng.randrange(5)
        gend = "1" if rng.random() < 0.505 else "2"
        if force is not None:
            lo, hi = FORCED_AGES[force[1]]
            age = rng.randint(lo, hi)
        brdy = p.start - timedelta(days=age * 365 + rng.randrange(365) + age // 4)
        age = (p.start.year - brdy.year) - ((p.start.month, p.start.day) < (brdy.month, brdy.day))
        district = _district(rng)
        # one in REMOTE_EVERY is insured in the neighbouring region and lives here: the ID
        # number and the card are that region's, the home district is the demo city's (no
        # extra draw, so every other person is the same as without the second region)
        remote = force is None and index % names.REMOTE_EVERY == names.REMOTE_EVERY - 1
        issued = (
            names.REMOTE_DISTRICTS[(index // names.REMOTE_EVERY) % len(names.REMOTE_DISTRICTS)]
            if remote
            else district
        )
        certno = self._certno(issued, brdy, gend)
        insutype, psn_type, cvlserv = insurance_for(rng, age, gend)
        if force is not None:
            insutype, psn_type = force
            cvlserv = "1" if psn_type in ("1102", "1202") else "0"
        employed = psn_type.startswith("11")
        emp_name = None
        if employed:
            emp_name = f"{'廊坊' if remote else '北京'}{rng.choice(names.SURNAMES)[0]}{rng.choice(names.GIVEN_MALE)}{rng.choice(names.EMPLOYERS)}"
        idets: tuple[str, ...] = ()
        if rng.random() < (0.05 if psn_type.startswith(("14", "15")) else 0.01):
            idets = (
                rng.choices(
                    [t for t, _w in ASSISTANCE_TYPES], weights=[w for _t, w in ASSISTANCE_TYPES]
                )[0],
            )
        chronic = tuple(
            key
            for key, table in CHRONIC_PREVALENCE.items()
            if rng.random() < _prevalence(table, age)
        )
        death_date, misuse = (None, None) if force is not None else self._fate(age)
        digest = hashlib.sha256(f"{p.seed}:{index}:card".encode()).hexdigest()
        psn_no = f"11{self._tag:04d}{index:014d}"
        return Person(
            psn_no=psn_no,
            certno=certno,
            psn_name=person_name(rng, gend),
            gend=gend,
            brdy=brdy,
            insutype=insutype,
            psn_type=psn_type,
            cvlserv_flag=cvlserv,
            insuplc_admdvs=names.REMOTE_REGION if remote else names.POOLING_REGION,
            district=district,
            emp_name=emp_name,
            psn_insu_date=max(brdy, date(2000 + rng.randrange(24), 1 + rng.randrange(12), 1)),
            balc=_balance(rng, psn_type, age),
            card_no=f"{issued[:4]}{self._tag:04d}{index:010d}",
            card_sn=digest[:32].upper(),
            ec_token=digest[32:64],
            death_date=death_date,
            misuse=misuse,
            tel=f"1{rng.choice('3578')}{rng.randrange(10**9):09d}",
            idets=idets,
            chronic=chronic,
            remote_registered=remote
            and (index // names.REMOTE_EVERY) % names.REMOTE_UNREGISTERED_EVERY != 0,
        )

    def _fate(self, age: int) -> tuple[date | None, str | None]:
        """(date of death, card misuse) of a person: deaths at the age's mortality over the
        period; `card_misuse` (a rate per person) makes half of its persons die early in the
        period with their card used afterwards ("after_death") and the other half have their
        card used in two places at once ("two_places")."""
        p = self.params
        u = self.fate.random()
        dies = mortality(age) * p.days / 365
        misuse_rate = p.rates.get("card_misuse", 0.0)
        if u < dies:
            return p.start + timedelta(days=self.fate.randrange(p.days)), None
        if u < dies + misuse_rate / 2:
            early = max(1, p.days * 7 // 10)
            return p.start + timedelta(days=self.fate.randrange(early)), "after_death"
        if u < dies + misuse_rate:
            return None, "two_places"
        return None, None

    def _certno(self, district: str, brdy: date, gend: str) -> str:
        rng = self.rng
        for _ in range(1000):
            seq = rng.randrange(500) * 2 + (1 if gend == "1" else 0)
            certno = certno_for(district, brdy, seq)
            key = int(certno[:17])
            if key not in self._used:
                self._used.add(key)
                return certno
        raise RuntimeError("no free ID sequence number for this district and birth date")


def mortality(age: int) -> float:
    """Deaths a year per person by age (a big city's life table, rounded)."""
    if age < 60:
        return 0.001
    if age < 75:
        return 0.01
    return 0.04 if age < 85 else 0.12


def make_persons(params: CityParams) -> Iterator[Person]:
    factory = PersonFactory(params)
    for i in range(params.persons):
        yield factory.make(i)
