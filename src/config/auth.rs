//! `[[auth.tokens]]`: who may call the API, each token resolved into a
//! [`crate::security::TokenSettings`].

use std::path::PathBuf;

use serde::Deserialize;

use super::{ConfigError, values::read_secret_file};
use crate::{
    secret::Secret,
    security::{Role, TokenSettings, TokenSource, check_token},
};

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

/// Every `[[auth.tokens]]`; names must differ, values are checked, never echoed.
pub(super) fn resolve(file: FileAuth) -> Result<Vec<TokenSettings>, ConfigError> {
    let mut tokens: Vec<TokenSettings> = Vec::new();
    for (index, token) in file.tokens.into_iter().enumerate() {
        let token = resolve_token(index, token)?;
        if tokens.iter().any(|t| t.name == token.name) {
            return Err(ConfigError::invalid(
                format!("auth.tokens.{}.name", token.name),
                "is used by two tokens",
            ));
        }
        tokens.push(token);
    }
    Ok(tokens)
}

fn resolve_token(index: usize, file: FileToken) -> Result<TokenSettings, ConfigError> {
    let FileToken {
        name,
        token,
        token_file,
        role,
    } = file;
    let name = name
        .filter(|n| !n.is_empty())
        .ok_or_else(|| ConfigError::invalid(format!("auth.tokens[{index}].name"), "is required"))?;
    let key = |field: &str| format!("auth.tokens.{name}.{field}");
    let checked =
        |key: String, token: &str| check_token(token).map_err(|e| ConfigError::invalid(key, e));
    let source = match (token, token_file) {
        (Some(token), None) => {
            checked(key("token"), &token)?;
            TokenSource::Inline(Secret::new(token))
        }
        (None, Some(path)) => {
            let value = read_secret_file(key("token_file"), &path)?;
            checked(key("token_file"), value.expose())?;
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
    Ok(TokenSettings { name, source, role })
}

#[cfg(test)]
mod tests {
    use crate::{config::Config, security::Role, security::TokenSource};

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
}
