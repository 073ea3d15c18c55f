//! `[auth]`, `[tls]`, `[health]`, `[metrics]` and `[telemetry]`: who may call the API,
//! how it is encrypted, and where probes, metrics and traces go.

use std::{net::SocketAddr, path::PathBuf};

use serde::Deserialize;

use super::{ConfigError, read_secret_file};
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
pub struct TokenConfig {
    /// Named in logs and errors instead of the token.
    pub name: String,
    pub source: TokenSource,
    pub role: Role,
}

/// Server certificates, and the CA that client certificates must chain to.
#[derive(Debug, Clone)]
pub struct TlsConfig {
    pub cert: PathBuf,
    pub key: PathBuf,
    /// With a client CA every client must present a certificate it signed (mTLS).
    pub client_ca: Option<PathBuf>,
}

/// Trace export.
#[derive(Debug, Clone)]
pub struct TelemetryConfig {
    /// OTLP/gRPC collector; `OTEL_EXPORTER_OTLP_ENDPOINT` when not configured. `None`:
    /// nothing is exported.
    pub otlp_endpoint: Option<String>,
    pub service_name: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileAuth {
    #[serde(default)]
    tokens: Vec<FileToken>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileToken {
    name: Option<String>,
    token: Option<String>,
    token_file: Option<PathBuf>,
    role: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileTls {
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
    client_ca: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileListen {
    listen: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileTelemetry {
    otlp_endpoint: Option<String>,
    service_name: Option<String>,
}

pub(super) fn resolve_tokens(file: FileAuth) -> Result<Vec<TokenConfig>, ConfigError> {
    let mut tokens: Vec<TokenConfig> = Vec::new();
    for (index, token) in file.tokens.into_iter().enumerate() {
        let FileToken {
            name,
            token,
            token_file,
            role,
        } = token;
        let name = name.filter(|n| !n.is_empty()).ok_or_else(|| {
            ConfigError::invalid(format!("auth.tokens[{index}].name"), "is required")
        })?;
        let key = |field: &str| format!("auth.tokens.{name}.{field}");
        if tokens.iter().any(|t| t.name == name) {
            return Err(ConfigError::invalid(key("name"), "is used by two tokens"));
        }
        let source = match (token, token_file) {
            (Some(token), None) => {
                check_token(&key("token"), &token)?;
                TokenSource::Inline(Secret::new(token))
            }
            (None, Some(path)) => {
                let value = read_secret_file(key("token_file"), &path)?;
                check_token(&key("token_file"), value.expose())?;
                TokenSource::File(path)
            }
            _ => {
                return Err(ConfigError::invalid(
                    key("token"),
                    "give exactly one of token and token_file",
                ));
            }
        };
        let role = match role.as_deref() {
            Some("reader") => Role::Reader,
            Some("admin") => Role::Admin,
            Some(other) => {
                return Err(ConfigError::invalid(
                    key("role"),
                    format!("{other:?} is neither \"reader\" nor \"admin\""),
                ));
            }
            None => return Err(ConfigError::invalid(key("role"), "is required")),
        };
        tokens.push(TokenConfig { name, source, role });
    }
    Ok(tokens)
}

/// Tokens are compared as they arrive in a header: printable ASCII, and long
/// enough not to be guessed. The message never repeats the token.
pub(crate) fn check_token(key: &str, token: &str) -> Result<(), ConfigError> {
    if token.len() < 16 {
        return Err(ConfigError::invalid(
            key.to_owned(),
            "must be at least 16 characters",
        ));
    }
    if !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ConfigError::invalid(
            key.to_owned(),
            "must be printable ASCII without spaces",
        ));
    }
    Ok(())
}

pub(super) fn resolve_tls(file: FileTls) -> Result<Option<TlsConfig>, ConfigError> {
    let FileTls {
        cert,
        key,
        client_ca,
    } = file;
    let (cert, key) = match (cert, key) {
        (Some(cert), Some(key)) => (cert, key),
        (None, None) if client_ca.is_none() => return Ok(None),
        (None, _) => return Err(ConfigError::invalid("tls.cert", "is required with [tls]")),
        (Some(_), None) => {
            return Err(ConfigError::invalid("tls.key", "is required with tls.cert"));
        }
    };
    let tls = TlsConfig {
        cert,
        key,
        client_ca,
    };
    // Load once now: a bad file stops the start with its key named.
    crate::security::tls::server_config(&tls)
        .map_err(|e| ConfigError::invalid(e.key(), e.to_string()))?;
    Ok(Some(tls))
}

pub(super) fn resolve_listen(
    key: &'static str,
    file: FileListen,
) -> Result<Option<SocketAddr>, ConfigError> {
    file.listen
        .map(|listen| {
            listen.parse().map_err(|e| {
                ConfigError::invalid(key, format!("{listen:?} is not host:port ({e})"))
            })
        })
        .transpose()
}

pub(super) fn resolve_telemetry(
    file: FileTelemetry,
    env_endpoint: Option<String>,
) -> Result<TelemetryConfig, ConfigError> {
    let endpoint = file
        .otlp_endpoint
        .or(env_endpoint)
        .filter(|e| !e.is_empty());
    if let Some(endpoint) = &endpoint
        && !(endpoint.starts_with("http://") || endpoint.starts_with("https://"))
    {
        return Err(ConfigError::invalid(
            "telemetry.otlp_endpoint",
            "must be an http:// or https:// URL (OTLP over gRPC)",
        ));
    }
    Ok(TelemetryConfig {
        otlp_endpoint: endpoint,
        service_name: file
            .service_name
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "virtplane".to_owned()),
    })
}

#[cfg(test)]
mod tests {
    use crate::config::{Config, Role, TokenSource};

    #[test]
    fn tokens_are_read_and_checked_without_echoing_them() {
        let config = Config::from_toml(
            "[[auth.tokens]]\nname = \"ops\"\ntoken = \"0123456789abcdef-ops\"\nrole = \"admin\"",
        )
        .expect("valid");
        assert_eq!(config.tokens[0].role, Role::Admin);
        assert!(matches!(config.tokens[0].source, TokenSource::Inline(_)));
        assert!(!format!("{config:?}").contains("0123456789abcdef-ops"));
        let cases = [
            (
                "name = \"a\"\ntoken = \"short\"\nrole = \"admin\"",
                "auth.tokens.a.token",
            ),
            (
                "name = \"a\"\ntoken = \"0123456789abcdef\"\nrole = \"root\"",
                "auth.tokens.a.role",
            ),
            (
                "name = \"a\"\ntoken = \"0123456789abcdef\"",
                "auth.tokens.a.role",
            ),
            ("name = \"a\"\nrole = \"admin\"", "auth.tokens.a.token"),
            (
                "token = \"0123456789abcdef\"\nrole = \"admin\"",
                "auth.tokens[0].name",
            ),
            (
                "name = \"a\"\ntoken_file = \"/nonexistent/t\"\nrole = \"admin\"",
                "auth.tokens.a.token_file",
            ),
        ];
        for (body, key) in cases {
            let err = Config::from_toml(&format!("[[auth.tokens]]\n{body}")).expect_err(body);
            assert!(err.to_string().contains(key), "{body}: {err}");
            assert!(!err.to_string().contains("0123456789abcdef"), "{err}");
        }
    }

    #[test]
    fn tls_files_are_checked_at_start() {
        let err = Config::from_toml("[tls]\ncert = \"/nonexistent/c.pem\"").expect_err("no key");
        assert!(err.to_string().contains("tls.key"), "{err}");
        let err =
            Config::from_toml("[tls]\ncert = \"/nonexistent/c.pem\"\nkey = \"/nonexistent/k.pem\"")
                .expect_err("missing files");
        assert!(err.to_string().contains("tls.cert"), "{err}");
    }

    #[test]
    fn an_open_address_needs_tokens_tls_or_insecure() {
        let err = Config::from_toml("listen = \"0.0.0.0:50051\"").expect_err("exposed");
        assert!(err.to_string().contains("--insecure"), "{err}");
        let guarded = Config::from_toml(
            "listen = \"0.0.0.0:50051\"\n[[auth.tokens]]\nname = \"a\"\ntoken = \"0123456789abcdef\"\nrole = \"reader\"",
        )
        .expect("tokens guard it");
        assert!(!guarded.is_exposed_without_protection());
        assert!(Config::from_toml("listen = \"[::1]:50051\"").is_ok());
        let err = Config::from_toml("[metrics]\nlisten = \"nowhere\"").expect_err("bad");
        assert!(err.to_string().contains("metrics.listen"), "{err}");
        let err =
            Config::from_toml("[telemetry]\notlp_endpoint = \"collector:4317\"").expect_err("bad");
        assert!(err.to_string().contains("telemetry.otlp_endpoint"), "{err}");
    }
}
