// 稽核案件: the reviewer's work queue (/cases) and a case's evidence and steps (/cases/{id}).
(function () {
  "use strict";
  const meta = document.querySelector('meta[name="yibao-page"]');
  const page = meta.content;
  const caseId = meta.dataset.caseId;
  const canWork = meta.dataset.canWork === "1";
  const canAppeal = meta.dataset.canAppeal === "1";
  const canHits = meta.dataset.canHits === "1";
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const STATE = { open: "待审", first_review: "初审", second_review: "复审", notified: "已告知机构",
    appealed: "机构已申诉", appeal_review: "申诉复核", investigation: "调查", decided: "已处理" };
  const DECISION = { recover: "追回", deduct: "扣款", dismiss: "不予处理" };

  function el(tag, text, cls) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (cls) node.className = cls;
    return node;
  }
  function notice(message, isError) {
    const box = document.getElementById("notice");
    box.textContent = message;
    box.className = isError ? "notice error" : "notice";
    box.hidden = false;
  }
  async function api(method, url, body, isForm) {
    const headers = { Accept: "application/json" };
    if (method !== "GET") headers["X-CSRF-Token"] = csrf;
    let payload;
    if (body !== undefined) {
      if (isForm) { payload = body; } else { headers["Content-Type"] = "application/json"; payload = JSON.stringify(body); }
    }
    const resp = await fetch(url, { method, credentials: "same-origin", headers, body: payload });
    if (resp.status === 401) { window.location.href = "/login?next=" + encodeURIComponent(location.pathname); throw new Error("signed out"); }
    const data = await resp.json().catch(() => ({}));
    if (!resp.ok) throw new Error(data.message || (url + " → " + resp.status));
    return data;
  }

  // -- the queue -------------------------------------------------------------------------------
  async function loadQueue() {
    const form = document.getElementById("filters");
    const params = new URLSearchParams();
    for (const [k, v] of new FormData(form)) if (v) params.set(k, v);
    const data = await api("GET", "/api/v1/cases?" + params.toString());
    document.getElementById("queue-count").textContent = "共 " + data.total + " 件";
    const body = document.querySelector("#case-table tbody");
    body.replaceChildren();
    for (const c of data.items) {
      const tr = el("tr", undefined, c.overdue ? "link overdue" : "link");
      const link = el("a", c.case_id); link.href = "/cases/" + encodeURIComponent(c.case_id);
      const first = el("td"); first.appendChild(link); tr.appendChild(first);
      tr.appendChild(el("td", c.fixmedins_code));
      tr.appendChild(el("td", c.categories.join("、"), "text"));
      const st = el("td"); st.appendChild(el("span", c.state_name, c.overdue ? "badge overdue" : "badge")); tr.appendChild(st);
      tr.appendChild(el("td", c.assignee || "—"));
      tr.appendChild(el("td", (c.deadline || "—") + (c.overdue ? "（超期）" : "")));
      tr.appendChild(el("td", c.amount_at_stake));
      tr.appendChild(el("td", c.decision ? c.decision_name + " " + (c.decision_amount || "") : "—"));
      tr.addEventListener("click", (e) => { if (e.target.tagName !== "A") location.href = link.href; });
      body.appendChild(tr);
    }
  }

  async function loadHits() {
    const data = await api("GET", "/api/v1/cases/hits?limit=200");
    document.getElementById("hits-count").textContent = "共 " + data.total + " 条";
    const body = document.querySelector("#hit-table tbody");
    body.replaceChildren();
    for (const h of data.items) {
      const tr = el("tr");
      const box = el("input"); box.type = "checkbox"; box.value = h.hit_id; box.dataset.inst = h.fixmedins_code;
      const cell = el("td"); cell.appendChild(box); tr.appendChild(cell);
      for (const v of [h.hit_id, h.fixmedins_code, h.category, h.rule_id, h.setl_id || "—", h.amount]) tr.appendChild(el("td", v));
      tr.appendChild(el("td", h.reason || "", "text"));
      tr.appendChild(el("td", h.detected_at));
      body.appendChild(tr);
    }
  }

  // -- one case --------------------------------------------------------------------------------
  function fact(dl, name, value) { dl.appendChild(el("dt", name)); dl.appendChild(el("dd", value)); }

  function render(c) {
    document.getElementById("case-title").textContent = c.case_id + " · " + c.title;
    const facts = document.getElementById("case-facts");
    facts.replaceChildren();
    fact(facts, "机构", c.fixmedins_code);
    fact(facts, "状态", c.state_name + (c.overdue ? "（超期）" : ""));
    fact(facts, "承办人", c.assignee || "—");
    fact(facts, "期限", c.deadline || "—");
    fact(facts, "疑点期间", c.period_begin + " 至 " + c.period_end);
    fact(facts, "疑点金额", c.amount_at_stake + " 元");
    fact(facts, "处理结果", c.decision ? c.decision_name + " " + c.decision_amount + " 元" : "—");
    fact(facts, "疑点类别", c.categories.join("、"));
    const ev = document.querySelector("#evidence-table tbody");
    ev.replaceChildren();
    for (const h of c.hits) {
      let detail = {};
      try { detail = JSON.parse(h.evidence); } catch (e) { detail = { raw: h.evidence }; }
      const tr = el("tr");
      for (const v of [h.hit_id, h.rule_id, h.category, h.stage, h.setl_id || "—", h.amount,
                       detail.threshold == null ? "—" : detail.threshold,
                       detail.value_found == null ? "—" : detail.value_found]) tr.appendChild(el("td", v));
      const td = el("td", undefined, "text");
      td.appendChild(el("div", detail.reason || ""));
      td.appendChild(el("pre", JSON.stringify(detail.detail || {}, null, 1), "detail"));
      tr.appendChild(td);
      ev.appendChild(tr);
    }
    const steps = document.getElementById("steps");
    steps.replaceChildren();
    for (const s of c.steps) {
      let text = s.at + " " + s.actor + "（" + s.actor_role + "）";
      if (s.kind === "transition") text += " " + (s.from_state ? STATE[s.from_state] + " → " : "") + STATE[s.to_state];
      if (s.kind === "assign") text += " 指派给 " + s.assignee;
      if (s.kind === "attach") text += " 上传附件";
      if (s.decision) text += " · " + DECISION[s.decision] + " " + s.amount + " 元";
      if (s.comment) text += " · " + s.comment;
      steps.appendChild(el("li", text));
    }
    const files = document.getElementById("files");
    files.replaceChildren();
    for (const f of c.files) {
      const li = el("li"); const a = el("a", f.filename + "（" + f.size + " 字节，" + f.uploaded_by + "）");
      a.href = "/api/v1/cases/" + encodeURIComponent(c.case_id) + "/files/" + encodeURIComponent(f.file_id);
      li.appendChild(a); files.appendChild(li);
    }
    if (!c.files.length) files.appendChild(el("li", "无"));
    const actions = document.getElementById("actions");
    actions.hidden = !(canWork && c.next_states.length);
    const select = document.querySelector("#transition select[name=to]");
    select.replaceChildren();
    for (const s of c.next_states) if (s !== "appealed") { const o = el("option", STATE[s]); o.value = s; select.appendChild(o); }
    toggleDecision();
    const appeal = document.getElementById("appeal");
    appeal.hidden = !(canAppeal && (c.state === "notified" || c.state === "appealed"));
    document.getElementById("appeal-form").hidden = c.state !== "notified";
    document.getElementById("appeal-deadline").textContent = c.deadline ? "申诉截止 " + c.deadline : "";
  }
  function toggleDecision() {
    const decided = document.querySelector("#transition select[name=to]").value === "decided";
    for (const node of document.querySelectorAll(".decided-only")) node.hidden = !decided;
  }

  async function loadCase() {
    render(await api("GET", "/api/v1/cases/" + encodeURIComponent(caseId)));
  }

  function onSubmit(id, handler) {
    document.getElementById(id).addEventListener("submit", async (event) => {
      event.preventDefault();
      try { await handler(event.target); } catch (err) { notice(err.message, true); }
    });
  }

  if (page === "queue") {
    document.getElementById("queue").hidden = false;
    onSubmit("filters", loadQueue);
    loadQueue().catch((e) => notice(e.message, true));
    if (canHits && canWork) {
      document.getElementById("hits").hidden = false;
      loadHits().catch((e) => notice(e.message, true));
      onSubmit("open-case", async (form) => {
        const ids = [...document.querySelectorAll("#hit-table input:checked")].map((b) => b.value);
        if (!ids.length) { notice("请先勾选疑点", true); return; }
        const made = await api("POST", "/api/v1/cases", { hit_ids: ids, title: form.title.value || null });
        location.href = "/cases/" + encodeURIComponent(made.case_id);
      });
    }
  } else {
    document.getElementById("case").hidden = false;
    document.querySelector("#transition select[name=to]").addEventListener("change", toggleDecision);
    onSubmit("transition", async (form) => {
      const body = { to: form.to.value, comment: form.comment.value || null };
      if (form.assignee.value) body.assignee = form.assignee.value;
      if (body.to === "decided") { body.decision = form.decision.value || null; if (form.amount.value) body.amount = form.amount.value; }
      render(await api("POST", "/api/v1/cases/" + encodeURIComponent(caseId) + "/transitions", body));
      form.reset(); notice("已提交：" + STATE[body.to]);
    });
    onSubmit("appeal-form", async (form) => {
      render(await api("POST", "/api/v1/cases/" + encodeURIComponent(caseId) + "/appeal", { reasons: form.reasons.value }));
      notice("申诉已提交");
    });
    for (const [id, path] of [["attach", "/files"], ["appeal-attach", "/appeal/files"]]) {
      onSubmit(id, async (form) => {
        if (!form.file.files.length) { notice("请选择文件", true); return; }
        const data = new FormData(); data.append("file", form.file.files[0]);
        render(await api("POST", "/api/v1/cases/" + encodeURIComponent(caseId) + path, data, true));
        form.reset(); notice("附件已上传");
      });
    }
    loadCase().catch((e) => notice(e.message, true));
  }
})();
