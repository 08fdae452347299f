"""Benchmark: import a synthetic 300,000-row national catalog into a fresh row store.

    .venv/bin/python -m yibao.bench.catalog_import [--rows 300000] [--database-url URL]
                                                   [--json PATH]

Writes a CSV with the national header (drugs, service items, consumables, herbs with valid
codes, classes, ratios, caps and some restrictions) to a temporary directory, migrates a fresh
SQLite database there (or uses --database-url, which must be an empty migrated store), and
times `catalog.importer.import_file` plus the commit: one transaction, chunked executemany.
Prints rows/s and the machine, and writes the figures as JSON. The goal: 300k rows in under a
minute. Not a test: speed lives in benchmarks.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import tempfile
import time
from pathlib import Path

HEADER = [
    "hilist_code",
    "hilist_name",
    "list_type",
    "chrgitm_lv",
    "selfpay_prop",
    "hilist_pric_uplmt_amt",
    "med_chrgitm_type",
    "lmt_used_flag",
    "prcunt",
    "spec",
    "lmt_gend",
    "lmt_age_max",
    "lmt_hosp_lv",
    "lmt_diag_codes",
    "begndate",
    "enddate",
]


def synthetic_row(i: int) -> list[str]:
    """Row i of the synthetic catalog: unique, valid national codes of four list types."""
    kind = i % 20
    level = ("01", "02", "02", "03")[i % 4]
    ratio = {"01": "0", "02": ("0.05", "0.1", "0.2")[i % 3], "03": "1"}[level]
    cap = f"{(i % 997) + 1}.{i % 100:02d}" if i % 5 else ""
    gend = ("1", "2")[i % 2] if i % 37 == 0 else ""
    age_max = "14" if i % 41 == 0 else ""
    hosp_lv = "3" if i % 53 == 0 else ""
    diag = "E11,E10" if i % 29 == 0 else ""
    begn = "2024-01-01"
    end = "2030-12-31" if i % 7 == 0 else ""
    if kind < 12:
        code = f"XA01ABD{i % 1000:03d}A002{i // 100000:04d}{i % 100000:05d}"
        return [code, f"合成药品{i}片", "101", level, ratio, cap, "09", "1" if diag else "0",
                "片", "0.25g*24片", gend, age_max, hosp_lv, diag, begn, end]  # fmt: skip
    if kind < 16:
        code = f"00{i:013d}"
        return [code, f"合成诊疗项目{i}", "201", level, ratio, cap, "05", "0",
                "次", "", gend, age_max, hosp_lv, "", begn, end]  # fmt: skip
    if kind < 19:
        code = f"C{i:019d}"
        return [code, f"合成医用耗材{i}", "301", level, ratio, cap, "08", "0",
                "个", "规格A", gend, "", hosp_lv, "", begn, end]  # fmt: skip
    code = f"T{i:09d}"
    return [code, f"合成饮片{i}", "102", level, ratio, cap, "10", "0",
            "克", "", "", "", "", "", begn, end]  # fmt: skip


def write_csv(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        for i in range(rows):
            writer.writerow(synthetic_row(i))


def main(argv: list[str] | None = None) -> dict[str, object]:
    from yibao.catalog.importer import import_file
    from yibao.storage.engine import make_engine, make_null_engine
    from yibao.storage.migrate import upgrade
    from yibao.storage.uow import UnitOfWork

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--json", type=Path, default=None, help="where to write the figures")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="yibao-bench-catalog-") as tmp:
        tmpdir = Path(tmp)
        csv_path = tmpdir / "catalog.csv"
        t0 = time.perf_counter()
        write_csv(csv_path, args.rows)
        t_write = time.perf_counter() - t0

        url = args.database_url or f"sqlite:///{tmpdir / 'bench.db'}"
        if args.database_url is None:
            migrator = make_null_engine(url)
            upgrade(migrator)
            migrator.dispose()
        engine = make_engine(url)
        try:
            t1 = time.perf_counter()
            with UnitOfWork(engine) as uow:
                report = import_file(uow.conn, csv_path, created_by="bench")
                t_checked = time.perf_counter()
                uow.commit()
            elapsed = time.perf_counter() - t1
            del t_checked
        finally:
            engine.dispose()

    result: dict[str, object] = {
        "benchmark": "catalog_import",
        "rows": args.rows,
        "applied": report.applied,
        "rejected": len(report.rejected),
        "seconds": round(elapsed, 3),
        "rows_per_second": round(report.applied / elapsed) if elapsed else None,
        "csv_write_seconds": round(t_write, 3),
        "database": url.split(":", 1)[0],
        "machine": {
            "python": platform.python_version(),
            "system": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cpus": os.cpu_count(),
        },
        "goal": "300,000 rows in under 60 s",
    }
    print(
        f"catalog import: {report.applied:,} rows applied ({len(report.rejected)} rejected) "
        f"in {elapsed:.2f} s = {result['rows_per_second']:,} rows/s "
        f"[{result['database']}, {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"{platform.platform()}]"
    )
    out = args.json or Path(tempfile.gettempdir()) / "yibao-bench-catalog_import.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"figures written to {out}")
    return result


if __name__ == "__main__":
    main()
