//! The demo page and the built web client (`web/dist/`), embedded as the native server embeds them.

/// `(name, content type, bytes)` of each file under `/assets/`.
pub const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "ssekit.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../web/dist/ssekit.js"),
    ),
    (
        "demo.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../web/dist/demo.js"),
    ),
    (
        "ssekit.css",
        "text/css; charset=utf-8",
        include_bytes!("../../web/dist/ssekit.css"),
    ),
];

/// The demo page.
pub const INDEX: &str = include_str!("../../web/dist/index.html");
