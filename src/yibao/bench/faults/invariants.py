"""The invariants checked after the kills, read from the row store of the campaign's city.

- every confirmed settlement (its settling call answered `infcode: 0`) is present, once
  (`lost`: confirmed but absent);
- no msgid settled twice, and no visit with two valid settlements (`duplicated`);
- each personal account's balance = its balance before the load − the account payments of the
  settlements since (reversal records carry negated amounts, so they credit it back)
  (`balance_mismatches`);
- each person's accumulators = the sums of their settlements: the pool paid on every counter
  (`*.pool_paid`) = Σ hifp_pay, and the top-up, critical-illness, civil-servant and assistance
  funds paid = Σ hifob_pay, hifmi_pay, cvlserv_pay, maf_pay (`accumulator_mismatches`);
- caps held: no account balance below zero, no accumulator below zero, and no person's
  accumulated fund payment in a year above the cap the policy book gives for their insurance
  (`caps.cap_breaches`: the pool's cap on its counter, the top-up, critical-illness,
  civil-servant and assistance caps) (`cap_exceeded`).

The campaign's city starts without settlements (`yibao demo --history-days 0`), so the sums
are taken over every settlement in the store.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Engine, select

from yibao.bench.faults.caps import Accumulated, SettledTerms, cap_breaches
from yibao.policy import PolicyBook, load_book
from yibao.storage.tables import psn_accum, psn_idet, psn_insu, setl

#: accumulator key suffix (after "<insutype>:") → the settlement column it sums
PAID_KEYS: Mapping[str, str] = {
    "hifob.paid": "hifob_pay",
    "hifmi.paid": "hifmi_pay",
    "cvlserv.paid": "cvlserv_pay",
    "maf.paid": "maf_pay",
}

Balances = dict[tuple[str, str], Decimal]


def balances(engine: Engine) -> Balances:
    """Every personal account's balance, by (psn_no, insutype)."""
    with engine.connect() as conn:
        rows = conn.execute(select(psn_insu.c.psn_no, psn_insu.c.insutype, psn_insu.c.balc))
        return {(r.psn_no, r.insutype): Decimal(r.balc) for r in rows}


@dataclass(slots=True)
class Findings:
    lost: int = 0
    duplicated: int = 0
    balance_mismatches: int = 0
    accumulator_mismatches: int = 0
    cap_exceeded: int = 0
    settlements: int = 0
    #: a few examples of what failed, for the report
    samples: list[str] | None = None


def check(
    engine: Engine,
    confirmed: Mapping[str, str],
    before: Balances,
    *,
    book: PolicyBook | None = None,
) -> Findings:
    """The invariants over the store; `book` is the policy the server settled under (default:
    the packaged parameter files)."""
    book = book if book is not None else load_book()
    found = Findings(samples=[])
    assert found.samples is not None
    note = found.samples.append
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                setl.c.setl_id,
                setl.c.mdtrt_id,
                setl.c.psn_no,
                setl.c.insutype,
                setl.c.year,
                setl.c.psn_type,
                setl.c.med_type,
                setl.c.hosp_lv,
                setl.c.insuplc_admdvs,
                setl.c.setl_time,
                setl.c.age,
                setl.c.medins_setl_id,
                setl.c.refd_setl_flag,
                setl.c.vali_flag,
                setl.c.acct_pay,
                setl.c.hifp_pay,
                *(setl.c[col] for col in PAID_KEYS.values()),
            )
        ).all()
        accums = conn.execute(
            select(psn_accum.c.psn_no, psn_accum.c.year, psn_accum.c.acc_key, psn_accum.c.amount)
        ).all()
        after = {
            (r.psn_no, r.insutype): Decimal(r.balc)
            for r in conn.execute(select(psn_insu.c.psn_no, psn_insu.c.insutype, psn_insu.c.balc))
        }
        held: dict[str, set[str]] = defaultdict(set)
        for i in conn.execute(select(psn_idet.c.psn_no, psn_idet.c.psn_idet_type)):
            held[i.psn_no].add(i.psn_idet_type)
        conn.rollback()
    found.settlements = len(rows)

    present = {r.setl_id for r in rows}
    for setl_id, msgid in confirmed.items():
        if setl_id not in present:
            found.lost += 1
            note(f"lost: settlement {setl_id} (msgid {msgid}) was confirmed but is absent")

    by_msgid: dict[str, int] = defaultdict(int)
    valid_by_visit: dict[str, int] = defaultdict(int)
    for r in rows:
        if r.refd_setl_flag == "0":
            by_msgid[r.medins_setl_id] += 1
            if r.vali_flag == "1":
                valid_by_visit[r.mdtrt_id] += 1
    for msgid, n in by_msgid.items():
        if n > 1:
            found.duplicated += 1
            note(f"duplicated: msgid {msgid} has {n} settlements")
    for mdtrt_id, n in valid_by_visit.items():
        if n > 1:
            found.duplicated += 1
            note(f"duplicated: visit {mdtrt_id} has {n} valid settlements")

    paid: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    sums: dict[tuple[str, str, int, str], Decimal] = defaultdict(Decimal)
    for r in rows:
        paid[(r.psn_no, r.insutype)] += Decimal(r.acct_pay)
        sums[(r.psn_no, r.insutype, r.year, "pool_paid")] += Decimal(r.hifp_pay)
        for key, col in PAID_KEYS.items():
            sums[(r.psn_no, r.insutype, r.year, key)] += Decimal(getattr(r, col))
    for account, balc in after.items():
        expected = before.get(account, Decimal(0)) - paid.get(account, Decimal(0))
        if balc != expected:
            found.balance_mismatches += 1
            note(f"balance: {account} is {balc}, credits − payments give {expected}")
        if balc < 0:
            found.cap_exceeded += 1
            note(f"cap: account {account} below zero ({balc})")

    stored: dict[tuple[str, str, int, str], Decimal] = defaultdict(Decimal)
    for a in accums:
        insutype, _, key = str(a.acc_key).partition(":")
        amount = Decimal(a.amount)
        if amount < 0:
            found.cap_exceeded += 1
            note(f"cap: accumulator {a.psn_no} {a.year} {a.acc_key} below zero ({amount})")
        if key.endswith(".pool_paid"):
            stored[(a.psn_no, insutype, a.year, "pool_paid")] += amount
        elif key in PAID_KEYS:
            stored[(a.psn_no, insutype, a.year, key)] += amount
    for k in set(sums) | set(stored):
        if sums.get(k, Decimal(0)) != stored.get(k, Decimal(0)):
            found.accumulator_mismatches += 1
            note(f"accumulator: {k} stored {stored.get(k, 0)}, settlements sum {sums.get(k, 0)}")
    breaches = cap_breaches(
        book,
        (
            SettledTerms(
                psn_no=r.psn_no,
                insutype=r.insutype,
                psn_type=r.psn_type,
                med_type=r.med_type,
                hosp_lv=r.hosp_lv,
                insuplc_admdvs=r.insuplc_admdvs,
                setl_date=r.setl_time.date(),
                year=r.year,
                age=int(r.age or 0),
            )
            for r in rows
        ),
        (Accumulated(a.psn_no, a.year, str(a.acc_key), Decimal(a.amount)) for a in accums),
        {p: frozenset(ids) for p, ids in held.items()},
    )
    found.cap_exceeded += len(breaches)
    found.samples.extend(breaches)
    del found.samples[40:]
    return found
