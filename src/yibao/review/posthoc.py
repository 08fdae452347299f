"""Post-hoc monitoring's use cases (事后监管; docs/monitoring.md): a pass over a period on one
snapshot of the columnar replica, its hits stored in the row store's `rule_hit` (stage `post`)
and the run in `risk_run`, all in one transaction; and the hits, real-time and post-hoc alike,
as the `yibao risk hits` JSON.

A pass is incremental and idempotent: by default it covers the days after the last complete
run up to yesterday, and a hit's id is a hash of what was found (`PostHit.hit_id`), so a rerun
over the same days inserts nothing twice. Hits reach the replica through the change log like
real-time ones (`review.service.store`), carrying the person only as the pseudonym.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, and_, func, insert, or_, select

from yibao.errors import Conflict, InvalidInput
from yibao.kit.clock import local_naive_now
from yibao.monitoring import runner
from yibao.monitoring.model import PostHit
from yibao.monitoring.plan import Plan, check_categories, plan
from yibao.replica.pseudonym import Pseudonyms
from yibao.replica.service import Replica
from yibao.replica.store import ReplicaStore
from yibao.review import post_replay
from yibao.review.kb_rows import knowledge_base
from yibao.review.service import store
from yibao.risk.params_io import RuleSet
from yibao.risk.registry import CATEGORIES
from yibao.storage.tables import risk_run, rule_hit
from yibao.storage.uow import run_transaction

log = logging.getLogger(__name__)

RUN_BY = ("cli", "schedule", "console")
#: rows per IN (...) list when looking for hits already stored
_CHUNK = 500


@dataclass(frozen=True)
class Period:
    since: date
    until: date


def check_period(since: date | None, until: date | None) -> None:
    if since is not None and until is not None and since > until:
        raise InvalidInput(
            f"since/until: 起始日期晚于结束日期 ({since} > {until}; the range is backwards — "
            "give --since on or before --until)"
        )


def last_covered(conn: Connection) -> date | None:
    """The last day a complete run (every category) covered."""
    found = conn.execute(
        select(func.max(risk_run.c.until_date)).where(risk_run.c.categories.is_(None))
    ).scalar()
    return found if isinstance(found, date) else None


def default_period(
    conn: Connection,
    cur_first_day: date | None,
    since: date | None,
    until: date | None,
    today: date,
) -> Period:
    """`until` defaults to yesterday; `since` to the day after the last complete run, else the
    replica's first settlement day (else `until`)."""
    end = until or today - timedelta(days=1)
    if since is None:
        last = last_covered(conn)
        since = last + timedelta(days=1) if last else (cur_first_day or end)
    return Period(since, end)


def hit_row(h: PostHit, p: Plan, now: datetime) -> dict[str, Any]:
    rule = p.rules.get(h.rule_id)
    reason = str(h.evidence.get("reason", "")) or (rule.name if rule else h.category)
    return {
        "hit_id": h.hit_id,
        "rule_id": h.rule_id,
        "rule_version": rule.version if rule else "",
        "category": h.category,
        "stage": "post",
        "result_type": rule.result_type if rule else h.result_type,
        "action": rule.action if rule else "warn",
        "infno": None,
        "msgid": None,
        "psn_no": None,
        "psn_ref": h.psn_ref,
        "fixmedins_code": h.fixmedins_code,
        "mdtrt_id": h.mdtrt_id,
        "setl_id": h.setl_id,
        "line_ids": h.feedetl_sn,
        "threshold": None,
        "value_found": None,
        "amount": Decimal(h.amount_fen) / 100,
        "reason": reason[:500],
        "evidence": h.evidence_json(),
        "detected_at": now,
    }


def _existing(conn: Connection, ids: Sequence[str]) -> set[str]:
    out: set[str] = set()
    for i in range(0, len(ids), _CHUNK):
        chunk = ids[i : i + _CHUNK]
        out.update(
            conn.execute(select(rule_hit.c.hit_id).where(rule_hit.c.hit_id.in_(chunk))).scalars()
        )
    return out


