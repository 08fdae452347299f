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
produced; another institution's request is refused. A 9102 handler returns
`{"filename": str, "content": bytes}`; the gateway answers with the bytes as
`application/octet-stream` (`Content-Disposition: attachment; filename=…`).
"""

from __future__ import annotations

import base64
import binascii
import io
import posixpath
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, exists, func, insert, or_, select

from yibao.codes.dicts import StmtRslt
from yibao.errors import Conflict, Forbidden, InvalidInput, NotFound
from yibao.interface.context import CallContext
from yibao.interface.fields import node, opt_amount, opt_str, req_amount, req_date, req_str
from yibao.interface.registry import transaction
from yibao.kit.clock import fmt_datetime
from yibao.kit.ids import IdGenerator, default_ids
from yibao.kit.money import ZERO, MoneyError, fmt, parse_amount
from yibao.storage.tables import file_store, setl
from yibao.storage.types import Money

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
AMOUNTS = ("medfee_sumamt", "fund_pay_sumamt", "acct_pay")
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


@dataclass(frozen=True, slots=True)
class Scope:
    fixmedins_code: str
    setl_optins: str
    begin: date
    end: date
    include_reversals: bool
    insutype: str | None = None
    clr_type: str | None = None

    def where(self) -> list[ColumnElement[bool]]:
        conds: list[ColumnElement[bool]] = [
            setl.c.fixmedins_code == self.fixmedins_code,
            setl.c.clr_optins == self.setl_optins,
            setl.c.setl_time >= datetime.combine(self.begin, time.min),
            setl.c.setl_time < datetime.combine(self.end + timedelta(days=1), time.min),
        ]
        if self.insutype:
            conds.append(setl.c.insutype == self.insutype)
        if self.clr_type:
            conds.append(setl.c.clr_type == self.clr_type)
        if not self.include_reversals:
            conds += [setl.c.refd_setl_flag == "0", setl.c.vali_flag == "1"]
            return conds
        reversal = setl.alias("reversal")
        reversed_by_record = exists(
            select(reversal.c.setl_id).where(
                reversal.c.init_setl_id == setl.c.setl_id,
                reversal.c.refd_setl_flag == "1",
                reversal.c.vali_flag == "1",
            )
        )
        conds.append(
            or_(
                and_(setl.c.refd_setl_flag == "1", setl.c.vali_flag == "1"),
                and_(
                    setl.c.refd_setl_flag == "0",
                    or_(setl.c.vali_flag == "1", reversed_by_record),
                ),
            )
        )
        return conds


def _include_reversals(data: Mapping[str, Any], node_name: str) -> bool:
    value = opt_str(data, "refd_setl_flag", node_name=node_name, max_len=6)
    if value is None or value == "1":
        return True
    if value == "0":
        return False
    raise InvalidInput(
        f"{node_name}.refd_setl_flag: 应为 1(含退费)、0(不含退费) 或空 "
        f"(must be '1', '0' or empty), got '{value}'"
    )


def _scope(ctx: CallContext, data: Mapping[str, Any], node_name: str, **extra: Any) -> Scope:
    optins = req_str(data, "setl_optins", node_name=node_name, max_len=6)
    if len(optins) != 6 or not optins.isdigit():
        raise InvalidInput(
            f"{node_name}.setl_optins: 清算机构须为6位医保区划 (must be a 6-digit admdvs): '{optins}'"
        )
    begin = req_date(data, "stmt_begndate", node_name=node_name)
    end = req_date(data, "stmt_enddate", node_name=node_name)
    if end < begin:
        raise InvalidInput(
            f"{node_name}.stmt_enddate: 对账结束日期早于开始日期 (end date before begin date)"
        )
    return Scope(
        fixmedins_code=ctx.fixmedins_code,
        setl_optins=optins,
        begin=begin,
        end=end,
        include_reversals=_include_reversals(data, node_name),
        **extra,
    )


def totals(conn: Connection, scope: Scope) -> dict[str, Decimal | int]:
    """The platform's sums and count over `scope`."""
    row = conn.execute(
        select(
            *(
                func.coalesce(func.sum(setl.c[name]), 0, type_=Money()).label(name)
                for name in AMOUNTS
            ),
            func.count().label("fixmedins_setl_cnt"),
        ).where(*scope.where())
    ).one()
    return {
        "medfee_sumamt": row.medfee_sumamt or ZERO,
        "fund_pay_sumamt": row.fund_pay_sumamt or ZERO,
        "acct_pay": row.acct_pay or ZERO,
        "fixmedins_setl_cnt": int(row.fixmedins_setl_cnt),
    }


