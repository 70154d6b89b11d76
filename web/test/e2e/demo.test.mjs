// The demo page in Debian's headless Chromium against the real `ssekit serve`.
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import {
  completedBlocks,
  assertOnePipeline,
  generationsStarted,
  onRedis,
  launch,
  pageBlocks,
  restart,
  runCleanup,
  sessionId,
  snapshot,
  startProxy,
  startServer,
  startStatic,
  tempDir,
  waitBlocks,
  waitStatus,
  webRoot,
} from "./support.mjs";

const TIMEOUT = 180_000;

/** Every block on the page once, in order, equal to what the server stored. */
async function assertBlocksMatchServer(page, base, { complete = true } = {}) {
  const id = await sessionId(page);
  assert.ok(id, "the page follows a generation");
  const snap = await snapshot(base, id);
  if (complete) {
    await page.waitForFunction(() => [...document.images].every((i) => i.complete && i.naturalWidth > 0), null, { timeout: 30_000 });
  }
  const blocks = await pageBlocks(page);
  assert.deepEqual(blocks.map((b) => b.index), snap.blocks.map((b) => b.blockIndex), "each block once, in order");
  for (const [i, b] of blocks.entries()) {
    const s = snap.blocks[i];
    assert.equal(b.html, s.html, `block ${i}: the page shows exactly the stored HTML (no part twice)`);
    if (s.title) assert.equal(b.title, s.title);
    if (complete) {
      assert.equal(b.status, "complete");
      assert.deepEqual(b.images.map((x) => x.src), s.images.map((x) => x.url.split("?")[0]));
      assert.ok(b.images.every((x) => x.loaded), `block ${i}: images loaded`);
    }
  }
  return snap;
}

test("1. a full generation renders every block once, in order, with its images", { timeout: TIMEOUT }, async (t) => {
  const cleanup = [];
  t.after(() => runCleanup(cleanup));
  const server = await startServer();
  cleanup.push(() => server.kill9());
  const { page } = await launch(cleanup);
  await page.goto(`${server.base}/?topic=tide%20pools&blocks=3&delayMs=60&autostart=1`);
  await waitBlocks(page, 1);
  await page.screenshot({ path: join(webRoot, "screenshots", "demo-in-progress.png") });
  await waitStatus(page, "complete");
  const snap = await assertBlocksMatchServer(page, server.base);
  assert.equal(snap.status, "complete");
  assert.equal(await page.locator("#done").textContent(), "3");
  assert.ok((await page.locator("#reasoning li").count()) === 3);
  const href = await page.locator("#document-link").getAttribute("href");
  assert.equal(new URL(href).pathname, snap.documentUrl);
  assert.equal(await page.locator('[data-block-index][aria-busy="true"]').count(), 0);
  await page.screenshot({ path: join(webRoot, "screenshots", "demo-complete.png"), fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: join(webRoot, "screenshots", "demo-phone.png") });
});

test("2. kill -9 mid-generation and restart: the page ends clearly, every block received once", { timeout: TIMEOUT }, async (t) => {
  const cleanup = [];
  t.after(() => runCleanup(cleanup));
  let server = await startServer({ dataDir: tempDir(cleanup) });
  cleanup.push(() => server.kill9());
  const { page } = await launch(cleanup);
  await page.goto(`${server.base}/?topic=crash&blocks=6&delayMs=120&autostart=1`);
  await waitBlocks(page, 2);
  server = await restart(server);
  await waitStatus(page, "error");
  const text = await page.locator("#banner").textContent();
  assert.match(text, /stopped while this generation was running/);
  const snap = await assertBlocksMatchServer(page, server.base, { complete: false });
  assert.equal(snap.status, "error");
  assert.ok((await completedBlocks(page)) >= 2);
});

test("3. connections cut by a proxy: the page resumes and completes, no pipeline restart", { timeout: TIMEOUT }, async (t) => {
  const cleanup = [];
  t.after(() => runCleanup(cleanup));
  const server = await startServer();
  cleanup.push(() => server.kill9());
  const proxy = await startProxy(server.base, cleanup);
  const { page } = await launch(cleanup);
  await page.goto(`${proxy.base}/?topic=proxy&blocks=4&delayMs=80&autostart=1`);
  for (let cut = 1; cut <= 3; cut++) {
    await waitBlocks(page, cut);
    assert.ok(proxy.dropAll() > 0, "there was a connection to cut");
  }
  await waitStatus(page, "complete");
  await assertBlocksMatchServer(page, server.base);
  await assertOnePipeline(server.base);
});

test("4. reload mid-generation: the saved state shows at once and the generation completes", { timeout: TIMEOUT }, async (t) => {
  const cleanup = [];
  t.after(() => runCleanup(cleanup));
  const server = await startServer();
  cleanup.push(() => server.kill9());
  const { page } = await launch(cleanup);
  await page.goto(`${server.base}/?topic=reload&blocks=5&delayMs=100&autostart=1`);
  await waitBlocks(page, 2);
  const before = await sessionId(page);
  // Hold the stream back after the reload, so what shows first can only be the saved state.
  let release;
  const held = new Promise((r) => (release = r));
  await page.route("**/events**", async (route) => {
    await held;
    await route.continue();
  });
  await page.reload({ waitUntil: "domcontentloaded" });
  await page.waitForSelector('[data-block-index][data-status="complete"]');
  assert.ok((await completedBlocks(page)) >= 2, "restored blocks are shown before any new event");
  assert.equal(await page.locator("#app").getAttribute("data-status"), "generating");
  release();
  await waitStatus(page, "complete");
  assert.equal(await sessionId(page), before, "the same generation");
  await assertBlocksMatchServer(page, server.base);
  await assertOnePipeline(server.base);
});

