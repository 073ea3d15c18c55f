//! `virtplane.v1.DomainService`: the service's dispatch, and its handlers by capability.

mod api;
mod autostart;
mod define;
mod labels;
mod power;
mod read;
mod resources;
mod save;
mod shutdown;
mod source;
mod xml;

pub use api::DomainApi;
pub(crate) use source::Source;
