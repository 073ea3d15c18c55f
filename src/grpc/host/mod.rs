//! `virtplane.v1.HostService`: the service's dispatch, the host's state and capacity, the
//! fleet's hosts listed and watched, and lifecycle events listed and watched.

mod api;
mod capacity;
mod cursor;
mod fleet;
mod hosts_watch;
mod list;
mod state;
mod watch;

pub use api::HostApi;
