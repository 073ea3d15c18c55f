//! Why a checkout failed; messages name the pool by its redacted key.

use std::{fmt, time::Duration};

/// Why a checkout failed.
#[derive(Debug, thiserror::Error)]
pub enum AcquireError<E: fmt::Display> {
    /// Every connection was in use until the deadline (or at once, non-blocking).
    #[error("pool {pool} is exhausted: all {max_size} connections stayed in use{}", waited_for(.waited))]
    Exhausted {
        pool: String,
        max_size: usize,
        waited: Option<Duration>,
        /// When a connection is likely free for this caller, from how long checkouts
        /// keep theirs and how many wait ahead; `None` before any was given back.
        likely_free_in: Option<Duration>,
    },
    /// Opening a connection failed.
    #[error("pool {pool}: cannot open a connection: {source}")]
    Connect { pool: String, source: E },
    /// Opening or checking a connection took longer than allowed.
    #[error("pool {pool}: opening or checking a connection timed out")]
    Timeout { pool: String },
    /// The group holds its maximum of pools and every one is busy.
    #[error("cannot create a pool for {pool}: all {max_pools} pools are in use")]
    TooManyPools { pool: String, max_pools: usize },
    /// The pool was closed (evicted or shutting down) during the checkout.
    #[error("pool {pool} was closed")]
    Closed { pool: String },
}

fn waited_for(waited: &Option<Duration>) -> String {
    waited.map_or_else(
        || " (non-blocking checkout)".to_owned(),
        |w| format!(" for {} ms", w.as_millis()),
    )
}
