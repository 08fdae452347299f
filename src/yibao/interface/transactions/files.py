"""File transfer: 9101 文件上传 and 9102 文件下载 (binary answer). The handlers parse `input`
into `settlement.commands_reconcile` commands; `settlement.reconcile` keeps and serves the files
(catalog downloads and 3202 results are fetched here too)."""

from __future__ import annotations

import base64
import binascii
import posixpath
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection

from yibao.errors import InvalidInput
from yibao.interface.context import CallContext
from yibao.interface.fields import node, opt_str, req_str
from yibao.interface.registry import transaction
from yibao.settlement import reconcile
from yibao.settlement.commands_reconcile import FileDownload, FileUpload
from yibao.settlement.reconcile import MAX_UPLOAD_BYTES


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


def parse_upload(input_: Mapping[str, Any]) -> FileUpload:
    data = node(input_, "fsUploadIn")
    code = req_str(data, "fixmedins_code", node_name="fsUploadIn", max_len=30)
    filename = _clean_filename(
        req_str(data, "filename", node_name="fsUploadIn", max_len=200), "fsUploadIn.filename"
    )
    return FileUpload(
        fixmedins_code=code,
        filename=filename,
        content=_file_bytes(data.get("in"), "fsUploadIn.in"),
    )


@transaction("9101", "文件上传", writes=True)
def upload_file(conn: Connection, ctx: CallContext, input_: dict[str, Any]) -> dict[str, Any]:
    cmd = parse_upload(input_)
    return reconcile.keep_upload(
        conn, cmd, fixmedins_code=ctx.fixmedins_code, now=ctx.now, ids=ctx.platform.ids
    )


def parse_download(input_: Mapping[str, Any]) -> FileDownload:
    data = node(input_, "fsDownloadIn")
    return FileDownload(
        fixmedins_code=req_str(data, "fixmedins_code", node_name="fsDownloadIn", max_len=30),
        file_qury_no=req_str(data, "file_qury_no", node_name="fsDownloadIn", max_len=30),
        filename=opt_str(data, "filename", node_name="fsDownloadIn", max_len=200),
    )


@transaction("9102", "文件下载", writes=False, binary=True)
def download_file(conn: Connection, ctx: CallContext, input_: dict[str, Any]) -> dict[str, Any]:
    cmd = parse_download(input_)
    return reconcile.fetch_file(conn, cmd, fixmedins_code=ctx.fixmedins_code, now=ctx.now)
