//! Test helpers: spawn the app on port 0, private libvirtd daemons, scratch databases.

pub mod http_server;
pub mod libvirtd;
pub mod pki;
pub mod postgres;
pub mod rabbitmq;

use std::{net::SocketAddr, time::Duration};

use tempfile::TempDir;
use tokio::{sync::oneshot, task::JoinHandle};
use tonic::transport::Channel;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};
use virtplane::{
    App,
    config::Config,
    grpc::pb::{
        domain_service_client::DomainServiceClient, host_service_client::HostServiceClient,
    },
};

/// libvirt's built-in test hypervisor, in-process.
pub const TEST_DRIVER: &str = "test:///default";

/// What a test wants the app to run with.
#[derive(Debug, Clone)]
pub struct TestOptions {
    pub libvirt_uri: String,
    /// `None`: a fresh SQLite file in the test's scratch folder.
    pub database_url: Option<String>,
    pub hostname: String,
    pub extra_toml: String,
    pub read_only: bool,
    pub keepalive_interval_s: u32,
    pub connect_timeout_ms: u64,
    pub call_timeout_ms: u64,
}

impl TestOptions {
    pub fn new(libvirt_uri: impl Into<String>) -> Self {
        TestOptions {
            libvirt_uri: libvirt_uri.into(),
            database_url: None,
            hostname: unique_name("host"),
            extra_toml: String::new(),
            read_only: false,
            keepalive_interval_s: 1,
            connect_timeout_ms: 5000,
            call_timeout_ms: 10000,
        }
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
}

/// A running app and clients connected to it.
pub struct TestApp {
    pub addr: SocketAddr,
    pub health_addr: Option<SocketAddr>,
    pub metrics_addr: Option<SocketAddr>,
    pub hostname: String,
    pub domains: DomainServiceClient<Channel>,
    pub host: HostServiceClient<Channel>,
    pub health: HealthClient<Channel>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<anyhow::Result<()>>>,
}

/// A scratch folder that lives as long as the test keeps it.
pub fn scratch() -> TempDir {
    tempfile::Builder::new()
        .prefix("virtplane-test-")
        .tempdir()
        .expect("scratch folder")
}

/// Starts the app on 127.0.0.1:0 with `options`; SQLite files go into `scratch`.
pub async fn spawn_app(options: TestOptions, scratch: &std::path::Path) -> TestApp {
    init_logs();
    let database_url = options
        .database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}/virtplane.db", scratch.display()));
    let toml = format!(
        r#"
listen = "127.0.0.1:0"
hostname = "{hostname}"
shutdown_grace_period_ms = 2000
[libvirt]
uri = "{uri}"
read_only = {read_only}
connect_timeout_ms = {connect_timeout}
call_timeout_ms = {call_timeout}
reconnect_backoff_initial_ms = 100
reconnect_backoff_max_ms = 400
keepalive_interval_s = {keepalive}
keepalive_count = 2
[database]
url = "{database_url}"
{extra}
"#,
        hostname = options.hostname,
        uri = options.libvirt_uri,
        read_only = options.read_only,
        keepalive = options.keepalive_interval_s,
        connect_timeout = options.connect_timeout_ms,
        call_timeout = options.call_timeout_ms,
        extra = options.extra_toml,
    );
    let config = Config::from_toml(&toml).expect("test configuration is valid");
    let plaintext = config.tls.is_none();
    let app = App::build(config).await.expect("app builds");
    let addr = app.local_addr().expect("bound");
    let (health_addr, metrics_addr) = (app.health_addr(), app.metrics_addr());
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(app.run(async {
        let _ = stopped.await;
    }));
    let endpoint = Channel::from_shared(format!("http://{addr}")).expect("uri");
    // With TLS a test makes its own clients; these are never connected.
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
        domains: DomainServiceClient::new(channel.clone()),
        host: HostServiceClient::new(channel.clone()),
        health: HealthClient::new(channel),
        stop: Some(stop),
        task: Some(task),
    }
}

impl TestApp {
    /// Waits until the start-up reconciliation is recorded, so what a test does next
    /// is reported as itself rather than as part of the first inventory.
    pub async fn settled(&mut self) {
        let client = self.host.clone();
        eventually(Duration::from_secs(10), "the first reconciliation", || {
            let mut client = client.clone();
            async move {
                client
                    .get_host(virtplane::grpc::pb::GetHostRequest {})
                    .await
                    .is_ok_and(|h| h.into_inner().reconciliations > 0)
            }
        })
        .await;
    }

    /// Shuts the app down gracefully and waits for it.
    pub async fn stop(mut self) {
        self.stop_in_place().await;
    }

