//! HTTP host pools against a real HTTP server on loopback: keep-alive reuse, limits,
//! LIFO order, dropped connections, `block = false` overflow, pool timeout, eviction.

use std::{sync::Arc, time::Duration};

use bytes::Bytes;
use http::{HeaderMap, Method};
use virtplane::{
    http::{HostKey, HttpError, HttpPools, OutgoingRequest, RequestOptions},
    pool::PoolStats,
};

use crate::support::http_server::TestHttpServer;

fn pools(max_pools: usize, max_size: usize) -> Arc<HttpPools> {
    Arc::new(HttpPools::new(max_pools, max_size, Duration::from_secs(2), &[]).expect("pools"))
}

fn post(url: &str) -> OutgoingRequest {
    OutgoingRequest {
        method: Method::POST,
        url: url.parse().expect("url"),
        headers: HeaderMap::new(),
        body: Bytes::from_static(b"{}"),
    }
}

fn stats_of(pools: &HttpPools, server: &TestHttpServer) -> PoolStats {
    let key = format!("http://{}", server.addr);
    pools
        .stats()
        .into_iter()
        .find(|s| s.key == key)
        .unwrap_or_else(|| panic!("no pool {key}"))
}

#[tokio::test]
async fn sequential_requests_share_one_keep_alive_connection() {
    let server = TestHttpServer::start().await;
    let pools = pools(4, 4);
    for _ in 0..20 {
        let response = pools
            .send(&post(&server.url("/hook")), &RequestOptions::default())
            .await
            .expect("send");
        assert_eq!(response.status, 200);
        assert_eq!(&response.body[..], b"ok");
    }
    assert_eq!(server.connections(), 1);
    let stats = stats_of(&pools, &server);
    assert_eq!(stats.kind, "http");
    assert_eq!(
        (stats.opened, stats.requests, stats.idle, stats.in_use),
        (1, 20, 1, 0)
    );
}

#[tokio::test]
async fn concurrent_requests_open_at_most_maxsize_connections_when_blocking() {
    let server = TestHttpServer::start().await;
    let pools = pools(4, 3);
    let options = RequestOptions {
        pool_timeout: Duration::from_secs(10),
        ..RequestOptions::default()
    };
    let calls: Vec<_> = (0..24)
        .map(|_| {
            let (pools, options, request) = (
                Arc::clone(&pools),
                options.clone(),
                post(&server.url("/sleep/20")),
            );
            tokio::spawn(async move { pools.send(&request, &options).await })
        })
        .collect();
    for call in calls {
        assert_eq!(call.await.expect("join").expect("send").status, 200);
    }
    assert_eq!(server.connections(), 3);
    let stats = stats_of(&pools, &server);
    assert_eq!((stats.opened, stats.max_size, stats.idle), (3, 3, 3));
}

#[tokio::test]
async fn the_most_recently_returned_connection_is_used_first() {
    let server = TestHttpServer::start().await;
    let pools = pools(4, 4);
    let options = RequestOptions::default();
    let (quick, long) = (
        post(&server.url("/sleep/10")),
        post(&server.url("/sleep/300")),
    );
    let (fast, slow) = tokio::join!(pools.send(&quick, &options), pools.send(&long, &options));
    fast.expect("fast");
    slow.expect("slow");
    pools
        .send(&post(&server.url("/next")), &options)
        .await
        .expect("next");
    let received = server.received();
    let peer_of = |path: &str| received.iter().find(|r| r.path == path).expect(path).peer;
    assert_ne!(
        peer_of("/sleep/10"),
        peer_of("/sleep/300"),
        "two connections"
    );
    assert_eq!(
        peer_of("/next"),
        peer_of("/sleep/300"),
        "LIFO: the last one returned"
    );
}

#[tokio::test]
async fn a_connection_the_server_dropped_is_replaced_not_used() {
    let server = TestHttpServer::start().await;
    let pools = pools(4, 4);
    let options = RequestOptions {
        // No retry may hide a failed send on the dropped connection.
        retries: 0,
        ..RequestOptions::default()
    };
    pools
        .send(&post(&server.url("/a")), &options)
        .await
        .expect("first");
    server.close_connections();
    // Give the client's connection driver a moment to read the FIN.
    tokio::time::sleep(Duration::from_millis(100)).await;
    pools
        .send(&post(&server.url("/b")), &options)
        .await
        .expect("second");
    assert_eq!(server.connections(), 2);
    let received = server.received();
    assert_ne!(received[0].peer, received[1].peer);
    let stats = stats_of(&pools, &server);
    assert_eq!((stats.opened, stats.discarded, stats.idle), (2, 1, 1));
}

