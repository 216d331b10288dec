// vnqa web page: ask (streamed from /v1/chat/completions), summarize, upload.
"use strict";

const KEY_STORAGE = "vnqa-api-key";
const $ = (id) => document.getElementById(id);
let history = []; // earlier user questions and answers, for follow-ups
let pendingRetry = null;

// ---- API key: asked for only when the server answers 401 ----------------------
function authHeaders(extra = {}) {
  const key = localStorage.getItem(KEY_STORAGE);
  return key ? { ...extra, Authorization: `Bearer ${key}` } : extra;
}

function needKey(retry) {
  pendingRetry = retry;
  $("key-panel").hidden = false;
  $("api-key").focus();
}

$("key-form").addEventListener("submit", (event) => {
  event.preventDefault();
  localStorage.setItem(KEY_STORAGE, $("api-key").value.trim());
  $("key-panel").hidden = true;
  if (pendingRetry) { const retry = pendingRetry; pendingRetry = null; retry(); }
});

async function errorText(response) {
  try {
    const body = await response.json();
    return (body.error && body.error.message) || JSON.stringify(body);
  } catch {
    return `${response.status} ${response.statusText}`;
  }
}

// ---- tabs ----------------------------------------------------------------------
const tabs = Array.from(document.querySelectorAll('[role="tab"]'));
function selectTab(tab) {
  for (const t of tabs) {
    const selected = t === tab;
    t.setAttribute("aria-selected", String(selected));
    t.tabIndex = selected ? 0 : -1;
    $(t.getAttribute("aria-controls")).hidden = !selected;
  }
}
tabs.forEach((tab, i) => {
  tab.addEventListener("click", () => selectTab(tab));
  tab.addEventListener("keydown", (event) => {
    const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
    let next = null;
    if (step) next = tabs[(i + step + tabs.length) % tabs.length];
    if (event.key === "Home") next = tabs[0];
    if (event.key === "End") next = tabs[tabs.length - 1];
    if (next) { event.preventDefault(); selectTab(next); next.focus(); }
  });
});

// ---- ask -----------------------------------------------------------------------
function renderAnswer(text) {
  // The summary, with [n] turned into links to the passages; the source list that
  // follows "Nguồn:" is shown as the passage cards instead.
  const summary = text.split("\n\nNguồn:")[0];
  const box = $("answer");
  box.replaceChildren();
  for (const part of summary.split(/(\[\d+\])/)) {
    const m = part.match(/^\[(\d+)\]$/);
    if (m) {
      const a = document.createElement("a");
      a.href = `#passage-${m[1]}`;
      a.className = "cite";
      a.textContent = part;
      a.setAttribute("aria-label", `nguồn ${m[1]}`);
      box.append(a);
    } else {
      box.append(document.createTextNode(part));
    }
  }
}

function renderPassages(passages) {
  const list = $("passages");
  list.replaceChildren();
  passages.forEach((p, i) => {
    const li = document.createElement("li");
    li.id = `passage-${i + 1}`;
    const h = document.createElement("h3");
    const num = document.createElement("span");
    num.className = "num";
    num.textContent = `[${i + 1}]`;
    h.append(num, document.createTextNode(p.title || p.article_id));
    const src = document.createElement("p");
    src.className = "src";
    src.textContent = [p.date, p.source, `bài ${p.article_id}`].filter(Boolean).join(" · ");
    if (p.url) {
      const a = document.createElement("a");
      a.href = p.url;
      a.textContent = "bài gốc";
      a.rel = "noopener";
      src.append(" · ", a);
    }
    const text = document.createElement("p");
    text.className = "text";
    const lo = p.highlight[0] - p.start;
    const hi = p.highlight[1] - p.start;
    const mark = document.createElement("mark");
    mark.textContent = p.text.slice(lo, hi);
    text.append(p.text.slice(0, lo), mark, p.text.slice(hi));
    li.append(h, src, text);
    list.append(li);
  });
  $("passages-card").hidden = passages.length === 0;
}

