/** Options of {@link Backoff}. */
export interface BackoffOptions {
  /** First delay, ms (default 1000). */
  baseMs?: number;
  /** Largest delay, ms (default 10000). */
  maxMs?: number;
  /** Growth per attempt (default 2). */
  factor?: number;
  /** Up to this fraction of each delay is taken off at random (default 0.5), so clients cut off together do not return together. */
  jitter?: number;
}

/**
 * Exponential backoff with jitter, validated at construction: 1 s, 2 s, 4 s … capped at 10 s.
 *
 * ```ts
 * const b = new Backoff({ jitter: 0 });
 * [1, 2, 3, 4, 5].map((n) => b.delay(n)); // [1000, 2000, 4000, 8000, 10000]
 * ```
 */
export class Backoff {
  readonly baseMs: number;
  readonly maxMs: number;
  readonly factor: number;
  readonly jitter: number;

  constructor(options: BackoffOptions = {}) {
    const { baseMs = 1000, maxMs = 10_000, factor = 2, jitter = 0.5 } = options;
    if (!(Number.isFinite(baseMs) && baseMs > 0)) throw new RangeError("baseMs must be a positive number");
    if (!(Number.isFinite(maxMs) && maxMs >= baseMs)) throw new RangeError("maxMs must be at least baseMs");
    if (!(Number.isFinite(factor) && factor >= 1)) throw new RangeError("factor must be at least 1");
    if (!(jitter >= 0 && jitter <= 1)) throw new RangeError("jitter must be between 0 and 1");
    this.baseMs = baseMs;
    this.maxMs = maxMs;
    this.factor = factor;
    this.jitter = jitter;
  }

  /** The delay before attempt `attempt` (from 1), in ms; `random` is uniform in [0, 1). */
  delay(attempt: number, random: number = Math.random()): number {
    const raw = this.baseMs * Math.pow(this.factor, Math.max(0, Math.min(attempt - 1, 64)));
    const capped = Math.min(raw, this.maxMs);
    return Math.round(capped * (1 - this.jitter * Math.min(Math.max(random, 0), 1)));
  }
}
