"""Real-time review (事前/事中) as a use case the settlement services call.

The settlement service builds the bill's lines (`line_of`), asks `Reviewer.review` for the
hits, and acts on them with `act`: a `refuse` hit raises `ReviewRefused` (infcode -1 naming the
rule; the pipeline stores the hit in a transaction of its own), `selfpay` hits give the lines'
memos (the line is split as full self-pay), `warn` hits become the envelope's `warn_msg` (one
line per hit, `<rule_id> <rule name>: <reason>`). The writing calls store every hit they acted
on (`store`) in their own transaction.

The knowledge base is read from the row store and kept in memory; it is re-read when its
fingerprint moves, checked at most every `kb_check_seconds` (an import is seen within that).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy import Connection

from yibao.catalog.model import CatalogItem
from yibao.errors import InvalidInput
from yibao.kit.clock import age_on
from yibao.kit.ids import IdGenerator
from yibao.kit.money import round_fen
from yibao.kit.records import quick_init
from yibao.replica.rows import RULE_HIT, rule_hit_payload
from yibao.review import repo
from yibao.review.kb_rows import knowledge_base
from yibao.risk import Bill, History, Hit, Institution, KnowledgeBase, Line, Person, RuleSet, Visit
from yibao.risk.engine import Part, review
from yibao.risk.model import NO_LIMITS, ItemLimits, PastLine, PastVisit, Scene, Stage
from yibao.storage import changelog

#: the output key a handler's answer carries its review warnings under; the pipeline moves
#: it into the envelope's warn_msg
WARN_KEY = "__warn_msg__"
#: how far back the person's history is read (the longest window a rule looks at: a year)
HISTORY_DAYS = 366
#: how far back a drug's earlier supply is looked for (长处方 are at most 12 weeks: a supply
#: older than this cannot still be held)
HOLDING_DAYS = 120
MEMO_WIDTH = 500


class ReviewRefused(InvalidInput):
    """A `refuse` hit: the call is answered infcode -1 and writes nothing of its own; `rows`
    are the hit rows to store in a transaction of their own (empty for calls that persist
    nothing)."""

    def __init__(self, message: str, rows: Sequence[Mapping[str, Any]]) -> None:
        super().__init__(message)
        self.rows = list(rows)


#: id(term) → (the term, its limits): a catalog term is a long-lived object of the catalog
#: cache, so its limits are worked out once rather than on every line that bills it (the term
#: is kept beside them so that its id is not reused while the entry lives)
_LIMITS: dict[int, tuple[CatalogItem, ItemLimits]] = {}
_LIMITS_KEPT = 20_000


def limits_of(item: CatalogItem) -> ItemLimits:
    found = _LIMITS.get(id(item))
    if found is not None and found[0] is item:
        return found[1]
    limits = _limits_of(item)
    if len(_LIMITS) >= _LIMITS_KEPT:
        _LIMITS.clear()
    _LIMITS[id(item)] = (item, limits)
    return limits


def _limits_of(item: CatalogItem) -> ItemLimits:
    r = item.restrictions
    limits = ItemLimits(
        gend=r.gend,
        age_min=r.age_min,
        age_max=r.age_max,
        hosp_lv=r.hosp_lv,
        med_type=r.med_type,
        diag_codes=r.diag_codes,
        max_days=r.max_days,
        max_cnt=r.max_cnt,
        child_drug=item.chld_medc_flag == "1",
    )
    # an unrestricted term shares the one `NO_LIMITS`, which the engine knows by identity
    return NO_LIMITS if limits == NO_LIMITS else limits


def line_of(
    *,
    line_id: str,
    code: str,
    cnt: Decimal,
    pric: Decimal,
    amount: Decimal,
    when: datetime,
    item: CatalogItem | None,
    name: str | None = None,
    prd_days: Decimal | None = None,
    hosp_appr_flag: str | None = None,
    list_type: str | None = None,
) -> Line:
    """A fee line as the rules see it; `item` is the catalog term on the fee date (None:
    not in the catalog, unless a stored line's `list_type` says otherwise)."""
    return Line(
        line_id=line_id,
        hilist_code=code,
        hilist_name=(item.hilist_name if item is not None else name) or code,
        cnt=cnt,
        pric=pric,
        amount=amount,
        fee_ocur_time=when,
        list_type=item.list_type if item is not None else list_type,
        med_chrgitm_type=item.med_chrgitm_type if item is not None else None,
        limits=limits_of(item) if item is not None else NO_LIMITS,
        pric_uplmt_amt=item.hilist_pric_uplmt_amt if item is not None else None,
        prd_days=prd_days,
        hosp_appr_flag=hosp_appr_flag,
    )


def person_of(row: Mapping[str, Any], day: date) -> Person:
    """The person's facts; `death_date` is read when enrolment keeps it."""
    brdy = row.get("brdy")
    death = row.get("death_date")
    return Person(
        psn_no=row["psn_no"],
        gend=row.get("gend"),
        age=age_on(brdy, day) if isinstance(brdy, date) else None,
        death_date=death if isinstance(death, date) else None,
    )


_SCENES: Mapping[str, Scene] = {
    "outpatient": "outpatient",
    "inpatient": "inpatient",
    "pharmacy": "pharmacy",
}


def scene_of(kind: str) -> Scene:
    return _SCENES.get(kind, "outpatient")


@quick_init
@dataclass(frozen=True, slots=True)
class Where:
    """Who and what a stored hit belongs to."""

    infno: str | None
    msgid: str | None
    fixmedins_code: str
    psn_no: str
    mdtrt_id: str | None
    now: datetime
    ids: IdGenerator


@dataclass(frozen=True, slots=True)
class Outcome:
    hits: tuple[Hit, ...] = ()

    def selfpay(self) -> dict[str, str]:
        """line id → the self-paid line's memo naming the rule."""
        out: dict[str, str] = {}
        for h in self.hits:
            if h.action != "selfpay":
                continue
            for line_id in h.line_ids:
                memo = h.warn_line
                out[line_id] = (out[line_id] + "; " + memo if line_id in out else memo)[:MEMO_WIDTH]
        return out

    def warn_msg(self) -> str | None:
        lines = [h.warn_line for h in self.hits if h.action == "warn"]
        return "\n".join(lines) if lines else None

    def attach(self, output: dict[str, Any]) -> dict[str, Any]:
        """The handler's answer with the warnings for the envelope."""
        warn = self.warn_msg()
        if warn:
            output[WARN_KEY] = warn
        return output


NOTHING = Outcome()


def hit_rows(hits: Iterable[Hit], where: Where, setl_id: str | None = None) -> list[dict[str, Any]]:
    return [
        {
            "hit_id": where.ids.next_str(),
            "rule_id": h.rule_id,
            "rule_version": h.rule_version,
            "category": h.category,
            "stage": h.stage,
            "result_type": h.result_type,
            "action": h.action,
            "infno": where.infno,
            "msgid": where.msgid,
            "psn_no": where.psn_no,
            "fixmedins_code": where.fixmedins_code,
            "mdtrt_id": where.mdtrt_id,
            "setl_id": setl_id,
            "line_ids": ",".join(h.line_ids)[:1000] or None,
            "threshold": h.threshold[:100] or None,
            "value_found": h.value[:100] or None,
            "amount": round_fen(h.amount),
            "reason": h.reason[:MEMO_WIDTH],
            "evidence": orjson.dumps(h.evidence, default=str).decode(),
            "detected_at": where.now,
        }
        for h in hits
    ]


def store(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Write hit rows and their change-log rows (the caller's transaction): the replica gets
    them without the person (`replica.rows.rule_hit_payload`)."""
    if not rows:
        return
    repo.insert_hits(conn, rows)
    changelog.append_later(
        conn,
        [(RULE_HIT, str(r["hit_id"]), rule_hit_payload(r), changelog.INSERT) for r in rows],
    )


#: (the person's write count, the count of writes naming nobody): see `Reviewer.epoch`
Epoch = tuple[int, int]
#: reviews kept for their 2207, and persons whose writes are counted, at most
REMEMBERED = 1024
COUNTED = 200_000


@dataclass(frozen=True, slots=True)
class _Reviewed:
    #: what the review saw of the bill, in a form the caller can rebuild cheaply (compared
    #: with `==` by `recall`)
    seen: object
    hits: tuple[Hit, ...]
    epoch: Epoch
    kb: KnowledgeBase | None


@dataclass(eq=False)
class Reviewer:
    """The rule set and the knowledge base of a running platform.

    `reuse` (one process writes the store: SQLite): a pre-settlement's review is kept for its
    settlement (2206 → 2207, 2303 → 2304), which takes it over when the bill is the same and
    nothing was written for the person since (`written`, after each writing call's commit) —
    the history the rules read is then the same too."""

    ruleset: RuleSet
    enabled: bool = True
    kb_check_seconds: float = 5.0
    reuse: bool = False
    _kb: KnowledgeBase | None = field(default=None, repr=False)
    _stamp: tuple[object, ...] | None = field(default=None, repr=False)
    _checked: float = field(default=0.0, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _reviewed: OrderedDict[tuple[str, ...], _Reviewed] = field(
        default_factory=OrderedDict, repr=False
    )
    _writes: dict[str, int] = field(default_factory=dict, repr=False)
    _reach: tuple[KnowledgeBase | None, date, int] | None = field(default=None, repr=False)
    _anonymous_writes: int = field(default=0, repr=False)

    def written(self, psn_no: str | None) -> None:
        """A writing call for `psn_no` (None: a call naming no person, which may have changed
        anyone's history) has committed: reviews kept from before it are not taken over."""
        if not self.reuse:
            return
        with self._lock:
            if psn_no is None or len(self._writes) >= COUNTED:
                if psn_no is not None:
                    self._writes.clear()
                self._anonymous_writes += 1
            else:
                self._writes[psn_no] = self._writes.get(psn_no, 0) + 1

    def epoch(self, psn_no: str) -> Epoch:
        """Where the person's writes stand: read before a review reads the history."""
        with self._lock:
            return self._writes.get(psn_no, 0), self._anonymous_writes

    def remember(
        self, key: tuple[str, ...], seen: object, hits: Sequence[Hit], epoch: Epoch
    ) -> None:
        if not self.reuse:
            return
        with self._lock:
            self._reviewed[key] = _Reviewed(seen, tuple(hits), epoch, self._kb)
            self._reviewed.move_to_end(key)
            while len(self._reviewed) > REMEMBERED:
                self._reviewed.popitem(last=False)

    def recall(self, key: tuple[str, ...], seen: object, epoch: Epoch) -> list[Hit] | None:
        """The kept review's hits when `seen` equals what the kept review saw of its bill
        (`remember`; the caller's fingerprint of the visit, person, institution and lines),
        nothing was written for the person since and the knowledge base is the one it used;
        else None."""
        if not self.reuse:
            return None
        with self._lock:
            kept = self._reviewed.pop(key, None)
            kb = self._kb
        if kept is None or kept.epoch != epoch or kept.kb is not kb:
            return None
        return list(kept.hits) if kept.seen == seen else None

    def kb(self, conn: Connection) -> KnowledgeBase:
        now = time.monotonic()
        found = self._kb
        if found is not None and now - self._checked < self.kb_check_seconds:
            return found
        stamp = repo.kb_stamp(conn)
        with self._lock:
            if self._kb is None or stamp != self._stamp:
                self._kb = knowledge_base(conn)
                self._stamp = stamp
            self._checked = now
            return self._kb

    def window_days(self, kb: KnowledgeBase | None, day: date) -> int:
        """The longest window a visit rule looks back (readmission, frequent visits): the
        knowledge base's windows and the rules' day parameters, at least a month (worked out
        once per knowledge base and day)."""
        memo = self._reach
        if memo is not None and memo[0] is kb and memo[1] == day:
            return memo[2]
        reach = self._window_days(kb, day)
        self._reach = (kb, day, reach)
        return reach

    def _window_days(self, kb: KnowledgeBase | None, day: date) -> int:
        days = [31]
        if kb is not None:
            days.extend(w.days + 1 for w in kb.windows if w.valid_on(day) and w.days is not None)
        for rule in self.ruleset.rules:
            for key in ("days", "window_days"):
                value = rule.params.get(key)
                if isinstance(value, int) and not isinstance(value, bool):
                    days.append(value + 1)
        return max(days)

    def history(
        self,
        conn: Connection,
        bill: Bill,
        *,
        exclude_current: bool = True,
        stock: bool = False,
        kb: KnowledgeBase | None = None,
        visits_too: bool = True,
        lines_too: bool = True,
    ) -> History:
        """The person's history the rules read: visits of the last year; fee lines of the
        bill's drugs (holdings: the last `HOLDING_DAYS`) and of items with a yearly limit
        (this calendar year); a pharmacy's declared stock of the billed items."""
        day = bill.day
        midnight = datetime.min.time()
        reach = self.window_days(kb if kb is not None else self._kb, day)
        visits = (
            repo.visits_since(
                conn,
                bill.person.psn_no,
                since=datetime.combine(day - timedelta(days=HISTORY_DAYS), midnight),
                recent=datetime.combine(day - timedelta(days=reach), midnight),
                stay_from=datetime.combine(day - timedelta(days=reach), midnight),
            )
            if visits_too
            else []
        )
        if exclude_current:
            visits = [v for v in visits if v["mdtrt_id"] != bill.visit.mdtrt_id]
        drugs = {ln.hilist_code for ln in bill.lines if ln.is_drug} if lines_too else set()
        known = kb if kb is not None else self._kb
        yearly = (
            {
                ln.hilist_code
                for ln in bill.lines
                if (lim := known.frequency_limit(ln.hilist_code, day)) is not None
                and lim.per_year is not None
            }
            if known is not None and lines_too
            else set()
        )
        lines = repo.lines_since(
            conn,
            bill.person.psn_no,
            held=drugs,
            hold_from=datetime.combine(day - timedelta(days=HOLDING_DAYS), midnight),
            yearly=yearly,
            year_from=datetime(day.year, 1, 1),
        )
        if exclude_current:
            lines = [r for r in lines if r["mdtrt_id"] != bill.visit.mdtrt_id]
        return History(
            visits=tuple(
                PastVisit(
                    mdtrt_id=v["mdtrt_id"],
                    fixmedins_code=v["fixmedins_code"],
                    scene=scene_of(v["mdtrt_kind"]),
                    med_type=v["med_type"],
                    begntime=v["begntime"],
                    endtime=v["endtime"],
                    main_diag=v["maindiag_code"],
                )
                for v in visits
            ),
            lines=tuple(
                PastLine(
                    mdtrt_id=r["mdtrt_id"],
                    hilist_code=r["med_list_codg"],
                    cnt=r["cnt"],
                    fee_ocur_time=r["fee_ocur_time"],
                    prd_days=r["prd_days"],
                )
                for r in lines
            ),
            stock=(
                repo.stock(
                    conn, bill.institution.fixmedins_code, {ln.hilist_code for ln in bill.lines}
                )
                if stock and bill.visit.scene == "pharmacy"
                else None
            ),
        )

    def review(
        self,
        conn: Connection,
        stage: Stage,
        bill: Bill,
        *,
        part: Part = "all",
        keep: tuple[tuple[str, ...], Epoch, object] | None = None,
    ) -> list[Hit]:
        """The hits of the applicable rules (none when review is off). `keep` = (key, the
        epoch read before, the bill's fingerprint): remember the review for the settlement
        that follows (`recall`), unless it read a pharmacy's stock, which other persons'
        sales move."""
        if not self.enabled or not bill.lines:
            return []
        kb = self.kb(conn)
        # a fee upload's line rules read earlier lines, not visits; a settlement's visit rules
        # read visits, not lines
        history = self.history(
            conn,
            bill,
            stock=part != "settlement",
            kb=kb,
            visits_too=part != "upload",
            lines_too=part != "settlement",
        )
        hits = review(stage, bill, history, kb, self.ruleset, part=part)
        if keep is not None and history.stock is None:
            self.remember(keep[0], keep[2], hits, keep[1])
        return hits


def act(hits: Sequence[Hit], where: Where | None) -> Outcome:
    """Refuse on a `refuse` hit (its rows ready for a transaction of its own when `where` is
    given); else the outcome the caller applies and stores."""
    refused = [h for h in hits if h.action == "refuse"]
    if refused:
        first = refused[0]
        message = "; ".join(h.warn_line for h in refused)
        raise ReviewRefused(
            f"审核拒绝 {message} (refused by rule {first.rule_id})",
            hit_rows(refused, where) if where is not None else [],
        )
    return Outcome(tuple(hits))


def bill_of(
    *,
    mdtrt_id: str,
    scene: Scene,
    med_type: str,
    begntime: datetime,
    endtime: datetime | None = None,
    diag_codes: Sequence[str] = (),
    main_diag: str | None = None,
    person: Person,
    institution: Institution,
    lines: Sequence[Line],
    visit_lines: Sequence[Line] = (),
) -> Bill:
    return Bill(
        visit=Visit(
            mdtrt_id=mdtrt_id,
            scene=scene,
            med_type=med_type,
            begntime=begntime,
            endtime=endtime,
            diag_codes=tuple(c for c in diag_codes if c),
            main_diag=main_diag,
        ),
        person=person,
        institution=institution,
        lines=tuple(lines),
        visit_lines=tuple(visit_lines),
    )
