// Turns the figures of bench/run (one JSON line per case, system and run) into BENCHMARKS.md, or
// checks a smoke run. Medians over the runs; ratios are taken within each run (same machine, same
// minute) and then their median is quoted.
//
//   node bench/report.mjs --check RESULTS
//   node bench/report.mjs --write BENCHMARKS.md --machine M --versions V --runs N --lease L --commands FILE RESULTS
import { readFileSync, writeFileSync, existsSync } from "node:fs";

const args = process.argv.slice(2);
const opt = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const resultsFile = args[args.length - 1];
const lines = readFileSync(resultsFile, "utf8")
  .split("\n")
  .filter(Boolean)
  .map((l) => JSON.parse(l));

const figures = (l) => l.result?.figures;

// --- smoke check ----------------------------------------------------------------------------
if (args.includes("--check")) {
  const problems = [];
  for (const l of lines) {
    const f = figures(l);
    const where = `${l.case} on ${l.system}`;
    if (!f) problems.push(`${where}: ${l.result?.error ?? "no figures"}`);
    else if (f.skipped) continue;
    else if ((f.lost ?? 0) > 0) problems.push(`${where}: ${f.lost} events lost`);
    else if ((f.errors ?? 0) > 0) problems.push(`${where}: ${f.errors} errors`);
    else if ((f.duplicate_terminals ?? 0) > 0) problems.push(`${where}: ${f.duplicate_terminals} duplicate terminals`);
    else if (f.received !== undefined && f.received !== f.events) problems.push(`${where}: replayed ${f.received} of ${f.events}`);
  }
  for (const p of problems) console.error(`bench smoke: ${p}`);
  console.error(`bench smoke: ${lines.length} runs checked`);
  process.exit(problems.length ? 1 : 0);
}

