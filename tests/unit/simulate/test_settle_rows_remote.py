"""The bulk settler decides 异地就医 as the live path does (`settlement.remote.check`): the
insured region's 未备案 cut for an unregistered person, none with a registration or in an
emergency, a refusal where the insured region refuses."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from decimal import Decimal

import pytest

from yibao.policy import PolicyRefusal, load_book
from yibao.simulate.model import CityParams, Institution, Visit
from yibao.simulate.people import PersonFactory
from yibao.simulate.settle_rows import Settler

DAY = date(2024, 6, 1)


def _inst(admdvs: str) -> Institution:
    return Institution(
        fixmedins_code=f"H{admdvs}00001", fixmedins_name="x", kind="hospital", hosp_lv="3",
        admdvs=admdvs, parent_code=None, departments=(), doctors=(),
    )  # fmt: skip


def _visit(med_type: str) -> Visit:
    at = datetime(2024, 6, 1, 9)
    return Visit(
        visit_no=1, kind="inpatient", med_type=med_type, psn_no="P", fixmedins_code="H",
        hosp_lv="3", dept_code="D", dept_name="d", caty="A03", dr_code="D1", dr_name="x",
        begntime=at, endtime=at, diagnoses=(), lines=(), ipt_otp_no="1",
    )  # fmt: skip


def test_bulk_remote_cut_follows_the_live_rule() -> None:
    settler = Settler(load_book([]), {}, {}, now=datetime(2024, 6, 1))
    factory = PersonFactory(CityParams(seed=3, persons=100))
    people = [factory.make(i) for i in range(100)]
    elsewhere = [p for p in people if p.insuplc_admdvs == "131099"]
    unregistered = next(p for p in elsewhere if not p.remote_registered)
    registered = next(p for p in elsewhere if p.remote_registered)
    here = _inst("110105")
    assert settler._remote_cut(unregistered, here, _visit("21"), DAY) == Decimal("0.10")
    assert settler._remote_cut(unregistered, here, _visit("24"), DAY) == 0
    assert settler._remote_cut(registered, here, _visit("21"), DAY) == 0
    # before the registration's start date it does not count
    early = dataclasses.replace(registered, psn_insu_date=date(2025, 1, 1))
    assert settler._remote_cut(early, here, _visit("21"), DAY) == Decimal("0.10")
    # a person of 110199 at a hospital of 131099 without a registration: refused
    local = next(p for p in people if p.insuplc_admdvs == "110199")
    with pytest.raises(PolicyRefusal, match="异地就医未备案"):
        settler._remote_cut(local, _inst("131002"), _visit("21"), DAY)
