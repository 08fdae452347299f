"""Request and answer bodies in the Chinese national charsets.

Many Windows HIS send their JSON in GBK (or GB2312 / GB18030) and say so in `Content-Type`
(`application/json;charset=GBK`). Such a body is decoded with the charset it names and the
answer is encoded in it too, declared in the answer's `Content-Type`, unless the setting
`answer_charset` is `utf-8` (always answer UTF-8). A body without a charset, or with any other
charset, is read as UTF-8 as before. docs/interface.md §1.
"""

from __future__ import annotations

import codecs

#: charset names a request may give (lower case) → the Python codec that reads and writes them
GB_CHARSETS = {
    "gbk": "gbk",
    "cp936": "gbk",
    "gb2312": "gb2312",
    "gb18030": "gb18030",
}
UTF8_CONTENT_TYPE = b"application/json;charset=utf-8"
_ESCAPE = "yibao-json-escape"


def _json_escape(error: UnicodeError) -> tuple[str, int]:
    """A character the charset cannot hold becomes a JSON `\\uXXXX` escape: a JSON answer
    has characters outside ASCII only inside strings, where the escape means the same."""
    if not isinstance(error, UnicodeEncodeError):
        raise error
    out = []
    for char in error.object[error.start : error.end]:
        code = ord(char)
        if code > 0xFFFF:
            code -= 0x10000
            out.append(f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}")
        else:
            out.append(f"\\u{code:04x}")
    return "".join(out), error.end


codecs.register_error(_ESCAPE, _json_escape)


def request_charset(content_type: str | None) -> str | None:
    """The GB charset (its name as the client wrote it) a `Content-Type` names, else None."""
    if not content_type:
        return None
    for part in content_type.split(";")[1:]:
        name, _, value = part.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip('"').strip()
            return charset if charset.lower() in GB_CHARSETS else None
    return None


def decode(body: bytes) -> str:
    """The text of a body in a GB charset (UnicodeDecodeError when it is not). Read as
    GB18030, which holds GBK and GB2312: clients that say GB2312 often send GBK characters."""
    return body.decode("gb18030")


def encode(payload: bytes, charset: str) -> tuple[bytes, bytes]:
    """A UTF-8 JSON answer re-encoded in the request's charset, with its `Content-Type`."""
    codec = GB_CHARSETS[charset.lower()]
    data = payload.decode("utf-8").encode(codec, errors=_ESCAPE)
    return data, b"application/json;charset=" + charset.encode("ascii")
