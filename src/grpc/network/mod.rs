//! `virtplane.v1.NetworkService`: the service's dispatch, and its handlers for reads
//! and for the changes a host may allow.

mod api;
mod manage;
mod read;

pub use api::NetworkApi;
