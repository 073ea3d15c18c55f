//! Bearer tokens: who may call what.
//!
//! Tokens are kept as SHA-256 digests and every configured token is compared on each
//! call without an early exit, so neither the plaintext lingers in memory nor does
//! the comparison time tell how much of a guess was right.

use std::sync::{Arc, RwLock};

use ring::digest::{SHA256, digest};
use tracing::{info, warn};

use super::{Role, TokenSettings, TokenSource, check_token};

/// A token as it is checked.
#[derive(Clone)]
struct Loaded {
    name: String,
    role: Role,
    digest: [u8; 32],
}

/// Who a request turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub token: String,
    pub role: Role,
}

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("missing credentials: send the header \"authorization: Bearer <token>\"")]
    Missing,
    #[error("the authorization header is not \"Bearer <token>\"")]
    Malformed,
    #[error("unknown token")]
    Unknown,
}

/// The configured tokens; file-backed ones can be reloaded.
pub struct Authenticator {
    sources: Vec<TokenSettings>,
    loaded: RwLock<Arc<Vec<Loaded>>>,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator")
            .field(
                "tokens",
                &self.sources.iter().map(|t| &t.name).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl Authenticator {
    /// `None` when no token is configured: the API is then open (and the
    /// configuration has already insisted on TLS, loopback or `--insecure`).
    pub fn new(tokens: &[TokenSettings]) -> Option<Arc<Authenticator>> {
        if tokens.is_empty() {
            return None;
        }
        let auth = Authenticator {
            sources: tokens.to_vec(),
            loaded: RwLock::new(Arc::new(Vec::new())),
        };
        auth.reload();
        Some(Arc::new(auth))
    }

    /// Re-reads token files; a file that cannot be read keeps its previous token.
    pub fn reload(&self) -> bool {
        let previous = self.current();
        let mut next = Vec::with_capacity(self.sources.len());
        for source in &self.sources {
            let value = match &source.source {
                TokenSource::Inline(secret) => Some(secret.expose().to_owned()),
                TokenSource::File(path) => match std::fs::read_to_string(path) {
                    Ok(text) => {
                        let token = text.trim_end_matches(['\n', '\r']).to_owned();
                        match check_token(&token) {
                            Ok(()) => Some(token),
                            Err(e) => {
                                // Worded as at start, when the configuration is read.
                                let error = format!(
                                    "invalid configuration value for `auth.tokens.{}.token_file`: {e}",
                                    source.name
                                );
                                warn!(token = %source.name, %error, "token file unusable; keeping the previous token");
                                None
                            }
                        }
                    }
                    Err(e) => {
                        warn!(token = %source.name, path = %path.display(), error = %e, "cannot read a token file; keeping the previous token");
                        None
                    }
                },
            };
            let entry = match value {
                Some(token) => Some(Loaded {
                    name: source.name.clone(),
                    role: source.role,
                    digest: sha256(token.as_bytes()),
                }),
                None => previous.iter().find(|l| l.name == source.name).cloned(),
            };
            next.extend(entry);
        }
        let changed = next.len() != previous.len()
            || next
                .iter()
                .zip(previous.iter())
                .any(|(a, b)| a.digest != b.digest || a.name != b.name);
        if changed {
            *self
                .loaded
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(next);
            if !previous.is_empty() {
                info!("tokens reloaded");
            }
        }
        changed
    }

    /// The caller presenting `authorization`. What that caller may then call is the
    /// API's access table's business.
    ///
    /// # Errors
    /// [`AuthError`]: no or malformed header, or an unknown token.
    pub fn check(&self, authorization: Option<&[u8]>) -> Result<Caller, AuthError> {
        let header = authorization.ok_or(AuthError::Missing)?;
        let token = header
            .strip_prefix(b"Bearer ")
            .or_else(|| header.strip_prefix(b"bearer "))
            .ok_or(AuthError::Malformed)?;
        let presented = sha256(token.trim_ascii());
        let loaded = self.current();
        let mut found: Option<&Loaded> = None;
        for candidate in loaded.iter() {
            // No early exit: every token is compared in full.
            if constant_time_eq(&candidate.digest, &presented) {
                found = Some(candidate);
            }
        }
        let found = found.ok_or(AuthError::Unknown)?;
        Ok(Caller {
            token: found.name.clone(),
            role: found.role,
        })
    }

    /// The files to watch for changes.
    pub fn files(&self) -> Vec<std::path::PathBuf> {
        self.sources
            .iter()
            .filter_map(|s| match &s.source {
                TokenSource::File(path) => Some(path.clone()),
                TokenSource::Inline(_) => None,
            })
            .collect()
    }

    fn current(&self) -> Arc<Vec<Loaded>> {
        Arc::clone(
            &self
                .loaded
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(digest(&SHA256, bytes).as_ref());
    out
}

fn constant_time_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;

    fn token(name: &str, value: &str, role: Role) -> TokenSettings {
        TokenSettings {
            name: name.into(),
            source: TokenSource::Inline(Secret::new(value.into())),
            role,
        }
    }

    #[test]
    fn a_token_is_recognised_by_its_value_and_reported_by_its_name() {
        let auth = Authenticator::new(&[
            token("ops", "admin-token-0123456789", Role::Admin),
            token("dash", "reader-token-0123456789", Role::Reader),
        ])
        .expect("tokens");
        assert_eq!(
            auth.check(Some(b"Bearer admin-token-0123456789")),
            Ok(Caller {
                token: "ops".into(),
                role: Role::Admin
            })
        );
        assert_eq!(
            auth.check(Some(b"Bearer reader-token-0123456789"))
                .map(|c| c.role),
            Ok(Role::Reader)
        );
        assert_eq!(auth.check(None), Err(AuthError::Missing));
        assert_eq!(auth.check(Some(b"Basic xyz")), Err(AuthError::Malformed));
        assert_eq!(
            auth.check(Some(b"Bearer admin-token-012345678")),
            Err(AuthError::Unknown)
        );
    }
}
