//! Settings shared by every HTTP host pool.

use std::time::Duration;

/// Settings shared by every HTTP host pool.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Host pools kept at most (the least recently used one is closed).
    pub max_pools: usize,
    pub connect_timeout: Duration,
}