    async fn stop_in_place(&mut self) {
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

/// A name no other test (or earlier run) uses.
pub fn unique_name(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!(
        "{prefix}-{}-{nanos}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// Minimal domain XML the test driver accepts.
pub fn domain_xml(name: &str) -> String {
    format!(
        "<domain type='test'><name>{name}</name><memory unit='KiB'>131072</memory>\
         <vcpu>2</vcpu><os><type arch='x86_64'>hvm</type></os></domain>"
    )
}

/// Polls `check` until it returns true or `timeout` passes.
pub async fn eventually<F, Fut>(timeout: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if check().await {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {timeout:?} waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Everything the service logs from now on, for tests that look for leaks.
#[derive(Clone, Default)]
pub struct CapturedLogs(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl CapturedLogs {
    pub fn contents(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("logs")).into_owned()
    }
}

impl std::io::Write for CapturedLogs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("logs").extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Installs a subscriber recording every level of every target (one per test process).
pub fn capture_logs() -> CapturedLogs {
    let logs = CapturedLogs::default();
    let writer = logs.clone();
    let _ = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .try_init();
    logs
}

/// Logs only when TEST_LOG is set, so failures can be debugged without noisy runs.
fn init_logs() {
    use tracing_subscriber::{layer::SubscriberExt, util::SubscriberInitExt};
    if let Ok(spec) = std::env::var("TEST_LOG") {
        let _ = tracing_subscriber::registry()
            .with(virtplane::telemetry::filter_from(Some(spec)))
            .with(tracing_subscriber::fmt::layer().with_test_writer())
            .try_init();
    }
}

/// The real `virtplane` binary, running, with its log lines on a channel.
pub struct Binary {
    /// Taken by a wait; a binary dropped without one (a failed test) is killed.
    child: Option<std::process::Child>,
    /// The API address it announced.
    pub addr: String,
    lines: std::sync::mpsc::Receiver<String>,
}

impl Binary {
    /// Starts the binary with `args` and `env` and waits for "virtplane serving".
    pub fn start(args: &[&str], env: &[(&str, &str)]) -> Binary {
        Binary::start_until(args, env, "virtplane serving").0
    }

    /// Starts the binary and waits for a log line containing `marker` that names the
    /// API address (`addr=`); returns it with that line.
    pub fn start_until(args: &[&str], env: &[(&str, &str)], marker: &str) -> (Binary, String) {
        use std::io::BufRead;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_virtplane"))
            .args(args)
            .envs(env.iter().copied())
            .env("NO_COLOR", "1")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("starts");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                let _ = tx.send(line);
            }
        });
        let line = lines
            .iter()
            .find(|line| line.contains(marker))
            .unwrap_or_else(|| panic!("no log line contains {marker:?}"));
        let addr = line
            .split_whitespace()
            .find_map(|w| w.strip_prefix("addr="))
            .map(str::to_owned)
            .expect("the line names the address");
        (
            Binary {
                child: Some(child),
                addr,
                lines,
            },
            line,
        )
    }

    /// Waits (off the runtime) up to `timeout` for a log line containing `marker`.
    pub async fn line_containing(&self, marker: &str, timeout: Duration) -> Option<String> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match tokio::task::block_in_place(|| {
                self.lines
                    .recv_timeout(left.min(Duration::from_millis(200)))
            }) {
                Ok(line) if line.contains(marker) => return Some(line),
                Ok(_) => {}
                Err(_) if left.is_zero() => return None,
                Err(_) => tokio::task::yield_now().await,
            }
        }
    }

    fn take(&mut self) -> (std::process::Child, std::sync::mpsc::Receiver<String>) {
        let child = self.child.take().expect("waited for once");
        let lines = std::mem::replace(&mut self.lines, std::sync::mpsc::channel().1);
        (child, lines)
    }

    fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, std::process::Child::id)
    }

    pub fn signal(&self, signal: &str) {
        let status = std::process::Command::new("kill")
            .args([&format!("-{signal}"), &self.pid().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
    }

    /// Like [`Binary::wait`], but a process still running after `limit` is killed and
    /// the test fails: it hung.
    pub async fn wait_within(mut self, limit: Duration) -> (std::process::ExitStatus, Vec<String>) {
        let (mut child, lines) = self.take();
        tokio::task::spawn_blocking(move || {
            let deadline = std::time::Instant::now() + limit;
            let status = loop {
                if let Some(status) = child.try_wait().expect("wait") {
                    break status;
                }
                if std::time::Instant::now() >= deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    let seen: Vec<String> = lines.try_iter().collect();
                    panic!("still running {limit:?} after the signal; its last lines: {seen:#?}");
                }
                std::thread::sleep(Duration::from_millis(20));
            };
            let rest =
                std::iter::from_fn(|| lines.recv_timeout(Duration::from_secs(5)).ok()).collect();
            (status, rest)
        })
        .await
        .expect("the process ended in time")
    }

    /// Waits for the process off the runtime (clients in the test must be able to
    /// answer the server's GOAWAY), then for its last log lines.
    pub async fn wait(mut self) -> (std::process::ExitStatus, Vec<String>) {
        let (mut child, lines) = self.take();
        tokio::task::spawn_blocking(move || {
            let status = child.wait().expect("wait");
            let rest =
                std::iter::from_fn(|| lines.recv_timeout(Duration::from_secs(5)).ok()).collect();
            (status, rest)
        })
        .await
        .expect("join")
    }
}

impl Drop for Binary {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
