"""Writing a city to plain files: the labels file (kept apart from the data the platform
sees) and, for inspection and the determinism check, the whole city as CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from pathlib import Path

from yibao.kit.files import write_private
from yibao.simulate.bulk import chunk_size, persons_for, size_city
from yibao.simulate.context import CityContext
from yibao.simulate.model import CATEGORIES, CityParams, Institution, Label, Person, Visit
from yibao.simulate.people import make_institutions
from yibao.simulate.settle_rows import visit_ids
from yibao.simulate.visits import build_chunk, institution_labels

#: the anomaly labels file in the data directory (kept apart from the stores)
LABELS_FILE = "simulate-labels.csv"

#: the labels file's columns (docs/simulate.md "The labels file")
LABEL_FIELDS = (
    "category",
    "unit",
    "visit_no",
    "mdtrt_id",
    "setl_id",
    "psn_no",
    "fixmedins_code",
    "feedetl_sn",
    "day",
    "detail",
)


def label_rows(labels: Iterable[Label]) -> Iterable[list[str]]:
    for lb in labels:
        mdtrt_id, setl_id, _r = visit_ids(lb.visit_no) if lb.visit_no else ("", "", "")
        yield [
            lb.category, CATEGORIES[lb.category][1], str(lb.visit_no or ""), mdtrt_id, setl_id,
            lb.psn_no or "", lb.fixmedins_code or "", lb.feedetl_sn or "",
            lb.day.isoformat() if lb.day else "", lb.detail,
        ]  # fmt: skip


def _label_order(lb: Label) -> tuple[str, int, str, int]:
    return (lb.category, lb.visit_no, lb.psn_no or "", int(lb.feedetl_sn or 0))


def write_labels(path: Path, labels: Sequence[Label]) -> int:
    """CSV, UTF-8, one row per labelled unit (a fee line, a visit, a person's visit in a
    window or a group, an institution); `mdtrt_id`/`setl_id` are those of the bulk load (a
    live load through the interface gets its ids from the server: use `visit_no`).

    The file holds `psn_no`: it is written owner-only (0600), never world-readable in between,
    like the demo fixtures (`kit.files.write_private`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(LABEL_FIELDS)
    w.writerows(label_rows(sorted(labels, key=_label_order)))
    write_private(path, buf.getvalue())
    return len(labels)


def _csv(rows: Iterable[Sequence[object]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerows(rows)
    return buf.getvalue()


def city_files(params: CityParams) -> dict[str, str]:
    """The whole city as CSV texts: institutions, persons, visits, lines, labels."""
    institutions: list[Institution] = make_institutions(params)
    persons: list[Person] = list(persons_for(params))
    ctx = CityContext(params, institutions, scale=size_city(params, persons))
    visits: list[Visit] = []
    labels: list[Label] = institution_labels(institutions)
    size = chunk_size(len(persons))
    for k, i in enumerate(range(0, len(persons), size)):
        b = build_chunk(ctx, k, persons[i : i + size])
        visits.extend(b.visits)
        labels.extend(b.labels)
    return {
        "institutions.csv": _csv(
            [(i.fixmedins_code, i.fixmedins_name, i.kind, i.hosp_lv, i.admdvs, i.parent_code or "", i.pattern or "")
             for i in institutions]
        ),
        "persons.csv": _csv(
            [(p.psn_no, p.certno, p.psn_name, p.gend, p.brdy, p.insutype, p.psn_type, p.cvlserv_flag, p.district,
              p.balc, "|".join(p.idets), "|".join(p.chronic), p.death_date or "") for p in persons]
        ),
        "visits.csv": _csv(
            [(v.visit_no, v.kind, v.med_type, v.psn_no, v.fixmedins_code, v.dept_code, v.dr_code, v.begntime,
              v.endtime or "", "|".join(c for c, _n in v.diagnoses), len(v.lines), v.total, int(v.reversed))
             for v in visits]
        ),
        "lines.csv": _csv(
            [(v.visit_no, ln.feedetl_sn, ln.hilist_code, ln.cnt, ln.pric, ln.det_item_fee_sumamt, ln.prd_days or "")
             for v in visits for ln in v.lines]
        ),
        "labels.csv": _csv(label_rows(sorted(labels, key=_label_order))),
    }  # fmt: skip


def export_city(params: CityParams, out: Path) -> dict[str, int]:
    out.mkdir(parents=True, exist_ok=True)
    sizes = {}
    for name, text in city_files(params).items():
        (out / name).write_text(text, encoding="utf-8")
        sizes[name] = text.count("\n")
    return sizes
