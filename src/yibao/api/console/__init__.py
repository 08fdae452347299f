"""The agency console's JSON API under `/api/v1/` and the `/login` page (docs/console.md).

`mount(app, platform)` is the edge's entry in `api.app._mounters()`. The `current_user`
dependency (`api.console.deps`) serves the dashboard's pages too.
"""

from __future__ import annotations

from fastapi import FastAPI

from yibao.api.console import (
    alerts,
    audit,
    auth,
    cases,
    clearing,
    institutions,
    persons,
    portraits,
    regions,
    settlements,
    users,
)
from yibao.runtime import Platform


def mount(app: FastAPI, platform: Platform) -> None:
    app.include_router(auth.api)
    app.include_router(auth.pages)
    app.include_router(institutions.router)
    app.include_router(persons.router)
    app.include_router(audit.router)
    app.include_router(alerts.router)
    app.include_router(clearing.router)
    app.include_router(regions.registrations)
    app.include_router(regions.clearing)
    app.include_router(settlements.router)
    app.include_router(users.router)
    app.include_router(audit.pages)
    app.include_router(cases.router)
    app.include_router(cases.pages)
    app.include_router(portraits.pages)
