//! Reading and classifying a request head: is it a subscription we serve directly?
//!
//! Every connection's first request head is read here, whichever front end then serves it, so
//! the rules for heads (how long, how large, how malformed) are checked in one place.

use std::time::Duration;

use axum::http::Method;
use ssekit_api::routes::Route;
use tokio::io::{AsyncRead, AsyncReadExt};

use crate::error::ApiError;
use ssekit_api::ErrorCode;

/// Largest request head, in bytes; hyper is configured with the same bound for the requests it
/// reads itself. Over it: `431`.
pub const MAX_HEAD: usize = 32 * 1024;
/// Most header lines in a head, hyper's own limit. Over it: `431`.
const MAX_HEADERS: usize = 100;

/// A subscription request, with the few headers it needs, copied out of the read buffer.
pub struct SseRequest {
    pub route: SseRoute,
    pub query: String,
    /// Every `Last-Event-ID` line, joined with ", " as hyper and the Worker's runtime join them.
    pub last_event_id: Option<Vec<u8>>,
    /// Every `Authorization` line, joined with ", " (so two tokens are one invalid token, as
    /// on hyper's path).
    pub authorization: Option<Vec<u8>>,
    /// Every `Cookie` line, joined with "; " (`access::join_cookies`).
    pub cookie: Option<Vec<u8>>,
    /// Every `X-Forwarded-For` line, joined with ", ".
    pub forwarded_for: Option<Vec<u8>>,
    pub origin: Option<Vec<u8>>,
    /// The client asked to close the connection after this response.
    pub close: bool,
}

/// The subscription routes.
pub enum SseRoute {
    /// `GET /v1/generations/{id}/events` or `GET /v1/streams/{id}/events`, with the id
    /// percent-decoded (its syntax not yet checked).
    Events(String),
    /// `GET /v1/generate?…`.
    OneShot,
}

/// What was read.
pub enum Head {
    /// A subscription: its head has been taken out of the buffer.
    Sse(SseRequest),
    /// Any other well-formed request: hyper serves it from the buffered bytes on.
    Other,
    /// A head that is answered with an error and the connection closed: malformed, too large,
    /// or not complete within the header timeout.
    Refuse(ApiError),
    /// The client closed the connection, or sent nothing, before a whole head.
    Closed,
}

/// Which GETs are served here: the route table's streams. Any other path, or one the table
/// refuses (a parameter that is not UTF-8), is hyper's to answer, with the same error.
fn route(path: &str) -> Option<SseRoute> {
    match Route::recognize(&Method::GET, path).ok()? {
        Route::GenerationEvents { id } | Route::StreamEvents { id } => Some(SseRoute::Events(id)),
        Route::Generate => Some(SseRoute::OneShot),
        _ => None,
    }
}

fn too_large() -> ApiError {
    ApiError::new(
        ErrorCode::HeadersTooLarge,
        format!("the request head is larger than {MAX_HEAD} bytes or {MAX_HEADERS} header lines"),
    )
}

fn timed_out() -> ApiError {
    ApiError::new(
        ErrorCode::RequestTimeout,
        "the request head did not arrive in time",
    )
}

fn malformed() -> ApiError {
    ApiError::new(ErrorCode::BadRequest, "the request head is malformed")
}

/// Reads until `buf` holds a whole request head and classifies it. The head must be complete
/// within `timeout` of the call: from the accept, or from the end of the previous response — as
/// hyper counts its header timeout, so an idle keep-alive connection is bounded the same way.
pub async fn read<R: AsyncRead + Unpin>(io: &mut R, buf: &mut Vec<u8>, timeout: Duration) -> Head {
    let read = async {
        loop {
            if let Some(head) = classify(buf) {
                return head;
            }
            if buf.len() >= MAX_HEAD {
                return Head::Refuse(too_large());
            }
            // Never read past the bound: what a client may make us hold is MAX_HEAD.
            let room = (MAX_HEAD - buf.len()).min(4096);
            buf.reserve(room);
            match (&mut *io).take(room as u64).read_buf(buf).await {
                // A client that leaves mid-head gets no answer: nobody would read it.
                Ok(0) | Err(_) => return Head::Closed,
                Ok(_) => {}
            }
        }
    };
    match tokio::time::timeout(timeout, read).await {
        Ok(head) => head,
        Err(_) if buf.is_empty() => Head::Closed,
        Err(_) => Head::Refuse(timed_out()),
    }
}

