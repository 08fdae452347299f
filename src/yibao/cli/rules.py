"""`yibao rules …` — the rule base (规则库): list the rules, show one, explain it in Chinese."""

from __future__ import annotations

import json

import typer

from yibao.cli.common import console, fail, settings
from yibao.risk.params_io import Rule, RuleFileError, RuleSet, load_ruleset
from yibao.risk.registry import CATEGORIES, LOGICS

app = typer.Typer(
    help=(
        "规则库: 查看审核规则 (the review's rules: packaged parameter files and the data "
        "directory's risk/*.toml). docs/review.md describes every rule."
    ),
    no_args_is_help=True,
)

_RESULT = {"violation": "明确违规", "suspicious": "可疑"}
_ACTION = {
    "warn": "提醒(结算照常, 提示写入 warn_msg)",
    "selfpay": "转自费(该明细全额自费, 备注写明规则)",
    "refuse": "拒绝(交易返回 infcode -1, 写明规则)",
}
_STAGE = {"pre": "事前", "mid": "事中", "post": "事后"}
_SCENE = {"outpatient": "门诊", "inpatient": "住院", "pharmacy": "药店购药"}
_UNIT = {
    "line": "费用明细",
    "visit": "就诊",
    "person_window": "人员时间窗",
    "institution": "机构",
    "group": "群体",
}


def _rules() -> RuleSet:
    cfg = settings()
    try:
        return load_ruleset([cfg.data_dir])
    except RuleFileError as exc:
        fail(str(exc), 2)


def _rule(rule_id: str) -> Rule:
    rule = _rules().by_id(rule_id)
    if rule is None:
        fail(f"ID: 规则不存在 '{rule_id}' (no such rule; see `yibao rules list`)", 2)
    return rule


@app.command("list")
def list_cmd(
    as_json: bool = typer.Option(False, "--json", help="a JSON list, one object per rule"),
) -> None:
    """Every rule: id, category, name, stages, result type, action, parameters, dates."""
    rules = _rules().rules
    if as_json:
        typer.echo(json.dumps([r.describe() for r in rules], ensure_ascii=False, indent=1))
        return
    for r in rules:
        stages = "/".join(_STAGE[s] for s in r.stages)
        state = "" if r.enabled else " [停用 disabled]"
        console.print(
            f"{r.rule_id:8} {r.category:24} {r.name}  {_RESULT[r.result_type]} · {r.action} · "
            f"{stages}{state}",
            highlight=False,
        )
    posthoc = [c.key for c in CATEGORIES.values() if c.judged_at is None]
    console.print(
        f"仅事后判断的类别 post-only categories (`yibao risk run`): {', '.join(posthoc)}",
        highlight=False,
    )


@app.command("show")
def show_cmd(rule_id: str = typer.Argument(..., help="rule id, e.g. GEND-01")) -> None:
    """One rule as JSON (what `rules list --json` prints for it, and its source file)."""
    rule = _rule(rule_id)
    typer.echo(json.dumps({**rule.describe(), "source": rule.source}, ensure_ascii=False, indent=1))


@app.command("explain")
def explain_cmd(rule_id: str = typer.Argument(..., help="rule id, e.g. GEND-01")) -> None:
    """What the rule checks and what settlement does on a hit, in Chinese."""
    r = _rule(rule_id)
    cat = CATEGORIES[r.category]
    entry = LOGICS[r.category]
    lines = [
        f"规则 {r.rule_id} {r.name} (版本 {r.version}, {r.begndate.isoformat()} 起"
        f"{'至 ' + r.enddate.isoformat() if r.enddate else ''}{'' if r.enabled else ', 已停用'})",
        f"类别: {cat.key} {cat.name}; 判断单位: {_UNIT[cat.unit]}",
        f"检查内容: {cat.explain}",
        f"结果类型: {_RESULT[r.result_type]}; 命中后: "
        + (
            "写入疑点 rule_hit (事后, `yibao risk run`; 不影响已完成的结算)"
            if r.stages == ("post",)
            else _ACTION[r.action]
        ),
        f"审核环节: {'、'.join(_STAGE[s] for s in r.stages)}; "
        f"场景: {'、'.join(_SCENE[s] for s in r.scenes)}; "
        f"机构等级: {'、'.join(sorted(r.hosp_lv)) or '全部'}; 区划: {r.admdvs}",
    ]
    for key, spec in entry.params.items():
        value = r.params[key]
        shown = str(value).lower() if isinstance(value, bool) else str(value)
        lines.append(f"参数 {key} = {shown}: {spec.doc}")
    if cat.judged_at == "upload":
        lines.append("实时审核位置: 费用明细上传(2204/2301)及药店结算(2101/2102)时逐条判断")
    elif cat.judged_at == "settlement":
        lines.append("实时审核位置: 预结算/结算(2206/2207、2303/2304)及药店结算时按就诊判断")
    console.print("\n".join(lines), highlight=False)
