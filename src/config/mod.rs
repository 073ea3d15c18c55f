//! Typed configuration: a TOML file, overridden by `VIRTPLANE_*` variables and flags.
//!
//! Precedence, lowest first: built-in defaults, the TOML file, environment variables,
//! command-line flags. Every value is checked before any port is bound, and an error
//! names the key that was wrong.
//!
//! This module only parses and composes: `cli` holds the flags, `file` the TOML
//! document, `resolve` the composed [`Config`], and one module per section reads its
//! keys into the settings type of the component that uses them (`libvirt` into
//! [`crate::hypervisor::Settings`], `brokers` into [`crate::amqp::BrokerSettings`],
//! ...). No component imports this module.

mod auth;
mod brokers;
mod cli;
mod database;
mod error;
mod events;
mod file;
mod host;
mod hostname;
mod http;
mod inventory;
mod libvirt;
mod listen;
mod notifications;
mod requests;
mod resolve;
mod telemetry;
mod tls;
mod values;
mod webhooks;

pub use cli::Cli;
pub use database::DEFAULT_DATABASE_URL;
pub use error::ConfigError;
pub use libvirt::DEFAULT_LIBVIRT_URI;
pub use listen::DEFAULT_LISTEN;
pub use resolve::Config;
