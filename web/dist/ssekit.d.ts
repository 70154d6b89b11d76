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
export declare class Backoff {
	readonly baseMs: number;
	readonly maxMs: number;
	readonly factor: number;
	readonly jitter: number;
	constructor(options?: BackoffOptions);
	/** The delay before attempt `attempt` (from 1), in ms; `random` is uniform in [0, 1). */
	delay(attempt: number, random?: number): number;
}
/**
 * `block-complete`: a block is done.
 */
export type BlockComplete = {
	/**
	 * The block's position.
	 */
	blockIndex: number;
	/**
	 * The block's id.
	 */
	blockId: string;
};
/**
 * How a `block-content` event changes its block's HTML.
 */
export type BlockContentMode = "replace" | "append";
/**
 * `block-content`: partial or complete HTML of a block, sanitized by the server before it is stored.
 */
export type BlockContent = {
	/**
	 * The block's position.
	 */
	blockIndex: number;
	/**
	 * Sanitized HTML: safe to set as `innerHTML`.
	 */
	html: string;
	/**
	 * `replace` (the default) sets the block's HTML; `append` adds to it.
	 */
	mode?: BlockContentMode;
};
/**
 * `block-start`: a content block begins.
 */
export type BlockStart = {
	/**
	 * The block's position, from 0.
	 */
	blockIndex: number;
	/**
	 * A stable id for the block.
	 */
	blockId: string;
	/**
	 * The block's title.
	 */
	title: string;
};
/**
 * `error`: a stage failed. See [`Event::is_terminal`] for when it ends the stream.
 */
type ErrorEvent$1 = {
	/**
	 * What went wrong, for a person.
	 */
	message: string;
	/**
	 * The stage that failed (`reasoning`, `block`, `image`, `persist`, `cancelled`, `interrupted`, …).
	 */
	stage: string;
	/**
	 * `true`: the pipeline goes on (or, for `interrupted`, the user may start it again).
	 */
	recoverable: boolean;
};
/**
 * The name of an event of the vocabulary.
 */
export type EventName = "generation-start" | "reasoning-start" | "reasoning-step" | "reasoning-complete" | "block-start" | "block-content" | "block-complete" | "image-placeholder" | "image-ready" | "persist-start" | "persist-complete" | "generation-complete" | "error";
/**
 * `generation-complete`: the pipeline finished. **Terminal.**
 */
export type GenerationComplete = {
	/**
	 * Whether the generation succeeded.
	 */
	success: boolean;
	/**
	 * Milliseconds from start to finish.
	 */
	totalDuration: number;
};
/**
 * `generation-start`: the pipeline begins; always the first event of a generation.
 */
export type GenerationStart = {
	/**
	 * The generation (stream) id.
	 */
	sessionId: string;
	/**
	 * How many content blocks the generation will produce (placeholders are drawn for them).
	 */
	totalBlocks: number;
	/**
	 * The model (or pipeline) producing the content.
	 */
	model: string;
};
/**
 * `image-placeholder`: an image of a block is being generated; show a placeholder.
 */
export type ImagePlaceholder = {
	/**
	 * The block the image belongs to.
	 */
	blockIndex: number;
	/**
	 * The image's id.
	 */
	imageId: string;
	/**
	 * Alternative text.
	 */
	alt: string;
};
/**
 * `image-ready`: the image is available at `url`.
 */
export type ImageReady = {
	/**
	 * The block the image belongs to.
	 */
	blockIndex: number;
	/**
	 * The image's id.
	 */
	imageId: string;
	/**
	 * Where the image is: an `http(s)` URL or one relative to the server (the rule of
	 * `is_safe_url`; others are refused).
	 */
	url: string;
};
/**
 * `persist-complete`: the document is saved.
 */
export type PersistComplete = {
	/**
	 * Where the saved document is served: an `http(s)` URL or one relative to the server
	 * (the rule of `is_safe_url`; others are refused).
	 */
	url: string;
	/**
	 * Where it was saved.
	 */
	target: string;
};
/**
 * `persist-start`: saving the finished document begins.
 */
export type PersistStart = {
	/**
	 * Where it is saved.
	 */
	target: string;
};
/**
 * `reasoning-complete`: the reasoning stage is done.
 */
export type ReasoningComplete = {
	/**
	 * Milliseconds the stage took.
	 */
	duration: number;
};
/**
 * `reasoning-start`: the reasoning stage begins.
 */
