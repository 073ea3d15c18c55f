//! `virtplane.v1.GuestService`: what a running guest says about itself.

mod api;

pub use api::GuestApi;
