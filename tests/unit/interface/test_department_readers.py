"""The department and practitioner handlers' readers: `input` becomes a typed command once,
lenient where real clients are (counts as strings, empty strings as absent, a date for a
datetime), and a refusal names the node, the index and the field."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from yibao.enrolment.commands_departments import DeptQuery, PracPsnType
from yibao.errors import InvalidInput
from yibao.interface.transactions.departments import (
    MAX_BATCH,
    parse_batch,
    parse_cancel,
    parse_dept_query,
    parse_prac_query,
    parse_upload,
)

DEPT: dict[str, Any] = {
    "hosp_dept_codg": "0101",
    "hosp_dept_name": "心血管内科",
    "caty": "A03",
    "begntime": "2020-01-01 08:00:00",
    "endtime": "",
    "dept_estbdat": "2001-06-01",
    "aprv_bed_cnt": "40",
    "dr_psncnt": 12,
    "memo": None,
}


def test_deptinfo_is_read_into_a_command() -> None:
    info = parse_upload({"deptinfo": DEPT})
    assert info.hosp_dept_codg == "0101" and info.caty == "A03"
    assert info.begntime == datetime(2020, 1, 1, 8)
    assert info.endtime is None and info.memo is None
    assert info.dept_estbdat == datetime(2001, 6, 1)
    assert (info.aprv_bed_cnt, info.dr_psncnt, info.nurs_psncnt) == (40, 12, None)
    # a one-element array is accepted for the object node, as clients send it
    assert parse_upload({"deptinfo": [DEPT]}) == info


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"hosp_dept_codg": None}, "deptinfo.hosp_dept_codg"),
        ({"hosp_dept_name": "科" * 101}, "deptinfo.hosp_dept_name"),
        ({"caty": "A030000"}, "deptinfo.caty"),
        ({"begntime": 20200101}, "deptinfo.begntime"),
        ({"aprv_bed_cnt": "四十"}, "deptinfo.aprv_bed_cnt"),
        ({"tecn_psncnt": "123456"}, "deptinfo.tecn_psncnt"),
    ],
)
def test_a_refusal_names_the_field(change: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        parse_upload({"deptinfo": {**DEPT, **change}})
    assert str(exc.value).startswith(field)


def test_a_batch_names_the_index_and_is_bounded() -> None:
    infos = parse_batch({"deptinfo": [DEPT, {**DEPT, "hosp_dept_codg": "0102"}]})
    assert [i.hosp_dept_codg for i in infos] == ["0101", "0102"]
    with pytest.raises(InvalidInput, match=r"^deptinfo\[1\]\.caty"):
        parse_batch({"deptinfo": [DEPT, {**DEPT, "caty": ""}]})
    with pytest.raises(InvalidInput, match=r"^input\.deptinfo"):
        parse_batch({"deptinfo": []})
    with pytest.raises(InvalidInput, match=r"^input\.deptinfo"):
        parse_batch({"deptinfo": [DEPT] * (MAX_BATCH + 1)})


def test_cancel_and_queries() -> None:
    cancel = parse_cancel({"data": {"hosp_dept_codg": "0101", "hosp_dept_name": "心内"}})
    assert cancel.hosp_dept_codg == "0101" and cancel.begntime is None
    assert parse_dept_query({}) == DeptQuery()
    q = parse_dept_query({"data": {"hosp_dept_name": "内科", "begntime": "2024-01-01"}})
    assert q.hosp_dept_name == "内科" and q.begntime == datetime(2024, 1, 1)
    assert q.vali_flag == "1"
    p = parse_prac_query({"data": {"prac_psn_type": 3, "certno": "", "prac_psn_code": "Y1"}})
    assert p.prac_psn_type is PracPsnType.PHARMACIST
    assert p.certno is None and p.prac_psn_code == "Y1"
    with pytest.raises(InvalidInput, match=r"^data\.prac_psn_type"):
        parse_prac_query({"data": {}})
