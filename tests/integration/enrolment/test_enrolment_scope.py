"""Enrolment repositories filter by the caller's `Scope`: the agency sees every institution
and person; an institution's scope sees its own codes and the persons it has treated, and
anything else answers as if it did not exist."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine

from yibao.enrolment import institutions, persons
from yibao.enrolment.scope import AGENCY, Scope
from yibao.errors import NotFound

sys.path.insert(0, str(Path(__file__).parents[1] / "replica"))
import factories

H1, H2 = "H11010100001", "H11010100002"


def test_scope_filters_institutions_and_persons(engine: Engine) -> None:
    with engine.begin() as conn:
        factories.institution(conn, H1)
        factories.institution(conn, H2, name="北京示例二院")
        treated = factories.person(conn)
        other = factories.person(conn)
        factories.settlement(
            conn,
            fixmedins_code=H1,
            psn_no=treated["psn_no"],
            setl_time=datetime(2024, 6, 3, 9, 30),
        )
    own = Scope(fixmedins_codes=frozenset({H1}))
    with engine.connect() as conn:
        assert institutions.list_institutions(conn)[0] == 2
        total, rows = institutions.list_institutions(conn, scope=own)
        assert total == 1 and [r["fixmedins_code"] for r in rows] == [H1]
        assert institutions.get_institution(conn, fixmedins_code=H2, scope=AGENCY)
        with pytest.raises(NotFound):
            institutions.get_institution(conn, fixmedins_code=H2, scope=own)

        assert persons.find_persons(conn)[0] == 2
        total, found = persons.find_persons(conn, scope=own)
        assert total == 1 and found[0]["psn_no"] == treated["psn_no"]
        assert persons.get_person(conn, psn_no=treated["psn_no"], scope=own)["insurance"]
        with pytest.raises(NotFound):
            persons.get_person(conn, psn_no=other["psn_no"], scope=own)
