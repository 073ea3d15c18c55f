//! urllib3's `PoolManager` over the keyed pool group: one pool per (scheme, host,
//! port), sized (and given CAs) per known host, trusting the system's CAs otherwise.

use std::{
    collections::HashMap,
    path::PathBuf,
    sync::{Arc, OnceLock},
    time::Duration,
};

use tokio_rustls::TlsConnector;
use tracing::warn;

use super::{
    HostKey, Scheme,
    connection::{HttpManager, tls_connector},
};
use crate::pool::{PoolGroup, PoolSettings, PoolStats};

/// How one host's pool is set up (the largest size wins when several users share it).
#[derive(Debug, Clone)]
pub struct HostPoolSettings {
    pub key: HostKey,
    /// urllib3's `maxsize`: connections kept (and, when blocking, open at most).
    pub max_size: usize,
    /// CA certificates to trust instead of the system's, for https.
    pub ca_files: Vec<PathBuf>,
}

/// Every HTTP host pool of the service.
pub struct HttpPools {
    pub(super) group: PoolGroup<HostKey, HttpManager>,
}

impl std::fmt::Debug for HttpPools {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpPools")
            .field("group", &self.group)
            .finish()
    }
}

impl HttpPools {
    /// At most `max_pools` host pools; `hosts` sizes (and sets CAs for) the known
    /// ones, others get `default_max_size` and the system's CAs.
    ///
    /// # Errors
    /// A CA file cannot be read or holds no certificate.
    pub fn new(
        max_pools: usize,
        default_max_size: usize,
        connect_timeout: Duration,
        hosts: &[HostPoolSettings],
    ) -> Result<HttpPools, String> {
        let (sizes, connectors) = sizes_and_connectors(hosts)?;
        let system: Arc<OnceLock<Option<TlsConnector>>> = Arc::new(OnceLock::new());
        // Reading the system's trust store is blocking file I/O: do it now, before
        // serving, when a known https host will need it.
        if hosts
            .iter()
            .any(|h| h.key.scheme() == Scheme::Https && !connectors.contains_key(&h.key))
        {
            let _ = system.set(load_system_roots());
        }
        let settings = PoolSettings {
            max_size: default_max_size,
            create_timeout: connect_timeout,
            // The check waits at most for hyper's driver to notice the last response ended.
            recycle_timeout: Some(Duration::from_secs(1)),
            lifo: true,
        };
        let group = PoolGroup::new("http", max_pools, settings, move |key: &HostKey| {
            let tls = match key.scheme() {
                Scheme::Http => None,
                Scheme::Https => connectors
                    .get(key)
                    .cloned()
                    .or_else(|| system.get_or_init(load_system_roots).clone()),
            };
            HttpManager::new(key.clone(), tls)
        })
        .with_max_size_for(move |key| sizes.get(key).copied().unwrap_or(default_max_size));
        Ok(HttpPools { group })
    }

    /// A snapshot of every host pool (kind "http").
    pub fn stats(&self) -> Vec<PoolStats> {
        self.group.stats()
    }

    /// Closes every pool.
    pub fn close(&self) {
        self.group.close_all();
    }
}

/// Connections per known host (the largest asked for), and a TLS connector for each
/// known https host with CA files of its own.
type SizesAndConnectors = (HashMap<HostKey, usize>, HashMap<HostKey, TlsConnector>);

fn sizes_and_connectors(hosts: &[HostPoolSettings]) -> Result<SizesAndConnectors, String> {
    let mut sizes: HashMap<HostKey, usize> = HashMap::new();
    let mut cas: HashMap<HostKey, Vec<PathBuf>> = HashMap::new();
    for host in hosts {
        let size = sizes.entry(host.key.clone()).or_insert(0);
        *size = (*size).max(host.max_size);
        cas.entry(host.key.clone())
            .or_default()
            .extend(host.ca_files.iter().cloned());
    }
    let mut connectors: HashMap<HostKey, TlsConnector> = HashMap::new();
    for (key, files) in cas {
        if key.scheme() == Scheme::Https && !files.is_empty() {
            connectors.insert(key, tls_connector(&files)?);
        }
    }
    Ok((sizes, connectors))
}

/// A connector trusting the system's CAs; `None` (logged) when there are none.
fn load_system_roots() -> Option<TlsConnector> {
    tls_connector(&[])
        .map_err(|e| warn!(error = %e, "https hosts cannot be verified"))
        .ok()
}