export type ReasoningStart = {
	/**
	 * The reasoning model.
	 */
	model: string;
};
/**
 * `reasoning-step`: one reasoning substep.
 */
export type ReasoningStep = {
	/**
	 * The step number, from 1.
	 */
	step: number;
	/**
	 * What the step concluded.
	 */
	content: string;
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
	error: ErrorEvent$1;
}
/** Every event name of the vocabulary. */
export declare const EVENT_NAMES: EventName[];
/** Whether `name` is one of the vocabulary's 13 names. */
export declare function isBuiltinEvent(name: string): name is EventName;
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
export type AppEvents<A> = {
	[K in keyof A]: K extends AppEventName ? unknown : never;
};
/** The stage of the error that ends a stream whose producer died (docs/decisions.md). */
export declare const STAGE_INTERRUPTED = "interrupted";
/** The stage of the error that ends a cancelled generation. */
export declare const STAGE_CANCELLED = "cancelled";
/** Whether an event ends its stream: the same rule as the Rust `Event::is_terminal`. */
export declare function isTerminal<K extends EventName>(name: K, data: EventMap[K]): boolean;
/** The position in an event id `{stream}:{seq}`, or null if the id has another form. */
export declare function seqOf(id: string): number | null;
/**
 * Every error code the server, its fast path and the Worker answer, serialized as its
 * snake_case name. Each code has exactly one status; docs/decisions.md's error table
 * lists the same pairs (a unit test compares them).
 */
export type ErrorCode = "bad_request" | "invalid_json" | "invalid_last_event_id" | "invalid_idempotency_key" | "unauthorized" | "token_missing" | "token_invalid" | "token_expired" | "forbidden" | "not_found" | "not_persisted" | "method_not_allowed" | "request_timeout" | "exists" | "not_a_generation" | "already_finished" | "stream_finished" | "expired" | "payload_too_large" | "unsupported_media_type" | "invalid_request" | "unknown_pipeline" | "idempotency_key_reused" | "rate_limited" | "headers_too_large" | "auth_config_invalid" | "too_many_connections" | "store_unavailable";
/** The query parameter the server reads a token from (GET routes only). */
export declare const TOKEN_PARAM = "token";
/** What the server answers a request without the right token: 401 or 403, with one of these codes. */
export type AuthErrorCode = Extract<ErrorCode, "token_missing" | "token_invalid" | "token_expired" | "forbidden">;
/** The `?token=` of `url` (resolved against `base`), or `null`. */
export declare function tokenOf(url: string, base?: string): string | null;
/** `url` (resolved against `base`) with `?token=token`, replacing any; without one when `token` is empty. */
export declare function withToken(url: string, token: string | null | undefined, base?: string): string;
/**
 * A resolver for the URLs a stream carries (images, its document): each resolved against the
 * API base (`""` or `null`: the page's own origin); one on the API's origin under `/v1/` gets
 * `?token=token`, since an `<img>` or a link cannot send a header. A URL on any other origin is
 * only resolved: the token never leaves the API.
 *
 * ```ts
 * const resolve = apiResolver("https://api.example", token);
 * resolve("/v1/generations/gen_a/images/img-0.svg"); // "https://api.example/v1/…/img-0.svg?token=…"
 * resolve("https://cdn.example/a.png");              // unchanged
 * ```
 */
export declare function apiResolver(apiBase: string | null | undefined, token: string | null | undefined, base?: string): (url: string) => string;
/**
 * The code of a refusal for want of a token (401) or of a right (403): the JSON error's own code
 * when it is one of {@link AuthErrorCode}, else `token_invalid` (401) or `forbidden` (403).
 */
export declare function authErrorCode(status: number, code: string | null | undefined): AuthErrorCode;
/** A handler per event name, typed by the vocabulary. */
export type EventHandlers = {
	[K in EventName]?: (data: EventMap[K], id: string) => void;
};
/** A handler per application event the app declares (`A`: name → data type; see `AppEvents`). */
export type AppEventHandlers<A> = {
	[K in keyof A]?: (data: A[K], id: string) => void;
};
/**
 * Why the client gave up: retries exhausted (`gave_up`), the stream is unknown (`not_found`) or
 * expired (`expired`), or the server refused the token (401/403, the JSON error's code).
 */
