"""Catalog transactions: downloads (1301–1321, fetched with 9102), the paged query 1312, and
目录对照 upload/cancel (3301/3302). Each handler parses `input` into a `catalog.commands`
command and calls the catalog's services (`catalog.downloads`, `catalog.item_query`,
`catalog.mapping`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection

from yibao.catalog import mapping
from yibao.catalog.commands import (
    CatalogDownload,
    CatalogItemQuery,
    MappingCancel,
    MappingUpload,
    MappingUploadRow,
)
from yibao.catalog.downloads import DOWNLOADS, download
from yibao.catalog.item_query import PAGE_SIZE_MAX, query_items
from yibao.codes.dicts import ListType
from yibao.errors import Forbidden, InvalidInput, NotFound
from yibao.interface import fields as fx
from yibao.interface.context import CallContext
from yibao.interface.registry import Handler, transaction

#: the descriptive fields of a 3301 row kept with the mapping as `extra`
_MAPPING_EXTRA = (
    "aprvno",
    "dosform",
    "exct_cont",
    "item_cont",
    "prcunt",
    "spec",
    "pacspec",
    "memo",
)


# --------------------------------------------------------------------------- 1301–1321


def parse_download(infno: str, input_: Mapping[str, Any]) -> CatalogDownload:
    data = fx.node(input_, "data", required=False)
    raw = data.get("ver")
    text = str(raw).strip() if raw is not None else ""
    # a client without a version (or with one we never issued) downloads everything
    ver = int(text) if text.isascii() and text.isdigit() else 0
    if ver > fx.INT_MAX:
        raise InvalidInput(f"data.ver: 超出范围 (out of range: at most {fx.INT_MAX})")
    return CatalogDownload(infno=infno, ver=ver)


def _download_handler(infno: str) -> Handler:
    def handler(conn: Connection, ctx: CallContext, input_: dict[str, Any]) -> dict[str, Any]:
        cmd = parse_download(infno, input_)
        return download(
            conn, cmd, fixmedins_code=ctx.fixmedins_code, now=ctx.now, ids=ctx.platform.ids
        )

    handler.__name__ = f"handle_{infno}"
    handler.__doc__ = f"{infno} {DOWNLOADS[infno][2]}下载 (catalog download; fetch with 9102)."
    return transaction(infno, f"{DOWNLOADS[infno][2]}下载", writes=True)(handler)


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


# --------------------------------------------------------------------------- 1312


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
    if value > fx.INT_MAX:
        raise InvalidInput(f"data.{field}: 超出范围 (out of range: at most {fx.INT_MAX})")
    return value


def parse_item_query(input_: Mapping[str, Any]) -> CatalogItemQuery:
    data = fx.node(input_, "data")
    n = "data"
    updt_time = fx.opt_datetime(data, "updt_time", node_name=n)
    if updt_time is None:
        raise InvalidInput("data.updt_time: 不能为空, 如 2000-01-01 00:00:00 (required)")
    page_num = _page_int(data, "page_num", 1)
    page_size = _page_int(data, "page_size", 100)
    if page_size > PAGE_SIZE_MAX:
        raise InvalidInput(f"data.page_size: 每页最多{PAGE_SIZE_MAX}条 (at most {PAGE_SIZE_MAX})")
    vali_flag = fx.opt_str(data, "vali_flag", node_name=n, max_len=3) or "1"
    if vali_flag not in ("0", "1"):
        raise InvalidInput("data.vali_flag: 须为 0 或 1 (must be 0 or 1)")
    equal = {
        name: fx.opt_str(data, name, node_name=n, max_len=50)
        for name in ("hilist_code", "list_type", "med_chrgitm_type", "chrgitm_lv", "lmt_used_flag")
    }
    hilist_name = fx.opt_str(data, "hilist_name", node_name=n, max_len=200)
    wubi = fx.opt_str(data, "wubi", node_name=n, max_len=50)
    pinyin = fx.opt_str(data, "pinyin", node_name=n, max_len=50)
    begndate = fx.opt_date(data, "begndate", node_name=n)
    query_date = fx.opt_date(data, "query_date", node_name=n)
    return CatalogItemQuery(
        updt_time=updt_time,
        page_num=page_num,
        page_size=page_size,
        vali_flag=vali_flag,
        hilist_name=hilist_name,
        wubi=wubi,
        pinyin=pinyin,
        begndate=begndate,
        query_date=query_date,
        insu_admdvs=fx.opt_str(data, "insu_admdvs", node_name=n, max_len=6),
        **equal,
    )


@transaction("1312", "医保目录信息查询", writes=False)
def handle_1312(conn: Connection, ctx: CallContext, input_: dict[str, Any]) -> dict[str, Any]:
    """1312 医保目录信息查询: a page of catalog items matching the filters."""
    q = parse_item_query(input_)
    return query_items(conn, q, admdvs=q.insu_admdvs or ctx.institution.admdvs)


# --------------------------------------------------------------------------- 3301 / 3302


def _upload_row(row: Mapping[str, Any], n: str) -> MappingUploadRow:
    list_type = fx.opt_str(row, "list_type", node_name=n, max_len=6)
    if list_type is not None and not ListType.has(list_type):
        raise InvalidInput(
            f"{n}.list_type: 目录类别 {list_type} 不在码表中 (not in the dictionary)"
        )
    extra = {k: row[k] for k in _MAPPING_EXTRA if row.get(k) not in (None, "")}
    try:
        return MappingUploadRow(
            fixmedins_hilist_id=fx.req_str(row, "fixmedins_hilist_id", node_name=n, max_len=150),
            fixmedins_hilist_name=fx.req_str(
                row, "fixmedins_hilist_name", node_name=n, max_len=200
            ),
            med_list_codg=fx.req_str(row, "med_list_codg", node_name=n, max_len=50),
            list_type=list_type,
            begndate=fx.opt_date(row, "begndate", node_name=n),
            enddate=fx.opt_date(row, "enddate", node_name=n),
            extra=extra,
            fixmedins_code=fx.opt_str(row, "fixmedins_code", node_name=n, max_len=30),
        )
    except InvalidInput as exc:
        raise InvalidInput(f"{n}: {exc.message}") from None


def parse_mapping_upload(input_: Mapping[str, Any]) -> MappingUpload:
    rows = fx.node_list(input_, "data", max_items=1000)
    return MappingUpload(data=tuple(_upload_row(row, f"data[{i}]") for i, row in enumerate(rows)))


@transaction("3301", "目录对照上传", writes=True)
def handle_3301(
    conn: Connection, ctx: CallContext, input_: dict[str, Any]
) -> dict[str, Any] | None:
    """3301 目录对照上传: each `data` row submits a mapping for the agency to review.

    Row fields (provisional): fixmedins_hilist_id (本机构目录编码), fixmedins_hilist_name,
    list_type, med_list_codg (national code), begndate, enddate, and optional aprvno,
    dosform, exct_cont, item_cont, prcunt, spec, pacspec, memo kept as extra.
    """
    cmd = parse_mapping_upload(input_)
    # A row naming another institution is refused before anything is written, as 3302 and
    # 9101 refuse it: an institution submits mappings for its own catalog only.
    for i, row in enumerate(cmd.data):
        if row.fixmedins_code is not None and row.fixmedins_code != ctx.fixmedins_code:
            raise Forbidden(
                f"data[{i}].fixmedins_code: 只能上传本机构的对照 (only your own mappings): "
                f"{row.fixmedins_code}"
            )
    ids = ctx.platform.ids
    for i, row in enumerate(cmd.data):
        try:
            mapping.submit(
                conn,
                fixmedins_code=ctx.fixmedins_code,
                medins_list_codg=row.fixmedins_hilist_id,
                medins_list_name=row.fixmedins_hilist_name,
                hilist_code=row.med_list_codg,
                list_type=row.list_type,
                begndate=row.begndate,
                enddate=row.enddate,
                opter=ctx.opter or ctx.fixmedins_code,
                now=ctx.now,
                msgid=ctx.msgid,
                extra=dict(row.extra) or None,
                ids=ids,
            )
        except (InvalidInput, NotFound) as exc:
            raise type(exc)(f"data[{i}]: {exc.message}") from None
    return None


def parse_mapping_cancel(input_: Mapping[str, Any]) -> MappingCancel:
    data = fx.node(input_, "data")
    n = "data"
    return MappingCancel(
        fixmedins_code=fx.opt_str(data, "fixmedins_code", node_name=n, max_len=30),
        fixmedins_hilist_id=fx.req_str(data, "fixmedins_hilist_id", node_name=n, max_len=150),
        med_list_codg=fx.opt_str(data, "med_list_codg", node_name=n, max_len=50),
    )


@transaction("3302", "目录对照撤销", writes=True)
def handle_3302(
    conn: Connection, ctx: CallContext, input_: dict[str, Any]
) -> dict[str, Any] | None:
    """3302 目录对照撤销: data{fixmedins_code, fixmedins_hilist_id, list_type, med_list_codg}."""
    cmd = parse_mapping_cancel(input_)
    if cmd.fixmedins_code is not None and cmd.fixmedins_code != ctx.fixmedins_code:
        raise Forbidden(
            f"data.fixmedins_code: 只能撤销本机构的对照 (only your own mappings): {cmd.fixmedins_code}"
        )
    mapping.cancel(
        conn,
        fixmedins_code=ctx.fixmedins_code,
        medins_list_codg=cmd.fixmedins_hilist_id,
        hilist_code=cmd.med_list_codg,
        opter=ctx.opter or ctx.fixmedins_code,
        now=ctx.now,
        ids=ctx.platform.ids,
    )
    return None
