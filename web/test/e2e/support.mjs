// What the browser tests share: the real ssekit binary, Debian's Chromium, a dropping proxy,
// and a static server for a second origin.
import { spawn } from "node:child_process";
import { createHmac } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import net from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
export const webRoot = join(here, "..", "..");
const BIN = process.env.SSEKIT_BIN ?? join(webRoot, "..", "target", "debug", "ssekit");
export const PATIENCE = 60_000;

/** A fresh temporary directory, removed by `cleanup`. */
export function tempDir(cleanup) {
  const dir = mkdtempSync(join(tmpdir(), "ssekit-e2e-"));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The target under test: `SSEKIT_TARGET=worker` runs the Worker under workerd instead;
 * `SSEKIT_TARGET=redis`, two `ssekit serve` instances on one Redis behind nginx
 * (deploy/nginx.conf), `base` being nginx's URL. */
export const onWorker = process.env.SSEKIT_TARGET === "worker";
export const onRedis = process.env.SSEKIT_TARGET === "redis";

/** A free loopback port below the kernel's ephemeral range: a port from that range (what
 * listening on port 0 hands out) may be taken as the source of an outgoing connection before
 * workerd binds it. */
async function freePort() {
  let low = 32768;
  try {
    low = Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").split(/\s+/)[0]) || low;
  } catch {}
  const listens = (port) =>
    new Promise((resolve) => {
      const s = net.createServer();
      s.once("error", () => resolve(false));
      s.listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
    });
  for (let i = 0; i < 1000; i++) {
    const port = 10_000 + Math.floor(Math.random() * Math.max(1, low - 10_000));
    if (await listens(port)) return port;
  }
  throw new Error("no free port below the ephemeral range");
}

/** The Worker's variables for the server flags of `args` that have one (as the Rust harness maps
 * them); the others are native-only and left out, as before. */
function workerEnv(args) {
  const vars = {
    "--auth-secret": "SSEKIT_AUTH_SECRET",
    "--auth-token-secret": "SSEKIT_AUTH_TOKEN_SECRET",
    "--auth-audience": "SSEKIT_AUTH_AUDIENCE",
    "--auth-issuer": "SSEKIT_AUTH_ISSUER",
  };
  const env = {};
  for (let i = 0; i < args.length; i++) {
    if (vars[args[i]]) env[vars[args[i]]] = args[++i] ?? "";
  }
  return env;
}

/** The Worker under `workerd serve`, on 127.0.0.1 (a free port, or `addr`), storage on disk. */
async function startWorker({ dataDir = null, addr = "127.0.0.1:0", args = [] } = {}) {
  if (addr.endsWith(":0")) addr = `127.0.0.1:${await freePort()}`;
  const state = dataDir ? join(dataDir, "worker-state") : mkdtempSync(join(tmpdir(), "ssekit-worker-"));
  mkdirSync(state, { recursive: true });
  const root = join(webRoot, "..", "worker");
  const proc = spawn(
    process.env.SSEKIT_WORKERD ?? join(root, "node_modules", ".bin", "workerd"),
    ["serve", join(root, "build", "workerd.capnp"), `--socket-addr=http=${addr}`, `--directory-path=state=${state}`],
    { stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, SSEKIT_RETRY_MS: "300", ...workerEnv(args) } },
  );
  for (let i = 0; ; i++) {
    // An HTTP answer, not a bare TCP connect: while nothing listens on a port of the ephemeral
    // range, a connect to it can pick that port as its source and connect to itself.
    const up = await fetch(`http://${addr}/healthz`).then((r) => r.ok, () => false);
    if (up) break;
    if (i > 300 || proc.exitCode !== null) throw new Error(`workerd did not listen on ${addr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return serverHandle({ base: `http://${addr}`, addr, dataDir, args, proc });
}

function serverHandle({ base, addr, dataDir, args, proc }) {
  return {
    base,
    addr,
    dataDir,
    args,
    proc,
    /** kill -9: nothing graceful. */
    kill9() {
      return new Promise((r) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return r();
        proc.once("exit", () => r());
        proc.kill("SIGKILL");
      });
    },
  };
}

/** Processes that outlive a test's handle (Redis, nginx): killed when the test file's process
 * exits, whatever happened. */
const lingering = new Set();
process.on("exit", () => {
  for (const p of lingering) p.kill(p.spawnfile === "nginx" ? "SIGTERM" : "SIGKILL");
});

/** Stops `proc`: SIGKILL, but SIGTERM for nginx, whose master then stops its workers (a
 * SIGKILLed master leaves them running). */
function untilExit(proc) {
  return new Promise((r) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return r();
    proc.once("exit", () => r());
    proc.kill(proc.spawnfile === "nginx" ? "SIGTERM" : "SIGKILL");
  });
}

