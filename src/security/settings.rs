//! Who may call the API and how it is encrypted, as configured: tokens with their
//! roles, and the TLS files.

use std::path::PathBuf;

use crate::secret::Secret;

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Get*, List* and Watch* calls.
    Reader,
    /// Every call.
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Reader => "reader",
            Role::Admin => "admin",
        }
    }
}

/// Where a token's value comes from.
#[derive(Debug, Clone)]
pub enum TokenSource {
    Inline(Secret),
    /// Read at start and again whenever the file changes (or on SIGHUP).
    File(PathBuf),
}

/// A bearer token clients present as `authorization: Bearer <token>`.
#[derive(Debug, Clone)]
pub struct TokenSettings {
    /// Named in logs and errors instead of the token.
    pub name: String,
    pub source: TokenSource,
    pub role: Role,
}

/// Server certificates, and the CA that client certificates must chain to.
#[derive(Debug, Clone)]
pub struct TlsSettings {
    pub cert: PathBuf,
    pub key: PathBuf,
    /// With a client CA every client must present a certificate it signed (mTLS).
    pub client_ca: Option<PathBuf>,
}

/// Why a token value is refused; the message never repeats the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("must be at least 16 characters")]
    TooShort,
    #[error("must be printable ASCII without spaces")]
    NotPrintable,
}

/// Tokens are compared as they arrive in a header: printable ASCII, and long
/// enough not to be guessed.
///
/// # Errors
/// The token is shorter than 16 characters or not printable ASCII.
pub fn check_token(token: &str) -> Result<(), TokenError> {
    if token.len() < 16 {
        return Err(TokenError::TooShort);
    }
    if !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(TokenError::NotPrintable);
    }
    Ok(())
}
