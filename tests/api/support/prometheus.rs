//! A real Prometheus server (Debian's `prometheus` package) on a free loopback port,
//! scraping one target every second and evaluating rule files, with its storage in
//! a scratch folder; killed when dropped. Queried over its HTTP API.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::Duration,
};

use serde_json::Value;
use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::app::temp_dir;

/// A running Prometheus and its scratch folder (configuration, storage, log).
pub struct PrometheusServer {
    pub addr: SocketAddr,
    child: Child,
    dir: TempDir,
}

impl PrometheusServer {
    /// Starts Prometheus scraping `target`'s `/metrics` every second and evaluating
    /// `rule_files` every second, and waits until its API answers.
    pub async fn start(target: SocketAddr, rule_files: &[PathBuf]) -> PrometheusServer {
        let mut dir = temp_dir();
        let rules: String = rule_files
            .iter()
            .map(|f| format!("  - {}\n", f.display()))
            .collect();
        let config = format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n\
             rule_files:\n{rules}\
             scrape_configs:\n  - job_name: virtplane\n    static_configs:\n\
             \x20     - targets: [\"{target}\"]\n"
        );
        std::fs::write(dir.path().join("prometheus.yml"), config).expect("write the config");
        // The port is free when picked but another process may take it before
        // Prometheus binds it: a server that exits is started again on another.
        for _ in 0..3 {
            let mut server = PrometheusServer::spawn(dir);
            if server.wait_ready().await {
                return server;
            }
            // Dropping the server stops it; its folder (config, log) serves the next.
            dir = std::mem::replace(&mut server.dir, temp_dir());
        }
        panic!("Prometheus did not start:\n{}", read_log(dir.path()));
    }

    fn spawn(dir: TempDir) -> PrometheusServer {
        let addr = free_port();
        let log = std::fs::File::create(dir.path().join("prometheus.log")).expect("log file");
        let child = Command::new("prometheus")
            .arg(format!(
                "--config.file={}",
                dir.path().join("prometheus.yml").display()
            ))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address={addr}"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("prometheus runs (make test installs Debian's prometheus package)");
        PrometheusServer { addr, child, dir }
    }

    /// Whether the API answers ready before the process exits (60 s at most).
    async fn wait_ready(&mut self) -> bool {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        while tokio::time::Instant::now() < deadline {
            if matches!(get(self.addr, "/-/ready").await, Ok((200, _))) {
                return true;
            }
            if self.child.try_wait().ok().flatten().is_some() {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        false
    }

    /// Prometheus's own log, for failure messages.
    pub fn log(&self) -> String {
        read_log(self.dir.path())
    }

    /// `GET path` on the API: the `data` of a `"status": "success"` answer, or the
    /// error Prometheus gave.
    pub async fn api(&self, path: &str) -> Result<Value, String> {
        let (status, body) = get(self.addr, path).await?;
        let json: Value = serde_json::from_str(&body)
            .map_err(|e| format!("HTTP {status}, not JSON ({e}): {body}"))?;
        if json["status"] == "success" {
            Ok(json["data"].clone())
        } else {
            Err(format!(
                "HTTP {status}: {} {}",
                json["errorType"], json["error"]
            ))
        }
    }

    /// An instant query: the series of its vector (or matrix) result.
    pub async fn query(&self, promql: &str) -> Result<Vec<Value>, String> {
        let data = self
            .api(&format!("/api/v1/query?query={}", encode(promql)))
            .await?;
        match data["resultType"].as_str() {
            Some("vector" | "matrix") => Ok(data["result"].as_array().cloned().unwrap_or_default()),
            other => Err(format!("result type {other:?}, not a vector")),
        }
    }
}

impl Drop for PrometheusServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn read_log(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("prometheus.log")).unwrap_or_default()
}

/// A loopback address nothing listens on now (Prometheus binds it itself).
fn free_port() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("addr")
}

/// Query strings: everything but the unreserved characters percent-encoded.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// One HTTP/1.0 GET: the answer is neither chunked nor kept alive, so reading to the
/// end of the stream reads exactly the body.
async fn get(addr: SocketAddr, path: &str) -> Result<(u16, String), String> {
    let mut stream = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connect to Prometheus: {e}"))?;
    stream
        .write_all(format!("GET {path} HTTP/1.0\r\nHost: prometheus\r\n\r\n").as_bytes())
        .await
        .map_err(|e| format!("send: {e}"))?;
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .await
        .map_err(|e| format!("read: {e}"))?;
    let (head, body) = response
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("no HTTP header in {response:?}"))?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("no status in {head:?}"))?;
    Ok((status, body.to_owned()))
}

/// The repository's `deploy/monitoring` folder.
pub fn monitoring_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/monitoring"))
}
