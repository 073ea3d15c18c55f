//! A domain's labels: string keys and values with Kubernetes' syntax, so a label
//! selector means the same here as in a cluster.

use std::collections::BTreeMap;

use super::InvalidArgument;

/// A domain's labels, ordered by key.
pub type Labels = BTreeMap<String, String>;

/// The longest label name (the part after an optional prefix) and value.
const MAX_NAME_LEN: usize = 63;
/// The longest key prefix (a DNS subdomain).
const MAX_PREFIX_LEN: usize = 253;
/// More labels than this on one domain is a misuse of labels, not a need.
pub const MAX_LABELS: usize = 64;

/// Checks a label key: `[prefix/]name`, the prefix a DNS subdomain, the name at most
/// 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit.
///
/// # Errors
/// What is wrong with `key`, naming `field`.
pub fn check_key(field: &'static str, key: &str) -> Result<(), InvalidArgument> {
    let (prefix, name) = match key.split_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    if let Some(prefix) = prefix
        && !is_dns_subdomain(prefix)
    {
        return Err(InvalidArgument::new(
            field,
            format!(
                "label key {key:?}: the prefix before '/' must be a DNS subdomain of at most {MAX_PREFIX_LEN} characters (lower-case letters, digits, '-' and '.')"
            ),
        ));
    }
    if !is_name(name) {
        return Err(InvalidArgument::new(
            field,
            format!(
                "label key {key:?}: the name must be 1 to {MAX_NAME_LEN} characters (letters, digits, '-', '_', '.'), starting and ending with a letter or digit"
            ),
        ));
    }
    Ok(())
}

/// Checks a label value: empty, or a name as in [`check_key`].
///
/// # Errors
/// What is wrong with `value`, naming `field` and its key.
pub fn check_value(field: &'static str, key: &str, value: &str) -> Result<(), InvalidArgument> {
    if value.is_empty() || is_name(value) {
        return Ok(());
    }
    Err(InvalidArgument::new(
        field,
        format!(
            "label {key:?}: the value {value:?} must be empty or 1 to {MAX_NAME_LEN} characters (letters, digits, '-', '_', '.'), starting and ending with a letter or digit"
        ),
    ))
}

fn is_name(s: &str) -> bool {
    let bytes = s.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= MAX_NAME_LEN
        && bytes.first().is_some_and(u8::is_ascii_alphanumeric)
        && bytes.last().is_some_and(u8::is_ascii_alphanumeric)
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

fn is_dns_subdomain(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_PREFIX_LEN
        && s.split('.').all(|part| {
            let bytes = part.as_bytes();
            !bytes.is_empty()
                && bytes.len() <= MAX_NAME_LEN
                && bytes
                    .first()
                    .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
                && bytes
                    .last()
                    .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
                && bytes
                    .iter()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubernetes_keys_are_accepted() {
        for key in ["app", "tier.v2", "example.com/team", "a-b_c.d", "x"] {
            assert!(check_key("set", key).is_ok(), "{key}");
        }
    }

    #[test]
    fn malformed_keys_are_refused_naming_the_key() {
        let long = "a".repeat(64);
        for key in [
            "",
            "-app",
            "app-",
            "Example.com/x",
            "a/b/c",
            "/x",
            "x/",
            "a b",
            &long,
        ] {
            let err = check_key("set", key).expect_err(key);
            assert!(err.message.contains(&format!("{key:?}")), "{}", err.message);
        }
    }

    #[test]
    fn values_may_be_empty_but_not_malformed() {
        assert!(check_value("set", "k", "").is_ok());
        assert!(check_value("set", "k", "v1.2").is_ok());
        assert!(check_value("set", "k", "has space").is_err());
        assert!(check_value("set", "k", "-x").is_err());
    }
}
