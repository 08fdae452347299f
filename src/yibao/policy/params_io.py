"""Reading and validating the policy parameter files (TOML) and building a :class:`PolicyBook`.

Every number is read exactly (``tomllib`` with ``parse_float=Decimal``); every key is checked
(an unknown key is an error, so a typo cannot silently drop a parameter); every error names the
file, the key and the rule, Chinese first, then English.
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import cast

from yibao.codes.dicts import FundPayType, HospLv, MedType, PsnGroup, PsnIdetType, PsnType
from yibao.policy.book import (
    ANY_LEVEL,
    VISIT_CLASSES,
    AcctRule,
    AcctScope,
    AssistanceRule,
    AssistanceTier,
    Band,
    BandScope,
    BasicRule,
    ByLevel,
    ByLevelText,
    ClearingTerms,
    CriticalRule,
    CvlservRule,
    DedcMode,
    DedcRule,
    PolicyBook,
    PoolRule,
    PoorTilt,
    RegionVersion,
    RemoteRule,
    TopupRule,
    UnknownCodeRule,
    UnregisteredRule,
    VisitClass,
)
from yibao.policy.model import PolicyFileError

_LEVELS = frozenset(lv.value for lv in HospLv) | {ANY_LEVEL}
#: Counter names become accumulator keys ("<counter>.pool_paid"), stored with the insurance
#: type in front in a 40-character column: keep them short and plain.
_COUNTER = re.compile(r"[a-z0-9_]{1,20}")
_NO_RULES: tuple[BasicRule, ...] = ()


class _Table:
    """A TOML table with its location, for precise error messages."""

    def __init__(self, data: object, where: str, source: str):
        if not isinstance(data, dict):
            raise PolicyFileError(f"{source}: {where}: 应为表 (expected a table)")
        self.data: dict[str, object] = data
        self.where = where
        self.source = source

    def fail(self, key: str, zh: str, en: str) -> PolicyFileError:
        at = f"{self.where}.{key}" if self.where else key
        return PolicyFileError(f"{self.source}: {at}: {zh} ({en})")

    def only(self, *allowed: str) -> None:
        for key in self.data:
            if key not in allowed:
                raise self.fail(key, "未知参数", f"unknown key; allowed: {', '.join(allowed)}")

    def has(self, key: str) -> bool:
        return key in self.data

    def table(self, key: str) -> _Table | None:
        if key not in self.data:
            return None
        return _Table(self.data[key], f"{self.where}.{key}" if self.where else key, self.source)

    def tables(self, key: str) -> list[_Table]:
        value = self.data.get(key, [])
        if not isinstance(value, list):
            raise self.fail(key, "应为表数组", f"expected an array of tables [[{key}]]")
        base = f"{self.where}.{key}" if self.where else key
        return [_Table(item, f"{base}[{i}]", self.source) for i, item in enumerate(value)]

    def text(self, key: str, default: str | None = None) -> str:
        value = self.data.get(key, default)
        if value is None:
            raise self.fail(key, "缺少参数", "required")
        if not isinstance(value, str):
            raise self.fail(key, "应为字符串", "expected a string")
        return value

    def choice(self, key: str, allowed: Iterable[str], default: str | None = None) -> str:
        value = self.text(key, default)
        options = list(allowed)
        if value not in options:
            raise self.fail(key, f"取值 '{value}' 无效", f"must be one of {', '.join(options)}")
        return value

    def texts(
        self, key: str, allowed: Iterable[str] | None = None, *, empty: bool = False
    ) -> frozenset[str] | None:
        """A string or a list of strings; None when absent."""
        if key not in self.data:
            return None
        value = self.data[key]
        items = [value] if isinstance(value, str) else value
        if (
            not isinstance(items, list)
            or (not items and not empty)
            or not all(isinstance(x, str) for x in items)
        ):
            raise self.fail(key, "应为非空字符串列表", "expected a string or a non-empty list")
        result = frozenset(cast(list[str], items))
        if allowed is not None:
            options = set(allowed)
            for item in result:
                if item not in options:
                    raise self.fail(
                        key, f"取值 '{item}' 无效", f"must be among {', '.join(sorted(options))}"
                    )
        return result

    def req_texts(self, key: str, allowed: Iterable[str] | None = None) -> frozenset[str]:
        result = self.texts(key, allowed)
        if result is None:
            raise self.fail(key, "缺少参数", "required")
        return result

    def flag(self, key: str, default: bool) -> bool:
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(key, "应为 true/false", "expected a boolean")
        return value

    def integer(self, key: str) -> int | None:
        value = self.data.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise self.fail(key, "应为非负整数", "expected a non-negative integer")
        return value

    def day(self, key: str, *, required: bool) -> date | None:
        value = self.data.get(key)
        if value is None:
            if required:
                raise self.fail(key, "缺少日期", "required date, e.g. 2024-01-01")
            return None
        if not isinstance(value, date):
            raise self.fail(key, "应为日期", "expected a TOML date, e.g. 2024-01-01")
        return value

    def _number(self, key: str, value: object, *, ratio: bool) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            raise self.fail(key, "应为数字", "expected a number")
        number = Decimal(value)
        if not number.is_finite() or number < 0:
            raise self.fail(key, "应为非负数", "expected a non-negative number")
        if ratio and number > 1:
            raise self.fail(key, "比例须在0到1之间", f"a ratio must lie in [0, 1], got {number}")
        if not ratio and number != number.quantize(Decimal("0.01")):
            raise self.fail(
                key, "金额最多两位小数", f"an amount has at most two decimals: {number}"
            )
        return number if ratio else number.quantize(Decimal("0.01"))

    def amount(self, key: str, default: Decimal | None = None) -> Decimal:
        if key not in self.data:
            if default is None:
                raise self.fail(key, "缺少参数", "required")
            return default
        return self._number(key, self.data[key], ratio=False)

    def opt_amount(self, key: str) -> Decimal | None:
        return None if key not in self.data else self.amount(key)

    def ratio(self, key: str, default: Decimal | None = None) -> Decimal:
        if key not in self.data:
            if default is None:
                raise self.fail(key, "缺少参数", "required")
            return default
        return self._number(key, self.data[key], ratio=True)

    def by_level(self, key: str, *, ratio: bool, what: str) -> ByLevel:
        if key not in self.data:
            raise self.fail(key, "缺少参数", "required")
        value = self.data[key]
        if isinstance(value, dict):
            values: dict[str, Decimal] = {}
            for lv, item in value.items():
                if lv not in _LEVELS:
                    raise self.fail(
                        f"{key}.{lv}", "机构等级无效", f"level keys: {', '.join(sorted(_LEVELS))}"
                    )
                values[lv] = self._number(f"{key}.{lv}", item, ratio=ratio)
            if not values:
                raise self.fail(key, "不能为空", "empty level table")
            return ByLevel(values, what)
        return ByLevel.of(self._number(key, value, ratio=ratio), what)

    def counter(self, key: str) -> str:
        """An accumulator counter name (the prefix of its keys); "" when absent."""
        value = self.text(key, "")
        if value and not _COUNTER.fullmatch(value):
            raise self.fail(key, f"计数器名 '{value}' 无效", "counter names are 1-20 of [a-z0-9_]")
        return value

    def by_level_text(self, key: str) -> ByLevelText:
        """A counter name, or a table of counter names by level."""
        value = self.data.get(key)
        if value is None:
            return ByLevelText({})
        if isinstance(value, str):
            return ByLevelText({ANY_LEVEL: self.counter(key)})
        if isinstance(value, dict) and all(
            lv in _LEVELS and isinstance(v, str) and _COUNTER.fullmatch(v)
            for lv, v in value.items()
        ):
            return ByLevelText(cast(dict[str, str], value))
        raise self.fail(
            key,
            "应为计数器名或按机构等级的计数器名表",
            "expected a counter name (1-20 of [a-z0-9_]) or a table of them by level",
        )


def _bands(t: _Table, key: str, what: str) -> tuple[Band, ...]:
    bands: list[Band] = []
    items = t.tables(key)
    if not items:
        raise t.fail(key, "至少需要一个分段", f"at least one [[...{key}]] band is required")
    previous = Decimal(0)
    for i, b in enumerate(items):
        b.only("upto", "ratio", "note")
        upto = b.opt_amount("upto")
        if upto is None and i != len(items) - 1:
            raise b.fail("upto", "只有最后一段可以不设上限", "only the last band may omit upto")
        if upto is not None and upto <= previous:
            raise b.fail("upto", "分段上限须递增", f"band bounds must increase (> {previous})")
        bands.append(Band(upto, b.by_level("ratio", ratio=True, what=f"{what}.ratio")))
        previous = upto if upto is not None else previous
    return tuple(bands)


def _scope(t: _Table) -> tuple[frozenset[str], frozenset[str]]:
    insutypes = t.req_texts("insutype")
    for ins in insutypes:
        if not (ins.isdigit() and 3 <= len(ins) <= 6):
            raise t.fail("insutype", f"险种 '{ins}' 无效", "insutype is 3-6 digits")
    return insutypes, t.req_texts("visit_class", VISIT_CLASSES)


def _rule(t: _Table, index: int) -> BasicRule:
    t.only(
        "id", "insutype", "psn_group", "visit_class", "psn_type", "age_min", "age_max",
        "dedc", "pool", "acct", "note",
    )  # fmt: skip
    rid = t.text("id", f"rule{index}")
    insutypes, classes = _scope(t)
    groups = t.req_texts("psn_group", [g.value for g in PsnGroup])
    psn_types = t.texts("psn_type", [p.value for p in PsnType])
    age_min, age_max = t.integer("age_min"), t.integer("age_max")
    if age_min is not None and age_max is not None and age_min > age_max:
        raise t.fail("age_max", "年龄上限小于下限", "age_max < age_min")

    d = t.table("dedc") or _Table({}, f"{t.where}.dedc", t.source)
    d.only("mode", "amount", "later", "counter", "note")
    mode = cast(DedcMode, d.choice("mode", ["none", "annual", "admission"], "none"))
    zero = ByLevel.of(Decimal(0), f"{rid}.dedc")
    amount = zero if mode == "none" else d.by_level("amount", ratio=False, what=f"{rid}.dedc")
    later = d.by_level("later", ratio=False, what=f"{rid}.dedc.later") if d.has("later") else amount
    if d.has("later") and mode != "admission":
        raise d.fail("later", "仅 admission 模式可用", "only for mode = 'admission'")
    dedc = DedcRule(mode, amount, later, d.by_level_text("counter"))

    pool: PoolRule | None = None
    p = t.table("pool")
    if p is not None:
        p.only("band", "cap", "band_scope", "band_counter", "cap_counter", "fund_type", "note")
        fund = p.texts("fund_type", [f.value for f in FundPayType])
        if fund is not None and len(fund) != 1:
            raise p.fail("fund_type", "只能有一个基金类型", "a single fund_pay_type")
        pool = PoolRule(
            bands=_bands(p, "band", f"{rid}.pool"),
            cap=p.opt_amount("cap"),
            band_scope=cast(BandScope, p.choice("band_scope", ["annual", "visit"], "annual")),
            band_counter=p.by_level_text("band_counter"),
            cap_counter=p.counter("cap_counter"),
            fund_type=FundPayType(next(iter(fund))) if fund else None,
        )

    a = t.table("acct") or _Table({}, f"{t.where}.acct", t.source)
    a.only("scope", "family_share", "note")
    acct = AcctRule(
        scope=cast(AcctScope, a.choice("scope", ["none", "inscp", "inscp_pre", "all"], "none")),
        family_share=a.flag("family_share", False),
    )
    return BasicRule(
        id=rid,
        insutypes=insutypes,
        psn_groups=groups,
        visit_classes=classes,
        psn_types=psn_types,
        age_min=age_min,
        age_max=age_max,
        dedc=dedc,
        pool=pool,
        acct=acct,
    )


def _topup(t: _Table, index: int) -> TopupRule:
    t.only("id", "insutype", "visit_class", "ratio", "cap", "note")
    insutypes, classes = _scope(t)
    rid = t.text("id", f"topup{index}")
    return TopupRule(
        rid, insutypes, classes, t.by_level("ratio", ratio=True, what=rid), t.opt_amount("cap")
    )


def _identities(t: _Table, key: str) -> frozenset[str]:
    return t.req_texts(key, [i.value for i in PsnIdetType])


def _critical(t: _Table, index: int) -> CriticalRule:
    t.only("id", "insutype", "visit_class", "dedc", "band", "cap", "poor", "note")
    insutypes, classes = _scope(t)
    rid = t.text("id", f"critical{index}")
    poor: PoorTilt | None = None
    p = t.table("poor")
    if p is not None:
        p.only("identities", "dedc_factor", "ratio_bonus", "no_cap", "note")
        poor = PoorTilt(
            identities=_identities(p, "identities"),
            dedc_factor=p.ratio("dedc_factor", Decimal(1)),
            ratio_bonus=p.ratio("ratio_bonus", Decimal(0)),
            no_cap=p.flag("no_cap", False),
        )
    return CriticalRule(
        id=rid,
        insutypes=insutypes,
        visit_classes=classes,
        dedc=t.amount("dedc"),
        bands=_bands(t, "band", rid),
        cap=t.opt_amount("cap"),
        poor=poor,
    )


def _assistance(t: _Table, index: int) -> AssistanceRule:
    t.only("id", "insutype", "visit_class", "tier", "note")
    insutypes, classes = _scope(t)
    rid = t.text("id", f"assistance{index}")
    tiers: list[AssistanceTier] = []
    for tier in t.tables("tier"):
        tier.only("identities", "ratio", "dedc", "limit", "note")
        tiers.append(
            AssistanceTier(
                identities=_identities(tier, "identities"),
                ratio=tier.ratio("ratio"),
                dedc=tier.amount("dedc", Decimal(0)),
                limit=tier.opt_amount("limit"),
            )
        )
    if not tiers:
        raise t.fail("tier", "至少需要一档", "at least one [[assistance.tier]] is required")
    return AssistanceRule(rid, insutypes, classes, tuple(tiers))


def _cvlserv(t: _Table, index: int) -> CvlservRule:
    t.only("id", "insutype", "visit_class", "ratio", "cap", "note")
    insutypes, classes = _scope(t)
    rid = t.text("id", f"cvlserv{index}")
    return CvlservRule(
        rid, insutypes, classes, t.by_level("ratio", ratio=True, what=rid), t.opt_amount("cap")
    )


def _ages_overlap(a: BasicRule, b: BasicRule) -> bool:
    lo = max(a.age_min or 0, b.age_min or 0)
    hi = min(
        a.age_max if a.age_max is not None else 999, b.age_max if b.age_max is not None else 999
    )
    return lo <= hi


def _check_rules(rules: Sequence[BasicRule], source: str) -> None:
    for i, a in enumerate(rules):
        for b in rules[i + 1 :]:
            if (
                a.specificity == b.specificity
                and a.insutypes & b.insutypes
                and a.psn_groups & b.psn_groups
                and a.visit_classes & b.visit_classes
                and (a.psn_types is None or b.psn_types is None or a.psn_types & b.psn_types)
                and _ages_overlap(a, b)
            ):
                raise PolicyFileError(
                    f"{source}: 规则 '{a.id}' 与 '{b.id}' 适用范围重叠 "
                    f"(rules '{a.id}' and '{b.id}' both apply to the same persons and visits; "
                    "narrow one with psn_type or age_min/age_max)"
                )


def _check_layers(kind: str, rules: Sequence[TopupRule | CriticalRule | AssistanceRule | CvlservRule],
                  source: str) -> None:  # fmt: skip
    for i, a in enumerate(rules):
        for b in rules[i + 1 :]:
            if a.insutypes & b.insutypes and a.visit_classes & b.visit_classes:
                raise PolicyFileError(
                    f"{source}: [[{kind}]] '{a.id}' 与 '{b.id}' 适用范围重叠 "
                    f"([[{kind}]] '{a.id}' and '{b.id}' overlap on insutype and visit_class)"
                )


def _clearing(t: _Table | None) -> ClearingTerms:
    """[clearing]: the quality-deposit rate (a fraction, 0 ≤ rate < 1) and the exempt funds."""
    if t is None:
        return ClearingTerms()
    t.only("quality_deposit_rate", "deposit_exempt_funds", "note")
    rate = t.ratio("quality_deposit_rate", Decimal("0"))
    if rate >= 1:
        raise t.fail("quality_deposit_rate", "质量保证金比例应小于1", "the rate is below 1")
    exempt = t.texts("deposit_exempt_funds", empty=True) or frozenset()
    for code in exempt:
        if not FundPayType.has(code):
            raise t.fail(
                "deposit_exempt_funds", f"'{code}' 不是基金支付类型", "not a fund_pay_type"
            )
    return ClearingTerms(quality_deposit_rate=rate, deposit_exempt_funds=frozenset(exempt))


def _remote(t: _Table | None) -> RemoteRule:
    """``[remote]``: 异地就医 without a registration — refused, or the pool's ratios cut."""
    if t is None:
        return RemoteRule()
    t.only("unregistered", "unregistered_ratio_cut", "note")
    mode = cast(UnregisteredRule, t.choice("unregistered", ["refuse", "reduce"], "refuse"))
    cut = t.ratio("unregistered_ratio_cut", Decimal(0))
    if mode == "reduce" and not cut:
        raise t.fail(
            "unregistered_ratio_cut",
            'unregistered = "reduce" 时须给出降低的比例',
            'required (> 0) when unregistered is "reduce"',
        )
    if mode == "refuse" and cut:
        raise t.fail(
            "unregistered_ratio_cut",
            'unregistered = "refuse" 时不得给出比例',
            'only with unregistered = "reduce"',
        )
    return RemoteRule(unregistered=mode, unregistered_ratio_cut=cut)


