//! The one error type of the domain core: what was wrong with an input or a step.

/// A rule of the domain was broken. The message says what was wrong and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// An input value does not parse or breaks an invariant.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
}

impl DomainError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        DomainError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }
}
