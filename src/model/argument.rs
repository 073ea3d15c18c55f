//! A request value that is not acceptable, named by its field.

/// A request field whose value is missing or malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct InvalidArgument {
    /// The field's name as the client spells it (`domain`, `page_size`, ...).
    pub field: &'static str,
    /// What was wrong, naming the field, for the client.
    pub message: String,
}

impl InvalidArgument {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        InvalidArgument {
            field,
            message: message.into(),
        }
    }
}
