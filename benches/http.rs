//! HTTP host pool benchmark against baselines measured in the same run, against one
//! local HTTP/1.1 keep-alive server (hyper, on its own runtime thread):
//!
//! (a) a checkout and return through the keyed pool group (the host pool) against raw
//!     deadpool with the same manager and the same live connection;
//! (b) requests per second through `HttpPools::send` against hyper-util's legacy
//!     client, POSTing the same 256-byte JSON body and reading each response to its
//!     end, at 1 and at 64 concurrent callers; each pool may keep 64 connections;
//! (c) the same at 1 caller against one raw hyper connection (no pool at all): the
//!     difference per request is what the pool adds.
//!
//! Run with `cargo bench --bench http`.

use std::{
    convert::Infallible,
    net::SocketAddr,
    sync::Arc,
    time::{Duration, Instant},
};

use bytes::Bytes;
use deadpool::managed::Pool;
use http::{HeaderMap, Method, header};
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response, body::Incoming, server::conn::http1, service::service_fn};
use hyper_util::{
    client::legacy::Client,
    rt::{TokioExecutor, TokioIo},
};
use virtplane::{
    http::{HostKey, HttpManager, HttpPools, OutgoingRequest, RequestOptions},
    pool::{Acquire, PoolGroup, PoolSettings},
};

const CALLERS: usize = 64;
const SOLO_REQUESTS: usize = 20_000;
const CONCURRENT_REQUESTS: usize = 60_000;
const ROUNDS: usize = 3;

fn main() {
    let addr = start_server();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let url = format!("http://{addr}/hooks/lifecycle");
        pool_overhead(addr).await;
        let pools = Arc::new(
            HttpPools::new(4, CALLERS, Duration::from_secs(2), &[]).expect("pools"),
        );
        let legacy: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(CALLERS)
            .build_http();
        for (callers, total) in [(1, SOLO_REQUESTS), (CALLERS, CONCURRENT_REQUESTS)] {
            // Warm both pools, then alternate so drift on a shared machine hits both.
            ours(&pools, &url, callers, total / 10).await;
            theirs(&legacy, &url, callers, total / 10).await;
            let (mut best_ours, mut best_theirs) = (0f64, 0f64);
            for _ in 0..ROUNDS {
                best_ours = best_ours.max(ours(&pools, &url, callers, total).await);
                best_theirs = best_theirs.max(theirs(&legacy, &url, callers, total).await);
            }
            println!(
                "(b) {callers} caller(s): host pool {best_ours:.0} req/s; hyper-util legacy client {best_theirs:.0} req/s; ratio {:.2}",
                best_ours / best_theirs
            );
        }
        let mut best_raw = 0f64;
        let mut best_ours = 0f64;
        for _ in 0..ROUNDS {
            best_raw = best_raw.max(raw_connection(addr, SOLO_REQUESTS).await);
            best_ours = best_ours.max(ours(&pools, &url, 1, SOLO_REQUESTS).await);
        }
        println!(
            "(c) 1 caller: host pool {best_ours:.0} req/s; one raw hyper connection {best_raw:.0} req/s; the pool adds {:.1} µs per request",
            (1e6 / best_ours) - (1e6 / best_raw)
        );
        for stats in pools.stats() {
            println!(
                "    pool {}: opened {}, discarded {}, requests {}",
                stats.key, stats.opened, stats.discarded, stats.requests
            );
        }
    });
}

fn body() -> Bytes {
    let mut json = String::from("{\"id\":1,\"type\":\"started\",\"pad\":\"");
    json.push_str(&"x".repeat(256 - json.len() - 2));
    json.push_str("\"}");
    Bytes::from(json)
}

