"""医保科室: an institution uploads (3401, 3401A in a batch), changes (3402) and cancels (3403)
its departments, and lists them (5101).

Rules:
- `hosp_dept_codg` is unique within the institution (the spec's 院内唯一编码); uploading a code
  that is valid already is refused (change it with 3402). Uploading a cancelled code again
  revives it with the new data: a department that reopens keeps its code.
- `endtime`, when given, is after `begntime`.
- 3401A is all or nothing: one refused element refuses the batch, naming its index; a code
  twice in one batch is refused.
- 3402 changes only a valid department; 3403 cancels one (`vali_flag` "0", `endtime` the call's
  time unless an earlier one was set): the row stays, because visits and fee lines name it.
- Every read and write is scoped to the calling institution.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping

from yibao.enrolment.commands_departments import DeptCancel, DeptInfo, DeptQuery
from yibao.enrolment.repo import departments as repo
from yibao.errors import Conflict, InvalidInput, NotFound
from yibao.kit.clock import fmt_datetime
from yibao.kit.ids import IdGenerator


def _check(info: DeptInfo, where: str) -> None:
    if info.endtime is not None and info.endtime <= info.begntime:
        raise InvalidInput(
            f"{where}.endtime: 结束时间应晚于开始时间 (endtime must be after begntime)"
        )


def _values(info: DeptInfo) -> dict[str, Any]:
    return asdict(info)


def upload(
    conn: Connection,
    infos: Sequence[DeptInfo],
    *,
    fixmedins_code: str,
    msgid: str | None,
    now: datetime,
    ids: IdGenerator,
    node_name: str = "deptinfo",
    batch: bool = False,
) -> int:
    """Writes new departments (3401: one; 3401A: a batch); returns how many were written."""
    where = [f"{node_name}[{i}]" if batch else node_name for i in range(len(infos))]
    seen: dict[str, int] = {}
    for i, info in enumerate(infos):
        _check(info, where[i])
        if info.hosp_dept_codg in seen:
            raise InvalidInput(
                f"{where[i]}.hosp_dept_codg: 批内重复 '{info.hosp_dept_codg}' "
                f"(duplicate of {node_name}[{seen[info.hosp_dept_codg]}])"
            )
        seen[info.hosp_dept_codg] = i
    existing = repo.fetch_depts(
        conn, fixmedins_code=fixmedins_code, codes=[i.hosp_dept_codg for i in infos]
    )
    for i, info in enumerate(infos):
        row = existing.get(info.hosp_dept_codg)
        if row is not None and row["vali_flag"] == "1":
            raise Conflict(
                f"{where[i]}.hosp_dept_codg: 科室已上传 '{info.hosp_dept_codg}', "
                "变更请用 3402 (department already uploaded; change it with 3402)"
            )
    for info in infos:
        if info.hosp_dept_codg in existing:
            repo.update_dept(
                conn,
                fixmedins_code=fixmedins_code,
                hosp_dept_codg=info.hosp_dept_codg,
                values={**_values(info), "vali_flag": "1"},
                msgid=msgid,
                now=now,
            )
        else:
            repo.insert_dept(
                conn,
                dept_id=ids.next_str(),
                fixmedins_code=fixmedins_code,
                values=_values(info),
                msgid=msgid,
                now=now,
            )
    return len(infos)


def _valid_dept(
    conn: Connection, *, fixmedins_code: str, hosp_dept_codg: str, where: str
) -> RowMapping:
    row = repo.fetch_dept(conn, fixmedins_code=fixmedins_code, hosp_dept_codg=hosp_dept_codg)
    if row is None:
        raise NotFound(
            f"{where}.hosp_dept_codg: 科室不存在 '{hosp_dept_codg}' (no such department)"
        )
    if row["vali_flag"] != "1":
        raise Conflict(
            f"{where}.hosp_dept_codg: 科室已撤销 '{hosp_dept_codg}' (department is cancelled)"
        )
    return row


def change(
    conn: Connection, info: DeptInfo, *, fixmedins_code: str, msgid: str | None, now: datetime
) -> None:
    """3402: the department's record becomes `info` (the spec sends the whole record)."""
    _check(info, "deptinfo")
    _valid_dept(
        conn, fixmedins_code=fixmedins_code, hosp_dept_codg=info.hosp_dept_codg, where="deptinfo"
    )
    repo.update_dept(
        conn,
        fixmedins_code=fixmedins_code,
        hosp_dept_codg=info.hosp_dept_codg,
        values=_values(info),
        msgid=msgid,
        now=now,
    )


def cancel(
    conn: Connection, cmd: DeptCancel, *, fixmedins_code: str, msgid: str | None, now: datetime
) -> None:
    """3403: the department is cancelled, not deleted."""
    row = _valid_dept(
        conn, fixmedins_code=fixmedins_code, hosp_dept_codg=cmd.hosp_dept_codg, where="data"
    )
    endtime = row["endtime"]
    if endtime is None or endtime > now:
        endtime = now
    repo.update_dept(
        conn,
        fixmedins_code=fixmedins_code,
        hosp_dept_codg=cmd.hosp_dept_codg,
        values={"vali_flag": "0", "endtime": endtime},
        msgid=msgid,
        now=now,
    )


def output_row(row: RowMapping) -> dict[str, Any]:
    """One department as 5101 answers it (the national output fields, then `vali_flag`)."""
    out: dict[str, Any] = {}
    for key in repo.DEPT_FIELDS:
        value = row[key]
        out[key] = fmt_datetime(value) if isinstance(value, datetime) else value
    out["vali_flag"] = row["vali_flag"]
    return out


def query(conn: Connection, q: DeptQuery, *, fixmedins_code: str) -> list[dict[str, Any]]:
    """5101: the institution's departments matching `q`."""
    rows = repo.list_depts(
        conn,
        fixmedins_code=fixmedins_code,
        vali_flag=q.vali_flag,
        hosp_dept_codg=q.hosp_dept_codg,
        hosp_dept_name=q.hosp_dept_name,
        valid_at=q.begntime,
    )
    return [output_row(r) for r in rows]


def seed(
    conn: Connection,
    infos: Sequence[DeptInfo],
    *,
    fixmedins_code: str,
    ids: IdGenerator,
    now: datetime,
) -> int:
    """Write the departments not known yet (the demo city's); idempotent, returns how many
    were added. An existing code is left as it is, whatever its state."""
    existing = repo.fetch_depts(
        conn, fixmedins_code=fixmedins_code, codes=[i.hosp_dept_codg for i in infos]
    )
    added = 0
    for info in infos:
        if info.hosp_dept_codg in existing:
            continue
        repo.insert_dept(
            conn,
            dept_id=ids.next_str(),
            fixmedins_code=fixmedins_code,
            values=_values(info),
            msgid=None,
            now=now,
        )
        added += 1
    return added
