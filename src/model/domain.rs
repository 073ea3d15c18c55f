//! How a request names a domain, and what the service knows of one.

use super::{Devices, DomainState, InvalidArgument, Labels};

const MAX_REF_LEN: usize = 256;

/// How a request names a domain: by UUID or by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DomainRef {
    Uuid(String),
    Name(String),
}

/// A domain's identity, state and size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainSummary {
    pub uuid: String,
    pub name: String,
    pub state: DomainState,
    /// libvirt's reason for the state, as a word such as `booted` or `destroyed`.
    pub state_reason: String,
    /// The hypervisor's id while running.
    pub id: Option<u32>,
    pub vcpus: u32,
    pub memory_kib: u64,
    pub max_memory_kib: u64,
    pub persistent: bool,
    pub autostart: bool,
    /// A managed save image exists: the next start resumes from it.
    pub has_managed_save: bool,
    /// The labels kept in the domain's metadata.
    pub labels: Labels,
}

/// What the service keeps of one domain between events: its summary and its devices
/// (of the running domain, or the definition of one that is off).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainView {
    pub summary: DomainSummary,
    pub devices: Devices,
}

/// A state-changing operation on one domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DomainAction {
    Start,
    Shutdown,
    Destroy,
    Reboot,
    Suspend,
    Resume,
    Reset,
    /// Write the memory out (to a file or a managed save image) and stop.
    Save,
}

impl DomainRef {
    /// Parses a UUID (with or without dashes, any case) or else a name.
    ///
    /// # Errors
    /// An empty, overlong or NUL-containing value.
    pub fn parse(input: &str) -> Result<Self, InvalidArgument> {
        if input.is_empty() {
            return Err(InvalidArgument::new(
                "domain",
                "`domain` is required: give the domain's UUID or name",
            ));
        }
        if input.len() > MAX_REF_LEN || input.contains('\0') {
            return Err(InvalidArgument::new(
                "domain",
                format!(
                    "`domain` must be a UUID or a name of at most {MAX_REF_LEN} bytes without NUL"
                ),
            ));
        }
        Ok(match normalize_uuid(input) {
            Some(uuid) => DomainRef::Uuid(uuid),
            None => DomainRef::Name(input.to_owned()),
        })
    }

    /// The reference as the client gave it (a UUID in its normal form).
    pub fn as_str(&self) -> &str {
        match self {
            DomainRef::Uuid(s) | DomainRef::Name(s) => s,
        }
    }
}

impl std::fmt::Display for DomainRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.as_str())
    }
}

/// Lower-case dashed form of a UUID, or `None` if `input` is not one.
pub(super) fn normalize_uuid(input: &str) -> Option<String> {
    let hex: String = match input.len() {
        36 => {
            let dashes_ok = input
                .char_indices()
                .all(|(i, c)| matches!(i, 8 | 13 | 18 | 23) == (c == '-'));
            if !dashes_ok {
                return None;
            }
            input.chars().filter(|c| *c != '-').collect()
        }
        32 => input.to_owned(),
        _ => return None,
    };
    if !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let hex = hex.to_ascii_lowercase();
    Some(format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_recognised_in_any_spelling() {
        let want = DomainRef::Uuid("6695eb01-f6a4-8304-79aa-97f2502e193f".into());
        assert_eq!(
            DomainRef::parse("6695eb01-f6a4-8304-79aa-97f2502e193f").ok(),
            Some(want.clone())
        );
        assert_eq!(
            DomainRef::parse("6695EB01F6A4830479AA97F2502E193F").ok(),
            Some(want)
        );
    }

    #[test]
    fn anything_else_is_a_name() {
        assert_eq!(
            DomainRef::parse("web-1").ok(),
            Some(DomainRef::Name("web-1".into()))
        );
        assert_eq!(
            DomainRef::parse("6695eb01-f6a4-8304-79aa-97f2502e193g").ok(),
            Some(DomainRef::Name(
                "6695eb01-f6a4-8304-79aa-97f2502e193g".into()
            ))
        );
    }

    #[test]
    fn empty_and_overlong_references_are_rejected_naming_the_field() {
        for bad in [String::new(), "x".repeat(MAX_REF_LEN + 1), "a\0b".into()] {
            let err = DomainRef::parse(&bad).expect_err("refused");
            assert_eq!(err.field, "domain");
        }
    }
}
