"""Department and practitioner transactions: 3401 科室信息上传, 3401A 批量科室信息上传,
3402 科室信息变更, 3403 科室信息撤销, 5101 科室信息查询, 5102 医执人员信息查询. Each handler
reads `input` once into an `enrolment.commands_departments` command and calls
`enrolment.departments` / `enrolment.practitioners`, scoped to the calling institution.

Shapes from public client code (`deptinfo` of 3401/3402, `data` of 3403/5101/5102, the answers
of 5101/5102 under `feedetail`); 3401A's `deptinfo` array is provisional
(docs/interface/departments.md)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection

from yibao.enrolment import departments, practitioners
from yibao.enrolment.commands_departments import (
    DeptCancel,
    DeptInfo,
    DeptQuery,
    PracPsnType,
    PracQuery,
)
from yibao.errors import InvalidInput
from yibao.interface import fields as f
from yibao.interface.context import CallContext
from yibao.interface.registry import transaction

#: a 3401A batch: an institution's departments fit many times over
MAX_BATCH = 1000


def _count(d: Mapping[str, Any], field: str, where: str, digits: int) -> int | None:
    return f.opt_int(d, field, node_name=where, maximum=10**digits - 1)


def read_dept(d: Mapping[str, Any], where: str) -> DeptInfo:
    """One `deptinfo` (lengths and kinds of the spec's fields: C20 code, C100 name, C6 caty,
    N11 bed counts, N5 staff counts)."""
    return DeptInfo(
        hosp_dept_codg=f.req_str(d, "hosp_dept_codg", node_name=where, max_len=20),
        hosp_dept_name=f.req_str(d, "hosp_dept_name", node_name=where, max_len=100),
        caty=f.req_str(d, "caty", node_name=where, max_len=6),
        begntime=f.req_datetime(d, "begntime", node_name=where),
        endtime=f.opt_datetime(d, "endtime", node_name=where),
        itro=f.opt_str(d, "itro", node_name=where, max_len=500),
        dept_resper_name=f.opt_str(d, "dept_resper_name", node_name=where, max_len=50),
        dept_resper_tel=f.opt_str(d, "dept_resper_tel", node_name=where, max_len=50),
        dept_med_serv_scp=f.opt_str(d, "dept_med_serv_scp", node_name=where, max_len=500),
        dept_estbdat=f.opt_datetime(d, "dept_estbdat", node_name=where),
        aprv_bed_cnt=_count(d, "aprv_bed_cnt", where, 11),
        hi_crtf_bed_cnt=_count(d, "hi_crtf_bed_cnt", where, 11),
        poolarea_no=f.opt_str(d, "poolarea_no", node_name=where, max_len=6),
        dr_psncnt=_count(d, "dr_psncnt", where, 5),
        phar_psncnt=_count(d, "phar_psncnt", where, 5),
        nurs_psncnt=_count(d, "nurs_psncnt", where, 5),
        tecn_psncnt=_count(d, "tecn_psncnt", where, 5),
        memo=f.opt_str(d, "memo", node_name=where, max_len=500),
    )


def parse_upload(input_: Mapping[str, Any]) -> DeptInfo:
    return read_dept(f.node(input_, "deptinfo"), "deptinfo")


def parse_batch(input_: Mapping[str, Any]) -> list[DeptInfo]:
    items = f.node_list(input_, "deptinfo", max_items=MAX_BATCH)
    return [read_dept(d, f"deptinfo[{i}]") for i, d in enumerate(items)]


def parse_cancel(input_: Mapping[str, Any]) -> DeptCancel:
    d = f.node(input_, "data")
    return DeptCancel(
        hosp_dept_codg=f.req_str(d, "hosp_dept_codg", node_name="data", max_len=20),
        hosp_dept_name=f.opt_str(d, "hosp_dept_name", node_name="data", max_len=100),
        begntime=f.opt_datetime(d, "begntime", node_name="data"),
    )


def parse_dept_query(input_: Mapping[str, Any]) -> DeptQuery:
    # clients send 5101 with an empty input or none at all: list every department
    d = f.node(input_, "data", required=False)
    vali_flag = f.opt_str(d, "vali_flag", node_name="data", max_len=1) or "1"
    if vali_flag not in ("0", "1"):
        raise InvalidInput(f"data.vali_flag: 应为 0 或 1 '{vali_flag}' (must be 0 or 1)")
    return DeptQuery(
        hosp_dept_codg=f.opt_str(d, "hosp_dept_codg", node_name="data", max_len=20),
        hosp_dept_name=f.opt_str(d, "hosp_dept_name", node_name="data", max_len=100),
        begntime=f.opt_datetime(d, "begntime", node_name="data"),
        vali_flag=vali_flag,
    )


def parse_prac_query(input_: Mapping[str, Any]) -> PracQuery:
    d = f.node(input_, "data")
    return PracQuery(
        prac_psn_type=f.req_code(d, "prac_psn_type", PracPsnType, node_name="data"),
        psn_cert_type=f.opt_str(d, "psn_cert_type", node_name="data", max_len=6),
        certno=f.opt_str(d, "certno", node_name="data", max_len=50),
        prac_psn_name=f.opt_str(d, "prac_psn_name", node_name="data", max_len=50),
        prac_psn_code=f.opt_str(d, "prac_psn_code", node_name="data", max_len=20),
    )


@transaction("3401", "科室信息上传", writes=True)
def upload(conn: Connection, ctx: CallContext, input: dict[str, Any]) -> None:
    departments.upload(
        conn,
        [parse_upload(input)],
        fixmedins_code=ctx.fixmedins_code,
        msgid=ctx.msgid,
        now=ctx.now,
        ids=ctx.platform.ids,
    )
    return None


@transaction("3401A", "批量科室信息上传", writes=True)
def upload_batch(conn: Connection, ctx: CallContext, input: dict[str, Any]) -> None:
    departments.upload(
        conn,
        parse_batch(input),
        fixmedins_code=ctx.fixmedins_code,
        msgid=ctx.msgid,
        now=ctx.now,
        ids=ctx.platform.ids,
        batch=True,
    )
    return None


@transaction("3402", "科室信息变更", writes=True)
def change(conn: Connection, ctx: CallContext, input: dict[str, Any]) -> None:
    departments.change(
        conn, parse_upload(input), fixmedins_code=ctx.fixmedins_code, msgid=ctx.msgid, now=ctx.now
    )
    return None


@transaction("3403", "科室信息撤销", writes=True)
def cancel(conn: Connection, ctx: CallContext, input: dict[str, Any]) -> None:
    departments.cancel(
        conn, parse_cancel(input), fixmedins_code=ctx.fixmedins_code, msgid=ctx.msgid, now=ctx.now
    )
    return None


@transaction("5101", "科室信息查询", writes=False)
def list_departments(conn: Connection, ctx: CallContext, input: dict[str, Any]) -> dict[str, Any]:
    rows = departments.query(conn, parse_dept_query(input), fixmedins_code=ctx.fixmedins_code)
    return {"feedetail": rows}


@transaction("5102", "医执人员信息查询", writes=False)
def list_practitioners(conn: Connection, ctx: CallContext, input: dict[str, Any]) -> dict[str, Any]:
    rows = practitioners.query(conn, parse_prac_query(input), fixmedins_code=ctx.fixmedins_code)
    return {"feedetail": rows}
