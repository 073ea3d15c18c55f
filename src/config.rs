//! Typed configuration: a TOML file, overridden by `VIRTPLANE_*` variables and flags.
//!
//! Precedence, lowest first: built-in defaults, the TOML file, environment variables,
//! command-line flags. Every value is checked before any port is bound, and an error
//! names the key that was wrong.

use std::{
    borrow::Cow,
    fmt,
    net::SocketAddr,
    path::{Path, PathBuf},
    time::Duration,
};

use clap::Parser;
use serde::Deserialize;

use crate::secret::Secret;

mod security;
mod webhooks;

pub(crate) use security::check_token;
pub use security::{Role, TelemetryConfig, TlsConfig, TokenConfig, TokenSource};
pub use webhooks::{HttpConfig, WebhookConfig};

/// The libvirt URI real hosts use; only the demo points elsewhere.
pub const DEFAULT_LIBVIRT_URI: &str = "qemu:///system";
/// Where the embedded SQLite database lives unless told otherwise.
pub const DEFAULT_DATABASE_URL: &str = "sqlite:///var/lib/virtplane/virtplane.db";
/// The gRPC listen address: loopback unless an operator opens it up.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:50051";

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

/// The validated configuration the service runs with.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub hostname: String,
    pub log_format: LogFormat,
    pub shutdown_grace_period: Duration,
    pub libvirt: LibvirtConfig,
    pub database: DatabaseConfig,
    /// How long to wait for the writer lock of this host; `None`: as long as it takes.
    pub lock_timeout: Option<Duration>,
    pub events: EventsConfig,
    /// Named brokers, by name.
    pub brokers: Vec<BrokerConfig>,
    /// AMQP pools kept at most (least recently used idle ones are closed).
    pub amqp_max_pools: usize,
    pub notifications: Option<NotificationsConfig>,
    pub http: HttpConfig,
    /// Receivers of lifecycle events, in configuration order.
    pub webhooks: Vec<WebhookConfig>,
    /// Bearer tokens; none means the API asks for no credentials.
    pub tokens: Vec<TokenConfig>,
    pub tls: Option<TlsConfig>,
    /// A plaintext listener serving only the health service, for probes that cannot
    /// present tokens or certificates.
    pub health_listen: Option<SocketAddr>,
    /// Where Prometheus scrapes `/metrics`.
    pub metrics_listen: Option<SocketAddr>,
    pub telemetry: TelemetryConfig,
    /// Listening openly without tokens or TLS was asked for explicitly.
    pub insecure: bool,
}

/// A named AMQP broker.
#[derive(Debug, Clone)]
pub struct BrokerConfig {
    pub name: String,
    /// The normalised URL (its display hides the password).
    pub key: crate::amqp::BrokerKey,
    pub max_connections: usize,
    pub acquire_timeout: Duration,
    /// How long a publish waits for the broker's confirm (a broker in a resource alarm
    /// blocks publishers and never confirms).
    pub confirm_timeout: Duration,
    /// The deadline of a whole `Publish` or `PublishBatch` call, retries included
    /// (sooner when the client's `grpc-timeout` is); default `acquire_timeout` +
    /// `confirm_timeout`.
    pub publish_timeout: Duration,
    pub max_body_bytes: usize,
    pub retry: RetryPolicy,
}

/// kombu's retry policy: `max_retries` more attempts, waiting `interval_start`, then
/// `interval_step` more each time, at most `interval_max`.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub max_retries: u32,
    pub interval_start: Duration,
    pub interval_step: Duration,
    pub interval_max: Duration,
}

/// Where the service publishes its own notifications.
#[derive(Debug, Clone)]
pub struct NotificationsConfig {
    pub broker: String,
    pub exchange: String,
}

/// Lifecycle event plumbing.
#[derive(Debug, Clone)]
pub struct EventsConfig {
    /// Events libvirt's callback may queue before an overflow forces a reconciliation.
    pub queue_capacity: usize,
    /// Events a watcher may fall behind before its stream ends with RESOURCE_EXHAUSTED.
    pub watch_buffer: usize,
    /// How long lifecycle events are kept before they are pruned; `None` keeps every
    /// event. Domain states are never pruned.
    pub retention: Option<Duration>,
    /// How long delivered (or refused) notifications stay in the outbox, visible to
    /// `ListWebhookDeliveries`, before they are deleted. Pending ones are never deleted.
    pub outbox_retention: Duration,
    /// A reconciliation with libvirt this often even when nothing looks wrong
    /// (`None`: only after connects and queue overflows).
    pub resync_interval: Option<Duration>,
}

