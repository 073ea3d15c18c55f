//! How the service reaches libvirt: the settings the connection is opened and
//! repaired with.

use std::{path::PathBuf, time::Duration};

use crate::secret::Secret;

/// How the service reaches libvirt.
#[derive(Debug, Clone)]
pub struct Settings {
    pub uri: String,
    pub read_only: bool,
    pub username: Option<String>,
    pub passphrase: Option<Secret>,
    pub connect_timeout: Duration,
    pub call_timeout: Duration,
    pub max_concurrent_calls: usize,
    pub reconnect_backoff_initial: Duration,
    pub reconnect_backoff_max: Duration,
    pub keepalive_interval_secs: u32,
    pub keepalive_count: u32,
    /// Where SaveDomain writes memory images and RestoreDomain reads them: clients
    /// name files in it, never paths.
    pub save_dir: PathBuf,
    /// The directories clients may name paths under: disk images to attach, storage
    /// pools to create. libvirt opens them as root, so nothing else is allowed.
    pub storage_roots: Vec<PathBuf>,
    /// Whether clients may define, start, stop and undefine the host's networks:
    /// that changes the host's own networking (bridges, firewall rules, DHCP).
    pub manage_networks: bool,
}
