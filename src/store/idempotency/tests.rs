//! The request-id store's tests, on SQLite and PostgreSQL.

use sqlx::{Connection, Executor, PgConnection};

use super::*;
use crate::{secret::Secret, store::Settings};

const DAY: Duration = Duration::from_secs(86_400);

/// The PostgreSQL server the tests use; `VIRTPLANE_TEST_POSTGRES` overrides it.
fn postgres_server() -> String {
    std::env::var("VIRTPLANE_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned())
}

async fn sqlite_store(dir: &tempfile::TempDir) -> Store {
    Store::connect(&Settings {
        url: Secret::new(format!("sqlite://{}/t.db", dir.path().display())),
        max_connections: 2,
    })
    .await
    .expect("store")
}

/// Runs `check` against a scratch PostgreSQL database, dropped afterwards.
async fn with_postgres<F: Future<Output = ()>>(check: impl FnOnce(Store) -> F) {
    let name = format!(
        "virtplane_unit_{}_{:x}",
        std::process::id(),
        fastrand::u64(..)
    );
    let admin_url = format!("{}/postgres", postgres_server());
    let mut admin = PgConnection::connect(&admin_url)
        .await
        .expect("PostgreSQL reachable (make test starts it)");
    admin
        .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .await
        .expect("create scratch database");
    let store = Store::connect(&Settings {
        url: Secret::new(format!("{}/{name}", postgres_server())),
        max_connections: 2,
    })
    .await
    .expect("store");
    check(store.clone()).await;
    store.close().await;
    admin
        .execute(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
        )))
        .await
        .expect("drop scratch database");
}

/// A claim acts once, repeats replay, and another request with the id is refused.
async fn claims_and_replays(store: &Store) {
    let claim = |id: &'static str, method: &'static str, fp: &'static str| {
        store.claim_request("h", id, method, fp, DAY)
    };
    assert_eq!(
        claim("a", "M/One", "f1").await.expect("claim"),
        Claim::Acquired
    );
    assert_eq!(
        claim("a", "M/One", "f1").await.expect("again"),
        Claim::Pending
    );
    assert_eq!(
        claim("a", "M/Two", "f2").await.expect("other"),
        Claim::Mismatch {
            method: "M/One".into()
        }
    );
    assert!(
        store
            .complete_request("h", "a", "f1", b"reply", DAY)
            .await
            .expect("complete")
    );
    assert_eq!(
        claim("a", "M/One", "f1").await.expect("replay"),
        Claim::Done(b"reply".to_vec())
    );
    assert_eq!(
        claim("a", "M/One", "f9")
            .await
            .expect("same method, other fields"),
        Claim::Mismatch {
            method: "M/One".into()
        }
    );
    // Ids are per host.
    assert_eq!(
        store
            .claim_request("other", "a", "M/Two", "f2", DAY)
            .await
            .expect("other host"),
        Claim::Acquired
    );
    // An empty reply (an empty message) replays as empty.
    assert_eq!(
        claim("e", "M/One", "f1").await.expect("claim"),
        Claim::Acquired
    );
    store
        .complete_request("h", "e", "f1", b"", DAY)
        .await
        .expect("complete");
    assert_eq!(
        claim("e", "M/One", "f1").await.expect("replay"),
        Claim::Done(Vec::new())
    );
}

/// Releases let a retry act again; a done row is never released.
async fn releases(store: &Store) {
    let claim = |id: &'static str| store.claim_request("h", id, "M", "f", DAY);
    assert_eq!(claim("r").await.expect("claim"), Claim::Acquired);
    assert!(
        !store
            .release_request("h", "r", "other")
            .await
            .expect("not ours")
    );
    assert!(store.release_request("h", "r", "f").await.expect("release"));
    assert_eq!(claim("r").await.expect("again"), Claim::Acquired);

    assert_eq!(claim("p").await.expect("claim"), Claim::Acquired);
    store
        .complete_request("h", "r", "f", b"x", DAY)
        .await
        .expect("complete");
    assert_eq!(
        store
            .claim_request("elsewhere", "p", "M", "f", DAY)
            .await
            .expect("other host"),
        Claim::Acquired
    );
    assert_eq!(store.release_pending("h").await.expect("startup"), 1);
    assert_eq!(claim("p").await.expect("released"), Claim::Acquired);
    assert_eq!(
        claim("r").await.expect("done stays"),
        Claim::Done(b"x".to_vec())
    );
    assert!(!store.release_request("h", "r", "f").await.expect("done"));
    assert_eq!(
        store
            .claim_request("elsewhere", "p", "M", "f", DAY)
            .await
            .expect("other host untouched"),
        Claim::Pending
    );
}

/// An expired row counts as absent, and pruning deletes only this host's.
async fn expires_and_prunes(store: &Store) {
    let short = Duration::from_millis(1);
    for host in ["x-host", "y-host"] {
        assert_eq!(
            store
                .claim_request(host, "x", "M/One", "f1", short)
                .await
                .expect("claim"),
            Claim::Acquired
        );
        store
            .complete_request(host, "x", "f1", b"old", short)
            .await
            .expect("complete");
    }
    tokio::time::sleep(Duration::from_millis(5)).await;
    assert_eq!(
        store
            .claim_request("x-host", "x", "M/Two", "f2", DAY)
            .await
            .expect("expired row replaced"),
        Claim::Acquired
    );
    assert_eq!(
        store
            .prune_requests("x-host", now_millis())
            .await
            .expect("prune"),
        0,
        "the replaced row is live"
    );
    let later = now_millis() + 2 * 86_400_000;
    assert_eq!(
        store.prune_requests("x-host", later).await.expect("prune"),
        1
    );
    assert_eq!(
        store.prune_requests("y-host", later).await.expect("prune"),
        1,
        "another host's row waits for that host's own pruning"
    );
}

async fn every_case(store: Store) {
    claims_and_replays(&store).await;
    releases(&store).await;
    expires_and_prunes(&store).await;
}

#[tokio::test]
async fn request_ids_are_claimed_replayed_released_and_pruned_on_sqlite() {
    let dir = tempfile::tempdir().expect("dir");
    every_case(sqlite_store(&dir).await).await;
}

#[tokio::test]
async fn request_ids_are_claimed_replayed_released_and_pruned_on_postgres() {
    with_postgres(every_case).await;
}

#[tokio::test]
async fn pruning_deletes_a_large_backlog_in_batches() {
    let dir = tempfile::tempdir().expect("dir");
    let store = sqlite_store(&dir).await;
    let count = PRUNE_BATCH.unsigned_abs() + 5;
    for i in 0..count {
        let id = format!("id-{i}");
        store
            .claim_request("h", &id, "M", "f", Duration::ZERO)
            .await
            .expect("claim");
    }
    assert_eq!(
        store
            .prune_requests("h", now_millis())
            .await
            .expect("prune"),
        count
    );
}
