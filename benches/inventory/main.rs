//! Inventory benchmark: reads at host scale, on a private libvirtd (test driver) and
//! in process, each figure beside its baseline from the same run.
//!
//! - freshness: a change made by another libvirt client, until `GetDomain` shows it;
//! - 64 concurrent `GetDomain` callers (from the inventory, and LIVE) against a plain
//!   python-libvirt client (one connection, 4 threads, five reads per call) on the
//!   same daemon;
//! - `ListDomains` over 1,000 domains (a page of 100, and all of them in pages)
//!   against one bulk-stats round trip per page;
//! - in process (`test:///default`): 64 `GetDomain` callers against `Health/Check`
//!   on the same server.
//!
//! Run with `cargo bench --bench inventory` (python3-libvirt for the baseline).
//! Figures, not assertions.

#[allow(
    dead_code,
    reason = "shared by the benches; this one never kills its daemon"
)]
#[path = "../common/private_libvirtd.rs"]
mod daemon;
mod listing;
mod load;
mod reads;

use std::time::Duration;

use virtplane::{App, config::Config};

use daemon::PrivateLibvirtd;

/// Concurrent callers, as the load tool's virtual users.
const CALLERS: usize = 64;
/// How long each throughput run lasts.
const WINDOW: Duration = Duration::from_secs(4);

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let daemon = PrivateLibvirtd::start();
    let uri = daemon.uri();
    runtime.block_on(async {
        println!("inventory benchmark\n");
        let remote = Service::start(&uri).await;
        reads::freshness(&remote, &uri).await;
        reads::concurrent_get(&remote, &uri).await;
        listing::thousand_domains(&remote, &uri).await;
        remote.stop().await;

        let local = Service::start("test:///default").await;
        reads::in_process(&local).await;
        local.stop().await;
    });
}

/// The service, in this process, on a scratch database.
#[derive(Debug)]
pub(crate) struct Service {
    pub(crate) addr: String,
    stop: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<anyhow::Result<()>>,
    _dir: tempfile::TempDir,
}

impl Service {
    async fn start(uri: &str) -> Service {
        let dir = tempfile::tempdir().expect("tempdir");
        let toml = format!(
            "listen = \"127.0.0.1:0\"\nhostname = \"bench\"\n[libvirt]\nuri = \"{uri}\"\n\
             [database]\nurl = \"sqlite://{}/bench.db\"\n",
            dir.path().display()
        );
        let app = App::build(Config::from_toml(&toml).expect("config"))
            .await
            .expect("app");
        let addr = format!("http://{}", app.local_addr().expect("addr"));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(app.run(async {
            let _ = stopped.await;
        }));
        // Until the first refill: reads before it are answered LIVE, which would
        // blur the first figures.
        tokio::time::sleep(Duration::from_millis(500)).await;
        Service {
            addr,
            stop,
            server,
            _dir: dir,
        }
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.server.await;
    }
}

/// One line of the report: a label and its figures.
pub(crate) fn row(label: &str, figures: &str) {
    println!("{label:<58} {figures}");
}
