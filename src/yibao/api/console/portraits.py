"""Portraits (画像, docs/portraits.md).

- `GET /api/v1/portraits/persons/{psn_no}?since=&until=&unmask=&purpose=` — utilisation by month and
  kind, cost, fund and self-pay, chronic conditions, institutions, holdings, rule hits and
  cases, a risk score with its reasons; the person masked unless unmasked (audited)
- `GET /api/v1/portraits/institutions/{fixmedins_code}?since=&until=` — the indicators with
  their peer percentiles, the monthly trend, rule hits and cases (an institution: its own)
- pages `/portraits/persons/{psn_no}` and `/portraits/institutions/{fixmedins_code}`
"""

from __future__ import annotations

import html
from datetime import date
from importlib import resources
from pathlib import Path
from string import Template
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from yibao.api.console.deps import CSRF_COOKIE, Permit, PlatformDep
from yibao.api.console.routing import ConsoleRoute
from yibao.api.console.schemas import ERRORS
from yibao.interface.console import portraits
from yibao.interface.console.auth import User

router = APIRouter(prefix="/api/v1/portraits", tags=["画像 portraits"], route_class=ConsoleRoute)
PersonPortraitReader = Annotated[User, Depends(Permit("portrait.person"))]
InstitutionPortraitReader = Annotated[User, Depends(Permit("portrait.institution"))]
_READ: dict[int | str, dict[str, Any]] = {k: ERRORS[k] for k in (400, 401, 403, 404)}


@router.get("/persons/{psn_no}", summary="参保人画像 (a person's portrait)", responses=_READ)
def person(
    user: PersonPortraitReader,
    platform: PlatformDep,
    psn_no: str,
    since: date | None = None,
    until: date | None = None,
    unmask: bool = False,
    purpose: Annotated[str | None, Query(max_length=231, description="解除脱敏的用途")] = None,
) -> dict[str, Any]:
    return portraits.person_portrait(
        platform, user, psn_no, since=since, until=until, unmask=unmask, purpose=purpose
    )


@router.get(
    "/institutions/{fixmedins_code}",
    summary="机构画像 (an institution's portrait)",
    responses=_READ,
)
def institution(
    user: InstitutionPortraitReader,
    platform: PlatformDep,
    fixmedins_code: str,
    since: date | None = None,
    until: date | None = None,
) -> dict[str, Any]:
    return portraits.institution_portrait(platform, user, fixmedins_code, since=since, until=until)


pages = APIRouter(tags=["页面 pages"], include_in_schema=False)
_PAGE = Template(
    (Path(str(resources.files("yibao.web"))) / "templates" / "portrait.html").read_text(
        encoding="utf-8"
    )
)


def _render(request: Request, user: User, *, kind: str, key: str, title: str) -> HTMLResponse:
    return HTMLResponse(
        _PAGE.substitute(
            kind=kind,
            key=html.escape(key, quote=True),
            title=html.escape(title),
            user=html.escape(user.display_name or user.username),
            role=html.escape(user.role),
            csrf=html.escape(request.cookies.get(CSRF_COOKIE, ""), quote=True),
            can_unmask="1" if user.can("person.unmask") else "0",
        )
    )


@pages.get("/portraits/persons/{psn_no}")
def person_page(request: Request, user: PersonPortraitReader, psn_no: str) -> HTMLResponse:
    return _render(request, user, kind="person", key=psn_no, title="参保人画像")


@pages.get("/portraits/institutions/{fixmedins_code}")
def institution_page(
    request: Request, user: InstitutionPortraitReader, fixmedins_code: str
) -> HTMLResponse:
    return _render(request, user, kind="institution", key=fixmedins_code, title="机构画像")
