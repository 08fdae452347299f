"""The pure parts of the settlement statement: the fee structure by category and the print
link's token."""

from __future__ import annotations

import stat
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from yibao.settlement import print_token
from yibao.settlement.statement import fee_structure


def _line(kind: str | None, total: str, own: str = "0", pre: str = "0") -> dict[str, Any]:
    total_d, own_d, pre_d = Decimal(total), Decimal(own), Decimal(pre)
    return {
        "med_chrgitm_type": kind,
        "det_item_fee_sumamt": total_d,
        "fulamt_ownpay_amt": own_d,
        "overlmt_amt": Decimal("0.00"),
        "preselfpay_amt": pre_d,
        "inscp_scp_amt": total_d - own_d - pre_d,
    }


def test_fee_structure_sums_by_category_in_code_order() -> None:
    rows = fee_structure(
        [
            _line("09", "4.52", pre="0.45"),
            _line("04", "2000.00"),
            _line("09", "10.10", own="10.10"),
            _line(None, "1.01"),
        ]
    )
    assert [r["med_chrgitm_type"] for r in rows] == ["04", "09", "14"]
    drugs = rows[1]
    assert drugs["med_chrgitm_type_name"] == "西药费"
    assert drugs["det_item_fee_sumamt"] == Decimal("14.62")
    assert drugs["fulamt_ownpay_amt"] == Decimal("10.10")
    assert drugs["preselfpay_amt"] == Decimal("0.45")
    assert drugs["line_cnt"] == 2
    # a line without a category is shown under 14 其他费
    assert rows[2]["med_chrgitm_type_name"] == "其他费"
    for r in rows:
        parts = r["fulamt_ownpay_amt"] + r["overlmt_amt"] + r["preselfpay_amt"]
        assert r["det_item_fee_sumamt"] == parts + r["inscp_scp_amt"]


def test_fee_structure_of_a_reversal_is_negated() -> None:
    rows = fee_structure([_line("02", "1000.00")], negate=True)
    assert rows[0]["det_item_fee_sumamt"] == Decimal("-1000.00")
    assert rows[0]["inscp_scp_amt"] == Decimal("-1000.00")
    assert fee_structure([]) == []


def test_token_round_trip_and_its_limits(tmp_path: Path) -> None:
    token = print_token.issue(tmp_path, setl_id="S1", fixmedins_code="H001", now_unix=1_000)
    grant = print_token.check(tmp_path, token, setl_id="S1", now_unix=1_001)
    assert grant is not None and grant.fixmedins_code == "H001"
    assert grant.expires == 1_000 + print_token.TTL_SECONDS
    # the key is created once, readable by its owner only
    key = tmp_path / print_token.KEY_FILE
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    # another settlement, expiry, a changed institution or mac, garbage: refused
    assert print_token.check(tmp_path, token, setl_id="S2", now_unix=1_001) is None
    assert print_token.check(tmp_path, token, setl_id="S1", now_unix=grant.expires) is None
    forged = token.replace(".H001.", ".H002.")
    assert print_token.check(tmp_path, forged, setl_id="S1", now_unix=1_001) is None
    flipped = token[:-1] + ("1" if token[-1] == "0" else "0")
    assert print_token.check(tmp_path, flipped, setl_id="S1", now_unix=1_001) is None
    later = token.replace(f".{grant.expires}.", f".{grant.expires + 10_000}.")
    assert print_token.check(tmp_path, later, setl_id="S1", now_unix=1_001) is None
    for junk in ("", "v1", "v2.1.H.x", "v1.x.H001.ab", "v1.10..ab", "v1.10.H001."):
        assert print_token.check(tmp_path, junk, setl_id="S1", now_unix=1) is None


def test_token_from_another_data_directory_does_not_open(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    token = print_token.issue(a, setl_id="S1", fixmedins_code="H001", now_unix=1_000)
    assert print_token.check(b, token, setl_id="S1", now_unix=1_001) is None


@pytest.mark.parametrize("code", ["H.1", "H-01"])
def test_institution_codes_with_punctuation(tmp_path: Path, code: str) -> None:
    token = print_token.issue(tmp_path, setl_id="S1", fixmedins_code=code, now_unix=0)
    grant = print_token.check(tmp_path, token, setl_id="S1", now_unix=1)
    assert grant is not None and grant.fixmedins_code == code


def test_key_is_created_once_and_kept(tmp_path: Path) -> None:
    path = print_token.ensure_key(tmp_path)
    first = path.read_bytes()
    assert print_token.ensure_key(tmp_path) == path and path.read_bytes() == first
    assert [p.name for p in tmp_path.iterdir()] == [print_token.KEY_FILE]  # no temporary left
