//! The parser never panics, and how the bytes are chunked never changes what it yields.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ssekit_protocol::Parser;

fuzz_target!(|input: (u16, &[u8])| {
    let (cut, bytes) = input;
    let whole = Parser::new().push(bytes);
    let cut = usize::from(cut) % (bytes.len() + 1);
    let mut split = Parser::new();
    let mut items = split.push(&bytes[..cut]);
    items.extend(split.push(&bytes[cut..]));
    assert_eq!(whole, items);
});
