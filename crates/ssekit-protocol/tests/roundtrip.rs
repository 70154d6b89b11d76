//! Property: encode → parse round-trips any events, retry hints and comments, whatever line
//! ends are on the wire (CR, LF, CRLF) and however the bytes are chunked (empty chunks too).

use proptest::prelude::*;
use ssekit_protocol::{encode_comment, encode_event, encode_retry, Event, Item, Parser};

fn field_value() -> impl Strategy<Value = String> {
    // Any text without CR, LF or NUL (what the encoder accepts for ids and names).
    any::<String>().prop_map(|s| {
        s.chars()
            .filter(|c| !matches!(c, '\r' | '\n' | '\0'))
            .collect()
    })
}

fn data_value() -> impl Strategy<Value = String> {
    // Any text, with line breaks made common.
    prop::collection::vec(
        prop_oneof![
            any::<char>().prop_map(String::from),
            Just("\n".into()),
            Just("\r".into()),
            Just("\r\n".into())
        ],
        0..40,
    )
    .prop_map(|parts| parts.concat())
}

fn normalise(data: &str) -> String {
    data.replace("\r\n", "\n").replace('\r', "\n")
}

#[derive(Debug, Clone)]
enum Sent {
    Event(String, String, String),
    Retry(u64),
    Comment(String),
}

fn sent() -> impl Strategy<Value = Sent> {
    prop_oneof![
        6 => (field_value(), field_value().prop_filter("names are not empty", |n| !n.is_empty()), data_value())
            .prop_map(|(i, n, d)| Sent::Event(i, n, d)),
        1 => any::<u64>().prop_map(Sent::Retry),
        1 => field_value().prop_map(Sent::Comment),
    ]
}

/// Rewrites the encoder's LF line ends as CR, LF or CRLF (picked by `ends`, cycled). A CR is
/// never followed by an LF line end (an empty line's): "\r" "\n" would read as one CRLF.
fn with_line_ends(wire: &[u8], ends: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(wire.len() * 2);
    let mut k = 0;
    for &b in wire {
        if b != b'\n' {
            out.push(b);
            continue;
        }
        let mut end: &[u8] = match ends.get(k % ends.len().max(1)).copied().unwrap_or(0) % 3 {
            0 => b"\n",
            1 => b"\r",
            _ => b"\r\n",
        };
        k += 1;
        if end == b"\n" && out.last() == Some(&b'\r') {
            end = b"\r\n";
        }
        out.extend_from_slice(end);
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn events_round_trip_under_any_line_ends_and_chunking(
        items in prop::collection::vec(sent(), 1..8),
        ends in prop::collection::vec(any::<u8>(), 1..16),
        cuts in prop::collection::vec((any::<prop::sample::Index>(), 1..3usize), 0..16),
    ) {
        let mut wire = Vec::new();
        let mut want = Vec::new();
        for item in &items {
            match item {
                Sent::Event(id, name, data) => {
                    encode_event(&mut wire, Some(id), Some(name), data).unwrap();
                    want.push(Item::Event(Event { id: id.clone(), event: name.clone(), data: normalise(data) }));
                }
                Sent::Retry(ms) => {
                    encode_retry(&mut wire, *ms);
                    want.push(Item::Retry(*ms));
                }
                Sent::Comment(text) => {
                    encode_comment(&mut wire, text);
                    want.push(Item::Comment(text.clone()));
                }
            }
        }
        let wire = with_line_ends(&wire, &ends);
        // Cut points, some repeated: a repeat feeds an empty chunk.
        let mut points: Vec<usize> = cuts
            .iter()
            .flat_map(|(c, n)| std::iter::repeat_n(c.index(wire.len() + 1), *n))
            .collect();
        points.sort_unstable();
        let mut parser = Parser::new();
        let mut got = Vec::new();
        let mut start = 0;
        for p in points.into_iter().chain([wire.len()]) {
            parser.feed(&wire[start..p], &mut got);
            start = p;
        }
        // A leading BOM in the first field would be stripped as the stream's BOM: every line
        // the encoder writes starts with a field name or a colon, so it never is.
        prop_assert_eq!(got, want);
    }
}
