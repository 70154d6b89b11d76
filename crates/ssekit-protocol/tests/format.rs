//! The web-platform-tests `eventsource/format-*` cases, as parser tests. Each stream is also fed
//! one byte at a time: the result must not depend on how the bytes are chunked.

use ssekit_protocol::{Item, Parser};

fn parse_chunks(chunks: &[&[u8]]) -> Vec<Item> {
    let mut p = Parser::new();
    let mut out = Vec::new();
    for c in chunks {
        p.feed(c, &mut out);
    }
    out
}

/// Items of `stream`, checked to be the same when fed whole and byte by byte.
fn parse(stream: &[u8]) -> Vec<Item> {
    let whole = parse_chunks(&[stream]);
    let bytes: Vec<&[u8]> = stream.chunks(1).collect();
    assert_eq!(parse_chunks(&bytes), whole, "byte-by-byte parse differs");
    whole
}

/// `(event type, data, last event id)` of each event.
fn events(stream: &[u8]) -> Vec<(String, String, String)> {
    parse(stream)
        .into_iter()
        .filter_map(|i| match i {
            Item::Event(e) => Some((e.event, e.data, e.id)),
            _ => None,
        })
        .collect()
}

fn datas(stream: &[u8]) -> Vec<String> {
    events(stream).into_iter().map(|(_, d, _)| d).collect()
}

#[test]
fn format_bom() {
    // Only the stream's first BOM is stripped; a later one makes its line an unknown field.
    assert_eq!(
        datas("\u{feff}data:1\n\n\u{feff}data:2\n\ndata:3\n\n".as_bytes()),
        ["1", "3"]
    );
}

#[test]
fn format_bom_2() {
    assert_eq!(
        datas("\u{feff}\u{feff}data:1\n\ndata:2\n\ndata:3\n\n".as_bytes()),
        ["2", "3"]
    );
}

#[test]
fn format_bom_split_across_chunks() {
    let items = parse_chunks(&[b"\xEF", b"\xBB", b"\xBFdata:1\n\n"]);
    assert_eq!(
        items,
        [Item::Event(ssekit_protocol::Event {
            id: "".into(),
            event: "message".into(),
            data: "1".into()
        })]
    );
}

#[test]
fn format_comments() {
    let long = "x".repeat(2049);
    let stream =
        format!("data:1\r:\0\n:\r\ndata:2\n:{long}\rdata:3\n:data:fail\r:{long}\ndata:4\n\n");
    assert_eq!(datas(stream.as_bytes()), ["1\n2\n3\n4"]);
    let comments: Vec<String> = parse(b": keep-alive\n:x\n\n")
        .into_iter()
        .filter_map(|i| match i {
            Item::Comment(c) => Some(c),
            _ => None,
        })
        .collect();
    assert_eq!(comments, ["keep-alive", "x"]);
}

#[test]
fn format_data_before_final_empty_line() {
    // An unterminated final event is never dispatched, and its id is not the last event id: a
    // client resuming from "test" would never see test2.
    let stream = b"retry:1000\ndata:test1\n\nid:test\ndata:test2";
    assert_eq!(datas(stream), ["test1"]);
    let mut p = Parser::new();
    p.push(stream);
    assert_eq!(p.last_event_id(), "");
}

#[test]
fn the_last_event_id_is_reported_at_dispatch() {
    // eventsource-parser's "reports an id at dispatch": an id line counts once its event's
    // blank line is read, whichever field order the server uses.
    let mut p = Parser::new();
    assert!(p.push(b"id: 1\ndata: a\n\n").len() == 1);
    assert_eq!(p.last_event_id(), "1");
    assert!(p.push(b"id: 2\ndata: b\n").is_empty());
    assert_eq!(p.last_event_id(), "1", "event 2 is not dispatched yet");
    assert!(p.push(b"data: c\nid: 3\n").is_empty());
    assert_eq!(p.last_event_id(), "1");
    let out = p.push(b"\n");
    assert!(matches!(&out[..], [Item::Event(e)] if e.id == "3" && e.data == "b\nc"));
    assert_eq!(p.last_event_id(), "3");
}

#[test]
fn format_field_data() {
    assert_eq!(
        datas(b"data:\n\ndata\ndata\n\ndata:test\n\n"),
        ["", "\n", "test"]
    );
}

#[test]
fn format_field_event() {
    let e = events(b"event:test\ndata:x\n\ndata:x\n\n");
    assert_eq!((e[0].0.as_str(), e[1].0.as_str()), ("test", "message"));
}

#[test]
fn format_field_event_empty() {
    assert_eq!(events(b"event: \ndata:data\n\n")[0].0, "message");
}

#[test]
fn format_field_id() {
    // The last event id persists across events until an id field changes it.
    let e = events(b"id: 1\ndata: a\n\ndata: b\n\nid: 2\ndata: c\n\n");
    let ids: Vec<&str> = e.iter().map(|(_, _, id)| id.as_str()).collect();
    assert_eq!(ids, ["1", "1", "2"]);
}