async function waitFor(check, what) {
  for (let i = 0; ; i++) {
    if (await check()) return;
    if (i > 600) throw new Error(`${what} did not start`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** `SSEKIT_TARGET=redis`: a Redis (AOF, files in `dataDir` or a scratch directory), two
 * instances on it, nginx in front running deploy/nginx.conf with its listen port and instance
 * lines replaced. `kill9` kills both instances (Redis and nginx keep running), `restart` starts
 * them again on their ports; `instances` are the two, each with its own `base` and `kill9`. */
async function startFleet({ dataDir = null, args = [] } = {}) {
  const redisDir = dataDir ? join(dataDir, "redis") : mkdtempSync(join(tmpdir(), "ssekit-redis-"));
  mkdirSync(redisDir, { recursive: true });
  const redisPort = await freePort();
  const redis = spawn(
    "redis-server",
    ["--port", String(redisPort), "--bind", "127.0.0.1", "--dir", redisDir, "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--loglevel", "warning"],
    { stdio: ["ignore", "ignore", "inherit"] },
  );
  // Neither keeps the test file's process alive: they are killed when it exits.
  redis.unref();
  lingering.add(redis);
  await waitFor(
    () =>
      new Promise((resolve) => {
        const s = net.connect(redisPort, "127.0.0.1", () => s.end("PING\r\n"));
        s.once("data", (d) => resolve(d.toString().startsWith("+PONG")));
        s.once("error", () => resolve(false));
      }),
    "redis-server",
  );
  const store = `redis://127.0.0.1:${redisPort}`;
  const own = ["--store", store, "--lease", "3s", ...args];
  const addrs = [`127.0.0.1:${await freePort()}`, `127.0.0.1:${await freePort()}`];
  let instances = await Promise.all(addrs.map((addr) => startNative({ addr, args: own, storeArgs: [] })));

  const nginxDir = mkdtempSync(join(tmpdir(), "ssekit-nginx-"));
  chmodSync(nginxDir, 0o755); // nginx started as root runs its workers as `nobody`
  mkdirSync(join(nginxDir, "logs"));
  const nginxPort = await freePort();
  let conf = readFileSync(join(webRoot, "..", "deploy", "nginx.conf"), "utf8");
  const marked = conf.split("\n").filter((l) => l.trimEnd().endsWith("# instance"));
  if (!marked.length) throw new Error("deploy/nginx.conf marks no `# instance` line");
  const options = marked[0].trim().replace(/# instance$/, "").trim().replace(/;$/, "").split(/\s+/).slice(2).join(" ");
  conf = conf
    .split("\n")
    .filter((l) => l === marked[0] || !marked.includes(l))
    .map((l) => (l === marked[0] ? addrs.map((a) => `        server ${a} ${options};`).join("\n") : l))
    .map((l) => (l.trimStart().startsWith("listen ") ? `        listen 127.0.0.1:${nginxPort};` : l))
    .join("\n");
  writeFileSync(join(nginxDir, "nginx.conf"), conf);
  const nginx = spawn("nginx", ["-p", nginxDir, "-c", join(nginxDir, "nginx.conf"), "-e", "stderr", "-g", "daemon off;"], {
    stdio: ["ignore", "ignore", "inherit"],
  });
  nginx.unref();
  lingering.add(nginx);
  const base = `http://127.0.0.1:${nginxPort}`;
  await waitFor(() => fetch(`${base}/healthz`).then((r) => r.ok, () => false), "nginx");

  const handle = {
    base,
    addr: `127.0.0.1:${nginxPort}`,
    dataDir,
    args,
    get instances() {
      return instances;
    },
    async kill9() {
      await Promise.all(instances.map((i) => i.kill9()));
    },
    async restart() {
      await handle.kill9();
      instances = await Promise.all(addrs.map((addr) => retrying(() => startNative({ addr, args: own, storeArgs: [] }))));
      return handle;
    },
    /** Redis and nginx too: the end of the test. */
    async stopAll() {
      await handle.kill9();
      // Waited for: their exits keep the loop alive again.
      nginx.ref();
      redis.ref();
      await untilExit(nginx);
      await untilExit(redis);
      lingering.delete(nginx);
      lingering.delete(redis);
      rmSync(nginxDir, { recursive: true, force: true });
      if (!dataDir) rmSync(redisDir, { recursive: true, force: true });
    },
  };
  return handle;
}

async function retrying(start) {
  for (let i = 0; ; i++) {
    try {
      return await start();
    } catch (e) {
      if (i > 20) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** `ssekit serve` (or the Worker, see `onWorker`; or two instances behind nginx, see
 * `onRedis`) on 127.0.0.1 (a free port, or `addr`); resolves once it listens. */
export function startServer({ dataDir = null, addr = "127.0.0.1:0", args = [] } = {}) {
  if (onWorker) return startWorker({ dataDir, addr, args });
  if (onRedis) return startFleet({ dataDir, args });
  const store = dataDir ? `sqlite:${join(dataDir, "ssekit.db")}` : "memory";
  return startNative({ dataDir, addr, args, storeArgs: ["--store", store] });
}

function startNative({ dataDir = null, addr, args, storeArgs }) {
  const proc = spawn(BIN, ["serve", "--addr", addr, ...storeArgs, "--retry", "300ms", ...args], {
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, SSEKIT_LOG: "warn" },
  });
  return new Promise((resolve, reject) => {
    let out = "";
    proc.on("exit", (code) => reject(new Error(`ssekit exited (${code}) before listening: ${out}`)));
    proc.stdout.on("data", (d) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        proc.removeAllListeners("exit");
        resolve(serverHandle({ base: m[1], addr: m[1].replace("http://", ""), dataDir, args, proc }));
      }
    });
  });
}

/** The same server again on the same address and store, after a kill -9. */
export async function restart(server) {
  if (server.restart) return server.restart();
  await server.kill9();
  for (let i = 0; ; i++) {
    try {
      return await startServer({ dataDir: server.dataDir, addr: server.addr, args: server.args });
    } catch (e) {
      if (i > 20) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

export async function launch(cleanup) {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      "--disable-quic",
    ],
  });
  cleanup.push(() => browser.close());
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  const page = await context.newPage();
  page.on("pageerror", (e) => console.error("page error:", e));
  return { browser, context, page };
}

export async function waitStatus(page, status, timeout = PATIENCE) {
  await page.waitForSelector(`#app[data-status="${status}"]`, { timeout });
}

/** Blocks completed on the page. */
export async function completedBlocks(page) {
  return page.locator('[data-block-index][data-status="complete"]').count();
}

export async function waitBlocks(page, n, timeout = PATIENCE) {
  await page.waitForFunction((n) => document.querySelectorAll('[data-block-index][data-status="complete"]').length >= n, n, { timeout });
}

/** The page's blocks: index, title, HTML and image URLs, in document order. */
export async function pageBlocks(page) {
  return page.$$eval("[data-block-index]", (els) =>
    els.map((el) => ({
      index: Number(el.dataset.blockIndex),
      status: el.dataset.status,
      title: el.querySelector(".ssekit-block-title")?.textContent ?? null,
      html: el.querySelector(".ssekit-block-body")?.innerHTML ?? "",
      images: [...el.querySelectorAll("img")].map((i) => ({ src: new URL(i.src).pathname, loaded: i.complete && i.naturalWidth > 0 })),
    })),
  );
}

/** A stream's JSON snapshot (with `token` as a bearer header, for a server with auth on). */
export async function snapshot(base, id, token = null) {
  const res = await fetch(`${base}/v1/generations/${id}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return res.json();
}

/** A JWT for a server started with `--auth-secret secret` (HS256): `grant` is its `ssekit`
 * claim, e.g. `{create: true, subscribe: ["gen_*"]}`; valid for `ttl` seconds. */
export function mintToken(secret, grant, ttl = 3600) {
  const part = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const now = Math.floor(Date.now() / 1000);
  const signed = `${part({ alg: "HS256", typ: "JWT" })}.${part({ iat: now, exp: now + ttl, ssekit: grant })}`;
  return `${signed}.${createHmac("sha256", secret).update(signed).digest("base64url")}`;
}

/** The generation id the page follows. */
export async function sessionId(page) {
  return page.evaluate(() => JSON.parse(sessionStorage.getItem("ssekit-generation") ?? "{}").sessionId ?? null);
}

export async function generationsStarted(base) {
  const text = await (await fetch(`${base}/metrics`)).text();
  return Number(/^ssekit_generations_started_total (\d+)$/m.exec(text)?.[1] ?? NaN);
}

/** One pipeline ran, not two: the native server counts them in its metrics. The Worker has no
 * process-wide metrics (isolates come and go); there the page keeping its session id and its
 * blocks matching the server's snapshot are the proof. */
export async function assertOnePipeline(base) {
  if (onWorker) return;
  const started = await generationsStarted(base);
  if (started !== 1) throw new Error(`${started} generations started, expected 1`);
}

/** A TCP proxy to `target` whose open connections can be cut at will. */
export function startProxy(target, cleanup) {
  const [host, port] = target.replace("http://", "").split(":");
  const sockets = new Set();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(port), host);
    sockets.add(client);
    sockets.add(upstream);
    const done = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.pipe(upstream).on("error", done);
    upstream.pipe(client).on("error", done);
    client.on("close", done);
    upstream.on("close", done);
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => {
      cleanup.push(() => new Promise((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }));
      resolve({
        base: `http://127.0.0.1:${server.address().port}`,
        /** Cuts every open connection (the server keeps running). */
        dropAll() {
          const n = sockets.size;
          for (const s of sockets) s.destroy();
          return n;
        },
      });
    }),
  );
}