async function ask(question) {
  const button = $("ask-button");
  const status = $("answer-status");
  const answer = $("answer");
  const messages = $("follow-up").checked ? [...history] : [];
  messages.push({ role: "user", content: question });
  const topK = parseInt($("top-k").value, 10) || 5;

  button.disabled = true;
  $("answer-card").hidden = false;
  status.className = "status";
  status.textContent = "Đang tìm các đoạn liên quan…";
  answer.replaceChildren();
  answer.setAttribute("aria-busy", "true");
  $("answer-meta").textContent = "";
  renderPassages([]);

  let text = "";
  const started = performance.now();
  let firstToken = null;
  try {
    const response = await fetch("/v1/chat/completions", {
      method: "POST",
      headers: authHeaders({ "Content-Type": "application/json" }),
      body: JSON.stringify({ model: "vnqa", stream: true, messages, top_k: topK }),
    });
    if (response.status === 401) {
      status.textContent = "Cần khoá API để hỏi.";
      needKey(() => ask(question));
      return;
    }
    if (!response.ok) throw new Error(await errorText(response));

    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    let meta = null;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const event = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        for (const line of event.split("\n")) {
          if (!line.startsWith("data:")) continue;
          const data = line.slice(5).trim();
          if (data === "[DONE]") continue;
          const chunk = JSON.parse(data);
          if (chunk.error) throw new Error(chunk.error.message);
          if (chunk.vnqa) { meta = chunk.vnqa; renderPassages(meta.passages); }
          const delta = chunk.choices && chunk.choices[0] && chunk.choices[0].delta;
          if (delta && delta.content) {
            if (firstToken === null) {
              firstToken = performance.now();
              status.textContent = "Đang viết câu trả lời…";
            }
            text += delta.content;
            renderAnswer(text);
          }
        }
      }
    }
    status.textContent = "";
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    if (meta) {
      const how = meta.summary_method === "abstractive" ? "tóm tắt bằng mô hình" : "trích câu";
      $("answer-meta").textContent = `${how} · ${meta.model} · ${seconds} giây`;
    }
    history = [...messages, { role: "assistant", content: text }].slice(-6);
  } catch (err) {
    status.className = "status error";
    status.textContent = `Lỗi: ${err.message}`;
  } finally {
    answer.setAttribute("aria-busy", "false");
    button.disabled = false;
  }
}

$("ask-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const question = $("question").value.trim();
  if (question) ask(question);
});

// ---- summarize -----------------------------------------------------------------
async function summarize() {
  const card = $("summary-card");
  const out = $("summary");
  card.hidden = false;
  out.className = "";
  out.textContent = "Đang tóm tắt…";
  $("summary-meta").textContent = "";
  const response = await fetch("/v1/summarize", {
    method: "POST",
    headers: authHeaders({ "Content-Type": "application/json" }),
    body: JSON.stringify({
      text: $("summarize-text").value,
      max_words: parseInt($("max-words").value, 10) || 60,
    }),
  });
  if (response.status === 401) { out.textContent = "Cần khoá API."; needKey(summarize); return; }
  if (!response.ok) { out.className = "error"; out.textContent = `Lỗi: ${await errorText(response)}`; return; }
  const body = await response.json();
  out.textContent = body.summary.text;
  const how = body.summary.method === "abstractive" ? "tóm tắt bằng mô hình" : "trích câu";
  $("summary-meta").textContent = `${how} · ${body.summary.model}`;
}
$("summarize-form").addEventListener("submit", (event) => { event.preventDefault(); summarize(); });

// ---- upload --------------------------------------------------------------------
async function upload() {
  const file = $("upload-file").files[0];
  if (!file) return;
  const card = $("upload-card");
  const out = $("upload-result");
  card.hidden = false;
  out.className = "";
  out.textContent = `Đang nạp ${file.name}…`;
  const form = new FormData();
  form.append("file", file, file.name);
  const response = await fetch("/v1/articles/upload", { method: "POST", headers: authHeaders(), body: form });
  if (response.status === 401) { out.textContent = "Cần khoá API."; needKey(upload); return; }
  if (!response.ok) { out.className = "error"; out.textContent = `Lỗi: ${await errorText(response)}`; return; }
  const body = await response.json();
  const list = document.createElement("ul");
  for (const a of body.articles) {
    const li = document.createElement("li");
    li.textContent = `${a.id}: ${a.chunks} đoạn${a.replaced ? " (thay bài cũ)" : ""}`;
    list.append(li);
  }
  out.replaceChildren(document.createTextNode(`Đã nạp ${body.articles.length} bài.`), list);
}
$("upload-form").addEventListener("submit", (event) => { event.preventDefault(); upload(); });
