"""The national-interface gateway (国家医保接口): `POST /fsi/api/rsfComIfsService/callService`,
`POST /mbs/fmi/fsi/api/callFsiService/callService` and the per-transaction paths under
`/fsi/api/…`, all routed on the envelope's `infno` by the call pipeline
(`yibao.interface.pipeline`). See docs/interface.md."""

from __future__ import annotations

import sys

from fastapi import FastAPI

from yibao.api.nhsa.gateway import Gateway
from yibao.runtime import Platform

#: path prefixes the gateway answers (every path below them, routed on infno)
PREFIXES = ("/fsi/api", "/mbs/fmi/fsi/api")

#: GIL switch interval of a serving process (seconds). The writer thread releases the GIL on
#: every SQLite step and must win it back from the event loop and the replica applier; with
#: the default 5 ms each handoff can cost up to 5 ms (a convoy). The figures are in
#: docs/interface.md §7.
SWITCH_INTERVAL = 0.0005

__all__ = ["PREFIXES", "Gateway", "mount"]


def mount(app: FastAPI, platform: Platform) -> None:
    if sys.getswitchinterval() > SWITCH_INTERVAL:
        sys.setswitchinterval(SWITCH_INTERVAL)
    gateway = Gateway(platform)
    app.state.nhsa_gateway = gateway
    app.state.on_start.append(gateway.start)
    app.state.on_stop.append(gateway.stop)
    for prefix in PREFIXES:
        app.mount(prefix, gateway, name=f"nhsa{prefix.replace('/', '_')}")
