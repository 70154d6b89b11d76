import { Backoff } from "./backoff";
import { EVENT_NAMES, isBuiltinEvent, isTerminal, seqOf, type AppEvents, type EventMap, type EventName } from "./events";
import { authErrorCode, tokenOf, withToken, type AuthErrorCode } from "./token";
import type { ErrorDetail } from "./generated/ErrorDetail";
import type { GenerationSnapshot } from "./generated/GenerationSnapshot";

/** A handler per event name, typed by the vocabulary. */
export type EventHandlers = { [K in EventName]?: (data: EventMap[K], id: string) => void };

/** A handler per application event the app declares (`A`: name → data type; see `AppEvents`). */
export type AppEventHandlers<A> = { [K in keyof A]?: (data: A[K], id: string) => void };

/**
 * Why the client gave up: retries exhausted (`gave_up`), the stream is unknown (`not_found`) or
 * expired (`expired`), or the server refused the token (401/403, the JSON error's code).
 */
export type FatalCode = "gave_up" | "not_found" | "expired" | AuthErrorCode;

/** What happens to the connection itself. */
export interface LifecycleHandlers {
  /** A connection opened. */
  onOpen?(): void;
  /** The connection was lost; the client tries again (attempt `attempt`, in `delayMs`). */
  onReconnecting?(attempt: number, delayMs: number): void;
  /** The stream ended: its terminal event arrived (or the server says there is no more). */
  onEnd?(): void;
  /**
   * The client gave up: retries exhausted, the stream is gone, or the token is refused (missing,
   * invalid, expired, or without the right to this stream). Nothing more will come.
   */
  onFatal?(message: string, code: FatalCode): void;
}

export type Handlers<A = {}> = EventHandlers & AppEventHandlers<A> & LifecycleHandlers;

/** The smallest document the client needs for page visibility. */
export interface VisibilitySource {
  readonly hidden: boolean;
  addEventListener(type: "visibilitychange", listener: () => void): void;
  removeEventListener(type: "visibilitychange", listener: () => void): void;
}

export interface ConnectOptions {
  /**
   * A token for a server with auth on (default: the URL's own `?token=`, as a creation answer's
   * `eventsUrl` carries it). It goes in the events URL's `?token=` (EventSource cannot set
   * headers), on every reconnect too, and as `Authorization: Bearer` on the snapshot request.
   */
  token?: string | null;
  /** Resume after this id (e.g. restored from a saved state). */
  lastEventId?: string | null;
  /** Failed attempts in a row before giving up (default 3); reset when an event arrives. */
  maxAttempts?: number;
  /** Delays between attempts (default: 1 s, 2 s, 4 s … capped at 10 s, jittered). */
  backoff?: Backoff;
  /** Asked before each retry whether the stream still exists (default: derived from the URL or the last id). */
  snapshotUrl?: string | null;
  /** For tests and other environments. */
  EventSource?: typeof EventSource;
  fetch?: typeof fetch;
  document?: VisibilitySource | null;
  setTimeout?: (f: () => void, ms: number) => unknown;
  clearTimeout?: (t: unknown) => void;
  random?: () => number;
}

/** An open subscription. */
export interface Connection {
  /** Stops for good and releases the EventSource. */
  close(): void;
  /** The id of the last event delivered to a handler. */
  readonly lastEventId: string | null;
  /** Whether the connection has ended (terminal event, `close()`, or given up). */
  readonly closed: boolean;
}

function base(): string {
  return (globalThis as { location?: { href: string } }).location?.href ?? "http://localhost/";
}

/** `url` with `?lastEventId=id`; its other parameters (a `?token=`) stay. */
function withLastEventId(url: string, id: string): string {
  const u = new URL(url, base());
  u.searchParams.set("lastEventId", id);
  return u.toString();
}

/** `/v1/generations/{id}` of the stream `lastEventId` names, or of an events URL. */
function snapshotFor(url: string, lastEventId: string | null): string | null {
  const stream = lastEventId?.replace(/:\d+$/, "");
  const u = new URL(url, base());
  if (stream) return new URL(`/v1/generations/${encodeURIComponent(stream)}`, u).toString();
  const m = /^(.*\/v1\/(?:generations|streams)\/[^/]+)\/events$/.exec(u.pathname);
  return m ? new URL(m[1]!.replace("/v1/streams/", "/v1/generations/"), u).toString() : null;
}

/**
 * Subscribes to the stream at `url` with typed handlers.
 *
 * EventSource retries a lost connection once by itself (sending `Last-Event-ID`); if that fails
 * or the connection is closed for good, the client reconnects with `?lastEventId=` after an
 * exponential backoff — asking the snapshot endpoint first, so a stream that is gone ends at once
 * with a clear message. Events already delivered are dropped by id, so a handler never sees an
 * event twice. The EventSource is closed on the terminal event and on `close()`.
 *
 * With auth on, the token (`options.token`, or the URL's `?token=`) rides in the events URL on
 * every attempt and as a bearer header on the snapshot request; a token the server refuses
 * ends the connection with `onFatal(message, code)` (`token_missing`, `token_invalid`,
 * `token_expired` or `forbidden`) instead of retrying.
 *
 * Application events (names with a dot) are declared as the type parameter, name → data type,
 * and handled like the vocabulary's; they never end the stream.
 *
 * ```ts
 * const conn = connect<{ "import.progress": { done: number; total: number } }>("/v1/generations/gen_x/events", {
 *   "block-content": (data) => render(data.blockIndex, data.html),
 *   "import.progress": (data) => showProgress(data.done / data.total),
 *   onFatal: (message) => showError(message),
 * });
 * ```
 */
