//! virtplane: the per-host control-plane agent for libvirt domains.
//!
//! Layout: [`config`] and [`telemetry`] set the process up; [`app`] wires the parts
//! and runs the gRPC server; [`grpc`] is the API layer (thin handlers, one error map);
//! [`hypervisor`] holds the one reconnecting libvirt connection and every libvirt
//! call; [`events`] records, reconciles and fans out domain lifecycle events;
//! [`host`] decides whether the host accepts work; [`store`] persists state;
//! [`pool`] is the keyed-pool mechanism under [`amqp`] (brokers) and [`http`] (webhook
//! hosts); [`webhook`] delivers lifecycle events over HTTP; [`console`] runs serial
//! console sessions; [`cli`] is `virtplanectl`, the command-line client of the API.

pub mod amqp;
pub mod app;
mod backoff;
pub mod cli;
pub mod config;
pub mod console;
pub mod delivery;
pub mod events;
pub mod grpc;
mod hex;
pub mod host;
pub mod http;
pub mod hypervisor;
pub mod inventory;
pub mod model;
pub mod pool;
pub mod secret;
pub mod security;
pub mod shutdown;
pub mod store;
pub mod telemetry;
pub mod webhook;
pub mod workers;

pub use app::App;
