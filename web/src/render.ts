import { safeUrl, setSanitizedHtml } from "./safe";
import type { BlockState } from "./state";

/** Resolves a server-relative URL (image, document) against the API base. */
export type Resolve = (url: string) => string;

function skeleton(doc: Document): HTMLElement {
  const s = doc.createElement("div");
  s.className = "ssekit-skeleton";
  s.setAttribute("aria-hidden", "true");
  for (const [cls, width] of [["ssekit-skeleton-title", "40%"], ["ssekit-skeleton-line", "92%"], ["ssekit-skeleton-line", "76%"], ["ssekit-skeleton-line", "84%"]] as const) {
    const line = doc.createElement("div");
    line.className = `${cls} ssekit-pulse`;
    line.style.width = width;
    s.appendChild(line);
  }
  return s;
}

/** Placeholders for `total` blocks, shown until each block's content arrives. */
export function renderSkeletons(container: HTMLElement, total: number): void {
  for (let i = 0; i < total; i++) blockElement(container, i);
}

/** The element of block `index` (made with its skeleton if missing), kept in index order. */
export function blockElement(container: HTMLElement, index: number): HTMLElement {
  const doc = container.ownerDocument;
  let el = container.querySelector<HTMLElement>(`:scope > [data-block-index="${index}"]`);
  if (el) return el;
  el = doc.createElement("article");
  el.className = "ssekit-block";
  el.dataset.blockIndex = String(index);
  el.dataset.status = "pending";
  el.setAttribute("aria-busy", "true");
  el.appendChild(skeleton(doc));
  const next = [...container.querySelectorAll<HTMLElement>(":scope > [data-block-index]")].find(
    (b) => Number(b.dataset.blockIndex) > index,
  );
  container.insertBefore(el, next ?? null);
  return el;
}

/** The HTML each block body was last set from (its sanitized DOM may serialize differently). */
const shownHtml = new WeakMap<HTMLElement, string>();

/**
 * Shows a block as its state says: its skeleton until content arrives, then (with a fade-in) its
 * title, its HTML — sanitized by the server, and again here — and its images, each a
 * placeholder until `image-ready`. An image whose URL is not http(s) stays a placeholder.
 */
export function renderBlock(container: HTMLElement, block: BlockState, resolve: Resolve = (u) => u): HTMLElement {
  const el = blockElement(container, block.index);
  const doc = container.ownerDocument;
  const hasContent = block.title !== null || block.html !== "";
  el.dataset.status = block.status;
  el.setAttribute("aria-busy", String(block.status !== "complete"));
  if (!hasContent) return el;
  let body = el.querySelector<HTMLElement>(":scope > .ssekit-block-body");
  if (!body) {
    el.replaceChildren();
    el.classList.add("ssekit-fade-in");
    const title = doc.createElement("h2");
    title.className = "ssekit-block-title";
    body = doc.createElement("div");
    body.className = "ssekit-block-body";
    const images = doc.createElement("div");
    images.className = "ssekit-block-images";
    el.append(title, body, images);
  }
  const title = el.querySelector<HTMLElement>(":scope > .ssekit-block-title")!;
  if (title.textContent !== (block.title ?? "")) title.textContent = block.title ?? "";
  if (shownHtml.get(body) !== block.html) {
    setSanitizedHtml(body, block.html);
    shownHtml.set(body, block.html);
  }
  const images = el.querySelector<HTMLElement>(":scope > .ssekit-block-images")!;
  for (const img of block.images) {
    let fig = images.querySelector<HTMLElement>(`:scope > [data-image-id="${CSS.escape(img.imageId)}"]`);
    if (!fig) {
      fig = doc.createElement("figure");
      fig.className = "ssekit-image";
      fig.dataset.imageId = img.imageId;
      images.appendChild(fig);
    }
    // Checked before and after `resolve`: an unsafe URL is never resolved, nor a resolved one used.
    const src = img.url && safeUrl(img.url, doc.baseURI) ? safeUrl(resolve(img.url), doc.baseURI) : null;
    if (src && !fig.querySelector("img")) {
      const image = doc.createElement("img");
      // An image request cut by a flaky network is tried again, a few times, with a growing pause.
      let retries = 0;
      image.addEventListener("error", () => {
        if (++retries > 3) return;
        setTimeout(() => (image.src = `${src}${src.includes("?") ? "&" : "?"}retry=${retries}`), 400 * retries);
      });
      image.src = src;
      image.alt = img.alt;
      image.className = "ssekit-fade-in";
      fig.replaceChildren(image);
      fig.dataset.status = "ready";
      fig.removeAttribute("aria-busy");
    } else if (!src && !fig.firstChild) {
      const ph = doc.createElement("div");
      ph.className = "ssekit-image-placeholder ssekit-pulse";
      ph.textContent = img.alt;
      fig.appendChild(ph);
      fig.dataset.status = "pending";
      fig.setAttribute("aria-busy", "true");
    }
  }
  return el;
}
