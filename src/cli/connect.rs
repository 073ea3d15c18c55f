//! Reaching the service: address, bearer token and TLS from flags or `VIRTPLANE_*`
//! variables, one lazily connected channel, and a client of each service on it.

use std::{fmt, path::PathBuf, time::Duration};

use tonic::{
    Request, Status,
    metadata::{AsciiMetadataValue, MetadataValue},
    service::{Interceptor, interceptor::InterceptedService},
    transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity},
};

use super::{error::CliError, output::Printer};
use crate::grpc::pb::{
    console_service_client::ConsoleServiceClient, device_service_client::DeviceServiceClient,
    domain_service_client::DomainServiceClient, guest_service_client::GuestServiceClient,
    host_service_client::HostServiceClient, network_service_client::NetworkServiceClient,
    pool_service_client::PoolServiceClient, publish_service_client::PublishServiceClient,
    snapshot_service_client::SnapshotServiceClient, stats_service_client::StatsServiceClient,
    storage_service_client::StorageServiceClient, webhook_service_client::WebhookServiceClient,
};

/// The channel every client uses, with the token added to each call.
pub(crate) type Conn = InterceptedService<Channel, BearerToken>;

/// Where the service is and how to prove who we are.
#[derive(Debug, clap::Args)]
pub(crate) struct Connection {
    /// The service's address; `host:port` alone means http, or https with TLS options.
    #[arg(
        long,
        global = true,
        env = "VIRTPLANE_ADDR",
        default_value = "http://127.0.0.1:50051"
    )]
    addr: String,
    /// A bearer token (prefer --token-file: arguments are visible to other users).
    #[arg(long, global = true, env = "VIRTPLANE_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// A file holding the bearer token (surrounding whitespace is ignored).
    #[arg(long, global = true, env = "VIRTPLANE_TOKEN_FILE", value_name = "PATH")]
    token_file: Option<PathBuf>,
    /// The CA certificate (PEM) that signed the service's certificate; turns TLS on.
    #[arg(long, global = true, env = "VIRTPLANE_CACERT", value_name = "PATH")]
    cacert: Option<PathBuf>,
    /// A client certificate (PEM) for mutual TLS, with --key.
    #[arg(long, global = true, env = "VIRTPLANE_CERT", value_name = "PATH")]
    cert: Option<PathBuf>,
    /// The client certificate's private key (PEM).
    #[arg(long, global = true, env = "VIRTPLANE_KEY", value_name = "PATH")]
    key: Option<PathBuf>,
    /// Give up on a call after this many seconds; a watch or a console only on its
    /// start. Default: wait as long as the call takes.
    #[arg(long, global = true, env = "VIRTPLANE_TIMEOUT", value_name = "SECONDS")]
    timeout: Option<u64>,
    /// The name the service's certificate must carry, when not the address's host.
    #[arg(
        long,
        global = true,
        env = "VIRTPLANE_TLS_SERVER_NAME",
        value_name = "NAME"
    )]
    tls_server_name: Option<String>,
}

impl Connection {
    /// A channel that connects on its first call (so a failure to connect reads like
    /// any other UNAVAILABLE answer), with the token on every call.
    pub(crate) fn connect(&self) -> Result<Conn, CliError> {
        let tls = self.cacert.is_some() || self.cert.is_some() || self.addr.starts_with("https:");
        let addr = match (self.addr.contains("://"), tls) {
            (true, true) => self.addr.replacen("http://", "https://", 1),
            (true, false) => self.addr.clone(),
            (false, true) => format!("https://{}", self.addr),
            (false, false) => format!("http://{}", self.addr),
        };
        let mut endpoint = Endpoint::from_shared(addr.clone())
            .map_err(|e| CliError::usage(format!("--addr {addr}: {e}")))?
            .connect_timeout(Duration::from_secs(5))
            // A watch must notice a peer that vanished without closing the connection.
            .http2_keep_alive_interval(Duration::from_secs(15))
            .keep_alive_timeout(Duration::from_secs(10))
            .keep_alive_while_idle(true);
        if let Some(seconds) = self.timeout {
            endpoint = endpoint.timeout(Duration::from_secs(seconds));
        }
        if tls {
            endpoint = endpoint
                .tls_config(self.tls()?)
                .map_err(|e| CliError::usage(format!("TLS settings: {e}")))?;
        }
        Ok(InterceptedService::new(
            endpoint.connect_lazy(),
            BearerToken::new(self.token()?)?,
        ))
    }

