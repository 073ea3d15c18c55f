//! The name of a save file: a plain file name inside the service's save directory,
//! never a path a client chooses.

use super::InvalidArgument;

const MAX_LEN: usize = 200;

/// A checked save file name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaveFile(String);

impl SaveFile {
    /// Accepts letters, digits, '.', '_' and '-', not starting with '.'; so no
    /// separator, no `..`, no hidden file.
    ///
    /// # Errors
    /// An empty or malformed name, saying it is not a path.
    pub fn parse(field: &'static str, name: &str) -> Result<SaveFile, InvalidArgument> {
        if name.is_empty() {
            return Err(InvalidArgument::new(
                field,
                format!("`{field}` is required: a file name in the service's save directory"),
            ));
        }
        let ok = name.len() <= MAX_LEN
            && !name.starts_with('.')
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        if ok {
            return Ok(SaveFile(name.to_owned()));
        }
        Err(InvalidArgument::new(
            field,
            format!(
                "`{field}` {name:?} is not a file name: give a name of at most {MAX_LEN} letters, digits, '.', '_' or '-', not starting with '.'; files live in the service's save directory, not at a client's path"
            ),
        ))
    }

    /// The default save file of a domain named `domain`: its name with `.save`, with
    /// every character a file name may not hold replaced by '_'.
    pub fn for_domain(domain: &str) -> SaveFile {
        let stem: String = domain
            .chars()
            .take(MAX_LEN - 5)
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let stem = stem.trim_start_matches('.');
        SaveFile(format!(
            "{}.save",
            if stem.is_empty() { "domain" } else { stem }
        ))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for SaveFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_hidden_names_are_refused() {
        for bad in ["", "../etc/passwd", "/tmp/x", "a/b", ".hidden", "..", "a b"] {
            let err = SaveFile::parse("file", bad).expect_err(bad);
            assert_eq!(err.field, "file");
        }
        assert_eq!(
            SaveFile::parse("file", "web-1.save").map(|f| f.as_str().to_owned()),
            Ok("web-1.save".to_owned())
        );
    }

    #[test]
    fn a_domains_default_file_is_always_a_valid_name() {
        for name in ["web-1", "../x", "..", "π vm", ""] {
            let file = SaveFile::for_domain(name);
            assert!(
                SaveFile::parse("file", file.as_str()).is_ok(),
                "{name}: {file}"
            );
        }
    }
}