export function connect<A extends AppEvents<A> = {}>(
  url: string,
  handlers: Handlers<NoInfer<A>>,
  options: ConnectOptions = {},
): Connection {
  const token = options.token || tokenOf(url);
  if (options.token) url = withToken(url, options.token, base());
  const ES = options.EventSource ?? globalThis.EventSource;
  const doFetch = options.fetch ?? (globalThis.fetch ? globalThis.fetch.bind(globalThis) : undefined);
  const doc =
    options.document !== undefined ? options.document : typeof document !== "undefined" ? document : null;
  const setT = options.setTimeout ?? ((f: () => void, ms: number) => setTimeout(f, ms));
  const clearT = options.clearTimeout ?? ((t: unknown) => clearTimeout(t as ReturnType<typeof setTimeout>));
  const random = options.random ?? Math.random;
  const maxAttempts = options.maxAttempts ?? 3;
  const backoff = options.backoff ?? new Backoff();

  let lastEventId: string | null = options.lastEventId ?? null;
  let lastSeq = lastEventId ? (seqOf(lastEventId) ?? 0) : 0;
  let source: EventSource | null = null;
  let timer: unknown = null;
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

  const giveUp = (message: string, code: FatalCode) => {
    if (closed) return;
    finish();
    handlers.onFatal?.(message, code);
  };

  const onMessage = (name: string, e: MessageEvent) => {
    if (closed) return;
    const id = e.lastEventId;
    const seq = seqOf(id);
    if (seq !== null && seq <= lastSeq) return; // seen already
    if (seq !== null) lastSeq = seq;
    if (id) lastEventId = id;
    attempts = 0;
    letBrowserRetry = true;
    let data: unknown;
    try {
      data = JSON.parse(e.data);
    } catch {
      return;
    }
    const handler = (handlers as Record<string, unknown>)[name] as ((d: unknown, id: string) => void) | undefined;
    handler?.(data, id);
    // Application events never end the stream.
    if (isBuiltinEvent(name) && isTerminal(name, data as EventMap[typeof name])) {
      finish();
      handlers.onEnd?.();
    }
  };

  const reopenAfter = (delay: number) => {
    const snapshotUrl = options.snapshotUrl !== undefined ? options.snapshotUrl : snapshotFor(url, lastEventId);
    const schedule = () => {
      if (!closed) timer = setT(open, delay);
    };
    if (!snapshotUrl || !doFetch) return schedule();
    const headers: Record<string, string> = { accept: "application/json" };
    if (token) headers.authorization = `Bearer ${token}`;
    doFetch(snapshotUrl, { headers }).then(
      async (res) => {
        if (closed) return;
        if (res.status === 401 || res.status === 403) {
          // The EventSource failed for the same reason, most likely: retrying cannot help.
          const body = (await res.json().catch(() => null)) as { error?: Partial<ErrorDetail> } | null;
          const code = authErrorCode(res.status, body?.error?.code);
          const refused =
            res.status === 403
              ? "The token does not allow following this stream."
              : code === "token_missing"
                ? "This stream needs a token."
                : code === "token_expired"
                  ? "The token has expired."
                  : "The token was refused.";
          return giveUp(body?.error?.message ? `${refused} (${body.error.message})` : refused, code);
        }
        if (res.status === 404 || res.status === 410) {
          const body = (await res.json().catch(() => null)) as { error?: Partial<ErrorDetail> } | null;
          const gone = res.status === 410 ? "This stream has expired." : "This stream no longer exists.";
          return giveUp(body?.error?.message ? `${gone} (${body.error.message})` : gone, res.status === 410 ? "expired" : "not_found");
        }
        if (res.ok) {
          const snap = (await res.json().catch(() => null)) as Partial<GenerationSnapshot> | null;
          if (snap && snap.status !== "running" && snap.lastEventId === lastEventId) {
            // The server has nothing after what we have: the stream is over.
            finish();
            return handlers.onEnd?.();
          }
        }
        schedule();
      },
      // The server is unreachable: keep backing off.
      schedule,
    );
  };

  const onConnectionError = (failed: EventSource) => {
    if (closed || failed !== source) return;
    if (doc?.hidden) {
      // Lost while the tab is hidden: reopen when it is shown, without spending attempts.
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
      // EventSource retries by itself, with Last-Event-ID: let it, once.
      letBrowserRetry = false;
      handlers.onReconnecting?.(attempts, 0);
      return;
    }
    failed.close();
    source = null;
    const delay = backoff.delay(attempts, random());
    handlers.onReconnecting?.(attempts, delay);
    reopenAfter(delay);
  };

  function open() {
    timer = null;
    if (closed) return;
    const es = new ES(lastEventId ? withLastEventId(url, lastEventId) : url);
    source = es;
    es.onopen = () => handlers.onOpen?.();
    for (const name of EVENT_NAMES) {
      if (name !== "error") es.addEventListener(name, (e) => onMessage(name, e as MessageEvent));
    }
    // Application events: the handlers' names with a dot (none of the vocabulary has one).
    for (const name of Object.keys(handlers)) {
      if (name.includes(".")) es.addEventListener(name, (e) => onMessage(name, e as MessageEvent));
    }
    // `error` is both the vocabulary's event (with data) and EventSource's connection error.
    es.addEventListener("error", (e) => {
      if (typeof (e as MessageEvent).data === "string") onMessage("error", e as MessageEvent);
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
    },
  };
}