# ---------------------------------------------------------------------------------------------
# 3201 total reconciliation
# ---------------------------------------------------------------------------------------------


def _fmt(value: Decimal | int) -> str:
    return str(value) if isinstance(value, int) else fmt(value)


@transaction("3201", "医药机构费用结算对总账", writes=False)
def reconcile_totals(conn: Connection, ctx: CallContext, input_: dict[str, Any]) -> dict[str, Any]:
    data = node(input_, "data")
    insutype = req_str(data, "insutype", node_name="data", max_len=6)
    clr_type = req_str(data, "clr_type", node_name="data", max_len=6)
    scope = _scope(ctx, data, "data", insutype=insutype, clr_type=clr_type)
    theirs: dict[str, Decimal | int] = {
        name: req_amount(data, name, node_name="data", allow_negative=True) for name in AMOUNTS
    }
    count = req_str(data, "fixmedins_setl_cnt", node_name="data", max_len=10)
    if not count.lstrip("-").isdigit():
        raise InvalidInput(f"data.fixmedins_setl_cnt: 应为整数 (must be a whole number): '{count}'")
    theirs["fixmedins_setl_cnt"] = int(count)
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


def _ids(ctx: CallContext) -> IdGenerator:
    ids = getattr(ctx.platform, "ids", None)
    return ids if isinstance(ids, IdGenerator) else default_ids


def _own_code(data: Mapping[str, Any], ctx: CallContext, node_name: str, verb: str) -> None:
    code = req_str(data, "fixmedins_code", node_name=node_name, max_len=30)
    if code != ctx.fixmedins_code:
        raise Forbidden(
            f"{node_name}.fixmedins_code: 只能{verb}本机构的文件 '{code}' "
            f"(an institution may only {'upload' if verb == '上传' else 'download'} its own files)"
        )


def _file_bytes(value: Any, where: str) -> bytes:
    if isinstance(value, list):
        if len(value) > MAX_UPLOAD_BYTES:
            raise InvalidInput(f"{where}: 文件超过 {MAX_UPLOAD_BYTES} 字节 (file too large)")
        if any(isinstance(b, bool) or not isinstance(b, int) or not 0 <= b <= 255 for b in value):
            raise InvalidInput(f"{where}: 字节数组只能含 0–255 的整数 (byte values 0–255 only)")
        content = bytes(value)
    elif isinstance(value, str):
        if len(value) > MAX_UPLOAD_BYTES * 4 // 3 + 4:
            raise InvalidInput(f"{where}: 文件超过 {MAX_UPLOAD_BYTES} 字节 (file too large)")
        try:
            content = base64.b64decode("".join(value.split()), validate=True)
        except (binascii.Error, ValueError):
            raise InvalidInput(
                f"{where}: 应为字节数组或 base64 字符串 (a byte array or base64 text)"
            ) from None
    else:
        raise InvalidInput(
            f"{where}: 必填, 应为字节数组或 base64 字符串 (required: a byte array or base64 text)"
        )
    if not content:
        raise InvalidInput(f"{where}: 文件为空 (empty file)")
    return content


def _clean_filename(name: str, where: str) -> str:
    base = posixpath.basename(name.replace("\\", "/")).strip()
    if not base or base in (".", ".."):
        raise InvalidInput(f"{where}: 文件名无效 '{name}' (not a file name)")
    return base


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
    conn.execute(
        insert(file_store).values(
            file_qury_no=file_qury_no,
            fixmedins_code=fixmedins_code,
            filename=filename,
            direction=direction,
            content=content,
            created_at=now,
            expires_at=expires,
        )
    )
    return {
        "file_qury_no": file_qury_no,
        "filename": filename,
        "dld_endtime": fmt_datetime(expires),
    }


