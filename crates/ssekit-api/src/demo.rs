//! The demo pipeline's answers: the document saved at `persist-complete` and a generation's
//! images, rendered by `ssekit-demo` from a stream's record and snapshot.

use serde_json::Value;
use ssekit_events::Snapshot;

use crate::error::{ApiError, ErrorCode};
use crate::request::GenerationInfo;
use crate::stream::{StreamKind, StreamMeta};

/// The HTML of the document saved at `persist-complete` (`404 not_persisted` before it).
pub fn document_html(meta: &StreamMeta, snap: &Snapshot) -> Result<String, ApiError> {
    if snap.document_url.is_none() {
        return Err(ApiError::new(
            ErrorCode::NotPersisted,
            "the document has not been saved yet",
        ));
    }
    let topic = meta
        .info
        .get("topic")
        .and_then(Value::as_str)
        .unwrap_or("Untitled");
    Ok(ssekit_demo::document_html(topic, snap))
}

/// The SVG of image `name` (`img-{i}.svg`) of a demo generation (`404` when it has none).
pub fn image_svg(meta: &StreamMeta, name: &str) -> Result<String, ApiError> {
    let none = || ApiError::not_found("no such image");
    if meta.kind != StreamKind::Generation {
        return Err(none());
    }
    let info = GenerationInfo::of(meta);
    if info.pipeline != "demo" {
        return Err(none());
    }
    let index = ssekit_demo::image_index(name, info.blocks).ok_or_else(none)?;
    Ok(ssekit_demo::image_svg(&info.topic, index))
}
