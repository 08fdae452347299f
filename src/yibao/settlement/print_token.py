"""The signed token of a printable settlement statement (`/print/settlements/{setl_id}`).

An institution has no console login, so the 5265 answer carries a link whose token proves that
the institution which settled `setl_id` asked for it, recently: `v1.<expires>.<fixmedins>.<mac>`
with `mac = HMAC-SHA256(key, "v1|setl_id|fixmedins_code|expires")` (hex), `expires` in Unix
seconds. The key is 32 random bytes in the data directory (`print-token.key`, mode 0600,
created by `yibao init` or on first use), never in the database — the key handling of
`enrolment.token_seal`. A token names one settlement: it does not open another, and it stops
working at `expires`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from yibao.errors import ConfigError
from yibao.kit.files import write_private

KEY_FILE = "print-token.key"
#: how long a statement link stays valid (seconds): long enough to open and print it at the
#: counter, short enough that a link copied out of a log is soon useless
TTL_SECONDS = 30 * 60
_VERSION = "v1"

_keys: dict[Path, bytes] = {}
_lock = threading.Lock()


@dataclass(frozen=True, slots=True)
class PrintGrant:
    """What a valid token allows: one institution's view of one settlement."""

    setl_id: str
    fixmedins_code: str
    expires: int


def ensure_key(data_dir: Path) -> Path:
    """Create the data directory's print key when it has none (32 random bytes, 0600).

    Race-safe across processes: the key is written to a private temporary file and linked into
    place only if no key exists yet, so every process ends up reading the same key (a key
    replaced under a running process would void the links it has handed out)."""
    path = data_dir / KEY_FILE
    if path.exists():
        return path
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = data_dir / f".{KEY_FILE}.{os.getpid()}.{threading.get_ident()}"
    write_private(tmp, base64.b64encode(os.urandom(32)) + b"\n")
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _key(data_dir: Path) -> bytes:
    path = (data_dir / KEY_FILE).resolve()
    key = _keys.get(path)
    if key is not None:
        return key
    with _lock:
        ensure_key(data_dir)
        try:
            raw = base64.b64decode(path.read_bytes().strip(), validate=True)
        except ValueError:
            raise ConfigError(f"打印令牌密钥文件损坏 {path} (not a base64 key)") from None
        if len(raw) != 32:
            raise ConfigError(f"打印令牌密钥文件损坏 {path} (expected 32 bytes)")
        _keys[path] = raw
        return raw


def _mac(key: bytes, setl_id: str, fixmedins_code: str, expires: int) -> str:
    message = f"{_VERSION}|{setl_id}|{fixmedins_code}|{expires}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def issue(data_dir: Path, *, setl_id: str, fixmedins_code: str, now_unix: int) -> str:
    """A token for `fixmedins_code` to open the statement of `setl_id` until TTL_SECONDS on."""
    expires = now_unix + TTL_SECONDS
    mac = _mac(_key(data_dir), setl_id, fixmedins_code, expires)
    return f"{_VERSION}.{expires}.{fixmedins_code}.{mac}"


def check(data_dir: Path, token: str, *, setl_id: str, now_unix: int) -> PrintGrant | None:
    """The grant of a genuine, unexpired token for `setl_id`; None otherwise (the page then
    refuses without saying which part failed)."""
    parts = token.split(".", 2)
    if len(parts) != 3 or parts[0] != _VERSION or not parts[1].isdigit():
        return None
    _, expires_text, rest = parts
    fixmedins_code, _, mac = rest.rpartition(".")
    if not fixmedins_code or not mac:
        return None
    expires = int(expires_text)
    expected = _mac(_key(data_dir), setl_id, fixmedins_code, expires)
    if not hmac.compare_digest(expected, mac) or now_unix >= expires:
        return None
    return PrintGrant(setl_id=setl_id, fixmedins_code=fixmedins_code, expires=expires)
