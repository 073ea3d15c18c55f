//! `virtplane.v1.HostService`: the service's dispatch, the host's state and capacity, and its
//! lifecycle events listed and watched.

mod api;
mod capacity;
mod cursor;
mod list;
mod state;
mod watch;

pub use api::HostApi;
