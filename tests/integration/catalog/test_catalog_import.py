"""`catalog import`: both header styles, CSV and XLSX, row-by-row rejections, whole-file
refusals, nothing half-applied."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from catalog_factories import (
    CHINESE,
    DRUG,
    DRUG2,
    GOOD_ROWS,
    HERB,
    NATIONAL,
    NOW,
    SERVICE,
    apply,
    write_csv,
    write_xlsx,
)
from sqlalchemy import Engine, func, select

from yibao.catalog import repo
from yibao.catalog.importer import import_file
from yibao.catalog.source import FileRefused
from yibao.storage.tables import catalog_dise, catalog_item, catalog_version
from yibao.storage.uow import UnitOfWork

AT = datetime(2025, 1, 1)


def counts(engine: Engine) -> tuple[int, int, int]:
    with engine.connect() as conn:
        return (
            conn.execute(select(func.count()).select_from(catalog_version)).scalar_one(),
            conn.execute(select(func.count()).select_from(catalog_item)).scalar_one(),
            conn.execute(select(func.count()).select_from(catalog_dise)).scalar_one(),
        )


@pytest.mark.parametrize("header", [NATIONAL, CHINESE], ids=["national", "chinese"])
def test_csv_with_either_header_style(engine: Engine, tmp_path: Path, header: list[str]) -> None:
    report = apply(engine, write_csv(tmp_path / "c.csv", header, GOOD_ROWS))
    assert report.applied == 5 and report.rejected == []
    assert report.ver_no == 1 and report.kinds == ["101", "102", "201", "301"]
    with engine.connect() as conn:
        terms = repo.terms_at(conn, {DRUG, SERVICE, HERB, "nope"}, AT)
    assert set(terms) == {DRUG, SERVICE, HERB}
    drug = terms[DRUG]
    assert drug.chrgitm_lv == "02" and drug.selfpay_prop == Decimal("0.1000")
    assert drug.hilist_pric_uplmt_amt == Decimal("12.500000")
    assert drug.version_id == report.version_id


@pytest.mark.parametrize("header", [NATIONAL, CHINESE], ids=["national", "chinese"])
def test_xlsx_with_either_header_style(engine: Engine, tmp_path: Path, header: list[str]) -> None:
    rows: list[list[object]] = [list(r) for r in GOOD_ROWS]
    # Spreadsheet cells hold numbers and dates, not text.
    rows[0][4] = 0.1
    rows[0][5] = 12.5
    rows[0][8] = datetime(2024, 1, 1)
    report = apply(engine, write_xlsx(tmp_path / "c.xlsx", header, rows))
    assert report.applied == 5, [i.text() for i in report.rejected]
    with engine.connect() as conn:
        drug = repo.terms_at(conn, {DRUG}, AT)[DRUG]
    assert drug.selfpay_prop == Decimal("0.1000")
    assert drug.hilist_pric_uplmt_amt == Decimal("12.500000")
    assert drug.begndate == date(2024, 1, 1)


def test_gbk_encoded_csv(engine: Engine, tmp_path: Path) -> None:
    report = apply(engine, write_csv(tmp_path / "gbk.csv", CHINESE, GOOD_ROWS, encoding="gbk"))
    assert report.applied == 5
    with engine.connect() as conn:
        assert repo.terms_at(conn, {DRUG}, AT)[DRUG].hilist_name == "地喹氯铵含片"


def test_bad_rows_are_rejected_with_line_numbers_and_the_rest_applied(
    engine: Engine, tmp_path: Path
) -> None:
    rows = [
        *GOOD_ROWS[:2],
        ["XA01", "坏编码", "101", "01", "0", "", "09", "0", "2024-01-01", ""],
        [SERVICE, "等级错误", "201", "04", "0", "", "04", "0", "2024-01-01", ""],
        ["C0101010100100000009", "比例错误", "301", "02", "1.2", "", "08", "0", "2024-01-01", ""],
        ["T000100197", "日期颠倒", "102", "01", "0", "", "10", "0", "2024-06-01", "2024-01-01"],
    ]
    report = apply(engine, write_csv(tmp_path / "bad.csv", NATIONAL, rows))
    assert report.applied == 2
    by_line = {i.line: " ".join(i.reasons) for i in report.rejected}
    assert set(by_line) == {4, 5, 6, 7}
    assert "23位" in by_line[4]
    assert "01甲类/02乙类/03丙类" in by_line[5]
    assert "0到1" in by_line[6]
    assert "早于开始日期" in by_line[7]
    assert counts(engine) == (1, 2, 0)


def test_a_wrong_header_refuses_the_whole_file(engine: Engine, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "h.csv", ["code", "名字"], [[DRUG, "x"]])
    with pytest.raises(FileRefused, match="表头"):
        apply(engine, path)
    assert counts(engine) == (0, 0, 0)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("broken.xlsx", b"this is not a zip"),
        ("latin.csv", b"hilist_code,hilist_name\n\xff\xfe\xfa\xfb,\x81\n"),
        ("catalog.pdf", b"%PDF-1.4"),
        ("empty.csv", b""),
    ],
)
def test_an_unreadable_file_is_refused_whole(
    engine: Engine, tmp_path: Path, name: str, content: bytes
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(FileRefused):
        apply(engine, path)
    assert counts(engine) == (0, 0, 0)


def test_missing_file_is_refused(engine: Engine, tmp_path: Path) -> None:
    with pytest.raises(FileRefused, match="不存在"):
        apply(engine, tmp_path / "nope.csv")


def test_nothing_half_applied_when_the_transaction_fails(engine: Engine, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "c.csv", NATIONAL, GOOD_ROWS)
    with pytest.raises(RuntimeError), UnitOfWork(engine) as uow:
        import_file(uow.conn, path, now=NOW)
        raise RuntimeError("crash after the inserts, before the commit")
    assert counts(engine) == (0, 0, 0)


def test_strict_mode_applies_nothing_when_a_row_is_rejected(engine: Engine, tmp_path: Path) -> None:
    rows = [*GOOD_ROWS, ["XA01", "坏编码", "101", "01", "0", "", "09", "0", "2024-01-01", ""]]
    report = apply(engine, write_csv(tmp_path / "c.csv", NATIONAL, rows), strict=True)
    assert report.version_id is None and report.not_applied_reason
    assert len(report.rejected) == 1
    assert counts(engine) == (0, 0, 0)


def test_dry_run_writes_nothing(engine: Engine, tmp_path: Path) -> None:
    report = apply(engine, write_csv(tmp_path / "c.csv", NATIONAL, GOOD_ROWS), dry_run=True)
    assert report.applied == 5 and report.version_id is None
    assert counts(engine) == (0, 0, 0)


def test_code_catalogs_and_kind_option(engine: Engine, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "icd.csv",
        ["诊断代码", "诊断名称", "开始日期"],
        [
            ["I10.x00", "原发性高血压", "2020-01-01"],
            ["E11.900", "2型糖尿病", "2020-01-01"],
            ["i10", "坏", "2020-01-01"],
        ],
    )
    report = apply(engine, path, kind="diagnosis")
    assert report.applied == 2 and [i.line for i in report.rejected] == [4]
    with engine.connect() as conn:
        found = repo.dise_at(conn, "diagnosis", {"I10.x00", "E11.900", "X"}, AT)
    assert set(found) == {"I10.x00", "E11.900"}


def test_unrecognised_columns_are_ignored_and_reported(engine: Engine, tmp_path: Path) -> None:
    header = ["序号", *NATIONAL, "批准文号"]
    rows = [[str(i), *r, "国药准字H0000"] for i, r in enumerate(GOOD_ROWS)]
    report = apply(engine, write_csv(tmp_path / "c.csv", header, rows))
    assert report.applied == 5
    assert report.ignored_columns == ["序号", "批准文号"]


def test_versions_are_numbered_in_order(engine: Engine, tmp_path: Path) -> None:
    first = apply(engine, write_csv(tmp_path / "a.csv", NATIONAL, GOOD_ROWS[:1]))
    second = apply(engine, write_csv(tmp_path / "b.csv", NATIONAL, GOOD_ROWS[1:2]), ver="2025-R1")
    assert (first.ver_no, second.ver_no) == (1, 2)
    assert second.ver == "2025-R1"
    with engine.connect() as conn:
        assert repo.head_ver_no(conn) == 2
        assert [v["ver_no"] for v in repo.versions(conn)] == [2, 1]
        assert set(repo.terms_at(conn, {DRUG, DRUG2}, AT)) == {DRUG, DRUG2}
