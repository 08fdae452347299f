"""What one change-log record becomes on the stream: subject, message id and payload.

Pure: a change row and a pseudonymiser in, bytes out. The message id is the change's `seq`, so
JetStream's duplicate window drops a record published twice (a publisher that restarts
between publishing and learning the acknowledgement sends it again).

Personal identifiers never leave: the person's `psn_no` becomes `psn_ref`, the keyed pseudonym
the replica carries (domain.md §5, 假名化), in the key and in the payload alike; the writers'
payloads hold no name, certno, phone or address in the first place (`replica.rows`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

SUBJECT_PREFIX = "yibao.changes"

#: entities whose change-log key is the person's number
_KEYED_BY_PERSON = frozenset({"psn"})
#: payload fields that name a person, and the pseudonymous field that replaces them
_PERSON_FIELDS = {"psn_no": "psn_ref"}
#: never published, whatever a writer put in a payload
_DROPPED = frozenset({"certno", "psn_name", "name", "tel", "mob", "addr", "brdy", "psn_cert_type"})

Pseudonymiser = Callable[[str], str]


@dataclass(frozen=True)
class FeedRecord:
    seq: int
    subject: str
    msg_id: str
    payload: bytes


def subject_for(entity: str) -> str:
    """`yibao.changes.<entity>`; an entity name is a plain token already (setl, mdtrt, psn …)."""
    token = "".join(ch for ch in entity if ch.isalnum() or ch == "_") or "unknown"
    return f"{SUBJECT_PREFIX}.{token}"


def pseudonymous(data: Mapping[str, Any], pseudonym: Pseudonymiser) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in data.items():
        if name in _DROPPED:
            continue
        target = _PERSON_FIELDS.get(name)
        if target is not None:
            out[target] = None if value in (None, "") else pseudonym(str(value))
        else:
            out[name] = value
    return out


def to_record(
    change: Mapping[str, Any], data: Mapping[str, Any], pseudonym: Pseudonymiser
) -> FeedRecord:
    """One change-log row (`seq, entity, op, entity_key, ts_ms`) and its decoded payload."""
    seq = int(change["seq"])
    entity = str(change["entity"])
    key = str(change["entity_key"])
    if entity in _KEYED_BY_PERSON:
        key = pseudonym(key)
    body = {
        "seq": seq,
        "entity": entity,
        "op": str(change["op"]),
        "key": key,
        "ts_ms": int(change["ts_ms"]),
        "data": pseudonymous(data, pseudonym),
    }
    return FeedRecord(
        seq=seq, subject=subject_for(entity), msg_id=str(seq), payload=orjson.dumps(body)
    )
