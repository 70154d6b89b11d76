//! The encoder: hostile values can never inject a field or an event.

use ssekit_protocol::{
    encode_comment, encode_event, encode_retry, validate_event_name, validate_id, Field, Item,
    Parser,
};

#[test]
fn encodes_fields_in_order() {
    let mut buf = Vec::new();
    encode_event(&mut buf, Some("s:1"), Some("block-start"), "{}").unwrap();
    encode_retry(&mut buf, 1500);
    encode_event(&mut buf, None, None, "plain").unwrap();
    assert_eq!(
        buf,
        b"event: block-start\ndata: {}\nid: s:1\n\nretry: 1500\ndata: plain\n\n"
    );
}

#[test]
fn every_line_of_data_gets_its_own_data_field() {
    for (data, want) in [
        ("a\nb", "data: a\ndata: b\n\n"),
        ("a\rb", "data: a\ndata: b\n\n"),
        ("a\r\nb", "data: a\ndata: b\n\n"),
        ("a\n", "data: a\ndata: \n\n"),
        ("", "data: \n\n"),
        (
            "\n\nevent: evil\n\ndata: x",
            "data: \ndata: \ndata: event: evil\ndata: \ndata: data: x\n\n",
        ),
    ] {
        let mut buf = Vec::new();
        encode_event(&mut buf, None, None, data).unwrap();
        assert_eq!(String::from_utf8(buf).unwrap(), want, "{data:?}");
    }
}

#[test]
fn ids_and_names_with_line_breaks_or_nul_are_refused() {
    for bad in ["a\nb", "a\rb", "a\0b", "\n", "x\r\nevent: evil"] {
        let mut buf = Vec::new();
        let e = encode_event(&mut buf, Some(bad), None, "x").unwrap_err();
        assert_eq!(e.field(), Field::Id);
        let e = encode_event(&mut buf, None, Some(bad), "x").unwrap_err();
        assert_eq!(e.field(), Field::Event);
        assert!(buf.is_empty(), "nothing is written for a refused event");
        assert!(validate_id(bad).is_err() && validate_event_name(bad).is_err());
    }
    assert!(validate_event_name("").is_err());
    assert!(validate_id("").is_ok());
    assert!(encode_event(&mut Vec::new(), Some("a"), Some("b"), "c").is_ok());
}

#[test]
fn comments_cannot_inject_fields() {
    let mut buf = Vec::new();
    encode_comment(&mut buf, "hi\ndata: injected\r\nid: 9");
    let items = Parser::new().push(&buf);
    assert!(
        items.iter().all(|i| matches!(i, Item::Comment(_))),
        "{items:?}"
    );
    assert_eq!(items.len(), 3);
}

#[test]
fn retry_hints_and_comments_write_no_blank_line() {
    // A blank line ends an event: httpx-sse yields one with empty data for each blank line once
    // an id has been seen (and sseclient-py splits blocks on them). Only events write one.
    let mut buf = Vec::new();
    encode_retry(&mut buf, 1000);
    encode_comment(&mut buf, "keep-alive");
    encode_comment(&mut buf, "a\nb");
    assert_eq!(buf, b"retry: 1000\n: keep-alive\n: a\n: b\n");
}

#[test]
fn the_id_is_the_last_field_of_an_event() {
    // Clients that take an id as soon as its line is read (fetch-event-source) then see it only
    // once the whole event is in: a cut inside the event cannot make them skip it on resume.
    let mut buf = Vec::new();
    encode_event(&mut buf, Some("s:7"), Some("step"), "a\r\nb").unwrap();
    assert_eq!(buf, b"event: step\ndata: a\ndata: b\nid: s:7\n\n");
}
