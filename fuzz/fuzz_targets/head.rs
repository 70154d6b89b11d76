//! The request-head classifier of the native server's fast path: whatever bytes a client sends
//! as its first head, classifying them must not panic, and a subscription it accepts must decode
//! (id, Last-Event-ID) without panicking either.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    ssekit_server::fuzz_classify(data);
});
