// 画像: a person's or an institution's portrait with its charts; a month drills down to the
// settlements of that month (/api/v1/settlements).
(function () {
  "use strict";
  const meta = document.querySelector('meta[name="yibao-portrait"]');
  const kind = meta.content;
  const key = meta.dataset.key;
  const KIND = { outpatient: "门诊", inpatient: "住院", pharmacy: "药店" };
  const charts = {};
  let last = null;

  function el(tag, text, cls) {
    const n = document.createElement(tag);
    if (text !== undefined && text !== null) n.textContent = String(text);
    if (cls) n.className = cls;
    return n;
  }
  function notice(msg, isError) {
    const box = document.getElementById("notice");
    box.textContent = msg; box.className = isError ? "notice error" : "notice"; box.hidden = false;
  }
  async function getJson(url) {
    const resp = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (resp.status === 401) { location.href = "/login?next=" + encodeURIComponent(location.pathname); throw new Error("signed out"); }
    const data = await resp.json().catch(() => ({}));
    if (!resp.ok) throw new Error(data.message || url + " → " + resp.status);
    return data;
  }
  function chart(id) {
    if (!charts[id]) charts[id] = echarts.init(document.getElementById(id), null, { renderer: "canvas" });
    return charts[id];
  }
  function fact(name, value) {
    const dl = document.getElementById("facts");
    dl.appendChild(el("dt", name)); dl.appendChild(el("dd", value));
  }
  function pct(v) { return v == null ? "—" : (v * 100).toFixed(1) + "%"; }
  function table(id, head, rows) {
    const t = document.getElementById(id);
    const tr = el("tr"); for (const h of head) tr.appendChild(el("th", h));
    t.tHead.replaceChildren(tr);
    const body = t.tBodies[0]; body.replaceChildren();
    for (const r of rows) { const row = el("tr"); for (const c of r) { if (c instanceof Node) { const td = el("td"); td.appendChild(c); row.appendChild(td); } else row.appendChild(el("td", c)); } body.appendChild(row); }
    if (!rows.length) { const row = el("tr"); const td = el("td", "无"); td.colSpan = head.length; row.appendChild(td); body.appendChild(row); }
  }
  function link(text, href) { const a = el("a", text); a.href = href; return a; }

  async function drill(month) {
    const [y, m] = month.split("-").map(Number);
    const since = month + "-01T00:00:00";
    const next = m === 12 ? (y + 1) + "-01" : y + "-" + String(m + 1).padStart(2, "0");
    const params = new URLSearchParams({ since, until: next + "-01T00:00:00", limit: "200" });
    params.set(kind === "person" ? "psn_no" : "fixmedins_code", key);
    const data = await getJson("/api/v1/settlements?" + params.toString());
    document.getElementById("drill-title").textContent = month + "：" + data.total + " 笔";
    const body = document.querySelector("#drill tbody"); body.replaceChildren();
    for (const s of data.items) {
      const tr = el("tr");
      for (const v of [s.setl_id, s.fixmedins_code, s.setl_time, s.medfee_sumamt, s.fund_pay_sumamt, s.psn_cash_pay]) tr.appendChild(el("td", v));
      body.appendChild(tr);
    }
  }

  function renderPerson(p) {
    const who = p.person;
    document.getElementById("heading").textContent = "参保人画像 · " + (who.psn_name || "") + " " + (who.certno || "");
    fact("个人编号", who.psn_no); fact("姓名", who.psn_name); fact("证件号", who.certno);
    fact("出生", who.brdy); fact("性别", who.gend === "1" ? "男" : who.gend === "2" ? "女" : who.gend);
    fact("就诊次数", p.totals.visits); fact("医疗费用", p.totals.medfee + " 元");
    fact("基金支付", p.totals.fund + " 元"); fact("个人账户", p.totals.acct + " 元");
    fact("个人现金", p.totals.cash + " 元"); fact("自费率", pct(p.totals.selfpay_share));
    fact("就诊机构", p.totals.institutions + " 家"); fact("夜间 / 周末", p.totals.night_visits + " / " + p.totals.weekend_visits);
    fact("慢特病", p.chronic_conditions.map((c) => c.dise_name || c.dise_codg).join("、") || "无");
    fact("风险评分", p.risk.score + "（" + p.risk.level + "）");
    const months = [...new Set(p.months.map((m) => m.month))];
    const series = Object.keys(KIND).map((k) => ({ name: KIND[k], type: "bar", stack: "v",
      data: months.map((mo) => { const r = p.months.find((x) => x.month === mo && x.visit_kind === k); return r ? r.visits : 0; }) }));
    const cost = months.map((mo) => Number(p.months.filter((x) => x.month === mo).reduce((s, x) => s + Number(x.medfee), 0).toFixed(2)));
    series.push({ name: "医疗费用", type: "line", yAxisIndex: 1, data: cost });
    document.getElementById("trend-title").textContent = "按月就诊次数与费用（点击查看结算）";
    chart("chart-trend").setOption({ tooltip: { trigger: "axis" }, legend: {}, xAxis: { type: "category", data: months },
      yAxis: [{ type: "value", name: "次" }, { type: "value", name: "元" }], series }, true);
    document.getElementById("left-title").textContent = "费用构成";
    chart("chart-left").setOption({ tooltip: { trigger: "item" }, series: [{ type: "pie", radius: ["35%", "65%"],
      data: [{ name: "基金支付", value: Number(p.totals.fund) }, { name: "个人账户", value: Number(p.totals.acct) }, { name: "个人现金", value: Number(p.totals.cash) }] }] }, true);
    document.getElementById("right-title").textContent = "风险评分构成";
    chart("chart-right").setOption({ tooltip: {},
      title: p.risk.reasons.length ? undefined : { text: "无风险因素（评分 0）", left: "center", top: "middle", textStyle: { fontSize: 14, color: "#5b6b66" } },
      xAxis: { type: "value", max: 100 }, yAxis: { type: "category", data: p.risk.reasons.map((r) => r.reason), axisLabel: { width: 200, overflow: "truncate" } },
      grid: { left: 210 }, series: [{ type: "bar", data: p.risk.reasons.map((r) => r.points) }] }, true);
    document.getElementById("list-title").textContent = "就诊机构";
    table("list", ["机构", "名称", "次数", "费用（元）", "最近"], p.institutions.map((i) =>
      [link(i.fixmedins_code, "/portraits/institutions/" + encodeURIComponent(i.fixmedins_code)), i.fixmedins_name || "", i.visits, i.medfee, i.last_visit]));
    table("hits", ["疑点号", "类别", "结果", "机构", "结算号", "金额（元）", "原因"], p.hits.map((h) => [h.hit_id, h.category, h.result_type, h.fixmedins_code, h.setl_id || "—", h.amount, h.reason || ""]));
    const cases = document.getElementById("cases"); cases.replaceChildren();
    for (const c of p.cases) { const li = el("li"); li.appendChild(link(c.case_id + " " + c.title + "（" + c.state + "）", "/cases/" + encodeURIComponent(c.case_id))); cases.appendChild(li); }
    return months;
  }

  function renderInstitution(p) {
    document.getElementById("heading").textContent = "机构画像 · " + (p.fixmedins_name || "") + " " + p.fixmedins_code;
    fact("机构类型 / 级别", p.kind + " / " + p.hosp_lv); fact("同类机构", p.peers + " 家");
    fact("结算人次", p.visits); fact("就诊人数", p.persons); fact("医疗费用", p.medfee + " 元"); fact("基金支付", p.fund + " 元");
    const months = p.trend.map((t) => t.month);
    document.getElementById("trend-title").textContent = "按月次均费用与结算人次（点击查看结算）";
    chart("chart-trend").setOption({ tooltip: { trigger: "axis" }, legend: {}, xAxis: { type: "category", data: months },
      yAxis: [{ type: "value", name: "元" }, { type: "value", name: "人次" }],
      series: [{ name: "次均费用", type: "line", data: p.trend.map((t) => t.cost_per_visit) },
               { name: "结算人次", type: "bar", yAxisIndex: 1, data: p.trend.map((t) => t.visits) }] }, true);
    document.getElementById("left-title").textContent = "同类机构中的百分位（越高越靠前）";
    const shown = p.indicators.filter((i) => i.percentile != null);
    chart("chart-left").setOption({ tooltip: {}, grid: { left: 110 }, xAxis: { type: "value", max: 100 },
      yAxis: { type: "category", data: shown.map((i) => i.name) }, series: [{ type: "bar", data: shown.map((i) => i.percentile) }] }, true);
    document.getElementById("right-title").textContent = "药占比与耗占比";
    chart("chart-right").setOption({ tooltip: { trigger: "axis" }, legend: {}, xAxis: { type: "category", data: months },
      yAxis: { type: "value", axisLabel: { formatter: (v) => (v * 100).toFixed(0) + "%" } },
      series: [{ name: "药占比", type: "line", data: p.trend.map((t) => t.drug_share) }, { name: "耗占比", type: "line", data: p.trend.map((t) => t.consumable_share) }] }, true);
    document.getElementById("list-title").textContent = "指标";
    table("list", ["指标", "本机构", "同类中位数", "百分位"], p.indicators.map((i) => {
      const money = i.key.endsWith("per_visit") || i.key === "avg_los" || i.key === "visits_per_person";
      return [i.name, i.value == null ? "—" : money ? i.value : pct(i.value), i.peer_median == null ? "—" : money ? i.peer_median : pct(i.peer_median), i.percentile == null ? "—" : i.percentile];
    }));
    table("hits", ["类别", "结果", "疑点数", "金额（元）"], p.hits.map((h) => [h.category, h.result_type, h.hits, h.amount]));
    const cases = document.getElementById("cases"); cases.replaceChildren();
    for (const c of p.cases) { const li = el("li"); li.appendChild(link(c.case_id + " " + c.title + "（" + c.state + "）", "/cases/" + encodeURIComponent(c.case_id))); cases.appendChild(li); }
    return months;
  }

  async function load() {
    const form = document.getElementById("controls");
    const params = new URLSearchParams();
    for (const [k, v] of new FormData(form)) if (v) params.set(k, v);
    const base = kind === "person" ? "/api/v1/portraits/persons/" : "/api/v1/portraits/institutions/";
    const p = await getJson(base + encodeURIComponent(key) + "?" + params.toString());
    document.getElementById("facts").replaceChildren();
    document.getElementById("period").textContent = p.period.since + " 至 " + p.period.until;
    const months = kind === "person" ? renderPerson(p) : renderInstitution(p);
    chart("chart-trend").off("click");
    chart("chart-trend").on("click", (e) => drill(months[e.dataIndex]).catch((err) => notice(err.message, true)));
    last = months;
    if (months.length) await drill(months[months.length - 1]);
  }

  if (kind === "person" && meta.dataset.canUnmask === "1") document.getElementById("unmask-box").hidden = false;
  document.getElementById("controls").addEventListener("submit", (e) => { e.preventDefault(); load().catch((err) => notice(err.message, true)); });
  window.addEventListener("resize", () => { for (const c of Object.values(charts)) c.resize(); });
  load().catch((err) => notice(err.message, true));
  void last;
})();
