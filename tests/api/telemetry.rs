//! Prometheus metrics after a scripted workload, and traces exported over OTLP to a
//! collector stand-in that carry the caller's trace id.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
    trace_service_server::{TraceService, TraceServiceServer},
};
use tonic::{Request, Response, Status};
use virtplane::grpc::pb::{self, host_service_client::HostServiceClient};

use crate::support::{
    Binary, Scratch, TEST_DRIVER, TestApp, TestOptions, Webhook, eventually,
    http_server::TestHttpServer, metrics::scrape, unique_name,
};

/// Whether no HTTP pool has served a request yet (nothing delivered).
fn receiver_is_empty(metrics: &str) -> bool {
    !metrics
        .lines()
        .any(|l| l.starts_with("virtplane_pool_requests_total{kind=\"http\""))
}

/// The value of the first sample whose line starts with `prefix`.
fn value(metrics: &str, prefix: &str) -> f64 {
    metrics
        .lines()
        .find(|line| line.starts_with(prefix))
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no sample {prefix}"))
}

#[tokio::test]
async fn metrics_show_rpcs_libvirt_events_outbox_and_pools_without_secrets() {
    let receiver = TestHttpServer::start().await;
    let options = TestOptions::new(TEST_DRIVER).metrics_listener().webhook(
        Webhook::new("audit", receiver.url("/hook?token=query-secret"))
            .secret("metrics-webhook-secret"),
    );
    let mut app = TestApp::spawn(options).await;
    app.settled().await;
    let name = unique_name("measured");
    app.define(&name).await;
    for _ in 0..5 {
        app.domains
            .get_domain(pb::GetDomainRequest {
                domain: name.clone(),
                ..Default::default()
            })
            .await
            .expect("get");
    }
    let missing = app
        .domains
        .get_domain(pb::GetDomainRequest {
            domain: "no-such-domain".into(),
            ..Default::default()
        })
        .await
        .expect_err("missing");
    assert_eq!(missing.code(), tonic::Code::NotFound);
    let metrics_addr = app.metrics_addr.expect("metrics listener");
    eventually(
        Duration::from_secs(10),
        "every event delivered to the webhook",
        || async move {
            let metrics = scrape(metrics_addr).await;
            !receiver_is_empty(&metrics)
                && value(&metrics, "virtplane_outbox_backlog{sink=\"webhook:audit\"}") == 0.0
        },
    )
    .await;

    let metrics = scrape(metrics_addr).await;
    let get = "method=\"/virtplane.v1.DomainService/GetDomain\"";
    assert_eq!(
        value(
            &metrics,
            &format!("virtplane_rpc_requests_total{{{get},code=\"OK\"}}")
        ),
        5.0
    );
    assert_eq!(
        value(
            &metrics,
            &format!("virtplane_rpc_requests_total{{{get},code=\"NOT_FOUND\"}}")
        ),
        1.0
    );
    assert_eq!(
        value(
            &metrics,
            &format!("virtplane_rpc_duration_seconds_bucket{{{get},code=\"OK\",le=\"+Inf\"}}")
        ),
        5.0
    );
    let seconds = value(
        &metrics,
        &format!("virtplane_rpc_duration_seconds_sum{{{get},code=\"OK\"}}"),
    );
    assert!(seconds > 0.0 && seconds < 5.0, "{seconds}");
    assert_eq!(value(&metrics, "virtplane_libvirt_connected "), 1.0);
    assert!(value(&metrics, "virtplane_libvirt_connect_attempts_total ") >= 1.0);
    assert_eq!(
        value(&metrics, "virtplane_libvirt_connect_failures_total "),
        0.0
    );
    assert_eq!(value(&metrics, "virtplane_host_enabled "), 1.0);
    assert!(value(&metrics, "virtplane_lifecycle_events_recorded_total ") >= 1.0);
    assert_eq!(
        value(&metrics, "virtplane_outbox_backlog{sink=\"webhook:audit\"}"),
        0.0
    );
    let pool = format!("kind=\"http\",pool=\"http://{}\"", receiver.addr);
    assert!(
        value(
            &metrics,
            &format!("virtplane_pool_connections_opened_total{{{pool}}}")
        ) >= 1.0
    );
    assert!(
        value(
            &metrics,
            &format!("virtplane_pool_requests_total{{{pool}}}")
        ) >= 1.0
    );
    assert_eq!(
        value(&metrics, &format!("virtplane_pool_max_size{{{pool}}}")),
        4.0
    );
    for secret in ["metrics-webhook-secret", "query-secret"] {
        assert!(!metrics.contains(secret), "a secret in /metrics");
    }
    app.stop().await;
}

/// Collects exported spans.
#[derive(Clone, Default)]
struct Collector(Arc<Mutex<Vec<ExportTraceServiceRequest>>>);

#[tonic::async_trait]
impl TraceService for Collector {
    async fn export(
        &self,
        request: Request<ExportTraceServiceRequest>,
    ) -> Result<Response<ExportTraceServiceResponse>, Status> {
        self.0.lock().expect("lock").push(request.into_inner());
        Ok(Response::new(ExportTraceServiceResponse::default()))
    }
}

#[tokio::test]
async fn spans_reach_an_otlp_collector_with_the_callers_trace_id() {
    let collector = Collector::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let collector_addr = listener.local_addr().expect("addr");
    let server = tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(TraceServiceServer::new(collector.clone()))
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
    );

    let dir = Scratch::create();
    let database = format!("sqlite://{}/db.sqlite", dir.path().display());
    let endpoint = format!("http://{collector_addr}");
    let binary = Binary::start(
        &[
            "--listen",
            "127.0.0.1:0",
            "--libvirt-uri",
            TEST_DRIVER,
            "--hostname",
            "traced",
            "--database-url",
            &database,
        ],
        &[("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint)],
    );
    let addr = binary.addr.clone();

    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let parent_id = "00f067aa0ba902b7";
    let mut client = HostServiceClient::connect(format!("http://{addr}"))
        .await
        .expect("client");
    let mut request = Request::new(pb::GetHostRequest::default());
    request.metadata_mut().insert(
        "traceparent",
        format!("00-{trace_id}-{parent_id}-01")
            .parse()
            .expect("metadata"),
    );
    client.get_host(request).await.expect("get host");

    // A graceful stop flushes the exporter.
    binary.signal("TERM");
    let (status, _) = binary.wait().await;
    assert!(status.success(), "{status}");

    let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
    let spans: Vec<_> = collector
        .0
        .lock()
        .expect("lock")
        .iter()
        .flat_map(|r| r.resource_spans.clone())
        .flat_map(|r| r.scope_spans)
        .flat_map(|s| s.spans)
        .collect();
    let span = spans
        .iter()
        .find(|s| s.name == "virtplane.v1.HostService/GetHost")
        .unwrap_or_else(|| {
            panic!(
                "no GetHost span among {:?}",
                spans.iter().map(|s| &s.name).collect::<Vec<_>>()
            )
        });
    assert_eq!(hex(&span.trace_id), trace_id);
    assert_eq!(hex(&span.parent_span_id), parent_id);
    let code = span
        .attributes
        .iter()
        .find(|a| a.key == "rpc.grpc.status_code")
        .expect("status code attribute");
    assert!(
        format!("{:?}", code.value).contains("IntValue(0)"),
        "{code:?}"
    );
    server.abort();
}
