"""Which filing (备案) entitles a visit's 医疗类别, as a pure rule over plain facts.

The settlement service reads the person's filings valid on the settlement day and hands them
here as `FilingFacts`; this module decides, without a database:

- med_type 14 门诊慢特病 is settled on the chronic benefits only under a valid 2503 filing of
  the person (人员慢特病备案); when the visit names its 病种 (2203 `dise_codg`) the filing must
  be for that disease.
- med_type 23 转外诊治住院 needs a valid 2501 filing (转院备案); when the filing names the
  receiving institution (`reflin_medins_no`) it must be the settling one.

A refusal is a `PolicyRefusal` naming the missing filing, Chinese first, then English.
"""

from __future__ import annotations

from dataclasses import dataclass

from yibao.codes.dicts import MedType
from yibao.codes.validators import CodeKind, is_valid
from yibao.policy.model import PolicyRefusal


@dataclass(frozen=True, slots=True)
class FilingFacts:
    """The person's filings valid on the settlement day, reduced to what the rule reads."""

    #: 门慢门特病种 codes of the valid chronic filings (2503)
    chronic_diseases: frozenset[str] = frozenset()
    #: receiving institutions named by the valid transfer filings (2501); "" for a filing
    #: that names none
    transfer_targets: frozenset[str] = frozenset()


def needs_filing(med_type: MedType) -> bool:
    """True when the med_type is settled only under a filing (so the service reads them)."""
    return med_type in (MedType.CHRONIC_OUTPATIENT, MedType.TRANSFER_INPATIENT)


def check_entitlement(
    med_type: MedType,
    facts: FilingFacts,
    *,
    fixmedins_code: str,
    dise_codg: str | None = None,
) -> None:
    """Refuse a settlement whose med_type needs a filing the person does not hold.

    `dise_codg` is the visit's 病种 code; it is matched against the filings only when it has
    the 门慢门特病种 form (M + 5 digits), because a HIS may put an ICD-10 diagnosis there."""
    if med_type is MedType.CHRONIC_OUTPATIENT:
        if not facts.chronic_diseases:
            raise PolicyRefusal(
                "医疗类别 14 门诊慢特病 须有有效的人员慢特病备案 (2503), 该人员无备案或备案已撤销 "
                "(med_type 14 needs a valid chronic-disease filing, 2503; the person has none)",
                field="med_type",
            )
        if (
            dise_codg
            and is_valid(CodeKind.CHRONIC_DISEASE, dise_codg)
            and dise_codg not in facts.chronic_diseases
        ):
            raise PolicyRefusal(
                f"病种 {dise_codg} 无有效的人员慢特病备案 (2503), 已备案病种: "
                f"{', '.join(sorted(facts.chronic_diseases))} "
                f"(no valid chronic-disease filing for {dise_codg})",
                field="med_type",
            )
    elif med_type is MedType.TRANSFER_INPATIENT:
        if not facts.transfer_targets:
            raise PolicyRefusal(
                "医疗类别 23 转外诊治住院 须有有效的转院备案 (2501), 该人员无备案或备案已撤销 "
                "(med_type 23 needs a valid transfer filing, 2501; the person has none)",
                field="med_type",
            )
        if "" not in facts.transfer_targets and fixmedins_code not in facts.transfer_targets:
            raise PolicyRefusal(
                f"转院备案的转往机构不是本机构 {fixmedins_code} (2501 reflin_medins_no) "
                "(the transfer filing names another receiving institution)",
                field="med_type",
            )
