//! The holder against the in-process test driver: what keeps the connection.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use super::Hypervisor;
use crate::hypervisor::{
    BoxFuture, ConnectionListener, EventSink, HypervisorError, NextAttempt, Retry, Settings,
};

struct Quiet;

impl ConnectionListener for Quiet {
    fn connected(&self) -> BoxFuture<'_> {
        Box::pin(async {})
    }

    fn disconnected<'a>(&'a self, _reason: &'a str) -> BoxFuture<'a> {
        Box::pin(async {})
    }
}

/// The in-process test driver: a real libvirt connection.
fn test_driver() -> Hypervisor {
    holder("test:///default", Duration::from_millis(100))
}

fn holder(uri: &str, backoff: Duration) -> Hypervisor {
    let settings = Settings {
        uri: uri.into(),
        read_only: false,
        username: None,
        passphrase: None,
        connect_timeout: Duration::from_secs(5),
        call_timeout: Duration::from_secs(5),
        max_concurrent_calls: 4,
        reconnect_backoff_initial: backoff,
        reconnect_backoff_max: backoff * 4,
        keepalive_interval_secs: 5,
        keepalive_count: 3,
        save_dir: std::env::temp_dir(),
        storage_roots: Vec::new(),
        manage_networks: false,
    };
    let (sink, _source) = EventSink::new(16);
    Hypervisor::new(settings, Arc::new(Quiet), sink).expect("hypervisor")
}

async fn attempts_after(hypervisor: &Hypervisor, error: HypervisorError) -> HypervisorError {
    let failed = hypervisor
        .call("fail", Retry::Safe, move |_| Err::<(), _>(error.clone()))
        .await
        .expect_err("the operation fails");
    hypervisor
        .call("list", Retry::Safe, |conn| {
            conn.num_of_domains()
                .map_err(|e| HypervisorError::from_virt("list", &e))
        })
        .await
        .expect("the connection still works");
    failed
}

#[tokio::test]
async fn a_busy_domain_keeps_the_connection() {
    let hypervisor = test_driver();
    let busy = HypervisorError::Busy {
        operation: "start domain",
        message: "cannot acquire state change lock".into(),
    };
    let failed = attempts_after(&hypervisor, busy).await;
    assert!(
        matches!(&failed, HypervisorError::Busy { message, .. } if message.contains("state change lock"))
    );
    let status = hypervisor.status();
    assert_eq!(status.connect_attempts, 1, "no reconnect");
    assert!(status.connected);
    hypervisor.close().await;
}

#[tokio::test]
async fn a_loss_that_the_ping_disproves_keeps_the_connection() {
    let hypervisor = test_driver();
    let lost = HypervisorError::ConnectionLost {
        operation: "list",
        message: "broken pipe".into(),
    };
    let failed = attempts_after(&hypervisor, lost).await;
    assert!(
        matches!(&failed, HypervisorError::Unavailable { reason, .. } if reason.contains("still answers")),
        "{failed:?}"
    );
    let status = hypervisor.status();
    assert_eq!(status.connect_attempts, 1, "no reconnect");
    assert_eq!(status.reconnects, 0);
    assert!(status.connected);
    hypervisor.close().await;
}

#[tokio::test]
async fn a_failed_connect_tells_every_caller_the_moment_of_the_next_attempt() {
    // Nothing listens on port 1; the backoff outlasts the test.
    let hypervisor = holder("test+tcp://127.0.0.1:1/default", Duration::from_secs(60));
    let before = Instant::now();

    let first = hypervisor
        .ensure_connected()
        .await
        .expect_err("unreachable");
    let shared = hypervisor
        .ensure_connected()
        .await
        .expect_err("unreachable");

    let HypervisorError::Unavailable {
        next_attempt: NextAttempt::At(at),
        ..
    } = first
    else {
        panic!("{first:?}");
    };
    // Equal jitter: between half the initial delay and all of it.
    assert!(at >= before + Duration::from_secs(30), "{:?}", at - before);
    assert!(at <= Instant::now() + Duration::from_secs(60));
    assert!(
        matches!(shared, HypervisorError::Unavailable { next_attempt: NextAttempt::At(t), .. } if t == at),
        "a caller sharing the failure is told the same moment: {shared:?}"
    );
    assert_eq!(hypervisor.next_attempt(), NextAttempt::At(at));
    hypervisor.close().await;
    assert_eq!(hypervisor.next_attempt(), NextAttempt::Never);
}
