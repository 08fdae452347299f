"""The knowledge base between its tables, its files and the rules' plain data.

`read_file` parses a CSV or XLSX file of one table (national column names or the Chinese
headers below) into rows, refusing the whole file on the first bad row with the row number and
the reason; `import_table` replaces the table's rows in the caller's transaction;
`knowledge_base` builds `risk.kb.KnowledgeBase` from the tables.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from yibao.errors import InvalidInput
from yibao.kit.ids import IdGenerator
from yibao.review import repo
from yibao.risk.kb import (
    KB_TABLES,
    WINDOW_KEYS,
    BundlePart,
    ConsumableLink,
    DrugLimit,
    FrequencyLimit,
    ItemPair,
    KnowledgeBase,
    PriceLimit,
    Window,
)

#: Chinese headers accepted beside the national (column) names
HEADERS_ZH: Mapping[str, str] = {
    "项目A编码": "hilist_code_a",
    "项目A": "hilist_code_a",
    "项目B编码": "hilist_code_b",
    "项目B": "hilist_code_b",
    "关系": "relation",
    "备注": "memo",
    "打包项目编码": "bundle_code",
    "打包项目名称": "bundle_name",
    "组成项目编码": "hilist_code",
    "最少组成项目数": "min_parts",
    "医保目录编码": "hilist_code",
    "项目编码": "hilist_code",
    "医院等级": "hosp_lv",
    "机构等级": "hosp_lv",
    "最高单价": "max_pric",
    "标准价格": "max_pric",
    "最大天数": "max_days",
    "最大日剂量": "max_daily_dose",
    "每日上限": "per_day",
    "每次住院上限": "per_admission",
    "每年上限": "per_year",
    "窗口": "window_key",
    "窗口类型": "window_key",
    "天数": "days",
    "阈值": "threshold",
    "医疗类别": "med_type",
    "高值耗材编码": "consumable_code",
    "手术操作编码": "procedure_code",
    "开始日期": "begndate",
    "结束日期": "enddate",
    "生效日期": "begndate",
    "失效日期": "enddate",
}

RELATIONS_ZH = {"项目内涵": "includes", "内涵": "includes", "互斥": "excludes"}


@dataclass(frozen=True, slots=True)
class _Col:
    kind: str  # code | text | int | dec | date | relation | window | level
    required: bool


_CODE = _Col("code", True)
_DATES = {
    "begndate": _Col("date", True),
    "enddate": _Col("date", False),
    "memo": _Col("text", False),
}

SPEC: Mapping[str, Mapping[str, _Col]] = {
    "item_pairs": {
        "hilist_code_a": _CODE,
        "hilist_code_b": _CODE,
        "relation": _Col("relation", True),
        **_DATES,
    },
    "bundles": {
        "bundle_code": _CODE,
        "bundle_name": _Col("text", True),
        "hilist_code": _CODE,
        "min_parts": _Col("int", False),
        **_DATES,
    },
    "price_limits": {
        "hilist_code": _CODE,
        "hosp_lv": _Col("level", True),
        "max_pric": _Col("dec", True),
        **_DATES,
    },
    "drug_limits": {
        "hilist_code": _CODE,
        "med_type": _Col("code", False),
        "max_days": _Col("dec", False),
        "max_daily_dose": _Col("dec", False),
        **_DATES,
    },
    "frequency_limits": {
        "hilist_code": _CODE,
        "per_day": _Col("dec", False),
        "per_admission": _Col("dec", False),
        "per_year": _Col("dec", False),
        **_DATES,
    },
    "windows": {
        "window_key": _Col("window", True),
        "days": _Col("int", False),
        "threshold": _Col("dec", False),
        **_DATES,
    },
    "consumable_links": {"consumable_code": _CODE, "procedure_code": _CODE, **_DATES},
}

assert tuple(SPEC) == KB_TABLES


def _bad(row: int, column: str, zh: str, en: str) -> InvalidInput:
    return InvalidInput(
        f"第{row}行 {column}: {zh} (row {row}, {column}: {en}); 整个文件未导入 (nothing imported)"
    )


def _cell(raw: object) -> str:
    if raw is None:
        return ""
    if isinstance(raw, datetime):
        return raw.date().isoformat()
    if isinstance(raw, date):
        return raw.isoformat()
    if isinstance(raw, float):
        # openpyxl gives numbers typed into a sheet as floats: their shortest repr is exact
        # for the decimals a person types (never used for money arithmetic before Decimal)
        return repr(raw).removesuffix(".0") if raw.is_integer() else repr(raw)
    return str(raw).strip()


def _value(kind: str, text: str, row: int, column: str) -> object:
    if kind in ("code", "text"):
        limit = 50 if kind == "code" else 500
        if len(text) > limit:
            raise _bad(row, column, f"长度超过 {limit}", f"longer than {limit}")
        return text
    if kind == "int":
        if not text.isdigit() or int(text) <= 0:
            raise _bad(row, column, f"应为正整数 '{text}'", "expected a positive integer")
        return int(text)
    if kind == "dec":
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise _bad(row, column, f"应为数值 '{text}'", "expected a number") from None
        if not value.is_finite() or value <= 0:
            raise _bad(row, column, f"应为正数 '{text}'", "expected a positive number")
        return value
    if kind == "date":
        try:
            return date.fromisoformat(text[:10])
        except ValueError:
            raise _bad(
                row, column, f"日期格式应为 yyyy-MM-dd '{text}'", "expected yyyy-MM-dd"
            ) from None
    if kind == "relation":
        relation = RELATIONS_ZH.get(text, text)
        if relation not in ("includes", "excludes"):
            raise _bad(
                row,
                column,
                f"应为 includes(项目内涵) 或 excludes(互斥) '{text}'",
                "includes | excludes",
            )
        return relation
    if kind == "window":
        if text not in WINDOW_KEYS:
            raise _bad(
                row,
                column,
                f"应为 {'/'.join(WINDOW_KEYS)} '{text}'",
                f"one of {', '.join(WINDOW_KEYS)}",
            )
        return text
    if kind == "level":
        if text not in ("*", "1", "2", "3"):
            raise _bad(row, column, f"机构等级应为 1/2/3/* '{text}'", "hosp_lv 1, 2, 3 or *")
        return text
    raise AssertionError(kind)


def _records(path: Path) -> list[list[object]]:
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        import openpyxl  # the CLI's file reader; not needed by the server's hot path

        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        try:
            sheet = book.worksheets[0]
            return [list(r) for r in sheet.iter_rows(values_only=True)]
        finally:
            book.close()
    if suffix in (".csv", ".txt"):
        data = path.read_bytes()
        for enc in ("utf-8-sig", "gbk"):
            try:
                text = data.decode(enc)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise InvalidInput("文件编码应为 UTF-8 或 GBK (file encoding must be UTF-8 or GBK)")
        return [list(r) for r in csv.reader(io.StringIO(text))]
    raise InvalidInput(
        f"不支持的文件类型 '{path.suffix}', 请用 .csv 或 .xlsx (use a CSV or XLSX file)"
    )


def read_file(table: str, path: Path) -> list[dict[str, Any]]:
    """The rows of a knowledge file for `table`; InvalidInput names the first bad row."""
    if table not in SPEC:
        raise InvalidInput(
            f"TABLE: 未知的知识库表 '{table}', 可选 {', '.join(KB_TABLES)} (unknown table)"
        )
    spec = SPEC[table]
    records = [r for r in _records(path) if any(_cell(c) for c in r)]
    if not records:
        raise InvalidInput("文件为空, 第1行应为表头 (empty file; the first row is the header)")
    header: list[str | None] = []
    for raw in records[0]:
        name = _cell(raw)
        column = HEADERS_ZH.get(name, name)
        if column and column not in spec:
            raise _bad(1, name, "未知的列", f"unknown column; expected {', '.join(spec)}")
        header.append(column or None)
    for column, col in spec.items():
        if col.required and column not in header:
            raise _bad(1, column, "缺少必填列", "required column missing")
    out: list[dict[str, Any]] = []
    for i, rec in enumerate(records[1:], start=2):
        row: dict[str, Any] = {}
        for head, raw in zip(header, rec, strict=False):
            if head is None:
                continue
            text = _cell(raw)
            if not text:
                continue
            row[head] = _value(spec[head].kind, text, i, head)
        for column, col in spec.items():
            if column not in row:
                if col.required:
                    raise _bad(i, column, "必填", "required")
                row[column] = None
        if table == "bundles" and row["min_parts"] is None:
            row["min_parts"] = 2  # two parts billed apart already split the bundle
        if row["enddate"] is not None and row["enddate"] < row["begndate"]:
            raise _bad(i, "enddate", "失效日期早于生效日期", "enddate before begndate")
        if table == "windows" and row["days"] is None and row["threshold"] is None:
            raise _bad(i, "days", "天数和阈值至少填一个", "give days or threshold")
        if table == "drug_limits" and row["max_days"] is None and row["max_daily_dose"] is None:
            raise _bad(
                i, "max_days", "最大天数和最大日剂量至少填一个", "give max_days or max_daily_dose"
            )
        if table == "frequency_limits" and all(
            row[c] is None for c in ("per_day", "per_admission", "per_year")
        ):
            raise _bad(i, "per_day", "每日/每次住院/每年上限至少填一个", "give at least one limit")
        out.append(row)
    return out


def import_table(
    conn: Connection,
    table: str,
    rows: Sequence[Mapping[str, Any]],
    *,
    ids: IdGenerator,
    now: datetime,
) -> int:
    """Replace `table`'s rows with `rows` (in the caller's transaction)."""
    stamped = [{**r, "row_id": ids.next_str(), "created_at": now, "updated_at": now} for r in rows]
    repo.kb_replace(conn, table, stamped)
    return len(stamped)


def export_rows(conn: Connection, table: str) -> tuple[list[str], list[list[str]]]:
    """The header (national names) and the rows of a table, as text."""
    columns = repo.kb_columns(table)
    out = []
    for r in repo.kb_rows(conn, table):
        out.append([_text(r[c]) for c in columns])
    return columns, out


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _d(value: Any) -> Decimal | None:
    return None if value is None else Decimal(value)


_BUILD: Mapping[str, Callable[[Mapping[str, Any]], object]] = {
    "item_pairs": lambda r: ItemPair(
        r["begndate"], r["enddate"], r["hilist_code_a"], r["hilist_code_b"], r["relation"], r["memo"] or ""
    ),
    "bundles": lambda r: BundlePart(
        r["begndate"], r["enddate"], r["bundle_code"], r["bundle_name"], r["hilist_code"],
        int(r["min_parts"]), r["memo"] or "",
    ),
    "price_limits": lambda r: PriceLimit(
        r["begndate"], r["enddate"], r["hilist_code"], r["hosp_lv"], Decimal(r["max_pric"]), r["memo"] or ""
    ),
    "drug_limits": lambda r: DrugLimit(
        r["begndate"], r["enddate"], r["hilist_code"], _d(r["max_days"]), _d(r["max_daily_dose"]),
        r["memo"] or "", r["med_type"],
    ),
    "frequency_limits": lambda r: FrequencyLimit(
        r["begndate"], r["enddate"], r["hilist_code"], _d(r["per_day"]), _d(r["per_admission"]),
        _d(r["per_year"]), r["memo"] or "",
    ),
    "windows": lambda r: Window(
        r["begndate"], r["enddate"], r["window_key"],
        None if r["days"] is None else int(r["days"]), r["memo"] or "", _d(r["threshold"]),
    ),
    "consumable_links": lambda r: ConsumableLink(
        r["begndate"], r["enddate"], r["consumable_code"], r["procedure_code"], r["memo"] or ""
    ),
}  # fmt: skip


def knowledge_base(conn: Connection) -> KnowledgeBase:
    """Every knowledge table's rows as the rules' plain data."""
    parts: dict[str, tuple[Any, ...]] = {}
    for table in KB_TABLES:
        build = _BUILD[table]
        parts[table] = tuple(build(r) for r in repo.kb_rows(conn, table))
    return KnowledgeBase(**parts)


def knowledge_base_from_rows(rows: Mapping[str, Sequence[Mapping[str, Any]]]) -> KnowledgeBase:
    """The rules' knowledge base from table rows held in memory (a knowledge document, e.g.
    `review.demo_kb.rows_from_document`); a column a row leaves out is empty."""
    parts: dict[str, tuple[Any, ...]] = {}
    for table in KB_TABLES:
        build = _BUILD[table]
        parts[table] = tuple(build(defaultdict(lambda: None, row)) for row in rows.get(table, ()))
    return KnowledgeBase(**parts)
