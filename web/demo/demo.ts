// The demo page: a generation streamed live, surviving reloads, dropped connections and server restarts.
import {
  Backoff,
  allowedApiBase,
  apiResolver,
  safeUrl,
  tokenOf,
  EVENT_NAMES,
  GenerationState,
  connect,
  renderBlock,
  renderSkeletons,
  type Connection,
  type EventHandlers,
  type EventName,
  type Handlers,
} from "../src/index";
import type { ErrorDetail } from "../src/generated/ErrorDetail";
import type { GenerationCreated } from "../src/generated/GenerationCreated";

const params = new URLSearchParams(location.search);
// `?api=http://host:port` streams from another server (through CORS); default: this origin. The
// page shows what that server sends on this origin, so only origins the server that served the
// page lists (its `ssekit-api-origins` meta) are followed; any other `api` is refused.
const allowedOrigins = (document.querySelector<HTMLMetaElement>('meta[name="ssekit-api-origins"]')?.content ?? "")
  .split(/\s+/)
  .filter(Boolean);
const requestedApi = params.get("api");
const allowedApi = allowedApiBase(requestedApi, location.origin, allowedOrigins);
const api = allowedApi ?? "";
const apiRefused =
  allowedApi === null
    ? "This page follows streams only from its own origin or the API origins its server allows; the link's api is neither."
    : null;
// With auth on, a stream's images and document are fetched with its token in `?token=` (an
// <img> cannot send a header); only URLs of the API itself get it.
const resolve = (url: string) => apiResolver(api, state.token)(url);
const retryBase = Number(params.get("retryBase")) || 0;
const backoff = retryBase > 0 ? new Backoff({ baseMs: retryBase, maxMs: retryBase * 10 }) : undefined;

const $ = <T extends HTMLElement>(sel: string) => document.querySelector<T>(sel)!;
const app = $("#app");
const form = $<HTMLFormElement>("#start-form");
const list = $("#blocks-list");
const banner = $("#banner");
const startButton = $<HTMLButtonElement>("#start");
const stopButton = $<HTMLButtonElement>("#stop");
const tokenField = $("#token-field");
const tokenInput = $<HTMLInputElement>("#token");

// The page's token, for a server with auth on: a JWT with the `create` right, sent as
// `Authorization: Bearer` when starting (and stopping) a generation. It comes from the link
// (`/?token=…`, then taken out of the address bar so it is not shared by copy-paste) or the token
// field, and is kept in sessionStorage for this tab and this API only. Without auth there is
// none and the page works as it always did.
const TOKEN_KEY = `ssekit-token ${api || location.origin}`;

