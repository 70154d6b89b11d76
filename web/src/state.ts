import { STAGE_CANCELLED, isBuiltinEvent, isTerminal, type EventMap, type EventName } from "./events";
import { tokenOf } from "./token";
import type { BlockSnapshot } from "./generated/BlockSnapshot";
import type { ImageSnapshot } from "./generated/ImageSnapshot";

export type Status = "idle" | "generating" | "complete" | "error" | "cancelled";

/** One image of a block: the server's snapshot type (`GET /v1/generations/{id}`), generated from Rust. */
export type ImageState = ImageSnapshot;

/**
 * One block: the server's snapshot block (generated from Rust), but keyed `index` where the
 * snapshot says `blockIndex`.
 */
export type BlockState = Omit<BlockSnapshot, "blockIndex" | "images"> & {
  index: number;
  images: ImageState[];
};

export interface StateOptions {
  /** Where the state is saved (default `sessionStorage`; `null` keeps it in memory). */
  storage?: Pick<Storage, "getItem" | "setItem" | "removeItem"> | null;
  /** The storage key (default `ssekit-generation`). */
  key?: string;
  /** How long a saved state stays valid (default 5 minutes). */
  ttlMs?: number;
  now?: () => number;
}

interface Saved {
  v: 1;
  savedAt: number;
  status: Status;
  sessionId: string | null;
  lastEventId: string | null;
  eventsUrl: string | null;
  apiBase: string | null;
  /** Absent in states saved before tokens were kept. */
  token?: string | null;
  totalBlocks: number;
  blocks: BlockState[];
  reasoning: string[];
  documentUrl: string | null;
  error: string | null;
  startedAt: number | null;
  finishedAt: number | null;
}

function defaultStorage(): StateOptions["storage"] {
  try {
    return typeof sessionStorage !== "undefined" ? sessionStorage : null;
  } catch {
    return null; // storage disabled (privacy settings): keep the state in memory
  }
}

/**
 * A generation's state, folded from its events and saved to `sessionStorage` (5-minute TTL) so a
 * reloaded page shows it at once and resumes the stream after its last id — with its token, when
 * the server has auth on.
 */
export class GenerationState {
  status: Status = "idle";
  sessionId: string | null = null;
  lastEventId: string | null = null;
  eventsUrl: string | null = null;
  apiBase: string | null = null;
  /** The token the stream is followed with (saved with the position, for a reload). */
  token: string | null = null;
  totalBlocks = 0;
  blocks = new Map<number, BlockState>();
  reasoning: string[] = [];
  documentUrl: string | null = null;
  error: string | null = null;
  startedAt: number | null = null;
  finishedAt: number | null = null;

  private readonly storage: StateOptions["storage"];
  private readonly key: string;
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(options: StateOptions = {}) {
    this.storage = options.storage !== undefined ? options.storage : defaultStorage();
    this.key = options.key ?? "ssekit-generation";
    this.ttlMs = options.ttlMs ?? 5 * 60 * 1000;
    this.now = options.now ?? Date.now;
  }

  /**
   * Starts tracking a new generation (clears the old one), followed with `token` (default: the
   * events URL's own `?token=`, as a creation answer's `eventsUrl` carries it).
   */
  begin(eventsUrl: string, apiBase: string | null = null, token: string | null = null): void {
    this.reset();
    this.status = "generating";
    this.eventsUrl = eventsUrl;
    this.apiBase = apiBase;
    this.token = token || tokenOf(eventsUrl, "http://localhost/");
    this.startedAt = this.now();
    this.persist();
  }

  /** Blocks in order. */
  orderedBlocks(): BlockState[] {
    return [...this.blocks.values()].sort((a, b) => a.index - b.index);
  }

  /** How many blocks are complete. */
  get completedBlocks(): number {
    let n = 0;
    for (const b of this.blocks.values()) if (b.status === "complete") n++;
    return n;
  }

  block(index: number): BlockState {
    let b = this.blocks.get(index);
    if (!b) {
      b = { index, blockId: null, title: null, html: "", status: "pending", images: [] };
      this.blocks.set(index, b);
    }
    return b;
  }