/// Classifies a request head (`None` while it is incomplete): a subscription, taken out of
/// `buf`; anything else well-formed, left in `buf` for hyper; or an error to answer.
pub fn classify(buf: &mut Vec<u8>) -> Option<Head> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    let len = match req.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return None,
        Err(httparse::Error::TooManyHeaders) => return Some(Head::Refuse(too_large())),
        // hyper parses with httparse too and would refuse the same head, with a bare 400.
        Err(_) => return Some(Head::Refuse(malformed())),
    };
    if req.method != Some("GET") || req.version != Some(1) {
        return Some(Head::Other);
    }
    let target = req.path.unwrap_or("");
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let Some(route) = route(path) else {
        return Some(Head::Other);
    };
    let mut last_event_id: Vec<&[u8]> = Vec::new();
    let mut authorization: Vec<&[u8]> = Vec::new();
    let mut cookie: Vec<&[u8]> = Vec::new();
    let mut forwarded_for: Vec<&[u8]> = Vec::new();
    let mut sse = SseRequest {
        route,
        query: query.to_owned(),
        last_event_id: None,
        authorization: None,
        cookie: None,
        forwarded_for: None,
        origin: None,
        close: false,
    };
    for h in req.headers.iter() {
        let name = h.name;
        if name.eq_ignore_ascii_case("last-event-id") {
            last_event_id.push(h.value);
        } else if name.eq_ignore_ascii_case("authorization") {
            authorization.push(h.value);
        } else if name.eq_ignore_ascii_case("cookie") {
            cookie.push(h.value);
        } else if name.eq_ignore_ascii_case(crate::access::FORWARDED_FOR) {
            forwarded_for.push(h.value);
        } else if name.eq_ignore_ascii_case("origin") {
            sse.origin = Some(h.value.to_vec());
        } else if name.eq_ignore_ascii_case("connection") {
            sse.close = h.value.eq_ignore_ascii_case(b"close");
        } else if name.eq_ignore_ascii_case("content-length") && h.value != b"0"
            || name.eq_ignore_ascii_case("transfer-encoding")
            || name.eq_ignore_ascii_case("upgrade")
            || name.eq_ignore_ascii_case("expect")
        {
            // A GET with a body (or asking for something else): leave it to hyper.
            return Some(Head::Other);
        }
    }
    sse.last_event_id = ssekit_api::join_header_values(last_event_id);
    sse.authorization = ssekit_api::join_header_values(authorization);
    sse.cookie = crate::access::join_cookies(cookie);
    sse.forwarded_for = ssekit_api::join_header_values(forwarded_for);
    buf.drain(..len);
    Some(Head::Sse(sse))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classify_str(s: &str) -> Option<Head> {
        classify(&mut s.as_bytes().to_vec())
    }

    #[test]
    fn routes() {
        assert!(
            matches!(route("/v1/generations/gen_a/events"), Some(SseRoute::Events(id)) if id == "gen_a")
        );
        assert!(matches!(
            route("/v1/streams/str_a/events"),
            Some(SseRoute::Events(_))
        ));
        assert!(matches!(route("/v1/generate"), Some(SseRoute::OneShot)));
        assert!(route("/v1/generations/a/b/events").is_none());
        assert!(route("/v1/generations/gen_a").is_none());
        assert!(
            matches!(route("/v1/streams/str%5Fa/events"), Some(SseRoute::Events(id)) if id == "str_a")
        );
        assert!(route("/v1/streams/%ff/events").is_none());
    }

    /// The fast path serves exactly the table's streams, and leaves every other route to hyper.
    #[test]
    fn the_table_says_which_routes_are_served_here() {
        use ssekit_api::routes::Endpoint;
        for &endpoint in Endpoint::ALL {
            let path = endpoint
                .path()
                .replace("{id}", "s")
                .replace("{file}", "f")
                .replace("{image}", "i");
            let head = format!("{} {path} HTTP/1.1\r\nHost: x\r\n\r\n", endpoint.method());
            let served = matches!(classify_str(&head), Some(Head::Sse(_)));
            assert_eq!(served, endpoint.is_stream(), "{endpoint:?}");
        }
    }

    #[test]
    fn classifies_heads() {
        assert!(classify_str("GET /v1/generations/g/events HTTP/1.1\r\nHost: x\r\n").is_none());
        let Some(Head::Sse(r)) =
            classify_str("GET /v1/generations/g/events?lastEventId=g:1 HTTP/1.1\r\nLast-Event-ID: g:2\r\nOrigin: o\r\n\r\n")
        else {
            panic!()
        };
        assert_eq!(r.query, "lastEventId=g:1");
        assert_eq!(r.last_event_id.as_deref(), Some(&b"g:2"[..]));
        assert_eq!(r.origin.as_deref(), Some(&b"o"[..]));
        for other in [
            "POST /v1/generations HTTP/1.1\r\n\r\n",
            "GET / HTTP/1.1\r\n\r\n",
            "GET /v1/generations/g/events HTTP/1.0\r\n\r\n",
            "GET /v1/generations/g/events HTTP/1.1\r\nContent-Length: 5\r\n\r\n",
            "HEAD /v1/generations/g/events HTTP/1.1\r\n\r\n",
        ] {
            assert!(
                matches!(classify_str(other), Some(Head::Other)),
                "{other:?}"
            );
        }
        let many = format!("GET / HTTP/1.1\r\n{}\r\n", "X: y\r\n".repeat(101));
        for (bad, status) in [
            ("BAD\r\n\r\n", 400),
            ("GET / HTTP/2.0\r\n\r\n", 400),
            ("GET /\x01 HTTP/1.1\r\n\r\n", 400),
            (many.as_str(), 431),
        ] {
            let Some(Head::Refuse(e)) = classify_str(bad) else {
                panic!("{bad:?} is refused")
            };
            assert_eq!(e.status(), status, "{bad:?}");
        }
    }

    #[test]
    fn repeated_last_event_id_lines_are_joined_as_hyper_joins_them() {
        let Some(Head::Sse(r)) = classify_str(
            "GET /v1/streams/s/events HTTP/1.1\r\nLast-Event-ID: s:3\r\nlast-event-id: s:16\r\n\r\n",
        ) else {
            panic!()
        };
        assert_eq!(r.last_event_id.as_deref(), Some(&b"s:3, s:16"[..]));
    }

    #[test]
    fn credentials_and_forwarded_addresses_are_copied_out_joined() {
        let Some(Head::Sse(r)) = classify_str(
            "GET /v1/streams/s/events?token=q HTTP/1.1\r\nAuthorization: Bearer a\r\nCookie: x=1\r\n\
             cookie: ssekit_token=c\r\nX-Forwarded-For: 1.1.1.1\r\nx-forwarded-for: 2.2.2.2\r\n\r\n",
        ) else {
            panic!()
        };
        assert_eq!(r.authorization.as_deref(), Some(&b"Bearer a"[..]));
        assert_eq!(r.cookie.as_deref(), Some(&b"x=1; ssekit_token=c"[..]));
        assert_eq!(r.forwarded_for.as_deref(), Some(&b"1.1.1.1, 2.2.2.2"[..]));
        assert_eq!(r.query, "token=q");
    }

    /// The fuzz target's property on the stable toolchain: mutated heads never panic the
    /// classifier, and only a subscription's head is taken out of the buffer.
    #[test]
    fn mutated_heads_never_panic() {
        let seeds: [&[u8]; 4] = [
            b"GET /v1/generations/gen_a/events HTTP/1.1\r\nLast-Event-ID: gen_a:3\r\nOrigin: o\r\n\r\n",
            b"GET /v1/generate?topic=a%20b&blocks=2 HTTP/1.1\r\nConnection: close\r\n\r\n",
            b"GET /v1/streams/str_%5Fa/events?lastEventId=x HTTP/1.1\r\nLast-Event-ID: a\r\nLast-Event-ID: b\r\n\r\n",
            b"POST /v1/streams HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}",
        ];
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for round in 0..20_000 {
            let mut head = seeds[round % seeds.len()].to_vec();
            for _ in 0..1 + next() % 4 {
                let at = (next() as usize) % (head.len() + 1);
                match next() % 4 {
                    0 if at < head.len() => head[at] = next() as u8,
                    1 => head.insert(at, b"%\r\n:,/\xff\x00 ?"[(next() % 10) as usize]),
                    2 if at < head.len() => {
                        head.remove(at);
                    }
                    _ => head.truncate(at),
                }
            }
            let len = head.len();
            match classify(&mut head) {
                Some(Head::Sse(req)) => {
                    assert!(head.len() < len);
                    if let SseRoute::Events(id) = &req.route {
                        let _ = ssekit_api::stream_id(id);
                    }
                    let _ = ssekit_api::last_event_id(req.last_event_id.as_deref(), &req.query);
                }
                _ => assert_eq!(head.len(), len),
            }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_head_must_be_complete_within_the_timeout_and_the_size_bound() {
        use tokio::io::AsyncWriteExt;
        let t = Duration::from_secs(10);
        // Half a head, then silence: 408 once the timeout passes (the clock is paused).
        let (mut client, mut server) = tokio::io::duplex(64 * 1024);
        client
            .write_all(b"GET / HTTP/1.1\r\nX-Pad: aaa")
            .await
            .unwrap();
        let mut buf = Vec::new();
        let Head::Refuse(e) = read(&mut server, &mut buf, t).await else {
            panic!("a half head times out")
        };
        assert_eq!(e.status(), 408);
        // Nothing at all: closed without an answer.
        let (_client, mut server) = tokio::io::duplex(1024);
        assert!(matches!(
            read(&mut server, &mut Vec::new(), t).await,
            Head::Closed
        ));
        // An endless header line: 431 after MAX_HEAD bytes, never more held.
        let (mut client, mut server) = tokio::io::duplex(256 * 1024);
        client
            .write_all(b"GET / HTTP/1.1\r\nX-Pad: ")
            .await
            .unwrap();
        client.write_all(&vec![b'a'; 100 * 1024]).await.unwrap();
        let mut buf = Vec::new();
        let Head::Refuse(e) = read(&mut server, &mut buf, t).await else {
            panic!("an oversized head is refused")
        };
        assert_eq!(e.status(), 431);
        assert!(buf.len() <= MAX_HEAD);
    }
}
