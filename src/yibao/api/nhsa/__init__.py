"""The national-interface gateway (国家医保接口): `POST /fsi/api/rsfComIfsService/callService`,
`POST /mbs/fmi/fsi/api/callFsiService/callService` and the per-transaction paths under
`/fsi/api/…`, all routed on the envelope's `infno`. See docs/interface.md."""

from __future__ import annotations

import importlib
import logging

from fastapi import FastAPI

from yibao.api.nhsa.gateway import Gateway
from yibao.runtime import Platform
from yibao.settlement import services

log = logging.getLogger(__name__)

#: path prefixes the gateway answers (every path below them, routed on infno)
PREFIXES = ("/fsi/api", "/mbs/fmi/fsi/api")

#: modules whose `@transaction` handlers the gateway serves (imported at build time)
HANDLER_MODULES = (
    "yibao.settlement.handlers",
    "yibao.settlement.reconcile",
    "yibao.catalog.transactions",
)

__all__ = ["HANDLER_MODULES", "PREFIXES", "Gateway", "mount"]


def load_handlers() -> None:
    for name in HANDLER_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            log.warning("nhsa gateway: handler module %s not present", name)


def mount(app: FastAPI, platform: Platform) -> None:
    load_handlers()
    services.install(platform)
    gateway = Gateway(platform)
    platform.services["nhsa.gateway"] = gateway
    for prefix in PREFIXES:
        app.mount(prefix, gateway, name=f"nhsa{prefix.replace('/', '_')}")
