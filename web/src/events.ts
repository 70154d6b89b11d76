// The vocabulary, typed from the Rust types (./generated is written by ts-rs; do not edit it).
import type { BlockComplete } from "./generated/BlockComplete";
import type { BlockContent } from "./generated/BlockContent";
import type { BlockStart } from "./generated/BlockStart";
import type { ErrorEvent } from "./generated/ErrorEvent";
import type { EventName } from "./generated/EventName";
import type { GenerationComplete } from "./generated/GenerationComplete";
import type { GenerationStart } from "./generated/GenerationStart";
import type { ImagePlaceholder } from "./generated/ImagePlaceholder";
import type { ImageReady } from "./generated/ImageReady";
import type { PersistComplete } from "./generated/PersistComplete";
import type { PersistStart } from "./generated/PersistStart";
import type { ReasoningComplete } from "./generated/ReasoningComplete";
import type { ReasoningStart } from "./generated/ReasoningStart";
import type { ReasoningStep } from "./generated/ReasoningStep";

export type {
  BlockComplete, BlockContent, BlockStart, ErrorEvent, EventName, GenerationComplete, GenerationStart,
  ImagePlaceholder, ImageReady, PersistComplete, PersistStart, ReasoningComplete, ReasoningStart, ReasoningStep,
};

/** Each event name with its payload type. */
export interface EventMap {
  "generation-start": GenerationStart;
  "reasoning-start": ReasoningStart;
  "reasoning-step": ReasoningStep;
  "reasoning-complete": ReasoningComplete;
  "block-start": BlockStart;
  "block-content": BlockContent;
  "block-complete": BlockComplete;
  "image-placeholder": ImagePlaceholder;
  "image-ready": ImageReady;
  "persist-start": PersistStart;
  "persist-complete": PersistComplete;
  "generation-complete": GenerationComplete;
  error: ErrorEvent;
}

// `satisfies` makes the compiler check this list against the generated union, both ways.
const NAMES = {
  "generation-start": true, "reasoning-start": true, "reasoning-step": true, "reasoning-complete": true,
  "block-start": true, "block-content": true, "block-complete": true, "image-placeholder": true,
  "image-ready": true, "persist-start": true, "persist-complete": true, "generation-complete": true, error: true,
} satisfies Record<EventName, true> & Record<keyof EventMap, true>;

/** Every event name of the vocabulary. */
export const EVENT_NAMES = Object.keys(NAMES) as EventName[];

/** Whether `name` is one of the vocabulary's 13 names. */
export function isBuiltinEvent(name: string): name is EventName {
  return Object.prototype.hasOwnProperty.call(NAMES, name);
}

/**
 * An application event's name: `namespace.name`. The server takes names matching
 * `^[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)+$` (at most 64 bytes); no name of the vocabulary has a dot.
 */
export type AppEventName = `${string}.${string}`;

/**
 * The constraint on an application's event map (name → data type): every name has a dot, so a
 * map that names a dotless event (the vocabulary's, or a typo) does not type-check.
 *
 * ```ts
 * type ImportEvents = { "import.progress": { done: number; total: number } };
 * ```
 */
export type AppEvents<A> = { [K in keyof A]: K extends AppEventName ? unknown : never };

/** The stage of the error that ends a stream whose producer died (docs/decisions.md). */
export const STAGE_INTERRUPTED = "interrupted";
/** The stage of the error that ends a cancelled generation. */
export const STAGE_CANCELLED = "cancelled";

/** Whether an event ends its stream: the same rule as the Rust `Event::is_terminal`. */
export function isTerminal<K extends EventName>(name: K, data: EventMap[K]): boolean {
  if (name === "generation-complete") return true;
  if (name === "error") {
    const e = data as ErrorEvent;
    return !e.recoverable || e.stage === STAGE_INTERRUPTED;
  }
  return false;
}

/** The position in an event id `{stream}:{seq}`, or null if the id has another form. */
export function seqOf(id: string): number | null {
  const m = /:(\d{1,15})$/.exec(id);
  return m ? Number(m[1]) : null;
}
