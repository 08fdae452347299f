"""`dictionary(name)`: every dictionary's values and labels, by its national field name.

Used by transaction 1901 (字典表查询) and the console. Names are the interface's field names
(`insutype`, `med_type`, `gend`, …); each flag field (`lmt_used_flag`, `vali_flag`, …) names
the 是/否 dictionary. A dictionary appended to `yibao.codes.dicts` without an entry below is
still found under its class name in snake case (`MapStatus` → `map_status`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from yibao.codes import dicts
from yibao.codes.dicts import CodeDict
from yibao.codes.regions import ADMDVS_EXTRA_PROVINCES, PROVINCES
from yibao.codes.validators import CodeKind

_FLAG_FIELDS: Final = (
    "acct_used_flag",
    "bas_medn_flag",
    "chld_medc_flag",
    "cvlserv_flag",
    "dscg_tkdrug_flag",
    "drt_reim_flag",
    "etip_flag",
    "hi_nego_drug_flag",
    "list_sp_item_flag",
    "lmt_used_flag",
    "mid_setl_flag",
    "refd_setl_flag",
    "rx_circ_flag",
    "vali_flag",
)

_NAMED: Final[dict[str, type[CodeDict]]] = {
    "insutype": dicts.Insutype,
    "med_type": dicts.MedType,
    "mdtrt_cert_type": dicts.MdtrtCertType,
    "psn_cert_type": dicts.PsnCertType,
    "psn_type": dicts.PsnType,
    "psn_insu_stas": dicts.PsnInsuStas,
    "gend": dicts.Gend,
    "fund_pay_type": dicts.FundPayType,
    "chrgitm_lv": dicts.ChrgitmLv,
    "med_chrgitm_type": dicts.MedChrgitmType,
    "list_type": dicts.ListType,
    "clr_type": dicts.ClrType,
    "clr_way": dicts.ClrWay,
    "psn_setlway": dicts.PsnSetlway,
    "diag_type": dicts.DiagType,
    "dscg_way": dicts.DscgWay,
    "hosp_appr_flag": dicts.HospApprFlag,
    "opter_type": dicts.OpterType,
    "stmt_rslt": dicts.StmtRslt,
    "fixmedins_type": dicts.InstitutionKind,
    "hosp_lv": dicts.HospLv,
    "psn_idet_type": dicts.PsnIdetType,
    "caty": dicts.Caty,
    "code_kind": CodeKind,
    **{name: dicts.Flag for name in _FLAG_FIELDS},
}


@dataclass(frozen=True, slots=True)
class DictEntry:
    """One value of a dictionary, shaped like a 1901 output row."""

    type: str
    value: str
    label: str
    sort: int
    parent_value: str | None = None
    vali_flag: str = "1"


class UnknownDictionary(LookupError):
    def __init__(self, name: str) -> None:
        super().__init__(
            f"未知的字典 '{name}' (unknown dictionary; known: {', '.join(dictionary_names())})"
        )
        self.name = name


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _registry() -> dict[str, type[CodeDict]]:
    found: dict[str, type[CodeDict]] = {}
    claimed = set(_NAMED.values())
    for obj in vars(dicts).values():
        if (
            isinstance(obj, type)
            and issubclass(obj, CodeDict)
            and obj is not CodeDict
            and obj not in claimed
        ):
            found[_snake(obj.__name__)] = obj
    found.update(_NAMED)
    return found


_REGISTRY: Final = MappingProxyType(_registry())


def dictionary_names() -> tuple[str, ...]:
    """Every dictionary name `dictionary` accepts, sorted."""
    return tuple(sorted([*_REGISTRY, "admdvs"]))


def dictionary(name: str) -> tuple[DictEntry, ...]:
    """The values and labels of dictionary `name` in their defined order.

    `admdvs` lists the province-level 医保区划 (`xx0000`) only.
    """
    if name == "admdvs":
        provinces = {**PROVINCES, **ADMDVS_EXTRA_PROVINCES}
        return tuple(
            DictEntry("admdvs", f"{code}0000", label, i + 1)
            for i, (code, label) in enumerate(sorted(provinces.items()))
        )
    cls = _REGISTRY.get(name)
    if cls is None:
        raise UnknownDictionary(name)
    return tuple(DictEntry(name, m.value, m.label, i + 1) for i, m in enumerate(cls))


def dictionary_class(name: str) -> type[CodeDict]:
    """The enum behind dictionary `name` (not `admdvs`, which is a table)."""
    cls = _REGISTRY.get(name)
    if cls is None:
        raise UnknownDictionary(name)
    return cls
