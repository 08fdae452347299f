"""对账: reconciliation transactions 3201 (totals), 3202 (detail, by file) and the file
transfer 9101 (upload) / 9102 (download). docs/console.md "Reconciliation files
(provisional)" defines the files.

Which settlements take part (both 3201 and 3202): the calling institution's own `setl` rows
with `clr_optins` = `setl_optins`, `setl_time` from `stmt_begndate` 00:00:00 through
`stmt_enddate` 23:59:59, and the given `insutype` / `clr_type`. Then `refd_setl_flag`:

- "1", empty or absent — reversals included: every settlement that was made (still valid,
  or cancelled by a reversal record) counts positive, and every valid reversal record counts
  as its own row with negative amounts. A settlement erased without a reversal record (2601
  冲正 of the settling message) does not count.
- "0" — reversals excluded: only settlements still valid; reversal records and the
  settlements they cancel are left out.

`fixmedins_setl_cnt` is the number of rows so counted (a reversal record is one row).

Files (9101/9102) belong to the institution that uploaded them or for which they were
produced; another institution's request is refused. `fetch_file` returns
`{"filename": str, "content": bytes}`; the gateway answers 9102 with the bytes as
`application/octet-stream` (`Content-Disposition: attachment; filename=…`).

The handlers (`yibao.interface.transactions.reconcile` and `.files`) parse the input into
`settlement.commands_reconcile` commands; the SQL is in `settlement.repo.reconcile` and
`settlement.repo.files`.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection

from yibao.codes.dicts import StmtRslt
from yibao.errors import Conflict, Forbidden, InvalidInput, NotFound
from yibao.kit.clock import fmt_datetime
from yibao.kit.ids import IdGenerator
from yibao.kit.money import MoneyError, fmt, parse_amount
from yibao.settlement.commands_reconcile import (
    DetailStatement,
    FileDownload,
    FileUpload,
    StatementPeriod,
    TotalsStatement,
)
from yibao.settlement.repo import files as files_repo
from yibao.settlement.repo import reconcile as reconcile_repo
from yibao.settlement.repo.reconcile import AMOUNTS as AMOUNTS
from yibao.settlement.repo.reconcile import Scope as Scope
from yibao.settlement.repo.reconcile import totals as totals

#: how long an uploaded or produced file can be downloaded
FILE_TTL = timedelta(hours=24)
#: the largest file 9101 takes, and the largest text inside a 3202 zip
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_TEXT_BYTES = 100 * 1024 * 1024
MAX_DETAIL_ROWS = 500_000

UPLOAD_FIELDS = (
    "setl_id",
    "mdtrt_id",
    "psn_no",
    "medfee_sumamt",
    "fund_pay_sumamt",
    "acct_pay",
    "refd_setl_flag",
)
RESULT_FIELDS = (
    "psn_no",
    "mdtrt_id",
    "setl_id",
    "msgid",
    "stmt_rslt",
    "refd_setl_flag",
    "memo",
    "medfee_sumamt",
    "fund_pay_sumamt",
    "acct_pay",
)
_LABELS = {
    "medfee_sumamt": "医疗费总额",
    "fund_pay_sumamt": "基金支付",
    "acct_pay": "个人账户",
    "fixmedins_setl_cnt": "结算笔数",
}
CENTER_MORE = "中心多"
HOSPITAL_MORE = "医院多"
AMOUNT_MISMATCH = "金额不符"
INFO_MISMATCH = "信息不符"


# ---------------------------------------------------------------------------------------------
# which settlements count
# ---------------------------------------------------------------------------------------------


def scope_of(period: StatementPeriod, *, fixmedins_code: str) -> Scope:
    """The settlements of `fixmedins_code` that a statement over `period` covers."""
    return Scope(
        fixmedins_code=fixmedins_code,
        setl_optins=period.setl_optins,
        begin=period.stmt_begndate,
        end=period.stmt_enddate,
        include_reversals=period.include_reversals,
        insutype=period.insutype,
        clr_type=period.clr_type,
    )


# ---------------------------------------------------------------------------------------------
# 3201 total reconciliation
# ---------------------------------------------------------------------------------------------


def _fmt(value: Decimal | int) -> str:
    return str(value) if isinstance(value, int) else fmt(value)


def statement_totals(
    conn: Connection, cmd: TotalsStatement, *, fixmedins_code: str
) -> dict[str, Any]:
    """3201: the institution's sums against the platform's; `stmtinfo` says balanced or not
    and, when not, by how much each differs."""
    scope = scope_of(cmd.period, fixmedins_code=fixmedins_code)
    theirs: dict[str, Decimal | int] = {
        "medfee_sumamt": cmd.medfee_sumamt,
        "fund_pay_sumamt": cmd.fund_pay_sumamt,
        "acct_pay": cmd.acct_pay,
        "fixmedins_setl_cnt": cmd.fixmedins_setl_cnt,
    }
    ours = totals(conn, scope)
    differences = []
    for name, label in _LABELS.items():
        if theirs[name] != ours[name]:
            diff = theirs[name] - ours[name]
            differences.append(
                f"{label}: 医院{_fmt(theirs[name])} 中心{_fmt(ours[name])} 差{_fmt(diff)}"
            )
    if differences:
        result, text = StmtRslt.UNBALANCED, "不平; " + "; ".join(differences)
    else:
        result = StmtRslt.BALANCED
        text = (
            f"平: {ours['fixmedins_setl_cnt']}笔, 医疗费总额{_fmt(ours['medfee_sumamt'])}, "
            f"基金支付{_fmt(ours['fund_pay_sumamt'])}, 个人账户{_fmt(ours['acct_pay'])}"
        )
    return {
        "stmtinfo": {
            "setl_optins": scope.setl_optins,
            "stmt_rslt": result.value,
            "stmt_rslt_dscr": text[:200],
        }
    }


# ---------------------------------------------------------------------------------------------
# 9101 upload / 9102 download
# ---------------------------------------------------------------------------------------------


def _own_code(claimed: str, *, fixmedins_code: str, node_name: str, verb: str) -> None:
    if claimed != fixmedins_code:
        raise Forbidden(
            f"{node_name}.fixmedins_code: 只能{verb}本机构的文件 '{claimed}' "
            f"(an institution may only {'upload' if verb == '上传' else 'download'} its own files)"
        )


def store_file(
    conn: Connection,
    *,
    ids: IdGenerator,
    fixmedins_code: str,
    filename: str,
    content: bytes,
    direction: str,
    now: datetime,
) -> dict[str, Any]:
    """Keep a file for 9102; returns `{file_qury_no, filename, dld_endtime}`."""
    file_qury_no = ids.next_str()
    expires = now + FILE_TTL
    files_repo.insert_file(
        conn,
        file_qury_no=file_qury_no,
        fixmedins_code=fixmedins_code,
        filename=filename,
        direction=direction,
        content=content,
        created_at=now,
        expires_at=expires,
    )
    return {
        "file_qury_no": file_qury_no,
        "filename": filename,
        "dld_endtime": fmt_datetime(expires),
    }


def load_file(
    conn: Connection, *, fixmedins_code: str, now: datetime, file_qury_no: str, where: str
) -> Mapping[str, Any]:
    """A stored file of the institution that has not expired; `where` names the field."""
    row = files_repo.file_by_number(conn, file_qury_no)
    if row is None:
        raise NotFound(f"{where}: 文件不存在 '{file_qury_no}' (no such file)")
    if row["fixmedins_code"] != fixmedins_code:
        raise Forbidden(
            f"{where}: 该文件不属于本机构 '{file_qury_no}' (the file belongs to another institution)"
        )
    if row["expires_at"] < now:
        raise Conflict(
            f"{where}: 文件已过下载期限 {fmt_datetime(row['expires_at'])} (the file has expired)"
        )
    return dict(row)


def keep_upload(
    conn: Connection, cmd: FileUpload, *, fixmedins_code: str, now: datetime, ids: IdGenerator
) -> dict[str, Any]:
    """9101: keep the institution's file; `{file_qury_no, filename, dld_endtime}`."""
    _own_code(
        cmd.fixmedins_code, fixmedins_code=fixmedins_code, node_name="fsUploadIn", verb="上传"
    )
    return store_file(
        conn,
        ids=ids,
        fixmedins_code=fixmedins_code,
        filename=cmd.filename,
        content=cmd.content,
        direction="upload",
        now=now,
    )


