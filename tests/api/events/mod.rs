//! Lifecycle events: made through the API and behind the service's back, persisted,
//! listed, watched (with resume), reconciled after outages and restarts, on SQLite
//! and PostgreSQL.

mod callbacks;
mod lagging;
mod listing;
mod recording;
mod synthetic;
mod watching;
