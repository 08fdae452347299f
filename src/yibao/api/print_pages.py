"""Printable pages: `GET /print/settlements/{setl_id}` — the settlement statement (结算单) a
patient is handed, a clean A4/A5 page in Chinese with a print stylesheet, every asset served
by yibao itself.

Who may open it (`interface.print_statement`): the institution that settled it, through the
`print_url` (a signed, short-lived `?token=`) of its 5265 answer; or a signed-in agency console
user (session cookie or bearer; signed out and without a token → the login page). A token that
is not genuine, has expired or names another settlement → 403; an unknown settlement → 404.
This module only renders: the data, masked, comes from the interface use case.
"""

from __future__ import annotations

import html
from decimal import Decimal
from string import Template
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.security import HTTPAuthorizationCredentials

from yibao.api.analytics import WEB
from yibao.api.console.deps import Permit, _bearer, _cookie, current_user
from yibao.errors import Forbidden, NotFound
from yibao.interface import print_statement
from yibao.kit import clock
from yibao.runtime import Platform

#: setlinfo amounts in the order the statement lists them, with their 中文 names
SETTLEMENT_ROWS = (
    ("medfee_sumamt", "医疗费用总额"),
    ("fulamt_ownpay_amt", "全自费金额"),
    ("overlmt_selfpay", "超限价自费"),
    ("preselfpay_amt", "先行自付金额"),
    ("inscp_scp_amt", "符合政策范围金额"),
    ("act_pay_dedc", "实际支付起付线"),
    ("hifp_pay", "统筹基金支出"),
    ("cvlserv_pay", "公务员医疗补助"),
    ("hifes_pay", "企业补充医疗保险"),
    ("hifmi_pay", "居民大病保险"),
    ("hifob_pay", "职工大额医疗补助"),
    ("maf_pay", "医疗救助"),
    ("hifdm_pay", "伤残人员医疗保障"),
    ("oth_pay", "其他支出"),
    ("fund_pay_sumamt", "基金支付总额"),
    ("psn_part_amt", "个人负担总金额"),
    ("acct_pay", "个人账户支出"),
    ("acct_mulaid_pay", "个人账户共济支付"),
    ("psn_cash_pay", "个人现金支出"),
    ("hosp_part_amt", "医院负担金额"),
    ("balc", "个人账户余额"),
)
#: amounts shown even when zero (the rest are left out when zero, to keep the page short)
ALWAYS = frozenset(
    {"medfee_sumamt", "fund_pay_sumamt", "psn_part_amt", "acct_pay", "psn_cash_pay", "balc"}
)
FEE_COLUMNS = (
    ("det_item_fee_sumamt", "金额"),
    ("fulamt_ownpay_amt", "全自费"),
    ("overlmt_amt", "超限价"),
    ("preselfpay_amt", "先行自付"),
    ("inscp_scp_amt", "符合范围"),
)


def _e(value: Any) -> str:
    return "" if value is None else html.escape(str(value))


def money(value: Decimal | None) -> str:
    """An amount as the statement prints it: two decimals, thousands grouped."""
    if value is None:
        return "—"
    return f"{Decimal(value):,.2f}"


def _ratio(value: Decimal | None) -> str:
    return "" if value is None else f"{Decimal(value) * 100:.2f}%"


def _age(value: Decimal | None) -> str:
    """Age N4,1 as whole years: 46.0 → 46岁."""
    if value is None:
        return ""
    return f"{Decimal(value).normalize():f}岁"


#: paper sizes the page prints on (`?paper=`): the statement fits A4 portrait or A5 landscape
PAPERS = {"a4": "A4", "a5": "A5 landscape"}


def _cells(pairs: list[tuple[str, str]]) -> str:
    return "".join(f"<th>{_e(k)}</th><td>{_e(v)}</td>" for k, v in pairs)


def _grid(pairs: list[tuple[str, str]], per_row: int = 3) -> str:
    rows = [pairs[i : i + per_row] for i in range(0, len(pairs), per_row)]
    out = []
    for row in rows:
        pad = "<th></th><td></td>" * (per_row - len(row))
        out.append(f"<tr>{_cells(row)}{pad}</tr>")
    return "\n".join(out)


