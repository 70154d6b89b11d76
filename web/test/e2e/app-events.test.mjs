// Application events in the browser: a page of another kind of job (an import) follows a
// publish stream with handlers for its own `import.*` events, through a reload mid-stream, and
// sees each event once, in order, with its id.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { test } from "node:test";
import { launch, runCleanup, startServer, webRoot, PATIENCE } from "./support.mjs";

const TIMEOUT = 120_000;

/** The import page: the stream's URL comes in the hash; its position is kept in sessionStorage. */
const PAGE = `<!doctype html><meta charset="utf-8"><title>import</title>
<progress id="bar" value="0" max="1"></progress><p id="status">importing</p>
<script type="module">
import { connect } from "/ssekit.js";
const url = location.hash.slice(1) ? decodeURIComponent(location.hash.slice(1)) : sessionStorage.getItem("url");
sessionStorage.setItem("url", url);
window.__seen = JSON.parse(sessionStorage.getItem("seen") ?? "[]");
const keep = (name, id) => {
  window.__seen.push([name, id]);
  sessionStorage.setItem("seen", JSON.stringify(window.__seen));
  sessionStorage.setItem("last", id);
};
window.conn = connect(url, {
  "import.progress": ({ done, total }, id) => {
    document.querySelector("#bar").value = done / total;
    keep("import.progress", id);
  },
  "import.done": ({ rows, skipped }, id) => {
    document.querySelector("#status").textContent = rows + " rows, " + skipped.length + " skipped";
    keep("import.done", id);
  },
  "generation-complete": (_data, id) => keep("generation-complete", id),
  onEnd: () => document.body.dataset.ended = "1",
}, { lastEventId: sessionStorage.getItem("last") });
</script>`;

function startSite(cleanup) {
  const server = createServer((req, res) => {
    const path = new URL(req.url, "http://x").pathname;
    if (path === "/") return res.writeHead(200, { "content-type": "text/html" }).end(PAGE);
    if (path === "/ssekit.js") {
      return res.writeHead(200, { "content-type": "text/javascript" }).end(readFileSync(join(webRoot, "dist", "ssekit.js")));
    }
    res.writeHead(404).end();
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => {
      cleanup.push(() => new Promise((r) => server.close(() => r())));
      resolve({ base: `http://127.0.0.1:${server.address().port}` });
    }),
  );
}

async function publish(base, stream, events) {
  const res = await fetch(`${base}/v1/streams/${stream.id}/events`, {
    method: "POST",
    headers: { authorization: `Bearer ${stream.publishToken}`, "content-type": "application/json" },
    body: JSON.stringify({ events: events.map(([event, data]) => ({ event, data })) }),
  });
  assert.equal(res.status, 201, await res.text());
}

const seen = (page) => page.evaluate(() => window.__seen.length);

test("application events: typed handlers in the browser, resumed after a reload, each once", { timeout: TIMEOUT }, async (t) => {
  const cleanup = [];
  t.after(() => runCleanup(cleanup));
  const server = await startServer();
  cleanup.push(() => server.kill9());
  const site = await startSite(cleanup);
  const created = await fetch(`${server.base}/v1/streams`, { method: "POST" });
  assert.equal(created.status, 201);
  const stream = await created.json();
  const eventsUrl = new URL(stream.eventsUrl, server.base).toString();
  const { page } = await launch(cleanup);

  await publish(server.base, stream, [["import.progress", { done: 100, total: 300 }]]);
  await page.goto(`${site.base}/#${encodeURIComponent(eventsUrl)}`);
  await page.waitForFunction(() => window.__seen?.length === 1, null, { timeout: PATIENCE });
  await publish(server.base, stream, [["import.progress", { done: 200, total: 300 }]]);
  await page.waitForFunction(() => window.__seen.length === 2, null, { timeout: PATIENCE });
  assert.equal(await page.$eval("#bar", (b) => b.value.toFixed(2)), "0.67");

  // Reload: the page resumes after its last event; what was published meanwhile arrives once.
  await page.goto("about:blank");
  await publish(server.base, stream, [["import.progress", { done: 300, total: 300 }]]);
  await page.goto(`${site.base}/`);
  await page.waitForFunction(() => window.__seen?.length === 3, null, { timeout: PATIENCE });
  await publish(server.base, stream, [
    ["import.done", { rows: 298, skipped: ["row 17: no email", "row 212: duplicate"] }],
    ["generation-complete", { success: true, totalDuration: 2400 }],
  ]);
  await page.waitForFunction(() => document.body.dataset.ended === "1", null, { timeout: PATIENCE });

  assert.equal(await page.textContent("#status"), "298 rows, 2 skipped");
  assert.deepEqual(await page.evaluate(() => window.__seen), [
    ["import.progress", `${stream.id}:1`],
    ["import.progress", `${stream.id}:2`],
    ["import.progress", `${stream.id}:3`],
    ["import.done", `${stream.id}:4`],
    ["generation-complete", `${stream.id}:5`],
  ]);
  assert.equal(await seen(page), 5);
});
