//! The HTTP host pools of the configured webhooks, sized by their settings.

use std::sync::Arc;

use super::Settings;
use crate::http::{self, HostPoolSettings, HttpPools};

/// urllib3's `maxsize` default is 1; a webhook host gets a few more.
const DEFAULT_MAX_SIZE: usize = 4;

/// Host pools for every configured webhook, sized by their settings.
///
/// # Errors
/// A CA file cannot be used.
pub fn host_pools(http: &http::Settings, hooks: &[Settings]) -> Result<Arc<HttpPools>, String> {
    let hosts: Vec<HostPoolSettings> = hooks
        .iter()
        .map(|hook| HostPoolSettings {
            key: hook.key.clone(),
            max_size: hook.max_size,
            ca_files: hook.ca_file.iter().cloned().collect(),
        })
        .collect();
    HttpPools::new(
        http.max_pools,
        DEFAULT_MAX_SIZE,
        http.connect_timeout,
        &hosts,
    )
    .map(Arc::new)
}
