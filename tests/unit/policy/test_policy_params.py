"""Parameter files: validation, versions by date, layers, region coverage."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from policy_factories import D, a_line, demo_book, person, visit

from yibao.codes.dicts import HospLv, MedType, PsnType
from yibao.policy import PolicyFileError, book_from_texts, load_book, parse_version, settle

BASE = """
[region]
admdvs = "{admdvs}"
begndate = {begn}
{extra}
[[rule]]
id = "all"
insutype = ["310", "390"]
psn_group = ["in_service", "retired", "resident"]
visit_class = ["outpatient", "inpatient", "pharmacy", "chronic_outpatient"]
[rule.pool]
[[rule.pool.band]]
ratio = {ratio}
"""


def text(
    ratio: str = "0.5", admdvs: str = "990199", begn: str = "2024-01-01", extra: str = ""
) -> str:
    return BASE.format(ratio=ratio, admdvs=admdvs, begn=begn, extra=extra)


def hifp(book_texts: list[str], day: date, admdvs: str = "990101") -> str:
    s = settle(
        [a_line("1", "100.00")],
        person(),
        visit(admdvs=admdvs, day=day),
        {},
        book_from_texts(*book_texts),
    )
    return f"{s.hifp_pay}"


def test_demo_file_loads_and_covers_its_districts() -> None:
    book = demo_book()
    version = book.version_for("110105", date(2024, 1, 1))
    assert version.admdvs == "110199"
    assert book.version_for("110199", date(2030, 6, 1)) is version
    assert {r.id for r in version.rules} >= {"emp-in-service-otp", "res-ipt", "emp-pharmacy"}
    assert version.unknown_code == "self_pay"


def test_versions_by_settlement_date() -> None:
    old = text("0.5", extra="enddate = 2024-06-30")
    new = text("0.8", begn="2024-07-01")
    assert hifp([old, new], date(2024, 6, 30)) == "50.00"
    assert hifp([old, new], date(2024, 7, 1)) == "80.00"


def test_overlapping_versions_are_refused() -> None:
    with pytest.raises(PolicyFileError, match="overlap"):
        book_from_texts(text("0.5"), text("0.8", begn="2024-07-01"))


def test_exact_admdvs_before_prefix_cover() -> None:
    city = text("0.5")
    district = text("0.9", admdvs="990105", extra="covers = []")
    assert hifp([city, district], date(2024, 3, 1), admdvs="990105") == "90.00"
    assert hifp([city, district], date(2024, 3, 1), admdvs="990106") == "50.00"


def test_data_directory_overrides_packaged(tmp_path: Path) -> None:
    (tmp_path / "policy").mkdir()
    own = text("1", admdvs="110199", begn="2024-01-01").replace(
        "[region]", '[region]\nname = "own"'
    )
    (tmp_path / "policy" / "110199_2024.toml").write_text(own, encoding="utf-8")
    book = load_book(extra_dirs=[tmp_path])
    assert book.version_for("110105", date(2024, 3, 1)).name == "own"
    # before the data directory's version begins, the packaged version still applies
    assert book.version_for("110105", date(2023, 3, 1)).version == "2023.1"
    s = settle([a_line("1", "100.00")], person(), visit(day=date(2024, 3, 1)), {}, book)
    assert s.hifp_pay == D("100.00")


def test_data_directory_without_policy_folder_adds_nothing(tmp_path: Path) -> None:
    (tmp_path / "settings.toml").write_text("not = 'a policy'", encoding="utf-8")
    book = load_book(extra_dirs=[tmp_path])
    assert [v.label for v in book.versions] == [v.label for v in demo_book().versions]


def test_psn_type_rule_is_more_specific() -> None:
    child_rule = """
