var __defProp = Object.defineProperty;
var __defNormalProp = (obj, key, value) => key in obj ? __defProp(obj, key, { enumerable: true, configurable: true, writable: true, value }) : obj[key] = value;
var __publicField = (obj, key, value) => __defNormalProp(obj, typeof key !== "symbol" ? key + "" : key, value);

// src/backoff.ts
var Backoff = class {
  constructor(options = {}) {
    __publicField(this, "baseMs");
    __publicField(this, "maxMs");
    __publicField(this, "factor");
    __publicField(this, "jitter");
    const { baseMs = 1e3, maxMs = 1e4, factor = 2, jitter = 0.5 } = options;
    if (!(Number.isFinite(baseMs) && baseMs > 0)) throw new RangeError("baseMs must be a positive number");
    if (!(Number.isFinite(maxMs) && maxMs >= baseMs)) throw new RangeError("maxMs must be at least baseMs");
    if (!(Number.isFinite(factor) && factor >= 1)) throw new RangeError("factor must be at least 1");
    if (!(jitter >= 0 && jitter <= 1)) throw new RangeError("jitter must be between 0 and 1");
    this.baseMs = baseMs;
    this.maxMs = maxMs;
    this.factor = factor;
    this.jitter = jitter;
  }
  /** The delay before attempt `attempt` (from 1), in ms; `random` is uniform in [0, 1). */
  delay(attempt, random = Math.random()) {
    const raw = this.baseMs * Math.pow(this.factor, Math.max(0, Math.min(attempt - 1, 64)));
    const capped = Math.min(raw, this.maxMs);
    return Math.round(capped * (1 - this.jitter * Math.min(Math.max(random, 0), 1)));
  }
};

// src/events.ts
var NAMES = {
  "generation-start": true,
  "reasoning-start": true,
  "reasoning-step": true,
  "reasoning-complete": true,
  "block-start": true,
  "block-content": true,
  "block-complete": true,
  "image-placeholder": true,
  "image-ready": true,
  "persist-start": true,
  "persist-complete": true,
  "generation-complete": true,
  error: true
};
var EVENT_NAMES = Object.keys(NAMES);
var STAGE_INTERRUPTED = "interrupted";
var STAGE_CANCELLED = "cancelled";
function isTerminal(name, data) {
  if (name === "generation-complete") return true;
  if (name === "error") {
    const e = data;
    return !e.recoverable || e.stage === STAGE_INTERRUPTED;
  }
  return false;
}
function seqOf(id) {
  const m = /:(\d{1,15})$/.exec(id);
  return m ? Number(m[1]) : null;
}

