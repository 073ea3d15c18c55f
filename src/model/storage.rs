//! Storage pools and volumes: what they are, how a client names them, and what a
//! client may ask to create.

use std::fmt;

use super::{HostPath, InvalidArgument};

/// The longest pool or volume name: a volume's name is its file name in a directory
/// pool, and file names end at 255 bytes.
const MAX_NAME_LEN: usize = 255;

/// A storage pool as libvirt describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoragePoolInfo {
    pub name: String,
    pub uuid: String,
    /// libvirt's pool type: "dir", "fs", "logical", ...
    pub kind: String,
    pub state: PoolState,
    pub persistent: bool,
    pub autostart: bool,
    pub capacity_bytes: u64,
    pub allocation_bytes: u64,
    pub available_bytes: u64,
    /// Where the pool keeps its volumes (a directory for a "dir" pool).
    pub target_path: String,
}

/// A storage pool's state (libvirt's `virStoragePoolState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolState {
    Inactive,
    Building,
    Running,
    Degraded,
    Inaccessible,
}

impl PoolState {
    /// The state in words, for messages.
    pub fn word(self) -> &'static str {
        match self {
            PoolState::Inactive => "inactive",
            PoolState::Building => "building",
            PoolState::Running => "running",
            PoolState::Degraded => "degraded",
            PoolState::Inaccessible => "inaccessible",
        }
    }
}

/// A storage volume as libvirt describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeInfo {
    pub pool: String,
    pub name: String,
    pub path: String,
    /// libvirt's volume type: "file", "block", "dir", ...
    pub kind: String,
    /// The image format ("raw", "qcow2", ...); empty when libvirt does not say.
    pub format: String,
    pub capacity_bytes: u64,
    pub allocation_bytes: u64,
    pub backing: Option<BackingStore>,
}

/// The image a copy-on-write volume reads what it has not written from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackingStore {
    pub path: String,
    pub format: String,
}

/// A format a new volume may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VolumeFormat {
    Raw,
    Qcow2,
}

impl VolumeFormat {
    /// Reads a client's `format`; empty means raw, or qcow2 for an overlay.
    ///
    /// # Errors
    /// A format other than raw and qcow2, or raw over a backing volume.
    pub fn parse(word: &str, has_backing: bool) -> Result<Self, InvalidArgument> {
        match (word, has_backing) {
            ("", false) | ("raw", false) => Ok(VolumeFormat::Raw),
            ("", true) | ("qcow2", _) => Ok(VolumeFormat::Qcow2),
            ("raw", true) => Err(InvalidArgument::new(
                "format",
                "`format` \"raw\" cannot have a `backing_volume`: a copy-on-write overlay is qcow2",
            )),
            (other, _) => Err(InvalidArgument::new(
                "format",
                format!("`format` {other:?} is not supported: use \"raw\" or \"qcow2\""),
            )),
        }
    }

    /// libvirt's (and qemu-img's) word for it.
    pub fn word(self) -> &'static str {
        match self {
            VolumeFormat::Raw => "raw",
            VolumeFormat::Qcow2 => "qcow2",
        }
    }
}

/// A volume, named by its pool and its name in the pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeRef {
    pub pool: String,
    pub volume: String,
}

impl VolumeRef {
    /// Checks both names (fields `pool` and `volume`).
    ///
    /// # Errors
    /// A missing or malformed name, naming its field.
    pub fn parse(pool: String, volume: String) -> Result<Self, InvalidArgument> {
        check_storage_name("pool", &pool)?;
        check_storage_name("volume", &volume)?;
        Ok(VolumeRef { pool, volume })
    }
}

impl fmt::Display for VolumeRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} in pool {:?}", self.volume, self.pool)
    }
}

/// A directory pool to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPool {
    pub name: String,
    /// Its directory, under an allowed root.
    pub target: HostPath,
    pub autostart: bool,
}

/// A volume to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewVolume {
    pub pool: String,
    pub name: String,
    pub format: VolumeFormat,
    /// `None` over a backing volume: the backing volume's capacity.
    pub capacity_bytes: Option<u64>,
    /// A volume of the same pool to overlay.
    pub backing_volume: Option<String>,
    pub preallocate: bool,
}

/// The checksum a volume transfer computes over the bytes it moves.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ChecksumKind {
    /// SHA-256: collision-resistant; about 0.7 s of CPU per GiB on SHA-NI hardware.
    #[default]
    Sha256,
    /// CRC32C (Castagnoli): catches transfer corruption, not tampering; hardware
    /// CRC instructions make it nearly free.
    Crc32c,
}

/// What a volume transfer moved: the bytes and their checksum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferSummary {
    pub bytes: u64,
    pub kind: ChecksumKind,
    /// Lower-case hex: 64 digits for SHA-256, 8 for CRC32C (big-endian).
    pub checksum: String,
}

/// Checks a pool or volume name: 1 to 255 bytes, no '/' (a volume's name is a file
/// name in its pool's directory), no control characters, not "." or "..".
///
/// # Errors
/// A missing or malformed name, naming `field`.
pub fn check_storage_name(field: &'static str, name: &str) -> Result<(), InvalidArgument> {
    if name.is_empty() {
        return Err(InvalidArgument::new(
            field,
            format!("`{field}` is required: a storage pool or volume name"),
        ));
    }
    let ok = name.len() <= MAX_NAME_LEN
        && name != "."
        && name != ".."
        && !name.chars().any(|c| c == '/' || c.is_control());
    if ok {
        return Ok(());
    }
    Err(InvalidArgument::new(
        field,
        format!(
            "`{field}` {name:?} is not a storage name: 1 to {MAX_NAME_LEN} bytes without '/' or control characters, and not \".\" or \"..\""
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_names_are_file_names() {
        for good in ["disk-1.qcow2", "my disk.img", "a:b+c@d", &"x".repeat(255)] {
            assert!(check_storage_name("volume", good).is_ok(), "{good}");
        }
        for bad in [
            "",
            ".",
            "..",
            "a/b",
            "../etc",
            "a\nb",
            "a\0b",
            &"x".repeat(256),
        ] {
            let refused = check_storage_name("volume", bad).expect_err(bad);
            assert_eq!(refused.field, "volume");
            assert!(refused.message.contains("`volume`"), "{}", refused.message);
        }
    }

    #[test]
    fn formats_default_to_raw_and_to_qcow2_over_a_backing_volume() {
        assert_eq!(VolumeFormat::parse("", false), Ok(VolumeFormat::Raw));
        assert_eq!(VolumeFormat::parse("", true), Ok(VolumeFormat::Qcow2));
        assert_eq!(VolumeFormat::parse("qcow2", false), Ok(VolumeFormat::Qcow2));
        assert!(VolumeFormat::parse("raw", true).is_err());
        let vmdk = VolumeFormat::parse("vmdk", false).expect_err("unsupported");
        assert!(
            vmdk.message.contains("\"raw\" or \"qcow2\""),
            "{}",
            vmdk.message
        );
    }
}
