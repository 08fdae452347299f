"""The scoring harness of `yibao risk evaluate`: units per category, matching, precision and
recall, the labels file read back, bad files refused naming the row."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from yibao.bench.risk_eval import (
    Hit,
    LabelRow,
    LabelsError,
    evaluate,
    meets_goal,
    read_labels,
    score_category,
)
from yibao.simulate.export import write_labels
from yibao.simulate.model import Label


def _row(category: str, unit: str, **kw: object) -> LabelRow:
    base: dict[str, object] = {
        "visit_no": 1, "mdtrt_id": None, "setl_id": None, "psn_no": None,
        "fixmedins_code": None, "feedetl_sn": None, "day": None, "detail": "",
    }  # fmt: skip
    base.update(kw)
    return LabelRow(category=category, unit=unit, **base)  # type: ignore[arg-type]


def test_line_units_match_on_visit_and_line_and_count_hits_once() -> None:
    labels = [
        _row("over_price", "line", mdtrt_id="M1", feedetl_sn="3"),
        _row("over_price", "line", mdtrt_id="M2", feedetl_sn="1"),
    ]
    hits = [
        Hit("over_price", mdtrt_id="M1", feedetl_sn="3", rule_id="R1"),
        Hit("over_price", mdtrt_id="M1", feedetl_sn="3", rule_id="R2"),  # same line: one unit
        Hit("over_price", mdtrt_id="M1", feedetl_sn="4"),  # the next line: a false positive
    ]
    row = score_category("line", labels, hits)
    assert row == {
        "unit": "line", "labels": 2, "hits": 2, "tp": 1, "precision": 0.5, "recall": 0.5,
    }  # fmt: skip
    assert not meets_goal(row)


def test_person_windows_match_on_overlapping_days() -> None:
    labels = [
        _row(
            "frequent_visits",
            "person-window",
            psn_no="P1",
            day=date(2024, 3, d),
            detail=f"W2024-03-01 x{d}",
        )
        for d in (2, 9, 20)
    ] + [
        _row(
            "frequent_visits",
            "person-window",
            psn_no="P2",
            day=date(2024, 6, 1),
            detail="W2024-06-01",
        )
    ]
    hits = [
        Hit("frequent_visits", psn_no="P1", begin=date(2024, 3, 15), end=date(2024, 4, 14)),
        Hit("frequent_visits", psn_no="P2", begin=date(2024, 7, 1), end=date(2024, 7, 30)),
    ]
    row = score_category("person-window", labels, hits)
    assert (row["labels"], row["hits"], row["tp"]) == (2, 2, 1)
    assert row["precision"] == 0.5 and row["recall"] == 0.5


def test_groups_match_on_members_and_institution() -> None:
    members = ["P1", "P2", "P3", "P4", "P5", "P6"]
    labels = [
        _row("clustered_visits", "group", psn_no=p, fixmedins_code="H1", detail="GP1 聚集性就诊")
        for p in members
    ]
    close = Hit("clustered_visits", fixmedins_code="H1", members=frozenset(members[:4]))
    elsewhere = Hit("clustered_visits", fixmedins_code="H2", members=frozenset(members))
    few = Hit("clustered_visits", members=frozenset(members[:2]))  # Jaccard 1/3
    assert score_category("group", labels, [close])["tp"] == 1
    assert score_category("group", labels, [elsewhere])["tp"] == 0
    row = score_category("group", labels, [few, close])
    assert (row["tp"], row["hits"], row["precision"]) == (1, 2, 0.5)


def test_evaluate_reports_every_category_with_labels_or_hits() -> None:
    labels = [
        _row("split_admission", "visit", mdtrt_id="M1"),
        _row("benford", "institution", fixmedins_code="P1"),
    ]
    hits = [
        Hit("split_admission", mdtrt_id="M1"),
        Hit("gender_limit", mdtrt_id="M9", feedetl_sn="1"),
    ]
    report = evaluate(labels, hits)
    cats = report["categories"]
    assert list(cats) == ["gender_limit", "split_admission", "benford"]  # the registry's order
    assert cats["split_admission"]["recall"] == 1.0 and cats["split_admission"]["precision"] == 1.0
    assert cats["benford"] == {
        "unit": "institution", "labels": 1, "hits": 0, "tp": 0, "precision": None, "recall": 0.0,
    }  # fmt: skip
    assert cats["gender_limit"]["recall"] is None and cats["gender_limit"]["precision"] == 0.0
    overall = report["overall"]
    assert (overall["labels"], overall["hits"], overall["tp"]) == (2, 2, 1)
    assert overall["precision"] == 0.5 and overall["recall"] == 0.5
    assert overall["categories_labelled"] == 2 and overall["categories_meeting_goal"] == 1
    with pytest.raises(ValueError, match="category"):
        evaluate(labels, [Hit("not_a_category")])


def test_the_labels_file_reads_back_and_bad_files_name_the_row(tmp_path: Path) -> None:
    path = tmp_path / "simulate-labels.csv"
    write_labels(
        path,
        [
            Label("over_price", 7, "P1", "H1", date(2024, 1, 2), "CT 超限价", feedetl_sn="4"),
            Label("peer_outlier", 0, None, "H2", None, "高套"),
        ],
    )
    assert path.stat().st_mode & 0o777 == 0o600
    rows = read_labels(path)
    assert [(r.category, r.unit, r.feedetl_sn, r.day) for r in rows] == [
        ("over_price", "line", "4", date(2024, 1, 2)),
        ("peer_outlier", "institution", None, None),
    ]
    assert rows[0].mdtrt_id and rows[1].mdtrt_id is None
    text = path.read_text(encoding="utf-8").replace(
        "peer_outlier,institution", "made_up,institution"
    )
    path.write_text(text, encoding="utf-8")
    with pytest.raises(LabelsError, match="第3行"):
        read_labels(path)
    path.write_text("anomaly,visit_no\n", encoding="utf-8")
    with pytest.raises(LabelsError, match="表头"):
        read_labels(path)
    with pytest.raises(LabelsError, match="simulate load"):
        read_labels(tmp_path / "missing.csv")
