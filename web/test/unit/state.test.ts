import assert from "node:assert/strict";
import { test } from "node:test";
import { GenerationState } from "../../src/state";
import { MemoryStorage } from "./fakes";

function fold(state: GenerationState) {
  state.apply("generation-start", { sessionId: "gen_a", totalBlocks: 2, model: "m" }, "gen_a:1");
  state.apply("reasoning-step", { step: 1, content: "think" }, "gen_a:2");
  state.apply("block-start", { blockIndex: 0, blockId: "b0", title: "One" }, "gen_a:3");
  state.apply("block-content", { blockIndex: 0, html: "<p>a</p>" }, "gen_a:4");
  state.apply("block-content", { blockIndex: 0, html: "<p>b</p>", mode: "append" }, "gen_a:5");
  state.apply("image-placeholder", { blockIndex: 0, imageId: "i0", alt: "pic" }, "gen_a:6");
  state.apply("image-ready", { blockIndex: 0, imageId: "i0", url: "/i0.svg" }, "gen_a:7");
  state.apply("block-complete", { blockIndex: 0, blockId: "b0" }, "gen_a:8");
}

test("folds events into status, blocks and images", () => {
  const s = new GenerationState({ storage: null });
  fold(s);
  assert.equal(s.status, "generating");
  assert.equal(s.sessionId, "gen_a");
  assert.equal(s.lastEventId, "gen_a:8");
  assert.equal(s.blocks.size, 2);
  const b = s.blocks.get(0)!;
  assert.equal(b.html, "<p>a</p><p>b</p>");
  assert.deepEqual(b.images, [{ imageId: "i0", alt: "pic", url: "/i0.svg" }]);
  assert.equal(s.completedBlocks, 1);
  assert.equal(s.blocks.get(1)!.status, "pending");
  s.apply("error", { message: "cancelled by you", stage: "cancelled", recoverable: false }, "gen_a:9");
  assert.equal(s.status, "cancelled");
});

test("terminal statuses follow the rule of the vocabulary", () => {
  const cases: [string, unknown, string][] = [
    ["generation-complete", { success: true, totalDuration: 1 }, "complete"],
    ["error", { message: "m", stage: "interrupted", recoverable: true }, "error"],
    ["error", { message: "m", stage: "image", recoverable: true }, "generating"],
    ["error", { message: "m", stage: "exec", recoverable: false }, "error"],
  ];
  for (const [name, data, status] of cases) {
    const s = new GenerationState({ storage: null });
    s.apply(name as "error", data as never, "g:1");
    assert.equal(s.status, status, name);
  }
});

test("persists to storage and restores within the TTL", () => {
  const storage = new MemoryStorage();
  let now = 1_000;
  const s = new GenerationState({ storage, now: () => now });
  s.begin("/v1/generations/gen_a/events");
  fold(s);
  now += 4 * 60 * 1000;
  const r = GenerationState.restore({ storage, now: () => now })!;
  assert.ok(r);
  assert.equal(r.lastEventId, "gen_a:8");
  assert.equal(r.eventsUrl, "/v1/generations/gen_a/events");
  assert.equal(r.blocks.get(0)!.html, "<p>a</p><p>b</p>");
  assert.ok(r.blocks instanceof Map);
});

test("a saved state older than 5 minutes is dropped", () => {
  const storage = new MemoryStorage();
  let now = 0;
  const s = new GenerationState({ storage, now: () => now });
  s.begin("/e");
  now = 5 * 60 * 1000 + 1;
  assert.equal(GenerationState.restore({ storage, now: () => now }), null);
  assert.equal(storage.items.size, 0);
});

test("corrupt saved state is ignored", () => {
  const storage = new MemoryStorage();
  storage.setItem("ssekit-generation", "{not json");
  assert.equal(GenerationState.restore({ storage }), null);
});

test("the token is kept with the position and restored after a reload", () => {
  const storage = new MemoryStorage();
  const s = new GenerationState({ storage });
  s.begin("/v1/generations/gen_a/events?token=minted", "https://api.example");
  assert.equal(s.token, "minted", "taken from the creation answer's eventsUrl");
  fold(s);
  const r = GenerationState.restore({ storage })!;
  assert.equal(r.token, "minted");
  assert.equal(r.lastEventId, "gen_a:8");
  const t = new GenerationState({ storage });
  t.begin("/v1/generations/gen_b/events", null, "given");
  assert.equal(GenerationState.restore({ storage })!.token, "given");
  t.begin("/v1/generations/gen_c/events");
  assert.equal(GenerationState.restore({ storage })!.token, null, "a new generation forgets the old token");
});

test("a state saved without a token field restores with none", () => {
  const storage = new MemoryStorage();
  const s = new GenerationState({ storage });
  s.begin("/v1/generations/gen_a/events");
  const saved = JSON.parse(storage.getItem("ssekit-generation")!);
  delete saved.token;
  storage.setItem("ssekit-generation", JSON.stringify(saved));
  assert.equal(GenerationState.restore({ storage })!.token, null);
});
