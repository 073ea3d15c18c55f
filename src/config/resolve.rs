//! The composed configuration: the flags applied over the file, each section
//! resolved into its component's settings, then the checks that span sections.

use std::{net::SocketAddr, path::Path, time::Duration};

use clap::Parser;

use super::{
    Cli, ConfigError, auth, brokers, database, events,
    file::{FileConfig, parse_toml, read_file},
    host, hostname, http, inventory, libvirt, listen, notifications, requests, telemetry, tls,
    values::millis,
    webhooks,
};
// `events`, `http` and `telemetry` name this module's sections; their components are
// spelled out below.
use crate::{amqp, grpc, hypervisor, security, store, webhook};

/// The validated configuration the service runs with.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub hostname: String,
    pub log_format: crate::telemetry::LogFormat,
    pub shutdown_grace_period: Duration,
    pub libvirt: hypervisor::Settings,
    pub database: store::Settings,
    /// How long to wait for the writer lock of this host; `None`: as long as it takes.
    pub lock_timeout: Option<Duration>,
    /// Heartbeats, when other hosts count as down, and this host's labels.
    pub host: crate::host::Settings,
    pub events: crate::events::Settings,
    /// Named brokers, by name.
    pub brokers: Vec<amqp::BrokerSettings>,
    /// AMQP pools kept at most (least recently used idle ones are closed).
    pub amqp_max_pools: usize,
    pub notifications: Option<amqp::NotificationSettings>,
    pub http: crate::http::Settings,
    /// Receivers of lifecycle events, in configuration order.
    pub webhooks: Vec<webhook::Settings>,
    /// How long replies to requests with a `request_id` are kept for their retries.
    pub requests: grpc::idempotency::Settings,
    /// What domain reads answer while libvirt is unreachable.
    pub inventory: crate::inventory::Settings,
    /// Bearer tokens; none means the API asks for no credentials.
    pub tokens: Vec<security::TokenSettings>,
    pub tls: Option<security::TlsSettings>,
    /// A plaintext listener serving only the health service, for probes that cannot
    /// present tokens or certificates.
    pub health_listen: Option<SocketAddr>,
    /// Where Prometheus scrapes `/metrics`.
    pub metrics_listen: Option<SocketAddr>,
    pub telemetry: crate::telemetry::Settings,
    /// Listening openly without tokens or TLS was asked for explicitly.
    pub insecure: bool,
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

    /// Whether the API is reachable beyond this host with nothing guarding it (allowed
    /// by `--insecure`; the service warns about it).
    pub fn is_exposed_without_protection(&self) -> bool {
        !self.listen.ip().is_loopback() && self.tokens.is_empty() && self.tls.is_none()
    }

    /// Resolves every section in the order their errors are reported, then checks
    /// what spans sections.
    pub(super) fn resolve(file: FileConfig, cli: &Cli) -> Result<Config, ConfigError> {
        let FileConfig {
            listen,
            hostname,
            log_format,
            shutdown_grace_period_ms,
            libvirt,
            database,
            host,
            events,
            brokers,
            amqp,
            notifications,
            http,
            webhooks,
            requests,
            inventory,
            auth,
            tls,
            health,
            metrics,
            telemetry,
        } = file;
        let listen = listen::resolve(listen, cli)?;
        let hostname = hostname::resolve(hostname, cli)?;
        let log_format = telemetry::log_format(log_format, cli)?;
        let shutdown_grace_period =
            millis("shutdown_grace_period_ms", shutdown_grace_period_ms, 10_000)?;
        let config = Config {
            listen,
            hostname,
            log_format,
            shutdown_grace_period,
            lock_timeout: database::lock_timeout(&database, cli),
            libvirt: libvirt::resolve(libvirt, cli)?,
            database: database::resolve(database, cli)?,
            host: host::resolve(host)?,
            events: events::resolve(events)?,
            brokers: brokers::resolve(brokers)?,
            amqp_max_pools: brokers::max_pools(amqp)?,
            notifications: notifications::resolve(notifications),
            http: http::resolve(http)?,
            webhooks: webhooks::resolve(webhooks)?,
            requests: requests::resolve(requests)?,
            inventory: inventory::resolve(inventory)?,
            tokens: auth::resolve(auth)?,
            tls: tls::resolve(tls)?,
            health_listen: listen::resolve_extra("health.listen", health)?,
            metrics_listen: listen::resolve_extra("metrics.listen", metrics)?,
            telemetry: telemetry::resolve(
                telemetry,
                std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT").ok(),
            )?,
            insecure: cli.insecure,
        };
        notifications::check(config.notifications.as_ref(), &config.brokers)?;
        let guarded = !config.tokens.is_empty() || config.tls.is_some();
        listen::check_exposure(config.listen, guarded, config.insecure)?;
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use clap::Parser;

    use crate::config::{
        Cli, Config, DEFAULT_DATABASE_URL, DEFAULT_LIBVIRT_URI, DEFAULT_LISTEN, file::parse_toml,
    };

    #[test]
    fn defaults_point_at_the_system_hypervisor_on_loopback() {
        let config = Config::from_toml("hostname = \"h1\"").expect("valid");
        assert_eq!(config.libvirt.uri, DEFAULT_LIBVIRT_URI);
        assert_eq!(config.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(config.database.url.expose(), DEFAULT_DATABASE_URL);
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
