"""The analytics scenario's dashboard day: the last busy day, not a lone late discharge."""

from __future__ import annotations

from datetime import date

import pytest

from yibao.bench.offline import busy_day
from yibao.bench.params import BenchParamError, check_day


def test_busy_day_skips_a_lone_late_settlement() -> None:
    per_day = [(date(2024, 12, 29), 700), (date(2024, 12, 30), 650), (date(2025, 2, 1), 3)]
    assert busy_day(per_day) == date(2024, 12, 30)
    assert busy_day([(date(2024, 1, 1), 1)]) == date(2024, 1, 1)
    assert busy_day([]) is None


def test_day_option() -> None:
    assert check_day("--day", "2024-12-30") == date(2024, 12, 30)
    assert check_day("--day", None) is None
    with pytest.raises(BenchParamError, match=r"--day: .*yyyy-MM-dd"):
        check_day("--day", "30/12/2024")