def load_file(
    conn: Connection, ctx: CallContext, file_qury_no: str, where: str
) -> Mapping[str, Any]:
    """A stored file of the calling institution that has not expired."""
    row = (
        conn.execute(select(file_store).where(file_store.c.file_qury_no == file_qury_no))
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(f"{where}: 文件不存在 '{file_qury_no}' (no such file)")
    if row["fixmedins_code"] != ctx.fixmedins_code:
        raise Forbidden(
            f"{where}: 该文件不属于本机构 '{file_qury_no}' (the file belongs to another institution)"
        )
    if row["expires_at"] < ctx.now:
        raise Conflict(
            f"{where}: 文件已过下载期限 {fmt_datetime(row['expires_at'])} (the file has expired)"
        )
    return dict(row)


@transaction("9101", "文件上传", writes=True)
def upload_file(conn: Connection, ctx: CallContext, input_: dict[str, Any]) -> dict[str, Any]:
    data = node(input_, "fsUploadIn")
    _own_code(data, ctx, "fsUploadIn", "上传")
    filename = _clean_filename(
        req_str(data, "filename", node_name="fsUploadIn", max_len=200), "fsUploadIn.filename"
    )
    content = _file_bytes(data.get("in"), "fsUploadIn.in")
    return store_file(
        conn,
        ids=_ids(ctx),
        fixmedins_code=ctx.fixmedins_code,
        filename=filename,
        content=content,
        direction="upload",
        now=ctx.now,
    )


@transaction("9102", "文件下载", writes=False, binary=True)
def download_file(conn: Connection, ctx: CallContext, input_: dict[str, Any]) -> dict[str, Any]:
    data = node(input_, "fsDownloadIn")
    _own_code(data, ctx, "fsDownloadIn", "下载")
    file_qury_no = req_str(data, "file_qury_no", node_name="fsDownloadIn", max_len=30)
    row = load_file(conn, ctx, file_qury_no, "fsDownloadIn.file_qury_no")
    filename = opt_str(data, "filename", node_name="fsDownloadIn", max_len=200)
    if filename not in (None, "plc", row["filename"]):
        raise InvalidInput(
            f"fsDownloadIn.filename: 文件名与文件查询号不符 '{filename}' "
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


@transaction("3202", "医药机构费用结算对明细账", writes=True)
def reconcile_detail(conn: Connection, ctx: CallContext, input_: dict[str, Any]) -> dict[str, Any]:
    data = node(input_, "data")
    file_qury_no = req_str(data, "file_qury_no", node_name="data", max_len=30)
    clr_type = opt_str(data, "clr_type", node_name="data", max_len=6)
    insutype = opt_str(data, "insutype", node_name="data", max_len=6)
    scope = _scope(ctx, data, "data", clr_type=clr_type, insutype=insutype)
    # The totals are read so that a malformed one is refused; the file decides the result.
    for name in ("medfee_sumamt", "fund_pay_sumamt", "cash_payamt"):
        opt_amount(data, name, node_name="data", allow_negative=True)
    stored = load_file(conn, ctx, file_qury_no, "data.file_qury_no")
    hospital = parse_detail(_zip_text(bytes(stored["content"]), "data.file_qury_no"))
    center = [
        dict(r)
        for r in conn.execute(
            select(
                setl.c.setl_id,
                setl.c.mdtrt_id,
                setl.c.psn_no,
                setl.c.medfee_sumamt,
                setl.c.fund_pay_sumamt,
                setl.c.acct_pay,
                setl.c.refd_setl_flag,
                setl.c.medins_setl_id,
            )
            .where(*scope.where())
            .order_by(setl.c.setl_time, setl.c.setl_id)
        ).mappings()
    ]
    rows = compare_detail(hospital, center)
    ids = _ids(ctx)
    stem = f"stmt_detail_{ids.next_str()}"
    return {
        "fileinfo": store_file(
            conn,
            ids=ids,
            fixmedins_code=ctx.fixmedins_code,
            filename=f"{stem}.zip",
            content=result_zip(rows, inner_name=f"{stem}.txt"),
            direction="download",
            now=ctx.now,
        )
    }
