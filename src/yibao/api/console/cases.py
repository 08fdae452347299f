"""Review cases (docs/cases.md): the reviewer's work queue and a case's evidence and steps.

- `GET  /api/v1/cases?state=&fixmedins_code=&category=&assignee=&overdue=&limit=&offset=`
- `POST /api/v1/cases` — open a case from rule hits (`{hit_ids, title}`)
- `GET  /api/v1/cases/hits` — rule hits not yet in a case (what cases are opened from)
- `GET  /api/v1/cases/{case_id}` — the case with its hits (the evidence), steps and files
- `POST /api/v1/cases/{case_id}/transitions` — the agency moves it (`{to, comment, decision,
  amount, assignee}`); a step the workflow does not allow answers 409 naming the states
- `POST /api/v1/cases/{case_id}/appeal` — the institution appeals, with its reasons
- `POST /api/v1/cases/{case_id}/assign`, `/comments`, `/files` (multipart; the institution's
  `/appeal/files`), and
  `GET /api/v1/cases/{case_id}/files/{file_id}`
"""

from __future__ import annotations

import html
from datetime import datetime
from decimal import Decimal
from importlib import resources
from pathlib import Path
from string import Template
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from yibao.api.console.deps import CSRF_COOKIE, Permit, PlatformDep
from yibao.api.console.routing import ConsoleRoute
from yibao.api.console.schemas import ERRORS, MAX_OFFSET
from yibao.errors import InvalidInput, NotFound
from yibao.interface.console import cases
from yibao.interface.console.auth import User

router = APIRouter(prefix="/api/v1/cases", tags=["稽核案件 cases"], route_class=ConsoleRoute)

CaseReader = Annotated[User, Depends(Permit("case.read"))]
CaseWorker = Annotated[User, Depends(Permit("case.work"))]
CaseAppellant = Annotated[User, Depends(Permit("case.appeal"))]
HitReader = Annotated[User, Depends(Permit("hit.read"))]

_READ: dict[int | str, dict[str, Any]] = {k: ERRORS[k] for k in (400, 401, 403, 404)}
_WRITE: dict[int | str, dict[str, Any]] = {k: ERRORS[k] for k in (400, 401, 403, 404, 409)}


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CaseIn(_In):
    hit_ids: list[Annotated[str, Field(min_length=1, max_length=40)]] = Field(
        min_length=1, max_length=500, description="规则疑点 hit_id (one institution)"
    )
    title: str | None = Field(default=None, max_length=200)


class TransitionIn(_In):
    to: str = Field(min_length=1, max_length=20, examples=["first_review"])
    comment: str | None = Field(default=None, max_length=4000)
    decision: str | None = Field(default=None, max_length=10, examples=["deduct"])
    amount: Decimal | None = Field(default=None, description="元, 两位小数 (recover/deduct)")
    assignee: str | None = Field(default=None, max_length=50)


class AppealIn(_In):
    reasons: str = Field(min_length=1, max_length=4000, description="申诉理由")


class AssignIn(_In):
    assignee: str = Field(min_length=1, max_length=50)


class CommentIn(_In):
    text: str = Field(min_length=1, max_length=4000)


@router.get("", summary="案件列表 (the work queue; an institution sees its notified cases)",
            responses={k: ERRORS[k] for k in (400, 401, 403)})  # fmt: skip
