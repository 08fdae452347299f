"""The msgid digest (a retry must carry the same input) is taken of any input."""

from __future__ import annotations

from yibao.interface.idempotency import input_digest


def test_the_msgid_digest_takes_any_input() -> None:
    assert input_digest({"a": "\ud800"}) != input_digest({"a": "\udc00"})
    assert input_digest("\ud800") != input_digest("\udc00")
    assert input_digest({"ver": 2**64}) != input_digest({"ver": 2**64 + 1})
    assert input_digest({"a": "中"}) == input_digest({"a": "中"})
