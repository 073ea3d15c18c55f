//! What commands read besides their flags: files or stdin, `key=value` pairs.

use std::path::Path;

use super::error::CliError;

/// Parses `key=value`.
pub(crate) fn key_value(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .ok_or_else(|| format!("{text:?} is not key=value"))
}

/// A file's bytes, or stdin's for "-".
pub(crate) fn read_bytes(path: &Path) -> Result<Vec<u8>, CliError> {
    let bytes = if path.as_os_str() == "-" {
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut bytes).map(|_| bytes)
    } else {
        std::fs::read(path)
    };
    bytes.map_err(|e| CliError::usage(format!("{}: {e}", path.display())))
}

/// A file's text, or stdin's for "-".
pub(crate) fn read_text(path: &Path) -> Result<String, CliError> {
    String::from_utf8(read_bytes(path)?)
        .map_err(|_| CliError::usage(format!("{}: not UTF-8 text", path.display())))
}
