//! `virtplane.v1.StatsService`: the service's dispatch, its handlers, and the last
//! good sample of each domain.

mod api;
mod handlers;
mod last_good;

pub use api::StatsApi;
