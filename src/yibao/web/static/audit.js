// 审计日志: reads /api/v1/audit (filters, paging) and /api/v1/audit/chain (is the hash chain
// intact?). Every value is set as text, never as HTML.
"use strict";

(function () {
  const LIMIT = 50;
  let offset = 0;
  let total = 0;

  function el(id) { return document.getElementById(id); }
  function cell(row, text, cls) {
    const td = document.createElement("td");
    td.textContent = text === null || text === undefined ? "" : String(text);
    if (cls) td.className = cls;
    row.appendChild(td);
  }
  function showError(message) {
    const box = el("error");
    box.textContent = message || "";
    box.hidden = !message;
  }
  async function getJson(url) {
    const r = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (r.status === 401) { location.href = "/login?next=" + encodeURIComponent("/audit"); return null; }
    const body = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error(body.message || ("HTTP " + r.status));
    return body;
  }
  function query() {
    const params = new URLSearchParams();
    for (const [k, v] of new FormData(el("filters")).entries()) {
      if (String(v).trim()) params.set(k, String(v).trim());
    }
    params.set("limit", String(LIMIT));
    params.set("offset", String(offset));
    return params.toString();
  }
  async function load() {
    showError("");
    let page;
    try {
      page = await getJson("/api/v1/audit?" + query());
    } catch (err) { showError(err.message); return; }
    if (!page) return;
    total = page.total;
    const body = el("rows");
    body.replaceChildren();
    for (const item of page.items) {
      const tr = document.createElement("tr");
      cell(tr, item.chain_seq);
      cell(tr, String(item.at).replace("T", " ").slice(0, 19));
      cell(tr, item.actor);
      cell(tr, item.tenant);
      cell(tr, item.role);
      cell(tr, item.address);
      cell(tr, item.action);
      cell(tr, item.target);
      cell(tr, item.records);
      cell(tr, item.purpose);
      cell(tr, item.detail ? JSON.stringify(item.detail) : "", "detail");
      body.appendChild(tr);
    }
    el("count").textContent = "共 " + total + " 条";
    const last = Math.min(offset + page.items.length, total);
    el("page").textContent = total ? (offset + 1) + "–" + last : "无记录";
    el("prev").disabled = offset === 0;
    el("next").disabled = offset + LIMIT >= total;
  }
  // The walk reads the whole trail (it takes seconds on millions of records): on demand.
  async function chain() {
    const line = el("chain");
    line.textContent = "正在校验审计链…";
    line.classList.remove("bad");
    try {
      const state = await getJson("/api/v1/audit/chain");
      if (!state) return;
      line.textContent = state.ok
        ? "审计链完整: 第 " + (state.start_seq + 1) + "–" + state.head_seq + " 条已校验"
        : "审计链被篡改: " + state.message;
      line.classList.toggle("bad", !state.ok);
    } catch (err) { line.textContent = "审计链校验失败: " + err.message; line.classList.add("bad"); }
  }
  el("filters").addEventListener("submit", (e) => { e.preventDefault(); offset = 0; load(); });
  el("prev").addEventListener("click", () => { offset = Math.max(0, offset - LIMIT); load(); });
  el("next").addEventListener("click", () => { offset += LIMIT; load(); });
  el("verify").addEventListener("click", chain);
  load();
})();