def parse_version(text: str, source: str = "<text>") -> RegionVersion:
    """Parse and validate one parameter file."""
    try:
        raw = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyFileError(f"{source}: TOML 语法错误 (TOML syntax error: {exc})") from exc
    top = _Table(raw, "", source)
    top.only("region", "remote", "rule", "topup", "critical", "assistance", "cvlserv", "clearing")
    region = top.table("region")
    if region is None:
        raise top.fail("region", "缺少 [region] 表", "a [region] table is required")
    region.only(
        "admdvs", "name", "covers", "version", "begndate", "enddate", "unknown_code",
        "med_type_class", "sources", "note",
    )  # fmt: skip
    admdvs = region.text("admdvs")
    if not (len(admdvs) == 6 and admdvs.isdigit()):
        raise region.fail("admdvs", "医保区划应为6位数字", "admdvs is 6 digits")
    covers = region.texts("covers", empty=True)
    if covers is None:
        covers = frozenset({admdvs[:4]}) if admdvs.endswith(("99", "00")) else frozenset()
    for prefix in covers:
        if not (prefix.isdigit() and 2 <= len(prefix) <= 6):
            raise region.fail("covers", f"'{prefix}' 无效", "covers lists 2-6 digit prefixes")
    begndate = region.day("begndate", required=True)
    assert begndate is not None
    enddate = region.day("enddate", required=False)
    if enddate is not None and enddate < begndate:
        raise region.fail("enddate", "结束日期早于开始日期", "enddate before begndate")
    mtc: dict[str, VisitClass] = {}
    m = region.table("med_type_class")
    if m is not None:
        for code in m.data:
            if not MedType.has(code):
                raise m.fail(code, "医疗类别无效", "not a med_type")
            mtc[code] = cast(VisitClass, m.choice(code, VISIT_CLASSES))
    rules = tuple(_rule(t, i) for i, t in enumerate(top.tables("rule")))
    if rules == _NO_RULES:
        raise top.fail("rule", "至少需要一条 [[rule]]", "at least one [[rule]] is required")
    version = RegionVersion(
        admdvs=admdvs,
        name=region.text("name", admdvs),
        covers=tuple(sorted(covers)),
        version=region.text("version", begndate.isoformat()),
        begndate=begndate,
        enddate=enddate,
        unknown_code=cast(
            UnknownCodeRule, region.choice("unknown_code", ["refuse", "self_pay"], "self_pay")
        ),
        med_type_class=mtc,
        rules=rules,
        topups=tuple(_topup(t, i) for i, t in enumerate(top.tables("topup"))),
        criticals=tuple(_critical(t, i) for i, t in enumerate(top.tables("critical"))),
        assistances=tuple(_assistance(t, i) for i, t in enumerate(top.tables("assistance"))),
        cvlservs=tuple(_cvlserv(t, i) for i, t in enumerate(top.tables("cvlserv"))),
        source=source,
        clearing=_clearing(top.table("clearing")),
        remote=_remote(top.table("remote")),
    )
    ids = [r.id for r in version.rules]
    if len(ids) != len(set(ids)):
        raise PolicyFileError(f"{source}: 规则 id 重复 (duplicate rule ids: {ids})")
    _check_rules(version.rules, source)
    _check_layers("topup", version.topups, source)
    _check_layers("critical", version.criticals, source)
    _check_layers("assistance", version.assistances, source)
    _check_layers("cvlserv", version.cvlservs, source)
    return version


