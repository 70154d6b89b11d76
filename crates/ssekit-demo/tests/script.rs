//! The demo script: every event of the vocabulary, in a fixed order, the same every time.

use ssekit_demo::{event_count, Script};
use ssekit_events::{Event, Snapshot, StreamStatus};

fn run(blocks: u32) -> Vec<(bool, Event)> {
    let mut script = Script::new("gen_t", "tide pools", blocks);
    let mut out = Vec::new();
    while let Some(step) = script.next_step() {
        let pause = step.pause;
        out.push((pause, script.event(step, 7)));
    }
    out
}

#[test]
fn every_event_of_the_vocabulary_once_per_stage_in_order() {
    let events = run(2);
    assert_eq!(events.len() as u64, event_count(2));
    let names: Vec<&str> = events.iter().map(|(_, e)| e.name()).collect();
    assert_eq!(
        names,
        [
            "generation-start",
            "reasoning-start",
            "reasoning-step",
            "reasoning-step",
            "reasoning-step",
            "reasoning-complete",
            "block-start",
            "block-content",
            "block-content",
            "block-content",
            "image-placeholder",
            "image-ready",
            "block-complete",
            "block-start",
            "block-content",
            "block-content",
            "block-content",
            "image-placeholder",
            "image-ready",
            "block-complete",
            "persist-start",
            "persist-complete",
            "generation-complete",
        ]
    );
    // Exactly one terminal event, at the end.
    assert_eq!(events.iter().filter(|(_, e)| e.is_terminal()).count(), 1);
    assert!(events.last().unwrap().1.is_terminal());
}

#[test]
fn the_same_topic_gives_the_same_content() {
    let a: Vec<String> = run(3).iter().map(|(_, e)| e.data_json()).collect();
    let b: Vec<String> = run(3).iter().map(|(_, e)| e.data_json()).collect();
    assert_eq!(a, b);
}

#[test]
fn folding_the_script_gives_a_complete_document() {
    let mut snap = Snapshot::default();
    for (_, e) in run(3) {
        snap.apply(&e);
    }
    assert_eq!(snap.status, StreamStatus::Complete);
    assert_eq!(snap.blocks.len(), 3);
    assert!(snap
        .blocks
        .values()
        .all(|b| b.images.len() == 1 && b.images[0].url.is_some()));
    let html = ssekit_demo::document_html("tide pools", &snap);
    assert!(html.contains("<h1>tide pools</h1>"));
    assert_eq!(html.matches("<section>").count(), 3);
}

#[test]
fn hostile_topics_are_escaped() {
    let mut script = Script::new("gen_t", "<script>x</script>", 1);
    while let Some(step) = script.next_step() {
        if let Event::BlockContent(c) = script.event(step, 0) {
            assert!(!c.html.contains("<script>"));
        }
    }
    assert!(!ssekit_demo::image_svg("<b>", 0).contains("<b>"));
    assert_eq!(ssekit_demo::image_index("img-1.svg", 2), Some(1));
    assert_eq!(ssekit_demo::image_index("img-2.svg", 2), None);
    assert_eq!(ssekit_demo::image_index("../x", 2), None);
}

#[test]
fn the_document_has_no_image_with_an_unsafe_url() {
    let mut snap = Snapshot::default();
    for (_, e) in run(2) {
        snap.apply(&e);
    }
    // A snapshot built in code, not folded from parsed events, may hold any URL.
    let images = &mut snap.blocks.get_mut(&0).unwrap().images;
    images[0].url = Some("javascript:alert(1)".into());
    let html = ssekit_demo::document_html("t", &snap);
    assert!(!html.contains("javascript:"));
    assert_eq!(
        html.matches("<img ").count(),
        1,
        "the other block's image stays"
    );
}
