// Tokens for a server with auth on. EventSource and <img> cannot send headers, so a stream's
// events URL and the URLs of its images carry `?token=`; everything fetched sends
// `Authorization: Bearer` instead. A token goes only to the API's own origin, never elsewhere.
import type { ErrorCode } from "./generated/ErrorCode";

/** The query parameter the server reads a token from (GET routes only). */
export const TOKEN_PARAM = "token";

/** What the server answers a request without the right token: 401 or 403, with one of these codes. */
export type AuthErrorCode = Extract<ErrorCode, "token_missing" | "token_invalid" | "token_expired" | "forbidden">;

const AUTH_CODES: readonly string[] = ["token_missing", "token_invalid", "token_expired", "forbidden"];

function pageBase(): string {
  return (globalThis as { location?: { href: string } }).location?.href ?? "http://localhost/";
}

/** The `?token=` of `url` (resolved against `base`), or `null`. */
export function tokenOf(url: string, base: string = pageBase()): string | null {
  try {
    return new URL(url, base).searchParams.get(TOKEN_PARAM) || null;
  } catch {
    return null;
  }
}

/** `url` (resolved against `base`) with `?token=token`, replacing any; without one when `token` is empty. */
export function withToken(url: string, token: string | null | undefined, base: string = pageBase()): string {
  const u = new URL(url, base);
  if (token) u.searchParams.set(TOKEN_PARAM, token);
  else u.searchParams.delete(TOKEN_PARAM);
  return u.toString();
}

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
export function apiResolver(
  apiBase: string | null | undefined,
  token: string | null | undefined,
  base: string = pageBase(),
): (url: string) => string {
  const api = new URL(apiBase || base, base);
  return (url) => {
    const u = new URL(url, api);
    if (token && u.origin === api.origin && u.pathname.startsWith("/v1/")) u.searchParams.set(TOKEN_PARAM, token);
    return u.toString();
  };
}

/**
 * The code of a refusal for want of a token (401) or of a right (403): the JSON error's own code
 * when it is one of {@link AuthErrorCode}, else `token_invalid` (401) or `forbidden` (403).
 */
export function authErrorCode(status: number, code: string | null | undefined): AuthErrorCode {
  if (code && AUTH_CODES.includes(code)) return code as AuthErrorCode;
  return status === 403 ? "forbidden" : "token_invalid";
}
