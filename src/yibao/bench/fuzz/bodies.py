"""The bytes of the fuzz cases: a small JSON writer that can write what no JSON library
writes (a lone surrogate, `NaN`, `1e999`, a duplicate key, invalid UTF-8), the hostile values,
and the mutations of a plausible envelope."""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NamedTuple

import orjson

# Hostile bytes cannot be built from Python values by a JSON library (a lone surrogate, `NaN`,
# `1e999`, a duplicate key, invalid UTF-8), so the cases are written by this small encoder.


@dataclass(frozen=True, slots=True)
class Raw:
    """Bytes written verbatim where a value goes."""

    data: bytes


@dataclass(frozen=True, slots=True)
class Pairs:
    """An object written from its pairs: a key may occur twice."""

    items: tuple[tuple[str, Any], ...]


def encode(value: Any) -> bytes:
    """JSON bytes of `value`, where `Raw` and `Pairs` say what a library would not write."""
    if isinstance(value, Raw):
        return value.data
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 2**63:
        return str(value).encode()  # orjson writes 64-bit integers only
    if value is None or isinstance(value, (bool, int, str)):
        return orjson.dumps(value)
    if isinstance(value, Decimal):
        return format(value, "f").encode()
    if isinstance(value, Pairs):
        items = value.items
    elif isinstance(value, Mapping):
        items = tuple(value.items())
    elif isinstance(value, (list, tuple)):
        return b"[" + b",".join(encode(v) for v in value) + b"]"
    else:
        raise TypeError(type(value).__name__)
    return b"{" + b",".join(orjson.dumps(k) + b":" + encode(v) for k, v in items) + b"}"


def _deep(depth: int, *, objects: bool) -> Raw:
    if objects:
        return Raw(b'{"a":' * depth + b"1" + b"}" * depth)
    return Raw(b"[" * depth + b"1" + b"]" * depth)


#: values a client can send where any value goes
HOSTILE: tuple[Any, ...] = (
    None,
    True,
    False,
    0,
    -1,
    [],
    {},
    [None],
    [[]],
    {"": None},
    "",
    " ",
    "x" * 5_000,
    "中" * 100_000,
    "9" * 25,
    "-0",
    "1e999",
    "NaN",
    "Infinity",
    "0x10",
    "2024-13-45 25:61:61",
    "9999-12-31 23:59:59",
    "0000-00-00",
    "\x00",
    "\u202e\u200b",
    "😀",
    "\u3000",
    2**63,
    2**64,
    -(2**63) - 1,
    10**40,
    Raw(b"9" * 5_000),
    Raw(b"-0"),
    Raw(b"-0.0"),
    Raw(b"1e999"),
    Raw(b"1E400"),
    Raw(b"-1e999"),
    Raw(b"1e-400"),
    Raw(b"1E+20"),
    Raw(b"0.001"),
    Raw(b"12.345678901234567890"),
    Raw(b"99999999999999999.99"),
    Raw(b"NaN"),
    Raw(b"Infinity"),
    Raw(b"-Infinity"),
    Raw(b'"\\ud800"'),
    Raw(b'"a\\udc00b"'),
    Raw(b'"\\ud83d\\ude00"'),
    Raw(b'"\xed\xa0\x80"'),
    Raw(b'"\xff\xfe"'),
    Raw(b'"\xe4\xb8"'),
    Raw(b'"\xc0\xaf"'),
    _deep(40, objects=False),
    _deep(62, objects=True),  # around the reader's limit, with the envelope's own levels
    _deep(200, objects=False),  # parsed, then refused for its depth
    _deep(1_000, objects=False),  # past the parser's recursion
    _deep(1_000, objects=True),
)
#: values only sometimes (they are large)
RARE: tuple[Any, ...] = (_deep(100_000, objects=False), _deep(100_000, objects=True))


Path = tuple[str | int, ...]


def _paths(value: Any, prefix: Path = ()) -> Iterator[Path]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield (*prefix, key)
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield (*prefix, i)
            yield from _paths(item, (*prefix, i))


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _parent(tree: Any, path: Path) -> Any:
    for step in path[:-1]:
        tree = tree[step]
    return tree