function savedToken(): string | null {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

function saveToken(token: string | null) {
  try {
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // storage disabled: the token lives on in memory
  }
}

let pageToken = savedToken();
if (params.has("token")) {
  pageToken = params.get("token")?.trim() || null;
  saveToken(pageToken);
  params.delete("token");
  const clean = new URL(location.href);
  clean.searchParams.delete("token");
  history.replaceState(history.state, "", clean.pathname + clean.search + clean.hash);
}

function showTokenField() {
  tokenInput.value = pageToken ?? "";
  tokenField.hidden = false;
}
if (pageToken) showTokenField();

/** The page token as the field now says (an emptied field forgets it). */
function currentToken(): string | null {
  if (!tokenField.hidden) {
    const typed = tokenInput.value.trim() || null;
    if (typed !== pageToken) saveToken((pageToken = typed));
  }
  return pageToken;
}

function bearer(token: string | null): Record<string, string> {
  return token ? { authorization: `Bearer ${token}` } : {};
}

/** What a server answers, read as untrusted (another server, a proxy's error page). */
type ApiError = { error?: Partial<ErrorDetail> };

/** A 401/403's JSON error as the page says it. */
function refusal(res: Response, body: ApiError, what: string): string {
  const reason = body.error?.message ?? `status ${res.status}`;
  const code = body.error?.code ? ` [${body.error.code}]` : "";
  return res.status === 401
    ? `The server needs a valid token to ${what}: ${reason}${code}. Enter one below.`
    : `The token does not allow this page to ${what}: ${reason}${code}.`;
}

let state = new GenerationState();
let conn: Connection | null = null;
let stage = "Idle";
/** A message kept on the banner while the generation runs (e.g. why Stop was refused). */
let notice: string | null = null;
let ticker: ReturnType<typeof setInterval> | null = null;

function setBanner(kind: "error" | "info" | null, text = "", link?: { href: string; label: string }) {
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

function elapsed(): string {
  if (state.startedAt === null) return "0.0 s";
  const end = state.finishedAt ?? Date.now();
  return `${((end - state.startedAt) / 1000).toFixed(1)} s`;
}

function render() {
  app.dataset.status = state.status;
  const done = state.completedBlocks;
  const total = state.totalBlocks;
  $("#done").textContent = String(done);
  $("#total").textContent = String(total);
  $("#elapsed").textContent = elapsed();
  const pct = total ? Math.round((done / total) * 100) : 0;
  const bar = $("#progress");
  bar.setAttribute("aria-valuenow", String(pct));
  (bar.firstElementChild as HTMLElement).style.width = `${pct}%`;
  $("#stage").replaceChildren(Object.assign(document.createElement("strong"), { textContent: stage }));

  const hint = document.getElementById("hint");
  if (hint && state.status !== "idle") hint.remove();
  for (const block of state.orderedBlocks()) renderBlock(list, block, resolve);

  const steps = $("#reasoning");
  while (steps.children.length < state.reasoning.length) {
    const li = document.createElement("li");
    li.textContent = state.reasoning[steps.children.length]!;
    li.className = "ssekit-fade-in";
    steps.appendChild(li);
  }
  $("#reasoning-empty").hidden = state.reasoning.length > 0;

  switch (state.status) {
    case "complete": {
      // Only an http(s) document becomes a link: never a `javascript:` href.
      const url = state.documentUrl;
      const href = url && safeUrl(url, location.href) ? safeUrl(resolve(url)) : null;
      setBanner("info", "Done.", href ? { href, label: "Open the saved document" } : undefined);
      break;
    }
    case "cancelled":
      setBanner("info", "Stopped. The generation was cancelled.");
      break;
    case "error":
      setBanner("error", state.error ?? "The generation failed.");
      break;
    default:
      setBanner(notice ? "error" : null, notice ?? "");
  }
  const running = state.status === "generating";
  stopButton.disabled = !running;
  startButton.disabled = running;
  if (running && ticker === null) ticker = setInterval(() => ($("#elapsed").textContent = elapsed()), 100);
  if (!running && ticker !== null) {
    clearInterval(ticker);
    ticker = null;
  }
}

const STAGES: Partial<Record<EventName, (d: never) => string>> = {
  "generation-start": () => "Starting",
  "reasoning-start": () => "Reasoning",
  "reasoning-step": (d: { content: string }) => d.content,
  "block-start": (d: { blockIndex: number; title: string }) => `Writing block ${d.blockIndex + 1}: ${d.title}`,
  "image-placeholder": () => "Drawing an illustration",
  "persist-start": () => "Saving",
  "generation-complete": () => "Complete",
};

function handlers(): Handlers {
  const on: EventHandlers = {};
  for (const name of EVENT_NAMES) {
    (on as Record<string, (data: unknown, id: string) => void>)[name] = (data, id) => {
      state.apply(name, data as never, id);
      if (name === "generation-start") renderSkeletons(list, state.totalBlocks);
      const label = STAGES[name];
      if (label) stage = label(data as never);
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
      stage = `Reconnecting… (attempt ${attempt})`;
      render();
    },
    onFatal: (message, code) => {
      state.fail(code.startsWith("token_") || code === "forbidden" ? `${message} [${code}]` : message);
      stage = "Disconnected";
      render();
    },
    onEnd: render,
  };
}

function follow() {
  conn?.close();
  conn = connect(resolve(state.eventsUrl!), handlers(), { lastEventId: state.lastEventId, backoff, token: state.token });
}

/** Shows why the page refuses its `api` (kept out of sessionStorage: a saved generation stays). */
function refuseApi(message: string) {
  state = new GenerationState({ storage: null });
  state.fail(message);
  render();
}

async function start(topic: string, blocks: number, delayMs: number) {
  if (apiRefused) return refuseApi(apiRefused);
  conn?.close();
  conn = null;
  list.replaceChildren();
  $("#reasoning").replaceChildren();
  state.clear();
  state = new GenerationState();
  stage = "Starting";
  notice = null;
  const token = currentToken();
  let res: Response;
  try {
    res = await fetch(new URL("/v1/generations", api || location.href), {
      method: "POST",
      headers: { "content-type": "application/json", ...bearer(token) },
      body: JSON.stringify({ topic, blocks, delayMs }),
    });
  } catch {
    stage = "Not started";
    state.fail("The server cannot be reached.");
    return render();
  }
  const body = (await res.json().catch(() => ({}))) as Partial<GenerationCreated> & ApiError;
  if (!res.ok || !body.eventsUrl) stage = "Not started";
  if (res.status === 401 || res.status === 403) {
    showTokenField();
    state.fail(refusal(res, body, "start a generation"));
    return render();
  }
  if (!res.ok || !body.eventsUrl) {
    state.fail(body.error?.message ?? `The server refused the generation (${res.status}).`);
    return render();
  }
  // Followed with the token minted for this stream (subscribe only), else the page's own.
  state.begin(body.eventsUrl, api || null, body.token || tokenOf(body.eventsUrl) || token);
  render();
  follow();
}

async function stop() {
  const id = state.sessionId ?? /\/v1\/generations\/([^/]+)\/events/.exec(state.eventsUrl ?? "")?.[1];
  if (!id) return;
  stopButton.disabled = true;
  stage = "Stopping";
  render();
  const res = await fetch(new URL(`/v1/generations/${encodeURIComponent(id)}`, api || location.href), {
    method: "DELETE",
    headers: bearer(currentToken() ?? state.token),
  }).catch(() => null);
  // The stream delivers the cancel error; if it has already ended, there is nothing to stop.
  if (res && res.status === 409) render();
  if (res && (res.status === 401 || res.status === 403)) {
    const body = (await res.json().catch(() => ({}))) as ApiError;
    if (res.status === 401) showTokenField();
    notice = refusal(res, body, "stop this generation");
    stage = "Stop refused";
    render();
  }
}

form.addEventListener("submit", (e) => {
  e.preventDefault();
  const data = new FormData(form);
  void start(String(data.get("topic") ?? ""), Number(data.get("blocks")), Number(data.get("delayMs")));
});
stopButton.addEventListener("click", () => void stop());

// A reload shows the saved state at once and resumes the same generation after its last id.
const restored = GenerationState.restore();
if (apiRefused) {
  refuseApi(apiRefused);
} else if (restored && restored.eventsUrl && (restored.apiBase ?? "") === api) {
  state = restored;
  stage = restored.status === "generating" ? "Resuming" : stage;
  renderSkeletons(list, state.totalBlocks);
  render();
  if (state.status === "generating") follow();
} else if (params.get("autostart") === "1") {
  const topic = params.get("topic") ?? "the history of the printing press";
  const blocks = Number(params.get("blocks") ?? 6);
  const delayMs = Number(params.get("delayMs") ?? 150);
  $<HTMLInputElement>("#topic").value = topic;
  $<HTMLInputElement>("#blocks").value = String(blocks);
  $<HTMLInputElement>("#delay").value = String(delayMs);
  void start(topic, blocks, delayMs);
} else {
  render();
}
