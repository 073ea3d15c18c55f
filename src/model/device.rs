//! A domain's disks and network interfaces: what a client asks to attach, how it
//! names one to detach, what a domain has, and how a detach ended.

use super::{HostPath, InvalidArgument, MacAddress};

/// Where an attached disk's data lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiskSource {
    /// An image file under an allowed storage root.
    Path(HostPath),
    /// A volume of a libvirt storage pool.
    Volume { pool: String, volume: String },
}

/// A disk to attach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiskSpec {
    pub source: DiskSource,
    /// The guest-side name ("vdb").
    pub target: String,
    /// "virtio", "scsi", "sata", "usb".
    pub bus: String,
    /// "raw" or "qcow2".
    pub format: String,
    pub read_only: bool,
}

/// Where an attached interface connects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InterfaceSource {
    /// A libvirt network, by name.
    Network(String),
    /// A host bridge, by name.
    Bridge(String),
}

/// A network interface to attach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfaceSpec {
    pub source: InterfaceSource,
    /// "virtio", "e1000", "rtl8139".
    pub model: String,
    pub mac: MacAddress,
}

/// What to attach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceSpec {
    Disk(DiskSpec),
    Interface(InterfaceSpec),
    /// libvirt device XML, for anything else.
    Xml(String),
}

/// Which device to detach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceSelector {
    /// A disk by its guest-side name ("vdb").
    DiskTarget(String),
    /// An interface by its MAC address.
    InterfaceMac(MacAddress),
    /// Any device by libvirt's alias ("virtio-disk1", "net1", "ua-data").
    Alias(String),
}

/// A disk a domain has.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Disk {
    pub target: String,
    pub bus: String,
    /// "disk", "cdrom", "floppy", "lun".
    pub device: String,
    /// A file or block device path, or `pool/volume`, or empty (an empty drive).
    pub source: String,
    pub format: String,
    pub read_only: bool,
    /// libvirt's alias, once the domain runs.
    pub alias: String,
}

/// A network interface a domain has.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Interface {
    pub mac: String,
    pub model: String,
    /// "network", "bridge", "user", "direct", ...
    pub kind: String,
    /// The network's or bridge's name (or the host device, for `direct`).
    pub source: String,
    /// The host-side device ("vnet3"), once the domain runs.
    pub host_device: String,
    pub alias: String,
}

/// A domain's disks and interfaces.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Devices {
    pub disks: Vec<Disk>,
    pub interfaces: Vec<Interface>,
}

/// How a detach ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DetachOutcome {
    /// Gone from the running domain (the guest released it) and from the
    /// definition when asked.
    Removed,
    /// The guest refused to release it (`DEVICE_REMOVAL_FAILED`): still present.
    RemovalFailed,
    /// The guest did not release it within the timeout: still present; the guest
    /// may still release it later (then a `device_removed` event is recorded).
    StillPresent,
}

/// A disk's guest-side name: `vd`, `sd`, `hd` or `xvd` and letters ("vdb").
///
/// # Errors
/// Anything else, named by `field`.
pub fn check_disk_target(field: &'static str, target: &str) -> Result<(), InvalidArgument> {
    let letters = ["vd", "sd", "hd", "xvd"]
        .iter()
        .find_map(|prefix| target.strip_prefix(prefix));
    match letters {
        Some(rest)
            if (1..=3).contains(&rest.len()) && rest.bytes().all(|b| b.is_ascii_lowercase()) =>
        {
            Ok(())
        }
        _ => Err(InvalidArgument::new(
            field,
            format!("`{field}` {target:?} is not a disk name like vdb, sdc or hda"),
        )),
    }
}

/// A word from a fixed list (a bus, a format, a model), named by `field`.
///
/// # Errors
/// A word not in `allowed`, listing them.
pub fn check_word(
    field: &'static str,
    value: &str,
    allowed: &[&str],
) -> Result<(), InvalidArgument> {
    if allowed.contains(&value) {
        return Ok(());
    }
    Err(InvalidArgument::new(
        field,
        format!(
            "`{field}` {value:?} is not supported; use one of: {}",
            allowed.join(", ")
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disk_targets_are_guest_disk_names() {
        for good in ["vdb", "sda", "hdc", "xvdaa"] {
            assert!(check_disk_target("target", good).is_ok(), "{good}");
        }
        for bad in ["", "vd", "vdB", "nvme0n1", "vd1", "../vdb"] {
            assert!(check_disk_target("target", bad).is_err(), "{bad}");
        }
    }
}
