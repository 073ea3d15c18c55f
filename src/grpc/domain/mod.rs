//! `virtplane.v1.DomainService`: the service's dispatch, and its handlers by capability.

mod api;
mod autostart;
mod define;
mod power;
mod read;
mod xml;

pub use api::DomainApi;
