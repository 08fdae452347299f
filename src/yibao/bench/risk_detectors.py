"""Detectors `yibao risk evaluate` can score, by name.

`settlement` — what settlement already records on every fee line, read back from the row
store: a line the catalog's restrictions made self-paid (the forced self-pay marker in
`fee_detail.flags`, the reason in its `memo`), a code unknown to the catalog (目录外, no
catalog name) and a price above the catalog's cap (`overlmt_amt` > 0). It is the platform's
review before the rule base: it knows nothing of visit patterns, institutions or groups.

`posthoc` — the post-hoc monitoring detectors (`yibao.monitoring`, issue 19) over the
columnar replica for the whole loaded period, and the real-time line rules re-run over the
settled bills there (`review.post_replay`), as `yibao risk run` plans them: the rule base's
post rules (the packaged file and the data directory's `risk/*.toml`) with the demo knowledge
base (`simulate/risk_kb_demo.json`: its windows and frequency limits). Their hits name persons by pseudonym (`psn_ref`); to score
them against the labels the harness maps the pseudonyms back with the data directory's key
(`Pseudonyms.ref` of every `psn_no` in the row store) — the synthetic city's benchmark, not
a use case.

`rules` — the real-time rule base (issue 18's `risk/` package) replayed over every settled
visit through the same code as in settlement (`bench/risk_rules_replay.py`).

`platform` — what the platform itself finds: the real-time rules at settlement and the
post-hoc detectors on the replica, both (a hit of either counts; a unit both flag counts
once); the default — every injected category is judged by the stage that can see it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from typing import Final

from sqlalchemy import Engine, or_, select

from yibao.bench.risk_eval import Detector, Hit
from yibao.bench.risk_rules_replay import RulesReplay, demo_knowledge
from yibao.config import Settings
from yibao.monitoring import runner
from yibao.monitoring.model import PostHit
from yibao.monitoring.plan import plan
from yibao.replica.pseudonym import Pseudonyms
from yibao.replica.store import ReplicaStore
from yibao.review import post_replay
from yibao.risk.params_io import load_ruleset
from yibao.settlement.records import FORCED_SELFPAY
from yibao.storage.schema.care import forced_selfpay
from yibao.storage.tables import fee_detail, psn

#: a restriction's reason text (yibao.catalog.restrictions.violations) → its category
_REASONS: Final = (
    ("性使用, 患者性别", "gender_limit"),
    ("岁以下使用", "child_only"),
    ("岁及以上使用", "age_limit"),
    ("医疗机构使用", "hosp_lv_limit"),
    ("本次医疗类别为", "med_type_limit"),
    ("限适应症", "indication_limit"),
    ("最多开", "over_quantity"),
    ("单次最多", "over_quantity"),
)


def categories_of_line(
    flags: str | None, memo: str | None, hilist_name: str | None, overlmt: object
) -> list[str]:
    """The categories settlement's marks on one fee line show (pure)."""
    out: list[str] = []
    if hilist_name is None:
        out.append("out_of_catalog")
    if forced_selfpay(flags) and memo:
        for needle, category in _REASONS:
            if needle in memo and category not in out:
                out.append(category)
    if overlmt:
        out.append("over_price")
    return out


class SettlementMarks:
    """The `settlement` detector (see the module's docstring)."""

    name = "settlement"

    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.engine = engine

    def __call__(self) -> Iterator[Hit]:
        c = fee_detail.c
        forced = "_" * FORCED_SELFPAY + "1%"
        query = select(
            c.mdtrt_id, c.feedetl_sn, c.psn_no, c.fixmedins_code, c.flags, c.memo,
            c.hilist_name, c.overlmt_amt,
        ).where(or_(c.flags.like(forced), c.hilist_name.is_(None), c.overlmt_amt > 0))  # fmt: skip
        with self.engine.connect() as conn:
            for r in conn.execute(query):
                for category in categories_of_line(r.flags, r.memo, r.hilist_name, r.overlmt_amt):
                    yield Hit(
                        category,
                        mdtrt_id=r.mdtrt_id,
                        feedetl_sn=r.feedetl_sn,
                        psn_no=r.psn_no,
                        fixmedins_code=r.fixmedins_code,
                        rule_id=f"settlement:{category}",
                    )


def hit_of(post: PostHit, psn_of: dict[str, str]) -> Hit:
    """A post-hoc hit as the harness scores it: its unit's key, persons by psn_no."""
    person = psn_of.get(post.psn_ref or "") if post.psn_ref else None
    if post.unit == "person-window":
        last = post.evidence.get("window_last_day")
        return Hit(
            post.category,
            psn_no=person,
            begin=post.day,
            end=date.fromisoformat(last) if last else post.day,
            rule_id=post.rule_id,
        )
    if post.unit == "group":
        members = frozenset(psn_of.get(m, m) for m in post.evidence.get("members", ()))
        return Hit(
            post.category,
            fixmedins_code=post.fixmedins_code,
            members=members,
            rule_id=post.rule_id,
        )
    return Hit(
        post.category,
        mdtrt_id=post.mdtrt_id,
        feedetl_sn=post.feedetl_sn,
        psn_no=person,
        fixmedins_code=post.fixmedins_code,
        rule_id=post.rule_id,
    )


class PostHoc:
    """The `posthoc` detector (see the module's docstring)."""

    name = "posthoc"

    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.settings = settings
        self.engine = engine

    def __call__(self) -> Iterator[Hit]:
        pseudonyms = Pseudonyms.for_dir(self.settings.data_dir)
        with self.engine.connect() as conn:
            psn_of = {
                str(pseudonyms.ref(n)): n for n in conn.execute(select(psn.c.psn_no)).scalars()
            }
        store = ReplicaStore(self.settings.replica_path, read_only=True, pseudonyms=pseudonyms)
        try:
            with store.snapshot() as (cur, _seq):
                row = cur.execute("SELECT min(setl_date), max(setl_date) FROM setl_fact").fetchone()
                if row is None or row[0] is None:
                    return
                ruleset = load_ruleset([self.settings.data_dir])
                kb = demo_knowledge()
                p = plan(ruleset, kb, row[1])
                posts = runner.run(
                    cur, row[0], row[1], p.thresholds, categories=p.categories,
                    rule_ids=p.rule_ids,
                )  # fmt: skip
                with self.engine.connect() as conn:
                    catalog = post_replay.StoredCatalog(conn)
                    posts += post_replay.rerun(catalog, cur, row[0], row[1], ruleset, kb)
        finally:
            store.close()
        for post in posts:
            yield hit_of(post, psn_of)


class Platform:
    """The `platform` detector: real-time rules and post-hoc detectors together."""

    name = "platform"

    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.parts: tuple[Detector, ...] = (
            RulesReplay(settings, engine),
            PostHoc(settings, engine),
        )

    def __call__(self) -> Iterator[Hit]:
        for part in self.parts:
            yield from part()


#: detector factories by name
DETECTORS: dict[str, Callable[[Settings, Engine], Detector]] = {
    "platform": Platform,
    "rules": RulesReplay,
    "settlement": SettlementMarks,
    "posthoc": PostHoc,
}


def default_detector() -> str:
    return "platform"
