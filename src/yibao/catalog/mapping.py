"""目录对照: an institution maps its own item codes (medins_list_codg) to national codes.

Lifecycle: `submit` (3301 or the console) → `approve` or `reject` by the agency; `cancel` by
the institution (3302) while submitted or approved. Approving a new mapping of a local code
supersedes the earlier approved one. Nothing is ever deleted: every change appends a
`catalog_mapping_event` row, and `history` returns them.

`mapping_status(conn, fixmedins_code, medins_list_codg, hilist_code)` tells the settlement
whether the fee line's pair is approved; `judge(state, rule)` applies the region's rule
(`MappingRule`): by default (the demo region) the national code on the fee line governs and
no approved mapping is required; a region that requires one either refuses the line or makes
it fully self-paid — never reimburses it silently.

Services never commit: the caller's unit of work does.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection

from yibao.catalog import repo
from yibao.catalog.mapping_record import MappingEvent as MappingEvent
from yibao.catalog.mapping_record import MappingRecord as MappingRecord
from yibao.catalog.mapping_record import record_from_row
from yibao.catalog.mapping_rule import Judgement as Judgement
from yibao.catalog.mapping_rule import MappingRule as MappingRule
from yibao.catalog.mapping_rule import MappingState as MappingState
from yibao.catalog.mapping_rule import judge as judge
from yibao.catalog.repo import mapping as mapping_repo
from yibao.codes.dicts import ListType, MapStatus
from yibao.errors import Conflict, Forbidden, InvalidInput, NotFound
from yibao.kit.ids import IdGenerator, default_ids

_OPEN = mapping_repo.OPEN
_TIME_ORDERED = (1 << 58) - 1


def _event(
    conn: Connection,
    ids: IdGenerator,
    *,
    map_id: int,
    event: str,
    map_stas: str,
    actor: str,
    at: datetime,
    memo: str | None,
) -> None:
    mapping_repo.insert_event(
        conn,
        event_id=ids.next_id(),
        map_id=map_id,
        event=event,
        map_stas=map_stas,
        actor=actor[:50],
        at=at,
        memo=memo[:500] if memo else None,
    )


def get(conn: Connection, map_id: int) -> MappingRecord:
    """One mapping, whichever institution's (the agency's review; `cancel` checks the owner)."""
    row = mapping_repo.by_id(conn, map_id, fixmedins_code=None)
    if row is None:
        raise NotFound(f"目录对照 {map_id} 不存在 (no mapping {map_id})")
    return record_from_row(row)


def _text(value: str | None, field: str, max_len: int) -> str:
    text = (value or "").strip()
    if not text:
        raise InvalidInput(f"{field}: 不能为空 (required)")
    if len(text) > max_len:
        raise InvalidInput(f"{field}: 长度超过{max_len} (longer than {max_len} characters)")
    return text


# --------------------------------------------------------------------------- lifecycle


def submit(
    conn: Connection,
    *,
    fixmedins_code: str,
    medins_list_codg: str,
    medins_list_name: str,
    hilist_code: str,
    opter: str,
    now: datetime,
    list_type: str | None = None,
    begndate: date | None = None,
    enddate: date | None = None,
    msgid: str | None = None,
    extra: dict[str, Any] | None = None,
    ids: IdGenerator = default_ids,
) -> MappingRecord:
    """Record an institution's request to map `medins_list_codg` to national `hilist_code`.

    The national code must be in the catalog; the list type, when given, must be the code's.
    A local code may have one pending request at a time; an identical approved mapping is a
    conflict too.
    """
    local = _text(medins_list_codg, "medins_list_codg", 150)
    name = _text(medins_list_name, "medins_list_name", 200)
    code = _text(hilist_code, "hilist_code", 50)
    start = begndate or now.date()
    if enddate is not None and enddate < start:
        raise InvalidInput(
            f"enddate: 结束日期 {enddate} 早于开始日期 {start} (enddate is before begndate)"
        )
    if not mapping_repo.institution_exists(conn, fixmedins_code):
        raise NotFound(
            f"fixmedins_code: 定点医药机构 {fixmedins_code} 不存在 (unknown institution)"
        )
    catalog_list_type = mapping_repo.effective_list_type(conn, code)
    if catalog_list_type is None:
        raise InvalidInput(
            f"hilist_code: 医保目录编码 {code} 不在国家目录中, 不能对照 (the national code is not in the catalog)"
        )
    if list_type is not None and list_type != catalog_list_type:
        label = (
            ListType(catalog_list_type).label
            if ListType.has(catalog_list_type)
            else catalog_list_type
        )
        raise InvalidInput(
            f"list_type: 目录类别 {list_type} 与编码 {code} 的目录类别 {catalog_list_type}{label} 不符 "
            f"(the code belongs to list_type {catalog_list_type})"
        )
    open_rows = mapping_repo.of_local_code(
        conn, fixmedins_code=fixmedins_code, medins_list_codg=local, states=_OPEN
    )
    for row in open_rows:
        if row["map_stas"] == MapStatus.SUBMITTED:
            raise Conflict(
                f"medins_list_codg: 本机构编码 {local} 已有待审核的对照 (map_id {row['map_id']}), "
                f"请等待审核或先撤销 (a pending mapping exists; wait for review or cancel it)"
            )
        if row["hilist_code"] == code:
            raise Conflict(
                f"medins_list_codg: 本机构编码 {local} 已对照到 {code} 并已审核通过 "
                f"(this mapping is already approved)"
            )
    map_id = ids.next_id()
    mapping_repo.insert_mapping(
        conn,
        {
            "map_id": map_id,
            "fixmedins_code": fixmedins_code,
            "medins_list_codg": local,
            "medins_list_name": name,
            "hilist_code": code,
            "list_type": catalog_list_type,
            "begndate": start,
            "enddate": enddate,
            "map_stas": MapStatus.SUBMITTED.value,
            "submitted_at": now,
            "submitted_by": opter[:50],
            "msgid": msgid,
            "extra": json.dumps(extra, ensure_ascii=False, default=str) if extra else None,
            "updated_at": now,
        },
    )
    _event(
        conn,
        ids,
        map_id=map_id,
        event="submit",
        map_stas=MapStatus.SUBMITTED.value,
        actor=opter,
        at=now,
        memo=None,
    )
    return get(conn, map_id)


def _transition(
    conn: Connection,
    record: MappingRecord,
    *,
    to: MapStatus,
    event: str,
    actor: str,
    now: datetime,
    memo: str | None,
    ids: IdGenerator,
    values: dict[str, Any],
) -> MappingRecord:
    moved = mapping_repo.move_state(
        conn,
        map_id=record.map_id,
        from_stas=record.map_stas,
        to_stas=to.value,
        values={"updated_at": now, **values},
    )
    if not moved:
        raise Conflict(
            f"目录对照 {record.map_id} 的状态已被他人修改, 请重试 (changed concurrently; retry)"
        )
    _event(
        conn,
        ids,
        map_id=record.map_id,
        event=event,
        map_stas=to.value,
        actor=actor,
        at=now,
        memo=memo,
    )
    return get(conn, record.map_id)


def approve(
    conn: Connection,
    *,
    map_id: int,
    reviewer: str,
    now: datetime,
    memo: str | None = None,
    ids: IdGenerator = default_ids,
) -> MappingRecord:
    """Approve a submitted mapping; an earlier approved mapping of the same local code is
    superseded by it."""
    record = get(conn, map_id)
    if record.map_stas != MapStatus.SUBMITTED:
        raise Conflict(
            f"目录对照 {map_id} 状态为{record.status_label}, 只能审核待审核的对照 "
            f"(only a submitted mapping can be approved; this one is {record.map_stas})"
        )
    earlier = mapping_repo.of_local_code(
        conn,
        fixmedins_code=record.fixmedins_code,
        medins_list_codg=record.medins_list_codg,
        states=(MapStatus.APPROVED.value,),
    )
    for row in earlier:
        _transition(
            conn,
            record_from_row(row),
            to=MapStatus.SUPERSEDED,
            event="supersede",
            actor=reviewer,
            now=now,
            memo=f"被对照 {map_id} 替代 (superseded by mapping {map_id})",
            ids=ids,
            values={"superseded_by": map_id},
        )
    return _transition(
        conn,
        record,
        to=MapStatus.APPROVED,
        event="approve",
        actor=reviewer,
        now=now,
        memo=memo,
        ids=ids,
        values={"reviewed_at": now, "reviewed_by": reviewer[:50], "review_memo": memo},
    )


def reject(
    conn: Connection,
    *,
    map_id: int,
    reviewer: str,
    now: datetime,
    memo: str,
    ids: IdGenerator = default_ids,
) -> MappingRecord:
    """Reject a submitted mapping; the reason (`memo`) is required and shown to the institution."""
    reason = _text(memo, "memo", 500)
    record = get(conn, map_id)
    if record.map_stas != MapStatus.SUBMITTED:
        raise Conflict(
            f"目录对照 {map_id} 状态为{record.status_label}, 只能驳回待审核的对照 "
            f"(only a submitted mapping can be rejected; this one is {record.map_stas})"
        )
    return _transition(
        conn,
        record,
        to=MapStatus.REJECTED,
        event="reject",
        actor=reviewer,
        now=now,
        memo=reason,
        ids=ids,
        values={"reviewed_at": now, "reviewed_by": reviewer[:50], "review_memo": reason},
    )


def cancel(
    conn: Connection,
    *,
    fixmedins_code: str,
    opter: str,
    now: datetime,
    map_id: int | None = None,
    medins_list_codg: str | None = None,
    hilist_code: str | None = None,
    memo: str | None = None,
    ids: IdGenerator = default_ids,
) -> list[MappingRecord]:
    """Cancel an institution's own submitted or approved mapping(s): by `map_id`, or by the
    local code (and the national code when given), as 3302 names them."""
    if map_id is not None:
        record = get(conn, map_id)
        if record.fixmedins_code != fixmedins_code:
            raise Forbidden(
                f"目录对照 {map_id} 不属于本机构 (the mapping belongs to another institution)"
            )
        targets = [record]
    else:
        local = _text(medins_list_codg, "medins_list_codg", 150)
        found = mapping_repo.of_local_code(
            conn,
            fixmedins_code=fixmedins_code,
            medins_list_codg=local,
            states=_OPEN,
            hilist_code=hilist_code,
        )
        targets = [record_from_row(r) for r in found]
        if not targets:
            raise NotFound(
                f"本机构编码 {local} 没有可撤销的对照 (no submitted or approved mapping to cancel)"
            )
    done = []
    for record in targets:
        if record.map_stas not in _OPEN:
            raise Conflict(
                f"目录对照 {record.map_id} 状态为{record.status_label}, 不能撤销 "
                f"(only a submitted or approved mapping can be cancelled)"
            )
        done.append(
            _transition(
                conn,
                record,
                to=MapStatus.CANCELLED,
                event="cancel",
                actor=opter,
                now=now,
                memo=memo,
                ids=ids,
                values={"cancelled_at": now},
            )
        )
    return done


# --------------------------------------------------------------------------- queries


def list_mappings(
    conn: Connection,
    *,
    fixmedins_code: str | None = None,
    map_stas: str | None = None,
    hilist_code: str | None = None,
    medins_list_codg: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[MappingRecord]:
    """Mappings matching the filters, newest submission first; `fixmedins_code` None is the
    agency's view over every institution."""
    if map_stas and not MapStatus.has(map_stas):
        raise InvalidInput(f"map_stas: 未知状态 '{map_stas}' (unknown status)")
    found = mapping_repo.search(
        conn,
        fixmedins_code=fixmedins_code,
        map_stas=map_stas,
        hilist_code=hilist_code,
        medins_list_codg=medins_list_codg,
        limit=max(1, min(limit, 1000)),
        offset=max(0, offset),
    )
    return [record_from_row(r) for r in found]