// src/connect.ts
function base() {
  return globalThis.location?.href ?? "http://localhost/";
}
function withLastEventId(url, id) {
  const u = new URL(url, base());
  u.searchParams.set("lastEventId", id);
  return u.toString();
}
function snapshotFor(url, lastEventId) {
  const stream = lastEventId?.replace(/:\d+$/, "");
  const u = new URL(url, base());
  if (stream) return new URL(`/v1/generations/${encodeURIComponent(stream)}`, u).toString();
  const m = /^(.*\/v1\/(?:generations|streams)\/[^/]+)\/events$/.exec(u.pathname);
  return m ? new URL(m[1].replace("/v1/streams/", "/v1/generations/"), u).toString() : null;
}
function connect(url, handlers2, options = {}) {
  const ES = options.EventSource ?? globalThis.EventSource;
  const doFetch = options.fetch ?? (globalThis.fetch ? globalThis.fetch.bind(globalThis) : void 0);
  const doc = options.document !== void 0 ? options.document : typeof document !== "undefined" ? document : null;
  const setT = options.setTimeout ?? ((f, ms) => setTimeout(f, ms));
  const clearT = options.clearTimeout ?? ((t) => clearTimeout(t));
  const random = options.random ?? Math.random;
  const maxAttempts = options.maxAttempts ?? 3;
  const backoff2 = options.backoff ?? new Backoff();
  let lastEventId = options.lastEventId ?? null;
  let lastSeq = lastEventId ? seqOf(lastEventId) ?? 0 : 0;
  let source = null;
  let timer = null;
  let attempts = 0;
  let letBrowserRetry = true;
  let lostWhileHidden = false;
  let closed = false;
  const finish = () => {
    closed = true;
    source?.close();
    source = null;
    if (timer !== null) clearT(timer);
    timer = null;
    doc?.removeEventListener("visibilitychange", onVisibility);
  };
  const giveUp = (message, code) => {
    if (closed) return;
    finish();
    handlers2.onFatal?.(message, code);
  };
  const onMessage = (name, e) => {
    if (closed) return;
    const id = e.lastEventId;
    const seq = seqOf(id);
    if (seq !== null && seq <= lastSeq) return;
    if (seq !== null) lastSeq = seq;
    if (id) lastEventId = id;
    attempts = 0;
    letBrowserRetry = true;
    let data;
    try {
      data = JSON.parse(e.data);
    } catch {
      return;
    }
    const handler = handlers2[name];
    handler?.(data, id);
    if (isTerminal(name, data)) {
      finish();
      handlers2.onEnd?.();
    }
  };
  const reopenAfter = (delay) => {
    const snapshotUrl = options.snapshotUrl !== void 0 ? options.snapshotUrl : snapshotFor(url, lastEventId);
    const schedule = () => {
      if (!closed) timer = setT(open, delay);
    };
    if (!snapshotUrl || !doFetch) return schedule();
    doFetch(snapshotUrl, { headers: { accept: "application/json" } }).then(
      async (res) => {
        if (closed) return;
        if (res.status === 404 || res.status === 410) {
          const body = await res.json().catch(() => null);
          const gone = res.status === 410 ? "This stream has expired." : "This stream no longer exists.";
          return giveUp(body?.error?.message ? `${gone} (${body.error.message})` : gone, res.status === 410 ? "expired" : "not_found");
        }
        if (res.ok) {
          const snap = await res.json().catch(() => null);
          if (snap && snap.status !== "running" && snap.lastEventId === lastEventId) {
            finish();
            return handlers2.onEnd?.();
          }
        }
        schedule();
      },
      // The server is unreachable: keep backing off.
      schedule
    );
  };
  const onConnectionError = (failed) => {
    if (closed || failed !== source) return;
    if (doc?.hidden) {
      failed.close();
      source = null;
      lostWhileHidden = true;
      return;
    }
    attempts += 1;
    if (attempts > maxAttempts) {
      return giveUp(`The connection was lost and ${maxAttempts} attempts to resume failed.`, "gave_up");
    }
    if (failed.readyState === ES.CONNECTING && letBrowserRetry) {
      letBrowserRetry = false;
      handlers2.onReconnecting?.(attempts, 0);
      return;
    }
    failed.close();
    source = null;
    const delay = backoff2.delay(attempts, random());
    handlers2.onReconnecting?.(attempts, delay);
    reopenAfter(delay);
  };
  function open() {
    timer = null;
    if (closed) return;
    const es = new ES(lastEventId ? withLastEventId(url, lastEventId) : url);
    source = es;
    es.onopen = () => handlers2.onOpen?.();
    for (const name of EVENT_NAMES) {
      if (name !== "error") es.addEventListener(name, (e) => onMessage(name, e));
    }
    es.addEventListener("error", (e) => {
      if (typeof e.data === "string") onMessage("error", e);
      else onConnectionError(es);
    });
  }
  function onVisibility() {
    if (!doc?.hidden && lostWhileHidden && !closed) {
      lostWhileHidden = false;
      attempts = 0;
      letBrowserRetry = true;
      open();
    }
  }
  doc?.addEventListener("visibilitychange", onVisibility);
  open();
  return {
    close: finish,
    get lastEventId() {
      return lastEventId;
    },
    get closed() {
      return closed;
    }
  };
}

