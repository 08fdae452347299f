"""Dimensions and filters of the cost indicators, and the SQL each backend needs for them.

The replica side reads a per-day rollup (`replica.schema.ROLLUPS`); the row-store side reads
`setl` joined with `fixmedins` (its amounts are integer fen). Both produce the same columns
(`key`, optional `name`, then the measures of `replica.schema.MEASURES`), so an answer
from either side compares equal after `indicators.finish`.
"""

from __future__ import annotations

from dataclasses import dataclass

from yibao.replica import rows
from yibao.replica.schema import MEASURES

#: SQL fragments that differ between SQLite and the MySQL protocol (row store only)
DIALECT = {
    "sqlite": {
        "day": "DATE({c})",
        "month": "strftime('%Y-%m', {c})",
        "days": "MAX(1, CAST(julianday(DATE({e})) - julianday(DATE({b})) AS INTEGER))",
    },
    "mysql": {
        "day": "CAST(DATE({c}) AS CHAR)",
        "month": "DATE_FORMAT({c}, '%Y-%m')",
        "days": "GREATEST(1, DATEDIFF(DATE({e}), DATE({b})))",
    },
}

ROW_SIGN = "(CASE WHEN s.refd_setl_flag = '1' THEN -1 ELSE 1 END)"
ROW_VISIT_KIND = (
    "(CASE WHEN s.med_type LIKE '2%' OR s.med_type = '52' THEN 'inpatient' "
    "WHEN s.med_type = '41' THEN 'pharmacy' ELSE 'outpatient' END)"
)


def row_measures(dialect: str) -> str:
    """The measures over `setl s`, as the rollups define them (amounts in fen)."""
    days = DIALECT[dialect]["days"].format(b="s.begndate", e="s.enddate")
    ipt_days = f"CASE WHEN s.begndate IS NOT NULL AND s.enddate IS NOT NULL THEN {days} ELSE 0 END"
    parts = [
        f"SUM({ROW_SIGN}) AS setl_cnt",
        f"SUM(CASE WHEN {ROW_VISIT_KIND} = 'outpatient' THEN {ROW_SIGN} ELSE 0 END) AS otp_cnt",
        f"SUM(CASE WHEN {ROW_VISIT_KIND} = 'inpatient' THEN {ROW_SIGN} ELSE 0 END) AS ipt_cnt",
        f"SUM(CASE WHEN {ROW_VISIT_KIND} = 'inpatient' THEN {ROW_SIGN} * ({ipt_days}) ELSE 0 END)"
        " AS ipt_days",
        f"SUM({ROW_SIGN} * s.fee_line_cnt) AS fee_line_cnt",
        *(f"SUM(s.{a}) AS {a}" for a in rows.SETL_AMOUNTS),
    ]
    return ",\n  ".join(parts)


def replica_measures(alias: str = "r") -> str:
    return ",\n  ".join(f"SUM({alias}.{name}) AS {name}" for name, _t, _a in MEASURES)


@dataclass(frozen=True)
class Dim:
    name: str
    title: str
    #: replica column (on the rollup) or expression
    replica: str
    #: row-store expression per dialect (`{day}` / `{month}` resolved from DIALECT)
    row: str
    #: the rollup that carries it
    rollup: str
    #: time dimensions sort by key; the others by fund paid, largest first
    ordered_by_key: bool = False
    #: joins the institution's name
    institution: bool = False


DIMS: dict[str, Dim] = {
    d.name: d
    for d in (
        Dim("day", "日", "CAST(r.setl_date AS VARCHAR)", "{day}", "agg_day", ordered_by_key=True),
        Dim(
            "month",
            "月",
            "strftime(r.setl_date, '%Y-%m')",
            "{month}",
            "agg_day",
            ordered_by_key=True,
        ),
        Dim("region", "医保区划", "r.admdvs", "f.admdvs", "agg_day"),
        Dim("hosp_lv", "机构等级", "r.hosp_lv", "s.hosp_lv", "agg_day"),
        Dim("insutype", "险种", "r.insutype", "s.insutype", "agg_day"),
        Dim("med_type", "医疗类别", "r.med_type", "s.med_type", "agg_day"),
        Dim("psn_type", "人员类别", "r.psn_type", "s.psn_type", "agg_day"),
        Dim("visit_kind", "就诊类型", "r.visit_kind", ROW_VISIT_KIND, "agg_day"),
        Dim(
            "institution",
            "定点机构",
            "r.fixmedins_code",
            "s.fixmedins_code",
            "agg_day_inst",
            institution=True,
        ),
        Dim("diagnosis", "主诊断", "r.maindiag_code", "s.maindiag_code", "agg_day_diag"),
        Dim("total", "合计", "'total'", "'total'", "agg_day"),
    )
}


@dataclass(frozen=True)
class Filter:
    name: str
    title: str
    replica: str
    row: str


FILTERS: dict[str, Filter] = {
    f.name: f
    for f in (
        Filter("admdvs", "医保区划", "r.admdvs", "f.admdvs"),
        Filter("hosp_lv", "机构等级", "r.hosp_lv", "s.hosp_lv"),
        Filter("insutype", "险种", "r.insutype", "s.insutype"),
        Filter("med_type", "医疗类别", "r.med_type", "s.med_type"),
        Filter("psn_type", "人员类别", "r.psn_type", "s.psn_type"),
        Filter("visit_kind", "就诊类型", "r.visit_kind", ROW_VISIT_KIND),
        Filter("fixmedins_code", "定点机构编码", "r.fixmedins_code", "s.fixmedins_code"),
        Filter("maindiag_code", "主诊断编码", "r.maindiag_code", "s.maindiag_code"),
    )
}

#: the filters each rollup can answer
ROLLUP_FILTERS: dict[str, tuple[str, ...]] = {
    "agg_day": ("admdvs", "hosp_lv", "insutype", "med_type", "psn_type", "visit_kind"),
    "agg_day_inst": ("admdvs", "hosp_lv", "insutype", "visit_kind", "fixmedins_code"),
    "agg_day_diag": ("insutype", "visit_kind", "maindiag_code"),
}
