// One generation read through third-party SSE clients from the registries (npm `eventsource`,
// `eventsource-parser`, `@microsoft/fetch-event-source`, Python `httpx-sse` and `sseclient-py`,
// and curl when present), against the real `ssekit serve` binary over loopback: live with
// keep-alives between events, resumed from a mid-stream id, and resumed after a connection cut
// inside an event. Each must yield exactly the events the server recorded, in order, once each,
// and no event made of a keep-alive or the retry hint.
//
// SSEKIT_BIN names the binary (default: ../target/debug/ssekit); PYTHON the interpreter with
// requirements.txt installed (default: .venv/bin/python, as scripts/interop makes it).

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";
import { EventSource } from "eventsource";
import { createParser } from "eventsource-parser";
import fetchEventSourcePkg from "@microsoft/fetch-event-source";

const { fetchEventSource } = fetchEventSourcePkg;
const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "..");
const BIN = process.env.SSEKIT_BIN ?? path.resolve(root, "../target/debug/ssekit");
const PYTHON = process.env.PYTHON ?? path.join(root, ".venv/bin/python");
const HAVE_CURL = spawnSync("curl", ["--version"]).status === 0;

// fetch-event-source is written for browsers: it reaches for `window` and `document` even when
// told to stay open while hidden.
globalThis.window ??= globalThis;
globalThis.document ??= { hidden: false, addEventListener() {}, removeEventListener() {} };

// The event names EventSource must listen for (README, "Events").
const NAMES = [
  "generation-start", "reasoning-start", "reasoning-step", "reasoning-complete", "block-start",
  "block-content", "block-complete", "image-placeholder", "image-ready", "persist-start",
  "persist-complete", "generation-complete", "error",
];

let server;
let base;
/** The generation read live by every client while it runs. */
let live;

function startServer() {
  // Keep-alives every 40 ms, events every 120 ms: several keep-alives fall between events.
  const child = spawn(BIN, ["serve", "--addr", "127.0.0.1:0", "--store", "memory",
    "--keepalive", "40ms", "--retry", "50ms"], {
    env: { ...process.env, SSEKIT_LOG: "warn" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`ssekit exited (${code}) before listening`)));
    const lines = createInterface({ input: child.stdout });
    lines.on("line", (line) => {
      const url = line.split("listening on ")[1];
      if (url) resolve({ child, base: url.trim() });
    });
  });
}

async function createGeneration(blocks, delayMs) {
  const res = await fetch(`${base}/v1/generations`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ topic: "interop", blocks, delayMs }),
  });
  assert.equal(res.status, 201);
  const created = await res.json();
  return { ...created, url: base + created.eventsUrl };
}

/**
 * The reference read: the raw body, split by hand on the server's own framing (LF line ends,
 * one event per blank line). Independent of every client under test.
 */
function frames(raw) {
  const events = [];
  let keepAlives = 0;
  let event = {};
  for (const line of raw.split("\n")) {
    if (line === "") {
      if (event.data !== undefined) events.push({ id: event.id, event: event.event, data: event.data });
      event = {};
    } else if (line === ": keep-alive") {
      keepAlives++;
    } else if (!line.startsWith("retry: ")) {
      const [field, value] = [line.slice(0, line.indexOf(": ")), line.slice(line.indexOf(": ") + 2)];
      assert.ok(["id", "event", "data"].includes(field), `unexpected line ${JSON.stringify(line)}`);
      assert.equal(event[field], undefined, `a second ${field} line in one event`);
      event[field] = value;
    }
  }
  return { events, keepAlives };
}

async function rawRead(url) {
  const res = await fetch(url);
  assert.equal(res.status, 200);
  return res.text();
}

// --- the clients: each resolves to [{id, event, data}] in the order it yielded them ---