// src/render.ts
function skeleton(doc) {
  const s = doc.createElement("div");
  s.className = "ssekit-skeleton";
  s.setAttribute("aria-hidden", "true");
  for (const [cls, width] of [["ssekit-skeleton-title", "40%"], ["ssekit-skeleton-line", "92%"], ["ssekit-skeleton-line", "76%"], ["ssekit-skeleton-line", "84%"]]) {
    const line = doc.createElement("div");
    line.className = `${cls} ssekit-pulse`;
    line.style.width = width;
    s.appendChild(line);
  }
  return s;
}
function renderSkeletons(container, total) {
  for (let i = 0; i < total; i++) blockElement(container, i);
}
function blockElement(container, index) {
  const doc = container.ownerDocument;
  let el = container.querySelector(`:scope > [data-block-index="${index}"]`);
  if (el) return el;
  el = doc.createElement("article");
  el.className = "ssekit-block";
  el.dataset.blockIndex = String(index);
  el.dataset.status = "pending";
  el.setAttribute("aria-busy", "true");
  el.appendChild(skeleton(doc));
  const next = [...container.querySelectorAll(":scope > [data-block-index]")].find(
    (b) => Number(b.dataset.blockIndex) > index
  );
  container.insertBefore(el, next ?? null);
  return el;
}
function renderBlock(container, block, resolve2 = (u) => u) {
  const el = blockElement(container, block.index);
  const doc = container.ownerDocument;
  const hasContent = block.title !== null || block.html !== "";
  el.dataset.status = block.status;
  el.setAttribute("aria-busy", String(block.status !== "complete"));
  if (!hasContent) return el;
  let body = el.querySelector(":scope > .ssekit-block-body");
  if (!body) {
    el.replaceChildren();
    el.classList.add("ssekit-fade-in");
    const title2 = doc.createElement("h2");
    title2.className = "ssekit-block-title";
    body = doc.createElement("div");
    body.className = "ssekit-block-body";
    const images2 = doc.createElement("div");
    images2.className = "ssekit-block-images";
    el.append(title2, body, images2);
  }
  const title = el.querySelector(":scope > .ssekit-block-title");
  if (title.textContent !== (block.title ?? "")) title.textContent = block.title ?? "";
  if (body.innerHTML !== block.html) body.innerHTML = block.html;
  const images = el.querySelector(":scope > .ssekit-block-images");
  for (const img of block.images) {
    let fig = images.querySelector(`:scope > [data-image-id="${CSS.escape(img.imageId)}"]`);
    if (!fig) {
      fig = doc.createElement("figure");
      fig.className = "ssekit-image";
      fig.dataset.imageId = img.imageId;
      images.appendChild(fig);
    }
    if (img.url && !fig.querySelector("img")) {
      const image = doc.createElement("img");
      const src = resolve2(img.url);
      let retries = 0;
      image.addEventListener("error", () => {
        if (++retries > 3) return;
        setTimeout(() => image.src = `${src}${src.includes("?") ? "&" : "?"}retry=${retries}`, 400 * retries);
      });
      image.src = src;
      image.alt = img.alt;
      image.className = "ssekit-fade-in";
      fig.replaceChildren(image);
      fig.dataset.status = "ready";
      fig.removeAttribute("aria-busy");
    } else if (!img.url && !fig.firstChild) {
      const ph = doc.createElement("div");
      ph.className = "ssekit-image-placeholder ssekit-pulse";
      ph.textContent = img.alt;
      fig.appendChild(ph);
      fig.dataset.status = "pending";
      fig.setAttribute("aria-busy", "true");
    }
  }
  return el;
}

