//! The holder against the in-process test driver: what keeps the connection.

use std::{sync::Arc, time::Duration};

use super::Hypervisor;
use crate::hypervisor::{
    BoxFuture, ConnectionListener, EventSink, HypervisorError, Retry, Settings,
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
    let settings = Settings {
        uri: "test:///default".into(),
        read_only: false,
        username: None,
        passphrase: None,
        connect_timeout: Duration::from_secs(5),
        call_timeout: Duration::from_secs(5),
        max_concurrent_calls: 4,
        reconnect_backoff_initial: Duration::from_millis(100),
        reconnect_backoff_max: Duration::from_millis(400),
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
