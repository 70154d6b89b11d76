//! The `demo` pipeline's script: deterministic content about a topic that exercises all 13
//! events, its SVG images and its saved document. No I/O and no clock: the native server and the
//! Worker each run it on their own runtime, so both stream exactly the same content.
//!
//! ```
//! use ssekit_demo::Script;
//!
//! let mut script = Script::new("gen_x", "tide pools", 2);
//! let mut names = Vec::new();
//! while let Some(step) = script.next_step() {
//!     // A runner pauses `delayMs` first when `step.pause` is set, then asks for the event.
//!     names.push(script.event(step, 0).name().to_owned());
//! }
//! assert_eq!(names.len() as u64, ssekit_demo::event_count(2));
//! assert_eq!(names[0], "generation-start");
//! assert_eq!(names[names.len() - 1], "generation-complete");
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod page;

use ssekit_events::{
    BlockComplete, BlockContent, BlockContentMode, BlockStart, Event, GenerationComplete,
    GenerationStart, ImagePlaceholder, ImageReady, PersistComplete, PersistStart,
    ReasoningComplete, ReasoningStart, ReasoningStep, Snapshot,
};

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

/// The title of block `index` of a generation about `topic`.
pub fn title(topic: &str, index: u32) -> String {
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

/// How many events a demo generation of `blocks` blocks sends.
pub fn event_count(blocks: u32) -> u64 {
    9 + 7 * u64::from(blocks)
}

/// One step of the script: whether to pause before it, and what it sends.
#[derive(Debug)]
pub struct Step {
    /// Pause `delayMs` before sending this step's event.
    pub pause: bool,
    index: usize,
}

/// The demo pipeline's events, one step at a time.
#[derive(Debug)]
pub struct Script {
    id: String,
    topic: String,
    safe_topic: String,
    blocks: u32,
    next: usize,
    reasoning_started_ms: u64,
}

/// Events before the first block, per block, and after the last.
const HEAD: usize = 6;
const PER_BLOCK: usize = 7;
const TAIL: usize = 3;

impl Script {
    /// The script of generation `id` about `topic`, with `blocks` content blocks.
    pub fn new(id: &str, topic: &str, blocks: u32) -> Self {
        Self {
            id: id.to_owned(),
            topic: topic.to_owned(),
            safe_topic: escape(topic),
            blocks,
            next: 0,
            reasoning_started_ms: 0,
        }
    }

    /// The next step, or `None` after `generation-complete`.
    pub fn next_step(&mut self) -> Option<Step> {
        let total = HEAD + PER_BLOCK * self.blocks as usize + TAIL;
        if self.next >= total {
            return None;
        }
        let index = self.next;
        self.next += 1;
        // No pause between an image and its block's end, nor between saving and the end.
        let pause = !(self.in_block(index) == Some(6) || index + 1 == total);
        Some(Step { pause, index })
    }

    fn in_block(&self, index: usize) -> Option<usize> {
        let body = index.checked_sub(HEAD)?;
        (body < PER_BLOCK * self.blocks as usize).then_some(body % PER_BLOCK)
    }

    /// The event of `step`; `elapsed_ms` is the time since the generation started (for durations).
    pub fn event(&mut self, step: Step, elapsed_ms: u64) -> Event {
        let i = step.index;
        let model = MODEL.to_owned();
        let topic = self.topic.as_str();
        match i {
            0 => Event::GenerationStart(GenerationStart {
                session_id: self.id.clone(),
                total_blocks: self.blocks,
                model,
            }),
            1 => {
                self.reasoning_started_ms = elapsed_ms;
                Event::ReasoningStart(ReasoningStart { model })
            }
            2..=4 => {
                let content = match i {
                    2 => format!("Reading the topic: {topic}"),
                    3 => format!("Outlining {} sections", self.blocks),
                    _ => "Choosing an illustration for each section".to_owned(),
                };
                Event::ReasoningStep(ReasoningStep {
                    step: i as u32 - 1,
                    content,
                })
            }
            5 => Event::ReasoningComplete(ReasoningComplete {
                duration: elapsed_ms.saturating_sub(self.reasoning_started_ms),
            }),
            _ => match self.in_block(i) {
                Some(part) => {
                    let index = ((i - HEAD) / PER_BLOCK) as u32;
                    self.block_event(index, part)
                }
                None => match i - (HEAD + PER_BLOCK * self.blocks as usize) {
                    0 => Event::PersistStart(PersistStart {
                        target: "store".into(),
                    }),
                    1 => Event::PersistComplete(PersistComplete {
                        url: format!("/v1/generations/{}/document", self.id),
                        target: "store".into(),
                    }),
                    _ => Event::GenerationComplete(GenerationComplete {
                        success: true,
                        total_duration: elapsed_ms,
                    }),
                },
            },
        }
    }

    fn block_event(&self, index: u32, part: usize) -> Event {
        let topic = self.topic.as_str();
        let block_id = format!("block-{index}");
        match part {
            0 => Event::BlockStart(BlockStart {
                block_index: index,
                block_id,
                title: title(topic, index),
            }),
            1..=3 => {
                let p = part - 1;
                let template = PARTS[(hash(topic, 2) as usize + index as usize + p) % PARTS.len()];
                Event::BlockContent(BlockContent {
                    block_index: index,
                    html: template.replace("{}", &self.safe_topic),
                    // The first part replaces the (empty) block, the others append to it.
                    mode: Some(if p == 0 {
                        BlockContentMode::Replace
                    } else {
                        BlockContentMode::Append
                    }),
                })
            }
            4 => Event::ImagePlaceholder(ImagePlaceholder {
                block_index: index,
                image_id: image_id(index),
                alt: format!("An illustration of {}", title(topic, index)),
            }),
            5 => Event::ImageReady(ImageReady {
                block_index: index,
                image_id: image_id(index),
                url: format!("/v1/generations/{}/images/{}.svg", self.id, image_id(index)),
            }),
            _ => Event::BlockComplete(BlockComplete {
                block_index: index,
                block_id,
            }),
        }
    }
}

/// The index of the image named `name` (`img-{i}.svg`) of a generation with `blocks` blocks.
pub fn image_index(name: &str, blocks: u32) -> Option<u32> {
    let index: u32 = name
        .strip_prefix("img-")?
        .strip_suffix(".svg")?
        .parse()
        .ok()?;
    (index < blocks).then_some(index)
}

/// Escapes text for use inside HTML text and quoted attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
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
            // The snapshot holds only safe URLs; checked again because this is where one becomes
            // an `<img src>` served from the API's origin.
            if let Some(url) = img.url.as_deref().filter(|u| ssekit_events::is_safe_url(u)) {
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
