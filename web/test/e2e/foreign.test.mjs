// The demo page and a server that is not ssekit: a link's `?api=` is refused unless the page's
// server allows that origin, and what an allowed server sends is sanitized in the browser.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { test } from "node:test";
import { launch, onWorker, runCleanup, startServer, startStatic, waitStatus } from "./support.mjs";

const TIMEOUT = 120_000;

/** Block HTML that runs script wherever it is set unsanitized. */
const HOSTILE_HTML =
  `<p id="visible">kept</p><img id="probe" src="/no-such-image.png" onerror="window.__pwned='img onerror'">` +
  `<script>window.__pwned='script'</script><a id="evil-link" href="javascript:window.__pwned='link'">click</a>` +
  `<iframe src="javascript:parent.__pwned='iframe'"></iframe><svg><script>window.__pwned='svg'</script></svg>`;

/** A server speaking ssekit's API from another origin (CORS open), sending a stream whose HTML
 * and URLs no ssekit server would have let through. Counts the requests it gets. */
function startForeign(cleanup) {
  const events = [
    ["generation-start", { sessionId: "gen_evil", totalBlocks: 1, model: "m" }],
    ["block-start", { blockIndex: 0, blockId: "b0", title: "Evil" }],
    ["block-content", { blockIndex: 0, html: HOSTILE_HTML }],
    ["image-placeholder", { blockIndex: 0, imageId: "img-0", alt: "an image" }],
    ["image-ready", { blockIndex: 0, imageId: "img-0", url: "javascript:window.__pwned='image url'" }],
    ["block-complete", { blockIndex: 0, blockId: "b0" }],
    ["persist-complete", { url: "javascript:window.__pwned='document link'", target: "store" }],
    ["generation-complete", { success: true, totalDuration: 1 }],
  ];
  const stats = { requests: 0 };
  const cors = {
    "access-control-allow-origin": "*",
    "access-control-allow-methods": "GET, POST, DELETE",
    "access-control-allow-headers": "content-type, last-event-id",
  };
  const server = createServer((req, res) => {
    stats.requests++;
    const path = new URL(req.url, "http://x").pathname;
    if (req.method === "OPTIONS") return res.writeHead(204, cors).end();
    if (req.method === "POST" && path === "/v1/generations") {
      req.resume();
      return res
        .writeHead(201, { ...cors, "content-type": "application/json" })
        .end(JSON.stringify({ id: "gen_evil", eventsUrl: "/v1/generations/gen_evil/events" }));
    }
    if (path === "/v1/generations/gen_evil/events") {
      const body = events.map(([name, data], i) => `event: ${name}\ndata: ${JSON.stringify(data)}\nid: gen_evil:${i + 1}\n\n`);
      return res.writeHead(200, { ...cors, "content-type": "text/event-stream" }).end(body.join(""));
    }
    res.writeHead(404, cors).end();
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => {
      cleanup.push(() => new Promise((r) => server.close(() => r())));
      resolve({ base: `http://127.0.0.1:${server.address().port}`, stats });
    }),
  );
}

/** The page with a counter of `error` events (seen, in the capture phase, before any inline
 * `onerror` handler on the target runs). */
async function page(cleanup) {
  const { page } = await launch(cleanup);
  await page.addInitScript(() => {
    window.__errors = 0;
    document.addEventListener("error", () => window.__errors++, true);
  });
  return page;
}

/** Nothing of the hostile stream ran or made it into a `src`/`href`/handler attribute. */
async function assertNothingRan(page) {
  // The probe image fails to load whether or not its handler was stripped: once its error event
  // was dispatched, an unsanitized `onerror` would have run in that same dispatch.
  await page.waitForFunction(() => window.__errors >= 1);
  assert.equal(await page.evaluate(() => window.__pwned), undefined, "no script of the stream ran");
  const attrs = await page.$$eval("*", (els) =>
    els.flatMap((el) => [...el.attributes].map((a) => `${el.tagName.toLowerCase()} ${a.name}=${a.value}`)),
  );
  assert.deepEqual(attrs.filter((a) => / on\w+=/.test(a) || /=\s*(javascript|data):/i.test(a)), []);
  assert.equal(await page.locator("script:not([src])").count(), 0);
  assert.equal(await page.locator("iframe, svg script").count(), 0);
}

