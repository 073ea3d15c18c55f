//! The few libvirt calls the `virt` crate does not wrap safely enough, fenced here:
//! the only place with `unsafe` code, by concept.
//!
//! - `connect`: `virConnectOpenAuth` with credentials the caller owns (`virt`'s
//!   callback is a plain `fn` and cannot carry the configured user name and
//!   passphrase), and `virConnectClose` with its error returned (`virt`'s `Drop`
//!   panics on failure).
//! - `callbacks`: lifecycle, device event and close callback registration, which
//!   `virt` 0.5 lacks. Each callback's context is a boxed `Arc` handed to libvirt together with
//!   a free function; libvirt calls that function exactly once, when it drops the
//!   callback (on deregistration or when the connection is disposed). When
//!   registration fails libvirt keeps nothing, and the box is freed here instead.
//! - `change_callbacks`: metadata, tunable and balloon callbacks, which only mark
//!   the domain for the inventory's re-read; same context rules.
//! - `domain`: `virDomainSaveFlags` and `virDomainGetGuestInfo`, which `virt` 0.5
//!   does not wrap.
//! - `network`: `virNetworkGetDHCPLeases`, which `virt` 0.5 does not wrap; the leases
//!   are copied, then each is freed and the array too.
//! - `stats`: `virConnectGetAllDomainStats` and `virDomainListGetStats`, whose
//!   records `virt` 0.5 neither reads nor frees; `params`: typed parameters copied.
//! - `stream`: non-blocking streams driven by the event loop (consoles, volume
//!   uploads and downloads), whose `virt` 0.5 wrapper hands libvirt a context that
//!   dangles once it moves.
#![allow(
    unsafe_code,
    reason = "FFI to libvirt; every block states why it is sound"
)]

mod callbacks;
mod change_callbacks;
mod connect;
mod domain;
mod network;
mod params;
mod stats;
mod stream;

pub use callbacks::live_callback_contexts;
pub(crate) use callbacks::{
    deregister_lifecycle, register_close, register_devices, register_lifecycle, unregister_close,
};
pub(crate) use change_callbacks::register_changes;
pub(crate) use connect::{Credentials, close, open_auth};
pub(crate) use domain::{
    detach_device_alias, guest_info, same_connection, save_domain, state_numbers,
};
pub(crate) use network::{LeaseRecord, dhcp_leases};
pub(crate) use params::ParamValue;
pub(crate) use stats::{StatsRecord, all_domain_stats, domain_stats};
pub(crate) use stream::{
    ERROR, EventStream, HANGUP, Io, READABLE, StreamEvents, StreamIo, WRITABLE,
};