def run_pass(
    engine: Engine,
    replica: ReplicaStore,
    ruleset: RuleSet,
    *,
    since: date | None = None,
    until: date | None = None,
    categories: Iterable[str] = (),
    run_by: str = "cli",
    progress: Callable[[str], None] = lambda _c: None,
    today: date | None = None,
) -> dict[str, Any]:
    """One pass; answers its summary. Bad input raises InvalidInput before anything is read."""
    started = time.perf_counter()
    check_period(since, until)
    wanted = check_categories(categories) or None
    if run_by not in RUN_BY:
        raise InvalidInput(f"run_by: 应为 {'/'.join(RUN_BY)}")
    now = local_naive_now()
    with engine.connect() as conn:
        kb = knowledge_base(conn)
        with replica.snapshot() as (cur, seq):
            first = cur.execute(
                "SELECT min(setl_date) FROM setl_fact WHERE vali_flag = '1'"
            ).fetchone()
            period = default_period(
                conn, first[0] if first else None, since, until, today or now.date()
            )
            summary: dict[str, Any] = {
                "since": period.since.isoformat(),
                "until": period.until.isoformat(),
                "categories": sorted(wanted) if wanted else None,
                "replica_seq": seq,
                "hits_found": 0,
                "hits_new": 0,
                "by_category": {},
                "run_id": None,
            }
            if period.since > period.until:
                # nothing new to cover (the last run reached yesterday already)
                summary["up_to_date"] = True
                summary["seconds"] = round(time.perf_counter() - started, 3)
                return summary
            p = plan(ruleset, kb, period.until, wanted)
            rerun_rules = post_replay.replay_rules(ruleset, wanted)
            p = replace(p, rules={**p.rules, **rerun_rules})

            hits = runner.run(
                cur,
                period.since,
                period.until,
                p.thresholds,
                categories=p.categories,
                rule_ids=p.rule_ids,
                progress=progress,
            )
            if rerun_rules:
                progress("rules_rerun")
                hits += post_replay.rerun(
                    post_replay.StoredCatalog(conn), cur, period.since, period.until, ruleset,
                    kb, wanted,
                )  # fmt: skip
    unique: dict[str, dict[str, Any]] = {}
    for h in hits:
        unique.setdefault(h.hit_id, hit_row(h, p, now))
    run_id = f"RR{now:%Y%m%d%H%M%S}{secrets.token_hex(4)}"

    def write(conn: Connection) -> int:
        have = _existing(conn, list(unique))
        fresh = [r for k, r in unique.items() if k not in have]
        store(conn, fresh)
        conn.execute(
            insert(risk_run).values(
                run_id=run_id,
                since_date=period.since,
                until_date=period.until,
                categories=",".join(sorted(wanted)) if wanted else None,
                run_by=run_by,
                hits_found=len(unique),
                hits_new=len(fresh),
                replica_seq=summary["replica_seq"],
                started_at=now,
                finished_at=local_naive_now(),
            )
        )
        return len(fresh)

    new = run_transaction(engine, write)
    summary.update(
        run_id=run_id,
        hits_found=len(unique),
        hits_new=new,
        by_category=dict(sorted(Counter(r["category"] for r in unique.values()).items())),
        seconds=round(time.perf_counter() - started, 3),
    )
    return summary


def parse_day(field: str, text: str | None) -> date | None:
    """A yyyy-MM-dd option, or InvalidInput naming the field."""
    if text is None or not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(f"{field}: 日期格式应为 yyyy-MM-dd (got '{text}')") from None


_run_lock = threading.Lock()


def run_on_replica(
    replica: Replica,
    ruleset: RuleSet,
    *,
    since: date | None = None,
    until: date | None = None,
    categories: Iterable[str] = (),
    run_by: str = "cli",
    progress: Callable[[str], None] = lambda _c: None,
    background_applier: bool = False,
) -> dict[str, Any]:
    """A pass on a served or an offline replica: caught up with the row store first (the
    settlements committed so far are seen), one pass at a time per process. Offline (no
    background applier) the new hits are applied to the replica before returning."""
    check_period(since, until)
    check_categories(categories)
    if not _run_lock.acquire(blocking=False):
        raise Conflict("已有事后监控在运行 (a post-hoc run is in progress; retry when it ends)")
    try:
        if background_applier:
            replica.applier.wait_for(replica.latest_seq(), timeout=120)
        else:
            replica.applier.catch_up()
        summary = run_pass(
            replica.source,
            replica.store,
            ruleset,
            since=since,
            until=until,
            categories=categories,
            run_by=run_by,
            progress=progress,
        )
        if not background_applier:
            replica.applier.catch_up()
        return summary
    finally:
        _run_lock.release()


def runs(conn: Connection, limit: int = 20) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(risk_run)
        .order_by(risk_run.c.started_at.desc(), risk_run.c.run_id.desc())
        .limit(limit)
    )
    return [dict(r._mapping) for r in rows]


