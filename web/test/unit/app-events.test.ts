// Application events (names with a dot) through `connect` and `GenerationState`.
import assert from "node:assert/strict";
import { beforeEach, test } from "node:test";
import { Backoff } from "../../src/backoff";
import { connect, type Handlers } from "../../src/connect";
import { isBuiltinEvent, type AppEvents } from "../../src/events";
import { GenerationState } from "../../src/state";
import { FakeClock, FakeEventSource, fakeFetch, tick } from "./fakes";

const URL_ = "http://api.test/v1/streams/str_a/events";

type ImportEvents = {
  "import.progress": { done: number; total: number };
  "import.rows": [string, number][];
  "import.error": { message: string; stage: string; recoverable: boolean };
};

function setup() {
  const clock = new FakeClock();
  const seen: string[] = [];
  const log: string[] = [];
  const conn = connect<ImportEvents>(
    URL_,
    {
      "import.progress": (d, id) => seen.push(`${id} progress ${d.done}/${d.total}`),
      "import.rows": (rows, id) => seen.push(`${id} rows ${rows.map(([name]) => name).join(",")}`),
      "import.error": (d, id) => seen.push(`${id} import error ${d.message}`),
      "reasoning-step": (d, id) => seen.push(`${id} step ${d.step}`),
      "generation-complete": (_, id) => seen.push(`${id} done`),
      onEnd: () => log.push("end"),
      onReconnecting: (a, ms) => log.push(`reconnecting ${a} ${ms}`),
    },
    {
      EventSource: FakeEventSource as unknown as typeof EventSource,
      fetch: fakeFetch(200, { status: "running", lastEventId: null }).fetch,
      document: null,
      setTimeout: clock.setTimeout,
      clearTimeout: clock.clearTimeout,
      random: () => 0,
      backoff: new Backoff({ jitter: 0 }),
    },
  );
  return { clock, seen, log, conn };
}

beforeEach(() => {
  FakeEventSource.instances = [];
});

test("application events reach their typed handlers in order, between built-in ones, once each", () => {
  const { seen, conn } = setup();
  const es = FakeEventSource.last();
  es.emit("import.progress", "str_a:1", { done: 1, total: 3 });
  es.emit("reasoning-step", "str_a:2", { step: 1, content: "c" });
  es.emit("import.rows", "str_a:3", [["ada", 1], ["grace", 2]]);
  es.emit("import.progress", "str_a:3", { done: 9, total: 9 }); // seen already: dropped by id
  es.emit("import.progress", "str_a:1", { done: 1, total: 3 });
  es.emit("import.progress", "str_a:4", { done: 3, total: 3 });
  assert.deepEqual(seen, ["str_a:1 progress 1/3", "str_a:2 step 1", "str_a:3 rows ada,grace", "str_a:4 progress 3/3"]);
  assert.equal(conn.lastEventId, "str_a:4");
});

test("an application event never ends the stream, even one shaped like a terminal error", () => {
  const { seen, log, conn } = setup();
  const es = FakeEventSource.last();
  es.emit("import.error", "str_a:1", { message: "row 7", stage: "parse", recoverable: false });
  assert.ok(!conn.closed);
  assert.equal(es.readyState, FakeEventSource.OPEN);
  es.emit("generation-complete", "str_a:2", { success: true, totalDuration: 1 });
  assert.ok(conn.closed);
  assert.deepEqual(seen, ["str_a:1 import error row 7", "str_a:2 done"]);
  assert.deepEqual(log, ["end"]);
});

test("a reconnect resumes after the last application event", async () => {
  const { clock } = setup();
  const es = FakeEventSource.last();
  es.emit("import.progress", "str_a:5", { done: 1, total: 3 });
  es.fail(false);
  await tick();
  clock.advance(1000);
  assert.equal(FakeEventSource.last().url, URL_ + "?lastEventId=str_a%3A5");
});

test("only the handlers' names with a dot become listeners", () => {
  const { seen, log } = setup();
  const es = FakeEventSource.last();
  es.emit("onEnd", "str_a:1", {}); // a lifecycle handler's key is no event
  es.emit("import.undeclared", "str_a:2", {}); // no handler, no listener
  assert.deepEqual(seen, []);
  assert.deepEqual(log, []);
});

test("GenerationState ignores application events", () => {
  const s = new GenerationState({ storage: null });
  s.apply("reasoning-step", { step: 1, content: "c" }, "gen_a:1");
  const before = JSON.stringify(s);
  // A page forwarding every event: the state folds the vocabulary's only.
  (s.apply as (name: string, data: unknown, id: string) => void)("import.progress", { done: 1 }, "gen_a:2");
  (s.apply as (name: string, data: unknown, id: string) => void)(
    "import.error",
    { message: "m", stage: "s", recoverable: false },
    "gen_a:3",
  );
  assert.equal(JSON.stringify(s), before);
  assert.equal(s.status, "generating");
  assert.ok(isBuiltinEvent("error") && !isBuiltinEvent("import.error") && !isBuiltinEvent("toString"));
});

// Type-level checks: `npm run typecheck` compiles this file, so each expected error must occur.
export function typeChecks(): void {
  const es = { EventSource: FakeEventSource as unknown as typeof EventSource };
  // @ts-expect-error an application event's name has a dot
  const dotless: AppEvents<{ progress: number }> = { progress: 1 };
  void dotless;
  // @ts-expect-error a dotless name cannot be declared as an application event
  connect<{ progress: { done: number } }>(URL_, {}, es);
  // @ts-expect-error an application event must be declared to be handled
  connect(URL_, { "import.progress": () => {} }, es);
  connect<ImportEvents>(
    URL_,
    {
      // @ts-expect-error its data has the declared type
      "import.progress": (d) => d.missing,
      "block-content": (d) => d.html, // built-in handlers keep their generated types
    },
    es,
  );
  const handlers: Handlers<ImportEvents> = { "import.rows": (rows) => rows[0]?.[1].toFixed() };
  void handlers;
}
