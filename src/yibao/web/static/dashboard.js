// 医保基金 T+0 监测看板: reads /api/v1/analytics/dashboard (one strong snapshot) and polls
// /api/v1/analytics/position every second; when the row store has moved past the shown seq,
// the dashboard is fetched again, so a new settlement shows within about a second.
"use strict";

(function () {
  const FONT = "'Noto Sans CJK SC', 'WenQuanYi Micro Hei', 'Microsoft YaHei', sans-serif";
  const COLORS = ["#0b6e4f", "#2f7ed8", "#f0a30a", "#c0392b", "#8e44ad", "#16a085", "#7f8c8d", "#d35400", "#2c3e50"];
  const charts = {};
  let shownSeq = -1;
  let loading = false;
  let drill = { level: "region", admdvs: null, code: null, name: null };

  // -- formatting --------------------------------------------------------------------------
  function num(v) { return v === null || v === undefined || v === "" ? 0 : Number(v); }
  function group(n, digits) {
    return n.toLocaleString("zh-CN", { minimumFractionDigits: digits, maximumFractionDigits: digits });
  }
  function money(v) {
    const n = num(v);
    const a = Math.abs(n);
    if (a >= 1e8) return "¥" + group(n / 1e8, 2) + "亿";
    if (a >= 1e4) return "¥" + group(n / 1e4, 2) + "万";
    return "¥" + group(n, 2);
  }
  function moneyFull(v) { return "¥" + group(num(v), 2); }
  function count(v) { return group(num(v), 0); }
  function pct(v) { return v === null || v === undefined ? "—" : group(num(v) * 100, 2) + "%"; }
  function days(v) { return v === null || v === undefined ? "—" : group(num(v), 2) + " 天"; }
  function esc(s) {
    return String(s === null || s === undefined ? "" : s).replace(/[&<>"']/g,
      (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  }
  function setText(id, text, flash) {
    const el = document.getElementById(id);
    if (!el) return;
    if (flash && el.textContent !== text && el.textContent !== "—") {
      el.classList.remove("flash"); void el.offsetWidth; el.classList.add("flash");
    }
    el.textContent = text;
  }

  // -- data --------------------------------------------------------------------------------
  // The session's CSRF token (cookie yibao_csrf, set at sign-in): the server refuses a
  // cookie-authenticated write without it in X-CSRF-Token (docs/console.md, hardening).
  function csrfToken() {
    const found = document.cookie.split("; ").find((c) => c.startsWith("yibao_csrf="));
    return found ? decodeURIComponent(found.slice("yibao_csrf=".length)) : "";
  }

  async function send(method, url, body) {
    const headers = { Accept: "application/json", "X-CSRF-Token": csrfToken() };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const resp = await fetch(url, {
      method, credentials: "same-origin", headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (resp.status === 401) { window.location.href = "/login?next=%2Fdashboard"; throw new Error("signed out"); }
    return resp;
  }

  async function getJson(url) {
    const resp = await send("GET", url);
    if (!resp.ok) throw new Error(url + " → " + resp.status);
    return resp.json();
  }

  function chart(id) {
    if (!charts[id]) {
      charts[id] = echarts.init(document.getElementById(id), null, { renderer: "canvas" });
    }
    return charts[id];
  }

  const base = {
    color: COLORS,
    textStyle: { fontFamily: FONT },
    animation: false,
  };
  const moneyAxis = { type: "value", axisLabel: { formatter: (v) => money(v) } };
  const tooltipMoney = { trigger: "axis", valueFormatter: (v) => money(v) };

  function pie(id, rows, nameOf, valueOf) {
    chart(id).setOption(Object.assign({}, base, {
      tooltip: { trigger: "item", formatter: (p) => esc(p.name) + "<br>" + moneyFull(p.value) + "（" + p.percent + "%）" },
      legend: { bottom: 0, type: "scroll", textStyle: { fontFamily: FONT } },
      series: [{
        type: "pie", radius: ["35%", "65%"], center: ["50%", "45%"],
        label: { formatter: "{b}", fontFamily: FONT },
        data: rows.filter((r) => num(valueOf(r)) !== 0).map((r) => ({ name: nameOf(r), value: num(valueOf(r)) })),
      }],
    }), true);
  }

  function bars(id, rows, nameOf, horizontal) {
    const names = rows.map(nameOf);
    const values = rows.map((r) => num(r.fund_pay_sumamt));
    const cat = { type: "category", data: names, axisLabel: { fontFamily: FONT, interval: 0, width: 150, overflow: "truncate" } };
    chart(id).setOption(Object.assign({}, base, {
      tooltip: tooltipMoney,
      grid: { left: horizontal ? 170 : 70, right: 30, top: 20, bottom: 40 },
      xAxis: horizontal ? moneyAxis : cat,
      yAxis: horizontal ? Object.assign({}, cat, { inverse: true }) : moneyAxis,
      series: [{ name: "基金支出", type: "bar", data: values, barMaxWidth: 36 }],
    }), true);
  }

  function render(env) {
    const d = env.data;
    const today = d.today || {};
    const month = d.month || {};
    setText("kpi-today-fund", money(today.fund_pay_sumamt), true);
    setText("kpi-today-fund-sub", "统筹 " + money(today.hifp_pay) + " · 个人账户 " + money(today.acct_pay));
    setText("kpi-today-cnt", count(today.setl_cnt), true);
    setText("kpi-today-psn", "就诊人数 " + count(today.psn_cnt));
    setText("kpi-today-fee", money(today.medfee_sumamt), true);
    setText("kpi-today-avg", "次均费用 " + (today.avg_fee ? moneyFull(today.avg_fee) : "—"));
    setText("kpi-month-fund", money(month.fund_pay_sumamt), true);
    setText("kpi-month-fund-sub", "统筹 " + money(month.hifp_pay) + " · 个人账户 " + money(month.acct_pay));
    setText("kpi-month-cnt", count(month.setl_cnt), true);
    setText("kpi-month-psn", "就诊人数 " + count(month.psn_cnt) + " · 人次人头比 " + (month.visits_per_person || "—"));
    setText("kpi-month-avg", month.avg_fee ? moneyFull(month.avg_fee) : "—");
    setText("kpi-month-pool", "次均统筹 " + (month.avg_pool ? moneyFull(month.avg_pool) : "—"));
    setText("r-actual", pct(month.actual_reimb_ratio));
    setText("r-inscp", pct(month.inscp_reimb_ratio));
    setText("r-drug", pct(month.drug_ratio));
    setText("r-mcs", pct(month.mcs_ratio));
    setText("r-self", pct(month.selfpay_ratio));
    setText("r-adm", pct(month.admission_rate));
    setText("r-los", days(month.avg_los));

    // every one of the last 30 days, zero where nothing was settled
    const byDay = {};
    (d.trend || []).forEach((r) => { byDay[r.key] = r; });
    const trend = [];
    const end = new Date(d.day + "T00:00:00");
    for (let i = 29; i >= 0; i--) {
      const t = new Date(end.getTime() - i * 86400000);
      const key = t.getFullYear() + "-" + String(t.getMonth() + 1).padStart(2, "0") + "-" + String(t.getDate()).padStart(2, "0");
      trend.push(byDay[key] || { key: key, fund_pay_sumamt: 0, setl_cnt: 0 });
    }
    chart("chart-trend").setOption(Object.assign({}, base, {
      tooltip: { trigger: "axis" },
      legend: { top: 0, data: ["基金支出", "结算人次"], textStyle: { fontFamily: FONT } },
      grid: { left: 80, right: 60, top: 40, bottom: 30 },
      xAxis: { type: "category", data: trend.map((r) => r.key.slice(5)) },
      yAxis: [moneyAxis, { type: "value", name: "人次", splitLine: { show: false } }],
      series: [
        { name: "基金支出", type: "line", smooth: true, areaStyle: { opacity: 0.15 }, data: trend.map((r) => num(r.fund_pay_sumamt)),
          tooltip: { valueFormatter: (v) => money(v) } },
        { name: "结算人次", type: "bar", yAxisIndex: 1, barMaxWidth: 14, data: trend.map((r) => num(r.setl_cnt)),
          itemStyle: { opacity: 0.45 } },
      ],
    }), true);
    pie("chart-funds", d.funds_month || [], (r) => r.name, (r) => r.amount);
    bars("chart-months", d.months || [], (r) => r.key, false);
    pie("chart-insutype", d.insutype || [], (r) => r.name, (r) => r.fund_pay_sumamt);
    pie("chart-visit", d.visit_kind || [], (r) => r.name, (r) => r.fund_pay_sumamt);
    bars("chart-hosplv", d.hosp_lv || [], (r) => r.name, false);
    pie("chart-medtype", d.med_type || [], (r) => r.name, (r) => r.fund_pay_sumamt);
    bars("chart-top", d.top_institutions || [], (r) => r.name || r.key, true);
    if (drill.level === "region") renderRegions(d.region || []);

    const when = new Date().toLocaleTimeString("zh-CN", { hour12: false });
    const consistency = env.consistency === "strong" ? "强一致" : "有界延迟";
    setText("position", "数据截至变更序号 " + env.seq + " · 延迟 " + env.lag_rows + " 条 / " + env.lag_ms + " ms · " + consistency + " · 更新于 " + when);
    shownSeq = env.seq;
  }

  // -- drill-down: region → institution → settlements ---------------------------------------
  const INDICATOR_HEAD = ["结算人次", "医疗总费用", "基金支出", "次均费用", "药占比", "实际报销比例"];
  function indicatorCells(r) {
    return [count(r.setl_cnt), moneyFull(r.medfee_sumamt), moneyFull(r.fund_pay_sumamt),
      r.avg_fee ? moneyFull(r.avg_fee) : "—", pct(r.drug_ratio), pct(r.actual_reimb_ratio)];
  }
  function table(head, rows, onClick) {
    const t = document.getElementById("drill");
    t.tHead.innerHTML = "<tr>" + head.map((h) => "<th>" + esc(h) + "</th>").join("") + "</tr>";
    t.tBodies[0].innerHTML = rows.map((cells, i) =>
      "<tr" + (onClick ? ' class="link" data-i="' + i + '"' : "") + ">" + cells.map((c) => "<td>" + esc(c) + "</td>").join("") + "</tr>").join("")
      || '<tr><td colspan="' + head.length + '">本期暂无数据</td></tr>';
    t.tBodies[0].onclick = onClick ? (ev) => {
      const tr = ev.target.closest("tr[data-i]");
      if (tr) onClick(Number(tr.dataset.i));
    } : null;
  }
  function crumbs() {
    const parts = ['<a data-level="region">全部区划</a>'];
    if (drill.admdvs) parts.push(drill.level === "region" ? esc(drill.admdvs) : '<a data-level="institution">' + esc(drill.admdvs) + "</a>");
    if (drill.code) parts.push(esc(drill.name || drill.code));
    const nav = document.getElementById("crumbs");
    nav.innerHTML = parts.join(" › ");
    nav.onclick = (ev) => {
      const level = ev.target.dataset && ev.target.dataset.level;
      if (level === "region") { drill = { level: "region" }; refresh(true); }
      if (level === "institution") { showInstitutions(drill.admdvs); }
    };
  }
  function renderRegions(rows) {
    crumbs();
    table(["医保区划", "名称", ...INDICATOR_HEAD], rows.map((r) => [r.key, r.name, ...indicatorCells(r)]),
      (i) => showInstitutions(rows[i].key));
  }
  async function showInstitutions(admdvs) {
    drill = { level: "institution", admdvs: admdvs };
    crumbs();
    const env = await getJson("/api/v1/analytics/by_institution?admdvs=" + encodeURIComponent(admdvs));
    const rows = env.data;
    table(["机构编码", "机构名称", ...INDICATOR_HEAD], rows.map((r) => [r.key, r.name, ...indicatorCells(r)]),
      (i) => showSettlements(admdvs, rows[i].key, rows[i].name));
  }
  async function showSettlements(admdvs, code, name) {
    drill = { level: "settlement", admdvs: admdvs, code: code, name: name };
    crumbs();
    const env = await getJson("/api/v1/analytics/settlements?limit=50&fixmedins_code=" + encodeURIComponent(code));
    table(["结算ID", "结算时间", "险种", "医疗类别", "医疗总费用", "基金支付", "个人账户", "现金支付", "状态"],
      env.data.map((r) => [r.setl_id, r.setl_time, r.insutype, r.med_type, moneyFull(r.medfee_sumamt),
        moneyFull(r.fund_pay_sumamt), moneyFull(r.acct_pay), moneyFull(r.psn_cash_pay),
        r.refd_setl_flag === "1" ? "冲销" : (r.vali_flag === "0" ? "已冲销" : "有效")]), null);
  }

  // -- clearing (清算): a small monthly aggregate of the row store's clearing tables -----------
  function ym(d) { return d.getFullYear() + String(d.getMonth() + 1).padStart(2, "0"); }
  async function loadClearing() {
    const now = new Date();
    const since = new Date(now.getFullYear(), now.getMonth() - 11, 1);
    try {
      const rows = await getJson("/api/v1/clearing/months?since=" + ym(since) + "&until=" + ym(now));
      const byMonth = {};
      rows.forEach((r) => { byMonth[r.setlym] = r; });
      const months = [];
      for (let i = 0; i < 12; i++) {
        const m = ym(new Date(since.getFullYear(), since.getMonth() + i, 1));
        months.push(byMonth[m] || { setlym: m });
      }
      const series = [["申报", "claimed"], ["审核通过", "approved"], ["扣款", "deducted"],
        ["暂扣保证金", "withheld"], ["已拨付", "paid"]];
      chart("chart-clearing").setOption(Object.assign({}, base, {
        tooltip: tooltipMoney,
        legend: { top: 0, data: series.map((s) => s[0]), textStyle: { fontFamily: FONT } },
        grid: { left: 80, right: 30, top: 40, bottom: 30 },
        xAxis: { type: "category", data: months.map((r) => r.setlym.slice(0, 4) + "-" + r.setlym.slice(4)) },
        yAxis: moneyAxis,
        series: series.map((s) => ({ name: s[0], type: "bar", barMaxWidth: 14, data: months.map((r) => num(r[s[1]])) })),
      }), true);
    } catch (err) {
      setText("clearing-note", "（清算数据暂不可用：" + err.message + "）");
    }
  }

  // -- live updates ------------------------------------------------------------------------
  async function refresh(force) {
    if (loading) return;
    loading = true;
    try {
      if (!force) {
        const pos = await getJson("/api/v1/analytics/position");
        if (pos.latest_seq <= shownSeq) return;
      }
      // bounded: every viewer shares one strong computation at most 500 ms old (analytics/shared.py)
      render(await getJson("/api/v1/analytics/dashboard?consistency=bounded&max_lag_ms=500"));
    } catch (err) {
      setText("position", "数据暂不可用：" + err.message);
    } finally {
      loading = false;
    }
  }

  window.addEventListener("resize", () => Object.values(charts).forEach((c) => c.resize()));
  refresh(true);
  loadClearing();
  setInterval(() => refresh(false), 1000);
  setInterval(() => { refresh(true); loadClearing(); }, 60000);
})();
