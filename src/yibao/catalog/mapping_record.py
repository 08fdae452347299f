"""A 目录对照 mapping and one event of its history, as the services return them."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from yibao.codes.dicts import MapStatus


@dataclass(frozen=True, slots=True)
class MappingRecord:
    map_id: int
    fixmedins_code: str
    medins_list_codg: str
    medins_list_name: str
    hilist_code: str
    list_type: str
    begndate: date
    enddate: date | None
    map_stas: str
    submitted_at: datetime
    submitted_by: str
    reviewed_at: datetime | None
    reviewed_by: str | None
    review_memo: str | None
    cancelled_at: datetime | None
    superseded_by: int | None
    msgid: str | None
    extra: dict[str, Any]

    @property
    def status_label(self) -> str:
        return MapStatus(self.map_stas).label

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (ids as text: they exceed JavaScript's safe integers)."""
        return {
            "map_id": str(self.map_id),
            "fixmedins_code": self.fixmedins_code,
            "medins_list_codg": self.medins_list_codg,
            "medins_list_name": self.medins_list_name,
            "hilist_code": self.hilist_code,
            "list_type": self.list_type,
            "begndate": self.begndate.isoformat(),
            "enddate": self.enddate.isoformat() if self.enddate else None,
            "map_stas": self.map_stas,
            "map_stas_name": self.status_label,
            "submitted_at": self.submitted_at.isoformat(" "),
            "submitted_by": self.submitted_by,
            "reviewed_at": self.reviewed_at.isoformat(" ") if self.reviewed_at else None,
            "reviewed_by": self.reviewed_by,
            "review_memo": self.review_memo,
            "cancelled_at": self.cancelled_at.isoformat(" ") if self.cancelled_at else None,
            "superseded_by": str(self.superseded_by) if self.superseded_by else None,
            "msgid": self.msgid,
            "extra": self.extra,
        }


@dataclass(frozen=True, slots=True)
class MappingEvent:
    event_id: int
    map_id: int
    event: str
    map_stas: str
    actor: str
    at: datetime
    memo: str | None


def record_from_row(row: Mapping[Any, Any]) -> MappingRecord:
    """A `catalog_mapping` row as a record (`extra` decoded from its JSON text)."""
    extra = json.loads(row["extra"]) if row["extra"] else {}
    return MappingRecord(
        map_id=row["map_id"],
        fixmedins_code=row["fixmedins_code"],
        medins_list_codg=row["medins_list_codg"],
        medins_list_name=row["medins_list_name"],
        hilist_code=row["hilist_code"],
        list_type=row["list_type"],
        begndate=row["begndate"],
        enddate=row["enddate"],
        map_stas=row["map_stas"],
        submitted_at=row["submitted_at"],
        submitted_by=row["submitted_by"],
        reviewed_at=row["reviewed_at"],
        reviewed_by=row["reviewed_by"],
        review_memo=row["review_memo"],
        cancelled_at=row["cancelled_at"],
        superseded_by=row["superseded_by"],
        msgid=row["msgid"],
        extra=extra,
    )