function viaEventSource(url, lastEventId) {
  return new Promise((resolve, reject) => {
    const got = [];
    const es = new EventSource(url, {
      // The first request resumes from `lastEventId`; EventSource sets the header itself on
      // every reconnect.
      fetch: (input, init) => {
        const headers = { ...init.headers };
        if (lastEventId && !Object.keys(headers).some((k) => k.toLowerCase() === "last-event-id")) {
          headers["Last-Event-ID"] = lastEventId;
        }
        return fetch(input, { ...init, headers });
      },
    });
    // ssekit's `error` event shares its name with EventSource's own connection errors, which
    // carry no data: only message events are the stream's.
    const onEvent = (e) => {
      if (typeof e.data === "string") got.push({ id: e.lastEventId, event: e.type, data: e.data });
    };
    for (const name of [...NAMES, "message"]) es.addEventListener(name, onEvent);
    es.onerror = () => {
      // After the terminal event the server closes; the reconnect gets 204, which closes
      // EventSource for good: that is the end of the stream for it.
      if (es.readyState === EventSource.CLOSED) resolve(got);
    };
    setTimeout(() => { es.close(); reject(new Error(`eventsource: no end; got ${got.length}`)); }, 60_000).unref();
  });
}

async function viaEventSourceParser(url, lastEventId) {
  // No reconnect of its own: the app reconnects with the id of the last event it got.
  const got = [];
  let last = lastEventId;
  for (let attempt = 0; attempt < 5; attempt++) {
    const res = await fetch(url, { headers: last ? { "Last-Event-ID": last } : {} });
    if (res.status === 204) return got;
    assert.equal(res.status, 200);
    const parser = createParser({
      onEvent: (e) => {
        got.push({ id: e.id, event: e.event, data: e.data });
        if (e.id) last = e.id;
      },
    });
    const decoder = new TextDecoder();
    try {
      for await (const chunk of res.body) parser.feed(decoder.decode(chunk, { stream: true }));
      return got;
    } catch {
      // Cut mid-stream: reconnect.
    }
  }
  throw new Error("eventsource-parser: gave up");
}

function viaFetchEventSource(url, lastEventId) {
  const got = [];
  return fetchEventSource(url, {
    headers: lastEventId ? { "last-event-id": lastEventId } : {},
    openWhenHidden: true,
    onmessage: (m) => got.push({ id: m.id, event: m.event, data: m.data }),
    // Retry a failed connection (it sends the last id it recorded); give up after a while.
    onerror: (err) => {
      if (Date.now() - started > 60_000) throw err;
      return 50;
    },
  }).then(() => got);
}
const started = Date.now();

function viaPython(client, url, lastEventId) {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [path.join(root, "clients.py"), client, url, lastEventId ?? ""], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (b) => (out += b));
    child.on("error", reject);
    child.on("exit", (code) => {
      if (code !== 0) return reject(new Error(`${client} exited with ${code}`));
      resolve(out.split("\n").filter(Boolean).map((l) => JSON.parse(l)));
    });
  });
}

