//! The demo page and the built web client (`web/dist/`), embedded so that the native binary and
//! the Worker serve the same files without npm at run time.

use std::borrow::Cow;

/// The demo page as built: it follows only its own origin (see [`index`]).
pub const INDEX: &str = include_str!("../../../web/dist/index.html");

/// The demo page's `Content-Security-Policy`: scripts only from its own origin, so even HTML that
/// got past both sanitizers runs no inline handler, inline script or `javascript:` URL.
pub const CSP: &str = "script-src 'self'; object-src 'none'; base-uri 'none'";

/// The page's (empty) list of the other origins whose API it may follow with `?api=`.
const API_ORIGINS_META: &str = r#"<meta name="ssekit-api-origins" content="">"#;

/// The demo page served at `/`, allowed to follow `?api=` on its own origin and on `api_origins`
/// (`https://host[:port]`, from `--demo-api-origin` or the Worker's `DEMO_API_ORIGINS`). The
/// page renders the streams it follows, so an `api` from anywhere would let any link show
/// HTML this server's sanitizer never saw on this origin.
///
/// ```
/// let page = ssekit_demo::page::index(&["https://api.example".into()]);
/// assert!(page.contains(r#"<meta name="ssekit-api-origins" content="https://api.example">"#));
/// assert_eq!(ssekit_demo::page::index(&[]), ssekit_demo::page::INDEX);
/// ```
pub fn index(api_origins: &[String]) -> Cow<'static, str> {
    if api_origins.is_empty() {
        return Cow::Borrowed(INDEX);
    }
    let list = crate::escape(&api_origins.join(" "));
    let meta = format!(r#"<meta name="ssekit-api-origins" content="{list}">"#);
    Cow::Owned(INDEX.replacen(API_ORIGINS_META, &meta, 1))
}

/// Checks an origin for [`index`]'s list: `http(s)://host[:port]`, nothing after it, and
/// returns it as a browser spells an origin (no trailing slash).
///
/// ```
/// use ssekit_demo::page::parse_api_origin;
/// assert_eq!(parse_api_origin("https://api.example/").unwrap(), "https://api.example");
/// assert!(parse_api_origin("https://api.example/v1").is_err());
/// assert!(parse_api_origin("javascript:alert(1)").is_err());
/// assert!(parse_api_origin("*").is_err());
/// ```
pub fn parse_api_origin(s: &str) -> Result<String, String> {
    let err = || format!("expected an origin, http(s)://HOST[:PORT], got {s:?}");
    let s = s.trim();
    let (scheme, rest) = s.split_once("://").ok_or_else(err)?;
    let scheme = scheme.to_ascii_lowercase();
    let host = rest.strip_suffix('/').unwrap_or(rest).to_ascii_lowercase();
    let host_ok = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b));
    if !(scheme == "http" || scheme == "https") || !host_ok {
        return Err(err());
    }
    Ok(format!("{scheme}://{host}"))
}

/// `(name, content type, bytes)` of each file served under `/assets/`.
const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "ssekit.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../web/dist/ssekit.js"),
    ),
    (
        "demo.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../web/dist/demo.js"),
    ),
    (
        "ssekit.css",
        "text/css; charset=utf-8",
        include_bytes!("../../../web/dist/ssekit.css"),
    ),
];

/// The content type and bytes of `/assets/{name}`, if there is such a file.
///
/// ```
/// let (content_type, _) = ssekit_demo::page::asset("ssekit.js").unwrap();
/// assert_eq!(content_type, "text/javascript; charset=utf-8");
/// assert!(ssekit_demo::page::asset("../Cargo.toml").is_none());
/// ```
pub fn asset(name: &str) -> Option<(&'static str, &'static [u8])> {
    ASSETS
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, content_type, body)| (*content_type, *body))
}