/// (a) Checkout + return, 200,000 times, warm pool of one live connection.
async fn pool_overhead(addr: SocketAddr) {
    const ROUNDS: u32 = 200_000;
    let key = HostKey::parse(&format!("http://{addr}/")).expect("key").1;
    let raw: Pool<HttpManager> = Pool::builder(HttpManager::new(key.clone(), None))
        .max_size(4)
        .build()
        .expect("pool");
    drop(raw.get().await.expect("connect"));
    let started = Instant::now();
    for _ in 0..ROUNDS {
        drop(raw.get().await.expect("get"));
    }
    let raw_ns = started.elapsed().as_nanos() as f64 / f64::from(ROUNDS);

    let settings = PoolSettings {
        max_size: 4,
        create_timeout: Duration::from_secs(5),
        recycle_timeout: None,
        lifo: true,
    };
    let group = PoolGroup::new("http", 16, settings, |k: &HostKey| {
        HttpManager::new(k.clone(), None)
    });
    let wait = Acquire::Blocking(Duration::from_secs(5));
    drop(group.acquire(&key, wait).await.expect("connect"));
    let started = Instant::now();
    for _ in 0..ROUNDS {
        drop(group.acquire(&key, wait).await.expect("get"));
    }
    let ours_ns = started.elapsed().as_nanos() as f64 / f64::from(ROUNDS);
    println!(
        "(a) checkout + return: host pool {ours_ns:.0} ns; raw deadpool {raw_ns:.0} ns; ratio {:.2}",
        ours_ns / raw_ns
    );
}

/// Requests per second through the host pool.
async fn ours(pools: &Arc<HttpPools>, url: &str, callers: usize, total: usize) -> f64 {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        "application/json".parse().expect("value"),
    );
    let request = Arc::new(OutgoingRequest {
        method: Method::POST,
        url: url.parse().expect("url"),
        headers,
        body: body(),
    });
    let options = Arc::new(RequestOptions::default());
    let started = Instant::now();
    let tasks: Vec<_> = (0..callers)
        .map(|_| {
            let (pools, request, options) = (
                Arc::clone(pools),
                Arc::clone(&request),
                Arc::clone(&options),
            );
            tokio::spawn(async move {
                for _ in 0..total / callers {
                    let response = pools.send(&request, &options).await.expect("send");
                    assert_eq!(response.status, 200);
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("caller");
    }
    (total / callers * callers) as f64 / started.elapsed().as_secs_f64()
}

/// Requests per second through hyper-util's legacy client.
async fn theirs(
    client: &Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>,
    url: &str,
    callers: usize,
    total: usize,
) -> f64 {
    let uri: http::Uri = url.parse().expect("url");
    let started = Instant::now();
    let tasks: Vec<_> = (0..callers)
        .map(|_| {
            let (client, uri) = (client.clone(), uri.clone());
            tokio::spawn(async move {
                for _ in 0..total / callers {
                    let request = Request::post(uri.clone())
                        .header(header::CONTENT_TYPE, "application/json")
                        .body(Full::new(body()))
                        .expect("request");
                    let response = client.request(request).await.expect("send");
                    assert_eq!(response.status(), 200);
                    response.into_body().collect().await.expect("body");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("caller");
    }
    (total / callers * callers) as f64 / started.elapsed().as_secs_f64()
}

/// Requests per second on one hyper connection held by the caller: no pool.
async fn raw_connection(addr: SocketAddr, total: usize) -> f64 {
    let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("handshake");
    let driver = tokio::spawn(connection);
    let started = Instant::now();
    for _ in 0..total {
        sender.ready().await.expect("ready");
        let request = Request::post("/hooks/lifecycle")
            .header(header::HOST, addr.to_string())
            .header(header::CONTENT_TYPE, "application/json")
            .body(Full::new(body()))
            .expect("request");
        let response = sender.send_request(request).await.expect("send");
        assert_eq!(response.status(), 200);
        response.into_body().collect().await.expect("body");
    }
    let rate = total as f64 / started.elapsed().as_secs_f64();
    driver.abort();
    rate
}

/// A keep-alive HTTP/1.1 server answering every request with 200 and a small body.
fn start_server() -> SocketAddr {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("server runtime");
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            tx.send(listener.local_addr().expect("addr"))
                .expect("send addr");
            loop {
                let (stream, _) = listener.accept().await.expect("accept");
                let _ = stream.set_nodelay(true);
                tokio::spawn(async move {
                    let service = service_fn(|request: Request<Incoming>| async move {
                        let _ = request.into_body().collect().await;
                        Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(
                            b"{\"ok\":true}",
                        ))))
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
    });
    rx.recv().expect("server address")
}
