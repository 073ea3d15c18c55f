//! A fleet of agents on one database: heartbeats, hosts listed and watched, and the
//! lifecycle events of other hosts.

mod announced;
mod events;
mod heartbeat_failures;
mod heartbeats;
mod indexes;
mod listing;
mod recording;
mod shared;
mod watching;
