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

// Auth on: the token rides in every events URL and as a bearer header on the snapshot request.

const TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzc2VraXQiOnt9fQ.c2ln";

test("a token option goes in the events URL, on the reconnect with lastEventId too", async () => {
  const { clock, f } = setup({ token: TOKEN });
  const es = FakeEventSource.last();
  assert.equal(new URL(es.url).searchParams.get("token"), TOKEN);
  es.emit("reasoning-step", "gen_a:4", step(4));
  es.fail(false);
  await tick();
  assert.deepEqual(f.calls, ["http://api.test/v1/generations/gen_a"], "the snapshot URL carries no token");
  assert.equal(f.headers[0]!.authorization, `Bearer ${TOKEN}`);
  clock.advance(1000);
  const next = new URL(FakeEventSource.last().url);
  assert.equal(next.searchParams.get("token"), TOKEN);
  assert.equal(next.searchParams.get("lastEventId"), "gen_a:4");
  assert.equal(next.origin + next.pathname, URL_);
});

test("a token in the URL (a creation answer's eventsUrl) is kept and sent to the snapshot", async () => {
  const clock = new FakeClock();
  const f = fakeFetch(200, { status: "running", lastEventId: null });
  connect(`${URL_}?token=${TOKEN}`, {}, {
    EventSource: FakeEventSource as unknown as typeof EventSource,
    fetch: f.fetch,
    document: null,
    setTimeout: clock.setTimeout,
    clearTimeout: clock.clearTimeout,
    random: () => 0,
    lastEventId: "gen_a:2",
  });
  const first = new URL(FakeEventSource.last().url);
  assert.equal(first.searchParams.get("token"), TOKEN);
  assert.equal(first.searchParams.get("lastEventId"), "gen_a:2");
  FakeEventSource.last().fail(false);
  await tick();
  assert.equal(f.headers[0]!.authorization, `Bearer ${TOKEN}`);
  clock.advance(10_000);
  assert.equal(new URL(FakeEventSource.last().url).searchParams.get("token"), TOKEN);
});

test("the token option replaces a URL's own token", () => {
  connect(`${URL_}?token=old`, {}, { EventSource: FakeEventSource as unknown as typeof EventSource, document: null, token: "new" });
  assert.deepEqual(new URL(FakeEventSource.last().url).searchParams.getAll("token"), ["new"]);
});

test("without a token nothing changes: no token parameter, no authorization header", async () => {
  const { f } = setup();
  assert.equal(FakeEventSource.last().url, URL_);
  FakeEventSource.last().fail(false);
  await tick();
  assert.equal(f.headers[0]!.authorization, undefined);
});

test("a refused token (401, 403) ends at once with the JSON error's code, no retry", async () => {
  const cases: [number, string, string, RegExp][] = [
    [401, "token_missing", "token_missing", /^fatal token_missing: This stream needs a token\. \(no token\)$/],
    [401, "token_expired", "token_expired", /^fatal token_expired: The token has expired/],
    [401, "token_invalid", "token_invalid", /^fatal token_invalid: The token was refused/],
    [401, "something_else", "token_invalid", /^fatal token_invalid/],
    [403, "forbidden", "forbidden", /^fatal forbidden: The token does not allow following this stream/],
  ];
  for (const [status, code, expected, message] of cases) {
    FakeEventSource.instances = [];
    const { log, clock } = setup({ token: TOKEN }, status, { error: { code, message: code === "token_missing" ? "no token" : "m" } });
    FakeEventSource.last().fail(false); // what a 401 to the EventSource looks like: closed, no status
    await tick();
    await tick();
    assert.equal(log.length, 2, `${status} ${code}: ${log.join(" | ")}`);
    assert.match(log[1]!, message);
    assert.ok(log[1]!.startsWith(`fatal ${expected}:`));
    assert.deepEqual(clock.pending, [], "no retry is scheduled");
    assert.equal(FakeEventSource.instances.length, 1, "no new EventSource");
  }
});

test("a refusal without a JSON body still ends with a code", async () => {
  const { log } = setup({}, 401, "not json");
  FakeEventSource.last().fail(false);
  await tick();
  await tick();
  assert.match(log[1]!, /^fatal token_invalid: The token was refused\.$/);
});