/// How the service reaches libvirt.
#[derive(Debug, Clone)]
pub struct LibvirtConfig {
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
}

/// Where state is persisted.
#[derive(Debug, Clone)]
pub struct DatabaseConfig {
    pub url: Secret,
    pub max_connections: u32,
}

/// The log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Human,
    Json,
}

/// A configuration value that was wrong, named by its key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read configuration file {path}: {source}")]
    ReadFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("configuration file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("invalid configuration value for `{key}`: {message}")]
    Invalid {
        key: Cow<'static, str>,
        message: String,
    },
}

impl ConfigError {
    fn invalid(key: impl Into<Cow<'static, str>>, message: impl fmt::Display) -> Self {
        ConfigError::Invalid {
            key: key.into(),
            message: message.to_string(),
        }
    }
}

/// The TOML file as written; every field optional so defaults fill the gaps.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<String>,
    hostname: Option<String>,
    log_format: Option<String>,
    shutdown_grace_period_ms: Option<u64>,
    #[serde(default)]
    libvirt: FileLibvirt,
    #[serde(default)]
    database: FileDatabase,
    #[serde(default)]
    events: FileEvents,
    #[serde(default)]
    brokers: std::collections::BTreeMap<String, FileBroker>,
    #[serde(default)]
    amqp: FileAmqp,
    notifications: Option<FileNotifications>,
    #[serde(default)]
    http: webhooks::FileHttp,
    #[serde(default)]
    webhooks: Vec<webhooks::FileWebhook>,
    #[serde(default)]
    auth: security::FileAuth,
    #[serde(default)]
    tls: security::FileTls,
    #[serde(default)]
    health: security::FileListen,
    #[serde(default)]
    metrics: security::FileListen,
    #[serde(default)]
    telemetry: security::FileTelemetry,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileBroker {
    url: Option<String>,
    url_file: Option<PathBuf>,
    max_connections: Option<usize>,
    acquire_timeout_ms: Option<u64>,
    confirm_timeout_ms: Option<u64>,
    publish_timeout_ms: Option<u64>,
    max_body_bytes: Option<usize>,
    max_retries: Option<u32>,
    interval_start_ms: Option<u64>,
    interval_step_ms: Option<u64>,
    interval_max_ms: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileAmqp {
    max_pools: Option<usize>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileNotifications {
    broker: String,
    exchange: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileEvents {
    queue_capacity: Option<usize>,
    watch_buffer: Option<usize>,
    retention_days: Option<u64>,
    outbox_retention_hours: Option<u64>,
    resync_interval_s: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileLibvirt {
    uri: Option<String>,
    read_only: Option<bool>,
    username: Option<String>,
    passphrase_file: Option<PathBuf>,
    connect_timeout_ms: Option<u64>,
    call_timeout_ms: Option<u64>,
    max_concurrent_calls: Option<u64>,
    reconnect_backoff_initial_ms: Option<u64>,
    reconnect_backoff_max_ms: Option<u64>,
    keepalive_interval_s: Option<u32>,
    keepalive_count: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDatabase {
    url: Option<String>,
    url_file: Option<PathBuf>,
    max_connections: Option<u32>,
    lock_timeout_s: Option<u64>,
}

impl Config {
    /// Loads the file named by `cli.config` (if any) and applies the flags on top.
    ///
    /// # Errors
    /// The first value that is missing, unreadable or out of range, named by its key.
    pub fn load(cli: &Cli) -> Result<Config, ConfigError> {
        let file = match &cli.config {
            Some(path) => read_file(path)?,
            None => FileConfig::default(),
        };
        Config::resolve(file, cli)
    }

    /// Parses a TOML document as if it were the configuration file (no flags).
    ///
    /// # Errors
    /// As [`Config::load`].
    pub fn from_toml(text: &str) -> Result<Config, ConfigError> {
        let file = parse_toml(text, Path::new("<inline>"))?;
        Config::resolve(file, &Cli::parse_from(["virtplane"]))
    }

    fn resolve(file: FileConfig, cli: &Cli) -> Result<Config, ConfigError> {
        let FileConfig {
            listen,
            hostname,
            log_format,
            shutdown_grace_period_ms,
            libvirt,
            database,
            events,
            brokers,
            amqp,
            notifications,
            http,
            webhooks,
            auth,
            tls,
            health,
            metrics,
            telemetry,
        } = file;
        let listen = cli.listen.clone().or(listen);
        let listen = listen.as_deref().unwrap_or(DEFAULT_LISTEN);
        let listen: SocketAddr = listen.parse().map_err(|e| {
            ConfigError::invalid("listen", format!("{listen:?} is not host:port ({e})"))
        })?;
        let hostname = match cli.hostname.clone().or(hostname) {
            Some(name) => name,
            None => system_hostname().map_err(|e| ConfigError::invalid("hostname", e))?,
        };
        validate_hostname(&hostname)?;
        let log_format = match cli.log_format.clone().or(log_format).as_deref() {
            None | Some("human") => LogFormat::Human,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(ConfigError::invalid(
                    "log_format",
                    format!("{other:?} is neither \"human\" nor \"json\""),
                ));
            }
        };
        let shutdown_grace_period =
            millis("shutdown_grace_period_ms", shutdown_grace_period_ms, 10_000)?;
        let lock_timeout = cli
            .lock_timeout
            .or(database.lock_timeout_s)
            .map(Duration::from_secs);
        Config {
            listen,
            hostname,
            log_format,
            shutdown_grace_period,
            libvirt: resolve_libvirt(libvirt, cli)?,
            database: resolve_database(database, cli)?,
            lock_timeout,
            events: resolve_events(events)?,
            brokers: brokers
                .into_iter()
                .map(|(name, broker)| resolve_broker(name, broker))
                .collect::<Result<Vec<_>, _>>()?,
            amqp_max_pools: match amqp.max_pools.unwrap_or(16) {
                0 => return Err(ConfigError::invalid("amqp.max_pools", "must be at least 1")),
                n => n,
            },
            notifications: notifications.map(|FileNotifications { broker, exchange }| {
                NotificationsConfig { broker, exchange }
            }),
            http: webhooks::resolve_http(http)?,
            webhooks: webhooks::resolve_webhooks(webhooks)?,
            tokens: security::resolve_tokens(auth)?,
            tls: security::resolve_tls(tls)?,
            health_listen: security::resolve_listen("health.listen", health)?,
            metrics_listen: security::resolve_listen("metrics.listen", metrics)?,
            telemetry: security::resolve_telemetry(
                telemetry,
                std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT").ok(),
            )?,
            insecure: cli.insecure,
        }
        .check_references()?
        .check_exposure()
    }
}

fn resolve_libvirt(file: FileLibvirt, cli: &Cli) -> Result<LibvirtConfig, ConfigError> {
    let FileLibvirt {
        uri,
        read_only,
        username,
        passphrase_file,
        connect_timeout_ms,
        call_timeout_ms,
        max_concurrent_calls,
        reconnect_backoff_initial_ms,
        reconnect_backoff_max_ms,
        keepalive_interval_s,
        keepalive_count,
    } = file;
    let uri = cli
        .libvirt_uri
        .clone()
        .or(uri)
        .unwrap_or_else(|| DEFAULT_LIBVIRT_URI.to_owned());
    if uri.trim().is_empty() || !uri.contains(':') {
        return Err(ConfigError::invalid(
            "libvirt.uri",
            "expected a libvirt URI such as qemu:///system",
        ));
    }
    let username = username.filter(|u| !u.is_empty());
    let passphrase = match passphrase_file {
        Some(path) => Some(read_secret_file("libvirt.passphrase_file", &path)?),
        None => None,
    };
    let max_concurrent_calls = max_concurrent_calls.unwrap_or(4);
    if !(1..=64).contains(&max_concurrent_calls) {
        return Err(ConfigError::invalid(
            "libvirt.max_concurrent_calls",
            "must be between 1 and 64 (libvirtd serves 5 requests per client by default)",
        ));
    }
    let reconnect_backoff_initial = millis(
        "libvirt.reconnect_backoff_initial_ms",
        reconnect_backoff_initial_ms,
        100,
    )?;
    let reconnect_backoff_max = millis(
        "libvirt.reconnect_backoff_max_ms",
        reconnect_backoff_max_ms,
        30_000,
    )?;
    if reconnect_backoff_max < reconnect_backoff_initial {
        return Err(ConfigError::invalid(
            "libvirt.reconnect_backoff_max_ms",
            "must not be below libvirt.reconnect_backoff_initial_ms",
        ));
    }
    Ok(LibvirtConfig {
        uri,
        read_only: cli.libvirt_read_only.or(read_only).unwrap_or(false),
        username,
        passphrase,
        connect_timeout: millis("libvirt.connect_timeout_ms", connect_timeout_ms, 10_000)?,
        call_timeout: millis("libvirt.call_timeout_ms", call_timeout_ms, 30_000)?,
        max_concurrent_calls: max_concurrent_calls as usize,
        reconnect_backoff_initial,
        reconnect_backoff_max,
        keepalive_interval_secs: keepalive_interval_s.unwrap_or(5),
        keepalive_count: keepalive_count.unwrap_or(3),
    })
}

fn resolve_database(file: FileDatabase, cli: &Cli) -> Result<DatabaseConfig, ConfigError> {
    let FileDatabase {
        url,
        url_file,
        max_connections,
        // Resolved with the flag in `Config::resolve`: the lock is not the pool's.
        lock_timeout_s: _,
    } = file;
    let from_file = match (&url, url_file) {
        (Some(_), Some(_)) => {
            return Err(ConfigError::invalid(
                "database.url",
                "give at most one of url and url_file",
            ));
        }
        (_, Some(path)) => Some(
            read_secret_file("database.url_file", &path)?
                .expose()
                .to_owned(),
        ),
        _ => None,
    };
    let url = cli
        .database_url
        .clone()
        .or(url)
        .or(from_file)
        .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned());
    let known = ["sqlite:", "postgres://", "postgresql://"];
    if !known.iter().any(|scheme| url.starts_with(scheme)) {
        // The URL may hold a password: name the key, not the value.
        return Err(ConfigError::invalid(
            "database.url",
            "must start with sqlite:, postgres:// or postgresql://",
        ));
    }
    let max_connections = max_connections.unwrap_or(5);
    if max_connections == 0 {
        return Err(ConfigError::invalid(
            "database.max_connections",
            "must be at least 1",
        ));
    }
    Ok(DatabaseConfig {
        url: Secret::new(url),
        max_connections,
    })
}

impl Config {
    /// Refuses an API open to the network with nothing guarding it, unless the
    /// operator said `--insecure`.
    fn check_exposure(self) -> Result<Config, ConfigError> {
        let guarded = !self.tokens.is_empty() || self.tls.is_some();
        if !self.listen.ip().is_loopback() && !guarded && !self.insecure {
            return Err(ConfigError::invalid(
                "listen",
                format!(
                    "{} is not a loopback address, and neither [[auth.tokens]] nor [tls] is \
                     configured: anyone who reaches it could control this host's domains. \
                     Configure tokens or TLS, or pass --insecure to accept that",
                    self.listen
                ),
            ));
        }
        Ok(self)
    }

    /// Whether the API is reachable beyond this host with nothing guarding it (allowed
    /// by `--insecure`; the service warns about it).
    pub fn is_exposed_without_protection(&self) -> bool {
        !self.listen.ip().is_loopback() && self.tokens.is_empty() && self.tls.is_none()
    }

    fn check_references(self) -> Result<Config, ConfigError> {
        if let Some(n) = &self.notifications {
            if !self.brokers.iter().any(|b| b.name == n.broker) {
                return Err(ConfigError::invalid(
                    "notifications.broker",
                    format!("{:?} is not a broker configured under [brokers]", n.broker),
                ));
            }
            if n.exchange.is_empty() || n.exchange.len() > 255 {
                return Err(ConfigError::invalid(
                    "notifications.exchange",
                    "must be 1 to 255 bytes",
                ));
            }
        }
        Ok(self)
    }
}

fn resolve_broker(name: String, file: FileBroker) -> Result<BrokerConfig, ConfigError> {
    let FileBroker {
        url,
        url_file,
        max_connections,
        acquire_timeout_ms,
        confirm_timeout_ms,
        publish_timeout_ms,
        max_body_bytes,
        max_retries,
        interval_start_ms,
        interval_step_ms,
        interval_max_ms,
    } = file;
    let key_name = |field: &str| format!("brokers.{name}.{field}");
    if !is_valid_name(&name) {
        return Err(ConfigError::invalid(
            "brokers",
            format!("broker name {name:?} must be 1 to 64 letters, digits, '-' or '_'"),
        ));
    }
    let url = match (url, url_file) {
        (Some(url), None) => Secret::new(url),
        (None, Some(path)) => read_secret_file(key_name("url_file"), &path)?,
        _ => {
            return Err(ConfigError::invalid(
                key_name("url"),
                "give exactly one of url and url_file",
            ));
        }
    };
    let key = crate::amqp::BrokerKey::parse(&url)
        .map_err(|e| ConfigError::invalid(key_name("url"), e))?;
    let max_connections = max_connections.unwrap_or(4);
    if !(1..=1024).contains(&max_connections) {
        return Err(ConfigError::invalid(
            key_name("max_connections"),
            "must be between 1 and 1024",
        ));
    }
    let max_body_bytes = max_body_bytes.unwrap_or(1024 * 1024);
    if max_body_bytes == 0 || max_body_bytes > 128 * 1024 * 1024 {
        return Err(ConfigError::invalid(
            key_name("max_body_bytes"),
            "must be between 1 and 134217728",
        ));
    }
    let zero_ok = |value: Option<u64>, default| Duration::from_millis(value.unwrap_or(default));
    let acquire_timeout = millis(key_name("acquire_timeout_ms"), acquire_timeout_ms, 5_000)?;
    let confirm_timeout = millis(key_name("confirm_timeout_ms"), confirm_timeout_ms, 30_000)?;
    // One checkout and one confirm wait; retries of quick connection failures fit in it.
    let default_publish_timeout = acquire_timeout + confirm_timeout;
    let publish_timeout = millis(
        key_name("publish_timeout_ms"),
        publish_timeout_ms,
        u64::try_from(default_publish_timeout.as_millis()).unwrap_or(u64::MAX),
    )?;
    Ok(BrokerConfig {
        key,
        max_connections,
        acquire_timeout,
        confirm_timeout,
        publish_timeout,
        max_body_bytes,
        retry: RetryPolicy {
            max_retries: max_retries.unwrap_or(3),
            interval_start: zero_ok(interval_start_ms, 200),
            interval_step: zero_ok(interval_step_ms, 200),
            interval_max: zero_ok(interval_max_ms, 1_000),
        },
        name,
    })
}

fn resolve_events(file: FileEvents) -> Result<EventsConfig, ConfigError> {
    let FileEvents {
        queue_capacity,
        watch_buffer,
        retention_days,
        outbox_retention_hours,
        resync_interval_s,
    } = file;
    let bounded = |key, value: Option<usize>, default| match value.unwrap_or(default) {
        n if (64..=1_048_576).contains(&n) => Ok(n),
        _ => Err(ConfigError::invalid(key, "must be between 64 and 1048576")),
    };
    Ok(EventsConfig {
        queue_capacity: bounded("events.queue_capacity", queue_capacity, 16_384)?,
        watch_buffer: bounded("events.watch_buffer", watch_buffer, 4_096)?,
        retention: event_retention(retention_days)?,
        outbox_retention: match outbox_retention_hours.unwrap_or(168) {
            0 => {
                return Err(ConfigError::invalid(
                    "events.outbox_retention_hours",
                    "must be at least 1",
                ));
            }
            hours => Duration::from_secs(hours.saturating_mul(3600)),
        },
        // Nova resyncs every 600 s, KubeVirt every 300 s.
        resync_interval: match resync_interval_s.unwrap_or(300) {
            0 => None,
            secs => Some(Duration::from_secs(secs)),
        },
    })
}

/// `events.retention_days`: 30 by default, 0 keeps everything.
fn event_retention(days: Option<u64>) -> Result<Option<Duration>, ConfigError> {
    match days.unwrap_or(30) {
        0 => Ok(None),
        // A century is long enough to mean "forever" and keeps the arithmetic finite.
        days if days > 36_500 => Err(ConfigError::invalid(
            "events.retention_days",
            "must be at most 36500 (100 years); 0 keeps every event",
        )),
        days => Ok(Some(Duration::from_secs(days * 86_400))),
    }
}

fn read_file(path: &Path) -> Result<FileConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::ReadFile {
        path: path.to_owned(),
        source,
    })?;
    parse_toml(&text, path)
}

fn parse_toml(text: &str, path: &Path) -> Result<FileConfig, ConfigError> {
    toml::from_str(text).map_err(|e| ConfigError::Parse {
        path: path.to_owned(),
        // toml's message names the key and shows the line; flatten it to one line.
        message: e.to_string().trim().replace('\n', " "),
    })
}

fn read_secret_file(key: impl Into<Cow<'static, str>>, path: &Path) -> Result<Secret, ConfigError> {
    let key = key.into();
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigError::invalid(key.clone(), format!("cannot read {}: {e}", path.display()))
    })?;
    let value = text.trim_end_matches(['\n', '\r']);
    if value.is_empty() {
        return Err(ConfigError::invalid(
            key,
            format!("{} is empty", path.display()),
        ));
    }
    Ok(Secret::new(value.to_owned()))
}

