//! Reading and classifying a request head: is it a subscription we serve directly?

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};

/// Largest request head we read ourselves; hyper answers anything larger.
const MAX_HEAD: usize = 16 * 1024;
/// How long a client may take to send its request head.
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(30);

/// A subscription request, with the few headers it needs, copied out of the read buffer.
pub struct SseRequest {
    pub route: SseRoute,
    pub query: String,
    pub last_event_id: Option<Vec<u8>>,
    pub origin: Option<Vec<u8>>,
    /// The client asked to close the connection after this response.
    pub close: bool,
}

/// The subscription routes.
pub enum SseRoute {
    /// `GET /v1/generations/{id}/events` or `GET /v1/streams/{id}/events`.
    Events(String),
    /// `GET /v1/generate?…`.
    OneShot,
}

/// What was read.
pub enum Head {
    /// A subscription: its head has been taken out of the buffer.
    Sse(SseRequest),
    /// Anything else (or anything unusual): hyper serves it from the buffered bytes on.
    Other,
    /// The client closed the connection (or sent nothing in time) before a whole head.
    Closed,
}

fn route(path: &str) -> Option<SseRoute> {
    if path == "/v1/generate" {
        return Some(SseRoute::OneShot);
    }
    let rest = path
        .strip_prefix("/v1/generations/")
        .or_else(|| path.strip_prefix("/v1/streams/"))?;
    let id = rest.strip_suffix("/events")?;
    (!id.contains('/')).then(|| SseRoute::Events(id.to_owned()))
}

/// Reads until `buf` holds a whole request head and classifies it.
pub async fn read<R: AsyncRead + Unpin>(io: &mut R, buf: &mut Vec<u8>) -> Head {
    let read = async {
        loop {
            if let Some(head) = classify(buf) {
                return head;
            }
            if buf.len() >= MAX_HEAD {
                return Head::Other;
            }
            buf.reserve(1024);
            match io.read_buf(buf).await {
                Ok(0) | Err(_) => {
                    return if buf.is_empty() {
                        Head::Closed
                    } else {
                        Head::Other
                    }
                }
                Ok(_) => {}
            }
        }
    };
    tokio::time::timeout(HEAD_TIMEOUT, read)
        .await
        .unwrap_or(Head::Closed)
}

/// `None` while the head is incomplete.
fn classify(buf: &mut Vec<u8>) -> Option<Head> {
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut req = httparse::Request::new(&mut headers);
    let len = match req.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return None,
        // Malformed or unusual: hyper gives the proper answer.
        Err(_) => return Some(Head::Other),
    };
    if req.method != Some("GET") || req.version != Some(1) {
        return Some(Head::Other);
    }
    let target = req.path.unwrap_or("");
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let Some(route) = route(path) else {
        return Some(Head::Other);
    };
    let mut sse = SseRequest {
        route,
        query: query.to_owned(),
        last_event_id: None,
        origin: None,
        close: false,
    };
    for h in req.headers.iter() {
        let name = h.name;
        if name.eq_ignore_ascii_case("last-event-id") {
            sse.last_event_id = Some(h.value.to_vec());
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
            "BAD\r\n\r\n",
        ] {
            assert!(
                matches!(classify_str(other), Some(Head::Other)),
                "{other:?}"
            );
        }
    }
}
