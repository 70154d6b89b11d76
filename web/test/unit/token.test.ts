import assert from "node:assert/strict";
import { test } from "node:test";
import { apiResolver, authErrorCode, tokenOf, withToken } from "../../src/token";

const PAGE = "https://app.example/page?x=1";

test("tokenOf reads ?token= from absolute and relative URLs", () => {
  assert.equal(tokenOf("/v1/generations/gen_a/events?token=abc.def-_", PAGE), "abc.def-_");
  assert.equal(tokenOf("https://api.example/v1/x?a=1&token=t%2B1", PAGE), "t+1");
  assert.equal(tokenOf("/v1/generations/gen_a/events", PAGE), null);
  assert.equal(tokenOf("/v1/x?token=", PAGE), null);
  assert.equal(tokenOf("http://[bad", PAGE), null);
});

test("withToken sets, replaces and removes the token, keeping other parameters", () => {
  assert.equal(withToken("/v1/e?lastEventId=g%3A1", "t", PAGE), "https://app.example/v1/e?lastEventId=g%3A1&token=t");
  assert.equal(withToken("/v1/e?token=old", "new", PAGE), "https://app.example/v1/e?token=new");
  assert.equal(withToken("/v1/e?token=old&a=1", null, PAGE), "https://app.example/v1/e?a=1");
});

test("apiResolver adds the token to the API's own /v1/ URLs only", () => {
  const r = apiResolver("https://api.example", "tok", PAGE);
  assert.equal(r("/v1/generations/gen_a/images/img-0.svg"), "https://api.example/v1/generations/gen_a/images/img-0.svg?token=tok");
  assert.equal(r("/v1/generations/gen_a/document"), "https://api.example/v1/generations/gen_a/document?token=tok");
  assert.equal(r("https://api.example/v1/generations/gen_a/images/a.svg?v=2"), "https://api.example/v1/generations/gen_a/images/a.svg?v=2&token=tok");
  // Another origin never gets it: not the page's, not a CDN's, not a look-alike host or port.
  assert.equal(r("https://app.example/v1/generations/gen_a/images/a.svg"), "https://app.example/v1/generations/gen_a/images/a.svg");
  assert.equal(r("https://cdn.example/a.png"), "https://cdn.example/a.png");
  assert.equal(r("https://api.example.evil/v1/a"), "https://api.example.evil/v1/a");
  assert.equal(r("https://api.example:8443/v1/a"), "https://api.example:8443/v1/a");
  assert.equal(r("http://api.example/v1/a"), "http://api.example/v1/a");
  assert.equal(r("//evil.example/v1/a"), "https://evil.example/v1/a");
  // Not the API's other paths either.
  assert.equal(r("/assets/x.png"), "https://api.example/assets/x.png");
});

test("apiResolver on the page's own origin (no api base), and without a token", () => {
  const own = apiResolver("", "tok", PAGE);
  assert.equal(own("/v1/generations/g/images/i.svg"), "https://app.example/v1/generations/g/images/i.svg?token=tok");
  assert.equal(own("https://api.example/v1/generations/g/images/i.svg"), "https://api.example/v1/generations/g/images/i.svg");
  const none = apiResolver(null, null, PAGE);
  assert.equal(none("/v1/generations/g/images/i.svg"), "https://app.example/v1/generations/g/images/i.svg");
});

test("authErrorCode keeps the server's code, else falls back by status", () => {
  assert.equal(authErrorCode(401, "token_expired"), "token_expired");
  assert.equal(authErrorCode(401, "token_missing"), "token_missing");
  assert.equal(authErrorCode(403, "forbidden"), "forbidden");
  assert.equal(authErrorCode(401, undefined), "token_invalid");
  assert.equal(authErrorCode(401, "unauthorized"), "token_invalid");
  assert.equal(authErrorCode(403, null), "forbidden");
});
