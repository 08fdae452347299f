"""The generator of the demo catalog, `catalog/data/demo_catalog.csv` (committed).

    .venv/bin/python -m yibao.catalog.demo_data        # rewrite the CSV

Made-up but plausible: several hundred items of every list type with valid national code
formats, realistic Chinese names, classes, ratios, price caps and restrictions, plus the
diagnosis, operation, 门慢特, 按病种 and 日间手术 codes the demo city's visits use and small
肿瘤形态学, 中医疾病 and 中医证候 catalogs (1313–1315), 民族药 (1304) and 中药配方颗粒 (1320). The
simulator's built-in items (`yibao.simulate.clinical.BUILTIN_ITEMS`) appear with the same codes,
names, caps and restrictions, so the demo bills settle against codes the platform knows.
Deterministic: running it twice writes the same file.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Final

from yibao.catalog.demo_tables import (
    BEGIN,
    BUILTIN,
    BUILTIN_EXTRA,
    CONSUMABLES,
    DISEASES,
    DRUGS,
    ETHNIC,
    GRANULES,
    HERBS,
    PATENT,
    PREPARATIONS,
    REPRICED,
    SERVICES,
)

OUT: Final = Path(__file__).parent / "data" / "demo_catalog.csv"

HEADER: Final = (
    "catalog_kind",
    "hilist_code",
    "hilist_name",
    "list_type",
    "med_chrgitm_type",
    "chrgitm_lv",
    "selfpay_prop",
    "selfpay_prop_psn",
    "hilist_pric_uplmt_amt",
    "prcunt",
    "spec",
    "dosform_name",
    "lmt_used_flag",
    "bas_medn_flag",
    "hi_nego_drug_flag",
    "chld_medc_flag",
    "lmt_gend",
    "lmt_age_min",
    "lmt_age_max",
    "lmt_hosp_lv",
    "lmt_med_type",
    "lmt_diag_codes",
    "lmt_days",
    "lmt_cnt",
    "memo",
    "begndate",
    "enddate",
)


def _rows() -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []

    def add(**values: str) -> None:
        row = dict.fromkeys(HEADER, "")
        row["catalog_kind"] = "hilist"
        row["begndate"] = BEGIN
        row.update(values)
        rows.append(row)

    def restrictions(text: str) -> dict[str, str]:
        out: dict[str, str] = {}
        for part in filter(None, text.split(";")):
            key, _, value = part.partition("=")
            out[key.strip()] = value.strip()
        return out

    for line in filter(None, BUILTIN.strip().splitlines()):
        code, name, lt, med, lv, cap, ratio, gend, age_min, age_max, unit = line.split("|")
        add(
            hilist_code=code,
            hilist_name=name,
            list_type=lt,
            med_chrgitm_type=med,
            chrgitm_lv=lv,
            selfpay_prop=ratio,
            hilist_pric_uplmt_amt=cap,
            prcunt=unit,
            lmt_gend=gend,
            lmt_age_min=age_min,
            lmt_age_max=age_max,
            chld_medc_flag="1" if age_max else "0",
            **BUILTIN_EXTRA.get(code, {}),
        )

    for i, line in enumerate(filter(None, DRUGS.strip().splitlines()), start=101):
        atc, generic, form, name, spec, unit, dosform, lv, ratio, cap, flags, extra = line.split(
            "|"
        )
        bas, nego = [*flags.split(" "), "0", "0"][:2] if flags else ["0", "0"]
        code = f"X{atc}{generic}{form}0101{i:05d}"
        r = restrictions(extra)
        add(
            hilist_code=code,
            hilist_name=name,
            list_type="101",
            med_chrgitm_type="09",
            chrgitm_lv=lv,
            selfpay_prop=ratio,
            selfpay_prop_psn="1300:0" if lv == "02" else "",
            hilist_pric_uplmt_amt=cap,
            prcunt=unit,
            spec=spec,
            dosform_name=dosform,
            bas_medn_flag=bas or "0",
            hi_nego_drug_flag=nego or "0",
            chld_medc_flag="1" if "lmt_age_max" in r else "0",
            lmt_used_flag="1" if "lmt_diag_codes" in r else "0",
            **r,
        )

    for code, name, lv, ratio, cap, begn, end in REPRICED:
        add(
            hilist_code=code,
            hilist_name=name,
            list_type="101",
            med_chrgitm_type="09",
            chrgitm_lv=lv,
            selfpay_prop=ratio,
            hilist_pric_uplmt_amt=cap,
            prcunt="片",
            spec="20mg*30片",
            dosform_name="缓释片",
            bas_medn_flag="1",
            memo="2025年起降价 (price cap lowered from 2025)",
            begndate=begn,
            enddate=end,
        )

    for i, line in enumerate(filter(None, PATENT.strip().splitlines()), start=301):
        cat, generic, form, name, spec, unit, lv, ratio, cap, extra = line.split("|")
        r = restrictions(extra)
        add(
            hilist_code=f"Z{cat}{generic}{form}0101{i:05d}",
            hilist_name=name,
            list_type="101",
            med_chrgitm_type="11",
            chrgitm_lv=lv,
            selfpay_prop=ratio,
            hilist_pric_uplmt_amt=cap,
            prcunt=unit,
            spec=spec,
            chld_medc_flag="1" if "lmt_age_max" in r else "0",
            lmt_used_flag="1" if "lmt_diag_codes" in r else "0",
            **r,
        )

    for i, line in enumerate(filter(None, HERBS.strip().splitlines()), start=1):
        name, lv, ratio, cap = line.split("|")
        add(
            hilist_code=f"T{i:04d}00{i * 7 % 997:03d}",
            hilist_name=name,
            list_type="102",
            med_chrgitm_type="10",
            chrgitm_lv=lv,
            selfpay_prop=ratio,
            hilist_pric_uplmt_amt=cap,
            prcunt="克",
            memo="单味使用不予支付" if lv == "03" else "",
        )

    for line in filter(None, PREPARATIONS.strip().splitlines()):
        code, name, spec, unit, cap = line.split("|")
        add(
            hilist_code=code,
            hilist_name=name,
            list_type="103",
            med_chrgitm_type="11",
            chrgitm_lv="02",
            selfpay_prop="0.10",
            hilist_pric_uplmt_amt=cap,
            prcunt=unit,
            spec=spec,
            memo="本统筹区医疗机构制剂",
        )

    for line in filter(None, ETHNIC.strip().splitlines()):
        code, name, spec, unit, dosform, lv, ratio, cap, tradition = line.split("|")
        add(
            hilist_code=code,
            hilist_name=name,
            list_type="104",
            med_chrgitm_type="11",
            chrgitm_lv=lv,
            selfpay_prop=ratio,
            hilist_pric_uplmt_amt=cap,
            prcunt=unit,
            spec=spec,
            dosform_name=dosform,
            memo=tradition,
        )

    for line in filter(None, GRANULES.strip().splitlines()):
        code, name, unit, lv, ratio, cap = line.split("|")
        add(
            hilist_code=code,
            hilist_name=name,
            list_type="105",
            med_chrgitm_type="10",
            chrgitm_lv=lv,
            selfpay_prop=ratio,
            hilist_pric_uplmt_amt=cap,
            prcunt=unit,
            memo="中药配方颗粒",
        )

    for line in filter(None, SERVICES.strip().splitlines()):
        code9, name, med, lv, ratio, cap, unit, extra = line.split("|")
        add(
            hilist_code=f"{code9}000000",
            hilist_name=name,
            list_type="201",
            med_chrgitm_type=med,
            chrgitm_lv=lv,
            selfpay_prop=ratio,
            hilist_pric_uplmt_amt=cap,
            prcunt=unit,
            **restrictions(extra),
        )

    for line in filter(None, CONSUMABLES.strip().splitlines()):
        code, name, lv, ratio, cap, unit, extra = line.split("|")
        add(
            hilist_code=code,
            hilist_name=name,
            list_type="301",
            med_chrgitm_type="08",
            chrgitm_lv=lv,
            selfpay_prop=ratio,
            selfpay_prop_psn="1300:0" if lv == "02" else "",
            hilist_pric_uplmt_amt=cap,
            prcunt=unit,
            **restrictions(extra),
        )

    for line in filter(None, DISEASES.strip().splitlines()):
        kind, code, name, gend, memo = line.split("|")
        row = dict.fromkeys(HEADER, "")
        row.update(
            catalog_kind=kind,
            hilist_code=code,
            hilist_name=name,
            lmt_gend=gend,
            memo=memo,
            begndate=BEGIN,
        )
        rows.append(row)
    return rows


def render() -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=HEADER, lineterminator="\n")
    writer.writeheader()
    writer.writerows(_rows())
    return buffer.getvalue()


def main() -> None:
    OUT.parent.mkdir(parents=True, exist_ok=True)
    text = render()
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT} ({text.count(chr(10)) - 1} rows)")


if __name__ == "__main__":
    main()
