//! What can end (or interrupt) a subscription.

/// A subscription's error.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server refused the request in a way retrying cannot fix (a 4xx other than 408/429).
    #[error("{status} {code}: {message}")]
    Refused {
        /// HTTP status.
        status: u16,
        /// The error code from the server's JSON body (`not_found`, `expired`, …).
        code: String,
        /// The server's message.
        message: String,
    },
    /// Every attempt failed.
    #[error("gave up after {attempts} attempts: {last}")]
    GaveUp {
        /// How many attempts were made in a row.
        attempts: u32,
        /// The last failure.
        last: String,
    },
    /// An event that is not part of the vocabulary (the subscription goes on).
    #[error("event {id}: {reason}")]
    InvalidEvent {
        /// Its id.
        id: String,
        /// What was wrong.
        reason: String,
    },
}
