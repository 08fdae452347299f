"""The region's [clearing] parameters: read exactly, validated, absent means no deposit."""

from __future__ import annotations

from decimal import Decimal

import pytest

from yibao.policy.book import ClearingTerms
from yibao.policy.model import PolicyFileError
from yibao.policy.params_io import load_book, parse_version

MINIMAL = """
[region]
admdvs = "990199"
begndate = 2024-01-01
[[rule]]
id = "r"
insutype = "310"
psn_group = ["in_service", "retired"]
visit_class = "outpatient"
[rule.pool]
[[rule.pool.band]]
ratio = 0.5
"""


def test_the_demo_region_withholds_five_percent_except_the_personal_account() -> None:
    (version,) = [v for v in load_book().versions if v.admdvs == "110199"]
    assert version.clearing == ClearingTerms(Decimal("0.05"), frozenset({"310200"}))


def test_absent_means_nothing_withheld_and_bad_values_are_refused() -> None:
    assert parse_version(MINIMAL).clearing == ClearingTerms()
    ok = parse_version(MINIMAL + "[clearing]\nquality_deposit_rate = 0.03\n")
    assert ok.clearing.quality_deposit_rate == Decimal("0.03")
    for bad, field in (
        ("quality_deposit_rate = 1.0", "quality_deposit_rate"),
        ("quality_deposit_rate = -0.1", "quality_deposit_rate"),
        ('deposit_exempt_funds = ["999999"]', "deposit_exempt_funds"),
        ("deposit_rate = 0.05", "deposit_rate"),
    ):
        with pytest.raises(PolicyFileError, match=field):
            parse_version(MINIMAL + "[clearing]\n" + bad + "\n")