  /** Folds one event into the state and saves it. Application events are not a generation's: ignored. */
  apply<K extends EventName>(name: K, payload: EventMap[K], id: string | null = null): void {
    if (!isBuiltinEvent(name)) return;
    const data = payload as EventMap[EventName];
    if (id) this.lastEventId = id;
    if (this.status === "idle") this.status = "generating";
    switch (name) {
      case "generation-start": {
        const d = data as EventMap["generation-start"];
        this.sessionId = d.sessionId;
        this.totalBlocks = d.totalBlocks;
        for (let i = 0; i < Math.min(d.totalBlocks, 1000); i++) this.block(i);
        this.startedAt ??= this.now();
        break;
      }
      case "reasoning-step":
        this.reasoning.push((data as EventMap["reasoning-step"]).content);
        break;
      case "block-start": {
        const d = data as EventMap["block-start"];
        const b = this.block(d.blockIndex);
        b.blockId = d.blockId;
        b.title = d.title;
        b.status = "streaming";
        break;
      }
      case "block-content": {
        const d = data as EventMap["block-content"];
        const b = this.block(d.blockIndex);
        b.html = d.mode === "append" ? b.html + d.html : d.html;
        if (b.status === "pending") b.status = "streaming";
        break;
      }
      case "block-complete":
        this.block((data as EventMap["block-complete"]).blockIndex).status = "complete";
        break;
      case "image-placeholder": {
        const d = data as EventMap["image-placeholder"];
        const b = this.block(d.blockIndex);
        if (!b.images.some((i) => i.imageId === d.imageId)) b.images.push({ imageId: d.imageId, alt: d.alt, url: null });
        break;
      }
      case "image-ready": {
        const d = data as EventMap["image-ready"];
        const b = this.block(d.blockIndex);
        const img = b.images.find((i) => i.imageId === d.imageId);
        if (img) img.url = d.url;
        else b.images.push({ imageId: d.imageId, alt: "", url: d.url });
        break;
      }
      case "persist-complete":
        this.documentUrl = (data as EventMap["persist-complete"]).url;
        break;
      case "error":
        this.error = (data as EventMap["error"]).message;
        break;
      default:
        break;
    }
    if (isTerminal(name, payload)) {
      const e = data as EventMap["error"];
      this.status =
        name === "generation-complete" ? "complete" : e.stage === STAGE_CANCELLED ? "cancelled" : "error";
      this.finishedAt = this.now();
    }
    this.persist();
  }

  /** Marks the generation failed on the client's side (e.g. the connection could not be resumed). */
  fail(message: string): void {
    this.status = "error";
    this.error = message;
    this.finishedAt = this.now();
    this.persist();
  }

  /** Saves the state with its time, for {@link GenerationState.restore}. */
  persist(): void {
    if (!this.storage) return;
    const saved: Saved = {
      v: 1,
      savedAt: this.now(),
      status: this.status,
      sessionId: this.sessionId,
      lastEventId: this.lastEventId,
      eventsUrl: this.eventsUrl,
      apiBase: this.apiBase,
      token: this.token,
      totalBlocks: this.totalBlocks,
      blocks: this.orderedBlocks(),
      reasoning: this.reasoning,
      documentUrl: this.documentUrl,
      error: this.error,
      startedAt: this.startedAt,
      finishedAt: this.finishedAt,
    };
    try {
      this.storage.setItem(this.key, JSON.stringify(saved));
    } catch {
      // Quota or privacy mode: the state lives on in memory.
    }
  }

  /** The saved state, if one was saved less than the TTL ago; otherwise `null` (and the stale one is removed). */
  static restore(options: StateOptions = {}): GenerationState | null {
    const state = new GenerationState(options);
    const raw = state.storage?.getItem(state.key);
    if (!raw) return null;
    let saved: Saved;
    try {
      saved = JSON.parse(raw) as Saved;
    } catch {
      state.clear();
      return null;
    }
    if (saved.v !== 1 || state.now() - saved.savedAt > state.ttlMs) {
      state.clear();
      return null;
    }
    state.status = saved.status;
    state.sessionId = saved.sessionId;
    state.lastEventId = saved.lastEventId;
    state.eventsUrl = saved.eventsUrl;
    state.apiBase = saved.apiBase;
    state.token = saved.token ?? null;
    state.totalBlocks = saved.totalBlocks;
    state.blocks = new Map(saved.blocks.map((b) => [b.index, b]));
    state.reasoning = saved.reasoning;
    state.documentUrl = saved.documentUrl;
    state.error = saved.error;
    state.startedAt = saved.startedAt;
    state.finishedAt = saved.finishedAt;
    return state;
  }

  /** Forgets the saved state. */
  clear(): void {
    try {
      this.storage?.removeItem(this.key);
    } catch {
      // nothing saved, nothing to remove
    }
  }

  private reset(): void {
    this.status = "idle";
    this.sessionId = null;
    this.lastEventId = null;
    this.eventsUrl = null;
    this.apiBase = null;
    this.token = null;
    this.totalBlocks = 0;
    this.blocks = new Map();
    this.reasoning = [];
    this.documentUrl = null;
    this.error = null;
    this.startedAt = null;
    this.finishedAt = null;
  }
}
