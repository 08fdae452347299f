"""The pure entitlement rule: which filing a med_type needs (policy.filings)."""

from __future__ import annotations

import pytest

from yibao.codes.dicts import MedType
from yibao.policy.filings import FilingFacts, check_entitlement, needs_filing
from yibao.policy.model import PolicyRefusal

HOSP = "H11010200001"


def test_only_chronic_and_transfer_need_a_filing() -> None:
    assert {m for m in MedType if needs_filing(m)} == {
        MedType.CHRONIC_OUTPATIENT,
        MedType.TRANSFER_INPATIENT,
    }
    # no filing is read or needed for the others
    check_entitlement(MedType.GENERAL_OUTPATIENT, FilingFacts(), fixmedins_code=HOSP)
    check_entitlement(MedType.GENERAL_INPATIENT, FilingFacts(), fixmedins_code=HOSP)


def test_chronic_needs_a_filing_of_the_visits_disease() -> None:
    with pytest.raises(PolicyRefusal, match="2503") as exc:
        check_entitlement(MedType.CHRONIC_OUTPATIENT, FilingFacts(), fixmedins_code=HOSP)
    assert exc.value.field == "med_type"
    facts = FilingFacts(chronic_diseases=frozenset({"M03900"}))
    check_entitlement(MedType.CHRONIC_OUTPATIENT, facts, fixmedins_code=HOSP)
    check_entitlement(MedType.CHRONIC_OUTPATIENT, facts, fixmedins_code=HOSP, dise_codg="M03900")
    with pytest.raises(PolicyRefusal, match="M01600"):
        check_entitlement(
            MedType.CHRONIC_OUTPATIENT, facts, fixmedins_code=HOSP, dise_codg="M01600"
        )
    # an ICD-10 code in dise_codg is not a 病种 code: any valid filing entitles
    check_entitlement(MedType.CHRONIC_OUTPATIENT, facts, fixmedins_code=HOSP, dise_codg="I10.x00")


def test_transfer_needs_a_filing_naming_this_institution_or_none() -> None:
    with pytest.raises(PolicyRefusal, match="2501"):
        check_entitlement(MedType.TRANSFER_INPATIENT, FilingFacts(), fixmedins_code=HOSP)
    check_entitlement(
        MedType.TRANSFER_INPATIENT,
        FilingFacts(transfer_targets=frozenset({HOSP})),
        fixmedins_code=HOSP,
    )
    check_entitlement(
        MedType.TRANSFER_INPATIENT,
        FilingFacts(transfer_targets=frozenset({""})),
        fixmedins_code=HOSP,
    )
    with pytest.raises(PolicyRefusal, match="reflin_medins_no"):
        check_entitlement(
            MedType.TRANSFER_INPATIENT,
            FilingFacts(transfer_targets=frozenset({"H99999999999"})),
            fixmedins_code=HOSP,
        )
