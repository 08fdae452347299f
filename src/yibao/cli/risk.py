"""`yibao risk …` — fund protection: post-hoc monitoring (事后监管; docs/monitoring.md) and
scoring detection against the synthetic city's labels (docs/simulate.md "Scoring detection").

`risk run` runs the post-hoc rules over settled claims on the columnar replica and stores their
hits in `rule_hit` (stage `post`); `risk hits` lists hits, real-time and post-hoc alike. While
`yibao serve` owns the replica the run goes through it (`POST /api/v1/risk/runs`, authorised by
the token in `<data_dir>/replica.lock`); on a stopped data directory the command opens the
replica itself. `risk evaluate` scores a detector's hits against the labels `yibao simulate
load` wrote.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from yibao.bench.risk_detectors import DETECTORS, default_detector
from yibao.bench.risk_eval import GOAL, LabelsError, evaluate, meets_goal, read_labels
from yibao.cli.common import console, fail, friendly_errors, settings
from yibao.cli.replica import _call, _is_tidb, _open_offline
from yibao.errors import InvalidInput
from yibao.monitoring.plan import CATEGORIES as POST_CATEGORIES
from yibao.monitoring.plan import check_categories
from yibao.monitoring.replay import REPLAYED
from yibao.monitoring.runner import STEPS
from yibao.replica.lock import running_owner
from yibao.replica.pseudonym import Pseudonyms
from yibao.review import posthoc
from yibao.risk.params_io import RuleFileError, load_ruleset
from yibao.risk.registry import CATEGORIES
from yibao.simulate.export import LABELS_FILE
from yibao.simulate.model import ANOMALY_KINDS
from yibao.simulate.model import CATEGORIES as SIM_CATEGORIES
from yibao.storage.engine import make_engine

app = typer.Typer(
    help=(
        "事后监管 post-hoc monitoring: run the post-hoc rules on the columnar replica "
        "(`risk run`), list rule hits, real-time and post-hoc (`risk hits`), score detection "
        "against the synthetic city (`risk evaluate`). docs/monitoring.md describes the "
        "post-hoc rules and their thresholds."
    ),
    no_args_is_help=True,
)


def _bad(exc: InvalidInput) -> None:
    fail(exc.message, 2)


def _summary_lines(s: dict[str, Any]) -> str:
    if s.get("up_to_date"):
        return (
            f"[green]无需运行 up to date[/]: 上次完整运行已覆盖至 {s['until']} "
            "(the last complete run already covers up to yesterday; give --since to rerun)"
        )
    found = ", ".join(f"{k} {v}" for k, v in s.get("by_category", {}).items()) or "-"
    return (
        f"[green]完成 done[/]: {s['since']} ~ {s['until']}; 命中 hits {s['hits_found']} "
        f"(新增 new {s['hits_new']}); {found}; run {s['run_id']}; "
        f"replica seq {s['replica_seq']}; {s.get('seconds', 0)}s"
    )


@app.command("run")
def run_cmd(
    since: str | None = typer.Option(
        None, help="first day, yyyy-MM-dd (default: the day after the last complete run)"
    ),
    until: str | None = typer.Option(None, help="last day, yyyy-MM-dd (default: yesterday)"),
    category: list[str] = typer.Option(
        [],
        "--category",
        help=f"only these categories (repeatable or comma-separated): {', '.join(POST_CATEGORIES)}",
    ),
    as_json: bool = typer.Option(False, "--json", help="print the run's summary as JSON"),
) -> None:
    """Run the post-hoc rules over the settled claims from --since to --until on the replica.

    Incremental (by default the days after the last complete run, up to yesterday) and
    idempotent (a rerun over the same days stores no hit twice). Hits go to `rule_hit` with
    stage `post`; see them with `yibao risk hits`.
    """
    try:
        first = posthoc.parse_day("--since", since)
        last = posthoc.parse_day("--until", until)
        posthoc.check_period(first, last)
        check_categories(category)
    except InvalidInput as exc:
        _bad(exc)
    cfg = settings()
    with friendly_errors():
        if _is_tidb(cfg):
            fail(
                "TiDB 上的事后监控尚不支持 (post-hoc runs read DuckDB; on TiDB they are not "
                "supported yet)"
            )
        owner = running_owner(cfg.data_dir)
        if owner is not None:
            body: dict[str, Any] = {"since": since, "until": until, "categories": category}
            with console.status("事后监控运行中 running in the server process…"):
                summary = _call(owner, "POST", "/api/v1/risk/runs", json=body)
        else:
            try:
                ruleset = load_ruleset([cfg.data_dir])
            except RuleFileError as exc:
                fail(str(exc), 2)
            replica = _open_offline(cfg)
            try:
                wanted = check_categories(category) or set(POST_CATEGORIES)
                with Progress(
                    TextColumn("[bold]{task.description}"),
                    BarColumn(),
                    MofNCompleteColumn(),
                    TimeElapsedColumn(),
                    console=console,
                    transient=as_json,
                ) as bar:
                    # one tick a detector, one for the re-run of the real-time rules
                    steps = sum(1 for s in STEPS if s.categories & wanted) + (
                        1 if wanted & set(REPLAYED) else 0
                    )
                    task = bar.add_task("事后监控 post-hoc", total=steps)

                    def progress(name: str) -> None:
                        bar.update(task, advance=1, description=f"事后监控 {name}")

                    summary = posthoc.run_on_replica(
                        replica,
                        ruleset,
                        since=first,
                        until=last,
                        categories=category,
                        run_by="cli",
                        progress=progress,
                    )
                    bar.update(task, completed=len(wanted))
            finally:
                replica.close()
    if as_json:
        typer.echo(json.dumps(summary, ensure_ascii=False, indent=1))
    else:
        console.print(_summary_lines(summary), highlight=False)


@app.command("hits")
def hits_cmd(
    as_json: bool = typer.Option(False, "--json", help="a top-level JSON list, one object per hit"),
    category: str | None = typer.Option(None, help="only this category, e.g. split_admission"),
    psn_no: str | None = typer.Option(
        None, "--psn-no", help="only this person (by psn_no, or by the pseudonym psn_ref)"
    ),
    fixmedins_code: str | None = typer.Option(
        None, "--fixmedins-code", help="only this institution"
    ),
    since: str | None = typer.Option(None, help="only hits detected on or after yyyy-MM-dd"),
) -> None:
    """Rule hits, real-time (pre/mid) and post-hoc alike, oldest first.

    Each: hit_id, rule_id, category, stage, result_type, psn_ref (the person's keyed
    pseudonym, never psn_no), fixmedins_code, mdtrt_id, setl_id (null when not applicable),
    amount, detected_at, evidence.
    """
    try:
        day = posthoc.parse_day("--since", since)
        if category is not None and category not in CATEGORIES:
            raise InvalidInput(
                f"--category: 未知的类别 '{category}' (unknown category; see `yibao rules list`)"
            )
    except InvalidInput as exc:
        _bad(exc)
    cfg = settings()
    with friendly_errors():
        pseudonyms = Pseudonyms.for_dir(cfg.data_dir)
        engine = make_engine(cfg.db_url, synchronous=cfg.sqlite_synchronous)
        try:
            with engine.connect() as conn:
                found = posthoc.hits(
                    conn,
                    pseudonyms,
                    category=category,
                    psn_no=psn_no,
                    fixmedins_code=fixmedins_code,
                    since=day,
                )
        finally:
            engine.dispose()
    if as_json:
        typer.echo(json.dumps(found, ensure_ascii=False, indent=1))
        return
    for h in found:
        console.print(
            f"{h['detected_at']} {h['stage']:4} {h['rule_id']:22} {h['category']:24} "
            f"{h['fixmedins_code'] or '-':14} {h['amount']:>12} {h['psn_ref'] or '-'}",
            highlight=False,
        )
    console.print(f"共 {len(found)} 条 (hits)", highlight=False)


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
        help=f"What to score: {', '.join(DETECTORS)} (default: platform — the real-time rules and "
        "the post-hoc detectors together, as the platform runs them).",
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
            key, SIM_CATEGORIES[key][0], row["unit"], f"{row['labels']:,}", f"{row['hits']:,}",
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
