//! What a test wants the app to run with, as typed settings; rendered to the
//! service's TOML here and nowhere else.

use std::{fmt::Write as _, path::PathBuf};

use super::{
    fixtures::unique_name,
    pki::Issued,
    sinks::{Broker, Webhook},
};

/// A bearer token's role.
#[derive(Debug, Clone, Copy)]
pub enum Role {
    Admin,
    Reader,
}

#[derive(Debug, Clone)]
pub(super) enum Secret {
    Inline(String),
    File(PathBuf),
}

#[derive(Debug, Clone)]
struct Token {
    name: String,
    role: Role,
    secret: Secret,
}

#[derive(Debug, Clone, Default)]
struct Events {
    queue_capacity: Option<u64>,
    watch_buffer: Option<u64>,
    resync_interval_s: Option<u64>,
    retention_days: Option<u64>,
}

#[derive(Debug, Clone)]
struct Tls {
    cert: PathBuf,
    key: PathBuf,
    client_ca: Option<PathBuf>,
}

/// What a test wants the app to run with. Everything not set keeps the service's
/// default; the libvirt timings are shortened so outages are noticed quickly.
#[derive(Debug, Clone)]
pub struct TestOptions {
    pub libvirt_uri: String,
    /// `None`: a SQLite file in the app's scratch folder.
    pub database_url: Option<String>,
    pub hostname: String,
    read_only: bool,
    keepalive_interval_s: u64,
    connect_timeout_ms: u64,
    call_timeout_ms: u64,
    events: Events,
    tokens: Vec<Token>,
    tls: Option<Tls>,
    health_listener: bool,
    metrics_listener: bool,
    brokers: Vec<Broker>,
    notifications: Option<(String, String)>,
    webhooks: Vec<Webhook>,
    /// `libvirt.save_dir`; `None`: `save` in the app's scratch folder.
    pub save_dir: Option<std::path::PathBuf>,
    /// `libvirt.storage_roots`; empty: the service's default.
    pub storage_roots: Vec<std::path::PathBuf>,
    /// `libvirt.manage_networks`.
    manage_networks: bool,
    /// `inventory.when_stale = "serve"`.
    serve_stale: bool,
    /// The `[host]` table's lines (heartbeats, labels), as written.
    host: String,
}

impl TestOptions {
    pub fn new(libvirt_uri: impl Into<String>) -> Self {
        TestOptions {
            libvirt_uri: libvirt_uri.into(),
            database_url: None,
            hostname: unique_name("host"),
            read_only: false,
            keepalive_interval_s: 1,
            connect_timeout_ms: 5000,
            call_timeout_ms: 10000,
            events: Events::default(),
            tokens: Vec::new(),
            tls: None,
            health_listener: false,
            metrics_listener: false,
            brokers: Vec::new(),
            notifications: None,
            webhooks: Vec::new(),
            save_dir: None,
            storage_roots: Vec::new(),
            manage_networks: false,
            serve_stale: false,
            host: String::new(),
        }
    }

    /// `[host]`: a heartbeat every `heartbeat_s`, down after `down_after_s`, and
    /// `labels` (an inline TOML table's body).
    pub fn fleet(mut self, heartbeat_s: u64, down_after_s: u64, labels: &str) -> Self {
        self.host = format!(
            "[host]\nheartbeat_interval_s = {heartbeat_s}\ndown_after_s = {down_after_s}\n\
             labels = {{ {labels} }}\n"
        );
        self
    }

    /// `host.watch_interval_ms`: how often a watch of another host reads the
    /// database when nothing announces a commit (after [`TestOptions::fleet`]).
    pub fn watch_interval_ms(mut self, ms: u64) -> Self {
        self.host.push_str(&format!("watch_interval_ms = {ms}\n"));
        self
    }

    /// Reads answer from the inventory, flagged stale, while libvirt is unreachable
    /// (`inventory.when_stale = "serve"`).
    pub fn serve_stale(mut self) -> Self {
        self.serve_stale = true;
        self
    }

    /// Lets clients change the host's networks (`libvirt.manage_networks = true`).
    pub fn manage_networks(mut self) -> Self {
        self.manage_networks = true;
        self
    }

    /// Allows storage paths under `root` (`libvirt.storage_roots`), besides any
    /// root given before.
    pub fn storage_root(mut self, root: impl Into<std::path::PathBuf>) -> Self {
        self.storage_roots.push(root.into());
        self
    }

    pub fn database(mut self, url: impl Into<String>) -> Self {
        self.database_url = Some(url.into());
        self
    }

    pub fn read_only(mut self) -> Self {
        self.read_only = true;
        self
    }

    pub fn hostname(mut self, name: impl Into<String>) -> Self {
        self.hostname = name.into();
        self
    }

    pub fn keepalive_interval_s(mut self, seconds: u64) -> Self {
        self.keepalive_interval_s = seconds;
        self
    }

    pub fn connect_timeout_ms(mut self, ms: u64) -> Self {
        self.connect_timeout_ms = ms;
        self
    }

    pub fn call_timeout_ms(mut self, ms: u64) -> Self {
        self.call_timeout_ms = ms;
        self
    }

    /// `[events] queue_capacity`: events the recorder queues before it resyncs.
    pub fn event_queue_capacity(mut self, events: u64) -> Self {
        self.events.queue_capacity = Some(events);
        self
    }

    /// `[events] watch_buffer`: events a watcher may fall behind by.
    pub fn watch_buffer(mut self, events: u64) -> Self {
        self.events.watch_buffer = Some(events);
        self
    }

    /// `[events] resync_interval_s` (0: no periodic resync).
    pub fn resync_interval_s(mut self, seconds: u64) -> Self {
        self.events.resync_interval_s = Some(seconds);
        self
    }

