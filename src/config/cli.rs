//! The command-line flags; each also reads a `VIRTPLANE_*` environment variable.

use std::path::PathBuf;

use clap::Parser;

/// Command-line flags; each also reads a `VIRTPLANE_*` environment variable.
#[derive(Debug, Parser)]
#[command(
    name = "virtplane",
    version,
    about = "Per-host control-plane agent for libvirt domains"
)]
pub struct Cli {
    /// TOML configuration file.
    #[arg(long, env = "VIRTPLANE_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// gRPC listen address (host:port).
    #[arg(long, env = "VIRTPLANE_LISTEN", value_name = "ADDR")]
    pub listen: Option<String>,
    /// libvirt connection URI.
    #[arg(long, env = "VIRTPLANE_LIBVIRT_URI", value_name = "URI")]
    pub libvirt_uri: Option<String>,
    /// Open the libvirt connection read-only.
    #[arg(long, env = "VIRTPLANE_LIBVIRT_READ_ONLY", value_name = "BOOL")]
    pub libvirt_read_only: Option<bool>,
    /// Database URL: `sqlite://PATH` or `postgres://...`.
    #[arg(long, env = "VIRTPLANE_DATABASE_URL", value_name = "URL")]
    pub database_url: Option<String>,
    /// The name this host is recorded under (default: the system hostname).
    #[arg(long, env = "VIRTPLANE_HOSTNAME", value_name = "NAME")]
    pub hostname: Option<String>,
    /// Log format: `human` or `json`.
    #[arg(long, env = "VIRTPLANE_LOG_FORMAT", value_name = "FORMAT")]
    pub log_format: Option<String>,
    /// Seconds to wait for the writer lock while another instance of this host holds
    /// it, then exit with an error naming the holder (default: wait forever).
    #[arg(long, env = "VIRTPLANE_LOCK_TIMEOUT", value_name = "SECONDS")]
    pub lock_timeout: Option<u64>,
    /// Allow listening on a non-loopback address with neither tokens nor TLS.
    #[arg(long, env = "VIRTPLANE_INSECURE", action = clap::ArgAction::SetTrue)]
    pub insecure: bool,
}
