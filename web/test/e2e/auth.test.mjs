// Auth on (`--auth-secret`): the demo page and a page on another origin follow a stream with a
// token through a reload and a server restart; without one, the 401 is shown, not retried.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { test } from "node:test";
import {
  launch,
  mintToken,
  pageBlocks,
  restart,
  runCleanup,
  sessionId,
  snapshot,
  startServer,
  tempDir,
  waitBlocks,
  waitStatus,
  webRoot,
} from "./support.mjs";

const TIMEOUT = 180_000;
const SECRET = "an end-to-end test secret, longer than thirty-two bytes";
const AUTH = ["--auth-secret", SECRET];

/** Polls `f` until it returns something truthy. */
async function until(f, what, timeout = 30_000) {
  const end = Date.now() + timeout;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The decoded claims of a JWT (unchecked: the server checks them). */
function claims(token) {
  return JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString());
}

/** Every block on the page once, in order, equal to what the server stored (read with `token`). */
async function assertBlocksMatch(page, base, id, token, { images = true } = {}) {
  const snap = await snapshot(base, id, token);
  assert.equal(snap.status, "complete", JSON.stringify(snap).slice(0, 300));
  if (images) {
    await page.waitForFunction(() => [...document.images].every((i) => i.complete && i.naturalWidth > 0), null, { timeout: 30_000 });
  }
  const blocks = await pageBlocks(page);
  assert.deepEqual(blocks.map((b) => b.index), snap.blocks.map((b) => b.blockIndex), "each block once, in order");
  for (const [i, b] of blocks.entries()) {
    const s = snap.blocks[i];
    assert.equal(b.html, s.html, `block ${i}: the page shows exactly the stored HTML (no part twice, none missing)`);
    assert.equal(b.status, "complete");
    if (s.title) assert.equal(b.title, s.title);
    if (images) {
      assert.deepEqual(b.images.map((x) => x.src), s.images.map((x) => new URL(x.url, base).pathname));
      assert.ok(b.images.every((x) => x.loaded), `block ${i}: images loaded`);
    }
  }
  return snap;
}

test("auth: the demo page with /?token= creates, follows, survives a reload and a server restart", { timeout: TIMEOUT }, async (t) => {
  const cleanup = [];
  t.after(() => runCleanup(cleanup));
  let server = await startServer({ dataDir: tempDir(cleanup), args: AUTH });
  cleanup.push(() => server.kill9());
  const pageToken = mintToken(SECRET, { create: true });
  const { page } = await launch(cleanup);
  const creations = [];
  const eventUrls = [];
  page.on("request", (r) => {
    if (r.method() === "POST" && r.url().endsWith("/v1/generations")) creations.push(r.headers().authorization ?? null);
    if (r.url().includes("/events")) eventUrls.push(r.url());
  });
  await page.goto(`${server.base}/?token=${pageToken}&topic=auth&blocks=6&delayMs=200&autostart=1`);
  await waitBlocks(page, 1);

  // The link's token left the address bar and stays in this tab's storage; it created the
  // generation as a bearer header, and the page follows with the token minted for the stream.
  assert.equal(new URL(page.url()).searchParams.get("token"), null, "the token is out of the address bar");
  assert.match(page.url(), /autostart=1/, "the other parameters stay");
  assert.equal(await page.evaluate(() => sessionStorage.getItem(`ssekit-token ${location.origin}`)), pageToken);
  assert.deepEqual(creations, [`Bearer ${pageToken}`]);
  const id = await sessionId(page);
  const streamToken = new URL(eventUrls[0]).searchParams.get("token");
  assert.ok(streamToken && streamToken !== pageToken, "followed with the minted token");
  assert.deepEqual(claims(streamToken).ssekit, { subscribe: [id] });

  // A reload mid-stream: the saved state comes back with its token and the stream resumes.
  await waitBlocks(page, 2);
  await page.reload();
  await waitBlocks(page, 3);
  assert.equal(await sessionId(page), id, "the same generation");
  const resumed = new URL(eventUrls.at(-1));
  assert.equal(resumed.searchParams.get("token"), streamToken);
  assert.ok(resumed.searchParams.get("lastEventId")?.startsWith(`${id}:`), "resumed after its last id");

  // A restart while the page is behind: its resume is held back until the server has finished,
  // been killed and started again on the same port and store; then it catches up from there.
  let release;
  const held = new Promise((r) => (release = r));
  const heldUrls = [];
  await page.route("**/events**", async (route) => {
    heldUrls.push(route.request().url());
    await held;
    await route.continue();
  });
  await page.reload({ waitUntil: "domcontentloaded" });
  await until(async () => (await snapshot(server.base, id, streamToken)).status === "complete", "the generation to finish");
  server = await restart(server);
  assert.equal((await snapshot(server.base, id, streamToken)).status, "complete", "the restarted server knows it");
  release();
  await waitStatus(page, "complete");
  assert.ok(heldUrls.length >= 1);
  for (const u of heldUrls) {
    assert.equal(new URL(u).searchParams.get("token"), streamToken, "the resume carries the token");
    assert.ok(new URL(u).searchParams.get("lastEventId")?.startsWith(`${id}:`), "after its last id");
  }
  assert.equal(await sessionId(page), id);

  // Every block once; the images came from the API with the stream's token (an <img> sends no header).
  await assertBlocksMatch(page, server.base, id, streamToken);
  const srcs = await page.$$eval(".ssekit-block-images img", (imgs) => imgs.map((i) => i.src));
  assert.ok(srcs.length > 0);
  for (const src of srcs) assert.equal(new URL(src).searchParams.get("token"), streamToken);
  const doc = new URL(await page.locator("#document-link").getAttribute("href"));
  assert.equal(doc.searchParams.get("token"), streamToken);
  assert.equal((await fetch(doc)).status, 200, "the document link works as it is");
});

