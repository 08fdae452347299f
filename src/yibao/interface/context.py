"""What a transaction handler knows about the call it answers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Institution:
    """The calling institution (from `fixmedins`)."""

    fixmedins_code: str
    fixmedins_name: str
    kind: str
    hosp_lv: str
    admdvs: str
    parent_code: str | None


@dataclass(frozen=True, slots=True)
class CallContext:
    """One interface call, authenticated: the institution is the credential's own."""

    infno: str
    msgid: str
    institution: Institution
    opter: str
    opter_name: str
    opter_type: str
    inf_time: datetime | None
    #: server time at receipt, naive in the platform zone (used for setl_time etc.)
    now: datetime
    mdtrtarea_admvs: str
    insuplc_admdvs: str | None
    sign_no: str | None
    signtype: str | None
    #: the running platform (yibao.runtime.Platform); typed Any to keep this module light
    platform: Any

    @property
    def fixmedins_code(self) -> str:
        return self.institution.fixmedins_code
