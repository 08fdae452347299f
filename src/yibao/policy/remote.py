"""异地就医: the pure rule that decides whether a visit is in another region and what a missing
registration (异地就医备案) does to it.

The national rule is 就医地目录、参保地政策、就医地管理: the region of treatment's catalog and
payment scope apply to each fee line, the insured region's benefit policy (deductible, ratios,
caps, account rules) applies to the bill. A visit is 异地 when the person's insured region is
not the region whose ``covers`` holds the institution's district. Non-emergency 异地 care needs
a valid registration; without one the insured region either refuses the settlement or settles
it at its lower 未备案 ratio (``[remote]`` in its parameter file, docs/policy.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from yibao.codes.dicts import MedType
from yibao.policy.book import RegionVersion
from yibao.policy.model import PolicyRefusal

#: 急诊 and 急诊转住院 need no registration (国家医保局 跨省异地就医直接结算 rules).
EMERGENCY: frozenset[MedType] = frozenset({MedType.EMERGENCY, MedType.EMERGENCY_TO_INPATIENT})


@dataclass(frozen=True, slots=True)
class RemoteVerdict:
    """What the 异地 rule says of one settlement."""

    #: the person is treated outside the insured region
    remote: bool
    #: the region of treatment (None when no hosted region covers the institution's district)
    treatment_admdvs: str | None
    #: the pool's ratios drop by this much (0 unless 未备案 and the region reduces)
    ratio_cut: Decimal = Decimal(0)


def is_remote(insured: RegionVersion, treatment: RegionVersion | None) -> bool:
    """异地 when the institution lies in a hosted region that is not the insured one. An
    institution whose district no hosted region covers is treated as the insured region's own
    (no second region to clear with)."""
    return treatment is not None and treatment.admdvs != insured.admdvs


def remote_verdict(
    *,
    insured: RegionVersion,
    treatment: RegionVersion | None,
    med_type: MedType,
    registered: bool,
) -> RemoteVerdict:
    """Refuse (PolicyRefusal naming ``med_type``) or allow, with the 未备案 cut when it applies."""
    if not is_remote(insured, treatment):
        return RemoteVerdict(remote=False, treatment_admdvs=insured.admdvs)
    assert treatment is not None
    if registered or med_type in EMERGENCY:
        return RemoteVerdict(remote=True, treatment_admdvs=treatment.admdvs)
    rule = insured.remote
    if rule.unregistered == "reduce":
        return RemoteVerdict(
            remote=True,
            treatment_admdvs=treatment.admdvs,
            ratio_cut=rule.unregistered_ratio_cut,
        )
    raise PolicyRefusal(
        f"异地就医未备案: 参保地 {insured.admdvs} 的参保人在 {treatment.admdvs} 就医 "
        f"({med_type.value} {med_type.label}) 须先办理异地就医备案, 急诊除外 "
        f"(care in another region needs a valid 异地就医备案 registration unless it is an "
        f"emergency, med_type 13 or 24; register with `yibao enrol remote-registration add` "
        f"or POST /api/v1/registrations/remote)",
        field="med_type",
    )
