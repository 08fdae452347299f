"""目录对照: submit, approve, reject, cancel, supersede; history kept; the status a fee line sees."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from catalog_factories import (
    DRUG,
    DRUG2,
    GOOD_ROWS,
    NATIONAL,
    NOW,
    SERVICE,
    add_institution,
    apply,
    write_csv,
)
from sqlalchemy import Engine, func, select

from yibao.catalog import mapping
from yibao.catalog.mapping import MappingState
from yibao.errors import Conflict, Forbidden, InvalidInput, NotFound
from yibao.storage.tables import catalog_mapping, catalog_mapping_event
from yibao.storage.uow import UnitOfWork

H1 = "H37010200001"
H2 = "H37010200002"


@pytest.fixture
def catalog(engine: Engine, tmp_path: Path) -> Engine:
    apply(engine, write_csv(tmp_path / "c.csv", NATIONAL, GOOD_ROWS))
    with UnitOfWork(engine) as uow:
        add_institution(uow.conn, H1)
        add_institution(uow.conn, H2)
        uow.commit()
    return engine


def submit(conn, local: str = "YP0001", code: str = DRUG, fixmedins_code: str = H1, **kw):  # type: ignore[no-untyped-def]
    return mapping.submit(
        conn,
        fixmedins_code=fixmedins_code,
        medins_list_codg=local,
        medins_list_name="含片(本院)",
        hilist_code=code,
        opter="his-user",
        now=kw.pop("now", NOW),
        **kw,
    )


def test_lifecycle_submit_approve_supersede_cancel(catalog: Engine) -> None:
    later = NOW + timedelta(days=1)
    with UnitOfWork(catalog) as uow:
        conn = uow.conn
        first = submit(conn)
        assert first.map_stas == "submitted" and first.list_type == "101"
        assert mapping.mapping_status(conn, H1, "YP0001", DRUG) is MappingState.PENDING
        approved = mapping.approve(conn, map_id=first.map_id, reviewer="agency", now=NOW)
        assert approved.map_stas == "approved" and approved.reviewed_by == "agency"
        assert mapping.mapping_status(conn, H1, "YP0001", DRUG) is MappingState.APPROVED
        assert mapping.mapping_status(conn, H1, "YP0001", DRUG2) is MappingState.MISMATCH
        assert mapping.mapping_status(conn, H2, "YP0001", DRUG) is MappingState.NONE

        # Re-map the local code to another national code: the old mapping stays until approved.
        second = submit(conn, code=DRUG2, now=later)
        assert mapping.mapping_status(conn, H1, "YP0001", DRUG) is MappingState.APPROVED
        mapping.approve(conn, map_id=second.map_id, reviewer="agency", now=later)
        assert mapping.get(conn, first.map_id).map_stas == "superseded"
        assert mapping.get(conn, first.map_id).superseded_by == second.map_id
        assert mapping.mapping_status(conn, H1, "YP0001", DRUG2) is MappingState.APPROVED
        assert mapping.mapping_status(conn, H1, "YP0001", DRUG) is MappingState.MISMATCH

        cancelled = mapping.cancel(
            conn, fixmedins_code=H1, medins_list_codg="YP0001", opter="his-user", now=later
        )
        assert [c.map_stas for c in cancelled] == ["cancelled"]
        assert mapping.mapping_status(conn, H1, "YP0001", DRUG2) is MappingState.NONE

        events = mapping.history(conn, fixmedins_code=H1, medins_list_codg="YP0001")
        assert [(e.event, e.map_stas) for e in events] == [
            ("submit", "submitted"),
            ("approve", "approved"),
            ("submit", "submitted"),
            ("supersede", "superseded"),
            ("approve", "approved"),
            ("cancel", "cancelled"),
        ]
        # Nothing is ever deleted.
        assert conn.execute(select(func.count()).select_from(catalog_mapping)).scalar_one() == 2
        assert (
            conn.execute(select(func.count()).select_from(catalog_mapping_event)).scalar_one() == 6
        )
        uow.commit()


def test_reject_needs_a_reason_and_only_pending_can_be_reviewed(catalog: Engine) -> None:
    with UnitOfWork(catalog) as uow:
        conn = uow.conn
        record = submit(conn)
        with pytest.raises(InvalidInput, match="memo"):
            mapping.reject(conn, map_id=record.map_id, reviewer="agency", now=NOW, memo=" ")
        rejected = mapping.reject(
            conn, map_id=record.map_id, reviewer="agency", now=NOW, memo="规格不符"
        )
        assert rejected.map_stas == "rejected" and rejected.review_memo == "规格不符"
        with pytest.raises(Conflict):
            mapping.approve(conn, map_id=record.map_id, reviewer="agency", now=NOW)
        with pytest.raises(Conflict):
            mapping.cancel(conn, fixmedins_code=H1, map_id=record.map_id, opter="x", now=NOW)
        assert mapping.mapping_status(conn, H1, "YP0001", DRUG) is MappingState.NONE
        # After a rejection the institution may submit again.
        assert submit(conn).map_stas == "submitted"


def test_submission_rules(catalog: Engine) -> None:
    with UnitOfWork(catalog) as uow:
        conn = uow.conn
        with pytest.raises(InvalidInput, match="不在国家目录"):
            submit(conn, code="XZ99ZZZ999Z999999999999")
        with pytest.raises(InvalidInput, match="list_type"):
            submit(conn, list_type="201")
        with pytest.raises(NotFound):
            submit(conn, fixmedins_code="H37010299999")
        with pytest.raises(InvalidInput, match="medins_list_codg"):
            submit(conn, local="")
        with pytest.raises(InvalidInput, match="enddate"):
            submit(conn, begndate=date(2025, 1, 1), enddate=date(2024, 1, 1))
        record = submit(conn)
        with pytest.raises(Conflict, match="待审核"):
            submit(conn, code=SERVICE)
        mapping.approve(conn, map_id=record.map_id, reviewer="agency", now=NOW)
        with pytest.raises(Conflict, match="已对照"):
            submit(conn)


def test_an_institution_cancels_only_its_own(catalog: Engine) -> None:
    with UnitOfWork(catalog) as uow:
        record = submit(uow.conn)
        with pytest.raises(Forbidden):
            mapping.cancel(uow.conn, fixmedins_code=H2, map_id=record.map_id, opter="x", now=NOW)
        with pytest.raises(NotFound):
            mapping.cancel(
                uow.conn, fixmedins_code=H2, medins_list_codg="YP0001", opter="x", now=NOW
            )


def test_list_and_bulk_status(catalog: Engine) -> None:
    with UnitOfWork(catalog) as uow:
        conn = uow.conn
        a = submit(conn, local="A1")
        submit(conn, local="S1", code=SERVICE, now=NOW + timedelta(minutes=1))
        submit(conn, local="B1", fixmedins_code=H2)
        mapping.approve(conn, map_id=a.map_id, reviewer="agency", now=NOW)
        mine = mapping.list_mappings(conn, fixmedins_code=H1)
        assert [m.medins_list_codg for m in mine] == ["S1", "A1"]
        assert [m.medins_list_codg for m in mapping.list_mappings(conn, map_stas="approved")] == [
            "A1"
        ]
        with pytest.raises(InvalidInput):
            mapping.list_mappings(conn, map_stas="nope")
        states = mapping.mapping_statuses(
            conn, H1, [("A1", DRUG), ("S1", SERVICE), ("Z9", DRUG)], at=datetime(2025, 3, 1)
        )
        assert states == {
            ("A1", DRUG): MappingState.APPROVED,
            ("S1", SERVICE): MappingState.PENDING,
            ("Z9", DRUG): MappingState.NONE,
        }
        # An approved mapping is valid from its begndate.
        assert (
            mapping.mapping_status(conn, H1, "A1", DRUG, at=date(2020, 1, 1)) is MappingState.NONE
        )
        assert a.as_dict()["map_stas_name"] == "待审核"
