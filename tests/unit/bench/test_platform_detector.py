"""`yibao risk evaluate`'s default detector is the platform: the real-time rules and the
post-hoc detectors together, a unit flagged by both counted once."""

from __future__ import annotations

from collections.abc import Iterator

from yibao.bench.risk_detectors import DETECTORS, Platform, default_detector
from yibao.bench.risk_eval import Hit, LabelRow, evaluate


class _Fixed:
    def __init__(self, name: str, hits: list[Hit]) -> None:
        self.name = name
        self.hits = hits

    def __call__(self) -> Iterator[Hit]:
        yield from self.hits


def _label(category: str, unit: str, mdtrt_id: str, sn: str | None = None) -> LabelRow:
    return LabelRow(category, unit, 1, mdtrt_id, None, "P1", "H1", sn, None, "")


def test_the_platform_scores_both_stages_and_counts_a_unit_once() -> None:
    assert default_detector() == "platform" and DETECTORS["platform"] is Platform
    realtime = [
        Hit("gender_limit", mdtrt_id="M1", feedetl_sn="1"),
        Hit("split_admission", mdtrt_id="M2"),
    ]
    posthoc = [Hit("split_admission", mdtrt_id="M2"), Hit("bed_hogging", mdtrt_id="M3")]
    both = Platform.__new__(Platform)
    both.parts = (_Fixed("rules", realtime), _Fixed("posthoc", posthoc))
    labels = [
        _label("gender_limit", "line", "M1", "1"),
        _label("split_admission", "visit", "M2"),
        _label("bed_hogging", "visit", "M3"),
    ]
    report = evaluate(labels, both())
    cats = report["categories"]
    assert {k: (v["hits"], v["tp"]) for k, v in cats.items()} == {
        "gender_limit": (1, 1),
        "split_admission": (1, 1),
        "bed_hogging": (1, 1),
    }
    assert report["overall"]["categories_meeting_goal"] == 3
