"""What a settlement use case takes of the call: the `settlement.context` values a handler
builds from its `CallContext` and the running platform."""

from __future__ import annotations

from yibao.interface.context import CallContext
from yibao.runtime import Platform
from yibao.settlement.context import Caller, Pricing


def caller(ctx: CallContext) -> Caller:
    platform: Platform = ctx.platform
    institution = ctx.institution
    return Caller(
        fixmedins_code=institution.fixmedins_code,
        hosp_lv=institution.hosp_lv,
        admdvs=institution.admdvs,
        insuplc_admdvs=ctx.insuplc_admdvs,
        msgid=ctx.msgid,
        now=ctx.now,
        opter=ctx.opter,
        opter_name=ctx.opter_name,
        ids=platform.ids,
        kind=institution.kind,
    )


def pricing(ctx: CallContext) -> Pricing:
    platform: Platform = ctx.platform
    return Pricing(
        book=platform.book,
        catalog=platform.catalog,
        mapping_rule=platform.mapping_rule,
        review=platform.reviewer,
    )