#[test]
fn format_field_id_2() {
    // An id field with no value resets the last event id.
    let e = events(b"id:1\ndata:data\n\nid\ndata:data\n\n");
    assert_eq!((e[0].2.as_str(), e[1].2.as_str()), ("1", ""));
}

#[test]
fn format_field_id_3() {
    // An id without data dispatches nothing but still sets the last event id.
    let mut p = Parser::new();
    assert!(p.push(b"id:x\n\n").is_empty());
    assert_eq!(p.last_event_id(), "x");
    let out = p.push(b"data:d\n\n");
    assert!(matches!(&out[0], Item::Event(e) if e.id == "x"));
}

#[test]
fn format_field_id_null() {
    let e = events(b"id:a\ndata:1\n\nid:b\0c\ndata:2\n\n");
    assert_eq!((e[0].2.as_str(), e[1].2.as_str()), ("a", "a"));
}

#[test]
fn format_field_parsing() {
    let stream = b"data:\0\ndata:  2\rData:1\ndata\0:2\ndata:1\r\0data:4\nda-ta:3\rdata_5\ndata:3\rdata:\r\n data:32\ndata:4\n\n";
    assert_eq!(datas(stream), ["\0\n 2\n1\n3\n\n4"]);
}

#[test]
fn format_field_retry() {
    let mut p = Parser::new();
    assert_eq!(p.push(b"retry:03000\ndata:x\n\n")[0], Item::Retry(3000));
    assert_eq!(p.retry(), Some(3000));
}

#[test]
fn format_field_retry_bogus() {
    let mut p = Parser::new();
    let items = p.push(b"retry:3000\nretry:1000x\nretry:  10\nretry:-1\nretry:1.5\ndata:x\n\n");
    assert_eq!(p.retry(), Some(3000));
    assert_eq!(
        items.iter().filter(|i| matches!(i, Item::Retry(_))).count(),
        1
    );
}

#[test]
fn format_field_retry_empty() {
    let mut p = Parser::new();
    assert_eq!(datas(b"retry\ndata:test\n\n"), ["test"]);
    p.push(b"retry\nretry:\n\n");
    assert_eq!(p.retry(), None);
}

#[test]
fn format_field_unknown() {
    assert_eq!(
        datas(
            b"data:test\n data\ndata\nfoobar:xxx\njustsometext\n:thisisacommentyay\ndata:test\n\n"
        ),
        ["test\n\ntest"]
    );
}

#[test]
fn format_leading_space() {
    // Exactly one leading space is removed; a tab is kept.
    assert_eq!(
        datas(b"data:\ttest\rdata: \ndata:test\n\n"),
        ["\ttest\n\ntest"]
    );
    assert_eq!(datas(b"data:  two\n\n"), [" two"]);
}

#[test]
fn format_newlines() {
    assert_eq!(
        datas(b"data:test\r\ndata\ndata:test\r\n\r\n"),
        ["test\n\ntest"]
    );
    assert_eq!(datas(b"data:a\rdata:b\r\rdata:c\n\n"), ["a\nb", "c"]);
}

#[test]
fn crlf_split_across_chunks_is_one_line_end() {
    // "data:a\r" | "\n\r" | "\n": two line ends, one event — not four.
    let items = parse_chunks(&[b"data:a\r", b"\n\r", b"\ndata:b\n\n"]);
    let data: Vec<String> = items
        .into_iter()
        .filter_map(|i| match i {
            Item::Event(e) => Some(e.data),
            _ => None,
        })
        .collect();
    assert_eq!(data, ["a", "b"]);
}

#[test]
fn an_empty_chunk_between_cr_and_lf_keeps_them_one_line_end() {
    for chunks in [
        &[&b"data:a\r"[..], b"", b"\ndata:b\n\n"][..],
        &[b"data:a\r", b"", b"", b"\ndata:b\n\n"],
        &[
            b"data:a\r",
            b"",
            b"\n",
            b"",
            b"data:b\r",
            b"",
            b"\n",
            b"",
            b"\r\n",
        ],
    ] {
        let items = parse_chunks(chunks);
        let data: Vec<String> = items
            .into_iter()
            .filter_map(|i| match i {
                Item::Event(e) => Some(e.data),
                _ => None,
            })
            .collect();
        assert_eq!(data, ["a\nb"], "{chunks:?}");
    }
}

#[test]
fn format_null_character() {
    assert_eq!(datas(b"data:\0\n\n\n\n"), ["\0"]);
}

#[test]
fn format_utf_8() {
    let stream = "data:ok→★\n\n".as_bytes();
    assert_eq!(datas(stream), ["ok→★"]);
    // Split inside a multi-byte character.
    let items = parse_chunks(&[&stream[..8], &stream[8..]]);
    assert!(matches!(&items[0], Item::Event(e) if e.data == "ok→★"));
    // Invalid UTF-8 decodes to U+FFFD, never a panic.
    assert_eq!(datas(b"data:\xff\xfe\n\n"), ["\u{fffd}\u{fffd}"]);
}

#[test]
fn field_names_are_case_sensitive() {
    assert_eq!(
        events(b"Event:x\nDATA:y\ndata:z\n\n"),
        [("message".into(), "z".into(), "".into())]
    );
}
