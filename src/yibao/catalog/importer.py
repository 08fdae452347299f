"""Import a catalog file as a new catalog version, in the caller's transaction.

1. Read the file (`catalog.source`): a file that cannot be read, or whose header lacks the
   code or the name column, is refused whole (`FileRefused`).
2. Check every row on its own (`catalog.rows`): rejected rows are reported with their line
   numbers and reasons.
3. Check terms across rows and against the stored catalog: two terms of one code may not
   overlap. A row whose code and begndate equal an effective stored row re-publishes that
   term and supersedes it (that is how a term is ended or corrected); any other overlap is
   rejected row by row.
4. Apply the rest as one new version: bulk inserts in chunks, superseded rows marked, all in
   the caller's transaction — the unit of work commits or nothing is applied.

`strict=True` applies nothing when any row is rejected; `dry_run=True` checks without writing.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, event

from yibao.catalog import fields as f
from yibao.catalog.cache import CatalogCache
from yibao.catalog.model import CatalogItem, DiseEntry
from yibao.catalog.repo import dise_to_row, head_ver_no, item_to_row
from yibao.catalog.repo import versioning as versions_repo
from yibao.catalog.repo.versioning import StoredTerm, TermKey
from yibao.catalog.rows import ImportDefaults, RowRejected, parse_row, resolve_kind
from yibao.catalog.source import FileRefused, SheetRows, open_sheet
from yibao.errors import InvalidInput
from yibao.kit import clock
from yibao.kit.ids import IdGenerator, default_ids

#: rows per INSERT executemany
CHUNK = 5000

Progress = Callable[[str, int, int | None], None]

_FAR = date.max


@dataclass(frozen=True, slots=True)
class RowIssue:
    line: int
    code: str
    reasons: tuple[str, ...]

    def text(self) -> str:
        return f"第{self.line}行 line {self.line} [{self.code or '-'}]: " + "; ".join(self.reasons)


@dataclass
class ImportReport:
    source: str
    rows_read: int = 0
    applied: int = 0
    superseded: int = 0
    rejected: list[RowIssue] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    version_id: int | None = None
    ver_no: int | None = None
    ver: str | None = None
    dry_run: bool = False
    #: rows identical to the stored effective term they re-publish (not written again)
    unchanged: int = 0
    #: why nothing was applied (strict mode with rejections, or no acceptable row)
    not_applied_reason: str | None = None


@dataclass
class _Accepted:
    line: int
    item: CatalogItem | DiseEntry
    rejected: bool = False
    #: identical to the stored effective term it would re-publish: nothing to write
    unchanged: bool = False

    @property
    def key(self) -> tuple[str, str]:
        it = self.item
        if isinstance(it, CatalogItem):
            return ("hilist", it.hilist_code)
        return (it.catalog_kind, it.dise_codg)


def _overlaps(b1: date, e1: date | None, b2: date, e2: date | None) -> bool:
    return b1 <= (e2 or _FAR) and b2 <= (e1 or _FAR)


def _span(b: date, e: date | None) -> str:
    return f"{b.isoformat()}~{e.isoformat() if e else '长期'}"


def _noop(stage: str, done: int, total: int | None) -> None:
    return None


# --------------------------------------------------------------------------- parse


def _parse(
    sheet: SheetRows, defaults: ImportDefaults, report: ImportReport, progress: Progress
) -> list[_Accepted]:
    try:
        columns, ignored = f.map_header(sheet.header)
    except f.HeaderError as exc:
        raise FileRefused(
            f"{report.source}: 第1行表头错误, 文件未导入 (header error; nothing imported): {exc}"
        ) from None
    report.ignored_columns = ignored
    accepted: list[_Accepted] = []
    items = list(columns.items())
    for line, cells in sheet.rows:
        report.rows_read += 1
        width = len(cells)
        values = {name: (cells[i] if i < width else "") for name, i in items}
        try:
            accepted.append(_Accepted(line, parse_row(values, defaults)))
        except RowRejected as exc:
            report.rejected.append(
                RowIssue(line, values.get("hilist_code", ""), tuple(exc.reasons))
            )
        if report.rows_read % 10000 == 0:
            progress("check", report.rows_read, sheet.total)
    progress("check", report.rows_read, report.rows_read)
    return accepted


# --------------------------------------------------------------------------- overlap


def _check_overlaps(
    conn: Connection, accepted: list[_Accepted], report: ImportReport
) -> dict[TermKey, list[StoredTerm]]:
    """Reject overlapping rows; returns, per key, the stored rows the file supersedes."""
    by_key: dict[tuple[str, str], list[_Accepted]] = {}
    for a in accepted:
        by_key.setdefault(a.key, []).append(a)

    # Within the file: a later row overlapping an earlier accepted row of the same code.
    for rows in by_key.values():
        if len(rows) < 2:
            continue
        kept: list[_Accepted] = []
        for a in rows:
            clash = next(
                (
                    k
                    for k in kept
                    if _overlaps(a.item.begndate, a.item.enddate, k.item.begndate, k.item.enddate)
                ),
                None,
            )
            if clash is None:
                kept.append(a)
                continue
            a.rejected = True
            ci = clash.item
            report.rejected.append(
                RowIssue(
                    a.line,
                    a.key[1],
                    (
                        f"与第{clash.line}行同一编码的有效期 {_span(ci.begndate, ci.enddate)} 重叠 "
                        f"(overlaps the term of the same code on line {clash.line})",
                    ),
                )
            )

    stored = versions_repo.effective_spans(conn, set(by_key))
    ver_no = versions_repo.ver_nos(conn, (s.version_id for rows in stored.values() for s in rows))
    superseded: dict[TermKey, list[StoredTerm]] = {}
    for key, existing in stored.items():
        rows = [a for a in by_key[key] if not a.rejected]
        # Iterate: rejecting a row that would have superseded a stored term brings that term
        # back, and it may clash with another row.
        while True:
            replacing = {a.item.begndate for a in rows}
            remaining = [s for s in existing if s.begndate not in replacing]
            clashes = []
            for a in rows:
                hit = next(
                    (
                        s
                        for s in remaining
                        if _overlaps(a.item.begndate, a.item.enddate, s.begndate, s.enddate)
                    ),
                    None,
                )
                if hit is not None:
                    clashes.append((a, hit))
            if not clashes:
                break
            for a, hit in clashes:
                a.rejected = True
                report.rejected.append(
                    RowIssue(
                        a.line,
                        key[1],
                        (
                            f"有效期 {_span(a.item.begndate, a.item.enddate)} 与已生效的第"
                            f"{ver_no.get(hit.version_id, '?')}版 {_span(hit.begndate, hit.enddate)} "
                            f"重叠; 若要调整原有效期, 请以相同开始日期重新发布该条 "
                            f"(overlaps the effective term from version "
                            f"{ver_no.get(hit.version_id, '?')}; to change that term, re-publish it "
                            f"with the same begndate)",
                        ),
                    )
                )
            rows = [a for a in rows if not a.rejected]
        replacing = {a.item.begndate for a in rows}
        gone = [s for s in existing if s.begndate in replacing]
        if gone:
            superseded[key] = gone
    return superseded


def _drop_unchanged(
    conn: Connection,
    accepted: list[_Accepted],
    superseded: dict[TermKey, list[StoredTerm]],
) -> None:
    """A row that re-publishes a stored term without changing anything is not written again
    and does not supersede it: re-importing a full national catalog stores only its changes."""
    if not superseded:
        return
    by_term = {
        (a.key, a.item.begndate): a for a in accepted if not a.rejected and a.key in superseded
    }
    pairs = [(by_term[(key, s.begndate)], key, s) for key, gone in superseded.items() for s in gone]
    item_ids = [s.row_id for _, key, s in pairs if key[0] == "hilist"]
    dise_ids = [s.row_id for _, key, s in pairs if key[0] != "hilist"]
    stored: dict[int, CatalogItem | DiseEntry] = {}
    stored.update(versions_repo.items_by_id(conn, item_ids))
    stored.update(versions_repo.dise_by_id(conn, dise_ids))
    for a, key, s in pairs:
        old = stored.get(s.row_id)
        if old is None:
            continue
        if isinstance(old, CatalogItem):
            same = isinstance(a.item, CatalogItem) and (
                replace(a.item, item_id=old.item_id, version_id=old.version_id) == old
            )
        else:
            same = isinstance(a.item, DiseEntry) and (
                replace(a.item, dise_id=old.dise_id, version_id=old.version_id) == old
            )
        if same:
            a.unchanged = True
            superseded[key] = [g for g in superseded[key] if g.row_id != s.row_id]
            if not superseded[key]:
                del superseded[key]


# --------------------------------------------------------------------------- apply


def _chunks(rows: list[dict[str, Any]], size: int = CHUNK) -> Iterator[list[dict[str, Any]]]:
    for i in range(0, len(rows), size):
        yield rows[i : i + size]


def import_sheet(
    conn: Connection,
    sheet: SheetRows,
    *,
    source: str,
    kind: str | None = None,
    begndate: date | None = None,
    ver: str | None = None,
    created_by: str = "system",
    memo: str | None = None,
    now: datetime | None = None,
    ids: IdGenerator = default_ids,
    progress: Progress | None = None,
    strict: bool = False,
    dry_run: bool = False,
    cache: CatalogCache | None = None,
) -> ImportReport:
    """Check `sheet` and apply its acceptable rows as one new catalog version (see module doc).

    The cyclic garbage collector is paused meanwhile: a large catalog allocates millions of
    long-lived objects that can form no cycle, and each full collection would walk them all again.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _import_sheet(
            conn,
            sheet,
            source=source,
            kind=kind,
            begndate=begndate,
            ver=ver,
            created_by=created_by,
            memo=memo,
            now=now,
            ids=ids,
            progress=progress,
            strict=strict,
            dry_run=dry_run,
            cache=cache,
        )
    finally:
        if enabled:
            gc.enable()


