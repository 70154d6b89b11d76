//! The CORS policy (the Fetch standard's CORS protocol): which pages may read the API's answers,
//! as the headers every front end adds. The fast path, the axum router (a middleware around every
//! route and its fallbacks) and the Worker all take their headers from [`headers`].
//!
//! No `Access-Control-Allow-Credentials`: a cross-origin page authenticates with
//! `Authorization: Bearer` or a URL's `?token=`, never with the `ssekit_token` cookie, which
//! serves same-origin pages only (docs/decisions.md, "CORS").
//!
//! ```
//! use ssekit_api::cors;
//!
//! let allowed = ["https://a.example".to_owned()];
//! let simple = cors::headers(&allowed, Some(b"https://a.example"), false);
//! assert!(simple.contains(&("access-control-allow-origin", "https://a.example".into())));
//! let other = cors::headers(&allowed, Some(b"https://evil.example"), false);
//! assert!(other.iter().all(|(name, _)| *name != "access-control-allow-origin"));
//! assert!(cors::is_preflight(&http::Method::OPTIONS, true));
//! ```

use http::Method;

/// The methods a preflight allows.
pub const ALLOW_METHODS: &str = "GET,POST,DELETE,OPTIONS";
/// The request headers a preflight allows: JSON bodies, the token, a resuming
/// EventSource polyfill's headers, and a publish's `Idempotency-Key`.
pub const ALLOW_HEADERS: &str =
    "content-type,authorization,cache-control,last-event-id,idempotency-key";
/// The answer headers a page's script may read besides the CORS-safelisted ones (`Content-Type`,
/// `Cache-Control`, …): a replayed publish's `Idempotency-Replayed`, the `Retry-After` of a `429`
/// or `503`, a creation's `Location`, the `WWW-Authenticate` of a `401` or of a `403` for a token
/// without the right (every answer exposes the same list, whatever its status).
pub const EXPOSE_HEADERS: &str = "idempotency-replayed,retry-after,location,www-authenticate";
/// How long a browser may keep a preflight's answer, seconds.
pub const MAX_AGE: &str = "86400";
/// The answer depends on these request headers, so caches key on them.
pub const VARY: &str = "origin, access-control-request-method, access-control-request-headers";

/// Whether a request is a preflight: `OPTIONS` with `Access-Control-Request-Method`. Any
/// other `OPTIONS` goes to the routes (none takes it: `405`, or `404`).
pub fn is_preflight(method: &Method, has_request_method: bool) -> bool {
    method == Method::OPTIONS && has_request_method
}

/// The `Access-Control-Allow-Origin` for a request from `origin` (its `Origin` header) given the
/// configured origins (`--cors-origin`, the Worker's `CORS_ORIGINS`): `*` when they hold `*`,
/// else the origin itself when listed exactly, else none.
pub fn allow_origin(allowed: &[String], origin: Option<&[u8]>) -> Option<String> {
    if allowed.iter().any(|o| o == "*") {
        return Some("*".to_owned());
    }
    let origin = std::str::from_utf8(origin?).ok()?;
    allowed
        .iter()
        .any(|o| o == origin)
        .then(|| origin.to_owned())
}

/// Every CORS header of the answer to a request from `origin`: a preflight's (answered `200`
/// with no body, before any route), or those added to any other answer — a route's, an error,
/// a stream — which, for an allowed origin, expose [`EXPOSE_HEADERS`] to its scripts.
pub fn headers(
    allowed: &[String],
    origin: Option<&[u8]>,
    preflight: bool,
) -> Vec<(&'static str, String)> {
    let mut out = Vec::with_capacity(5);
    let allow = allow_origin(allowed, origin);
    let exposed = allow.is_some() && !preflight;
    if let Some(allow) = allow {
        out.push(("access-control-allow-origin", allow));
    }
    if exposed {
        out.push(("access-control-expose-headers", EXPOSE_HEADERS.to_owned()));
    }
    out.push(("vary", VARY.to_owned()));
    if preflight {
        out.push(("access-control-allow-methods", ALLOW_METHODS.to_owned()));
        out.push(("access-control-allow-headers", ALLOW_HEADERS.to_owned()));
        out.push(("access-control-max-age", MAX_AGE.to_owned()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allow(h: &[(&'static str, String)]) -> Option<String> {
        h.iter()
            .find(|(n, _)| *n == "access-control-allow-origin")
            .map(|(_, v)| v.clone())
    }

    #[test]
    fn origins_are_allowed_as_configured() {
        let any = ["*".to_owned()];
        assert_eq!(
            allow(&headers(&any, Some(b"https://x"), false)).unwrap(),
            "*"
        );
        assert_eq!(allow(&headers(&any, None, false)).unwrap(), "*");
        let list = [
            "https://a.example".to_owned(),
            "https://b.example".to_owned(),
        ];
        for ok in ["https://a.example", "https://b.example"] {
            assert_eq!(
                allow(&headers(&list, Some(ok.as_bytes()), false)).as_deref(),
                Some(ok)
            );
        }
        for no in [
            Some(&b"https://c.example"[..]),
            Some(b"https://a.example/"),
            Some(b"HTTPS://A.EXAMPLE"),
            Some(b"\xff"),
            None,
        ] {
            assert_eq!(allow(&headers(&list, no, false)), None, "{no:?}");
        }
    }

    #[test]
    fn a_preflight_adds_methods_headers_and_max_age_others_expose_headers_and_nothing_sends_credentials(
    ) {
        let list = ["https://a.example".to_owned()];
        let pre = headers(&list, Some(b"https://a.example"), true);
        let names: Vec<_> = pre.iter().map(|(n, _)| *n).collect();
        assert_eq!(
            names,
            [
                "access-control-allow-origin",
                "vary",
                "access-control-allow-methods",
                "access-control-allow-headers",
                "access-control-max-age"
            ]
        );
        let simple = headers(&list, Some(b"https://a.example"), false);
        let names: Vec<_> = simple.iter().map(|(n, _)| *n).collect();
        assert_eq!(
            names,
            [
                "access-control-allow-origin",
                "access-control-expose-headers",
                "vary"
            ]
        );
        let refused = headers(&list, Some(b"https://c.example"), false);
        assert_eq!(refused, [("vary", VARY.to_owned())]);
        assert!(pre
            .iter()
            .chain(&simple)
            .all(|(n, _)| *n != "access-control-allow-credentials"));
        assert!(!is_preflight(&Method::OPTIONS, false));
        assert!(!is_preflight(&Method::GET, true));
    }
}