[[rule]]
id = "children"
insutype = "390"
psn_group = "resident"
psn_type = ["1401", "1402", "1403", "1404", "1405"]
visit_class = "outpatient"
[rule.pool]
[[rule.pool.band]]
ratio = 0.9
"""
    book = book_from_texts(text("0.5") + child_rule)
    child = settle(
        [a_line("1", "100.00")],
        person(PsnType.SCHOOL_STUDENT, age=9),
        visit(admdvs="990101"),
        {},
        book,
    )
    adult = settle(
        [a_line("1", "100.00")], person(PsnType.ADULT_RESIDENT), visit(admdvs="990101"), {}, book
    )
    assert (child.hifp_pay, adult.hifp_pay) == (D("90.00"), D("50.00"))
    assert child.policy_version.endswith("#children")


def test_med_type_class_override() -> None:
    extra = '[region.med_type_class]\n"13" = "inpatient"'
    version = parse_version(text(extra=extra))
    assert version.visit_class(MedType.EMERGENCY) == "inpatient"
    assert version.visit_class(MedType.GENERAL_OUTPATIENT) == "outpatient"
    assert version.visit_class(MedType.SPECIAL_DRUG) == "chronic_outpatient"
    assert version.visit_class(MedType.DAY_SURGERY) == "inpatient"


def test_by_level_any_key() -> None:
    book = book_from_texts(text('{ "3" = 0.6, "*" = 0.9 }'))
    p = person()
    three = settle([a_line("1", "100.00")], p, visit(lv=HospLv.LEVEL_3, admdvs="990101"), {}, book)
    one = settle([a_line("1", "100.00")], p, visit(lv=HospLv.LEVEL_1, admdvs="990101"), {}, book)
    assert (three.hifp_pay, one.hifp_pay) == (D("60.00"), D("90.00"))


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (text("1.5"), "ratio must lie in"),
        (text("0.5").replace("ratio = 0.5", 'ratio = "half"'), "expected a number"),
        (text("0.5").replace("ratio = 0.5", "ratio = -0.1"), "non-negative"),
        (text("0.5").replace("[rule.pool]", "[rule.pool]\ncap = 10.005"), "two decimals"),
        (text("0.5").replace("[rule.pool]", "[rule.pool]\ncapp = 10"), "unknown key"),
        (text("0.5", admdvs="9901"), "admdvs is 6 digits"),
        (text("0.5").replace("begndate = 2024-01-01", 'begndate = "2024"'), "TOML date"),
        (text("0.5", extra="enddate = 2023-01-01"), "enddate before begndate"),
        (text("0.5", extra='unknown_code = "maybe"'), "must be one of"),
        (
            text("0.5").replace(
                'psn_group = ["in_service", "retired", "resident"]', 'psn_group = "cadre"'
            ),
            "must be among",
        ),
        (text("0.5").replace("[region]", "[regio]"), "unknown key"),
        ("[region]\nadmdvs = '990199'\nbegndate = 2024-01-01\n", "at least one [[rule]]"),
        (text("0.5") + "[[rule.pool.band]]\nratio = 0.6\n", "only the last band may omit upto"),
        (
            text("0.5").replace(
                "[[rule.pool.band]]",
                "[[rule.pool.band]]\nupto = 100\nratio = 0.4\n"
                "[[rule.pool.band]]\nupto = 50\nratio = 0.4\n[[rule.pool.band]]",
            ),
            "bounds must increase",
        ),
        (text("0.5") + '[rule.dedc]\nmode = "annual"\n', "required"),
        (text("0.5") + '[rule.dedc]\nmode = "annual"\namount = { "4" = 100 }\n', "level keys"),
        (text("0.5") + '[rule.dedc]\nmode = "annual"\namount = 10\nlater = 5\n', "only for mode"),
        (
            text("0.5") + "\n[[rule]]\nid = 'again'\ninsutype = '310'\npsn_group = 'retired'\n"
            "visit_class = 'inpatient'\n",
            "both apply",
        ),
        (
            text("0.5") + "\n[[rule]]\nid = 'all'\ninsutype = '310'\npsn_group = 'retired'\n"
            "visit_class = 'inpatient'\nage_min = 70\n",
            "duplicate rule ids",
        ),
        (
            text("0.5") + "[[topup]]\ninsutype='310'\nvisit_class='inpatient'\nratio=0.8\n"
            "[[topup]]\ninsutype='310'\nvisit_class='inpatient'\nratio=0.7\n",
            "overlap",
        ),
        (text("0.5") + "[[assistance]]\ninsutype='390'\nvisit_class='inpatient'\n", "at least one"),
        (
            text("0.5") + "[[critical]]\ninsutype='390'\nvisit_class='inpatient'\ndedc=100\n"
            "[[critical.band]]\nratio=0.6\n[critical.poor]\nidentities=['77']\n",
            "must be among",
        ),
        ("[region\n", "TOML syntax error"),
        (text("0.5").replace("[rule.pool]", "[rule.pool]\ncap_counter = 'Out Patient'"), "counter"),
        (
            text("0.5") + '[rule.dedc]\nmode = "annual"\namount = 1\ncounter = { "1" = "x.y" }\n',
            "counter name",
        ),
    ],
)
def test_malformed_files_are_refused_with_a_clear_message(bad: str, message: str) -> None:
    with pytest.raises(PolicyFileError) as info:
        parse_version(bad, "bad.toml")
    assert message in str(info.value)
    assert str(info.value).startswith("bad.toml")


def test_age_rules_may_coexist_when_ranges_differ() -> None:
    young = "\n[[rule]]\nid = 'young'\ninsutype = '310'\npsn_group = 'retired'\nvisit_class = 'inpatient'\nage_max = 69\n"
    old = "\n[[rule]]\nid = 'old'\ninsutype = '310'\npsn_group = 'retired'\nvisit_class = 'inpatient'\nage_min = 70\n"
    version = parse_version(text("0.5") + young + old)
    assert [r.id for r in version.rules] == ["all", "young", "old"]
    with pytest.raises(PolicyFileError, match="both apply"):
        parse_version(text("0.5") + young + young.replace("'young'", "'young2'"))
