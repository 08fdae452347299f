"""Caps held: no person's accumulated fund payment in a year above the cap the policy book
gives for their insurance (issue 23, `cap_exceeded`).

For every settlement the book resolves the rules that applied to it — the region of the
person's insurance (`insuplc_admdvs`), the settlement day, the insurance type, person type,
age, visit type and institution level, exactly as the calculator resolved them — and so the
annual caps in force on each of the person's accumulators:

- the pooled fund's cap on its cap counter (`<counter>.pool_paid`, `[rule.pool] cap`);
- the employee top-up's (`hifob.paid`), the residents' critical-illness insurance's
  (`hifmi.paid`, none for a person holding one of its poverty identities when the tilt says
  `no_cap`), the civil-servant subsidy's (`cvlserv.paid`) and medical assistance's
  (`maf.paid`, the limit of the tier the person's identities give).

Where a person's settlements in a year resolved to different caps on one counter (a change of
person type mid-year), the largest is the bound. Pure: plain rows in, findings out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from yibao.codes.dicts import HospLv, Insutype, MedType, PsnIdetType, PsnType
from yibao.policy.book import DEFAULT_COUNTER, PolicyBook, Resolved
from yibao.policy.model import AccKey, PersonTerms, PolicyRefusal, VisitTerms

#: (psn_no, insutype, year, accumulator key without the "<insutype>:" prefix)
CapKey = tuple[str, str, int, str]


@dataclass(frozen=True, slots=True)
class SettledTerms:
    """What of a settlement row decides its rules."""

    psn_no: str
    insutype: str
    psn_type: str
    med_type: str
    hosp_lv: str
    insuplc_admdvs: str
    setl_date: date
    year: int
    age: int


@dataclass(frozen=True, slots=True)
class Accumulated:
    psn_no: str
    year: int
    #: "<insutype>:<key>", as stored in psn_accum
    acc_key: str
    amount: Decimal


_IDENTITIES = frozenset(t.value for t in PsnIdetType)


def _caps_of(rz: Resolved, identities: frozenset[str]) -> dict[str, Decimal | None]:
    caps: dict[str, Decimal | None] = {}
    pool = rz.basic.pool
    if pool is not None:
        counter = pool.cap_counter or DEFAULT_COUNTER[rz.visit_class]
        caps[AccKey.pool_paid(counter)] = pool.cap
    if rz.topup is not None:
        caps[AccKey.HIFOB_PAID] = rz.topup.cap
    crit = rz.critical
    if crit is not None:
        poor = crit.poor is not None and bool(crit.poor.identities & identities)
        caps[AccKey.HIFMI_PAID] = None if poor and crit.poor and crit.poor.no_cap else crit.cap
    if rz.cvlserv is not None:
        caps[AccKey.CVLSERV_PAID] = rz.cvlserv.cap
    if rz.assistance is not None:
        held = tuple(PsnIdetType(i) for i in sorted(identities) if i in _IDENTITIES)
        tier = rz.assistance.tier_for(held)
        if tier is not None:
            caps[AccKey.MAF_PAID] = tier.limit
    return caps


def _loosest(a: Decimal | None, b: Decimal | None) -> Decimal | None:
    return None if a is None or b is None else max(a, b)


def annual_caps(
    book: PolicyBook,
    settlements: Iterable[SettledTerms],
    identities: Mapping[str, frozenset[str]],
) -> tuple[dict[CapKey, Decimal | None], list[str]]:
    """The cap on each (person, insurance, year, accumulator) the settlements ran under, and
    notes on settlements whose rules the book cannot resolve (each is a finding)."""
    caps: dict[CapKey, Decimal | None] = {}
    unresolved: list[str] = []
    for s in settlements:
        try:
            rz = book.resolve(
                PersonTerms(s.psn_no, Insutype(s.insutype), PsnType(s.psn_type), s.age),
                VisitTerms(MedType(s.med_type), HospLv(s.hosp_lv), s.insuplc_admdvs, s.setl_date),
            )
        except (PolicyRefusal, ValueError) as exc:
            unresolved.append(f"cap: a settlement of year {s.year} has no rules ({exc})")
            continue
        for key, cap in _caps_of(rz, identities.get(s.psn_no, frozenset())).items():
            k = (s.psn_no, s.insutype, s.year, key)
            caps[k] = _loosest(caps[k], cap) if k in caps else cap
    return caps, unresolved


def cap_breaches(
    book: PolicyBook,
    settlements: Iterable[SettledTerms],
    accumulated: Iterable[Accumulated],
    identities: Mapping[str, frozenset[str]],
) -> list[str]:
    """One note per accumulator above the policy's cap (or settlement the book cannot place)."""
    caps, found = annual_caps(book, settlements, identities)
    for a in accumulated:
        insutype, _, key = a.acc_key.partition(":")
        cap = caps.get((a.psn_no, insutype, a.year, key))
        if cap is not None and a.amount > cap:
            found.append(
                f"cap: accumulator {a.year} {a.acc_key} is {a.amount}, above the policy's "
                f"cap {cap} (person withheld)"
            )
    return found
