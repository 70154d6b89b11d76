import assert from "node:assert/strict";
import { beforeEach, test } from "node:test";
import { Backoff } from "../../src/backoff";
import { connect, type ConnectOptions, type Handlers } from "../../src/connect";
import { FakeClock, FakeDocument, FakeEventSource, fakeFetch, tick } from "./fakes";

const URL_ = "http://api.test/v1/generations/gen_a/events";
const step = (n: number) => ({ step: n, content: `s${n}` });

function setup(extra: Partial<ConnectOptions> = {}, fetchStatus = 200, snapshot: unknown = { status: "running", lastEventId: null }) {
  const clock = new FakeClock();
  const doc = new FakeDocument();
  const f = fakeFetch(fetchStatus, snapshot);
  const seen: string[] = [];
  const log: string[] = [];
  const handlers: Handlers = {
    "reasoning-step": (d, id) => seen.push(`${id}=${d.content}`),
    "generation-complete": (_, id) => seen.push(`${id}=done`),
    error: (d, id) => seen.push(`${id}=error:${d.stage}`),
    onReconnecting: (a, ms) => log.push(`reconnecting ${a} ${ms}`),
    onFatal: (m, code) => log.push(`fatal ${code}: ${m}`),
    onEnd: () => log.push("end"),
  };
  const conn = connect(URL_, handlers, {
    EventSource: FakeEventSource as unknown as typeof EventSource,
    fetch: f.fetch,
    document: doc,
    setTimeout: clock.setTimeout,
    clearTimeout: clock.clearTimeout,
    random: () => 0,
    backoff: new Backoff({ jitter: 0 }),
    ...extra,
  });
  return { clock, doc, f, seen, log, conn };
}

beforeEach(() => {
  FakeEventSource.instances = [];
});

test("typed handlers get each event once; duplicates are dropped by id", () => {
  const { seen } = setup();
  const es = FakeEventSource.last();
  es.emit("reasoning-step", "gen_a:1", step(1));
  es.emit("reasoning-step", "gen_a:2", step(2));
  es.emit("reasoning-step", "gen_a:2", step(2));
  es.emit("reasoning-step", "gen_a:1", step(1));
  es.emit("reasoning-step", "gen_a:3", step(3));
  assert.deepEqual(seen, ["gen_a:1=s1", "gen_a:2=s2", "gen_a:3=s3"]);
});

test("the terminal event closes the EventSource and ends the connection", () => {
  const { seen, log, conn } = setup();
  const es = FakeEventSource.last();
  es.emit("generation-complete", "gen_a:1", { success: true, totalDuration: 5 });
  assert.equal(es.readyState, FakeEventSource.CLOSED);
  assert.ok(conn.closed);
  assert.deepEqual(log, ["end"]);
  es.emit("reasoning-step", "gen_a:2", step(2));
  assert.deepEqual(seen, ["gen_a:1=done"]);
});

test("a recoverable error goes on; an interrupted one ends the stream", () => {
  const { seen, conn } = setup();
  const es = FakeEventSource.last();
  es.emit("error", "gen_a:1", { message: "m", stage: "image", recoverable: true });
  assert.ok(!conn.closed);
  es.emit("error", "gen_a:2", { message: "m", stage: "interrupted", recoverable: true });
  assert.ok(conn.closed);
  assert.deepEqual(seen, ["gen_a:1=error:image", "gen_a:2=error:interrupted"]);
});

test("lets EventSource retry once, then reconnects itself with lastEventId after backoff", async () => {
  const { clock, log, f } = setup();
  const es = FakeEventSource.last();
  es.emit("reasoning-step", "gen_a:4", step(4));
  es.fail(true); // EventSource retries by itself
  assert.equal(FakeEventSource.instances.length, 1);
  es.fail(true); // its retry failed too: take over
  assert.equal(es.readyState, FakeEventSource.CLOSED);
  await tick();
  assert.deepEqual(f.calls, ["http://api.test/v1/generations/gen_a"], "asks the snapshot first");
  assert.deepEqual(clock.pending, [2000]);
  clock.advance(2000);
  const next = FakeEventSource.last();
  assert.equal(next.url, URL_ + "?lastEventId=gen_a%3A4");
  assert.deepEqual(log, ["reconnecting 1 0", "reconnecting 2 2000"]);
});

test("gives up with one user-visible error after 3 attempts; an event resets the count", async () => {
  const { clock, log } = setup();
  FakeEventSource.last().fail(false);
  await tick();
  clock.advance(1000);
  FakeEventSource.last().emit("reasoning-step", "gen_a:1", step(1)); // progress: counter resets
  for (let i = 1; i <= 3; i++) {
    FakeEventSource.last().fail(false);
    await tick();
    clock.advance(20_000);
  }
  assert.equal(log.filter((l) => l.startsWith("fatal")).length, 0);
  FakeEventSource.last().fail(false);
  await tick();
  assert.equal(log.filter((l) => l.startsWith("fatal")).length, 1);
  assert.match(log[log.length - 1]!, /^fatal gave_up: .*3 attempts/);
  assert.deepEqual(clock.pending, []);
});

test("a stream that is gone ends at once with a clear message", async () => {
  const { log, clock } = setup({}, 404, { error: { code: "not_found", message: "no stream with that id" } });
  FakeEventSource.last().fail(false);
  await tick();
  await tick();
  assert.equal(log.length, 2);
  assert.match(log[1]!, /^fatal not_found: This stream no longer exists/);
  assert.deepEqual(clock.pending, []);
  const expired = setup({}, 410, { error: { code: "expired", message: "gone" } });
  FakeEventSource.last().fail(false);
  await tick();
  await tick();
  assert.match(expired.log[1]!, /^fatal expired/);
});

test("a finished stream the client has all of ends instead of retrying", async () => {
  const { log } = setup({ lastEventId: "gen_a:9" }, 200, { status: "complete", lastEventId: "gen_a:9" });
  FakeEventSource.last().fail(false); // the 204 after the terminal event
  await tick();
  await tick();
  assert.deepEqual(log, ["reconnecting 1 1000", "end"]);
});

test("hidden tab: the connection stays open; one lost while hidden reopens when shown", () => {
  const { doc, log } = setup();
  const es = FakeEventSource.last();
  doc.setHidden(true);
  assert.equal(es.readyState, FakeEventSource.CONNECTING, "not closed because the tab is hidden");
  es.emit("reasoning-step", "gen_a:1", step(1));
  es.fail(false);
  assert.equal(FakeEventSource.instances.length, 1, "no retry while hidden");
  assert.deepEqual(log, []);
  doc.setHidden(false);
  assert.equal(FakeEventSource.instances.length, 2);
  assert.equal(FakeEventSource.last().url, URL_ + "?lastEventId=gen_a%3A1");
});

test("close() releases the EventSource and any pending retry", async () => {
  const { clock, conn } = setup();
  FakeEventSource.last().fail(false);
  await tick();
  conn.close();
  assert.deepEqual(clock.pending, []);
  assert.equal(FakeEventSource.last().readyState, FakeEventSource.CLOSED);
});

test("resumes after a restored id", () => {
  setup({ lastEventId: "gen_a:7" });
  assert.equal(FakeEventSource.last().url, URL_ + "?lastEventId=gen_a%3A7");
  FakeEventSource.last().emit("reasoning-step", "gen_a:7", step(7));
});