#[tokio::test]
async fn non_blocking_pools_open_extra_connections_and_discard_them_when_full() {
    let server = TestHttpServer::start().await;
    let pools = pools(4, 2);
    let options = RequestOptions {
        block: false,
        ..RequestOptions::default()
    };
    let calls: Vec<_> = (0..5)
        .map(|_| {
            let (pools, options, request) = (
                Arc::clone(&pools),
                options.clone(),
                post(&server.url("/sleep/200")),
            );
            tokio::spawn(async move { pools.send(&request, &options).await })
        })
        .collect();
    for call in calls {
        assert_eq!(call.await.expect("join").expect("send").status, 200);
    }
    assert_eq!(server.connections(), 5, "nobody waited");
    let stats = stats_of(&pools, &server);
    assert_eq!(
        (stats.opened, stats.discarded, stats.idle),
        (5, 3, 2),
        "{stats:?}"
    );
}

#[tokio::test]
async fn blocking_pools_fail_with_pool_exhausted_after_the_pool_timeout() {
    let server = TestHttpServer::start().await;
    let pools = pools(4, 1);
    let options = RequestOptions {
        pool_timeout: Duration::from_millis(100),
        ..RequestOptions::default()
    };
    let holder = {
        let (pools, options, request) = (
            Arc::clone(&pools),
            options.clone(),
            post(&server.url("/sleep/1000")),
        );
        tokio::spawn(async move { pools.send(&request, &options).await })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let refused = pools
        .send(&post(&server.url("/late")), &options)
        .await
        .expect_err("exhausted");
    assert!(matches!(refused, HttpError::PoolExhausted(_)), "{refused}");
    let message = refused.to_string();
    assert!(
        message.contains("exhausted") && message.contains(&server.addr.to_string()),
        "{message}"
    );
    assert!(!server.received().iter().any(|r| r.path == "/late"));
    holder.await.expect("join").expect("holder");
}

#[tokio::test]
async fn the_least_recently_used_pool_is_evicted_and_closed_beyond_max_pools() {
    let servers = [
        TestHttpServer::start().await,
        TestHttpServer::start().await,
        TestHttpServer::start().await,
    ];
    let pools = pools(2, 2);
    let options = RequestOptions::default();
    for server in &servers {
        pools
            .send(&post(&server.url("/x")), &options)
            .await
            .expect("send");
    }
    let keys: Vec<String> = pools.stats().into_iter().map(|s| s.key).collect();
    assert_eq!(
        keys.iter()
            .filter(|k| **k == format!("http://{}", servers[0].addr))
            .count(),
        0,
        "the first pool was evicted: {keys:?}"
    );
    assert_eq!(keys.len(), 2);
    // The evicted pool's connection was closed: using that host again opens a new one.
    pools
        .send(&post(&servers[0].url("/again")), &options)
        .await
        .expect("send");
    assert_eq!(servers[0].connections(), 2);
}

#[tokio::test]
async fn connect_failures_are_retried_then_reported_and_urls_are_checked() {
    let mut server = TestHttpServer::start().await;
    let url = server.url("/hook");
    server.stop();
    let pools = pools(4, 2);
    let options = RequestOptions {
        retries: 2,
        backoff_initial: Duration::from_millis(10),
        ..RequestOptions::default()
    };
    let error = pools.send(&post(&url), &options).await.expect_err("down");
    assert!(matches!(error, HttpError::Connect(_)), "{error}");
    // Back while the retries run: the request gets through.
    let options = RequestOptions {
        retries: 20,
        backoff_initial: Duration::from_millis(50),
        backoff_max: Duration::from_millis(100),
        ..RequestOptions::default()
    };
    let restarted = async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        server.restart().await;
    };
    let request = post(&url);
    let (sent, ()) = tokio::join!(pools.send(&request, &options), restarted);
    assert_eq!(sent.expect("after restart").status, 200);

    let bad = OutgoingRequest {
        url: "ftp://example.com/".parse().expect("uri"),
        ..post(&url)
    };
    assert!(matches!(
        pools.send(&bad, &options).await,
        Err(HttpError::Url(_))
    ));
    assert!(HostKey::parse("http://user:pw@example.com/").is_err());
}

#[tokio::test]
async fn a_request_cut_off_mid_way_closes_its_connection_and_a_post_is_not_resent() {
    let server = TestHttpServer::start().await;
    let pools = pools(4, 2);
    let options = RequestOptions {
        timeout: Duration::from_millis(100),
        retries: 3,
        backoff_initial: Duration::from_millis(10),
        ..RequestOptions::default()
    };
    let error = pools
        .send(&post(&server.url("/sleep/400")), &options)
        .await
        .expect_err("timeout");
    assert!(matches!(error, HttpError::Timeout { .. }), "{error}");
    assert_eq!(
        server.received().len(),
        1,
        "a POST that reached the peer is not resent"
    );
    let stats = stats_of(&pools, &server);
    assert_eq!((stats.discarded, stats.idle, stats.in_use), (1, 0, 0));

    // Declared idempotent (the receiver deduplicates), the same POST is retried.
    let idempotent = RequestOptions {
        idempotent: true,
        ..options
    };
    let _ = pools
        .send(&post(&server.url("/sleep/401")), &idempotent)
        .await
        .expect_err("timeout");
    let resent = server
        .received()
        .iter()
        .filter(|r| r.path == "/sleep/401")
        .count();
    assert_eq!(resent, 4);
}
