//! The resume position a subscriber asks for (`Last-Event-ID` header or `?lastEventId=`): any
//! bytes give an id or a 400, never a panic; an accepted id prints back to itself; a resume
//! position is never beyond the stream's last event.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ssekit_api::{last_event_id, resume_after};

fuzz_target!(|input: (Option<&[u8]>, &str, &str, u64)| {
    let (header, query, stream, last_seq) = input;
    let after = match last_event_id(header, query) {
        Ok(after) => after,
        Err(e) => {
            assert_eq!(e.status(), 400, "{e:?}");
            return;
        }
    };
    if let Some(id) = &after {
        // What the server sends as `id:` and a client sends back resumes at the same place.
        let printed = id.to_string();
        let again = last_event_id(Some(printed.as_bytes()), "")
            .unwrap()
            .unwrap();
        assert_eq!(&again, id);
        assert!(
            ssekit_protocol::validate_id(&printed).is_ok(),
            "{printed:?}"
        );
    }
    match resume_after(stream, after.as_ref(), last_seq) {
        Ok(seq) => {
            assert!(seq <= last_seq);
            assert_eq!(seq, after.as_ref().map_or(0, |id| id.seq()));
        }
        Err(e) => assert_eq!(e.status(), 400, "{e:?}"),
    }
});
