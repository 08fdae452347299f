"""Persons and institutions of the synthetic city: valid codes, a realistic mix, determinism."""

from __future__ import annotations

import re
from collections import Counter

from yibao.codes.validators import is_valid
from yibao.simulate.model import CityParams
from yibao.simulate.names import DISTRICT_NAMES, REMOTE_DISTRICTS
from yibao.simulate.people import make_institutions, make_persons


def test_persons_have_valid_certno_matching_birth_region_and_sex() -> None:
    persons = list(make_persons(CityParams(seed=7, persons=2000)))
    assert len({p.certno for p in persons}) == len(persons)
    assert len({p.psn_no for p in persons}) == len(persons)
    for p in persons:
        assert is_valid("certno", p.certno), p.certno
        assert p.certno[6:14] == p.brdy.strftime("%Y%m%d")
        assert int(p.certno[16]) % 2 == (1 if p.gend == "1" else 0)
        assert p.district in DISTRICT_NAMES  # everyone lives in the demo city
        if p.insuplc_admdvs == "110199":
            assert p.certno[:6] in DISTRICT_NAMES
        else:  # insured in the neighbouring region: its ID number and card
            assert p.insuplc_admdvs == "131099"
            assert p.certno[:6] in REMOTE_DISTRICTS and p.card_no.startswith("1310")
        assert 2 <= len(p.psn_name) <= 4
    remote = [p for p in persons if p.insuplc_admdvs == "131099"]
    assert len(remote) == 2000 // 25
    assert 0.85 <= sum(p.remote_registered for p in remote) / len(remote) < 0.95


def test_mix_within_bounds() -> None:
    params = CityParams(seed=11, persons=5000)
    persons = list(make_persons(params))
    n = len(persons)
    groups = Counter(p.psn_type[:2] for p in persons)
    insutypes = Counter(p.insutype for p in persons)
    assert 0.35 < groups["11"] / n < 0.60  # employees in service
    assert 0.10 < groups["12"] / n < 0.30  # retired employees
    assert 0.10 < groups["14"] / n < 0.30  # children and students
    assert 0.10 < groups["15"] / n < 0.35  # adult residents
    assert 0.55 < insutypes["310"] / n < 0.80
    assert 0.45 < sum(p.gend == "1" for p in persons) / n < 0.55
    assert all(p.balc == 0 for p in persons if p.insutype != "310")
    assert all(p.balc >= 0 for p in persons)
    assert 0.10 < sum(bool(p.chronic) for p in persons) / n < 0.35
    assert 0.005 < sum(bool(p.idets) for p in persons) / n < 0.06
    assert {"1102", "1202"} <= {p.psn_type for p in persons if p.cvlserv_flag == "1"}


def test_institutions_every_kind_and_level_with_valid_codes() -> None:
    insts = make_institutions(CityParams(seed=3, institutions=100))
    assert len(insts) == 100
    assert len({i.fixmedins_code for i in insts}) == 100
    for i in insts:
        assert re.fullmatch(r"[HP]\d{11}", i.fixmedins_code)
        assert i.fixmedins_code.startswith("P" if i.kind == "pharmacy" else "H")
        assert i.admdvs in DISTRICT_NAMES and i.fixmedins_code[1:7] == i.admdvs
        assert i.departments and i.doctors
        assert all(is_valid("practitioner", d.dr_code) for d in i.doctors)
    kinds = Counter((i.kind, i.hosp_lv) for i in insts)
    for key in (("hospital", "1"), ("hospital", "2"), ("hospital", "3"), ("clinic", "1")):
        assert kinds[key] >= 2
    codes = {i.fixmedins_code for i in insts}
    stores = [i for i in insts if i.parent_code]
    assert stores and all(s.parent_code in codes for s in stores)


def test_same_seed_same_people_other_seed_others() -> None:
    a = list(make_persons(CityParams(seed=5, persons=300)))
    b = list(make_persons(CityParams(seed=5, persons=300)))
    c = list(make_persons(CityParams(seed=6, persons=300)))
    assert a == b
    assert [p.certno for p in a] != [p.certno for p in c]
