//! API errors: the shared [`ApiError`] (a status paired with a stable code and a message), and
//! what each store failure answers.

pub use ssekit_api::ApiError;

use crate::store::StoreError;

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Self::unknown_stream(),
            StoreError::Expired => Self::expired(),
            StoreError::Exists => Self::exists(),
            StoreError::Finished => Self::finished(),
            // Only a pipeline's own appends can be refused for ownership, and the pipeline stops
            // on it without answering anyone; were a request ever to meet it, it means the same
            // to a client as `Finished`: this server may write no more to that generation (its
            // lease ran out, and another server ends it as interrupted), and a retry would not
            // help. So: 409 stream_finished, not a 503 that invites retries.
            StoreError::NotOwner => Self::finished(),
            StoreError::KeyReused => Self::key_reused(),
            StoreError::Corrupt(_) | StoreError::Backend(_) => {
                tracing::error!(error = %e, "store failure");
                Self::store_unavailable()
            }
        }
    }
}
