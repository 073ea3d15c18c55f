//! The service in-process on 127.0.0.1:0: its scratch folder, its listeners and a
//! client for every service it serves.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    sync::Arc,
};

use tempfile::TempDir;
use tokio::{sync::oneshot, task::JoinHandle};
use tonic::transport::Channel;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};
use virtplane::{
    App,
    config::Config,
    grpc::pb::{
        domain_service_client::DomainServiceClient, guest_service_client::GuestServiceClient,
        host_service_client::HostServiceClient, network_service_client::NetworkServiceClient,
        pool_service_client::PoolServiceClient, publish_service_client::PublishServiceClient,
        snapshot_service_client::SnapshotServiceClient, stats_service_client::StatsServiceClient,
        webhook_service_client::WebhookServiceClient,
    },
};

use super::{TestOptions, logs::init_logs};

/// A scratch folder, removed when the last app or test holding it lets go: two apps
/// spawned in one share their SQLite file.
#[derive(Clone)]
pub struct Scratch(Arc<TempDir>);

impl Scratch {
    pub fn create() -> Scratch {
        Scratch(Arc::new(temp_dir()))
    }

    pub fn path(&self) -> &Path {
        self.0.path()
    }

    pub fn join(&self, file: &str) -> PathBuf {
        self.path().join(file)
    }

    /// The SQLite database an app spawned here uses unless told otherwise.
    pub fn sqlite_url(&self) -> String {
        format!("sqlite://{}", self.sqlite_file().display())
    }

    pub fn sqlite_file(&self) -> PathBuf {
        self.join("virtplane.db")
    }
}

/// A fresh temporary folder (for daemons that own theirs).
pub fn temp_dir() -> TempDir {
    tempfile::Builder::new()
        .prefix("virtplane-test-")
        .tempdir()
        .expect("scratch folder")
}

/// A running app, its scratch folder, and clients connected to it. With TLS the
/// clients are never connected: such a test makes its own.
pub struct TestApp {
    pub addr: SocketAddr,
    pub health_addr: Option<SocketAddr>,
    pub metrics_addr: Option<SocketAddr>,
    pub hostname: String,
    pub scratch: Scratch,
    /// The plaintext channel every client below uses.
    pub channel: Channel,
    pub domains: DomainServiceClient<Channel>,
    pub snapshots: SnapshotServiceClient<Channel>,
    pub stats: StatsServiceClient<Channel>,
    pub guests: GuestServiceClient<Channel>,
    pub networks: NetworkServiceClient<Channel>,
    pub host: HostServiceClient<Channel>,
    pub health: HealthClient<Channel>,
    pub publish: PublishServiceClient<Channel>,
    pub pools: PoolServiceClient<Channel>,
    pub webhooks: WebhookServiceClient<Channel>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<anyhow::Result<()>>>,
}

impl TestApp {
    /// Starts the app with `options` in a scratch folder of its own.
    pub async fn spawn(options: TestOptions) -> TestApp {
        TestApp::spawn_in(options, &Scratch::create()).await
    }

    /// Starts the app in `scratch`, where an earlier app may have left its database.
    pub async fn spawn_in(mut options: TestOptions, scratch: &Scratch) -> TestApp {
        init_logs();
        if options.save_dir.is_none() {
            options.save_dir = Some(scratch.join("save"));
        }
        let database_url = options
            .database_url
            .clone()
            .unwrap_or_else(|| scratch.sqlite_url());
        let config =
            Config::from_toml(&options.render(&database_url)).expect("test configuration is valid");
        let plaintext = config.tls.is_none();
        let app = App::build(config).await.expect("app builds");
        let addr = app.local_addr().expect("bound");
        let (health_addr, metrics_addr) = (app.health_addr(), app.metrics_addr());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(app.run(async {
            let _ = stopped.await;
        }));
        let endpoint = Channel::from_shared(format!("http://{addr}")).expect("uri");
        let channel = if plaintext {
            endpoint.connect().await.expect("client connects")
        } else {
            endpoint.connect_lazy()
        };
        TestApp {
            addr,
            health_addr,
            metrics_addr,
            hostname: options.hostname.clone(),
            scratch: scratch.clone(),
            domains: DomainServiceClient::new(channel.clone()),
            snapshots: SnapshotServiceClient::new(channel.clone()),
            stats: StatsServiceClient::new(channel.clone()),
            guests: GuestServiceClient::new(channel.clone()),
            networks: NetworkServiceClient::new(channel.clone()),
            host: HostServiceClient::new(channel.clone()),
            health: HealthClient::new(channel.clone()),
            publish: PublishServiceClient::new(channel.clone()),
            pools: PoolServiceClient::new(channel.clone()),
            webhooks: WebhookServiceClient::new(channel.clone()),
            channel,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Shuts the app down gracefully and waits for it.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("app task").expect("app ran cleanly");
        }
    }

    /// Waits for the app to end by itself (it was not told to stop) and returns how.
    pub async fn outcome(mut self) -> anyhow::Result<()> {
        let task = self.task.take().expect("still running");
        task.await.expect("app task")
    }

    /// The health status of one service ("" for the server as a whole).
    pub async fn health_of(&mut self, service: &str) -> i32 {
        self.health
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await
            .expect("health check")
            .into_inner()
            .status
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