// --- the report -----------------------------------------------------------------------------
const median = (xs) => {
  const v = xs.filter((x) => typeof x === "number" && Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return undefined;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
};
const get = (o, path) => path.split(".").reduce((x, k) => (x == null ? undefined : x[k]), o);
const runsOf = (c, system) => lines.filter((l) => l.case === c && l.system === system && figures(l));
const med = (c, system, path) => median(runsOf(c, system).map((l) => get(figures(l), path)));
const all = (c, system, path) => runsOf(c, system).map((l) => get(figures(l), path));
/** Median over runs of ssekit's figure divided by the peer's (or the inverse when lower is better). */
const ratio = (c, peer, path, lowerIsBetter = false) => {
  const rs = [];
  for (const l of runsOf(c, "ssekit")) {
    const p = runsOf(c, peer).find((x) => x.run === l.run);
    const a = get(figures(l), path);
    const b = p && get(figures(p), path);
    if (typeof a === "number" && typeof b === "number" && a > 0 && b > 0) rs.push(lowerIsBetter ? b / a : a / b);
  }
  return median(rs);
};

const fmt = (x, digits = 0) => {
  if (x === undefined || x === null) return "–";
  if (typeof x !== "number") return String(x);
  return x.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
};
const fx = (x) => (x === undefined ? "–" : `${x >= 10 ? fmt(x, 0) : fmt(x, 1)}×`);
const peers = ["nchan", "node"];
const names = { ssekit: "ssekit", nchan: "nginx + nchan", node: "plain Node.js", "in-process": "ssekit (in process)" };
const table = (head, rows) =>
  [`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`, ...rows.map((r) => `| ${r.join(" | ")} |`)].join("\n");
const has = (c) => lines.some((l) => l.case === c);

const out = [];
const section = (title, text, head, rows) => {
  out.push(`### ${title}\n`, text ? `${text}\n` : "", table(head, rows), "");
};

if (has("idle")) {
  const n = med("idle", "ssekit", "subscribers");
  section(
    `idle — ${fmt(n)} subscribers held open`,
    "Server RSS growth (VmRSS from /proc; nginx: both workers added up) divided by the subscribers held. Ratio: the peer's memory per subscriber over ssekit's.",
    ["system", "subscribers", "RSS before (MiB)", "RSS with subscribers (MiB)", "per subscriber (KiB)", "connect all (s)", "ssekit is … smaller"],
    ["ssekit", ...peers].map((s) => [
      names[s],
      fmt(med("idle", s, "subscribers")),
      fmt(med("idle", s, "rss_before_kib") / 1024, 1),
      fmt(med("idle", s, "rss_after_kib") / 1024, 1),
      fmt(med("idle", s, "rss_per_subscriber_bytes") / 1024, 2),
      fmt(med("idle", s, "connect_s"), 2),
      s === "ssekit" ? "" : fx(ratio("idle", s, "rss_per_subscriber_bytes", true)),
    ]),
  );
}

const fanoutRows = (c) =>
  ["ssekit", ...peers].map((s) => [
    names[s],
    fmt(med(c, s, "deliveries_per_s")),
    `${fmt(median(all(c, s, "lost")))} (max ${fmt(Math.max(...all(c, s, "lost").filter((x) => typeof x === "number")))})`,
    fmt(med(c, s, "latency.p50_ms"), 1),
    fmt(med(c, s, "latency.p99_ms"), 1),
    fmt(med(c, s, "latency.max_ms"), 1),
    s === "ssekit" ? "" : fx(ratio(c, s, "deliveries_per_s")),
    s === "ssekit" ? "" : fx(ratio(c, s, "latency.p99_ms", true)),
  ]);
const fanoutHead = ["system", "deliveries/s", "lost (median, max)", "p50 ms", "p99 ms", "max ms", "ssekit deliveries/s ÷ peer", "peer p99 ÷ ssekit p99"];
if (has("fanout-max")) {
  const l = runsOf("fanout-max", "ssekit")[0];
  section(
    `fanout, as fast as the server takes it — ${fmt(figures(l)?.subscribers)} subscribers, ${fmt(figures(l)?.events)} events`,
    "One stream; four publishers post as fast as the server accepts (ssekit and Node: batches of 100 events per request; nchan takes one message per request). Deliveries/s = events received by all subscribers ÷ time from the first publish to the last receipt. Latency: receipt time − the send time the publisher wrote into the event (same clock); under saturation it is queueing time.",
    fanoutHead,
    fanoutRows("fanout-max"),
  );
}
if (has("fanout-50k")) {
  const l = runsOf("fanout-50k", "ssekit")[0];
  const f = figures(l);
  section(
    `fanout at ${fmt((f?.offered_rate ?? 0) * (f?.subscribers ?? 0))} deliveries/s — ${fmt(f?.subscribers)} subscribers, ${fmt(f?.offered_rate)} events/s, one event per request`,
    "Append → receipt latency at a fixed, sustainable load.",
    fanoutHead,
    fanoutRows("fanout-50k"),
  );
}
if (has("generations")) {
  section(
    "generations — concurrent demo generations, one subscriber each",
    "ssekit only: the peers have no pipelines (a harness that posted 2,000 generations' events itself, 100 events/s each, would be the bottleneck on 2 cores). Lateness: how much later than the pipeline's own pause each event arrived after the one before it (the demo events carry no send time).",
    ["system", "generations", "delayMs", "events", "events/s", "errors", "lateness p50 ms", "p99 ms", "max ms"],
    [[
      names.ssekit,
      fmt(med("generations", "ssekit", "generations")),
      fmt(med("generations", "ssekit", "delay_ms")),
      fmt(med("generations", "ssekit", "events")),
      fmt(med("generations", "ssekit", "events_per_s")),
      fmt(Math.max(...all("generations", "ssekit", "errors"))),
      fmt(med("generations", "ssekit", "lateness.p50_ms"), 1),
      fmt(med("generations", "ssekit", "lateness.p99_ms"), 1),
      fmt(med("generations", "ssekit", "lateness.max_ms"), 1),
    ]],
  );
}
if (has("replay")) {
  section(
    `replay — one subscriber reads a stream of ${fmt(med("replay", "ssekit", "events"))} events from its start`,
    "ssekit from its sqlite store (published through the HTTP API first); nchan from its message buffer; Node from its in-memory history array.",
    ["system", "events received", "events/s", "ssekit ÷ peer"],
    ["ssekit", ...peers].map((s) => [
      names[s],
      fmt(med("replay", s, "received")),
      fmt(med("replay", s, "events_per_s")),
      s === "ssekit" ? "" : fx(ratio("replay", s, "events_per_s")),
    ]),
  );
}
if (has("append-memory") || has("append-sqlite")) {
  const rows = [];
  const ratioTo = (c, s) => {
    // ssekit's sqlite figure against the peer's (both runs share the run index).
    const rs = [];
    for (const l of runsOf("append-sqlite", "ssekit")) {
      const p = runsOf(c, s).find((x) => x.run === l.run);
      if (p) rs.push(figures(l).events_per_s / figures(p).events_per_s);
    }
    return median(rs);
  };
  rows.push([`${names.ssekit}, sqlite (durable)`, fmt(med("append-sqlite", "ssekit", "events_per_s")), ""]);
  rows.push([`${names.ssekit}, memory`, fmt(med("append-memory", "ssekit", "events_per_s")), ""]);
  for (const s of peers) rows.push([`${names[s]} (memory)`, fmt(med("append-memory", s, "events_per_s")), fx(ratioTo("append-memory", s))]);
  section(
    `append through HTTP — ${fmt(med("append-sqlite", "ssekit", "events"))} events, 4 publishers`,
    "Batches of 100 events per request for ssekit and Node; nchan takes one message per request. ssekit's sqlite store commits each batch (group commit) before its events are delivered.",
    ["system", "events/s", "ssekit sqlite ÷ peer"],
    rows,
  );
}
if (has("store-append-sqlite")) {
  section(
    "append in process — straight into ssekit's stores",
    "64 concurrent appenders, 100 events per append, one stream each; the sqlite store groups concurrent appends into one transaction and commits before it returns.",
    ["store", "events", "events/s"],
    ["sqlite", "memory"].map((s) => [s, fmt(med(`store-append-${s}`, "in-process", "events")), fmt(med(`store-append-${s}`, "in-process", "events_per_s"))]),
  );
}
if (has("churn")) {
  section(
    `churn — ${fmt(med("churn", "ssekit", "cycles"))} cycles of ${fmt(med("churn", "ssekit", "subscribers"))} subscribers connecting and leaving`,
    "RSS before the first cycle, at the peak, and 1 s after the last cycle's subscribers left. A leak shows as growth from cycle to cycle after the first.",
    ["system", "RSS start (MiB)", "peak (MiB)", "end (MiB)", "end vs start", "end vs after cycle 1"],
    ["ssekit", ...peers].map((s) => [
      names[s],
      fmt(med("churn", s, "rss_start_kib") / 1024, 1),
      fmt(med("churn", s, "rss_peak_kib") / 1024, 1),
      fmt(median(runsOf("churn", s).map((l) => figures(l).rss_after_each_cycle_kib?.at(-1))) / 1024, 1),
      `${fmt(med("churn", s, "end_vs_start_pct"), 1)} %`,
      `${fmt(med("churn", s, "growth_after_first_cycle_pct"), 1)} %`,
    ]),
  );
}

// --- several instances on one Redis ----------------------------------------------------------
// Systems are named SYSTEM/STORE/INSTANCES (`ssekit/redis/3`).
const multiName = (s) => {
  const [kind, store, n] = s.split("/");
  const who = kind === "nchan" ? "nginx + nchan" : kind;
  const count = kind === "nchan" ? `${n} nginx instance${n === "1" ? "" : "s"}` : `${n} instance${n === "1" ? "" : "s"}`;
  return `${who}, ${store}, ${count}`;
};
/** Median over runs of a's figure divided by b's, both systems of case c in the same run. */
const ratioOf = (c, a, b, path) => {
  const rs = [];
  for (const l of runsOf(c, a)) {
    const p = runsOf(c, b).find((x) => x.run === l.run);
    const x = get(figures(l), path);
    const y = p && get(figures(p), path);
    if (typeof x === "number" && typeof y === "number" && x > 0 && y > 0) rs.push(x / y);
  }
  return median(rs);
};
const systemsOf = (c) => [...new Set(lines.filter((l) => l.case === c).map((l) => l.system))];
const lease = opt("--lease") ?? "10s";
const leaseS = parseFloat(lease) * (lease.endsWith("ms") ? 0.001 : 1);

if (has("append-redis")) {
  section(
    `append through HTTP on Redis — 4 publishers, ${fmt(med("append-redis", "ssekit/redis/1", "events"))} events (nchan: ${fmt(med("append-redis", "nchan/redis/2", "events"))})`,
    "One Redis, `appendonly yes`, `appendfsync always` (every write on disk before Redis answers), a fresh one per run. The redis-cluster rows: a Redis Cluster of three such masters, no replicas. The publishers are spread over the instances (publisher p through instance p mod n). ssekit: batches of 100 events per request, one Lua script per batch; nchan (Redis storage, `distributed` mode, bench/nchan-redis.conf): one message per request.",
    ["system", "events/s", "ssekit ÷ nchan + Redis"],
    [
      ...systemsOf("append-redis").map((s) => [
        multiName(s),
        fmt(med("append-redis", s, "events_per_s")),
        s.startsWith("nchan") ? "" : fx(ratioOf("append-redis", s, "nchan/redis/2", "events_per_s")),
      ]),
      ...systemsOf("append-redis-single").map((s) => [
        `${multiName(s)}, one event per request`,
        fmt(med("append-redis-single", s, "events_per_s")),
        s.startsWith("nchan") ? "" : fx(ratioOf("append-redis-single", s, "nchan/redis/2", "events_per_s")),
      ]),
    ],
  );
}
if (has("fanout-redis")) {
  const f = figures(runsOf("fanout-redis", "ssekit/redis/3")[0]);
  section(
    `fanout on Redis at ${fmt((f?.offered_rate ?? 0) * (f?.subscribers ?? 0))} deliveries/s — ${fmt(f?.subscribers)} subscribers spread over the instances, ${fmt(f?.offered_rate)} events/s through the first`,
    "Subscribers round-robin over the instances; one publisher, one event per request, through the first instance. Latency: append → receipt (the publisher's send time in the event, same clock). The single-instance sqlite row is the same load on one `ssekit serve --store sqlite:…`. The redis-cluster row: three instances on a 3-master Redis Cluster (the stream lives in one slot, so on one master).",
    ["system", "deliveries/s", "lost (median, max)", "p50 ms", "p99 ms", "max ms", "p99 ÷ ssekit sqlite (1 instance) p99"],
    systemsOf("fanout-redis").map((s) => [
      multiName(s),
      fmt(med("fanout-redis", s, "deliveries_per_s")),
      `${fmt(median(all("fanout-redis", s, "lost")))} (max ${fmt(Math.max(...all("fanout-redis", s, "lost").filter((x) => typeof x === "number")))})`,
      fmt(med("fanout-redis", s, "latency.p50_ms"), 1),
      fmt(med("fanout-redis", s, "latency.p99_ms"), 1),
      fmt(med("fanout-redis", s, "latency.max_ms"), 1),
      s === "ssekit/sqlite/1" ? "" : fx(ratioOf("fanout-redis", s, "ssekit/sqlite/1", "latency.p99_ms")),
    ]),
  );
}
if (has("generations-redis")) {
  section(
    "generations on Redis — concurrent demo generations spread over the instances",
    "Generation i is started through instance i mod n and followed through instance (i + 1) mod n (a round-robin balancer's POST, then GET): with three instances every event crosses Redis pub/sub to reach its subscriber. Lateness as in the generations case.",
    ["system", "generations", "events", "events/s", "errors", "lateness p50 ms", "p99 ms", "max ms"],
    systemsOf("generations-redis").map((s) => [
      multiName(s),
      fmt(med("generations-redis", s, "generations")),
      fmt(med("generations-redis", s, "events")),
      fmt(med("generations-redis", s, "events_per_s")),
      fmt(Math.max(...all("generations-redis", s, "errors"))),
      fmt(med("generations-redis", s, "lateness.p50_ms"), 1),
      fmt(med("generations-redis", s, "lateness.p99_ms"), 1),
      fmt(med("generations-redis", s, "lateness.max_ms"), 1),
    ]),
  );
}
if (has("takeover")) {
  section(
    `takeover — \`kill -9\` of the instance that owns running generations (lease ${lease})`,
    "Generations started through the first of three instances on one Redis, each followed through one of the other two; once every subscriber has an event, the first instance gets SIGKILL. Time from the kill to the `interrupted` terminal (written by another instance's sweep once the lease has run out) at each subscriber.",
    ["system", "generations", "interrupted", "duplicate terminals", "errors", "p50 s", "max s"],
    systemsOf("takeover").map((s) => [
      multiName(s),
      fmt(med("takeover", s, "generations")),
      fmt(med("takeover", s, "interrupted")),
      fmt(Math.max(...all("takeover", s, "duplicate_terminals"))),
      fmt(Math.max(...all("takeover", s, "errors"))),
      fmt(med("takeover", s, "takeover.p50_ms") / 1000, 2),
      fmt(med("takeover", s, "takeover.max_ms") / 1000, 2),
    ]),
  );
}

// --- targets --------------------------------------------------------------------------------
const targets = [];
const verdict = (ok) => (ok === undefined ? "–" : ok ? "met" : "**missed**");
if (has("idle")) {
  const per = med("idle", "ssekit", "rss_per_subscriber_bytes") / 1024;
  targets.push(["idle", "15,000 subscribers; ≤ 4 KiB RSS each", `${fmt(med("idle", "ssekit", "subscribers"))} held; ${fmt(per, 2)} KiB each`, verdict(per <= 4 && med("idle", "ssekit", "subscribers") >= 15000)]);
}
if (has("fanout-max")) {
  const r = ratio("fanout-max", "nchan", "deliveries_per_s");
  const lost = Math.max(...all("fanout-max", "ssekit", "lost"));
  targets.push(["fanout, max", "≥ 3× nchan's deliveries/s, 0 lost", `${fx(r)} nchan; ${fmt(lost)} lost`, verdict(r >= 3 && lost === 0)]);
}
if (has("fanout-50k")) {
  const p99 = med("fanout-50k", "ssekit", "latency.p99_ms");
  const lost = Math.max(...all("fanout-50k", "ssekit", "lost"));
  targets.push(["fanout, 50,000 deliveries/s", "p99 ≤ 10 ms, 0 lost", `p99 ${fmt(p99, 1)} ms (nchan ${fmt(med("fanout-50k", "nchan", "latency.p99_ms"), 1)} ms); ${fmt(lost)} lost`, verdict(p99 <= 10 && lost === 0)]);
}
if (has("generations")) {
  const p99 = med("generations", "ssekit", "lateness.p99_ms");
  const errors = Math.max(...all("generations", "ssekit", "errors"));
  targets.push(["generations", "2,000 at delayMs 10; 0 errors; p99 ≤ 20 ms", `${fmt(med("generations", "ssekit", "generations"))}; ${fmt(errors)} errors; p99 ${fmt(p99, 1)} ms`, verdict(errors === 0 && p99 <= 20)]);
}
if (has("replay")) {
  const r = med("replay", "ssekit", "events_per_s");
  targets.push(["replay", "≥ 1,000,000 events/s from sqlite", `${fmt(r)} events/s`, verdict(r >= 1e6)]);
}
if (has("append-sqlite") || has("store-append-sqlite")) {
  const http = med("append-sqlite", "ssekit", "events_per_s");
  const inproc = med("store-append-sqlite", "in-process", "events_per_s");
  targets.push(["append", "≥ 200,000 events/s into sqlite, batched durable commits", `HTTP ${fmt(http)}; in process ${fmt(inproc)} events/s`, verdict(http >= 2e5 && inproc >= 2e5)]);
}
if (has("churn")) {
  const end = med("churn", "ssekit", "end_vs_start_pct");
  const growth = med("churn", "ssekit", "growth_after_first_cycle_pct");
  targets.push(["churn", "RSS back within 10 % of its start", `end ${fmt(end, 1)} % vs start; ${fmt(growth, 1)} % vs after cycle 1`, verdict(Math.abs(end) <= 10)]);
}

if (has("append-redis")) {
  const r = ratioOf("append-redis", "ssekit/redis/3", "nchan/redis/2", "events_per_s");
  targets.push(["append on Redis", "≥ 2× nchan + Redis publishing, `appendfsync always`", `${fmt(med("append-redis", "ssekit/redis/3", "events_per_s"))} events/s over 3 instances, ${fx(r)} nchan + Redis`, verdict(r === undefined ? undefined : r >= 2)]);
}
if (has("fanout-redis")) {
  const r = ratioOf("fanout-redis", "ssekit/redis/3", "ssekit/sqlite/1", "latency.p99_ms");
  const lost = Math.max(...all("fanout-redis", "ssekit/redis/3", "lost"));
  targets.push(["fanout on Redis", "p99 ≤ 1.5× one sqlite instance's at the same deliveries/s", `p99 ${fmt(med("fanout-redis", "ssekit/redis/3", "latency.p99_ms"), 1)} ms vs ${fmt(med("fanout-redis", "ssekit/sqlite/1", "latency.p99_ms"), 1)} ms (${fx(r)}); ${fmt(lost)} lost`, verdict(r === undefined ? undefined : r <= 1.5 && lost === 0)]);
}
if (has("generations-redis")) {
  const errors = Math.max(...all("generations-redis", "ssekit/redis/3", "errors"));
  targets.push(["generations on Redis", "2,000 over 3 instances; 0 errors; lateness p99 reported", `${fmt(med("generations-redis", "ssekit/redis/3", "generations"))}; ${fmt(errors)} errors; p99 ${fmt(med("generations-redis", "ssekit/redis/3", "lateness.p99_ms"), 1)} ms`, verdict(errors === 0)]);
}
if (has("takeover")) {
  const max = Math.max(...all("takeover", "ssekit/redis/3", "takeover.max_ms")) / 1000;
  const bad = Math.max(...all("takeover", "ssekit/redis/3", "errors")) + Math.max(...all("takeover", "ssekit/redis/3", "duplicate_terminals"));
  targets.push(["takeover", `\`interrupted\` ≤ lease + 1 s after \`kill -9\` of the owner (lease ${lease})`, `max ${fmt(max, 2)} s over every subscriber of every run; ${fmt(bad)} missing or duplicate`, verdict(Number.isFinite(max) ? max <= leaseS + 1 && bad === 0 : undefined)]);
}

const commands = opt("--commands") ? readFileSync(opt("--commands"), "utf8").trim() : "";
const generated = [
  "<!-- generated by bench/run: everything below this line is rewritten on each run -->",
  "",
  "## Figures",
  "",
  `Measured ${new Date().toISOString().replace(/\.\d+Z$/, "Z")} with \`bench/run\` (${opt("--runs")} runs; medians quoted; ratios taken within each run, then their median).`,
  "",
  `- Machine: ${opt("--machine")}`,
  `- Versions: ${opt("--versions")}`,
  "- Every system runs on 127.0.0.1 with the load generator (`ssekit-bench`) on the same machine, each case on a freshly started server: ssekit `serve --store sqlite:…` (the appends' memory row: `--store memory`; the redis cases: `--store redis://…` on one fresh `redis-server --appendonly yes --appendfsync always --save ''`, several instances on it; the redis-cluster rows: `--store redis-cluster://…` on a fresh Cluster of three such masters), nginx + nchan with `bench/nchan.conf` (2 workers), Node with `bench/node-peer.mjs`.",
  "",
  "### Targets",
  "",
  table(["scenario", "target", "measured (ssekit, median)", ""], targets),
  "",
  ...out,
  "### Commands",
  "",
  "The whole run: `bench/run` (or `bench/run --smoke` for a tiny one). Each case, per system (`--system ssekit|nchan|node --url URL --pid PID` added by the script):",
  "",
  "```",
  commands,
  "```",
  "",
];

const file = opt("--write");
const marker = "<!-- generated by bench/run";
let head = `# Benchmarks

ssekit against what its users would otherwise run: nginx with the nchan module, and a plain
Node.js server of the original pattern (\`bench/node-peer.mjs\`). Everything below the marker is
written by \`bench/run\`; this part is kept.

## What changed and what it bought

`;
if (existsSync(file)) {
  const old = readFileSync(file, "utf8");
  const i = old.indexOf(marker);
  head = i >= 0 ? old.slice(0, i) : old + "\n";
}
writeFileSync(file, head + generated.join("\n"));
console.error(`wrote ${file}`);
