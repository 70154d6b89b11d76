// ssekit's browser client: typed, resumable Server-Sent Events.
export { Backoff, type BackoffOptions } from "./backoff";
export {
  connect,
  type AppEventHandlers,
  type Connection,
  type ConnectOptions,
  type EventHandlers,
  type FatalCode,
  type Handlers,
  type LifecycleHandlers,
  type VisibilitySource,
} from "./connect";
export * from "./events";
export { allowedApiBase, safeUrl, setSanitizedHtml } from "./safe";
export { blockElement, renderBlock, renderSkeletons, type Resolve } from "./render";
export { TOKEN_PARAM, apiResolver, authErrorCode, tokenOf, withToken, type AuthErrorCode } from "./token";
export { GenerationState, type BlockState, type ImageState, type StateOptions, type Status } from "./state";
