"""The national-interface gateway (国家医保接口): `POST /fsi/api/rsfComIfsService/callService`,
`POST /mbs/fmi/fsi/api/callFsiService/callService` and the per-transaction paths under
`/fsi/api/…`, all routed on the envelope's `infno`. See docs/interface.md."""

from __future__ import annotations

import importlib
import logging
import sys

from fastapi import FastAPI

from yibao.api.nhsa.gateway import Gateway
from yibao.runtime import Platform

log = logging.getLogger(__name__)

#: path prefixes the gateway answers (every path below them, routed on infno)
PREFIXES = ("/fsi/api", "/mbs/fmi/fsi/api")

#: GIL switch interval of a serving process (seconds). The writer thread releases the GIL on
#: every SQLite step and must win it back from the event loop and the replica applier; with
#: the default 5 ms each handoff can cost up to 5 ms (a convoy). Measured on the shared 2-core
#: machine, `yibao bench settle`: 55 calls/s at 5 ms, 125–148 calls/s at 0.5 ms.
SWITCH_INTERVAL = 0.0005

#: modules whose `@transaction` handlers the gateway serves (imported at build time)
HANDLER_MODULES = (
    "yibao.settlement.handlers",
    "yibao.interface.transactions.person",
    "yibao.interface.transactions.outpatient",
    "yibao.interface.transactions.inpatient",
    "yibao.interface.transactions.pharmacy",
    "yibao.interface.transactions.reversal",
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
    if sys.getswitchinterval() > SWITCH_INTERVAL:
        sys.setswitchinterval(SWITCH_INTERVAL)
    gateway = Gateway(platform)
    app.state.nhsa_gateway = gateway
    app.state.on_start.append(gateway.start)
    app.state.on_stop.append(gateway.stop)
    for prefix in PREFIXES:
        app.mount(prefix, gateway, name=f"nhsa{prefix.replace('/', '_')}")
