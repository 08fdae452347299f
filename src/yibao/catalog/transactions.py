"""Interface handlers: catalog downloads (1301–1321 → 9102), the paged query 1312, and
目录对照 upload/cancel (3301/3302).

Each is `handle_XXXX(conn, ctx, input) -> output` (see `yibao.interface.registry`); importing
this module registers them in the gateway's registry (`HANDLERS` lists them). `ctx` needs `fixmedins_code` and `now`, and may carry `platform` (for ids)
and `institution.admdvs`.

Download flow: `13xx` with `data{ver}` builds a zip of the catalog's rows changed after
version `ver` ("0" or anything not a number: every effective row), stores it in `file_store`
for the calling institution and answers `{file_qury_no, filename, dld_endtime, data_cnt}`;
`9102` with `fsDownloadIn{file_qury_no}` returns the zip (`settlement.reconcile` serves 9102
from `file_store`; `fetch_download` here does the same for other callers). The zip holds one
UTF-8 text file, tab-separated, one row per line, no header, columns as `ITEM_COLUMNS` /
`DISE_COLUMNS` say — a provisional format (reference/nhsa-interface.md marks the real one
unverified), documented in docs/catalog.md.
"""

from __future__ import annotations

import io
import math
import zipfile
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Select, and_, func, insert, or_, select

from yibao.catalog import mapping
from yibao.codes.dicts import ListType
from yibao.errors import Forbidden, InvalidInput, NotFound
from yibao.interface import fields as fx
from yibao.interface.registry import transaction
from yibao.kit.clock import fmt_date, fmt_datetime
from yibao.kit.ids import IdGenerator, default_ids
from yibao.storage.tables import catalog_dise, catalog_item, catalog_version, file_store

Handler = Callable[[Connection, Any, dict[str, Any]], dict[str, Any] | None]

#: How long a generated download stays fetchable through 9102.
DOWNLOAD_TTL = timedelta(hours=24)

#: infno → (catalog kind, list type, name). 1313–1315 and 1320 are catalogs yibao does not
#: hold yet: they answer an empty file (data_cnt 0).
DOWNLOADS: dict[str, tuple[str, str | None, str]] = {
    "1301": ("hilist", "101", "西药中成药目录"),
    "1302": ("hilist", "102", "中药饮片目录"),
    "1303": ("hilist", "103", "医疗机构制剂目录"),
    "1305": ("hilist", "201", "医疗服务项目目录"),
    "1306": ("hilist", "301", "医用耗材目录"),
    "1307": ("diagnosis", None, "疾病与诊断目录"),
    "1308": ("operation", None, "手术操作目录"),
    "1309": ("chronic_disease", None, "门诊慢特病种目录"),
    "1310": ("disease_payment", None, "按病种付费病种目录"),
    "1311": ("day_surgery", None, "日间手术治疗病种目录"),
    "1313": ("tumour_morphology", None, "肿瘤形态学目录"),
    "1314": ("tcm_disease", None, "中医疾病目录"),
    "1315": ("tcm_syndrome", None, "中医证候目录"),
    "1320": ("hilist", "105", "中药配方颗粒目录"),
    "1321": ("hilist", "201", "医疗服务项目目录(新)"),
}

ITEM_COLUMNS: tuple[str, ...] = (
    "hilist_code",
    "hilist_name",
    "list_type",
    "med_chrgitm_type",
    "chrgitm_lv",
    "selfpay_prop",
    "hilist_pric_uplmt_amt",
    "prcunt",
    "spec",
    "dosform_name",
    "prodentp_name",
    "lmt_used_flag",
    "memo",
    "bas_medn_flag",
    "hi_nego_drug_flag",
    "chld_medc_flag",
    "selfpay_prop_psn",
    "lmt_gend",
    "lmt_age_min",
    "lmt_age_max",
    "lmt_hosp_lv",
    "lmt_med_type",
    "lmt_diag_codes",
    "lmt_days",
    "lmt_cnt",
    "begndate",
    "enddate",
    "vali_flag",
    "rid",
    "ver",
)
DISE_COLUMNS: tuple[str, ...] = (
    "dise_codg",
    "dise_name",
    "catalog_kind",
    "lmt_gend",
    "memo",
    "begndate",
    "enddate",
    "vali_flag",
    "rid",
    "ver",
)