test("5a. server down for good: a user-visible error after 3 attempts", { timeout: TIMEOUT }, async (t) => {
  const cleanup = [];
  t.after(() => runCleanup(cleanup));
  const server = await startServer();
  const { page } = await launch(cleanup);
  await page.goto(`${server.base}/?topic=down&blocks=6&delayMs=150&autostart=1&retryBase=100`);
  await waitBlocks(page, 1);
  await server.kill9();
  await waitStatus(page, "error");
  assert.match(await page.locator("#banner").textContent(), /3 attempts/);
});

test("5b. a stream the server does not know: an immediate clear error", { timeout: TIMEOUT }, async (t) => {
  const cleanup = [];
  t.after(() => runCleanup(cleanup));
  let server = await startServer({ dataDir: tempDir(cleanup) });
  cleanup.push(() => server.kill9());
  const { page } = await launch(cleanup);
  await page.goto(`${server.base}/?topic=gone&blocks=6&delayMs=150&autostart=1`);
  await waitBlocks(page, 1);
  // The same address, an empty store: the generation is unknown there.
  await server.kill9();
  server = await startServer({ addr: server.addr, dataDir: tempDir(cleanup) });
  const started = Date.now();
  await waitStatus(page, "error");
  assert.match(await page.locator("#banner").textContent(), /no longer exists/);
  assert.ok(Date.now() - started < 10_000, "no three slow attempts first");
});

test("6. the page on another origin streams through CORS", { timeout: TIMEOUT }, async (t) => {
  const cleanup = [];
  t.after(() => runCleanup(cleanup));
  const server = await startServer();
  cleanup.push(() => server.kill9());
  const site = await startStatic(cleanup, { apiOrigins: [server.base] });
  const { page } = await launch(cleanup);
  await page.goto(`${site.base}/?api=${encodeURIComponent(server.base)}&topic=cors&blocks=2&delayMs=30&autostart=1`);
  await waitStatus(page, "complete");
  await assertBlocksMatchServer(page, server.base);
});

test("7. a hidden tab keeps its stream; one lost while hidden is restored when shown", { timeout: TIMEOUT }, async (t) => {
  const cleanup = [];
  t.after(() => runCleanup(cleanup));
  const server = await startServer();
  cleanup.push(() => server.kill9());
  const proxy = await startProxy(server.base, cleanup);
  const { page } = await launch(cleanup);
  await page.goto(`${proxy.base}/?topic=hidden&blocks=4&delayMs=80&autostart=1`);
  await waitBlocks(page, 1);
  const setHidden = (hidden) =>
    page.evaluate((hidden) => {
      Object.defineProperty(document, "hidden", { configurable: true, get: () => hidden });
      Object.defineProperty(document, "visibilityState", { configurable: true, get: () => (hidden ? "hidden" : "visible") });
      document.dispatchEvent(new Event("visibilitychange"));
    }, hidden);
  await setHidden(true);
  await waitBlocks(page, 2); // events keep arriving while hidden
  proxy.dropAll();
  await page.waitForTimeout(1500);
  await setHidden(false);
  await waitStatus(page, "complete");
  await assertBlocksMatchServer(page, server.base);
});

test("8. Stop cancels: the page shows cancelled, the stream ends with the cancel error", { timeout: TIMEOUT }, async (t) => {
  const cleanup = [];
  t.after(() => runCleanup(cleanup));
  const server = await startServer();
  cleanup.push(() => server.kill9());
  const { page } = await launch(cleanup);
  await page.goto(`${server.base}/?topic=stop&blocks=6&delayMs=150&autostart=1`);
  await waitBlocks(page, 1);
  await page.click("#stop");
  await waitStatus(page, "cancelled");
  const snap = await snapshot(server.base, await sessionId(page));
  assert.equal(snap.status, "cancelled");
  const events = await (await fetch(`${server.base}/v1/generations/${snap.id}/events`)).text();
  assert.match(events.trimEnd().split("\n\n").at(-1), /event: error\ndata: .*"stage":"cancelled"/);
});

test("9. several instances: kill -9 of the one running the generation, the page ends clearly on the other", { timeout: TIMEOUT, skip: !onRedis && "SSEKIT_TARGET=redis only" }, async (t) => {
  const cleanup = [];
  t.after(() => runCleanup(cleanup));
  const fleet = await startServer();
  cleanup.push(() => fleet.stopAll());
  const { page } = await launch(cleanup);
  await page.goto(`${fleet.base}/?topic=takeover&blocks=6&delayMs=150&autostart=1`);
  await waitBlocks(page, 2);
  // The instance that runs the pipeline is the one that counted it.
  const started = await Promise.all(fleet.instances.map((i) => generationsStarted(i.base)));
  assert.deepEqual([...started].sort(), [0, 1], `${started}`);
  const owner = fleet.instances[started.indexOf(1)];
  const survivor = fleet.instances[started.indexOf(0)];
  await owner.kill9();
  // The page's stream goes on through nginx on the survivor: every stored event once, then the
  // recoverable interrupted error once the dead owner's lease runs out.
  await waitStatus(page, "error");
  assert.match(await page.locator("#banner").textContent(), /stopped while this generation was running/);
  const snap = await assertBlocksMatchServer(page, survivor.base, { complete: false });
  assert.equal(snap.status, "error");
  assert.ok((await completedBlocks(page)) >= 2);
  // Start again: a new generation, run by the survivor, completes.
  await page.click("#start");
  await waitStatus(page, "complete");
  await assertBlocksMatchServer(page, survivor.base);
});