def check_layer(versions: Sequence[RegionVersion]) -> tuple[RegionVersion, ...]:
    """Refuse two versions of the same region whose validity intervals overlap."""
    for i, a in enumerate(versions):
        for b in versions[i + 1 :]:
            if a.admdvs != b.admdvs:
                continue
            a_end = a.enddate or date.max
            b_end = b.enddate or date.max
            if a.begndate <= b_end and b.begndate <= a_end:
                raise PolicyFileError(
                    f"{a.source} 与 {b.source}: 区划 {a.admdvs} 的有效期重叠 "
                    f"(two versions of admdvs {a.admdvs} overlap in validity; "
                    "end the older one with enddate)"
                )
    return tuple(sorted(versions, key=lambda v: (v.admdvs, v.begndate)))


def load_dir(folder: Path) -> tuple[RegionVersion, ...]:
    """Every ``*.toml`` of a folder (none if the folder does not exist)."""
    if not folder.is_dir():
        return ()
    versions = [
        parse_version(path.read_text(encoding="utf-8"), str(path))
        for path in sorted(folder.glob("*.toml"))
    ]
    return check_layer(versions)


@functools.cache
def packaged_versions() -> tuple[RegionVersion, ...]:
    """The parameter files shipped in ``yibao/policy/params/`` (read once, on first use)."""
    folder = resources.files("yibao.policy").joinpath("params")
    versions = [
        parse_version(item.read_text(encoding="utf-8"), f"yibao/policy/params/{item.name}")
        for item in sorted(folder.iterdir(), key=lambda x: x.name)
        if item.name.endswith(".toml")
    ]
    return check_layer(versions)


