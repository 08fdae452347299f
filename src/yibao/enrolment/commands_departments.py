"""Typed commands of the department and practitioner transactions (3401/3401A/3402/3403,
5101, 5102), with the national field names. The handlers in
`interface/transactions/departments.py` build them from `input`; the services in
`enrolment/departments.py` and `enrolment/practitioners.py` take them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from yibao.codes.dicts import CodeDict


class PracPsnType(CodeDict):
    """执业人员分类 prac_psn_type (the national 医务人员类别 medins_psn_type)."""

    DOCTOR = ("1", "医师")
    NURSE = ("2", "护士")
    PHARMACIST = ("3", "药师")
    TECHNICIAN = ("4", "医技人员")


@dataclass(frozen=True, slots=True)
class DeptInfo:
    """`deptinfo` of 3401 (upload), 3401A (one element of the batch) and 3402 (change)."""

    hosp_dept_codg: str
    hosp_dept_name: str
    caty: str
    begntime: datetime
    endtime: datetime | None = None
    itro: str | None = None
    dept_resper_name: str | None = None
    dept_resper_tel: str | None = None
    dept_med_serv_scp: str | None = None
    dept_estbdat: datetime | None = None
    aprv_bed_cnt: int | None = None
    hi_crtf_bed_cnt: int | None = None
    poolarea_no: str | None = None
    dr_psncnt: int | None = None
    phar_psncnt: int | None = None
    nurs_psncnt: int | None = None
    tecn_psncnt: int | None = None
    memo: str | None = None


@dataclass(frozen=True, slots=True)
class DeptCancel:
    """`data` of 3403 科室信息撤销."""

    hosp_dept_codg: str
    hosp_dept_name: str | None = None
    begntime: datetime | None = None


@dataclass(frozen=True, slots=True)
class DeptQuery:
    """`data` of 5101 科室信息查询: every field narrows the answer; none lists them all.
    `vali_flag` is provisional (not in the public client shapes): "1" (the default) lists
    the valid departments, "0" the cancelled ones."""

    hosp_dept_codg: str | None = None
    hosp_dept_name: str | None = None
    begntime: datetime | None = None
    vali_flag: str = "1"


@dataclass(frozen=True, slots=True)
class PracQuery:
    """`data` of 5102 医执人员信息查询."""

    prac_psn_type: PracPsnType
    psn_cert_type: str | None = None
    certno: str | None = None
    prac_psn_name: str | None = None
    prac_psn_code: str | None = None


@dataclass(frozen=True, slots=True)
class PracInfo:
    """A practitioner as the agency (CLI) or the demo city enrols one."""

    prac_psn_code: str
    prac_psn_name: str
    prac_psn_type: PracPsnType
    begntime: datetime
    prac_psn_no: str | None = None
    psn_cert_type: str | None = None
    certno: str | None = None
    prac_psn_cert: str | None = None
    prac_cert_no: str | None = None
    hi_dr_flag: str = "0"
    hosp_dept_codg: str | None = None
    endtime: datetime | None = None
