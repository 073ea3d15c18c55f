//! Broker connections closed or restarted under load lose no confirmed message.

use std::time::Duration;

use tonic::Code;

use crate::support::{
    Broker,
    amqp::{TestQueue, app_with, guest_url, request},
    rabbitmq::rabbitmqctl,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_every_broker_connection_loses_no_confirmed_message() {
    let queue = TestQueue::new().await;
    let app = app_with(
        Broker::new("main", guest_url())
            .max_connections(4)
            .max_retries(5)
            .interval_start_ms(50)
            .interval_step_ms(100),
    )
    .await;
    let publish = app.publish.clone();
    let load = (0..4).map(|worker| {
        let mut client = publish.clone();
        let queue = queue.name.clone();
        tokio::spawn(async move {
            let (mut ok, mut failed) = (0, Vec::new());
            for i in 0..150 {
                match client
                    .publish(request(&queue, format!("{worker}-{i}").as_bytes()))
                    .await
                {
                    Ok(_) => ok += 1,
                    Err(status) => failed.push(status),
                }
            }
            (ok, failed)
        })
    });
    let load: Vec<_> = load.collect();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let out = tokio::task::spawn_blocking(|| {
        rabbitmqctl(&["close_all_connections", "test: broker-side kill"])
    })
    .await
    .expect("rabbitmqctl");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let mut confirmed = 0;
    for worker in load {
        let (ok, failed) = worker.await.expect("worker");
        confirmed += ok;
        for status in failed {
            assert_eq!(
                status.code(),
                Code::Unavailable,
                "a clear error: {status:?}"
            );
        }
    }
    // The test's own reading connection was closed too: read with a new one.
    let reader = TestQueue::reopen(&queue.name).await;
    let stored = reader.drain().await.len();
    assert!(
        stored >= confirmed,
        "{confirmed} publishes returned OK but only {stored} are in the queue"
    );
    assert!(confirmed > 0);

    let mut client = publish.clone();
    client
        .publish(request(&queue.name, b"after"))
        .await
        .expect("publishing works again");
    reader.delete().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_restart_during_load_loses_no_confirmed_message() {
    let queue = TestQueue::new().await;
    let app = app_with(
        Broker::new("main", guest_url())
            .max_retries(4)
            .interval_start_ms(100)
            .interval_step_ms(200)
            .interval_max_ms(800),
    )
    .await;
    let publish = app.publish.clone();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let load: Vec<_> = (0..2)
        .map(|worker| {
            let mut client = publish.clone();
            let queue = queue.name.clone();
            let stop = std::sync::Arc::clone(&stop);
            tokio::spawn(async move {
                let (mut ok, mut failed, mut i) = (0, Vec::new(), 0);
                while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                    match client
                        .publish(request(&queue, format!("{worker}-{i}").as_bytes()))
                        .await
                    {
                        Ok(_) => ok += 1,
                        Err(status) => failed.push(status),
                    }
                    i += 1;
                }
                (ok, failed)
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(200)).await;
    tokio::task::spawn_blocking(|| {
        for args in [
            &["stop_app"][..],
            &["start_app"][..],
            &["await_startup"][..],
        ] {
            let out = rabbitmqctl(args);
            assert!(
                out.status.success(),
                "rabbitmqctl {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    })
    .await
    .expect("broker restart");
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, std::sync::atomic::Ordering::SeqCst);

    let mut confirmed = 0;
    for worker in load {
        let (ok, failed) = worker.await.expect("worker");
        confirmed += ok;
        for status in failed {
            assert!(
                matches!(status.code(), Code::Unavailable | Code::ResourceExhausted),
                "a clear error: {status:?}"
            );
        }
    }
    let reader = TestQueue::reopen(&queue.name).await;
    let stored = reader.drain().await.len();
    assert!(
        stored >= confirmed,
        "{confirmed} publishes returned OK but only {stored} survived the restart"
    );
    let mut client = publish.clone();
    client
        .publish(request(&reader.name, b"after"))
        .await
        .expect("publishing works again");
    reader.delete().await;
}
