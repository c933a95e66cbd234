//! The one error type of the application layer. Every feature module answers with it; each front
//! end maps its [`ErrorKind`] once (the web crate to an HTTP status, the CLI to a message).

use gongzhi_core::DomainError;
use gongzhi_store::StoreError;

/// What kind of refusal or failure an error is: the front ends map this, and only this.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// No (valid) credentials were given.
    Unauthorized,
    /// The actor may not do this to this target.
    Forbidden,
    /// The target does not exist (or is not visible to the actor).
    NotFound,
    /// The target's state does not allow it (an illegal step, a changed version, a duplicate).
    Conflict,
    /// The input is wrong: what was wrong and how to fix it is in the message.
    Invalid,
    /// The input is larger than this kind of input may be.
    TooLarge,
    /// The input's type (decided from its bytes) is not one this route accepts.
    UnsupportedType,
    /// Too many attempts (wrong passwords): wait `retry_after` seconds.
    TooManyRequests,
    /// A dependency is unavailable for now; trying again later may work.
    Unavailable,
    /// A failure of ours: logged, never shown in detail.
    Internal,
}

/// An error of the application layer: a kind, a stable machine code, a human message saying what
/// was wrong and how to fix it, and optional per-item details (each refused line or feature).
#[derive(Debug, Clone)]
pub struct AppError {
    pub kind: ErrorKind,
    /// Stable machine-readable code, e.g. `invalid`, `not_found`, `illegal_step`.
    pub code: &'static str,
    pub message: String,
    pub details: Option<serde_json::Value>,
    /// Each problem of `details` as a line of text, for the command line.
    pub items: Vec<String>,
    /// For [`ErrorKind::TooManyRequests`]: the seconds to wait.
    pub retry_after: Option<u64>,
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)?;
        for item in &self.items {
            write!(f, "\n  {item}")?;
        }
        Ok(())
    }
}

impl std::error::Error for AppError {}

impl AppError {
    pub fn new(kind: ErrorKind, code: &'static str, message: impl Into<String>) -> Self {
        AppError {
            kind,
            code,
            message: message.into(),
            details: None,
            items: Vec::new(),
            retry_after: None,
        }
    }
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unauthorized, "unauthorized", message)
    }
    pub fn forbidden(what: impl Into<String>) -> Self {
        Self::new(ErrorKind::Forbidden, "forbidden", what)
    }
    pub fn not_found(what: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, "not_found", format!("{} not found", what.into()))
    }
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Invalid, "invalid", message)
    }
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Conflict, "conflict", message)
    }
    pub fn too_large(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::TooLarge, "too_large", message)
    }
    pub fn unsupported_type(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::UnsupportedType, "unsupported_type", message)
    }
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unavailable, "unavailable", message)
    }
    pub fn internal() -> Self {
        Self::new(
            ErrorKind::Internal,
            "internal",
            "an internal error occurred; it has been logged",
        )
    }
    /// The caller can fix it (wrong input, no right, wrong state), as opposed to our failure.
    pub fn is_client_error(&self) -> bool {
        !matches!(self.kind, ErrorKind::Internal | ErrorKind::Unavailable)
    }
    pub fn with_details(mut self, details: serde_json::Value) -> Self {
        self.details = Some(details);
        self
    }
}

impl From<DomainError> for AppError {
    fn from(e: DomainError) -> Self {
        AppError::invalid(e.to_string())
    }
}

impl From<gongzhi_core::media::MediaError> for AppError {
    /// An upload refused by the one media policy: 415 for a type not accepted, 413 for too large,
    /// 422 for empty or mislabelled, with what was detected and accepted as details.
    fn from(e: gongzhi_core::media::MediaError) -> Self {
        use gongzhi_core::media::MediaError;
        let (kind, code) = match e {
            MediaError::Unsupported { .. } | MediaError::DeclaredUnsupported { .. } => {
                (ErrorKind::UnsupportedType, "unsupported_media")
            }
            MediaError::TooLarge { .. } => (ErrorKind::TooLarge, "too_large"),
            MediaError::Empty | MediaError::Mismatch { .. } => (ErrorKind::Invalid, "invalid"),
        };
        let details = match &e {
            MediaError::Unsupported { detected, accepted } => {
                serde_json::json!({ "detected": detected, "accepted": accepted })
            }
            MediaError::TooLarge { kind, max, size } => {
                serde_json::json!({ "kind": kind.as_str(), "max_bytes": max, "size": size })
            }
            MediaError::Mismatch { declared, detected } => {
                serde_json::json!({ "declared": declared, "detected": detected })
            }
            MediaError::DeclaredUnsupported { declared, accepted } => {
                serde_json::json!({ "declared": declared, "accepted": accepted })
            }
            MediaError::Empty => serde_json::Value::Null,
        };
        let err = AppError::new(kind, code, e.to_string());
        if details.is_null() {
            err
        } else {
            err.with_details(details)
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => AppError::not_found(what),
            StoreError::Conflict(m) => AppError::conflict(m),
            StoreError::Invalid(d) => d.into(),
            StoreError::Rejected(errors) => {
                let n = errors.len();
                let first = errors.first().map(|e| e.to_string()).unwrap_or_default();
                let mut e = AppError::invalid(format!("nothing was imported: {n} feature(s) refused; first: {first}"))
                    .with_details(serde_json::to_value(&errors).unwrap_or_default());
                e.items = errors.iter().map(|x| x.to_string()).collect();
                e
            }
            StoreError::Lines(errors) => {
                let n = errors.len();
                let first = errors.first().map(|e| e.to_string()).unwrap_or_default();
                let mut e = AppError::invalid(format!("nothing was imported: {n} line(s) wrong; first: {first}"))
                    .with_details(serde_json::to_value(&errors).unwrap_or_default());
                e.items = errors.iter().map(|x| x.to_string()).collect();
                e
            }
            StoreError::DiskFull(m) => {
                tracing::error!(error = %m, "the database's disk is full");
                AppError::unavailable(
                    "the database's disk is full: nothing was saved. Reading still works; saving resumes by itself once the operator frees disk space",
                )
            }
            StoreError::Unavailable(m) => {
                tracing::warn!(error = %m, "storage unavailable");
                AppError::unavailable("the database is unavailable for now; try again in a moment")
            }
            other => {
                tracing::error!(error = %other, "storage failure");
                AppError::internal()
            }
        }
    }
}

/// The result of every command and query of the application layer.
pub type AppResult<T> = Result<T, AppError>;
