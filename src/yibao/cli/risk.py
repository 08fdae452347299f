"""`yibao risk …` — fund protection. `risk evaluate` scores a detector against the synthetic
city's labels (docs/simulate.md "Scoring detection")."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from yibao.bench.risk_detectors import DETECTORS, default_detector
from yibao.bench.risk_eval import GOAL, LabelsError, evaluate, meets_goal, read_labels
from yibao.cli.common import console, fail, friendly_errors, settings
from yibao.simulate.export import LABELS_FILE
from yibao.simulate.model import ANOMALY_KINDS, CATEGORIES
from yibao.storage.engine import make_engine

app = typer.Typer(
    help="风险 fund protection: score detection against the city.", no_args_is_help=True
)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


@app.command("evaluate")
def evaluate_cmd(
    json_out: Path | None = typer.Option(
        None, "--json", metavar="FILE", help="Also write the report as JSON to FILE ('-': stdout)."
    ),
    labels: Path | None = typer.Option(
        None,
        "--labels",
        metavar="FILE",
        help="The labels file (default <data_dir>/simulate-labels.csv).",
    ),
    detector: str | None = typer.Option(
        None,
        "--detector",
        help=f"What to score: {', '.join(DETECTORS)} (default: the rule engine when wired, else settlement).",
    ),
) -> None:
    """评估: score a detector's hits against the labels `yibao simulate load` wrote.

    Each category is matched on its unit — a fee line, a visit, a person's window, an
    institution or a group — and gets labels, hits, true positives, precision and recall
    (the goal: recall ≥ 0.95 and precision ≥ 0.9 in every injected category).

    Example: `yibao simulate load --persons 20000 --settlements 200000` then
    `yibao risk evaluate --json risk-eval.json`.
    """
    cfg = settings()
    name = detector or default_detector()
    if name not in DETECTORS:
        fail(f"--detector: 未知检测器 '{name}' (known: {', '.join(DETECTORS)})", 2)
    path = labels or cfg.data_dir / LABELS_FILE
    try:
        rows = read_labels(path)
    except LabelsError as exc:
        fail(str(exc), 2)
    with friendly_errors():
        engine = make_engine(cfg.db_url)
        try:
            report = evaluate(rows, DETECTORS[name](cfg, engine)())
        finally:
            engine.dispose()
    report["detector"] = name
    report["labels_file"] = str(path)
    text = json.dumps(report, ensure_ascii=False, indent=1)
    if json_out is not None and str(json_out) == "-":
        typer.echo(text)
        return
    if json_out is not None:
        json_out.write_text(text + "\n", encoding="utf-8")
    table = Table(title=f"风险评估 risk evaluate — detector {name}")
    for col in ("category", "名称", "unit", "labels", "hits", "tp", "precision", "recall", ""):
        table.add_column(col)
    for key, row in report["categories"].items():
        injected = key in ANOMALY_KINDS
        mark = "✓" if meets_goal(row) else ("✗" if row["labels"] else "")
        table.add_row(
            key, CATEGORIES[key][0], row["unit"], f"{row['labels']:,}", f"{row['hits']:,}",
            f"{row['tp']:,}", _pct(row["precision"]), _pct(row["recall"]),
            mark if injected else "",
        )  # fmt: skip
    console.print(table)
    overall = report["overall"]
    console.print(
        f"overall: labels {overall['labels']:,}, hits {overall['hits']:,}, tp {overall['tp']:,}, "
        f"precision {_pct(overall['precision'])}, recall {_pct(overall['recall'])}; "
        f"{overall['categories_meeting_goal']}/{overall['categories_labelled']} categories meet "
        f"the goal (recall ≥ {GOAL['recall']}, precision ≥ {GOAL['precision']})",
        highlight=False,
    )
    if json_out is not None:
        console.print(f"JSON → {json_out}")
