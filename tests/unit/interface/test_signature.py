"""The signature check on its own: the formula the provincial gateways use."""

from __future__ import annotations

import hashlib

import pytest

from yibao.errors import Unauthorized
from yibao.interface.signature import Signed, sign, verify


def test_the_formula() -> None:
    expected = hashlib.sha256(b"1700000000tokennonce1700000000").hexdigest()
    assert sign("1700000000", "token", "nonce") == expected


def test_verify() -> None:
    good = Signed("1700000000", "n", sign("1700000000", "t", "n"))
    assert verify(good, "t", now=1_700_000_300, window=300).expires_at == 1_700_000_300
    with pytest.raises(Unauthorized, match="时间戳已过期"):
        verify(good, "t", now=1_700_000_301, window=300)
    with pytest.raises(Unauthorized, match="时间戳超前"):
        verify(good, "t", now=1_699_999_699, window=300)
    with pytest.raises(Unauthorized, match="签名错误"):
        verify(Signed("1700000000", "n", "é"), "t", now=1_700_000_000, window=300)
    with pytest.raises(Unauthorized, match="随机串过长"):
        long = "n" * 65
        verify(
            Signed("1700000000", long, sign("1700000000", "t", long)),
            "t",
            now=1_700_000_000,
            window=300,
        )
