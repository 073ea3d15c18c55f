//! The request-id wrapper's tests: act once, replay, refusals, concurrency, restarts.

use std::sync::atomic::{AtomicUsize, Ordering};

use super::*;
use crate::{secret::Secret, store::Settings as StoreSettings};

const METHOD: &str = "/test.Service/Act";

#[derive(Clone, PartialEq, prost::Message)]
struct Ask {
    #[prost(string, tag = "1")]
    request_id: String,
    #[prost(string, tag = "2")]
    text: String,
}

#[derive(Clone, PartialEq, prost::Message)]
struct Answer {
    #[prost(uint64, tag = "1")]
    count: u64,
}

async fn store_in(dir: &tempfile::TempDir) -> Store {
    Store::connect(&StoreSettings {
        url: Secret::new(format!("sqlite://{}/t.db", dir.path().display())),
        max_connections: 2,
    })
    .await
    .expect("store")
}

fn requests(store: Store, ttl: Duration) -> Requests {
    Requests::new(store, "h", &Settings { retention: ttl })
}

fn ask(id: &str, text: &str) -> Ask {
    Ask {
        request_id: id.into(),
        text: text.into(),
    }
}

/// Runs `ask` through `requests`, counting the acts in `acts`; each act answers
/// the count so far, after `delay`, or fails when `fail` is set.
async fn run(
    requests: &Requests,
    ask: &Ask,
    acts: &Arc<AtomicUsize>,
    delay: Duration,
    fail: bool,
) -> Result<Answer, Status> {
    let acts = Arc::clone(acts);
    requests
        .once(METHOD, &ask.request_id, ask.clone(), move |_| async move {
            tokio::time::sleep(delay).await;
            let count = acts.fetch_add(1, Ordering::SeqCst) + 1;
            if fail {
                return Err(Status::unavailable("not now"));
            }
            Ok(Answer {
                count: count as u64,
            })
        })
        .await
}

#[tokio::test]
async fn a_request_with_an_id_acts_once_and_its_repeats_replay_the_reply() {
    let dir = tempfile::tempdir().expect("dir");
    let requests = requests(store_in(&dir).await, Duration::from_secs(60));
    let acts = Arc::new(AtomicUsize::new(0));
    let first = run(&requests, &ask("a", "x"), &acts, Duration::ZERO, false).await;
    let again = run(&requests, &ask("a", "x"), &acts, Duration::ZERO, false).await;
    assert_eq!(first.expect("first").count, 1);
    assert_eq!(again.expect("replayed").count, 1);
    assert_eq!(acts.load(Ordering::SeqCst), 1);
    // Without an id every request acts.
    let free = run(&requests, &ask("", "x"), &acts, Duration::ZERO, false).await;
    assert_eq!(free.expect("no id").count, 2);
}