def _ids(ctx: Any) -> IdGenerator:
    platform = getattr(ctx, "platform", None)
    ids = getattr(platform, "ids", None)
    return ids if isinstance(ids, IdGenerator) else default_ids


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).replace("\t", " ").replace("\r", " ").replace("\n", " ")


def _client_ver(data: Mapping[str, Any]) -> int:
    raw = data.get("ver")
    text = str(raw).strip() if raw is not None else ""
    return int(text) if text.isdigit() else 0


def _download_rows(conn: Connection, kind: str, list_type: str | None, after: int) -> list[str]:
    v = catalog_version
    if kind == "hilist":
        t = catalog_item
        query: Select[Any] = (
            select(t, v.c.ver_no)
            .join(v, v.c.version_id == t.c.version_id)
            .where(t.c.vali_flag == "1", t.c.list_type == (list_type or ""), v.c.ver_no > after)
            .order_by(t.c.hilist_code, t.c.begndate)
        )
        columns = ITEM_COLUMNS
        rid = "item_id"
    else:
        t = catalog_dise
        query = (
            select(t, v.c.ver_no)
            .join(v, v.c.version_id == t.c.version_id)
            .where(t.c.vali_flag == "1", t.c.catalog_kind == kind, v.c.ver_no > after)
            .order_by(t.c.dise_codg, t.c.begndate)
        )
        columns = DISE_COLUMNS
        rid = "dise_id"
    lines = []
    for row in conn.execute(query).mappings():
        values = [
            _cell(row[rid] if c == "rid" else row["ver_no"] if c == "ver" else row[c])
            for c in columns
        ]
        lines.append("\t".join(values))
    return lines


