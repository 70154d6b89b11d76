import assert from "node:assert/strict";
import { test } from "node:test";
import { Backoff } from "../../src/backoff";

test("doubles from 1 s and caps at 10 s", () => {
  const b = new Backoff({ jitter: 0 });
  assert.deepEqual([1, 2, 3, 4, 5, 50].map((n) => b.delay(n)), [1000, 2000, 4000, 8000, 10000, 10000]);
});

test("jitter only shortens, by at most its fraction", () => {
  const b = new Backoff();
  assert.equal(b.delay(2, 0), 2000);
  assert.equal(b.delay(2, 1), 1000);
  for (let i = 0; i < 100; i++) {
    const d = b.delay(3);
    assert.ok(d >= 2000 && d <= 4000, String(d));
  }
});

test("refuses nonsense at construction", () => {
  assert.throws(() => new Backoff({ baseMs: 0 }), RangeError);
  assert.throws(() => new Backoff({ baseMs: 5000, maxMs: 1000 }), RangeError);
  assert.throws(() => new Backoff({ factor: 0.5 }), RangeError);
  assert.throws(() => new Backoff({ jitter: 2 }), RangeError);
  assert.throws(() => new Backoff({ baseMs: Number.NaN }), RangeError);
});