#[tokio::test]
async fn the_same_id_with_another_request_or_method_is_refused() {
    let dir = tempfile::tempdir().expect("dir");
    let requests = requests(store_in(&dir).await, Duration::from_secs(60));
    let acts = Arc::new(AtomicUsize::new(0));
    run(&requests, &ask("a", "x"), &acts, Duration::ZERO, false)
        .await
        .expect("first");
    let other = run(&requests, &ask("a", "y"), &acts, Duration::ZERO, false)
        .await
        .expect_err("other fields");
    assert_eq!(other.code(), tonic::Code::InvalidArgument);
    assert!(
        other.message().contains("request_id"),
        "{}",
        other.message()
    );
    let request = ask("a", "x");
    let method = requests
        .once("/test.Service/Other", "a", request, |_| async {
            Ok(Answer::default())
        })
        .await
        .expect_err("other method");
    assert_eq!(method.code(), tonic::Code::InvalidArgument);
    assert!(method.message().contains(METHOD), "{}", method.message());
    assert_eq!(acts.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn malformed_ids_are_refused_naming_the_field() {
    let dir = tempfile::tempdir().expect("dir");
    let requests = requests(store_in(&dir).await, Duration::from_secs(60));
    let acts = Arc::new(AtomicUsize::new(0));
    let long = "x".repeat(MAX_ID_BYTES + 1);
    for bad in ["with space", "tab\t", "é", long.as_str()] {
        let err = run(&requests, &ask(bad, "x"), &acts, Duration::ZERO, false)
            .await
            .expect_err("malformed");
        assert_eq!(err.code(), tonic::Code::InvalidArgument, "{bad:?}");
        assert!(err.message().contains("`request_id`"), "{}", err.message());
    }
    let longest = "y".repeat(MAX_ID_BYTES);
    run(&requests, &ask(&longest, "x"), &acts, Duration::ZERO, false)
        .await
        .expect("128 bytes are fine");
    assert_eq!(acts.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_failure_releases_the_id_so_a_retry_acts_again() {
    let dir = tempfile::tempdir().expect("dir");
    let requests = requests(store_in(&dir).await, Duration::from_secs(60));
    let acts = Arc::new(AtomicUsize::new(0));
    let failed = run(&requests, &ask("a", "x"), &acts, Duration::ZERO, true)
        .await
        .expect_err("fails");
    assert_eq!(failed.code(), tonic::Code::Unavailable, "returned as is");
    let retried = run(&requests, &ask("a", "x"), &acts, Duration::ZERO, false).await;
    assert_eq!(retried.expect("acts again").count, 2);
}

#[tokio::test]
async fn two_concurrent_requests_with_one_id_act_once() {
    let dir = tempfile::tempdir().expect("dir");
    let requests = requests(store_in(&dir).await, Duration::from_secs(60));
    let acts = Arc::new(AtomicUsize::new(0));
    let request = ask("a", "x");
    let slow = run(
        &requests,
        &request,
        &acts,
        Duration::from_millis(300),
        false,
    );
    let second = async {
        // Arrives while the first is acting.
        tokio::time::sleep(Duration::from_millis(50)).await;
        let started = Instant::now();
        let answer = run(&requests, &request, &acts, Duration::ZERO, false).await;
        (answer, started.elapsed())
    };
    let (first, (second, waited)) = tokio::join!(slow, second);
    assert_eq!(first.expect("first").count, 1);
    assert_eq!(second.expect("waited for the first").count, 1);
    assert_eq!(acts.load(Ordering::SeqCst), 1);
    // Woken by the settle, not by a poll tick after it.
    assert!(waited < Duration::from_millis(450), "{waited:?}");
}

#[tokio::test]
async fn a_dropped_caller_still_records_the_outcome_for_its_retry() {
    let dir = tempfile::tempdir().expect("dir");
    let requests = requests(store_in(&dir).await, Duration::from_secs(60));
    let acts = Arc::new(AtomicUsize::new(0));
    let request = ask("a", "x");
    let gave_up = tokio::time::timeout(
        Duration::from_millis(50),
        run(
            &requests,
            &request,
            &acts,
            Duration::from_millis(200),
            false,
        ),
    )
    .await;
    assert!(gave_up.is_err(), "the client gave up");
    let retried = run(&requests, &request, &acts, Duration::ZERO, false).await;
    assert_eq!(retried.expect("the first act's reply").count, 1);
    assert_eq!(acts.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_reply_replays_after_a_restart_and_an_expired_one_acts_again() {
    let dir = tempfile::tempdir().expect("dir");
    let acts = Arc::new(AtomicUsize::new(0));
    let store = store_in(&dir).await;
    let before = requests(store.clone(), Duration::from_secs(60));
    run(&before, &ask("kept", "x"), &acts, Duration::ZERO, false)
        .await
        .expect("first");
    let short = requests(store.clone(), Duration::from_millis(20));
    run(&short, &ask("brief", "x"), &acts, Duration::ZERO, false)
        .await
        .expect("first");
    store.close().await;

    let reopened = store_in(&dir).await;
    reopened.release_pending("h").await.expect("startup");
    let after = requests(reopened, Duration::from_secs(60));
    let replayed = run(&after, &ask("kept", "x"), &acts, Duration::ZERO, false).await;
    assert_eq!(replayed.expect("replayed").count, 1);
    tokio::time::sleep(Duration::from_millis(30)).await;
    let expired = run(&after, &ask("brief", "x"), &acts, Duration::ZERO, false).await;
    assert_eq!(expired.expect("acts again").count, 3);
}