def history(
    conn: Connection,
    *,
    map_id: int | None = None,
    fixmedins_code: str | None = None,
    medins_list_codg: str | None = None,
) -> list[MappingEvent]:
    """Every event of one mapping, or of every mapping of one local code, oldest first."""
    if map_id is not None:
        found = mapping_repo.events_of_mapping(conn, map_id)
    elif fixmedins_code and medins_list_codg:
        found = mapping_repo.events_of_local_code(
            conn, fixmedins_code=fixmedins_code, medins_list_codg=medins_list_codg
        )
    else:
        raise InvalidInput(
            "history: 须给出 map_id 或 机构编码+本机构目录编码 (give map_id or the local code)"
        )
    events = [
        MappingEvent(
            r["event_id"], r["map_id"], r["event"], r["map_stas"], r["actor"], r["at"], r["memo"]
        )
        for r in found
    ]
    # Events of one call share `at`; a kit.ids id orders them by its low 58 bits (time and
    # sequence; the top 5 bits are the shard).
    events.sort(key=lambda e: (e.at, e.event_id & _TIME_ORDERED))
    return events


def mapping_status(
    conn: Connection,
    fixmedins_code: str,
    medins_list_codg: str,
    hilist_code: str,
    *,
    at: datetime | date | None = None,
) -> MappingState:
    """The state of the pair for one fee line (see `mapping_statuses` for a whole bill)."""
    return mapping_statuses(conn, fixmedins_code, [(medins_list_codg, hilist_code)], at=at)[
        (medins_list_codg, hilist_code)
    ]


