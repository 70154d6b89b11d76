// Test doubles for the browser APIs the client uses. The real browser runs in the E2E suite.
type Listener = (e: unknown) => void;

export class FakeEventSource {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSED = 2;
  static instances: FakeEventSource[] = [];
  readyState = FakeEventSource.CONNECTING;
  onopen: (() => void) | null = null;
  private listeners = new Map<string, Listener[]>();

  constructor(readonly url: string) {
    FakeEventSource.instances.push(this);
  }

  addEventListener(type: string, l: Listener) {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), l]);
  }

  close() {
    this.readyState = FakeEventSource.CLOSED;
  }

  /** The server sends an event. */
  emit(name: string, id: string, data: unknown) {
    this.readyState = FakeEventSource.OPEN;
    for (const l of this.listeners.get(name) ?? []) l({ lastEventId: id, data: JSON.stringify(data) });
  }

  /** The connection fails; `retrying`: EventSource will try again by itself. */
  fail(retrying: boolean) {
    this.readyState = retrying ? FakeEventSource.CONNECTING : FakeEventSource.CLOSED;
    for (const l of this.listeners.get("error") ?? []) l({});
  }

  static last(): FakeEventSource {
    return FakeEventSource.instances[FakeEventSource.instances.length - 1]!;
  }
}

export class FakeClock {
  now = 0;
  private timers: { at: number; f: () => void; id: number }[] = [];
  private next = 1;
  setTimeout = (f: () => void, ms: number) => {
    const id = this.next++;
    this.timers.push({ at: this.now + ms, f, id });
    return id;
  };
  clearTimeout = (id: unknown) => {
    this.timers = this.timers.filter((t) => t.id !== id);
  };
  /** Runs every timer due within `ms`. */
  advance(ms: number) {
    this.now += ms;
    for (;;) {
      const due = this.timers.filter((t) => t.at <= this.now).sort((a, b) => a.at - b.at)[0];
      if (!due) return;
      this.timers = this.timers.filter((t) => t !== due);
      due.f();
    }
  }
  get pending() {
    return this.timers.map((t) => t.at - this.now);
  }
}

export class FakeDocument {
  hidden = false;
  private listeners: (() => void)[] = [];
  addEventListener(_: "visibilitychange", l: () => void) {
    this.listeners.push(l);
  }
  removeEventListener(_: "visibilitychange", l: () => void) {
    this.listeners = this.listeners.filter((x) => x !== l);
  }
  setHidden(hidden: boolean) {
    this.hidden = hidden;
    for (const l of this.listeners) l();
  }
}

export class MemoryStorage {
  items = new Map<string, string>();
  getItem(k: string) {
    return this.items.get(k) ?? null;
  }
  setItem(k: string, v: string) {
    this.items.set(k, v);
  }
  removeItem(k: string) {
    this.items.delete(k);
  }
}

/** A fetch that answers every request with `status` and `body`, and records the URLs and their headers. */
export function fakeFetch(status: number, body: unknown) {
  const calls: string[] = [];
  const headers: Record<string, string>[] = [];
  const f = async (url: string, init?: RequestInit) => {
    calls.push(url);
    headers.push(Object.fromEntries(new Headers(init?.headers).entries()));
    return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
  };
  return { fetch: f as unknown as typeof fetch, calls, headers };
}

export const tick = () => new Promise((r) => setImmediate(r));
