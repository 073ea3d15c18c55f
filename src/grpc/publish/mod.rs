//! `virtplane.v1.PublishService`: the service's dispatch, publishing, the brokers.

mod api;
mod brokers;
mod send;

pub use api::PublishApi;