def fetch_file(
    conn: Connection, cmd: FileDownload, *, fixmedins_code: str, now: datetime
) -> dict[str, Any]:
    """9102: `{"filename", "content"}` of the institution's own file."""
    _own_code(
        cmd.fixmedins_code, fixmedins_code=fixmedins_code, node_name="fsDownloadIn", verb="下载"
    )
    row = load_file(
        conn,
        fixmedins_code=fixmedins_code,
        now=now,
        file_qury_no=cmd.file_qury_no,
        where="fsDownloadIn.file_qury_no",
    )
    if cmd.filename not in (None, "plc", row["filename"]):
        raise InvalidInput(
            f"fsDownloadIn.filename: 文件名与文件查询号不符 '{cmd.filename}' "
            f"(does not match the file, expected '{row['filename']}')"
        )
    return {"filename": row["filename"], "content": bytes(row["content"])}


# ---------------------------------------------------------------------------------------------
# 3202 detail reconciliation
# ---------------------------------------------------------------------------------------------


def _zip_text(content: bytes, where: str) -> str:
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except zipfile.BadZipFile:
        raise InvalidInput(
            f"{where}: 上传文件不是 zip 文件 (the uploaded file is not a zip)"
        ) from None
    with archive:
        members = [i for i in archive.infolist() if not i.is_dir()]
        texts = [i for i in members if i.filename.lower().endswith(".txt")]
        chosen = texts[0] if texts else (members[0] if len(members) == 1 else None)
        if chosen is None:
            raise InvalidInput(f"{where}: zip 中没有 txt 文件 (no .txt file inside the zip)")
        if chosen.file_size > MAX_TEXT_BYTES:
            raise InvalidInput(f"{where}: 明细文件过大 (the detail file is too large)")
        raw = archive.read(chosen)
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InvalidInput(f"{where}: 明细文件编码无法识别, 请用 UTF-8 (use UTF-8)")


