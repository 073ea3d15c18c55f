//! Domain snapshots: what a snapshot is, and which names a client may give one.

use super::{DomainState, InvalidArgument};

const MAX_NAME_LEN: usize = 128;
const MAX_DESCRIPTION_LEN: usize = 4096;

/// One snapshot of a domain, as libvirt describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotInfo {
    pub name: String,
    pub domain_uuid: String,
    pub description: String,
    /// The domain's state when the snapshot was taken.
    pub domain_state: DomainState,
    /// Seconds since the epoch.
    pub created_at_s: i64,
    /// The snapshot this one was taken after, if any.
    pub parent: Option<String>,
    /// The domain's current snapshot.
    pub current: bool,
    pub has_memory: bool,
}

/// Checks a snapshot name: letters, digits, '.', '_', '-' and ':', at most 128.
///
/// # Errors
/// A missing or malformed name, naming the field.
pub fn check_snapshot_name(name: &str) -> Result<(), InvalidArgument> {
    if name.is_empty() {
        return Err(InvalidArgument::new(
            "name",
            "`name` is required: the snapshot's name",
        ));
    }
    let ok = name.len() <= MAX_NAME_LEN
        && !name.starts_with(['.', '-'])
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b':'));
    if ok {
        return Ok(());
    }
    Err(InvalidArgument::new(
        "name",
        format!(
            "`name` {name:?} must be 1 to {MAX_NAME_LEN} letters, digits, '.', '_', '-' or ':', not starting with '.' or '-'"
        ),
    ))
}

/// Checks a snapshot description's size.
///
/// # Errors
/// An overlong or NUL-containing description.
pub fn check_snapshot_description(description: &str) -> Result<(), InvalidArgument> {
    if description.len() > MAX_DESCRIPTION_LEN || description.contains('\0') {
        return Err(InvalidArgument::new(
            "description",
            format!("`description` must be at most {MAX_DESCRIPTION_LEN} bytes without NUL"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_names_are_checked() {
        assert!(check_snapshot_name("before-upgrade_1.2:x").is_ok());
        for bad in ["", ".hidden", "-x", "a/b", "a b", &"x".repeat(129)] {
            assert_eq!(check_snapshot_name(bad).expect_err(bad).field, "name");
        }
        assert!(check_snapshot_description(&"d".repeat(4097)).is_err());
    }
}