/** Serves web/dist on another origin (the page's files only; no API), its page allowed to
 * follow the API of `apiOrigins` (as `ssekit serve --demo-api-origin` renders it). */
export function startStatic(cleanup, { apiOrigins = [] } = {}) {
  const files = {
    "/": ["index.html", "text/html"],
    "/assets/demo.js": ["demo.js", "text/javascript"],
    "/assets/ssekit.js": ["ssekit.js", "text/javascript"],
    "/assets/ssekit.css": ["ssekit.css", "text/css"],
  };
  const server = createServer((req, res) => {
    const f = files[new URL(req.url, "http://x").pathname];
    if (!f) return res.writeHead(404).end();
    let body = readFileSync(join(webRoot, "dist", f[0]));
    if (f[0] === "index.html") {
      const meta = '<meta name="ssekit-api-origins" content="">';
      body = body.toString().replace(meta, meta.replace('content=""', `content="${apiOrigins.join(" ")}"`));
    }
    res.writeHead(200, { "content-type": f[1] }).end(body);
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => {
      cleanup.push(() => new Promise((r) => server.close(() => r())));
      resolve({ base: `http://127.0.0.1:${server.address().port}` });
    }),
  );
}

/** Runs the cleanups in reverse order, never throwing. */
export async function runCleanup(cleanup) {
  while (cleanup.length) {
    try {
      await cleanup.pop()();
    } catch {
      // best effort: the test's own failure is what matters
    }
  }
}
