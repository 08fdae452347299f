"""The anomaly labels file holds psn_no: it is written owner-only (0600), like the fixtures."""

from __future__ import annotations

import csv
import stat
from datetime import date
from pathlib import Path

from yibao.simulate.export import LABEL_FIELDS, LABELS_FILE, write_labels
from yibao.simulate.model import Label


def test_labels_file_is_owner_only_even_when_it_existed_world_readable(tmp_path: Path) -> None:
    path = tmp_path / LABELS_FILE
    path.write_text("old\n")
    path.chmod(0o644)
    labels = [Label("split_admission", 7, "P0000001", "H1", date(2026, 1, 2), "d")]
    assert write_labels(path, labels) == 1
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    rows = list(csv.reader(path.read_text(encoding="utf-8").splitlines()))
    assert tuple(rows[0]) == LABEL_FIELDS and rows[1][LABEL_FIELDS.index("psn_no")] == "P0000001"
    assert not list(tmp_path.glob("*.tmp"))