export type FatalCode = "gave_up" | "not_found" | "expired" | AuthErrorCode;
/** What happens to the connection itself. */
export interface LifecycleHandlers {
	/** A connection opened. */
	onOpen?(): void;
	/** The connection was lost; the client tries again (attempt `attempt`, in `delayMs`). */
	onReconnecting?(attempt: number, delayMs: number): void;
	/** The stream ended: its terminal event arrived (or the server says there is no more). */
	onEnd?(): void;
	/**
	 * The client gave up: retries exhausted, the stream is gone, or the token is refused (missing,
	 * invalid, expired, or without the right to this stream). Nothing more will come.
	 */
	onFatal?(message: string, code: FatalCode): void;
}
export type Handlers<A = {}> = EventHandlers & AppEventHandlers<A> & LifecycleHandlers;
/** The smallest document the client needs for page visibility. */
export interface VisibilitySource {
	readonly hidden: boolean;
	addEventListener(type: "visibilitychange", listener: () => void): void;
	removeEventListener(type: "visibilitychange", listener: () => void): void;
}
export interface ConnectOptions {
	/**
	 * A token for a server with auth on (default: the URL's own `?token=`, as a creation answer's
	 * `eventsUrl` carries it). It goes in the events URL's `?token=` (EventSource cannot set
	 * headers), on every reconnect too, and as `Authorization: Bearer` on the snapshot request.
	 */
	token?: string | null;
	/** Resume after this id (e.g. restored from a saved state). */
	lastEventId?: string | null;
	/** Failed attempts in a row before giving up (default 3); reset when an event arrives. */
	maxAttempts?: number;
	/** Delays between attempts (default: 1 s, 2 s, 4 s … capped at 10 s, jittered). */
	backoff?: Backoff;
	/** Asked before each retry whether the stream still exists (default: derived from the URL or the last id). */
	snapshotUrl?: string | null;
	/** For tests and other environments. */
	EventSource?: typeof EventSource;
	fetch?: typeof fetch;
	document?: VisibilitySource | null;
	setTimeout?: (f: () => void, ms: number) => unknown;
	clearTimeout?: (t: unknown) => void;
	random?: () => number;
}
/** An open subscription. */
export interface Connection {
	/** Stops for good and releases the EventSource. */
	close(): void;
	/** The id of the last event delivered to a handler. */
	readonly lastEventId: string | null;
	/** Whether the connection has ended (terminal event, `close()`, or given up). */
	readonly closed: boolean;
}
/**
 * Subscribes to the stream at `url` with typed handlers.
 *
 * EventSource retries a lost connection once by itself (sending `Last-Event-ID`); if that fails
 * or the connection is closed for good, the client reconnects with `?lastEventId=` after an
 * exponential backoff — asking the snapshot endpoint first, so a stream that is gone ends at once
 * with a clear message. Events already delivered are dropped by id, so a handler never sees an
 * event twice. The EventSource is closed on the terminal event and on `close()`.
 *
 * With auth on, the token (`options.token`, or the URL's `?token=`) rides in the events URL on
 * every attempt and as a bearer header on the snapshot request; a token the server refuses
 * ends the connection with `onFatal(message, code)` (`token_missing`, `token_invalid`,
 * `token_expired` or `forbidden`) instead of retrying.
 *
 * Application events (names with a dot) are declared as the type parameter, name → data type,
 * and handled like the vocabulary's; they never end the stream.
 *
 * ```ts
 * const conn = connect<{ "import.progress": { done: number; total: number } }>("/v1/generations/gen_x/events", {
 *   "block-content": (data) => render(data.blockIndex, data.html),
 *   "import.progress": (data) => showProgress(data.done / data.total),
 *   onFatal: (message) => showError(message),
 * });
 * ```
 */
export declare function connect<A extends AppEvents<A> = {}>(url: string, handlers: Handlers<NoInfer<A>>, options?: ConnectOptions): Connection;
/**
 * `url` resolved against `base`, when it is an `http:` or `https:` URL (or a relative one,
 * which resolves to the base's scheme); `null` for any other scheme (`javascript:`, `data:`, …)
 * and for what does not parse. As strict as the server's rule: ASCII whitespace, control
 * characters and backslashes are refused before parsing, since browsers strip or rewrite them.
 */
