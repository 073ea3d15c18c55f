//! DomainService against a real QEMU (TCG): a private root libvirtd per test, isolated
//! in its own mount namespace (support::qemu), with a BIOS-only domain and a busybox
//! guest booted from Debian's kernel. Run in the nextest group `qemu`.

mod capacity;
mod checksums;
mod cli_console;
mod console;
mod definition;
mod devices;
mod guest;
mod guest_info;
mod metrics;
mod network_leases;
mod power;
mod resources;
mod save_restore;
mod smoke;
mod snapshots;
mod stats;
mod storage;