def load_book(extra_dirs: Sequence[str | Path] = (), *, packaged: bool = True) -> PolicyBook:
    """Load the packaged parameter files and those of each data directory.

    For each entry of ``extra_dirs``, the ``*.toml`` files of its ``policy/`` folder are read
    (a directory without one adds nothing). Later entries take precedence over earlier ones,
    and every data directory over the packaged files: for a region and a date, the first layer
    holding a version valid on that date wins. Raises
    :class:`~yibao.policy.model.PolicyFileError` on a malformed file.
    """
    layers = [load_dir(Path(entry) / "policy") for entry in reversed(list(extra_dirs))]
    if packaged:
        layers.append(packaged_versions())
    return PolicyBook(layers)


def book_from_texts(*texts: str, packaged: bool = False) -> PolicyBook:
    """A book from parameter texts (tests, tools): one layer, before the packaged files."""
    layer = check_layer([parse_version(t, f"<text {i}>") for i, t in enumerate(texts)])
    return PolicyBook([layer, packaged_versions()] if packaged else [layer])


def describe(version: RegionVersion) -> Mapping[str, object]:
    """A short summary of a version (CLI listings)."""
    return {
        "admdvs": version.admdvs,
        "name": version.name,
        "version": version.version,
        "begndate": version.begndate.isoformat(),
        "enddate": version.enddate.isoformat() if version.enddate else None,
        "rules": [r.id for r in version.rules],
        "source": version.source,
    }
