"""The driver picks persons insured in another region at the city's own share, and sends each
person's insured region in the envelope."""

from __future__ import annotations

import random

import orjson

from yibao.bench.fixtures import REMOTE_SHARE, Fixtures
from yibao.bench.flows import envelope


def _fx() -> Fixtures:
    local = [{"psn_no": f"L{i}", "insuplc_admdvs": "110199"} for i in range(40)]
    remote = [{"psn_no": f"R{i}", "insuplc_admdvs": "131099"} for i in range(120)]
    return Fixtures(institutions=[], persons=local + remote, catalog_items=[])


def test_remote_persons_are_picked_at_the_city_share() -> None:
    fx = _fx()
    rng = random.Random(7)
    picks = [rng.choice(fx.persons_for(rng)) for _ in range(20_000)]
    share = sum(p["insuplc_admdvs"] == "131099" for p in picks) / len(picks)
    # 120 of the 160 fixture persons are remote; the driver still picks them at ~4 %
    assert abs(share - REMOTE_SHARE) < 0.01


def test_without_remote_persons_every_pick_is_local() -> None:
    fx = Fixtures(institutions=[], persons=[{"psn_no": "L"}], catalog_items=[])
    rng = random.Random(1)
    assert all(fx.persons_for(rng) == fx.persons for _ in range(100))


def test_envelope_carries_the_persons_region() -> None:
    inst = {"code": "H11010500001", "name": "x", "admdvs": "110105"}
    body = orjson.loads(envelope("1101", inst, {}, now=0.0, insuplc_admdvs="131099"))
    assert body["insuplc_admdvs"] == "131099"
    assert orjson.loads(envelope("1101", inst, {}, now=0.0))["insuplc_admdvs"] == "110199"
