"""A case worked from its hits to a decision: every step recorded, a step the workflow does
not allow refused with the states it allows and nothing written, an institution that sees
only its own notified cases and appeals within its window, and two reviewers acting at once
cannot both win."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine, func, insert, select

from yibao.cases import service
from yibao.cases.service import AGENCY, INSTITUTION, Actor, HitRecord
from yibao.errors import Conflict, Forbidden, InvalidInput, NotFound
from yibao.kit.ids import IdGenerator
from yibao.storage.tables import fixmedins, review_case_step

NOW = datetime(2026, 12, 1, 9, 0)
REVIEWER = Actor("li", "reviewer", AGENCY, None)
CLINIC = Actor("c1admin", "inst_admin", INSTITUTION, frozenset({"C1"}))
OTHER = Actor("c2admin", "inst_admin", INSTITUTION, frozenset({"C2"}))
IDS = IdGenerator(3)


def _institutions(engine: Engine) -> None:
    with engine.begin() as conn:
        for code in ("C1", "C2"):
            conn.execute(insert(fixmedins).values(
                fixmedins_code=code, fixmedins_name=f"诊所{code}", kind="clinic", hosp_lv="1",
                admdvs="110101", parent_code=None, vali_flag="1", created_at=NOW, updated_at=NOW,
            ))  # fmt: skip


def _hit(n: int, code: str = "C1", amount: str = "120.50") -> HitRecord:
    return HitRecord(
        hit_id=f"RH{n:06d}", rule_id="R-DUP-01", category="duplicate_charge", stage="mid",
        result_type="violation", fixmedins_code=code, setl_id=f"S{n}", mdtrt_id=f"M{n}",
        amount=Decimal(amount), detected_at=NOW - timedelta(days=3),
        evidence='{"lines": ["1", "2"], "threshold": 1, "value": 2}',
    )  # fmt: skip


def _open(engine: Engine, *hits: HitRecord) -> str:
    with engine.begin() as conn:
        return service.open_case(conn, IDS, REVIEWER, list(hits), title=None, now=NOW)


def _move(engine: Engine, actor: Actor, case_id: str, to: str, at: datetime = NOW, **kw: object):
    with engine.begin() as conn:
        return service.transition(conn, actor, case_id, to=to, comment=kw.get("comment", "ok"),
                                  decision=kw.get("decision"), amount=kw.get("amount"),
                                  assignee=kw.get("assignee"), now=at)  # fmt: skip


def _steps(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(review_case_step)).scalar_one())


def test_the_whole_way_to_a_deduction(engine: Engine) -> None:
    _institutions(engine)
    case_id = _open(engine, _hit(1), _hit(2, amount="79.50"))
    _move(engine, REVIEWER, case_id, "first_review", assignee="li")
    _move(engine, REVIEWER, case_id, "second_review")
    notified = _move(engine, REVIEWER, case_id, "notified")
    assert notified["deadline"] == (NOW + timedelta(days=15)).isoformat(sep=" ")
    _move(engine, CLINIC, case_id, "appealed", comment="两次收费为不同部位 (two sites)")
    _move(engine, REVIEWER, case_id, "appeal_review")
    _move(engine, REVIEWER, case_id, "investigation")
    done = _move(engine, REVIEWER, case_id, "decided", decision="deduct", amount=Decimal("150.00"))
    assert done["state"] == "decided" and done["decision_amount"] == "150.00"
    assert done["amount_at_stake"] == "200.00" and done["next_states"] == []
    assert [s["to_state"] for s in done["steps"]] == [
        "open", "first_review", "second_review", "notified", "appealed", "appeal_review",
        "investigation", "decided",
    ]  # fmt: skip
    assert done["steps"][4]["actor"] == "c1admin"


def test_a_step_not_allowed_names_the_states_and_writes_nothing(engine: Engine) -> None:
    _institutions(engine)
    case_id = _open(engine, _hit(3))
    before = _steps(engine)
    with pytest.raises(Conflict) as refused:
        _move(engine, REVIEWER, case_id, "decided", decision="deduct", amount=Decimal("1"))
    assert "allowed: first_review" in str(refused.value)
    with pytest.raises(InvalidInput, match="to:"):
        _move(engine, REVIEWER, case_id, "closed")
    assert _steps(engine) == before


def test_only_a_dismissal_before_the_institution_is_told(engine: Engine) -> None:
    _institutions(engine)
    case_id = _open(engine, _hit(4))
    _move(engine, REVIEWER, case_id, "first_review")
    with pytest.raises(Conflict, match="dismissed"):
        _move(engine, REVIEWER, case_id, "decided", decision="recover", amount=Decimal("1"))
    done = _move(engine, REVIEWER, case_id, "decided", decision="dismiss")
    assert done["decision"] == "dismiss" and done["decision_amount"] == "0.00"


def test_amounts_are_exact_and_bounded(engine: Engine) -> None:
    _institutions(engine)
    case_id = _open(engine, _hit(5, amount="10.00"))
    for to in ("first_review", "second_review", "notified"):
        _move(engine, REVIEWER, case_id, to)
    for bad in (Decimal("10.01"), Decimal("0"), Decimal("1.234")):
        with pytest.raises(InvalidInput, match="amount"):
            _move(engine, REVIEWER, case_id, "decided", decision="recover", amount=bad)
    assert _move(engine, REVIEWER, case_id, "decided", decision="recover",
                 amount=Decimal("10.00"))["decision_amount"] == "10.00"  # fmt: skip


def test_an_institution_sees_its_notified_cases_only_and_appeals_in_time(engine: Engine) -> None:
    _institutions(engine)
    mine = _open(engine, _hit(6))
    theirs = _open(engine, _hit(7, code="C2"))
    with engine.connect() as conn:
        # under internal review: not yet visible to the institution
        assert service.list_cases(conn, CLINIC, state=None, fixmedins_code=None, category=None,
                                  assignee=None, overdue=False, limit=50, offset=0,
                                  now=NOW)["total"] == 0  # fmt: skip
        with pytest.raises(NotFound):
            service.detail(conn, CLINIC, mine, now=NOW)
    with pytest.raises(NotFound):  # it cannot move a case it cannot see
        _move(engine, CLINIC, mine, "appealed")
    for to in ("first_review", "second_review", "notified"):
        _move(engine, REVIEWER, mine, to)
        _move(engine, REVIEWER, theirs, to)
    with engine.connect() as conn:
        listed = service.list_cases(conn, CLINIC, state=None, fixmedins_code=None, category=None,
                                    assignee=None, overdue=False, limit=50, offset=0, now=NOW)  # fmt: skip
        assert [c["case_id"] for c in listed["items"]] == [mine]
        with pytest.raises(NotFound):
            service.detail(conn, CLINIC, theirs, now=NOW)
    with pytest.raises(NotFound):
        _move(engine, OTHER, mine, "appealed")
    with pytest.raises(Forbidden):  # the agency's steps are not the institution's
        _move(engine, CLINIC, mine, "decided", decision="dismiss")
    with pytest.raises(InvalidInput, match="comment"):
        _move(engine, CLINIC, mine, "appealed", comment=" ")
    late = NOW + timedelta(days=16)
    with pytest.raises(Conflict, match="appeal window"):
        _move(engine, CLINIC, mine, "appealed", at=late)
    with engine.connect() as conn:
        overdue = service.list_cases(conn, REVIEWER, state=None, fixmedins_code=None,
                                     category=None, assignee=None, overdue=True, limit=50,
                                     offset=0, now=late)  # fmt: skip
        assert {c["case_id"] for c in overdue["items"]} == {mine, theirs}
        assert all(c["overdue"] for c in overdue["items"])


def test_a_hit_belongs_to_one_case_and_one_institution_per_case(engine: Engine) -> None:
    _institutions(engine)
    _open(engine, _hit(8))
    with pytest.raises(Conflict, match="already in a case"):
        _open(engine, _hit(8))
    with pytest.raises(InvalidInput, match="one institution"):
        _open(engine, _hit(9), _hit(10, code="C2"))


def test_two_reviewers_at_once_cannot_both_win(engine: Engine) -> None:
    _institutions(engine)
    case_id = _open(engine, _hit(11))
    with engine.connect() as conn:
        stale = service.repo.get_case(conn, case_id)
    _move(engine, REVIEWER, case_id, "first_review")
    assert stale is not None
    with engine.begin() as conn:
        assert not service.repo.update_case(conn, case_id, stale["version"], {"state": "open"})


def test_files_are_checked_and_kept(engine: Engine) -> None:
    _institutions(engine)
    case_id = _open(engine, _hit(12))
    for to in ("first_review", "second_review", "notified"):
        _move(engine, REVIEWER, case_id, to)
    with engine.begin() as conn:
        with pytest.raises(InvalidInput, match="file"):
            service.attach(conn, IDS, CLINIC, case_id, filename="x.exe",
                           content_type="application/x-msdownload", content=b"MZ", now=NOW)  # fmt: skip
        done = service.attach(conn, IDS, CLINIC, case_id, filename="申诉书.pdf",
                              content_type="application/pdf", content=b"%PDF-1.4 x", now=NOW)  # fmt: skip
    assert done["files"][0]["filename"] == "申诉书.pdf" and done["files"][0]["size"] == 10
    with engine.connect() as conn:
        got = service.file_content(conn, CLINIC, case_id, done["files"][0]["file_id"])
    assert got["content"] == b"%PDF-1.4 x"
