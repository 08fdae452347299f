"""The rule base's parameter files: one TOML file per region version, like the policy's
(`risk/params/110199_2025.toml`; a data directory's `risk/*.toml` come before the packaged ones).

Every key is checked (an unknown key is an error: a typo must not silently drop a threshold),
numbers are read exactly, and an error names the file and the key, Chinese first — `yibao
serve` stops on it with that one line. The format is in docs/review.md.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from importlib import resources
from pathlib import Path

from yibao.codes.dicts import InstitutionKind
from yibao.risk import posthoc as _posthoc  # noqa: F401  (registers the post-only categories)
from yibao.risk import rules as _rules  # noqa: F401  (registers every logic)
from yibao.risk.model import ACTIONS, RESULT_TYPES, SCENES, Action, ResultType, Scene, Stage
from yibao.risk.registry import CATEGORIES, LOGICS, ParamSpec, ParamValue

#: the institution types a rule may be scoped to: the kinds of 定点医药机构 (hospital, clinic,
#: pharmacy), as the institution register records them
INSTITUTION_KINDS: tuple[str, ...] = tuple(k.value for k in InstitutionKind)


class RuleFileError(ValueError):
    """A rule parameter file does not validate; the message names the file and the key."""


@dataclass(frozen=True, slots=True)
class Rule:
    rule_id: str
    category: str
    name: str
    version: str
    result_type: ResultType
    action: Action
    stages: tuple[Stage, ...]
    scenes: tuple[Scene, ...]
    #: institution levels the rule applies at (empty: every level)
    hosp_lv: frozenset[str]
    #: institution types (综合/中医/专科 …; empty: every type)
    fixmedins_types: frozenset[str]
    begndate: date
    enddate: date | None
    enabled: bool
    params: Mapping[str, ParamValue]
    #: the file's region and the admdvs prefixes it covers
    admdvs: str
    covers: tuple[str, ...]
    source: str = ""
    memo: str = ""

    @property
    def threshold_param(self) -> str | None:
        return LOGICS[self.category].threshold

    @property
    def threshold(self) -> str:
        key = self.threshold_param
        return _show(self.params[key]) if key else ""

    def valid_on(self, day: date) -> bool:
        return self.begndate <= day and (self.enddate is None or day <= self.enddate)

    def covers_region(self, admdvs: str) -> bool:
        return admdvs == self.admdvs or any(admdvs.startswith(p) for p in self.covers)

    def describe(self) -> dict[str, object]:
        """The rule as `yibao rules list --json` prints it."""
        return {
            "rule_id": self.rule_id,
            "category": self.category,
            "name": self.name,
            "stages": list(self.stages),
            "result_type": self.result_type,
            "action": self.action,
            "params": {k: _json(v) for k, v in self.params.items()},
            "enabled": self.enabled,
            "version": self.version,
            "begndate": self.begndate.isoformat(),
            "enddate": self.enddate.isoformat() if self.enddate else None,
            "scenes": list(self.scenes),
            "hosp_lv": sorted(self.hosp_lv),
            "admdvs": self.admdvs,
            "unit": CATEGORIES[self.category].unit,
        }


def _show(value: ParamValue) -> str:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, tuple):
        return ",".join(value)
    return str(value).lower() if isinstance(value, bool) else str(value)


def _json(value: ParamValue) -> object:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, tuple):
        return list(value)
    return value


@dataclass(frozen=True, slots=True)
class RuleSet:
    """Every loaded rule; `applicable` picks those for a region, date, stage and scene."""

    rules: tuple[Rule, ...] = ()
    sources: tuple[str, ...] = field(default=())
    #: `chosen`'s answers: the same few keys recur on every call of a day (the set is
    #: immutable, so an answer never goes stale; bounded, a day at a time)
    _chosen: dict[tuple[object, ...], tuple[Rule, ...]] = field(
        default_factory=dict, compare=False, repr=False, hash=False
    )

    def chosen(
        self, key: tuple[object, ...], choose: Callable[[], Sequence[Rule]]
    ) -> tuple[Rule, ...]:
        """`choose()`'s rules, worked out once per `key` (a caller's narrowing of
        `applicable`, e.g. by institution kind: the same few keys recur all day)."""
        found = self._chosen.get(key)
        if found is None:
            found = tuple(choose())
            if len(self._chosen) >= 4096:
                self._chosen.clear()
            self._chosen[key] = found
        return found

    def by_id(self, rule_id: str) -> Rule | None:
        for r in self.rules:
            if r.rule_id == rule_id:
                return r
        return None

    def applicable(
        self, *, admdvs: str, day: date, stage: Stage, scene: Scene, hosp_lv: str
    ) -> list[Rule]:
        return [
            r
            for r in self.rules
            if r.enabled
            and stage in r.stages
            and scene in r.scenes
            and (not r.hosp_lv or hosp_lv in r.hosp_lv)
            and r.valid_on(day)
            and r.covers_region(admdvs)
        ]


class _T:
    def __init__(self, data: object, where: str, source: str) -> None:
        if not isinstance(data, dict):
            raise RuleFileError(f"{source}: {where}: 应为表 (expected a table)")
        self.data: dict[str, object] = data
        self.where = where
        self.source = source

    def fail(self, key: str, zh: str, en: str) -> RuleFileError:
        at = f"{self.where}.{key}" if self.where else key
        return RuleFileError(f"{self.source}: {at}: {zh} ({en})")

    def only(self, *allowed: str) -> None:
        for key in self.data:
            if key not in allowed:
                raise self.fail(key, "未知参数", f"unknown key; allowed: {', '.join(allowed)}")

    def text(self, key: str, default: str | None = None) -> str:
        value = self.data.get(key, default)
        if value is None:
            raise self.fail(key, "缺少参数", "required")
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, "应为非空字符串", "expected a non-empty string")
        return value

    def choice(self, key: str, allowed: Sequence[str], default: str | None = None) -> str:
        value = self.text(key, default)
        if value not in allowed:
            raise self.fail(key, f"取值 '{value}' 无效", f"must be one of {', '.join(allowed)}")
        return value

    def texts(self, key: str, allowed: Sequence[str] | None = None) -> tuple[str, ...] | None:
        if key not in self.data:
            return None
        value = self.data[key]
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not all(isinstance(x, str) for x in items):
            raise self.fail(key, "应为字符串列表", "expected a list of strings")
        for item in items:
            if allowed is not None and item not in allowed:
                raise self.fail(key, f"取值 '{item}' 无效", f"must be among {', '.join(allowed)}")
        return tuple(items)

    def day(self, key: str, *, required: bool) -> date | None:
        value = self.data.get(key)
        if value is None:
            if required:
                raise self.fail(key, "缺少日期", "required date, e.g. 2025-01-01")
            return None
        if not isinstance(value, date):
            raise self.fail(key, "应为日期", "expected a TOML date, e.g. 2025-01-01")
        return value

    def flag(self, key: str, default: bool) -> bool:
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(key, "应为 true 或 false", "expected a boolean")
        return value


def _param(t: _T, key: str, spec: ParamSpec) -> ParamValue:
    value = t.data[key]
    if spec.kind == "decimal":
        if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
            raise t.fail(key, "应为数值", "expected a number")
        out = Decimal(value)
        if out < 0:
            raise t.fail(key, "不能为负数", "must not be negative")
        return out
    if spec.kind == "int":
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise t.fail(key, "应为非负整数", "expected a non-negative integer")
        return value
    if spec.kind == "bool":
        if not isinstance(value, bool):
            raise t.fail(key, "应为 true 或 false", "expected a boolean")
        return value
    if spec.kind == "strs":
        found = t.texts(key, spec.choices or None)
        assert found is not None
        return found
    if not isinstance(value, str):
        raise t.fail(key, "应为字符串", "expected a string")
    return value


_RULE_KEYS = (
    "id", "category", "name", "version", "result_type", "action", "stages", "scenes",
    "hosp_lv", "fixmedins_types", "begndate", "enddate", "enabled", "params", "memo",
)  # fmt: skip


def parse_rules(text: str, source: str) -> list[Rule]:
    """The rules of one parameter file; RuleFileError names the first bad key."""
    try:
        data = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        raise RuleFileError(f"{source}: TOML 语法错误 (syntax error: {exc})") from None
    top = _T(data, "", source)
    top.only("ruleset", "rule")
    if "ruleset" not in top.data:
        raise top.fail("ruleset", "缺少 [ruleset] 表", "a [ruleset] table is required")
    head = _T(top.data["ruleset"], "ruleset", source)
    head.only("admdvs", "name", "covers", "version", "begndate", "enddate", "sources")
    admdvs = head.text("admdvs")
    if len(admdvs) != 6 or not admdvs.isdigit():
        raise head.fail("admdvs", f"医保区划应为6位数字 '{admdvs}'", "a 6-digit admdvs")
    covers = head.texts("covers") or ()
    set_version = head.text("version")
    set_begn = head.day("begndate", required=True)
    set_end = head.day("enddate", required=False)
    head.texts("sources")
    if "name" in head.data:
        head.text("name")
    assert set_begn is not None
    raw = top.data.get("rule", [])
    if not isinstance(raw, list) or not raw:
        raise top.fail("rule", "至少需要一条 [[rule]]", "expected an array of tables [[rule]]")
    out: list[Rule] = []
    seen: set[str] = set()
    for i, item in enumerate(raw):
        t = _T(item, f"rule[{i}]", source)
        t.only(*_RULE_KEYS)
        rule_id = t.text("id")
        if rule_id in seen:
            raise t.fail("id", f"规则编号重复 '{rule_id}'", "duplicate rule id")
        seen.add(rule_id)
        category = t.choice("category", list(CATEGORIES))
        cat = CATEGORIES[category]
        entry = LOGICS.get(category)
        if entry is None:
            raise t.fail(
                "category",
                f"类别 {category} 没有实时规则逻辑(事后规则)",
                "no real-time logic is registered for this category; it is judged post-hoc",
            )
        stages_raw = t.texts("stages", [s for s in ("pre", "mid", "post")])
        stages: tuple[Stage, ...] = tuple(stages_raw) if stages_raw else cat.stages  # type: ignore[arg-type]
        for s in stages:
            if s not in cat.stages:
                raise t.fail(
                    "stages",
                    f"类别 {category} 不能在 {s} 环节判断",
                    f"{category} can be judged at {', '.join(cat.stages)} only",
                )
        action = t.choice("action", list(ACTIONS))
        if action == "selfpay" and cat.unit != "line":
            raise t.fail(
                "action",
                "只有按明细判断的规则可以转自费",
                f"selfpay moves a fee line; {category} is judged per {cat.unit}",
            )
        scenes_raw = t.texts("scenes", list(SCENES))
        params_t = _T(t.data.get("params", {}), f"rule[{i}].params", source)
        params_t.only(*entry.params)
        params: dict[str, ParamValue] = {}
        for key, spec in entry.params.items():
            if key in params_t.data:
                params[key] = _param(params_t, key, spec)
            elif spec.default is None:
                raise params_t.fail(key, "缺少参数", f"required: {spec.doc}")
            else:
                params[key] = spec.default
        begn = t.day("begndate", required=False) or set_begn
        end = t.day("enddate", required=False) or set_end
        if end is not None and end < begn:
            raise t.fail("enddate", "终止日期早于开始日期", "enddate before begndate")
        out.append(
            Rule(
                rule_id=rule_id,
                category=category,
                name=t.text("name", cat.name),
                version=t.text("version", set_version),
                result_type=t.choice("result_type", list(RESULT_TYPES)),  # type: ignore[arg-type]
                action=action,  # type: ignore[arg-type]
                stages=stages,
                scenes=tuple(scenes_raw) if scenes_raw else SCENES,  # type: ignore[arg-type]
                hosp_lv=frozenset(t.texts("hosp_lv") or ()),
                fixmedins_types=frozenset(t.texts("fixmedins_types", INSTITUTION_KINDS) or ()),
                begndate=begn,
                enddate=end,
                enabled=t.flag("enabled", True),
                params=params,
                admdvs=admdvs,
                covers=covers,
                source=source,
                memo=t.data.get("memo", "") if isinstance(t.data.get("memo", ""), str) else "",  # type: ignore[arg-type]
            )
        )
    return out


def packaged_files() -> list[tuple[str, str]]:
    root = resources.files("yibao.risk") / "params"
    return sorted(
        (f"risk/params/{p.name}", p.read_text(encoding="utf-8"))
        for p in root.iterdir()
        if p.name.endswith(".toml")
    )


def load_ruleset(extra_dirs: Sequence[str | Path] = (), *, packaged: bool = True) -> RuleSet:
    """The packaged files and each data directory's `risk/*.toml`. A data directory's rule with
    the id of a packaged one replaces it (a region tunes a threshold by re-declaring the rule).
    Raises RuleFileError on the first file that does not validate."""
    files: list[tuple[str, str]] = packaged_files() if packaged else []
    for entry in extra_dirs:
        folder = Path(entry) / "risk"
        if folder.is_dir():
            for p in sorted(folder.glob("*.toml")):
                files.append((str(p), p.read_text(encoding="utf-8")))
    by_id: dict[str, Rule] = {}
    for source, text in files:
        for rule in parse_rules(text, source):
            by_id[rule.rule_id] = rule
    return RuleSet(tuple(by_id.values()), tuple(s for s, _ in files))


def ruleset_from_texts(*texts: str) -> RuleSet:
    """A rule set from parameter texts (tests, tools)."""
    rules: list[Rule] = []
    for i, text in enumerate(texts):
        rules.extend(parse_rules(text, f"<text {i}>"))
    return RuleSet(tuple(rules))