function viaCurl(url, lastEventId) {
  return new Promise((resolve, reject) => {
    const args = ["-sSN", ...(lastEventId ? ["-H", `Last-Event-ID: ${lastEventId}`] : []), url];
    const child = spawn("curl", args, { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (b) => (out += b));
    child.on("exit", (code) => (code === 0 ? resolve(frames(out).events) : reject(new Error(`curl: ${code}`))));
  });
}

const CLIENTS = {
  eventsource: viaEventSource,
  "eventsource-parser": viaEventSourceParser,
  "@microsoft/fetch-event-source": viaFetchEventSource,
  "httpx-sse": (url, id) => viaPython("httpx-sse", url, id),
  "sseclient-py": (url, id) => viaPython("sseclient-py", url, id),
  ...(HAVE_CURL ? { curl: viaCurl } : {}),
};

/** Asserts `got` is exactly `want`: same events in the same order, none twice, none empty. */
function assertSame(got, want, who) {
  // Missing or repeated events first, apart from empty ones, so that one failure does not hide
  // the other.
  const real = got.filter((e) => e.data !== "");
  const ids = real.map((e) => e.id);
  assert.equal(new Set(ids).size, ids.length, `${who} yielded an event twice: ${ids}`);
  assert.deepEqual(real, want, `${who} yielded other events than the server recorded`);
  const empty = got.filter((e) => e.data === "");
  assert.deepEqual(empty, [], `${who} yielded events with empty data (keep-alive or retry hint?)`);
}

/**
 * A loopback proxy to the server that cuts its first connection right after the `data:` line
 * of event number `cutAfter` (1-based) in the response: inside that event, before its id line
 * and its blank line. Later connections pass through untouched.
 */
function cuttingProxy(cutAfter) {
  const upstream = new URL(base);
  let connections = 0;
  let cutDone = false;
  const proxy = net.createServer((client) => {
    const cut = connections++ === 0;
    const server = net.connect(Number(upstream.port), upstream.hostname);
    client.pipe(server);
    client.on("error", () => server.destroy());
    server.on("error", () => client.destroy());
    if (!cut) {
      server.pipe(client);
      return;
    }
    let seen = "";
    server.on("data", (chunk) => {
      const before = seen.length;
      seen += chunk.toString("latin1");
      let at = -1;
      for (let i = 0, from = 0; i < cutAfter; i++) {
        at = seen.indexOf("\ndata: ", from);
        if (at < 0) break;
        from = at + 1;
      }
      const end = at < 0 ? -1 : seen.indexOf("\n", at + 1);
      if (end < 0) {
        client.write(chunk);
        return;
      }
      // end(), not destroy(): the bytes up to the cut must reach the client before the FIN.
      client.end(chunk.subarray(0, end + 1 - before));
      server.destroy();
      cutDone = true;
    });
  });
  return new Promise((resolve) =>
    proxy.listen(0, "127.0.0.1", () =>
      resolve({
        proxy,
        base: `http://127.0.0.1:${proxy.address().port}`,
        // The cut happened and the client came back.
        cut: () => cutDone && connections >= 2,
      }),
    ),
  );
}

before(async () => {
  ({ child: server, base } = await startServer());
  const gen = await createGeneration(2, 120);
  // Every client reads the generation while it runs, together with a raw read that sees the
  // keep-alives go by.
  const reads = Object.fromEntries(Object.entries(CLIENTS).map(([name, read]) => [name, read(gen.url)]));
  const raw = rawRead(gen.url);
  // Settle every read before anything can fail, so none is left running unobserved.
  await Promise.allSettled([raw, ...Object.values(reads)]);
  // The finished generation replayed whole: the reference every client is held to.
  const reference = frames(await rawRead(gen.url)).events;
  live = { gen, reads, raw: await raw, reference };
});

after(() => server?.kill());

test("the generation has events and keep-alives went by while it ran", async () => {
  const { events, keepAlives } = frames(live.raw);
  assert.ok(live.reference.length > 10, `only ${live.reference.length} events`);
  assert.deepEqual(events, live.reference, "a live read and the replay differ");
  assert.ok(keepAlives > 0, "no keep-alive was sent while the generation ran: the test proves nothing");
  // The server's own record agrees: the last id the snapshot reports is the reference's last.
  const snapshot = await (await fetch(base + live.gen.snapshotUrl)).json();
  assert.equal(snapshot.status, "complete");
  const ids = live.reference.map((e) => e.id);
  assert.deepEqual(ids, ids.map((_, i) => `${live.gen.id}:${i + 1}`), "ids are seq 1, 2, 3… with no gap");
});

for (const name of Object.keys(CLIENTS)) {
  test(`${name}: a live read yields exactly the recorded events, keep-alives and retry hint unseen`, async () => {
    assertSame(await live.reads[name], live.reference, name);
  });
}

for (const [name, read] of Object.entries(CLIENTS)) {
  test(`${name}: a resume from a mid-stream id yields exactly the rest`, async () => {
    const k = Math.floor(live.reference.length / 2);
    const got = await read(live.gen.url, live.reference[k - 1].id);
    assertSame(got, live.reference.slice(k), name);
  });
}

// A connection cut inside an event, before its id line: clients that record an id as soon as
// its line is read (fetch-event-source) would resume after an event they never dispatched if the
// id came first. curl has no resume.
for (const [name, read] of Object.entries(CLIENTS).filter(([n]) => n !== "curl")) {
  test(`${name}: a connection cut inside an event resumes with nothing missed or repeated`, async () => {
    const k = Math.floor(live.reference.length / 3);
    const { proxy, base: via, cut } = await cuttingProxy(k);
    try {
      const url = via + live.gen.eventsUrl;
      assertSame(await read(url), live.reference, name);
      assert.ok(cut(), "the proxy never cut the stream, or the client never reconnected");
    } finally {
      proxy.close();
    }
  });
}