    /// `[events] retention_days` (0: keep every event).
    pub fn retention_days(mut self, days: u64) -> Self {
        self.events.retention_days = Some(days);
        self
    }

    /// A bearer token given inline.
    pub fn token(mut self, name: &str, role: Role, token: &str) -> Self {
        self.tokens.push(Token {
            name: name.to_owned(),
            role,
            secret: Secret::Inline(token.to_owned()),
        });
        self
    }

    /// A bearer token read (and re-read) from a file.
    pub fn token_file(mut self, name: &str, role: Role, path: impl Into<PathBuf>) -> Self {
        self.tokens.push(Token {
            name: name.to_owned(),
            role,
            secret: Secret::File(path.into()),
        });
        self
    }

    /// Serves the API over TLS with `server`; with `client_ca`, mutual TLS.
    pub fn tls(mut self, server: &Issued, client_ca: Option<PathBuf>) -> Self {
        self.tls = Some(Tls {
            cert: server.cert.clone(),
            key: server.key.clone(),
            client_ca,
        });
        self
    }

    /// A plaintext health listener on 127.0.0.1:0.
    pub fn health_listener(mut self) -> Self {
        self.health_listener = true;
        self
    }

    /// A metrics listener on 127.0.0.1:0.
    pub fn metrics_listener(mut self) -> Self {
        self.metrics_listener = true;
        self
    }

    pub fn broker(mut self, broker: Broker) -> Self {
        self.brokers.push(broker);
        self
    }

    /// Notifications published through `broker` to `exchange`.
    pub fn notifications(mut self, broker: &str, exchange: &str) -> Self {
        self.notifications = Some((broker.to_owned(), exchange.to_owned()));
        self
    }

    pub fn webhook(mut self, webhook: Webhook) -> Self {
        self.webhooks.push(webhook);
        self
    }

    /// The service's configuration file for these options, the database at
    /// `database_url`.
    pub fn render(&self, database_url: &str) -> String {
        let mut out = format!(
            "listen = \"127.0.0.1:0\"\nhostname = \"{}\"\nshutdown_grace_period_ms = 2000\n\
             [libvirt]\nuri = \"{}\"\nread_only = {}\nconnect_timeout_ms = {}\n\
             call_timeout_ms = {}\nreconnect_backoff_initial_ms = 100\n\
             reconnect_backoff_max_ms = 400\nkeepalive_interval_s = {}\nkeepalive_count = 2\n\
             save_dir = \"{}\"\nmanage_networks = {}\n{}[database]\nurl = \"{database_url}\"\n",
            self.hostname,
            self.libvirt_uri,
            self.read_only,
            self.connect_timeout_ms,
            self.call_timeout_ms,
            self.keepalive_interval_s,
            self.save_dir
                .as_deref()
                .unwrap_or_else(|| std::path::Path::new("/var/lib/virtplane/save"))
                .display(),
            self.manage_networks,
            if self.storage_roots.is_empty() {
                String::new()
            } else {
                let roots: Vec<String> = self
                    .storage_roots
                    .iter()
                    .map(|r| format!("\"{}\"", r.display()))
                    .collect();
                format!("storage_roots = [{}]\n", roots.join(", "))
            },
        );
        self.render_events(&mut out);
        out.push_str(&self.host);
        if self.serve_stale {
            out.push_str("[inventory]\nwhen_stale = \"serve\"\n");
        }
        self.render_security(&mut out);
        for (table, wanted) in [
            ("health", self.health_listener),
            ("metrics", self.metrics_listener),
        ] {
            if wanted {
                let _ = writeln!(out, "[{table}]\nlisten = \"127.0.0.1:0\"");
            }
        }
        for broker in &self.brokers {
            broker.render(&mut out);
        }
        if let Some((broker, exchange)) = &self.notifications {
            let _ = writeln!(
                out,
                "[notifications]\nbroker = \"{broker}\"\nexchange = \"{exchange}\""
            );
        }
        for webhook in &self.webhooks {
            webhook.render(&mut out);
        }
        out
    }

    fn render_events(&self, out: &mut String) {
        let Events {
            queue_capacity,
            watch_buffer,
            resync_interval_s,
            retention_days,
        } = &self.events;
        let set = [
            ("queue_capacity", queue_capacity),
            ("watch_buffer", watch_buffer),
            ("resync_interval_s", resync_interval_s),
            ("retention_days", retention_days),
        ];
        if set.iter().any(|(_, value)| value.is_some()) {
            out.push_str("[events]\n");
            for (key, value) in set {
                if let Some(value) = value {
                    let _ = writeln!(out, "{key} = {value}");
                }
            }
        }
    }

    fn render_security(&self, out: &mut String) {
        for Token { name, role, secret } in &self.tokens {
            let role = match role {
                Role::Admin => "admin",
                Role::Reader => "reader",
            };
            let _ = writeln!(out, "[[auth.tokens]]\nname = \"{name}\"\nrole = \"{role}\"");
            match secret {
                Secret::Inline(token) => {
                    let _ = writeln!(out, "token = \"{token}\"");
                }
                Secret::File(path) => {
                    let _ = writeln!(out, "token_file = \"{}\"", path.display());
                }
            }
        }
        if let Some(Tls {
            cert,
            key,
            client_ca,
        }) = &self.tls
        {
            let _ = writeln!(
                out,
                "[tls]\ncert = \"{}\"\nkey = \"{}\"",
                cert.display(),
                key.display()
            );
            if let Some(ca) = client_ca {
                let _ = writeln!(out, "client_ca = \"{}\"", ca.display());
            }
        }
    }
}
