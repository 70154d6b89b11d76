// What the client puts into the page from a stream: HTML through a sanitizer, URLs only when
// they are http(s). The server checks both before it stores an event; the client checks again,
// because a page may follow a stream from a server that did not (defence in depth).
import DOMPurify from "dompurify";

/**
 * `url` resolved against `base`, when it is an `http:` or `https:` URL (or a relative one,
 * which resolves to the base's scheme); `null` for any other scheme (`javascript:`, `data:`, …)
 * and for what does not parse. As strict as the server's rule: ASCII whitespace, control
 * characters and backslashes are refused before parsing, since browsers strip or rewrite them.
 */
export function safeUrl(url: string, base?: string): string | null {
  // eslint-disable-next-line no-control-regex
  if (!url || /[\u0000-\u0020\u007f\\]/.test(url)) return null;
  let parsed: URL;
  try {
    parsed = new URL(url, base);
  } catch {
    return null;
  }
  return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
}

/** No styles (the server's sanitizer drops them too), no SVG or MathML: formatting, lists,
 * tables, links and images. DOMPurify keeps only http(s), mailto/tel-like and relative URLs. */
const CONFIG = { USE_PROFILES: { html: true }, FORBID_TAGS: ["style"], FORBID_ATTR: ["style"] };

const purifiers = new WeakMap<object, ReturnType<typeof DOMPurify>>();

/** One DOMPurify per window (elements may belong to another window than the script's). */
function purifierOf(view: (Window & typeof globalThis) | null): ReturnType<typeof DOMPurify> | null {
  if (!view) return null;
  let purify = purifiers.get(view);
  if (!purify) purifiers.set(view, (purify = DOMPurify(view)));
  return purify;
}

/**
 * Sets `el`'s content to `html`, sanitized by DOMPurify: no scripts, event handlers or
 * `javascript:` links, whatever the server sent. Where DOMPurify cannot run (no DOM), the HTML
 * is shown as text rather than trusted.
 */
export function setSanitizedHtml(el: Element, html: string): void {
  const purify = purifierOf(el.ownerDocument.defaultView);
  if (!purify?.isSupported) {
    el.textContent = html;
    return;
  }
  el.replaceChildren(purify.sanitize(html, { ...CONFIG, RETURN_DOM_FRAGMENT: true }));
}

/**
 * The API base a page may follow: `""` (its own origin) when `requested` is empty, the
 * requested origin when it is the page's own or one of `allowed`; `null` when refused. Only
 * origins count: a path or query on `requested` is dropped, since the API's URLs are absolute
 * paths.
 */
export function allowedApiBase(requested: string | null, pageOrigin: string, allowed: readonly string[]): string | null {
  if (!requested) return "";
  const origin = safeUrl(requested) && new URL(requested).origin;
  if (!origin) return null;
  const allowedOrigins = allowed.map((a) => safeUrl(a) && new URL(a).origin).filter(Boolean);
  return origin === pageOrigin || allowedOrigins.includes(origin) ? origin : null;
}
