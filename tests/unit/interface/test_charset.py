"""GB charsets on the gateway: which Content-Type names one, and an answer the charset cannot
hold stays valid JSON."""

from __future__ import annotations

from yibao.interface import charset
from yibao.kit import jsonx


def test_request_charset() -> None:
    assert charset.request_charset("application/json;charset=GBK") == "GBK"
    assert charset.request_charset('application/json; charset="gb2312"') == "gb2312"
    assert charset.request_charset("application/json;charset=utf-8") is None
    assert charset.request_charset("application/json") is None
    assert charset.request_charset(None) is None


def test_characters_outside_the_charset_become_json_escapes() -> None:
    payload = jsonx.dumps({"name": "张三𠀀", "note": "€"})
    data, declared = charset.encode(payload, "gb2312")
    assert declared == b"application/json;charset=gb2312"
    assert jsonx.loads(data.decode("gb2312")) == {"name": "张三𠀀", "note": "€"}


def test_gbk_bodies_decode() -> None:
    assert charset.decode("收费员甲".encode("gbk")) == "收费员甲"
