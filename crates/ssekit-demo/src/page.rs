//! The demo page and the built web client (`web/dist/`), embedded so that the native binary and
//! the Worker serve the same files without npm at run time.

/// The demo page, served at `/`.
pub const INDEX: &str = include_str!("../../../web/dist/index.html");

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
