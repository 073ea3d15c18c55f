//! Where state is persisted: the database the store connects to.

use crate::secret::Secret;

/// Where state is persisted.
#[derive(Debug, Clone)]
pub struct Settings {
    pub url: Secret,
    pub max_connections: u32,
}
