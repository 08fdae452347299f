"""Inpatient flows never admit a person who has an open admission (2401 would refuse)."""

from __future__ import annotations

import asyncio
import dataclasses
import random
from typing import Any

import pytest

from yibao.bench.cast import Cast
from yibao.bench.fixtures import Fixtures
from yibao.bench.flows import Admissions, Session
from yibao.bench.stats import Recorder

PERSONS = [
    {"psn_no": f"P{i}", "certno": f"C{i}", "name": f"N{i}", "insutype": "310"} for i in range(4)
]


FIXTURES = Fixtures(institutions=[], persons=PERSONS, catalog_items=[])


@pytest.mark.parametrize("own", [False, True], ids=["fixtures' persons", "the run's cast"])
def test_pick_skips_busy_persons_and_release_frees_them(own: bool) -> None:
    fx = FIXTURES
    if own:
        fx = dataclasses.replace(FIXTURES, cast=Cast(PERSONS, random.Random(5)))
    adm = Admissions({"P0", "P1"})
    rng = random.Random(1)
    picked = {adm.pick(rng, fx)["psn_no"] for _ in range(2)}  # type: ignore[index]
    assert picked == {"P2", "P3"}
    assert adm.pick(rng, fx) is None
    adm.release("P3")
    assert adm.pick(rng, fx)["psn_no"] == "P3"  # type: ignore[index]


class _FakeSession(Session):
    """The flow logic without HTTP: each call answers from a script."""

    def __init__(self, fail_at: str | None, admissions: Admissions) -> None:
        fixtures = Fixtures(
            institutions=[{"kind": "hospital", "code": "H1", "admdvs": "110105", "name": "h"}],
            persons=PERSONS,
            catalog_items=[{"code": "X1", "price": 1, "list_type": "101"}],
        )
        super().__init__(None, fixtures, Recorder(), random.Random(3), reversal_rate=0.0,  # type: ignore[arg-type]
                         admissions=admissions)  # fmt: skip
        self.fail_at = fail_at
        self.outpatients = 0

    async def call(self, infno: str, inst: Any, data: Any) -> dict[str, Any] | None:
        if infno == self.fail_at:
            return None
        if infno == "2401":
            return {"result": {"mdtrt_id": "M1"}}
        if infno == "2304":
            return {"setlinfo": {"setl_id": "S1"}}
        return {}

    async def outpatient(self) -> bool:
        self.outpatients += 1
        return True


def _stay(fail_at: str | None, adm: Admissions) -> tuple[bool, _FakeSession]:
    session = _FakeSession(fail_at, adm)
    return asyncio.run(session.inpatient()), session


def test_a_settled_stay_frees_the_person() -> None:
    adm = Admissions()
    settled, _ = _stay(None, adm)
    assert settled and adm.busy == set()


def test_a_stay_that_fails_after_admission_keeps_the_person_busy() -> None:
    adm = Admissions()
    settled, _ = _stay("2402", adm)
    assert not settled and len(adm.busy) == 1


def test_a_refused_admission_frees_the_person() -> None:
    adm = Admissions()
    settled, _ = _stay("2401", adm)
    assert not settled and adm.busy == set()


def test_everyone_in_hospital_falls_back_to_an_outpatient_visit() -> None:
    adm = Admissions({p["psn_no"] for p in PERSONS})
    settled, session = _stay(None, adm)
    assert settled and session.outpatients == 1


def test_a_reversed_stay_leaves_the_admission_open() -> None:
    adm = Admissions()
    session = _FakeSession(None, adm)
    session.reversal_rate = 1.0
    assert asyncio.run(session.inpatient())
    assert len(adm.busy) == 1  # 2305 put the stay back to "discharged"
