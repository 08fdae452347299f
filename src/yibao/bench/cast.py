"""The persons a `yibao bench settle` run owns: enrolled fresh for the run, used in turn.

A benchmark that replays its flows on the same few fixture persons run after run measures a
city that does not exist: their histories grow by thousands of visits, so every history read
of the review (holdings, windows) costs more each run, and most bills trip the visit rules
(several institutions a day, dozens of visits a month). A city's settlement traffic comes from
persons who visit a few times a year. So each run enrols persons of its own — made by the
city simulator, written with their insurance, identities and 异地 registrations like the demo
city's — and the flows take them one after another, each person visiting once before anyone
visits twice.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import random
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select

from yibao.simulate.demo import person_fixture
from yibao.simulate.model import CityParams, Person
from yibao.simulate.people import PersonFactory
from yibao.simulate.store import write_persons
from yibao.storage.tables import psn

#: certificate numbers are drawn per district and birth date; a draw that an earlier run or the
#: demo city already holds is dropped, so enrol a few spare
_SPARE = 1.05


def run_tag(now: float | None = None) -> str:
    """A tag unique to a run (milliseconds since the epoch, base 36), in every key it makes."""
    ms = int((time.time() if now is None else now) * 1000)
    digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    out = ""
    while ms:
        ms, r = divmod(ms, 36)
        out = digits[r] + out
    return out or "0"


def make_persons(count: int, *, tag: str, today: date) -> list[Person]:
    """`count`+ living persons of the city's mix (ages, insurance, chronic conditions, one in
    25 insured in the neighbouring region), none with an injected anomaly, with keys unique to
    `tag`."""
    params = CityParams(
        seed=int(hashlib.sha256(tag.encode()).hexdigest()[:12], 16),
        persons=count,
        start=today - timedelta(days=365),
        days=365,
        rates={},
    )
    factory = PersonFactory(params)
    out: list[Person] = []
    for i in range(int(count * _SPARE) + 1):
        p = factory.make(i)
        if p.death_date is not None or p.misuse is not None:
            continue
        digest = hashlib.sha256(f"{tag}:{i}:card".encode()).hexdigest()
        out.append(
            dataclasses.replace(
                p,
                psn_no=f"BN{tag}{i:07d}",
                card_no=f"BN{tag}{i:07d}",
                card_sn=digest[:32].upper(),
                ec_token=digest[32:64],
            )
        )
    return out


def enrol(engine: Engine, count: int, *, tag: str | None = None) -> list[dict[str, Any]]:
    """Enrol `count` fresh persons in the server's row store (one transaction, with their
    change-log rows for the replica) and return them as fixture persons."""
    tag = tag or run_tag()
    now = datetime.now().replace(microsecond=0)
    made = make_persons(count, tag=tag, today=now.date())
    with engine.begin() as conn:
        taken: set[str] = set()
        certnos = [p.certno for p in made]
        for start in range(0, len(certnos), 500):
            part = certnos[start : start + 500]
            taken.update(
                str(r[0]) for r in conn.execute(select(psn.c.certno).where(psn.c.certno.in_(part)))
            )
        fresh = [p for p in made if p.certno not in taken][:count]
        write_persons(conn, fresh, now=now)
    return [person_fixture(p) for p in fresh]


class Cast:
    """The run's persons, handed out in turn to every virtual client (one shuffled round, then
    the next): nobody visits twice before everyone has visited once."""

    def __init__(self, persons: list[dict[str, Any]], rng: random.Random) -> None:
        if not persons:
            raise ValueError("a cast needs persons")
        order = list(persons)
        rng.shuffle(order)
        self.persons = order
        self._next: Iterator[dict[str, Any]] = itertools.cycle(order)

    def next(self) -> dict[str, Any]:
        return next(self._next)
