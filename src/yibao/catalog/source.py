"""Reading a catalog file (CSV or XLSX) into a header and numbered rows of text.

A file that cannot be read is refused whole (`FileRefused`): an unknown extension, bytes that
are neither UTF-8 nor GB18030, a broken XLSX, no header. CSV may be UTF-8 (with or without a
BOM) or GB18030/GBK, as the published catalogs are; comma- or tab-separated. XLSX: the first
worksheet; numbers typed into cells arrive as floats from openpyxl and are turned into text by
their shortest round-trip form (0.1 stays "0.1"), never used as floats.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from yibao.errors import InvalidInput


class FileRefused(InvalidInput):
    """The file as a whole cannot be imported; nothing was applied."""


@dataclass
class SheetRows:
    """The header's titles and an iterator of (line number, cells)."""

    header: list[str]
    rows: Iterator[tuple[int, list[str]]]
    #: rows in the file when known in advance (for the progress bar)
    total: int | None


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, datetime):
        return (
            value.date().isoformat()
            if value.time() == datetime.min.time()
            else value.isoformat(" ")
        )
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, (int, Decimal)):
        return str(value)
    return str(value).strip()


def _decode(data: bytes, name: str) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise FileRefused(
        f"{name}: 无法按 UTF-8 或 GB18030 解码 (the file is neither UTF-8 nor GB18030 text)"
    )


def read_csv_text(text: str, name: str = "file") -> SheetRows:
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    if "\x00" in text[:4096]:
        raise FileRefused(f"{name}: 不是文本文件 (not a text file)")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise FileRefused(f"{name}: 文件为空, 没有表头 (empty file: no header)") from None
    except csv.Error as exc:
        raise FileRefused(f"{name}: 无法读取表头 (unreadable header: {exc})") from None
    total = max(text.count("\n") - 1, 0)

    def rows() -> Iterator[tuple[int, list[str]]]:
        line = reader.line_num
        try:
            for cells in reader:
                start = line + 1
                line = reader.line_num
                if not any(c.strip() for c in cells):
                    continue
                yield start, [c.strip() for c in cells]
        except csv.Error as exc:
            raise FileRefused(
                f"{name}: 第{reader.line_num}行无法解析, 文件未导入 "
                f"(line {reader.line_num} cannot be parsed; nothing imported): {exc}"
            ) from None

    return SheetRows([h.strip() for h in header], rows(), total)


def read_csv(path: Path) -> SheetRows:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise FileRefused(f"{path}: 无法读取文件 (cannot read the file: {exc.strerror})") from None
    return read_csv_text(_decode(data, path.name), path.name)


def read_xlsx(path: Path) -> SheetRows:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (OSError, zipfile.BadZipFile, InvalidFileException, KeyError, ValueError) as exc:
        raise FileRefused(
            f"{path.name}: 不是可读的 XLSX 文件 (not a readable XLSX workbook: {exc})"
        ) from None
    sheet = book.worksheets[0]
    iterator = sheet.iter_rows(values_only=True)
    try:
        first = next(iterator)
    except StopIteration:
        book.close()
        raise FileRefused(
            f"{path.name}: 工作表为空, 没有表头 (the first sheet is empty: no header)"
        ) from None
    header = [_cell(v) for v in first]
    total = sheet.max_row - 1 if sheet.max_row else None

    def rows() -> Iterator[tuple[int, list[str]]]:
        try:
            for line, values in enumerate(iterator, start=2):
                cells = [_cell(v) for v in values]
                if any(cells):
                    yield line, cells
        finally:
            book.close()

    return SheetRows(header, rows(), total)


def open_sheet(path: Path) -> SheetRows:
    """Read `path` by its extension: .csv/.tsv/.txt as text, .xlsx/.xlsm as a workbook."""
    suffix = path.suffix.lower()
    if not path.exists():
        raise FileRefused(f"{path}: 文件不存在 (no such file)")
    if suffix in (".csv", ".tsv", ".txt"):
        return read_csv(path)
    if suffix in (".xlsx", ".xlsm"):
        return read_xlsx(path)
    raise FileRefused(
        f"{path.name}: 不支持的文件类型 '{suffix}', 请用 CSV 或 XLSX (unsupported file type; use CSV or XLSX)"
    )