# -- hits ---------------------------------------------------------------------------------------


def _fmt_amount(value: object) -> str:
    return f"{Decimal(str(value)):.2f}" if value is not None else "0.00"


def hits(
    conn: Connection,
    pseudonyms: Pseudonyms,
    *,
    category: str | None = None,
    psn_no: str | None = None,
    fixmedins_code: str | None = None,
    since: date | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Every stored hit (real-time and post-hoc) matching the filters, oldest first, as
    `yibao risk hits --json` prints them: the person only as `psn_ref`."""
    if category is not None and category not in CATEGORIES:
        raise InvalidInput(
            f"category: 未知的类别 '{category}' (unknown category; see `yibao rules list`)"
        )
    query = select(rule_hit).order_by(rule_hit.c.detected_at, rule_hit.c.hit_id)
    if category is not None:
        query = query.where(rule_hit.c.category == category)
    if fixmedins_code is not None:
        query = query.where(rule_hit.c.fixmedins_code == fixmedins_code)
    if since is not None:
        query = query.where(rule_hit.c.detected_at >= datetime.combine(since, datetime.min.time()))
    if psn_no is not None:
        ref = pseudonyms.ref(psn_no)
        query = query.where(
            or_(
                rule_hit.c.psn_no == psn_no,
                and_(rule_hit.c.psn_no.is_(None), rule_hit.c.psn_ref.in_([ref, psn_no])),
            )
        )
    if limit is not None:
        query = query.limit(limit)
    return [hit_json(dict(r._mapping), pseudonyms) for r in conn.execute(query)]


def hit_json(row: Mapping[str, Any], pseudonyms: Pseudonyms) -> dict[str, Any]:
    raw = row.get("evidence")
    try:
        evidence = orjson.loads(raw) if raw else {}
    except orjson.JSONDecodeError:
        evidence = {}
    detected = row["detected_at"]
    return {
        "hit_id": row["hit_id"],
        "rule_id": row["rule_id"],
        "category": row["category"],
        "stage": row["stage"],
        "result_type": row["result_type"],
        "psn_ref": row.get("psn_ref") or pseudonyms.ref(row.get("psn_no")),
        "fixmedins_code": row.get("fixmedins_code"),
        "mdtrt_id": row.get("mdtrt_id"),
        "setl_id": row.get("setl_id"),
        "amount": _fmt_amount(row.get("amount")),
        "detected_at": detected.strftime("%Y-%m-%d %H:%M:%S")
        if isinstance(detected, datetime)
        else str(detected),
        "evidence": evidence if isinstance(evidence, dict) else {"value": evidence},
    }


# -- the scheduled run --------------------------------------------------------------------------


def next_run(now: datetime, at: str) -> datetime:
    """The next time of day `at` ("HH:MM") after `now` (naive, platform time)."""
    hour, minute = (int(x) for x in at.split(":"))
    due = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    return due if due > now else due + timedelta(days=1)


class Schedule:
    """Runs the post-hoc pass daily at `at` in the process that owns the replica (`yibao
    serve`; YIBAO_RISK_SCHEDULE). A failed run is logged and retried the next day; a stop
    ends the wait at once."""

    def __init__(self, replica: Replica, ruleset: Callable[[], RuleSet], at: str) -> None:
        self.replica = replica
        self.ruleset = ruleset
        self.at = at
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        #: the last run's summary (or error), for status and tests
        self.last: dict[str, Any] | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="risk-schedule", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def run_once(self) -> dict[str, Any]:
        try:
            summary = run_on_replica(
                self.replica,
                self.ruleset(),
                run_by="schedule",
                background_applier=self.replica.applier.running,
            )
        except Exception as exc:  # a failed night must not stop the next one
            log.exception("scheduled post-hoc run failed")
            self.last = {"error": f"{type(exc).__name__}: {exc}"}
            return self.last
        log.info(
            "scheduled post-hoc run %s: %s..%s, %s hits (%s new) in %ss",
            summary.get("run_id"),
            summary["since"],
            summary["until"],
            summary["hits_found"],
            summary["hits_new"],
            summary.get("seconds"),
        )
        self.last = summary
        return summary

    def _loop(self) -> None:
        while not self._stop.is_set():
            now = local_naive_now()
            wait = (next_run(now, self.at) - now).total_seconds()
            if self._stop.wait(wait):
                return
            self.run_once()