def parse_detail(text: str, where: str = "明细文件") -> list[dict[str, Any]]:
    """The hospital's rows (docs/console.md); errors name the line and the field."""
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        cells = [c.strip() for c in line.split("\t")]
        if number == 1 and cells[0].lower() == "setl_id":
            continue  # header
        while len(cells) > len(UPLOAD_FIELDS) and cells[-1] == "":
            cells.pop()
        if len(cells) != len(UPLOAD_FIELDS):
            raise InvalidInput(
                f"{where} 第{number}行: 应有 {len(UPLOAD_FIELDS)} 列 (tab 分隔), 实为 {len(cells)} 列 "
                f"(line {number}: expected {len(UPLOAD_FIELDS)} tab-separated fields)"
            )
        row: dict[str, Any] = dict(zip(UPLOAD_FIELDS, cells, strict=True))
        if not row["setl_id"]:
            raise InvalidInput(f"{where} 第{number}行 setl_id: 必填 (line {number}: required)")
        if row["setl_id"] in seen:
            raise InvalidInput(
                f"{where} 第{number}行 setl_id: 重复 '{row['setl_id']}' (line {number}: duplicate)"
            )
        seen.add(row["setl_id"])
        for name in AMOUNTS:
            try:
                row[name] = parse_amount(row[name], field=name, allow_negative=True)
            except MoneyError as exc:
                raise InvalidInput(f"{where} 第{number}行 {exc} (line {number})") from None
        flag = row["refd_setl_flag"] or "0"
        if flag not in ("0", "1"):
            raise InvalidInput(
                f"{where} 第{number}行 refd_setl_flag: 应为 0 或 1 (line {number}: '0' or '1')"
            )
        row["refd_setl_flag"] = flag
        rows.append(row)
        if len(rows) > MAX_DETAIL_ROWS:
            raise InvalidInput(f"{where}: 超过 {MAX_DETAIL_ROWS} 行 (too many rows)")
    return rows