export declare function safeUrl(url: string, base?: string): string | null;
/**
 * Sets `el`'s content to `html`, sanitized by DOMPurify: no scripts, event handlers or
 * `javascript:` links, whatever the server sent. Where DOMPurify cannot run (no DOM), the HTML
 * is shown as text rather than trusted.
 */
export declare function setSanitizedHtml(el: Element, html: string): void;
/**
 * The API base a page may follow: `""` (its own origin) when `requested` is empty, the
 * requested origin when it is the page's own or one of `allowed`; `null` when refused. Only
 * origins count: a path or query on `requested` is dropped, since the API's URLs are absolute
 * paths.
 */
export declare function allowedApiBase(requested: string | null, pageOrigin: string, allowed: readonly string[]): string | null;
/**
 * Where a block stands.
 */
export type BlockStatus = "pending" | "streaming" | "complete";
/**
 * One image of a block.
 */
export type ImageSnapshot = {
	/**
	 * The image's id.
	 */
	imageId: string;
	/**
	 * Alternative text.
	 */
	alt: string;
	/**
	 * Where it is, once `image-ready` was seen.
	 */
	url: string | null;
};
/**
 * One block.
 */
export type BlockSnapshot = {
	/**
	 * The block's position.
	 */
	blockIndex: number;
	/**
	 * The block's id, once started.
	 */
	blockId: string | null;
	/**
	 * The block's title, once started.
	 */
	title: string | null;
	/**
	 * The block's HTML so far (sanitized).
	 */
	html: string;
	/**
	 * Where the block stands.
	 */
	status: BlockStatus;
	/**
	 * The block's images, in the order they were announced.
	 */
	images: Array<ImageSnapshot>;
};
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
/**
 * A generation's state, folded from its events and saved to `sessionStorage` (5-minute TTL) so a
 * reloaded page shows it at once and resumes the stream after its last id — with its token, when
 * the server has auth on.
 */
export declare class GenerationState {
	status: Status;
	sessionId: string | null;
	lastEventId: string | null;
	eventsUrl: string | null;
	apiBase: string | null;
	/** The token the stream is followed with (saved with the position, for a reload). */
	token: string | null;
	totalBlocks: number;
	blocks: Map<number, BlockState>;
	reasoning: string[];
	documentUrl: string | null;
	error: string | null;
	startedAt: number | null;
	finishedAt: number | null;
	private readonly storage;
	private readonly key;
	private readonly ttlMs;
	private readonly now;
	constructor(options?: StateOptions);
	/**
	 * Starts tracking a new generation (clears the old one), followed with `token` (default: the
	 * events URL's own `?token=`, as a creation answer's `eventsUrl` carries it).
	 */
	begin(eventsUrl: string, apiBase?: string | null, token?: string | null): void;
	/** Blocks in order. */
	orderedBlocks(): BlockState[];
	/** How many blocks are complete. */
	get completedBlocks(): number;
	block(index: number): BlockState;
	/** Folds one event into the state and saves it. Application events are not a generation's: ignored. */
	apply<K extends EventName>(name: K, payload: EventMap[K], id?: string | null): void;
	/** Marks the generation failed on the client's side (e.g. the connection could not be resumed). */
	fail(message: string): void;
	/** Saves the state with its time, for {@link GenerationState.restore}. */
	persist(): void;
	/** The saved state, if one was saved less than the TTL ago; otherwise `null` (and the stale one is removed). */
	static restore(options?: StateOptions): GenerationState | null;
	/** Forgets the saved state. */
	clear(): void;
	private reset;
}
/** Resolves a server-relative URL (image, document) against the API base. */
export type Resolve = (url: string) => string;
/** Placeholders for `total` blocks, shown until each block's content arrives. */
export declare function renderSkeletons(container: HTMLElement, total: number): void;
/** The element of block `index` (made with its skeleton if missing), kept in index order. */
export declare function blockElement(container: HTMLElement, index: number): HTMLElement;
/**
 * Shows a block as its state says: its skeleton until content arrives, then (with a fade-in) its
 * title, its HTML — sanitized by the server, and again here — and its images, each a
 * placeholder until `image-ready`. An image whose URL is not http(s) stays a placeholder.
 */
export declare function renderBlock(container: HTMLElement, block: BlockState, resolve?: Resolve): HTMLElement;

export {
	ErrorEvent$1 as ErrorEvent,
};

export {};