def _zip(name: str, lines: list[str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, ("\n".join(lines) + ("\n" if lines else "")).encode("utf-8"))
    return buffer.getvalue()


def download(conn: Connection, ctx: Any, input_: dict[str, Any], infno: str) -> dict[str, Any]:
    """The 13xx download: build the file, store it for 9102, describe it."""
    if infno not in DOWNLOADS:
        raise InvalidInput(f"infno: {infno} 不是目录下载交易 (not a catalog download)")
    kind, list_type, _title = DOWNLOADS[infno]
    data = fx.node(input_, "data", required=False)
    after = _client_ver(data)
    lines = _download_rows(conn, kind, list_type, after)
    now: datetime = ctx.now
    file_qury_no = _ids(ctx).next_str()
    head = conn.execute(select(func.max(catalog_version.c.ver_no))).scalar_one_or_none() or 0
    base = f"{infno}_{now:%Y%m%d%H%M%S}_v{after}-{head}"
    content = _zip(f"{base}.txt", lines)
    expires = now + DOWNLOAD_TTL
    conn.execute(
        insert(file_store).values(
            file_qury_no=file_qury_no,
            fixmedins_code=ctx.fixmedins_code,
            filename=f"{base}.zip",
            direction="download",
            content=content,
            created_at=now,
            expires_at=expires,
        )
    )
    return {
        "file_qury_no": file_qury_no,
        "filename": f"{base}.zip",
        "dld_endtime": fmt_datetime(expires),
        "data_cnt": len(lines),
    }


def _download_handler(infno: str) -> Handler:
    def handler(conn: Connection, ctx: Any, input_: dict[str, Any]) -> dict[str, Any]:
        return download(conn, ctx, input_, infno)

    handler.__name__ = f"handle_{infno}"
    handler.__doc__ = f"{infno} {DOWNLOADS[infno][2]}下载 (catalog download; fetch with 9102)."
    return handler


_DOWNLOAD_HANDLERS: dict[str, Handler] = {infno: _download_handler(infno) for infno in DOWNLOADS}
handle_1301 = _DOWNLOAD_HANDLERS["1301"]
handle_1302 = _DOWNLOAD_HANDLERS["1302"]
handle_1303 = _DOWNLOAD_HANDLERS["1303"]
handle_1305 = _DOWNLOAD_HANDLERS["1305"]
handle_1306 = _DOWNLOAD_HANDLERS["1306"]
handle_1307 = _DOWNLOAD_HANDLERS["1307"]
handle_1308 = _DOWNLOAD_HANDLERS["1308"]
handle_1309 = _DOWNLOAD_HANDLERS["1309"]
handle_1310 = _DOWNLOAD_HANDLERS["1310"]
handle_1311 = _DOWNLOAD_HANDLERS["1311"]
handle_1313 = _DOWNLOAD_HANDLERS["1313"]
handle_1314 = _DOWNLOAD_HANDLERS["1314"]
handle_1315 = _DOWNLOAD_HANDLERS["1315"]
handle_1320 = _DOWNLOAD_HANDLERS["1320"]
handle_1321 = _DOWNLOAD_HANDLERS["1321"]


def fetch_download(
    conn: Connection, *, file_qury_no: str, fixmedins_code: str, now: datetime
) -> tuple[str, bytes]:
    """9102: the stored file (filename, zip bytes) for the institution that generated it."""
    row = (
        conn.execute(select(file_store).where(file_store.c.file_qury_no == file_qury_no))
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(
            f"fsDownloadIn.file_qury_no: 文件查询号 {file_qury_no} 不存在 (no such file)"
        )
    if row["fixmedins_code"] != fixmedins_code:
        raise Forbidden(
            f"fsDownloadIn.file_qury_no: 文件 {file_qury_no} 不属于本机构 (the file belongs to another institution)"
        )
    if row["expires_at"] < now:
        raise NotFound(
            f"fsDownloadIn.file_qury_no: 文件 {file_qury_no} 已于 {fmt_datetime(row['expires_at'])} 过期, "
            f"请重新下载目录 (the file expired; request the catalog again)"
        )
    return str(row["filename"]), bytes(row["content"])


# --------------------------------------------------------------------------- 1312


_PAGE_SIZE_MAX = 1000


def handle_1312(conn: Connection, ctx: Any, input_: dict[str, Any]) -> dict[str, Any]:
    """1312 医保目录信息查询: a page of catalog items matching the filters."""
    data = fx.node(input_, "data")
    n = "data"
    updt_time = fx.opt_datetime(data, "updt_time", node_name=n)
    if updt_time is None:
        raise InvalidInput("data.updt_time: 不能为空, 如 2000-01-01 00:00:00 (required)")
    page_num = _page_int(data, "page_num", 1)
    page_size = _page_int(data, "page_size", 100)
    if page_size > _PAGE_SIZE_MAX:
        raise InvalidInput(f"data.page_size: 每页最多{_PAGE_SIZE_MAX}条 (at most {_PAGE_SIZE_MAX})")

    t, v = catalog_item, catalog_version
    conds: list[Any] = [v.c.created_at >= updt_time]
    vali_flag = fx.opt_str(data, "vali_flag", node_name=n, max_len=3) or "1"
    if vali_flag not in ("0", "1"):
        raise InvalidInput("data.vali_flag: 须为 0 或 1 (must be 0 or 1)")
    conds.append(t.c.vali_flag == vali_flag)
    for field in ("hilist_code", "list_type", "med_chrgitm_type", "chrgitm_lv", "lmt_used_flag"):
        value = fx.opt_str(data, field, node_name=n, max_len=50)
        if value:
            conds.append(t.c[field] == value)
    name = fx.opt_str(data, "hilist_name", node_name=n, max_len=200)
    if name:
        conds.append(t.c.hilist_name.contains(name, autoescape=True))
    for field in ("wubi", "pinyin"):
        value = fx.opt_str(data, field, node_name=n, max_len=50)
        if value:
            conds.append(t.c[field].startswith(value.upper(), autoescape=True))
    begndate = fx.opt_date(data, "begndate", node_name=n)
    if begndate:
        conds.append(t.c.begndate >= begndate)
    query_date = fx.opt_date(data, "query_date", node_name=n)
    if query_date:
        conds.append(
            and_(t.c.begndate <= query_date, or_(t.c.enddate.is_(None), t.c.enddate >= query_date))
        )
    where = and_(*conds)
    total = int(
        conn.execute(
            select(func.count())
            .select_from(t.join(v, v.c.version_id == t.c.version_id))
            .where(where)
        ).scalar_one()
    )
    rows = conn.execute(
        select(t, v.c.created_at.label("ver_time"), v.c.created_by.label("ver_by"))
        .join(v, v.c.version_id == t.c.version_id)
        .where(where)
        .order_by(t.c.hilist_code, t.c.begndate, t.c.item_id)
        .limit(page_size)
        .offset((page_num - 1) * page_size)
    ).mappings()
    institution = getattr(ctx, "institution", None)
    admdvs = fx.opt_str(data, "insu_admdvs", node_name=n, max_len=6) or getattr(
        institution, "admdvs", None
    )
    out = [_row_1312(r, admdvs) for r in rows]
    pages = math.ceil(total / page_size) if total else 0
    return {
        "firstPage": 1 if pages else 0,
        "lastPage": pages,
        "size": len(out),
        "startRow": (page_num - 1) * page_size + 1 if out else 0,
        "pageSize": page_size,
        "pageNum": page_num,
        "recordCounts": total,
        "pages": pages,
        "data": out,
    }


def _page_int(data: Mapping[str, Any], field: str, default: int) -> int:
    raw = data.get(field)
    if raw is None or raw == "":
        raise InvalidInput(f"data.{field}: 不能为空 (required), 如 {default}")
    try:
        value = int(str(raw))
    except ValueError:
        raise InvalidInput(
            f"data.{field}: 须为正整数 (must be a positive integer): {raw}"
        ) from None
    if value < 1:
        raise InvalidInput(f"data.{field}: 须为正整数 (must be a positive integer): {raw}")
    return value


def _row_1312(r: Mapping[Any, Any], admdvs: str | None) -> dict[str, Any]:
    ver_time = fmt_datetime(r["ver_time"])
    return {
        "hilist_code": r["hilist_code"],
        "hilist_name": r["hilist_name"],
        "insu_admdvs": admdvs,
        "begndate": fmt_date(r["begndate"]),
        "enddate": fmt_date(r["enddate"]),
        "med_chrgitm_type": r["med_chrgitm_type"],
        "chrgitm_lv": r["chrgitm_lv"],
        "lmt_used_flag": r["lmt_used_flag"],
        "list_type": r["list_type"],
        "med_use_flag": None,
        "matn_used_flag": None,
        "hilist_use_type": None,
        "lmt_cpnd_type": None,
        "wubi": r["wubi"],
        "pinyin": r["pinyin"],
        "memo": r["memo"],
        "vali_flag": r["vali_flag"],
        "rid": str(r["item_id"]),
        "updt_time": ver_time,
        "crter_id": r["ver_by"],
        "crter_name": r["ver_by"],
        "crte_time": ver_time,
        "crte_optins_no": admdvs,
        "opter_id": r["ver_by"],
        "opter_name": r["ver_by"],
        "opt_time": ver_time,
        "optins_no": admdvs,
        "poolarea_no": admdvs,
        # yibao extras: what the settlement uses (clients ignore unknown keys)
        "selfpay_prop": r["selfpay_prop"],
        "hilist_pric_uplmt_amt": r["hilist_pric_uplmt_amt"],
        "prcunt": r["prcunt"],
        "spec": r["spec"],
    }


# --------------------------------------------------------------------------- 3301 / 3302


def handle_3301(conn: Connection, ctx: Any, input_: dict[str, Any]) -> dict[str, Any] | None:
    """3301 目录对照上传: each `data` row submits a mapping for the agency to review.

    Row fields (provisional): fixmedins_hilist_id (本机构目录编码), fixmedins_hilist_name,
    list_type, med_list_codg (national code), begndate, enddate, and optional aprvno,
    dosform, exct_cont, item_cont, prcunt, spec, pacspec, memo kept as extra.
    """
    rows = fx.node_list(input_, "data", max_items=1000)
    for i, row in enumerate(rows):
        n = f"data[{i}]"
        list_type = fx.opt_str(row, "list_type", node_name=n, max_len=6)
        if list_type is not None and not ListType.has(list_type):
            raise InvalidInput(
                f"{n}.list_type: 目录类别 {list_type} 不在码表中 (not in the dictionary)"
            )
        extra = {
            k: row[k]
            for k in (
                "aprvno",
                "dosform",
                "exct_cont",
                "item_cont",
                "prcunt",
                "spec",
                "pacspec",
                "memo",
            )
            if row.get(k) not in (None, "")
        }
        try:
            mapping.submit(
                conn,
                fixmedins_code=ctx.fixmedins_code,
                medins_list_codg=fx.req_str(row, "fixmedins_hilist_id", node_name=n, max_len=150),
                medins_list_name=fx.req_str(row, "fixmedins_hilist_name", node_name=n, max_len=200),
                hilist_code=fx.req_str(row, "med_list_codg", node_name=n, max_len=50),
                list_type=list_type,
                begndate=fx.opt_date(row, "begndate", node_name=n),
                enddate=fx.opt_date(row, "enddate", node_name=n),
                opter=getattr(ctx, "opter", None) or ctx.fixmedins_code,
                now=ctx.now,
                msgid=getattr(ctx, "msgid", None),
                extra=extra or None,
                ids=_ids(ctx),
            )
        except (InvalidInput, NotFound) as exc:
            raise type(exc)(f"{n}: {exc.message}") from None
    return None


def handle_3302(conn: Connection, ctx: Any, input_: dict[str, Any]) -> dict[str, Any] | None:
    """3302 目录对照撤销: data{fixmedins_code, fixmedins_hilist_id, list_type, med_list_codg}."""
    data = fx.node(input_, "data")
    n = "data"
    claimed = fx.opt_str(data, "fixmedins_code", node_name=n, max_len=30)
    if claimed is not None and claimed != ctx.fixmedins_code:
        raise Forbidden(
            f"data.fixmedins_code: 只能撤销本机构的对照 (only your own mappings): {claimed}"
        )
    mapping.cancel(
        conn,
        fixmedins_code=ctx.fixmedins_code,
        medins_list_codg=fx.req_str(data, "fixmedins_hilist_id", node_name=n, max_len=150),
        hilist_code=fx.opt_str(data, "med_list_codg", node_name=n, max_len=50),
        opter=getattr(ctx, "opter", None) or ctx.fixmedins_code,
        now=ctx.now,
        ids=_ids(ctx),
    )
    return None


#: infno → (name, handler, writes): for the gateway's registry.
HANDLERS: dict[str, tuple[str, Handler, bool]] = {
    **{infno: (f"{DOWNLOADS[infno][2]}下载", fn, True) for infno, fn in _DOWNLOAD_HANDLERS.items()},
    "1312": ("医保目录信息查询", handle_1312, False),
    "3301": ("目录对照上传", handle_3301, True),
    "3302": ("目录对照撤销", handle_3302, True),
}


def _register() -> None:
    """Put the handlers in the gateway's registry (the gateway imports this module)."""
    for infno, (name, fn, writes) in HANDLERS.items():
        transaction(infno, name, writes=writes)(fn)


_register()