test("auth: the demo page without a token shows the 401, then starts with a typed token", { timeout: TIMEOUT }, async (t) => {
  const cleanup = [];
  t.after(() => runCleanup(cleanup));
  const server = await startServer({ args: AUTH });
  cleanup.push(() => server.kill9());
  const { page } = await launch(cleanup);
  const requests = [];
  page.on("request", (r) => r.url().includes("/v1/") && requests.push(`${r.method()} ${new URL(r.url()).pathname}`));
  await page.goto(`${server.base}/?topic=denied&blocks=2&delayMs=30&autostart=1`);
  await waitStatus(page, "error");
  const banner = await page.locator("#banner").textContent();
  assert.match(banner, /needs a valid token/);
  assert.match(banner, /\[token_missing\]/);
  assert.ok(await page.locator("#token").isVisible(), "the token field shows");
  await page.waitForTimeout(1500);
  assert.deepEqual(requests, ["POST /v1/generations"], "one refused request, nothing retried");

  // A token without the create right: 403, said as such.
  await page.fill("#token", mintToken(SECRET, { subscribe: ["*"] }));
  await page.click("#start");
  await page.waitForFunction(() => /\[forbidden\]/.test(document.querySelector("#banner").textContent));
  assert.equal(await page.locator("#app").getAttribute("data-status"), "error");

  const token = mintToken(SECRET, { create: true, subscribe: ["gen_*"] });
  await page.fill("#token", token);
  await page.click("#start");
  await waitStatus(page, "complete");
  assert.equal(await page.evaluate(() => sessionStorage.getItem(`ssekit-token ${location.origin}`)), token);
});

/** A page on another origin that follows the events URL handed to it in its fragment
 * (`#events=…`, taken out of the address bar at once), with the built client. Counts what it
 * is asked for, to show no token ever reaches it. */
