//! The core: plain types of the domain model. Nothing here knows libvirt, gRPC or
//! the database; adapters convert at their edges.

mod argument;
mod domain;
mod event;
mod state;

pub use argument::InvalidArgument;
pub use domain::{DomainAction, DomainRef, DomainSummary};
pub use event::{EventType, KnownDomain, LifecycleEvent, NewEvent, UNKNOWN_DETAIL};
pub use state::DomainState;