def render(view: dict[str, Any], template: Template, *, paper: str = "a4") -> str:
    info = view["setlinfo"]
    labels = view["labels"]
    visit = view.get("mdtrtinfo") or {}
    med_type = labels["med_type_name"] or info.get("med_type")
    person = [
        ("姓名", info.get("psn_name") or ""),
        ("性别", labels["gend_name"] or ""),
        ("年龄", _age(info.get("age"))),
        ("证件号码", info.get("certno") or ""),
        ("人员编号", info.get("psn_no") or ""),
        ("人员类别", labels["psn_type_name"] or info.get("psn_type") or ""),
        ("险种类型", labels["insutype_name"] or info.get("insutype") or ""),
        ("医疗类别", med_type or ""),
        ("清算经办机构", info.get("clr_optins") or ""),
    ]
    diagnosis = visit.get("maindiag_name") or visit.get("dise_name") or info.get("dise_name")
    care = [
        ("就诊ID", info.get("mdtrt_id") or ""),
        ("门诊/住院号", visit.get("ipt_otp_no") or ""),
        ("科室", visit.get("dept_name") or ""),
        ("医师", visit.get("dr_name") or ""),
        ("开始时间", visit.get("begntime") or info.get("begndate") or ""),
        ("结束时间", visit.get("endtime") or info.get("enddate") or ""),
        ("诊断", diagnosis or ""),
        ("结算ID", info.get("setl_id") or ""),
        ("结算时间", info.get("setl_time") or ""),
    ]
    fee_rows = []
    totals = dict.fromkeys((k for k, _ in FEE_COLUMNS), Decimal("0.00"))
    for r in view["feeinfo"]:
        cells = "".join(f'<td class="num">{money(r[k])}</td>' for k, _ in FEE_COLUMNS)
        name = r["med_chrgitm_type_name"] or r["med_chrgitm_type"]
        fee_rows.append(f"<tr><th>{_e(name)}</th>{cells}</tr>")
        for k in totals:
            totals[k] += r[k]
    total_cells = "".join(f'<td class="num">{money(totals[k])}</td>' for k, _ in FEE_COLUMNS)
    fee_head = "".join(f'<th class="num">{_e(t)}</th>' for _, t in FEE_COLUMNS)
    amount_cells = []
    for key, title in SETTLEMENT_ROWS:
        value = info.get(key)
        if value is None or (key not in ALWAYS and Decimal(value) == 0):
            continue
        extra = ""
        if key == "hifp_pay" and info.get("pool_prop_selfpay") is not None:
            extra = f" <small>({_ratio(info['pool_prop_selfpay'])})</small>"
        strong = ' class="key"' if key in ("fund_pay_sumamt", "psn_cash_pay") else ""
        amount_cells.append(
            f"<th{strong}>{_e(title)}{extra}</th><td{strong}>"
            f'<span class="num">{money(value)}</span></td>'
        )
    # two amounts a row: the statement stays one sheet on A5 landscape
    amounts = [
        "<tr>"
        + "".join(amount_cells[i : i + 2])
        + ("<th></th><td></td>" if i + 1 == len(amount_cells) else "")
        + "</tr>"
        for i in range(0, len(amount_cells), 2)
    ]
    funds = "\n".join(
        f"<tr><th>{_e(d.get('fund_pay_type_name') or d['fund_pay_type'])}</th>"
        f'<td class="num">{money(d["inscp_scp_amt"])}</td>'
        f'<td class="num">{money(d["fund_payamt"])}</td></tr>'
        for d in view["setldetail"]
    )
    notice = ""
    if info.get("refd_setl_flag") == "1":
        notice = f'<p class="notice">冲销记录 · 原结算ID {_e(info.get("init_setl_id"))}</p>'
    elif info.get("vali_flag") == "0":
        notice = '<p class="notice">本结算已撤销</p>'
    return template.substitute(
        title=_e(f"{info.get('fixmedins_name') or ''} 医疗保障结算单"),
        fixmedins_name=_e(info.get("fixmedins_name")),
        fixmedins_code=_e(info.get("fixmedins_code")),
        hosp_lv=_e(labels["hosp_lv_name"] or ""),
        med_type=_e(med_type),
        notice=notice,
        person=_grid(person),
        care=_grid(care),
        fee_head=fee_head,
        fee_rows="\n".join(fee_rows) or '<tr><td colspan="6">无费用明细</td></tr>',
        fee_total=total_cells,
        amounts="\n".join(amounts),
        funds=funds or '<tr><td colspan="3">无基金支付</td></tr>',
        medins_setl_id=_e(info.get("medins_setl_id")),
        opter_name=_e(info.get("opter_name") or info.get("opter_id") or ""),
        printed_at=_e(clock.fmt_datetime(clock.local_naive_now())),
        setl_id=_e(info.get("setl_id")),
        paper=PAPERS.get(paper, PAPERS["a4"]),
        paper_class=_e(paper if paper in PAPERS else "a4"),
    )


_ERROR_PAGE = (
    '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>{title}</title>'
    '<link rel="stylesheet" href="/static/statement.css"></head>'
    '<body><main class="sheet error"><h1>{title}</h1><p>{message}</p></main></body></html>'
)


def _error(status: int, title: str, message: str) -> HTMLResponse:
    return HTMLResponse(
        _ERROR_PAGE.format(title=_e(title), message=_e(message)),
        status_code=status,
        headers={"Cache-Control": "no-store"},
    )


def mount(app: FastAPI, platform: Platform) -> None:
    template = Template((WEB / "templates" / "statement.html").read_text(encoding="utf-8"))

    @app.get(
        "/print/settlements/{setl_id}",
        include_in_schema=False,
        response_class=HTMLResponse,
    )
    def settlement_statement(
        request: Request,
        setl_id: str,
        bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
        cookie: Annotated[str | None, Depends(_cookie)],
        token: Annotated[str | None, Query(max_length=300)] = None,
        paper: Annotated[str, Query(pattern="^a[45]$")] = "a4",
    ) -> HTMLResponse:
        try:
            if token:
                view = print_statement.statement_for_token(platform, setl_id, token)
            else:
                user = Permit("settlement.read")(request, current_user(request, bearer, cookie))
                view = print_statement.statement_for_user(platform, setl_id, user)
        except Forbidden as exc:
            return _error(403, "无法打开结算单", exc.message)
        except NotFound as exc:
            return _error(404, "结算单不存在", exc.message)
        # The page carries personal data: never cached, never indexed.
        return HTMLResponse(
            render(view, template, paper=paper),
            headers={"Cache-Control": "no-store", "X-Robots-Tag": "noindex"},
        )


__all__ = ["money", "mount", "render"]