def _result_row(
    source: Mapping[str, Any], *, msgid: str, rslt: StmtRslt, memo: str
) -> dict[str, Any]:
    return {
        "psn_no": source["psn_no"],
        "mdtrt_id": source["mdtrt_id"],
        "setl_id": source["setl_id"],
        "msgid": msgid,
        "stmt_rslt": rslt.value,
        "refd_setl_flag": source["refd_setl_flag"],
        "memo": memo,
        **{name: source[name] for name in AMOUNTS},
    }


def compare_detail(
    hospital: Sequence[Mapping[str, Any]], center: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Result rows: the hospital's rows in file order, then the centre's extra rows.

    Amounts are the centre's, except on 医院多 rows where the centre has none.
    """
    by_id = {str(r["setl_id"]): r for r in center}
    out = []
    for row in hospital:
        ours = by_id.pop(row["setl_id"], None)
        if ours is None:
            out.append(
                _result_row(
                    row,
                    msgid="",
                    rslt=StmtRslt.UNBALANCED,
                    memo=f"{HOSPITAL_MORE}: 中心无此结算或不在对账范围",
                )
            )
            continue
        problems = [
            f"{name} 医院{fmt(row[name])} 中心{fmt(ours[name])}"
            for name in AMOUNTS
            if row[name] != ours[name]
        ]
        info = [
            f"{name} 医院{row[name]} 中心{ours[name]}"
            for name in ("mdtrt_id", "psn_no", "refd_setl_flag")
            if row[name] != ours[name]
        ]
        memo = ""
        if problems:
            memo = f"{AMOUNT_MISMATCH}: " + "; ".join(problems)
        if info:
            memo = (memo + "; " if memo else "") + f"{INFO_MISMATCH}: " + "; ".join(info)
        rslt = StmtRslt.UNBALANCED if memo else StmtRslt.BALANCED
        out.append(_result_row(ours, msgid=str(ours["medins_setl_id"]), rslt=rslt, memo=memo[:500]))
    for ours in by_id.values():
        out.append(
            _result_row(
                ours, msgid=str(ours["medins_setl_id"]), rslt=StmtRslt.UNBALANCED, memo=CENTER_MORE
            )
        )
    return out


def result_zip(rows: list[dict[str, Any]], *, inner_name: str) -> bytes:
    lines = ["\t".join(RESULT_FIELDS)]
    for r in rows:
        lines.append(
            "\t".join(
                fmt(r[f]) if f in AMOUNTS else ("" if r[f] is None else str(r[f]))
                for f in RESULT_FIELDS
            )
        )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(inner_name, ("\n".join(lines) + "\n").encode("utf-8"))
    return buffer.getvalue()


def statement_detail(
    conn: Connection,
    cmd: DetailStatement,
    *,
    fixmedins_code: str,
    now: datetime,
    ids: IdGenerator,
) -> dict[str, Any]:
    """3202: compare the uploaded detail file with the platform's rows; the result file is
    kept for 9102 and described in `fileinfo`."""
    scope = scope_of(cmd.period, fixmedins_code=fixmedins_code)
    stored = load_file(
        conn,
        fixmedins_code=fixmedins_code,
        now=now,
        file_qury_no=cmd.file_qury_no,
        where="data.file_qury_no",
    )
    hospital = parse_detail(_zip_text(bytes(stored["content"]), "data.file_qury_no"))
    center = reconcile_repo.detail_rows(conn, scope)
    rows = compare_detail(hospital, center)
    stem = f"stmt_detail_{ids.next_str()}"
    return {
        "fileinfo": store_file(
            conn,
            ids=ids,
            fixmedins_code=fixmedins_code,
            filename=f"{stem}.zip",
            content=result_zip(rows, inner_name=f"{stem}.txt"),
            direction="download",
            now=now,
        )
    }