def _name(path: Path) -> str:
    return ".".join(str(p) for p in path)


def _hostile(rng: random.Random) -> Any:
    if rng.random() < 0.01:
        return rng.choice(RARE)
    return rng.choice(HOSTILE)


def _describe(value: Any) -> str:
    if isinstance(value, Raw):
        text = value.data[:24].decode("utf-8", "backslashreplace")
        return f"raw {text}{'…' if len(value.data) > 24 else ''}"
    text = repr(value)
    return text[:24] + ("…" if len(text) > 24 else "")


class Mutation(NamedTuple):
    #: the path of the value broken ("input.data.ver"); "" for a whole-body mutation
    where: str
    #: what was done, e.g. "input.data.ver = 9223372036854775808"
    what: str
    body: bytes


def mutate(rng: random.Random, env: dict[str, Any]) -> Mutation:
    """One mutation of the envelope `env` (which stays as it was)."""
    roll = rng.random()
    tree = _copy(env)
    if roll < 0.08:
        what, body = _body_mutation(rng, tree)
        return Mutation("", what, body)
    inside = list(_paths(tree["input"], ("input",))) if isinstance(tree["input"], dict) else []
    paths = inside if inside and roll < 0.85 else list(_paths(tree))
    path = rng.choice(paths)
    where = _name(path)
    parent = _parent(tree, path)
    key = path[-1]
    kind = rng.random()
    if kind < 0.7:
        value = _hostile(rng)
        parent[key] = value
        return Mutation(where, f"{where} = {_describe(value)}", encode(tree))
    if kind < 0.85:
        del parent[key]
        return Mutation(where, f"{where} removed", encode(tree))
    if isinstance(parent, dict):
        items = list(parent.items())
        twin = _hostile(rng) if rng.random() < 0.5 else parent[key]
        items.insert(rng.randrange(len(items) + 1), (str(key), twin))
        replaced = Pairs(tuple(items))
        if len(path) == 1:
            return Mutation(where, f"{where} duplicated", encode(replaced))
        _parent(tree, path[:-1])[path[-2]] = replaced
        return Mutation(where, f"{where} duplicated", encode(tree))
    # an element of a list: it becomes a string, a number, another object or a nested list
    odd = rng.choice(("a string", 1, {"x": 1}, [[parent[key]]]))
    parent[key] = odd
    return Mutation(where, f"{where} = {_describe(odd)}", encode(tree))


def _body_mutation(rng: random.Random, tree: dict[str, Any]) -> tuple[str, bytes]:
    body = encode(tree)
    choice = rng.randrange(12)
    if choice == 0:
        cut = rng.randrange(len(body))
        return f"body truncated at {cut}", body[:cut]
    if choice == 1:
        return "body in GBK", body.decode().encode("gbk", "replace")
    if choice == 2:
        return "body in UTF-16", body.decode().encode("utf-16")
    if choice == 3:
        return "body with a UTF-8 BOM", b"\xef\xbb\xbf" + body
    if choice == 4:
        at = rng.randrange(len(body))
        return f"byte {at} = 0xff", body[:at] + b"\xff" + body[at + 1 :]
    if choice == 5:
        return "body nested 100000 deep", _deep(100_000, objects=rng.random() < 0.5).data
    if choice == 6:
        return "body nested 1000 deep", _deep(1_000, objects=rng.random() < 0.5).data
    if choice == 7:
        return "input as a JSON string", encode({**tree, "input": encode(tree["input"]).decode()})
    if choice == 8:
        deep = _deep(1_000, objects=True).data.decode()
        return "input as a deep JSON string", encode({**tree, "input": deep})
    if choice == 9:
        lone = Raw(b'"\\ud800"')
        return "input as a string with a lone surrogate", encode({**tree, "input": lone})
    if choice == 10:
        return "body empty or a scalar", rng.choice((b"", b"null", b"1", b'"x"', b"[]", b" "))
    return "body of an unknown infno", encode({**tree, "infno": rng.choice(("0000", "2207Z"))})
