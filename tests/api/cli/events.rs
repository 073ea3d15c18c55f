//! `events watch`: each event printed once, and the watch resuming by itself after
//! the last id it printed when the service restarts.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use tokio::net::{TcpListener, TcpStream};

use crate::support::{CtlChild, Scratch, TEST_DRIVER, TestApp, TestOptions, unique_name};

/// A TCP relay on a fixed port to whichever service instance is current: the
/// service binds a new port each time it starts, a watcher keeps its address.
struct Relay {
    addr: SocketAddr,
    target: Arc<Mutex<SocketAddr>>,
    connections: Arc<Mutex<Vec<tokio::task::AbortHandle>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Relay {
    async fn start(target: SocketAddr) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("address");
        let target = Arc::new(Mutex::new(target));
        let connections = Arc::new(Mutex::new(Vec::new()));
        let (current, open) = (target.clone(), connections.clone());
        let task = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let to = *current.lock().expect("target");
                let relayed = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(to).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                open.lock()
                    .expect("connections")
                    .push(relayed.abort_handle());
            }
        });
        Relay {
            addr,
            target,
            connections,
            task,
        }
    }

    /// Sends new connections to `target` and cuts the open ones, as the exit of a
    /// service process would (an app stopped in-process leaves its connections to the
    /// test's runtime).
    fn point_at(&self, target: SocketAddr) {
        *self.target.lock().expect("target") = target;
        for connection in self.connections.lock().expect("connections").drain(..) {
            connection.abort();
        }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn event(line: &str) -> serde_json::Value {
    serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))
}

fn ids(lines: &[String]) -> Vec<i64> {
    lines
        .iter()
        .map(|line| {
            event(line)["id"]
                .as_str()
                .and_then(|id| id.parse().ok())
                .expect("an id")
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watch_prints_each_event_once_and_resumes_after_a_restart() {
    let scratch = Scratch::create();
    let options = TestOptions::new(TEST_DRIVER).hostname(unique_name("cli-watch"));
    let mut first = TestApp::spawn_in(options.clone(), &scratch).await;
    first.settled().await;
    let relay = Relay::start(first.addr).await;
    let addr = format!("http://{}", relay.addr);
    let watch = CtlChild::spawn(&["--addr", &addr, "events", "watch", "-o", "json"]);
    let before = unique_name("cli-before");
    let after = unique_name("cli-after");

    // The watch starts after the newest stored event: define until it sees one, so
    // the test does not depend on when the child process got its stream.
    let mut seen = Vec::new();
    for attempt in 0..20 {
        first.define(&format!("{before}-{attempt}")).await;
        if let Some(line) = watch.next_line(Duration::from_millis(500)).await {
            seen.push(line);
            break;
        }
    }
    assert!(!seen.is_empty(), "the watch printed the first event");
    first.stop().await;
    let mut second = TestApp::spawn_in(options, &scratch).await;
    relay.point_at(second.addr);
    second.settled().await;
    second.define(&after).await;
    seen.extend(watch.lines_until(&after, Duration::from_secs(30)).await);

    let first_name = event(&seen[0])["domainName"].as_str().map(str::to_owned);
    assert!(
        first_name.is_some_and(|n| n.starts_with(&before)),
        "{seen:#?}"
    );
    assert_eq!(event(&seen[0])["type"], "LIFECYCLE_EVENT_TYPE_DEFINED");
    let last = event(seen.last().expect("a line"));
    assert_eq!(last["type"], "LIFECYCLE_EVENT_TYPE_DEFINED");
    let ids = ids(&seen);
    assert!(
        ids.windows(2).all(|pair| pair[0] < pair[1]),
        "each event once, in order: {ids:?}"
    );
}