function startSite(cleanup) {
  const page = `<!doctype html>
<meta charset="utf-8"><title>another origin</title>
<div id="app" data-status="idle"><p id="message"></p><div id="blocks-list"></div></div>
<script type="module">
import { Backoff, EVENT_NAMES, GenerationState, apiResolver, connect, renderBlock, renderSkeletons } from "/ssekit.js";
const app = document.querySelector("#app");
const list = document.querySelector("#blocks-list");
const key = "followed";
let state = GenerationState.restore({ key });
const handed = new URLSearchParams(location.hash.slice(1)).get("events");
if (handed) {
  history.replaceState(null, "", location.pathname + location.search);
  state = new GenerationState({ key });
  state.begin(handed, new URL(handed).origin);
}
const render = () => {
  app.dataset.status = state.status;
  document.querySelector("#message").textContent = state.error ?? "";
  const resolve = apiResolver(state.apiBase, state.token);
  for (const block of state.orderedBlocks()) renderBlock(list, block, resolve);
};
const handlers = {
  onFatal: (message, code) => {
    state.fail(message);
    app.dataset.code = code;
    render();
  },
  onEnd: render,
};
for (const name of EVENT_NAMES) {
  handlers[name] = (data, id) => {
    state.apply(name, data, id);
    if (name === "generation-start") renderSkeletons(list, state.totalBlocks);
    render();
  };
}
if (state) {
  renderSkeletons(list, state.totalBlocks);
  render();
  if (state.status === "generating") {
    window.conn = connect(state.eventsUrl, handlers, {
      lastEventId: state.lastEventId,
      token: state.token,
      backoff: new Backoff({ baseMs: 300, maxMs: 2000 }),
      maxAttempts: 6,
    });
  }
}
</script>`;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><rect width="8" height="8" fill="teal"/></svg>`;
  const seen = [];
  const server = createServer((req, res) => {
    seen.push({ url: req.url, authorization: req.headers.authorization ?? null });
    const path = new URL(req.url, "http://x").pathname;
    if (path === "/") return res.writeHead(200, { "content-type": "text/html" }).end(page);
    if (path === "/ssekit.js") {
      return res.writeHead(200, { "content-type": "text/javascript" }).end(readFileSync(join(webRoot, "dist", "ssekit.js")));
    }
    if (path === "/pic.svg") return res.writeHead(200, { "content-type": "image/svg+xml" }).end(svg);
    res.writeHead(404).end();
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => {
      cleanup.push(() => new Promise((r) => server.close(() => r())));
      resolve({ base: `http://127.0.0.1:${server.address().port}`, seen });
    }),
  );
}

/** The test's "backend": creates a publish stream with its token and publishes into it. */
async function createStream(base, token) {
  const res = await fetch(`${base}/v1/streams`, { method: "POST", headers: { authorization: `Bearer ${token}` } });
  assert.equal(res.status, 201, await res.clone().text());
  const answer = await res.json();
  assert.ok(answer.token, "the creation answer carries a subscribe token");
  assert.equal(new URL(answer.eventsUrl, base).searchParams.get("token"), answer.token, "and its eventsUrl carries it");
  return answer;
}

async function publish(base, stream, events) {
  const res = await fetch(`${base}/v1/streams/${stream.id}/events`, {
    method: "POST",
    headers: { authorization: `Bearer ${stream.publishToken}`, "content-type": "application/json" },
    body: JSON.stringify({ events: events.map(([event, data]) => ({ event, data })) }),
  });
  assert.ok(res.ok, `publish: ${res.status} ${await res.text()}`);
}

const block = (i, extra = []) => [
  ["block-start", { blockIndex: i, blockId: `b${i}`, title: `Block ${i}` }],
  ["block-content", { blockIndex: i, html: `<p>part one of ${i}</p>` }],
  ["block-content", { blockIndex: i, html: `<p>part two of ${i}</p>`, mode: "append" }],
  ...extra,
  ["block-complete", { blockIndex: i, blockId: `b${i}` }],
];

