"""Keyed pseudonyms for the columnar side: `psn_ref` = HMAC-SHA256(platform key, psn_no).

The replica and every analytic answer carry a person as `psn_ref`, never as `psn_no` or
`certno` (issue 17; domain.md §5: "replace certno and psn_no with keyed HMAC pseudonyms, and
keep the key so that the mapping can be reversed only under audit"). Without the key a
pseudonym cannot be linked back to a person, not even by hashing every possible `psn_no`
(a plain hash could be, since person numbers are short and structured).

- The key is 32 random bytes kept in `<data_dir>/pseudonym.key` (hex, owner-only 0600),
  created by `yibao init` — or by whatever first opens the replica — when absent.
- `psn_ref` is the first 32 hex digits (128 bits) of the HMAC-SHA256 digest: truncation as
  NIST SP 800-107 allows; two persons share a pseudonym with probability ~n²/2¹²⁹.
- The replica records the id of the key it was built with (`key_id`, a hash of the key, not
  the key); a replica built with another key is rebuilt when it is opened. Rotating the key
  (`yibao replica rotate-pseudonym-key`) therefore re-pseudonymises the whole replica, and
  the old pseudonyms cannot be linked to the new ones (docs/replica.md, key rotation).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from yibao.errors import ConfigError

KEY_FILE = "pseudonym.key"
#: marks a value that is already a pseudonym where a `psn_no` is expected (a post-hoc hit,
#: found on the replica, knows its person only as `psn_ref`): `ref()` passes it through
GIVEN_REF = "ref:"
#: hex digits of the HMAC kept as the pseudonym (128 bits)
REF_LEN = 32
_KEY_BYTES = 32


def key_path(data_dir: Path) -> Path:
    return Path(data_dir) / KEY_FILE


def _write_key(path: Path, key: bytes, *, replace: bool) -> None:
    """Write the key owner-only: created 0600 (never readable by others, not even briefly)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".new")
    if tmp.exists():
        tmp.unlink()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key.hex() + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    if replace:
        os.replace(tmp, path)
    else:
        try:
            os.link(tmp, path)  # atomic create-if-absent: two first starts agree on one key
        except FileExistsError:
            pass
        finally:
            tmp.unlink()


def given(psn_ref: str) -> str:
    """A pseudonym carried where a `psn_no` goes (`Pseudonyms.ref` passes it through)."""
    return GIVEN_REF + psn_ref


def ensure_key(data_dir: Path) -> tuple[Path, bool]:
    """Create `<data_dir>/pseudonym.key` if absent: `(path, created)`. An existing key file
    readable by others is made owner-only."""
    path = key_path(data_dir)
    if path.exists():
        if path.stat().st_mode & 0o077:
            path.chmod(0o600)
        return path, False
    _write_key(path, secrets.token_bytes(_KEY_BYTES), replace=False)
    return path, True


def read_key(path: Path) -> bytes:
    try:
        text = path.read_text().strip()
        key = bytes.fromhex(text)
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"假名密钥无法读取 (cannot read the pseudonym key {path}: {type(exc).__name__}); "
            "restore it from the backup, or run `yibao replica rotate-pseudonym-key` to make a "
            "new one (the replica is then rebuilt)"
        ) from None
    if len(key) < 16:
        raise ConfigError(
            f"假名密钥过短 (the pseudonym key in {path} is shorter than 16 bytes); "
            "run `yibao replica rotate-pseudonym-key`"
        )
    return key


def rotate_key(data_dir: Path) -> Pseudonyms:
    """Replace the key with a fresh one; the old one is gone (the old pseudonyms become
    unlinkable). The replica must be rebuilt afterwards (it is, when next opened)."""
    _write_key(key_path(data_dir), secrets.token_bytes(_KEY_BYTES), replace=True)
    return Pseudonyms.for_dir(data_dir)


class Pseudonyms:
    """Maps `psn_no` to `psn_ref` with the platform key (a per-instance cache: a city has
    far fewer persons than settlements)."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("pseudonym key shorter than 16 bytes")
        self._key = key
        #: identifies the key without revealing it (recorded in the replica)
        self.key_id = hashlib.sha256(b"yibao-pseudonym-key-id:" + key).hexdigest()[:16]
        self._cache: dict[str, str] = {}

    @classmethod
    def for_dir(cls, data_dir: Path) -> Pseudonyms:
        path, _created = ensure_key(data_dir)
        return cls(read_key(path))

    @classmethod
    def ephemeral(cls) -> Pseudonyms:
        """A random key for an in-memory replica (tests, throw-away benchmarks)."""
        return cls(secrets.token_bytes(_KEY_BYTES))

    def ref(self, psn_no: str | None) -> str | None:
        if psn_no is None:
            return None
        if psn_no.startswith(GIVEN_REF):
            return psn_no[len(GIVEN_REF) :]
        found = self._cache.get(psn_no)
        if found is None:
            if len(self._cache) > 2_000_000:
                self._cache.clear()
            found = hmac.digest(self._key, psn_no.encode(), "sha256").hex()[:REF_LEN]
            self._cache[psn_no] = found
        return found

    def array(self, values: pa.Array | pa.ChunkedArray) -> pa.Array:
        """A column of `psn_no` → the column of their `psn_ref` (each distinct value hashed
        once: the bulk loader's 10 million settlements hold ~1 million persons)."""
        if isinstance(values, pa.ChunkedArray):
            values = values.combine_chunks()
        encoded = pc.dictionary_encode(values.cast(pa.string()))
        refs = pa.array([self.ref(v) for v in encoded.dictionary.to_pylist()], pa.string())
        return pc.take(refs, encoded.indices)

    def table(self, table: pa.Table) -> pa.Table:
        """Replace a `psn_no` column by `psn_ref` (a table that has none is returned as is)."""
        if "psn_no" not in table.column_names:
            return table
        index = table.column_names.index("psn_no")
        refs = self.array(table.column("psn_no"))
        table = table.remove_column(index)
        if "psn_ref" in table.column_names:
            table = table.drop_columns(["psn_ref"])
        return table.append_column("psn_ref", refs)
