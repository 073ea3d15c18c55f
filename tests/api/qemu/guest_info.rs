//! GetGuestInfo of a QEMU guest without a guest agent: a prompt, clear refusal.

use std::time::{Duration, Instant};

use tonic::Code;
use virtplane::grpc::pb;

use super::guest::{app_on, bios};
use crate::support::qemu::QemuDaemon;

#[tokio::test]
async fn a_guest_without_an_agent_is_refused_at_once_saying_so() {
    let daemon = QemuDaemon::start();
    let mut app = app_on(&daemon).await;
    let name = bios(&mut app, "no-agent").await;
    let clock = Instant::now();
    let status = app
        .guests
        .get_guest_info(pb::GetGuestInfoRequest {
            domain: name,
            ..Default::default()
        })
        .await
        .expect_err("no agent");
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert!(
        status.message().contains("guest agent"),
        "{}",
        status.message()
    );
    assert!(
        clock.elapsed() < Duration::from_secs(10),
        "{:?}",
        clock.elapsed()
    );
    app.stop().await;
}