// src/state.ts
function defaultStorage() {
  try {
    return typeof sessionStorage !== "undefined" ? sessionStorage : null;
  } catch {
    return null;
  }
}
var GenerationState = class _GenerationState {
  constructor(options = {}) {
    __publicField(this, "status", "idle");
    __publicField(this, "sessionId", null);
    __publicField(this, "lastEventId", null);
    __publicField(this, "eventsUrl", null);
    __publicField(this, "apiBase", null);
    __publicField(this, "totalBlocks", 0);
    __publicField(this, "blocks", /* @__PURE__ */ new Map());
    __publicField(this, "reasoning", []);
    __publicField(this, "documentUrl", null);
    __publicField(this, "error", null);
    __publicField(this, "startedAt", null);
    __publicField(this, "finishedAt", null);
    __publicField(this, "storage");
    __publicField(this, "key");
    __publicField(this, "ttlMs");
    __publicField(this, "now");
    this.storage = options.storage !== void 0 ? options.storage : defaultStorage();
    this.key = options.key ?? "ssekit-generation";
    this.ttlMs = options.ttlMs ?? 5 * 60 * 1e3;
    this.now = options.now ?? Date.now;
  }
  /** Starts tracking a new generation (clears the old one). */
  begin(eventsUrl, apiBase = null) {
    this.reset();
    this.status = "generating";
    this.eventsUrl = eventsUrl;
    this.apiBase = apiBase;
    this.startedAt = this.now();
    this.persist();
  }
  /** Blocks in order. */
  orderedBlocks() {
    return [...this.blocks.values()].sort((a, b) => a.index - b.index);
  }
  /** How many blocks are complete. */
  get completedBlocks() {
    let n = 0;
    for (const b of this.blocks.values()) if (b.status === "complete") n++;
    return n;
  }
  block(index) {
    let b = this.blocks.get(index);
    if (!b) {
      b = { index, blockId: null, title: null, html: "", status: "pending", images: [] };
      this.blocks.set(index, b);
    }
    return b;
  }
  /** Folds one event into the state and saves it. */
  apply(name, payload, id = null) {
    const data = payload;
    if (id) this.lastEventId = id;
    if (this.status === "idle") this.status = "generating";
    switch (name) {
      case "generation-start": {
        const d = data;
        this.sessionId = d.sessionId;
        this.totalBlocks = d.totalBlocks;
        for (let i = 0; i < Math.min(d.totalBlocks, 1e3); i++) this.block(i);
        this.startedAt ?? (this.startedAt = this.now());
        break;
      }
      case "reasoning-step":
        this.reasoning.push(data.content);
        break;
      case "block-start": {
        const d = data;
        const b = this.block(d.blockIndex);
        b.blockId = d.blockId;
        b.title = d.title;
        b.status = "streaming";
        break;
      }
      case "block-content": {
        const d = data;
        const b = this.block(d.blockIndex);
        b.html = d.mode === "append" ? b.html + d.html : d.html;
        if (b.status === "pending") b.status = "streaming";
        break;
      }
      case "block-complete":
        this.block(data.blockIndex).status = "complete";
        break;
      case "image-placeholder": {
        const d = data;
        const b = this.block(d.blockIndex);
        if (!b.images.some((i) => i.imageId === d.imageId)) b.images.push({ imageId: d.imageId, alt: d.alt, url: null });
        break;
      }
      case "image-ready": {
        const d = data;
        const b = this.block(d.blockIndex);
        const img = b.images.find((i) => i.imageId === d.imageId);
        if (img) img.url = d.url;
        else b.images.push({ imageId: d.imageId, alt: "", url: d.url });
        break;
      }
      case "persist-complete":
        this.documentUrl = data.url;
        break;
      case "error":
        this.error = data.message;
        break;
      default:
        break;
    }
    if (isTerminal(name, payload)) {
      const e = data;
      this.status = name === "generation-complete" ? "complete" : e.stage === STAGE_CANCELLED ? "cancelled" : "error";
      this.finishedAt = this.now();
    }
    this.persist();
  }
  /** Marks the generation failed on the client's side (e.g. the connection could not be resumed). */
  fail(message) {
    this.status = "error";
    this.error = message;
    this.finishedAt = this.now();
    this.persist();
  }
  /** Saves the state with its time, for {@link GenerationState.restore}. */
  persist() {
    if (!this.storage) return;
    const saved = {
      v: 1,
      savedAt: this.now(),
      status: this.status,
      sessionId: this.sessionId,
      lastEventId: this.lastEventId,
      eventsUrl: this.eventsUrl,
      apiBase: this.apiBase,
      totalBlocks: this.totalBlocks,
      blocks: this.orderedBlocks(),
      reasoning: this.reasoning,
      documentUrl: this.documentUrl,
      error: this.error,
      startedAt: this.startedAt,
      finishedAt: this.finishedAt
    };
    try {
      this.storage.setItem(this.key, JSON.stringify(saved));
    } catch {
    }
  }
  /** The saved state, if one was saved less than the TTL ago; otherwise `null` (and the stale one is removed). */
  static restore(options = {}) {
    const state2 = new _GenerationState(options);
    const raw = state2.storage?.getItem(state2.key);
    if (!raw) return null;
    let saved;
    try {
      saved = JSON.parse(raw);
    } catch {
      state2.clear();
      return null;
    }
    if (saved.v !== 1 || state2.now() - saved.savedAt > state2.ttlMs) {
      state2.clear();
      return null;
    }
    state2.status = saved.status;
    state2.sessionId = saved.sessionId;
    state2.lastEventId = saved.lastEventId;
    state2.eventsUrl = saved.eventsUrl;
    state2.apiBase = saved.apiBase;
    state2.totalBlocks = saved.totalBlocks;
    state2.blocks = new Map(saved.blocks.map((b) => [b.index, b]));
    state2.reasoning = saved.reasoning;
    state2.documentUrl = saved.documentUrl;
    state2.error = saved.error;
    state2.startedAt = saved.startedAt;
    state2.finishedAt = saved.finishedAt;
    return state2;
  }
  /** Forgets the saved state. */
  clear() {
    try {
      this.storage?.removeItem(this.key);
    } catch {
    }
  }
  reset() {
    this.status = "idle";
    this.sessionId = null;
    this.lastEventId = null;
    this.eventsUrl = null;
    this.apiBase = null;
    this.totalBlocks = 0;
    this.blocks = /* @__PURE__ */ new Map();
    this.reasoning = [];
    this.documentUrl = null;
    this.error = null;
    this.startedAt = null;
    this.finishedAt = null;
  }
};

