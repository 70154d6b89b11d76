import assert from "node:assert/strict";
import { test } from "node:test";
import { allowedApiBase, safeUrl, setSanitizedHtml } from "../../src/safe";

const BASE = "https://app.example/page";

test("safeUrl keeps http(s) and relative URLs, resolved", () => {
  assert.equal(safeUrl("/v1/generations/g/images/img-0.svg", BASE), "https://app.example/v1/generations/g/images/img-0.svg");
  assert.equal(safeUrl("img.svg", BASE), "https://app.example/img.svg");
  assert.equal(safeUrl("https://cdn.example/a.png"), "https://cdn.example/a.png");
  assert.equal(safeUrl("HTTP://cdn.example/a.png"), "http://cdn.example/a.png");
});

test("safeUrl refuses every other scheme and what a browser would rewrite into one", () => {
  for (const bad of [
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "java\tscript:alert(1)",
    "java\nscript:alert(1)",
    " javascript:alert(1)",
    "\u0001javascript:alert(1)",
    "data:image/svg+xml,<svg onload=alert(1)>",
    "vbscript:x",
    "blob:https://app.example/x",
    "file:///etc/passwd",
    "/\\evil.example/x",
    "",
  ]) {
    assert.equal(safeUrl(bad, BASE), null, JSON.stringify(bad));
  }
  assert.equal(safeUrl("/relative/without/base"), null, "a relative URL needs a base to be checked");
});

test("the demo page's api: its own origin or an allowed one, nothing else", () => {
  const page = "https://app.example";
  assert.equal(allowedApiBase(null, page, []), "");
  assert.equal(allowedApiBase("", page, []), "");
  assert.equal(allowedApiBase("https://app.example/", page, []), "https://app.example");
  assert.equal(allowedApiBase("https://evil.example", page, []), null);
  assert.equal(allowedApiBase("https://api.example/x?y", page, ["https://api.example"]), "https://api.example");
  assert.equal(allowedApiBase("https://api.example:8443", page, ["https://api.example"]), null, "the port is part of the origin");
  assert.equal(allowedApiBase("http://api.example", page, ["https://api.example"]), null, "so is the scheme");
  assert.equal(allowedApiBase("javascript:alert(1)//api.example", page, ["https://api.example"]), null);
  assert.equal(allowedApiBase("not a url", page, ["not a url"]), null);
});

test("without a DOM to sanitize in, HTML is shown as text, never trusted", () => {
  const el = { ownerDocument: { defaultView: null }, textContent: "" } as unknown as Element;
  setSanitizedHtml(el, "<img src=x onerror=alert(1)>");
  assert.equal(el.textContent, "<img src=x onerror=alert(1)>");
});