def mapping_statuses(
    conn: Connection,
    fixmedins_code: str,
    pairs: list[tuple[str, str]],
    *,
    at: datetime | date | None = None,
) -> dict[tuple[str, str], MappingState]:
    """The state of every (medins_list_codg, hilist_code) pair of a bill, in one query."""
    day = at.date() if isinstance(at, datetime) else at
    locals_ = sorted({p[0] for p in pairs})
    by_local: dict[str, list[Any]] = {}
    for row in mapping_repo.open_for_codes(
        conn, fixmedins_code=fixmedins_code, medins_list_codgs=locals_, day=day
    ):
        by_local.setdefault(row[0], []).append(row)
    out: dict[tuple[str, str], MappingState] = {}
    for local, code in pairs:
        rows = by_local.get(local, [])
        approved = [r for r in rows if r[2] == MapStatus.APPROVED]
        if any(r[1] == code for r in approved):
            out[(local, code)] = MappingState.APPROVED
        elif approved:
            out[(local, code)] = MappingState.MISMATCH
        elif rows:
            out[(local, code)] = MappingState.PENDING
        else:
            out[(local, code)] = MappingState.NONE
    return out


def catalog_code_known(conn: Connection, hilist_code: str) -> bool:
    """Whether the national code has any effective term (for the console's form checks)."""
    return bool(repo.all_terms(conn, [hilist_code]))
