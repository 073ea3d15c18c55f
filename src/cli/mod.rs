//! `virtplanectl`: the command-line client of the virtplane API, one module per
//! group of commands, each calling the service's generated clients.

mod args;
mod completions;
mod connect;
mod console;
mod devices;
mod domains;
mod error;
mod events;
mod guest;
mod host;
mod input;
mod messaging;
mod networks;
mod output;
mod paging;
mod run;
mod snapshots;
mod stats;
mod storage;
mod webhooks;

pub use run::main;
