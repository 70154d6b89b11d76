//! The rule for URLs in events (`image-ready.url`, `persist-complete.url`): pages put them into
//! `<img src>` and `<a href>`, so a `javascript:` or `data:` URL there would run or show content
//! the server never vetted.

/// Whether `url` may be served in an event: an absolute `http:`/`https:` URL or a relative
/// reference (`/v1/…`, `images/a.svg`, `?page=2`), nothing else.
///
/// The rule is strict rather than clever, so that no browser's lenient URL parsing can read a
/// scheme the check did not see: no ASCII whitespace or control characters anywhere (browsers
/// strip tabs and newlines, so `java\tscript:` is `javascript:` to them), no backslashes (a
/// browser reads `\` as `/`), and any `:` before the first `/`, `?` or `#` must end an `http`
/// or `https` scheme.
///
/// ```
/// use ssekit_events::is_safe_url;
/// assert!(is_safe_url("/v1/generations/gen_a/images/img-0.svg"));
/// assert!(is_safe_url("https://cdn.example/a.png"));
/// assert!(!is_safe_url("javascript:alert(1)"));
/// assert!(!is_safe_url("data:image/svg+xml,<svg/>"));
/// ```
pub fn is_safe_url(url: &str) -> bool {
    if url.is_empty()
        || url
            .bytes()
            .any(|b| b.is_ascii_whitespace() || b.is_ascii_control() || b == b'\\')
    {
        return false;
    }
    let head_end = url.find(['/', '?', '#']).unwrap_or(url.len());
    match url[..head_end].split_once(':') {
        None => true,
        Some((scheme, _)) => {
            scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https")
        }
    }
}

/// `#[serde(with)]` for a URL field: serialized as is, refused when parsed if [`is_safe_url`]
/// refuses it (a `with` module rather than `deserialize_with`, which ts-rs cannot read).
pub(crate) mod safe_url {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(url: &str, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(url)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
        let url = String::deserialize(d)?;
        if super::is_safe_url(&url) {
            Ok(url)
        } else {
            Err(serde::de::Error::custom(
                "url must be an http(s) URL or a relative reference (no other scheme, whitespace, control characters or backslashes)",
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::is_safe_url;

    #[test]
    fn allows_http_https_and_relative_references() {
        for ok in [
            "/v1/generations/gen_a/document",
            "images/img-0.svg",
            "./a:b",
            "?page=2",
            "#top",
            "//cdn.example/a.png",
            "http://example.com/a.png",
            "HTTPS://example.com/a.png?x=1:2#y:z",
            "/a/b:c",
        ] {
            assert!(is_safe_url(ok), "{ok:?} should be allowed");
        }
    }

    #[test]
    fn refuses_other_schemes_and_ambiguous_spellings() {
        for bad in [
            "",
            "javascript:alert(1)",
            "JavaScript:alert(1)",
            "data:image/svg+xml,<svg onload=alert(1)>",
            "vbscript:msgbox",
            "file:///etc/passwd",
            "blob:https://a/b",
            " javascript:alert(1)",
            "\u{1}javascript:alert(1)",
            "java\tscript:alert(1)",
            "java\nscript:alert(1)",
            "https://a/\u{7f}",
            "/\\evil.example",
            "a:b",
            "https :x",
            // Not a scheme to a browser either, but any `:` before the path must end http(s).
            "%6Aavascript:alert(1)",
        ] {
            assert!(!is_safe_url(bad), "{bad:?} should be refused");
        }
    }
}
