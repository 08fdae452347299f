"""`file_store`: files uploaded with 9101 or produced for an institution (3202 results),
downloaded with 9102."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, RowMapping, insert, select

from yibao.storage.tables import file_store


def insert_file(
    conn: Connection,
    *,
    file_qury_no: str,
    fixmedins_code: str,
    filename: str,
    direction: str,
    content: bytes,
    created_at: datetime,
    expires_at: datetime,
) -> None:
    conn.execute(
        insert(file_store).values(
            file_qury_no=file_qury_no,
            fixmedins_code=fixmedins_code,
            filename=filename,
            direction=direction,
            content=content,
            created_at=created_at,
            expires_at=expires_at,
        )
    )


def file_by_number(conn: Connection, file_qury_no: str) -> RowMapping | None:
    """A kept file whoever it belongs to: the caller answers another institution's file with
    its own refusal (not as a missing one)."""
    query = select(file_store).where(file_store.c.file_qury_no == file_qury_no)
    return conn.execute(query).mappings().first()
