"""Scoring risk detection against the synthetic city's labels (`yibao risk evaluate`).

Pure: plain data in, plain data out. The labels come from the generator
(`<data_dir>/simulate-labels.csv`, docs/simulate.md "The labels file"), never from rules; the
hits from a `Detector`. Both are reduced to **units** of the category's kind and matched:

| unit | a label's unit | a hit matches it when |
|---|---|---|
| `line` | (mdtrt_id, feedetl_sn) | same visit and line |
| `visit` | mdtrt_id | same visit |
| `person-window` | a person's labelled visits sharing the window key (the detail's first word) | same person, the hit's days overlap the window's |
| `institution` | fixmedins_code | same institution |
| `group` | the persons labelled with one group key (the detail's first word) at one institution | same institution (when the hit names one) and the members' Jaccard index ≥ 0.5 |

Per category: `labels` (label units), `hits` (distinct hit units: two rules flagging the same
line count once), `tp` (label units matched by at least one hit), `recall` = tp / labels,
`precision` = matched hit units / hits (None where there is nothing to divide by). The
issue's goal: recall ≥ 0.95 and precision ≥ 0.9 in every injected category.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Final, Protocol

from yibao.simulate.export import LABEL_FIELDS
from yibao.simulate.model import CATEGORIES

#: the issue's goal in every injected category
GOAL: Final = {"recall": 0.95, "precision": 0.9}
#: the least Jaccard index of members for a group hit to match a labelled group
GROUP_OVERLAP: Final = 0.5


class LabelsError(ValueError):
    """The labels file cannot be read (its message names the row and the column)."""


@dataclass(frozen=True, slots=True)
class LabelRow:
    category: str
    unit: str
    visit_no: int
    mdtrt_id: str | None
    setl_id: str | None
    psn_no: str | None
    fixmedins_code: str | None
    feedetl_sn: str | None
    day: date | None
    detail: str


@dataclass(frozen=True, slots=True)
class Hit:
    """One detection, with what its category's unit needs: a fee line (mdtrt_id and
    feedetl_sn), a visit (mdtrt_id), a person's window (psn_no, begin, end), an institution
    (fixmedins_code) or a group (members' psn_no, fixmedins_code)."""

    category: str
    mdtrt_id: str | None = None
    feedetl_sn: str | None = None
    psn_no: str | None = None
    fixmedins_code: str | None = None
    begin: date | None = None
    end: date | None = None
    members: frozenset[str] = field(default_factory=frozenset)
    rule_id: str | None = None


class Detector(Protocol):
    """What `yibao risk evaluate` scores: a named source of hits over the loaded city."""

    name: str

    def __call__(self) -> Iterable[Hit]: ...


# ------------------------------------------------------------------ the labels file


def _opt(value: str) -> str | None:
    return value or None


def read_labels(path: Path) -> list[LabelRow]:
    """The labels file's rows; LabelsError naming the row and column on a bad file."""
    try:
        fh = path.open(newline="", encoding="utf-8")
    except OSError as exc:
        raise LabelsError(
            f"labels: 无法读取标签文件 {path} (cannot read: {exc.strerror}); "
            "run `yibao simulate load` first"
        ) from None
    with fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None or tuple(header) != LABEL_FIELDS:
            raise LabelsError(
                f"labels: {path.name} 的表头应为 {','.join(LABEL_FIELDS)} (header mismatch: "
                "an older file? load the city again with `yibao simulate load`)"
            )
        out = []
        for n, row in enumerate(reader, start=2):
            if len(row) != len(LABEL_FIELDS):
                raise LabelsError(
                    f"labels: 第{n}行有{len(row)}列, 应为{len(LABEL_FIELDS)} (row {n})"
                )
            rec = dict(zip(LABEL_FIELDS, row, strict=True))
            if rec["category"] not in CATEGORIES:
                raise LabelsError(
                    f"labels: 第{n}行 category 未知 '{rec['category']}' (row {n}: unknown category)"
                )
            if rec["unit"] != CATEGORIES[rec["category"]][1]:
                raise LabelsError(f"labels: 第{n}行 unit '{rec['unit']}' 与类别不符 (row {n})")
            try:
                day = date.fromisoformat(rec["day"]) if rec["day"] else None
                visit_no = int(rec["visit_no"] or 0)
            except ValueError:
                raise LabelsError(f"labels: 第{n}行 day/visit_no 格式错误 (row {n})") from None
            out.append(
                LabelRow(
                    category=rec["category"],
                    unit=rec["unit"],
                    visit_no=visit_no,
                    mdtrt_id=_opt(rec["mdtrt_id"]),
                    setl_id=_opt(rec["setl_id"]),
                    psn_no=_opt(rec["psn_no"]),
                    fixmedins_code=_opt(rec["fixmedins_code"]),
                    feedetl_sn=_opt(rec["feedetl_sn"]),
                    day=day,
                    detail=rec["detail"],
                )
            )
        return out


# ------------------------------------------------------------------ units


@dataclass(frozen=True, slots=True)
class _Window:
    psn_no: str
    begin: date
    end: date


@dataclass(frozen=True, slots=True)
class _Group:
    fixmedins_code: str | None
    members: frozenset[str]


def _key_word(detail: str) -> str:
    return detail.split(maxsplit=1)[0] if detail.strip() else ""


def label_units(unit: str, rows: Sequence[LabelRow]) -> list[object]:
    """A category's labelled units (deduplicated, in a stable order)."""
    if unit == "line":
        return list(dict.fromkeys((r.mdtrt_id, r.feedetl_sn) for r in rows))
    if unit == "visit":
        return list(dict.fromkeys(r.mdtrt_id for r in rows))
    if unit == "institution":
        return list(dict.fromkeys(r.fixmedins_code for r in rows))
    if unit == "person-window":
        spans: dict[tuple[str, str], list[date]] = {}
        for r in rows:
            if r.psn_no and r.day:
                spans.setdefault((r.psn_no, _key_word(r.detail)), []).append(r.day)
        return [_Window(p, min(d), max(d)) for (p, _w), d in spans.items()]
    if unit == "group":
        groups: dict[tuple[str, str | None], set[str]] = {}
        for r in rows:
            if r.psn_no:
                groups.setdefault((_key_word(r.detail), r.fixmedins_code), set()).add(r.psn_no)
        return [_Group(inst, frozenset(m)) for (_g, inst), m in groups.items()]
    raise ValueError(f"unit: unknown unit '{unit}'")


def hit_units(unit: str, hits: Iterable[Hit]) -> list[object]:
    """A category's hits as units of its kind, deduplicated."""
    out: dict[object, None] = {}
    for h in hits:
        key: object
        if unit == "line":
            key = (h.mdtrt_id, h.feedetl_sn)
        elif unit == "visit":
            key = h.mdtrt_id
        elif unit == "institution":
            key = h.fixmedins_code
        elif unit == "person-window":
            if not h.psn_no:
                continue
            begin = h.begin or h.end or date.min
            key = _Window(h.psn_no, begin, h.end or h.begin or date.max)
        elif unit == "group":
            key = _Group(h.fixmedins_code, h.members)
        else:
            raise ValueError(f"unit: unknown unit '{unit}'")
        out[key] = None
    return list(out)


def _matches(unit: str, hit: object, label: object) -> bool:
    if unit in ("line", "visit", "institution"):
        return hit == label
    if unit == "person-window":
        assert isinstance(hit, _Window) and isinstance(label, _Window)
        return hit.psn_no == label.psn_no and hit.begin <= label.end and label.begin <= hit.end
    assert isinstance(hit, _Group) and isinstance(label, _Group)
    if hit.fixmedins_code is not None and hit.fixmedins_code != label.fixmedins_code:
        return False
    union = hit.members | label.members
    return bool(union) and len(hit.members & label.members) / len(union) >= GROUP_OVERLAP


def _ratio(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def score_category(unit: str, labels: Sequence[LabelRow], hits: Sequence[Hit]) -> dict[str, Any]:
    """{unit, labels, hits, tp, precision, recall} of one category."""
    return _score(unit, labels, hits)[0]


def _score(
    unit: str, labels: Sequence[LabelRow], hits: Sequence[Hit]
) -> tuple[dict[str, Any], int]:
    """The category's row and its matched hit units."""
    wanted = label_units(unit, labels)
    found = hit_units(unit, hits)
    if unit in ("line", "visit", "institution"):
        wanted_set, found_set = set(wanted), set(found)
        tp = len(wanted_set & found_set)
        matched_hits = tp
    else:
        matched = [any(_matches(unit, h, lb) for h in found) for lb in wanted]
        tp = sum(matched)
        matched_hits = sum(any(_matches(unit, h, lb) for lb in wanted) for h in found)
    row = {
        "unit": unit,
        "labels": len(wanted),
        "hits": len(found),
        "tp": tp,
        "precision": _ratio(matched_hits, len(found)),
        "recall": _ratio(tp, len(wanted)),
    }
    return row, matched_hits


def meets_goal(row: Mapping[str, Any]) -> bool:
    return (row["recall"] or 0.0) >= GOAL["recall"] and (row["precision"] or 0.0) >= GOAL[
        "precision"
    ]


def evaluate(labels: Sequence[LabelRow], hits: Iterable[Hit]) -> dict[str, Any]:
    """The report: {"categories": {KEY: {...}}, "overall": {...}} over every category that
    has labels or hits (in the registry's order). `overall` adds up units across
    categories and counts the labelled categories that meet the goal."""
    by_cat_labels: dict[str, list[LabelRow]] = {}
    for lb in labels:
        by_cat_labels.setdefault(lb.category, []).append(lb)
    by_cat_hits: dict[str, list[Hit]] = {}
    for h in hits:
        if h.category not in CATEGORIES:
            raise ValueError(f"category: 未知类别 '{h.category}' (unknown category of a hit)")
        by_cat_hits.setdefault(h.category, []).append(h)
    categories: dict[str, dict[str, Any]] = {}
    matched = 0
    for key, (_name, unit) in CATEGORIES.items():
        if key in by_cat_labels or key in by_cat_hits:
            categories[key], m = _score(unit, by_cat_labels.get(key, []), by_cat_hits.get(key, []))
            matched += m
    n_labels = sum(r["labels"] for r in categories.values())
    n_hits = sum(r["hits"] for r in categories.values())
    tp = sum(r["tp"] for r in categories.values())
    labelled = [k for k, r in categories.items() if r["labels"]]
    return {
        "categories": categories,
        "overall": {
            "labels": n_labels,
            "hits": n_hits,
            "tp": tp,
            "precision": _ratio(matched, n_hits),
            "recall": _ratio(tp, n_labels),
            "categories_labelled": len(labelled),
            "categories_detected": sum(1 for k in labelled if categories[k]["tp"]),
            "categories_meeting_goal": sum(1 for k in labelled if meets_goal(categories[k])),
            "goal": dict(GOAL),
        },
    }