test("a link's ?api= to a server the page's server does not allow is refused, with nothing fetched", { timeout: TIMEOUT }, async (t) => {
  const cleanup = [];
  t.after(() => runCleanup(cleanup));
  const server = await startServer();
  cleanup.push(() => server.kill9());
  const foreign = await startForeign(cleanup);
  const p = await page(cleanup);
  await p.goto(`${server.base}/?api=${encodeURIComponent(foreign.base)}&topic=x&blocks=1&autostart=1`);
  await waitStatus(p, "error");
  assert.match(await p.locator("#banner").textContent(), /only from its own origin/);
  // Pressing Start does not follow it either.
  await p.click("#start");
  await waitStatus(p, "error");
  assert.equal(foreign.stats.requests, 0, "the page sent nothing to the foreign server");
  assert.equal(await p.locator("[data-block-index]").count(), 0);
});

test("an allowed foreign server's script-bearing HTML and javascript: URLs are sanitized in the browser", { timeout: TIMEOUT }, async (t) => {
  const cleanup = [];
  t.after(() => runCleanup(cleanup));
  const foreign = await startForeign(cleanup);
  const site = await startStatic(cleanup, { apiOrigins: [foreign.base] });
  const p = await page(cleanup);
  await p.goto(`${site.base}/?api=${encodeURIComponent(foreign.base)}&topic=x&blocks=1&autostart=1`);
  await waitStatus(p, "complete");
  assert.ok(foreign.stats.requests >= 2, "the allowed server was followed");
  assert.equal(await p.locator(".ssekit-block-body #visible").textContent(), "kept");
  assert.equal(await p.locator(".ssekit-block-body #probe").count(), 1, "the image stays, without its handler");
  await assertNothingRan(p);
  // The link lost its href: clicking it goes nowhere.
  assert.equal(await p.locator("#evil-link").getAttribute("href"), null);
  // The javascript: image URL stays a placeholder; the javascript: document is no link.
  assert.equal(await p.locator(".ssekit-block-images img").count(), 0);
  assert.equal(await p.locator("#document-link").count(), 0);
});

test("ssekit serve --demo-api-origin lets its page follow that origin, sanitized", { timeout: TIMEOUT, skip: onWorker && "the Worker's DEMO_API_ORIGINS comes from its environment" }, async (t) => {
  const cleanup = [];
  t.after(() => runCleanup(cleanup));
  const foreign = await startForeign(cleanup);
  const server = await startServer({ args: ["--demo-api-origin", foreign.base] });
  cleanup.push(() => server.kill9());
  const p = await page(cleanup);
  await p.goto(`${server.base}/?api=${encodeURIComponent(foreign.base)}&topic=x&blocks=1&autostart=1`);
  await waitStatus(p, "complete");
  await assertNothingRan(p);
  assert.equal(await p.locator("#document-link").count(), 0);
});

test("the demo page's CSP stops an inline handler that got past both sanitizers", { timeout: TIMEOUT }, async (t) => {
  const cleanup = [];
  t.after(() => runCleanup(cleanup));
  const server = await startServer();
  cleanup.push(() => server.kill9());
  const p = await page(cleanup);
  const res = await p.goto(`${server.base}/`);
  assert.match(res.headers()["content-security-policy"], /script-src 'self'/);
  // As if HTML reached the page unsanitized: its handler must not run.
  await p.evaluate(() =>
    document.body.insertAdjacentHTML("beforeend", `<img src="/no-such-image.png" onerror="window.__pwned='handler'">`),
  );
  await p.waitForFunction(() => window.__errors >= 1);
  assert.equal(await p.evaluate(() => window.__pwned), undefined);
});
