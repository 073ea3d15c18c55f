//! `virtplane.v1.SnapshotService`: the service's dispatch and its handlers.

mod api;
mod handlers;

pub use api::SnapshotApi;
