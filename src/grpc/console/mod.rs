//! `virtplane.v1.ConsoleService`: serial consoles as bidirectional byte streams.

mod api;
mod input;

pub use api::ConsoleApi;