    fn tls(&self) -> Result<ClientTlsConfig, CliError> {
        let mut tls = ClientTlsConfig::new();
        tls = match &self.cacert {
            Some(path) => tls.ca_certificate(Certificate::from_pem(read("--cacert", path)?)),
            None => tls.with_native_roots(),
        };
        match (&self.cert, &self.key) {
            (Some(cert), Some(key)) => {
                tls = tls.identity(Identity::from_pem(
                    read("--cert", cert)?,
                    read("--key", key)?,
                ));
            }
            (None, None) => {}
            _ => return Err(CliError::usage("--cert and --key go together")),
        }
        if let Some(name) = &self.tls_server_name {
            tls = tls.domain_name(name);
        }
        Ok(tls)
    }

    /// The token: `--token` wins over `--token-file`.
    fn token(&self) -> Result<Option<String>, CliError> {
        if let Some(token) = &self.token {
            return Ok(Some(token.trim().to_owned()));
        }
        let Some(path) = &self.token_file else {
            return Ok(None);
        };
        let text = String::from_utf8(read("--token-file", path)?)
            .map_err(|_| CliError::usage(format!("--token-file {}: not UTF-8", path.display())))?;
        Ok(Some(text.trim().to_owned()))
    }
}

fn read(flag: &str, path: &std::path::Path) -> Result<Vec<u8>, CliError> {
    std::fs::read(path).map_err(|e| CliError::usage(format!("{flag} {}: {e}", path.display())))
}

/// Adds `authorization: Bearer <token>` to every call; its `Debug` hides the token.
#[derive(Clone)]
pub(crate) struct BearerToken(Option<AsciiMetadataValue>);

impl BearerToken {
    fn new(token: Option<String>) -> Result<Self, CliError> {
        let Some(token) = token else {
            return Ok(BearerToken(None));
        };
        if token.is_empty() {
            return Err(CliError::usage("the token is empty"));
        }
        let mut value: AsciiMetadataValue = MetadataValue::try_from(format!("Bearer {token}"))
            .map_err(|_| CliError::usage("the token holds characters a header cannot carry"))?;
        value.set_sensitive(true);
        Ok(BearerToken(Some(value)))
    }
}

impl fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() {
            "Bearer ***"
        } else {
            "none"
        })
    }
}

impl Interceptor for BearerToken {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        if let Some(value) = &self.0 {
            request
                .metadata_mut()
                .insert("authorization", value.clone());
        }
        Ok(request)
    }
}

/// What a command needs: the connection and the printer.
#[derive(Debug)]
pub(crate) struct Ctx {
    conn: Conn,
    pub(crate) out: Printer,
}

macro_rules! clients {
    ($($method:ident: $client:ident),* $(,)?) => {
        impl Ctx {
            $(
                pub(crate) fn $method(&self) -> $client<Conn> {
                    $client::new(self.conn.clone())
                }
            )*
        }
    };
}

clients!(
    domains: DomainServiceClient,
    host: HostServiceClient,
    publish: PublishServiceClient,
    pools: PoolServiceClient,
    webhooks: WebhookServiceClient,
    snapshots: SnapshotServiceClient,
    devices: DeviceServiceClient,
    stats: StatsServiceClient,
    guest: GuestServiceClient,
    console: ConsoleServiceClient,
    storage: StorageServiceClient,
    networks: NetworkServiceClient,
);

impl Ctx {
    pub(crate) fn new(conn: Conn, out: Printer) -> Self {
        Ctx { conn, out }
    }
}
