//! The watching side: a real agent on the fleet's database and one gRPC watch per
//! simulated host, each event timed from its creation to its arrival.

use std::time::Duration;

use tokio::sync::oneshot;
use virtplane::{App, config::Config, grpc::pb, hypervisor::now_micros};

use crate::{DRAIN, RUN, Watched};

/// A real agent on the fleet's database (libvirt's test driver for its own host),
/// serving watches of the simulated hosts; stopped through the returned sender.
pub(crate) async fn watching_agent(url: &str) -> (std::net::SocketAddr, oneshot::Sender<()>) {
    let dir = tempfile::tempdir().expect("tempdir").keep();
    let toml = format!(
        "listen = \"127.0.0.1:0\"\nhostname = \"bench-watcher\"\n\
         [libvirt]\nuri = \"test:///default\"\nsave_dir = \"{}/save\"\n\
         [database]\nurl = \"{url}\"\nmax_connections = 5\n",
        dir.display()
    );
    let app = App::build(Config::from_toml(&toml).expect("config"))
        .await
        .expect("the watching agent");
    let addr = app.local_addr().expect("addr");
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(app.run(async {
        let _ = stopped.await;
    }));
    (addr, stop)
}

/// One host's watch: each event's latency from its creation, until as many events as
/// its agent persisted (told once the agent is done) arrived, or `DRAIN` passed.
pub(crate) async fn watch(
    mut stream: tonic::Streaming<pb::LifecycleEvent>,
    expected: oneshot::Receiver<usize>,
) -> Watched {
    let mut watched = Watched::default();
    let mut expected = std::pin::pin!(expected);
    let mut total: Option<usize> = None;
    let mut drain_until: Option<tokio::time::Instant> = None;
    loop {
        if total.is_some_and(|t| watched.to_watcher.len() >= t) {
            return watched;
        }
        let until = drain_until.unwrap_or_else(|| tokio::time::Instant::now() + RUN * 10);
        tokio::select! {
            message = stream.message() => {
                let event = message.expect("the watch goes on").expect("the stream stays open");
                let occurred = event.occurred_at.expect("occurred_at");
                let micros = occurred.seconds * 1_000_000 + i64::from(occurred.nanos) / 1000;
                let waited = u64::try_from(now_micros() - micros).unwrap_or_default();
                watched.to_watcher.push(Duration::from_micros(waited));
            }
            told = &mut expected, if total.is_none() => {
                total = Some(told.expect("the agent's count"));
                drain_until = Some(tokio::time::Instant::now() + DRAIN);
            }
            () = tokio::time::sleep_until(until) => {
                watched.missing = total.unwrap_or_default().saturating_sub(watched.to_watcher.len());
                return watched;
            }
        }
    }
}