def list_cases(
    user: CaseReader,
    platform: PlatformDep,
    state: Annotated[str | None, Query(max_length=20)] = None,
    fixmedins_code: Annotated[str | None, Query(max_length=30)] = None,
    category: Annotated[str | None, Query(max_length=40)] = None,
    assignee: Annotated[str | None, Query(max_length=50)] = None,
    overdue: bool = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> dict[str, Any]:
    return cases.list_cases(platform, user, state=state, fixmedins_code=fixmedins_code,
                            category=category, assignee=assignee, overdue=overdue, limit=limit,
                            offset=offset)  # fmt: skip


@router.post("", summary="由疑点立案 (open a case from rule hits)", status_code=201,
             responses=_WRITE)  # fmt: skip
async def open_case(user: CaseWorker, platform: PlatformDep, body: CaseIn) -> dict[str, Any]:
    return await cases.open_case(platform, user, hit_ids=body.hit_ids, title=body.title)


@router.get("/hits", summary="未立案的规则疑点 (rule hits not yet in a case)",
            responses={k: ERRORS[k] for k in (400, 401, 403)})  # fmt: skip
def open_hits(
    user: HitReader,
    platform: PlatformDep,
    fixmedins_code: Annotated[str | None, Query(max_length=30)] = None,
    category: Annotated[str | None, Query(max_length=40)] = None,
    since: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> dict[str, Any]:
    if since is not None and since.tzinfo is not None:
        since = since.replace(tzinfo=None)
    return cases.open_hits(platform, user, fixmedins_code=fixmedins_code, category=category,
                           since=since, limit=limit, offset=offset)  # fmt: skip


@router.get("/{case_id}", summary="案件详情与证据 (a case, its evidence and steps)",
            responses=_READ)  # fmt: skip
def get_case(user: CaseReader, platform: PlatformDep, case_id: str) -> dict[str, Any]:
    return cases.get_case(platform, user, case_id)


@router.post("/{case_id}/transitions", summary="案件流转 (move the case to its next step)",
             responses=_WRITE)  # fmt: skip
async def transition(
    user: CaseWorker, platform: PlatformDep, case_id: str, body: TransitionIn
) -> dict[str, Any]:
    return await cases.transition(platform, user, case_id, to=body.to, comment=body.comment,
                                  decision=body.decision, amount=body.amount,
                                  assignee=body.assignee)  # fmt: skip


@router.post("/{case_id}/appeal", summary="机构申诉 (the institution appeals, within its window)",
             responses=_WRITE)  # fmt: skip
async def appeal(
    user: CaseAppellant, platform: PlatformDep, case_id: str, body: AppealIn
) -> dict[str, Any]:
    return await cases.transition(platform, user, case_id, to="appealed", comment=body.reasons,
                                  decision=None, amount=None, assignee=None)  # fmt: skip


@router.post("/{case_id}/assign", summary="指派 (assign the case)", responses=_WRITE)
async def assign(
    user: CaseWorker, platform: PlatformDep, case_id: str, body: AssignIn
) -> dict[str, Any]:
    return await cases.assign(platform, user, case_id, body.assignee)


@router.post("/{case_id}/comments", summary="批注 (comment on the case)", responses=_WRITE)
async def comment(
    user: CaseWorker, platform: PlatformDep, case_id: str, body: CommentIn
) -> dict[str, Any]:
    return await cases.comment(platform, user, case_id, body.text)


async def _attach(
    platform: PlatformDep, user: User, case_id: str, file: UploadFile | None
) -> dict[str, Any]:
    cases.get_case(platform, user, case_id)  # another tenant's case: 404 before anything else
    if file is None:
        raise InvalidInput("file: 须上传一个文件 (multipart field 'file')")
    content = await file.read(10 * 1024 * 1024 + 1)
    return await cases.attach(platform, user, case_id, filename=file.filename or "",
                              content_type=file.content_type or "", content=content)  # fmt: skip


@router.post("/{case_id}/files", summary="附件 (attach a file: PDF, image, text, CSV, XLSX ≤ 10 MB)",
             responses=_WRITE)  # fmt: skip
async def attach(
    user: CaseWorker,
    platform: PlatformDep,
    case_id: str,
    file: Annotated[UploadFile | None, File()] = None,
) -> dict[str, Any]:
    return await _attach(platform, user, case_id, file)


@router.post("/{case_id}/appeal/files", summary="申诉材料 (the institution attaches its evidence)",
             responses=_WRITE)  # fmt: skip
async def attach_appeal(
    user: CaseAppellant,
    platform: PlatformDep,
    case_id: str,
    file: Annotated[UploadFile | None, File()] = None,
) -> dict[str, Any]:
    return await _attach(platform, user, case_id, file)


@router.get("/{case_id}/files/{file_id}", summary="下载附件 (download an attached file)",
            responses=_READ)  # fmt: skip
def download(user: CaseReader, platform: PlatformDep, case_id: str, file_id: str) -> Response:
    found = cases.file_content(platform, user, case_id, file_id)
    return Response(
        found["content"],
        media_type=found["content_type"],
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(found['filename'])}",
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


# -- the pages ---------------------------------------------------------------------------------

pages = APIRouter(tags=["页面 pages"], include_in_schema=False)
_PAGE = Template(
    (Path(str(resources.files("yibao.web"))) / "templates" / "cases.html").read_text(
        encoding="utf-8"
    )
)


def _render(request: Request, user: User, *, page: str, title: str, case_id: str = "") -> str:
    return _PAGE.substitute(
        page=page,
        title=html.escape(title),
        case_id=html.escape(case_id, quote=True),
        user=html.escape(user.display_name or user.username),
        role=html.escape(user.role),
        csrf=html.escape(request.cookies.get(CSRF_COOKIE, ""), quote=True),
        can_work="1" if user.can("case.work") else "0",
        can_appeal="1" if user.can("case.appeal") else "0",
        can_hits="1" if user.can("hit.read") else "0",
    )


@pages.get("/cases")
def queue_page(request: Request, user: CaseReader) -> HTMLResponse:
    return HTMLResponse(_render(request, user, page="queue", title="稽核案件"))


@pages.get("/cases/{case_id}")
def case_page(
    request: Request, user: CaseReader, platform: PlatformDep, case_id: str
) -> HTMLResponse:
    try:
        found = cases.get_case(platform, user, case_id)
    except NotFound:
        return HTMLResponse(
            "<!doctype html><meta charset='utf-8'><title>案件不存在</title>"
            "<p>案件不存在或无权查看 (no such case). <a href='/cases'>返回案件列表</a></p>",
            status_code=404,
        )
    return HTMLResponse(
        _render(
            request, user, page="case", title=f"案件 {found['case_id']}", case_id=found["case_id"]
        )
    )
