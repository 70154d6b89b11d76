//! Block HTML is sanitized before it is stored, so a browser may set it as `innerHTML`.

use std::sync::LazyLock;

use ssekit_events::Event;

/// ammonia's defaults: formatting, lists, tables, links and images; no scripts, handlers or styles.
/// Built once: a builder holds the allow-lists, which are costly to make per call.
static SANITIZER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(ammonia::Builder::default);

/// Sanitizes the HTML an event carries, in place. Other events are left as they are.
pub fn sanitize(event: &mut Event) {
    if let Event::BlockContent(c) = event {
        c.html = SANITIZER.clean(&c.html).to_string();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ssekit_events::BlockContent;

    #[test]
    fn removes_scripts_and_handlers() {
        let mut e = Event::BlockContent(BlockContent {
            block_index: 0,
            html: r#"<p onclick="x()">hi<script>alert(1)</script><img src="/a.svg" onerror="y()"></p>"#.into(),
            mode: None,
        });
        sanitize(&mut e);
        let Event::BlockContent(c) = e else {
            unreachable!()
        };
        assert_eq!(c.html, r#"<p>hi<img src="/a.svg"></p>"#);
    }
}
