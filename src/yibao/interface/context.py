"""What a transaction handler knows about the call it answers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from yibao.enrolment.credentials import Institution
from yibao.kit.records import quick_init
from yibao.runtime import Platform

__all__ = ["CallContext", "Institution"]


@quick_init
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
    #: the running platform (the composition root's typed services)
    platform: Platform

    @property
    def fixmedins_code(self) -> str:
        return self.institution.fixmedins_code
