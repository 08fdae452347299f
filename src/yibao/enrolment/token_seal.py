"""Sealing the signature-mode tokens (paasToken) at rest.

A gateway signature is `sha256hex(timestamp + paasToken + nonce + timestamp)`: to verify it the
server needs the token itself, so a one-way digest (what static secrets get) cannot be used.
The token is stored encrypted with AES-256-GCM under a key kept in the data directory
(`gateway-token.key`, mode 0600, created by `yibao init` or the first issue), never in the
database: a dump of the row store alone reveals no token. The credential's paasid is the
associated data, so a sealed token copied onto another credential's row does not open.
docs/interface.md §2 explains the choice.
"""

from __future__ import annotations

import base64
import os
import threading
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from yibao.errors import ConfigError
from yibao.kit.files import write_private

KEY_FILE = "gateway-token.key"
#: the format marker of a sealed token ("v1:" + base64(nonce ‖ ciphertext ‖ tag))
_VERSION = "v1:"
_NONCE_BYTES = 12

_keys: dict[Path, AESGCM] = {}
_lock = threading.Lock()


def key_path(data_dir: Path) -> Path:
    return data_dir / KEY_FILE


def ensure_key(data_dir: Path) -> Path:
    """Create the data directory's token key when it has none (32 random bytes, 0600)."""
    path = key_path(data_dir)
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_private(path, base64.b64encode(os.urandom(32)) + b"\n")
    return path


def _cipher(data_dir: Path, *, create: bool) -> AESGCM:
    path = key_path(data_dir).resolve()
    cipher = _keys.get(path)
    if cipher is not None:
        return cipher
    with _lock:
        if create:
            ensure_key(data_dir)
        try:
            raw = base64.b64decode(path.read_bytes().strip(), validate=True)
        except FileNotFoundError:
            raise ConfigError(
                f"令牌密钥文件不存在 {path} (the gateway token key is missing: copy it from the "
                "data directory where the credentials were issued)"
            ) from None
        except ValueError:
            raise ConfigError(f"令牌密钥文件损坏 {path} (not a base64 key)") from None
        if len(raw) != 32:
            raise ConfigError(f"令牌密钥文件损坏 {path} (expected 32 bytes)")
        cipher = AESGCM(raw)
        _keys[path] = cipher
        return cipher


def seal(data_dir: Path, paasid: str, token: str) -> str:
    """The token encrypted under the data directory's key (the key is created when missing)."""
    nonce = os.urandom(_NONCE_BYTES)
    sealed = _cipher(data_dir, create=True).encrypt(nonce, token.encode(), paasid.encode())
    return _VERSION + base64.b64encode(nonce + sealed).decode("ascii")


def unseal(data_dir: Path, paasid: str, sealed: str) -> str | None:
    """The token in clear, or None when it was sealed for another paasid or under another
    key. ConfigError when the data directory has no key."""
    if not sealed.startswith(_VERSION):
        return None
    try:
        raw = base64.b64decode(sealed[len(_VERSION) :], validate=True)
    except ValueError:
        return None
    cipher = _cipher(data_dir, create=False)
    try:
        clear = cipher.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], paasid.encode())
    except InvalidTag:
        return None
    return clear.decode()
