"""Factories for the catalog's integration tests: files, institutions, call contexts."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from openpyxl import Workbook
from sqlalchemy import Connection, Engine, insert

from yibao.catalog.importer import ImportReport, import_file
from yibao.interface.context import CallContext, Institution
from yibao.kit.ids import default_ids
from yibao.storage.tables import fixmedins
from yibao.storage.uow import UnitOfWork

NATIONAL = [
    "hilist_code",
    "hilist_name",
    "list_type",
    "chrgitm_lv",
    "selfpay_prop",
    "hilist_pric_uplmt_amt",
    "med_chrgitm_type",
    "lmt_used_flag",
    "begndate",
    "enddate",
]
CHINESE = [
    "医保目录编码",
    "注册名称",
    "目录类别",
    "收费项目等级",
    "自付比例",
    "限价",
    "收费类别",
    "限制使用标志",
    "开始日期",
    "结束日期",
]

DRUG = "XA01ABD075A002010100483"
DRUG2 = "XJ01CAA040E001010100001"
SERVICE = "250101015000000"
CONSUMABLE = "C0101010100100000001"
HERB = "T000100196"

GOOD_ROWS = [
    [DRUG, "地喹氯铵含片", "101", "02", "0.10", "12.50", "09", "0", "2024-01-01", ""],
    [DRUG2, "阿莫西林胶囊", "101", "01", "0", "0.80", "09", "0", "2024-01-01", ""],
    [SERVICE, "血细胞分析(血常规)", "201", "01", "0", "25", "04", "0", "2024-01-01", ""],
    [CONSUMABLE, "一次性使用输液器", "301", "01", "0", "4", "08", "0", "2024-01-01", ""],
    [HERB, "黄芪", "102", "01", "0", "0.12", "10", "0", "2024-01-01", ""],
]
NOW = datetime(2025, 3, 1, 9, 30, 0)


def write_csv(
    path: Path, header: list[str], rows: list[list[str]], encoding: str = "utf-8"
) -> Path:
    with path.open("w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_xlsx(path: Path, header: list[str], rows: list[list[Any]]) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(header)
    for r in rows:
        sheet.append(r)
    book.save(path)
    return path


def apply(engine: Engine, path: Path, **options: Any) -> ImportReport:
    options.setdefault("now", NOW)
    with UnitOfWork(engine) as uow:
        report = import_file(uow.conn, path, **options)
        uow.commit()
    return report


def add_institution(conn: Connection, code: str = "H37010200001", hosp_lv: str = "3") -> None:
    conn.execute(
        insert(fixmedins).values(
            fixmedins_code=code,
            fixmedins_name=f"测试机构{code}",
            kind="hospital" if code.startswith("H") else "pharmacy",
            hosp_lv=hosp_lv,
            admdvs=code[1:7],
            vali_flag="1",
            created_at=NOW,
            updated_at=NOW,
        )
    )


def ctx(code: str = "H37010200001", now: datetime = NOW, infno: str = "1301") -> CallContext:
    return CallContext(
        infno=infno,
        msgid=f"{code}{now:%Y%m%d%H%M%S}0001",
        institution=Institution(code, f"测试机构{code}", "hospital", "3", code[1:7], None),
        opter="0001",
        opter_name="经办人",
        opter_type="1",
        inf_time=now,
        now=now,
        mdtrtarea_admvs=code[1:7],
        insuplc_admdvs=None,
        sign_no=None,
        signtype=None,
        # the handlers take only the id generator from the platform
        platform=SimpleNamespace(ids=default_ids),  # type: ignore[arg-type]
    )
