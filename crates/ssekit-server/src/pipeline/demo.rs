//! The `demo` pipeline: deterministic content about a topic that exercises all 13 events.
//!
//! Same topic and size, same events: tests can assert on content, and a resumed stream can be
//! compared with a fresh one.

use std::time::Instant;

use ssekit_events::{
    BlockComplete, BlockContent, BlockContentMode, BlockStart, ErrorEvent, Event,
    GenerationComplete, GenerationStart, ImagePlaceholder, ImageReady, PersistComplete,
    PersistStart, ReasoningComplete, ReasoningStart, ReasoningStep, Snapshot,
};

use super::{Emitter, GenerationSpec, Stop};
use crate::sanitize::escape;
use crate::store::StreamMeta;

const MODEL: &str = "ssekit-demo-1";

const TITLES: &[&str] = &[
    "What {} is",
    "Where {} comes from",
    "The key ideas of {}",
    "How {} works",
    "{} in practice",
    "Common pitfalls with {}",
    "Measuring {}",
    "The future of {}",
];

const PARTS: &[&str] = &[
    "<p><strong>{}</strong> is easiest to understand from the problem it solves: work that takes longer than a person is willing to stare at a blank page.</p>",
    "<p>Seen step by step, {} breaks into small stages, and each stage reports its progress as soon as it has any.</p>",
    "<ul><li>Start with the simplest version of {}.</li><li>Measure before changing it.</li><li>Keep every step resumable.</li></ul>",
    "<p>Teams adopting {} tend to learn the same lesson: the failure cases matter more than the happy path.</p>",
];

/// FNV-1a: a stable hash, so the same topic gives the same content on every machine and release.
fn hash(text: &str, salt: u64) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64 ^ salt;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

fn title(topic: &str, index: u32) -> String {
    let pick = (hash(topic, 1) as usize + index as usize) % TITLES.len();
    let t = TITLES[pick].replace("{}", topic);
    let mut chars = t.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => t,
    }
}

fn image_id(index: u32) -> String {
    format!("img-{index}")
}

/// Runs the demo pipeline to its end.
pub async fn run(spec: &GenerationSpec, out: &Emitter) -> Result<(), Stop> {
    let started = Instant::now();
    let id = out.id().to_owned();
    let topic = spec.topic.as_str();
    let safe_topic = escape(topic);
    let delay = spec.delay_ms;

    out.emit(Event::GenerationStart(GenerationStart {
        session_id: id.clone(),
        total_blocks: spec.blocks,
        model: MODEL.into(),
    }))
    .await?;
    out.pause(delay).await?;

    let reasoning_started = Instant::now();
    out.emit(Event::ReasoningStart(ReasoningStart {
        model: MODEL.into(),
    }))
    .await?;
    let steps = [
        format!("Reading the topic: {topic}"),
        format!("Outlining {} sections", spec.blocks),
        "Choosing an illustration for each section".to_owned(),
    ];
    for (i, content) in steps.into_iter().enumerate() {
        out.pause(delay).await?;
        out.emit(Event::ReasoningStep(ReasoningStep {
            step: i as u32 + 1,
            content,
        }))
        .await?;
    }
    out.pause(delay).await?;
    out.emit(Event::ReasoningComplete(ReasoningComplete {
        duration: reasoning_started.elapsed().as_millis() as u64,
    }))
    .await?;

    for index in 0..spec.blocks {
        let block_id = format!("block-{index}");
        out.pause(delay).await?;
        out.emit(Event::BlockStart(BlockStart {
            block_index: index,
            block_id: block_id.clone(),
            title: title(topic, index),
        }))
        .await?;
        // Three parts: the first replaces the (empty) block, the others append to it.
        for part in 0..3usize {
            out.pause(delay).await?;
            let template = PARTS[(hash(topic, 2) as usize + index as usize + part) % PARTS.len()];
            out.emit(Event::BlockContent(BlockContent {
                block_index: index,
                html: template.replace("{}", &safe_topic),
                mode: Some(if part == 0 {
                    BlockContentMode::Replace
                } else {
                    BlockContentMode::Append
                }),
            }))
            .await?;
        }
        out.pause(delay).await?;
        out.emit(Event::ImagePlaceholder(ImagePlaceholder {
            block_index: index,
            image_id: image_id(index),
            alt: format!("An illustration of {}", title(topic, index)),
        }))
        .await?;
        out.pause(delay).await?;
        out.emit(Event::ImageReady(ImageReady {
            block_index: index,
            image_id: image_id(index),
            url: format!("/v1/generations/{id}/images/{}.svg", image_id(index)),
        }))
        .await?;
        out.emit(Event::BlockComplete(BlockComplete {
            block_index: index,
            block_id,
        }))
        .await?;
    }

    out.pause(delay).await?;
    out.emit(Event::PersistStart(PersistStart {
        target: "store".into(),
    }))
    .await?;
    out.pause(delay).await?;
    out.emit(Event::PersistComplete(PersistComplete {
        url: format!("/v1/generations/{id}/document"),
        target: "store".into(),
    }))
    .await?;
    out.emit(Event::GenerationComplete(GenerationComplete {
        success: true,
        total_duration: started.elapsed().as_millis() as u64,
    }))
    .await
}

