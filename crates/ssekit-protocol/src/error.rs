use std::fmt;

/// The field an [`EncodeError`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// The `id` field.
    Id,
    /// The `event` field.
    Event,
}

/// A value that cannot be encoded: it would inject a field or an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodeError {
    field: Field,
    reason: &'static str,
}

impl EncodeError {
    pub(crate) fn new(field: Field, reason: &'static str) -> Self {
        Self { field, reason }
    }

    /// The field that was refused.
    pub fn field(&self) -> Field {
        self.field
    }

    /// Why.
    pub fn reason(&self) -> &'static str {
        self.reason
    }
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let field = match self.field {
            Field::Id => "id",
            Field::Event => "event name",
        };
        write!(f, "invalid {field}: {}", self.reason)
    }
}

impl std::error::Error for EncodeError {}