def _import_sheet(
    conn: Connection,
    sheet: SheetRows,
    *,
    source: str,
    kind: str | None,
    begndate: date | None,
    ver: str | None,
    created_by: str,
    memo: str | None,
    now: datetime | None,
    ids: IdGenerator,
    progress: Progress | None,
    strict: bool,
    dry_run: bool,
    cache: CatalogCache | None,
) -> ImportReport:
    try:
        defaults = resolve_kind(kind)
    except ValueError as exc:
        raise InvalidInput(f"--kind: {exc}") from None
    if begndate is not None:
        defaults = ImportDefaults(defaults.catalog_kind, defaults.list_type, begndate)
    report_progress = progress or _noop
    report = ImportReport(source=source, dry_run=dry_run)
    accepted = _parse(sheet, defaults, report, report_progress)
    superseded = _check_overlaps(conn, accepted, report)
    _drop_unchanged(conn, accepted, superseded)
    report.rejected.sort(key=lambda r: r.line)
    report.unchanged = sum(1 for a in accepted if a.unchanged)
    good = [a for a in accepted if not a.rejected and not a.unchanged]
    kinds = sorted(
        {a.item.list_type if isinstance(a.item, CatalogItem) else a.item.catalog_kind for a in good}
    )
    report.kinds = kinds
    report.superseded = sum(len(v) for v in superseded.values())
    if not good:
        report.not_applied_reason = (
            "与现行目录相同, 无变化 (every row equals the effective catalog: no change)"
            if report.unchanged and not report.rejected
            else "没有可导入的行 (no acceptable row)"
        )
        return report
    if strict and report.rejected:
        report.not_applied_reason = (
            f"严格模式: {len(report.rejected)}行被拒, 全部未导入 "
            f"(strict mode: {len(report.rejected)} rows rejected, nothing applied)"
        )
        return report
    if dry_run:
        report.applied = len(good)
        report.not_applied_reason = "试运行, 未写入 (dry run: nothing written)"
        return report

    at = now or clock.local_naive_now()
    version_id = ids.next_id()
    ver_no = head_ver_no(conn) + 1
    label = ver or at.strftime("%Y%m%d%H%M%S")
    versions_repo.insert_version(
        conn,
        version_id=version_id,
        ver_no=ver_no,
        ver=label[:30],
        kinds=",".join(kinds)[:200],
        source=source[-200:],
        row_count=len(good),
        rejected_count=len(report.rejected),
        memo=memo,
        created_at=at,
        created_by=created_by[:50],
    )

    item_rows: list[dict[str, Any]] = []
    dise_rows: list[dict[str, Any]] = []
    for a in good:
        it = a.item
        if isinstance(it, CatalogItem):
            item_rows.append(
                item_to_row(it, item_id=ids.next_id(), version_id=version_id, created_at=at)
            )
        else:
            dise_rows.append(
                dise_to_row(it, dise_id=ids.next_id(), version_id=version_id, created_at=at)
            )

    done = 0
    total = len(item_rows) + len(dise_rows)
    for write, rows in (
        (versions_repo.insert_items, item_rows),
        (versions_repo.insert_dise, dise_rows),
    ):
        for chunk in _chunks(rows):
            write(conn, chunk)
            done += len(chunk)
            report_progress("apply", done, total)

    item_gone = [s.row_id for key, rows in superseded.items() if key[0] == "hilist" for s in rows]
    dise_gone = [s.row_id for key, rows in superseded.items() if key[0] != "hilist" for s in rows]
    versions_repo.supersede(conn, item_ids=item_gone, dise_ids=dise_gone, version_id=version_id)

    report.applied = len(good)
    report.version_id = version_id
    report.ver_no = ver_no
    report.ver = label[:30]
    if cache is not None:
        invalidate_on_commit(conn, cache)
    return report


def import_file(conn: Connection, path: Path, **options: Any) -> ImportReport:
    """`import_sheet` for a CSV or XLSX file (see `catalog.source`)."""
    sheet = open_sheet(path)
    return import_sheet(conn, sheet, source=str(path.name), **options)


def invalidate_on_commit(conn: Connection, cache: CatalogCache) -> None:
    """Drop `cache`'s entries now and again when `conn`'s transaction commits, so that no
    reader caches the old catalog under the new version."""
    cache.invalidate()

    def after_commit(_conn: Connection) -> None:
        cache.invalidate()

    event.listen(conn, "commit", after_commit, once=True)