test("auth: a page on another origin follows a backend-created stream through a reload and a restart", { timeout: TIMEOUT }, async (t) => {
  const cleanup = [];
  t.after(() => runCleanup(cleanup));
  let server = await startServer({ dataDir: tempDir(cleanup), args: AUTH });
  cleanup.push(() => server.kill9());
  const site = await startSite(cleanup);
  const stream = await createStream(server.base, mintToken(SECRET, { create: true }));
  const eventsUrl = new URL(stream.eventsUrl, server.base).toString();
  const { page } = await launch(cleanup);
  const eventUrls = [];
  page.on("request", (r) => r.url().startsWith(server.base) && r.url().includes("/events") && eventUrls.push(r.url()));

  // An image on the site's own origin: the token must not go there.
  const picture = [
    ["image-placeholder", { blockIndex: 0, imageId: "pic", alt: "a teal square" }],
    ["image-ready", { blockIndex: 0, imageId: "pic", url: `${site.base}/pic.svg` }],
  ];
  await publish(server.base, stream, [["generation-start", { sessionId: stream.id, totalBlocks: 4, model: "test" }], ...block(0, picture)]);
  await page.goto(`${site.base}/#events=${encodeURIComponent(eventsUrl)}`);
  await waitBlocks(page, 1);
  assert.equal(new URL(page.url()).hash, "", "the handed URL is out of the address bar");

  await publish(server.base, stream, block(1));
  await waitBlocks(page, 2);
  await page.reload();
  await waitBlocks(page, 2);
  await publish(server.base, stream, block(2));
  await waitBlocks(page, 3);

  // kill -9 and start again on the same port and store; the publisher goes on.
  server = await restart(server);
  await publish(server.base, stream, [...block(3), ["generation-complete", { success: true, totalDuration: 1 }]]);
  await waitStatus(page, "complete");

  await assertBlocksMatch(page, server.base, stream.id, stream.token, { images: false });
  assert.ok(eventUrls.length >= 3, `a first connection, one after the reload, one after the restart: ${eventUrls.length}`);
  for (const u of eventUrls) assert.equal(new URL(u).searchParams.get("token"), stream.token, u);
  assert.ok(eventUrls.slice(1).some((u) => new URL(u).searchParams.get("lastEventId")), "resumed with lastEventId");
  await page.waitForFunction(() => [...document.images].every((i) => i.complete && i.naturalWidth > 0));
  const img = await page.$eval(".ssekit-block-images img", (i) => i.src);
  assert.equal(img, `${site.base}/pic.svg`, "no token on another origin's image");
  assert.deepEqual(
    site.seen.filter((r) => /token/i.test(r.url) || r.authorization),
    [],
    "the site never saw a token",
  );
  assert.ok(site.seen.some((r) => r.url === "/pic.svg"));
});

test("auth: a page without a token, or with another stream's, gets the error at once, no endless retry", { timeout: TIMEOUT }, async (t) => {
  const cleanup = [];
  t.after(() => runCleanup(cleanup));
  const server = await startServer({ args: AUTH });
  cleanup.push(() => server.kill9());
  const site = await startSite(cleanup);
  const stream = await createStream(server.base, mintToken(SECRET, { create: true }));
  await publish(server.base, stream, [["generation-start", { sessionId: stream.id, totalBlocks: 1, model: "test" }]]);
  const bare = new URL(stream.eventsUrl, server.base);
  bare.searchParams.delete("token");
  const other = new URL(bare);
  other.searchParams.set("token", mintToken(SECRET, { subscribe: [`${stream.id}x`] }));
  for (const [url, code, message] of [
    [bare, "token_missing", /needs a token/],
    [other, "forbidden", /does not allow/],
  ]) {
    const { page } = await launch(cleanup);
    const requests = [];
    // (A CORS preflight, if reported, is not a retry.)
    page.on("request", (r) => r.url().startsWith(server.base) && r.method() !== "OPTIONS" && requests.push(new URL(r.url()).pathname));
    await page.goto(`${site.base}/#events=${encodeURIComponent(url.toString())}`);
    await waitStatus(page, "error", 15_000);
    assert.equal(await page.locator("#app").getAttribute("data-code"), code);
    assert.match(await page.locator("#message").textContent(), message);
    await page.waitForTimeout(2000);
    const events = requests.filter((p) => p.endsWith("/events")).length;
    assert.equal(events, 1, `${code}: one refused subscription, not retried: ${requests.join(", ")}`);
    assert.equal(requests.length, 2, `${code}: and one snapshot request: ${requests.join(", ")}`);
  }
});