// demo/demo.ts
var params = new URLSearchParams(location.search);
var api = params.get("api") ?? "";
var resolve = (url) => new URL(url, api || location.href).toString();
var retryBase = Number(params.get("retryBase")) || 0;
var backoff = retryBase > 0 ? new Backoff({ baseMs: retryBase, maxMs: retryBase * 10 }) : void 0;
var $ = (sel) => document.querySelector(sel);
var app = $("#app");
var form = $("#start-form");
var list = $("#blocks-list");
var banner = $("#banner");
var startButton = $("#start");
var stopButton = $("#stop");
var state = new GenerationState();
var conn = null;
var stage = "Idle";
var ticker = null;
function setBanner(kind, text = "", link) {
  banner.className = kind ? `banner show ${kind}` : "banner";
  banner.replaceChildren(document.createTextNode(text));
  if (link) {
    const a = document.createElement("a");
    a.href = link.href;
    a.textContent = link.label;
    a.target = "_blank";
    a.rel = "noopener";
    a.id = "document-link";
    banner.append(" ", a);
  }
}
function elapsed() {
  if (state.startedAt === null) return "0.0 s";
  const end = state.finishedAt ?? Date.now();
  return `${((end - state.startedAt) / 1e3).toFixed(1)} s`;
}
function render() {
  app.dataset.status = state.status;
  const done = state.completedBlocks;
  const total = state.totalBlocks;
  $("#done").textContent = String(done);
  $("#total").textContent = String(total);
  $("#elapsed").textContent = elapsed();
  const pct = total ? Math.round(done / total * 100) : 0;
  const bar = $("#progress");
  bar.setAttribute("aria-valuenow", String(pct));
  bar.firstElementChild.style.width = `${pct}%`;
  $("#stage").replaceChildren(Object.assign(document.createElement("strong"), { textContent: stage }));
  const hint = document.getElementById("hint");
  if (hint && state.status !== "idle") hint.remove();
  for (const block of state.orderedBlocks()) renderBlock(list, block, resolve);
  const steps = $("#reasoning");
  while (steps.children.length < state.reasoning.length) {
    const li = document.createElement("li");
    li.textContent = state.reasoning[steps.children.length];
    li.className = "ssekit-fade-in";
    steps.appendChild(li);
  }
  $("#reasoning-empty").hidden = state.reasoning.length > 0;
  switch (state.status) {
    case "complete":
      setBanner("info", "Done.", state.documentUrl ? { href: resolve(state.documentUrl), label: "Open the saved document" } : void 0);
      break;
    case "cancelled":
      setBanner("info", "Stopped. The generation was cancelled.");
      break;
    case "error":
      setBanner("error", state.error ?? "The generation failed.");
      break;
    default:
      setBanner(null);
  }
  const running = state.status === "generating";
  stopButton.disabled = !running;
  startButton.disabled = running;
  if (running && ticker === null) ticker = setInterval(() => $("#elapsed").textContent = elapsed(), 100);
  if (!running && ticker !== null) {
    clearInterval(ticker);
    ticker = null;
  }
}
var STAGES = {
  "generation-start": () => "Starting",
  "reasoning-start": () => "Reasoning",
  "reasoning-step": (d) => d.content,
  "block-start": (d) => `Writing block ${d.blockIndex + 1}: ${d.title}`,
  "image-placeholder": () => "Drawing an illustration",
  "persist-start": () => "Saving",
  "generation-complete": () => "Complete"
};
function handlers() {
  const on = {};
  for (const name of EVENT_NAMES) {
    on[name] = (data, id) => {
      state.apply(name, data, id);
      if (name === "generation-start") renderSkeletons(list, state.totalBlocks);
      const label = STAGES[name];
      if (label) stage = label(data);
      if (name === "error") stage = state.status === "generating" ? "A stage failed; going on" : "Stopped";
      render();
    };
  }
  return {
    ...on,
    onOpen: () => {
      if (stage.startsWith("Reconnecting")) stage = "Resumed";
      render();
    },
    onReconnecting: (attempt) => {
      stage = `Reconnecting\u2026 (attempt ${attempt})`;
      render();
    },
    onFatal: (message) => {
      state.fail(message);
      stage = "Disconnected";
      render();
    },
    onEnd: render
  };
}
function follow() {
  conn?.close();
  conn = connect(resolve(state.eventsUrl), handlers(), { lastEventId: state.lastEventId, backoff });
}
async function start(topic, blocks, delayMs) {
  conn?.close();
  conn = null;
  list.replaceChildren();
  $("#reasoning").replaceChildren();
  state.clear();
  state = new GenerationState();
  stage = "Starting";
  let res;
  try {
    res = await fetch(resolve("/v1/generations"), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ topic, blocks, delayMs })
    });
  } catch {
    state.fail("The server cannot be reached.");
    return render();
  }
  const body = await res.json().catch(() => ({}));
  if (!res.ok || !body.eventsUrl) {
    state.fail(body.error?.message ?? `The server refused the generation (${res.status}).`);
    return render();
  }
  state.begin(body.eventsUrl, api || null);
  render();
  follow();
}
async function stop() {
  const id = state.sessionId ?? /\/v1\/generations\/([^/]+)\/events/.exec(state.eventsUrl ?? "")?.[1];
  if (!id) return;
  stopButton.disabled = true;
  stage = "Stopping";
  render();
  const res = await fetch(resolve(`/v1/generations/${id}`), { method: "DELETE" }).catch(() => null);
  if (res && res.status === 409) render();
}
form.addEventListener("submit", (e) => {
  e.preventDefault();
  const data = new FormData(form);
  void start(String(data.get("topic") ?? ""), Number(data.get("blocks")), Number(data.get("delayMs")));
});
stopButton.addEventListener("click", () => void stop());
var restored = GenerationState.restore();
if (restored && restored.eventsUrl && (restored.apiBase ?? "") === api) {
  state = restored;
  stage = restored.status === "generating" ? "Resuming" : stage;
  renderSkeletons(list, state.totalBlocks);
  render();
  if (state.status === "generating") follow();
} else if (params.get("autostart") === "1") {
  const topic = params.get("topic") ?? "the history of the printing press";
  const blocks = Number(params.get("blocks") ?? 6);
  const delayMs = Number(params.get("delayMs") ?? 150);
  $("#topic").value = topic;
  $("#blocks").value = String(blocks);
  $("#delay").value = String(delayMs);
  void start(topic, blocks, delayMs);
} else {
  render();
}
