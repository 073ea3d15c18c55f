//! The hypervisor: one lazily reconnecting libvirt connection and the domain
//! operations made over it. The only place that talks to libvirt.

mod connection;
mod domain;
mod error;
mod event_loop;
mod event_sink;
pub(crate) mod ffi;
mod ops;
pub mod uri;

pub use connection::{
    BoxFuture, ConnectionListener, ConnectionStatus, Hypervisor, HypervisorInfo, Listeners, Retry,
};
pub use domain::{DomainAction, DomainRef, DomainState, DomainSummary, XmlOptions};
pub use error::HypervisorError;
pub use event_sink::{EventSink, EventSource, RawLifecycleEvent, now_micros};
pub use ffi::live_callback_contexts;