/// A recoverable error, for pipelines that report a failed stage and go on.
pub fn stage_failed(stage: &str, message: impl Into<String>) -> Event {
    Event::Error(ErrorEvent {
        message: message.into(),
        stage: stage.into(),
        recoverable: true,
    })
}

/// The SVG of image `name` (`img-{i}.svg`) of a demo generation, if it has one.
pub fn image_for(meta: &StreamMeta, name: &str) -> Option<String> {
    if meta.info.get("pipeline").and_then(|p| p.as_str()) != Some("demo") {
        return None;
    }
    let index: u32 = name
        .strip_prefix("img-")?
        .strip_suffix(".svg")?
        .parse()
        .ok()?;
    let blocks = meta
        .info
        .get("blocks")
        .and_then(|b| b.as_u64())
        .unwrap_or(0);
    if u64::from(index) >= blocks {
        return None;
    }
    let topic = meta
        .info
        .get("topic")
        .and_then(|t| t.as_str())
        .unwrap_or("");
    Some(image_svg(topic, index))
}

/// A deterministic illustration: a gradient, a few shapes, the block's title.
pub fn image_svg(topic: &str, index: u32) -> String {
    let h = hash(topic, u64::from(index) + 7);
    let hue = h % 360;
    let hue2 = (hue + 40 + (h >> 9) % 80) % 360;
    let mut shapes = String::new();
    for i in 0..5u64 {
        let s = h.rotate_left((i * 11) as u32);
        shapes.push_str(&format!(
            r#"<circle cx="{}" cy="{}" r="{}" fill="hsl({},70%,85%)" fill-opacity="0.35"/>"#,
            40 + s % 560,
            30 + (s >> 12) % 260,
            20 + (s >> 24) % 70,
            (hue + i * 30) % 360
        ));
    }
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="640" height="320" viewBox="0 0 640 320" role="img"><defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="hsl({hue},65%,45%)"/><stop offset="1" stop-color="hsl({hue2},70%,35%)"/></linearGradient></defs><rect width="640" height="320" fill="url(#g)"/>{shapes}<text x="32" y="288" font-family="system-ui,sans-serif" font-size="26" fill="#fff">{}</text></svg>"##,
        escape(&title(topic, index))
    )
}

/// The saved document: the topic, then every block with its images.
pub fn document_html(topic: &str, snap: &Snapshot) -> String {
    let mut body = String::new();
    for block in snap.blocks.values() {
        body.push_str("<section>");
        if let Some(t) = &block.title {
            body.push_str(&format!("<h2>{}</h2>", escape(t)));
        }
        // Stored HTML was sanitized when it was appended.
        body.push_str(&block.html);
        for img in &block.images {
            if let Some(url) = &img.url {
                body.push_str(&format!(
                    r#"<img src="{}" alt="{}">"#,
                    escape(url),
                    escape(&img.alt)
                ));
            }
        }
        body.push_str("</section>");
    }
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"><title>{t}</title><style>body{{font:17px/1.6 system-ui,sans-serif;max-width:46rem;margin:3rem auto;padding:0 1rem;color:#1f2430}}img{{max-width:100%;border-radius:8px}}section{{margin-bottom:2.5rem}}</style></head><body><h1>{t}</h1>{body}</body></html>",
        t = escape(topic)
    )
}