/// Names of brokers and webhooks: they appear in sink names, logs and API calls.
fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
}

fn millis(
    key: impl Into<Cow<'static, str>>,
    value: Option<u64>,
    default: u64,
) -> Result<Duration, ConfigError> {
    match value.unwrap_or(default) {
        0 => Err(ConfigError::invalid(key, "must be greater than 0")),
        ms => Ok(Duration::from_millis(ms)),
    }
}

fn validate_hostname(name: &str) -> Result<(), ConfigError> {
    let valid = !name.is_empty()
        && name.len() <= 253
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'));
    if valid {
        Ok(())
    } else {
        Err(ConfigError::invalid(
            "hostname",
            format!("{name:?} is not a host name (letters, digits, '-', '.', '_'; at most 253)"),
        ))
    }
}

fn system_hostname() -> Result<String, String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| name.trim().to_owned())
        .map_err(|e| format!("cannot read the system hostname ({e}); set it explicitly"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_point_at_the_system_hypervisor_on_loopback() {
        let config = Config::from_toml("hostname = \"h1\"").expect("valid");
        assert_eq!(config.libvirt.uri, DEFAULT_LIBVIRT_URI);
        assert_eq!(config.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(config.database.url.expose(), DEFAULT_DATABASE_URL);
    }

    #[test]
    fn the_shipped_example_configuration_is_valid() {
        let config = Config::from_toml(include_str!("../config/example.toml")).expect("valid");
        assert_eq!(config.libvirt.max_concurrent_calls, 4);
    }

    #[test]
    fn event_retention_defaults_to_thirty_days_and_zero_keeps_everything() {
        let default = Config::from_toml("hostname = \"h\"").expect("valid");
        assert_eq!(
            default.events.retention,
            Some(Duration::from_secs(30 * 86_400))
        );
        let keep =
            Config::from_toml("hostname = \"h\"\n[events]\nretention_days = 0").expect("valid");
        assert_eq!(keep.events.retention, None);
        let err = Config::from_toml("hostname = \"h\"\n[events]\nretention_days = 99999")
            .expect_err("too long");
        assert!(err.to_string().contains("events.retention_days"), "{err}");
        let err = Config::from_toml("hostname = \"h\"\n[events]\nretention_days = -1")
            .expect_err("negative");
        assert!(err.to_string().contains("retention_days"), "{err}");
    }

    #[test]
    fn the_lock_timeout_comes_from_the_file_unless_the_flag_says_otherwise() {
        let forever = Config::from_toml("hostname = \"h\"").expect("valid");
        assert_eq!(forever.lock_timeout, None);
        let file = || {
            parse_toml(
                "hostname = \"h\"\n[database]\nlock_timeout_s = 10",
                Path::new("x"),
            )
            .expect("parses")
        };
        let from_file = Config::resolve(file(), &Cli::parse_from(["virtplane"])).expect("valid");
        assert_eq!(from_file.lock_timeout, Some(Duration::from_secs(10)));
        let cli = Cli::parse_from(["virtplane", "--lock-timeout", "0"]);
        let from_flag = Config::resolve(file(), &cli).expect("valid");
        assert_eq!(from_flag.lock_timeout, Some(Duration::ZERO));
    }

    #[test]
    fn unknown_key_is_named_in_the_error() {
        let err = Config::from_toml("[libvirt]\nurl = \"test:///default\"").expect_err("unknown");
        assert!(err.to_string().contains("url"), "{err}");
    }

    #[test]
    fn bad_value_is_named_by_its_key() {
        let err = Config::from_toml("listen = \"nowhere\"").expect_err("bad listen");
        assert!(err.to_string().contains("`listen`"), "{err}");
        let err = Config::from_toml("[libvirt]\nmax_concurrent_calls = 0").expect_err("zero");
        assert!(
            err.to_string().contains("libvirt.max_concurrent_calls"),
            "{err}"
        );
        let err = Config::from_toml("hostname = \"a b\"").expect_err("space");
        assert!(err.to_string().contains("`hostname`"), "{err}");
    }

    #[test]
    fn brokers_are_checked_and_never_echo_their_url() {
        let config = Config::from_toml(
            "[brokers.main]\nurl = \"amqp://u:hunter2@Rabbit:5672/%2f\"\n[notifications]\nbroker = \"main\"\nexchange = \"virtplane\"",
        )
        .expect("valid");
        assert_eq!(
            config.brokers[0].key.to_string(),
            "amqp://u:***@rabbit:5672/%2f"
        );
        assert!(!format!("{config:?}").contains("hunter2"));
        let err =
            Config::from_toml("[brokers.main]\nurl = \"http://u:hunter2@h\"").expect_err("scheme");
        assert!(
            err.to_string().contains("brokers.main.url") && !err.to_string().contains("hunter2"),
            "{err}"
        );
        let err = Config::from_toml("[notifications]\nbroker = \"nope\"\nexchange = \"x\"")
            .expect_err("unknown");
        assert!(err.to_string().contains("notifications.broker"), "{err}");
    }

    #[test]
    fn a_broker_url_can_come_from_a_mounted_secret_file() {
        let dir = std::env::temp_dir().join(format!("virtplane-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let file = dir.join("url");
        std::fs::write(&file, "amqp://svc:fromfile@rabbit/prod\n").expect("secret file");
        let config = Config::from_toml(&format!(
            "[brokers.main]\nurl_file = \"{}\"",
            file.display()
        ))
        .expect("valid");
        assert_eq!(
            config.brokers[0].key.to_string(),
            "amqp://svc:***@rabbit:5672/prod"
        );
        let both = Config::from_toml(&format!(
            "[brokers.main]\nurl = \"amqp://h\"\nurl_file = \"{}\"",
            file.display()
        ))
        .expect_err("both");
        assert!(both.to_string().contains("exactly one"), "{both}");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn database_error_does_not_echo_the_url() {
        let err =
            Config::from_toml("[database]\nurl = \"mysql://u:hunter2@db/x\"").expect_err("bad");
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }

    #[test]
    fn flags_override_the_file() {
        let cli = Cli::parse_from([
            "virtplane",
            "--libvirt-uri",
            "test:///default",
            "--hostname",
            "h2",
        ]);
        let file = parse_toml(
            "hostname = \"h1\"\n[libvirt]\nuri = \"qemu:///system\"",
            Path::new("x"),
        )
        .expect("parses");
        let config = Config::resolve(file, &cli).expect("valid");
        assert_eq!(config.libvirt.uri, "test:///default");
        assert_eq!(config.hostname, "h2");
    }
}
