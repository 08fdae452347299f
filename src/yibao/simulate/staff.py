"""The demo city's departments and doctors as the institutions' 医保科室 and 医执人员, so that
5101 and 5102 answer with the departments and doctors its visits name (`dept_code`,
`atddr_no`). Idempotent: what is there already is left as it is."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Connection

from yibao.enrolment import departments, practitioners
from yibao.enrolment.commands_departments import DeptInfo, PracInfo, PracPsnType
from yibao.kit.ids import IdGenerator
from yibao.simulate.model import Institution


def write_staff(
    conn: Connection, institutions: Iterable[Institution], *, ids: IdGenerator, now: datetime
) -> tuple[int, int]:
    """Returns (departments added, practitioners added)."""
    since = now.replace(microsecond=0)
    added_d = added_p = 0
    for inst in institutions:
        depts = [
            DeptInfo(
                hosp_dept_codg=d.dept_code,
                hosp_dept_name=d.dept_name,
                caty=d.caty,
                begntime=since,
                poolarea_no=inst.admdvs,
            )
            for d in inst.departments
        ]
        added_d += departments.seed(
            conn, depts, fixmedins_code=inst.fixmedins_code, ids=ids, now=now
        )
        # a pharmacy's staff are its pharmacists; a hospital's or clinic's, doctors who bill
        # the fund (医保医师)
        kind = PracPsnType.PHARMACIST if inst.kind == "pharmacy" else PracPsnType.DOCTOR
        staff = [
            PracInfo(
                prac_psn_code=dr.dr_code,
                prac_psn_name=dr.dr_name,
                prac_psn_type=kind,
                begntime=since,
                hi_dr_flag="1" if kind is PracPsnType.DOCTOR else "0",
                hosp_dept_codg=dr.dept_code,
            )
            for dr in inst.doctors
        ]
        added_p += practitioners.seed(
            conn, staff, fixmedins_code=inst.fixmedins_code, ids=ids, now=now
        )
    return added_d, added_p
