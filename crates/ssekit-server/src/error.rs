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
            StoreError::Finished | StoreError::NotOwner => Self::finished(),
            // Until the catalogue has its own code (issue 13's Idempotency-Key work).
            StoreError::KeyReused => Self::finished(),
            StoreError::Corrupt(_) | StoreError::Backend(_) => {
                tracing::error!(error = %e, "store failure");
                Self::store_unavailable()
            }
        }
    }
}
