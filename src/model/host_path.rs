//! A path on the host a client names (a disk image, a storage pool's directory):
//! absolute, plain, and under one of the roots the host allows, since libvirt opens it
//! with its own (root) rights.

use std::path::{Path, PathBuf};

use super::InvalidArgument;

/// Why a client's path is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathRefusal {
    /// Not a plain absolute path (relative, `..`, empty): INVALID_ARGUMENT.
    #[error(transparent)]
    Malformed(#[from] InvalidArgument),
    /// A plain path outside every allowed root: PERMISSION_DENIED.
    #[error(
        "`{field}` {path:?} is outside the directories this host allows for storage ({roots}); the host's operator sets them in libvirt.storage_roots"
    )]
    OutsideRoots {
        field: &'static str,
        path: String,
        roots: String,
    },
}

/// A checked host path under an allowed root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPath(PathBuf);

impl HostPath {
    /// Accepts an absolute path without `.` or `..` components under one of `roots`
    /// (component by component: `/srv/imagesX` is not under `/srv/images`).
    ///
    /// # Errors
    /// [`PathRefusal::Malformed`] for a path that is not plain and absolute,
    /// [`PathRefusal::OutsideRoots`] for one outside every root.
    pub fn parse(
        field: &'static str,
        path: &str,
        roots: &[PathBuf],
    ) -> Result<HostPath, PathRefusal> {
        if path.is_empty() {
            return Err(InvalidArgument::new(
                field,
                format!("`{field}` is required: an absolute path"),
            )
            .into());
        }
        let candidate = Path::new(path);
        // Segments, not components: `Path::components` drops inner '.' silently.
        let plain = candidate.is_absolute()
            && !path.contains('\0')
            && path
                .split('/')
                .all(|segment| segment != "." && segment != "..");
        if !plain {
            return Err(InvalidArgument::new(
                field,
                format!("`{field}` {path:?} is not a plain absolute path: give one starting with '/', without '.' or '..' components"),
            )
            .into());
        }
        if roots
            .iter()
            .any(|root| candidate.starts_with(root) && candidate != root)
        {
            return Ok(HostPath(candidate.components().collect()));
        }
        Err(PathRefusal::OutsideRoots {
            field,
            path: path.to_owned(),
            roots: if roots.is_empty() {
                "none is configured".to_owned()
            } else {
                roots
                    .iter()
                    .map(|r| r.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            },
        })
    }

    pub fn as_path(&self) -> &Path {
        &self.0
    }

    /// The path as libvirt's XML and API take it.
    pub fn as_str(&self) -> &str {
        self.0.to_str().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roots() -> Vec<PathBuf> {
        vec![
            PathBuf::from("/var/lib/libvirt/images"),
            PathBuf::from("/srv/vm"),
        ]
    }

    #[test]
    fn a_plain_path_under_a_root_is_accepted() {
        let path =
            HostPath::parse("path", "/srv/vm/pool-a/disk.qcow2", &roots()).expect("under /srv/vm");
        assert_eq!(path.as_str(), "/srv/vm/pool-a/disk.qcow2");
        // Repeated separators are not a way around the check, nor a refusal.
        assert!(HostPath::parse("path", "/srv//vm/x", &roots()).is_ok());
    }

    #[test]
    fn relative_and_dotted_paths_are_malformed() {
        for path in [
            "",
            "disk.qcow2",
            "srv/vm/x",
            "/srv/vm/../etc/shadow",
            "/srv/vm/./x",
        ] {
            let refused = HostPath::parse("path", path, &roots()).expect_err(path);
            assert!(
                matches!(refused, PathRefusal::Malformed(_)),
                "{path}: {refused}"
            );
        }
    }

    #[test]
    fn paths_outside_every_root_are_refused_naming_the_roots() {
        for path in [
            "/etc/shadow",
            "/srv/vmx/disk",
            "/srv/vm",
            "/var/lib/libvirt",
        ] {
            let refused = HostPath::parse("path", path, &roots()).expect_err(path);
            assert!(
                matches!(refused, PathRefusal::OutsideRoots { .. }),
                "{path}: {refused}"
            );
            assert!(refused.to_string().contains("/srv/vm"), "{refused}");
        }
        let none = HostPath::parse("path", "/srv/vm/x", &[]).expect_err("no roots");
        assert!(none.to_string().contains("none is configured"), "{none}");
    }
}
