//! What every RPC goes through before its handler: a span (with the caller's W3C
//! trace context as parent), the token check, and on completion the status code in
//! the span, the metrics and a debug log line.
//!
//! The status of a successful call (and of every streamed one) only arrives in the
//! trailers, after the body: the response body is wrapped to catch them, and a call
//! whose body is dropped before its trailers counts as CANCELLED.

use std::{
    convert::Infallible,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::Instant,
};

use bytes::Bytes;
use http::{HeaderMap, header::AUTHORIZATION};
use http_body::{Body, Frame, SizeHint};
use tonic::{Code, Status};
use tower::{Layer, Service};
use tracing::{Instrument, Span, debug, field::Empty, info_span};
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::{
    grpc::access::{self, Access},
    grpc::status,
    security::Authenticator,
    telemetry::{code_name, metrics::RpcMetrics},
};

/// Wraps the router.
#[derive(Debug, Clone)]
pub struct RpcLayer {
    auth: Option<Arc<Authenticator>>,
    metrics: Arc<RpcMetrics>,
    /// Read `traceparent`/`tracestate` from requests (only worth it when exporting).
    trace_context: bool,
}

impl RpcLayer {
    pub fn new(
        auth: Option<Arc<Authenticator>>,
        metrics: Arc<RpcMetrics>,
        trace_context: bool,
    ) -> Self {
        RpcLayer {
            auth,
            metrics,
            trace_context,
        }
    }
}

impl<S> Layer<S> for RpcLayer {
    type Service = RpcService<S>;

    fn layer(&self, inner: S) -> RpcService<S> {
        RpcService {
            inner,
            layer: self.clone(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct RpcService<S> {
    inner: S,
    layer: RpcLayer,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, B> Service<http::Request<B>> for RpcService<S>
where
    S: Service<http::Request<B>, Response = http::Response<tonic::body::Body>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send,
    B: Send + 'static,
{
    type Response = http::Response<Observed>;
    type Error = Infallible;
    type Future = BoxFuture<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        let path = request.uri().path().to_owned();
        let (service, method) = split(&path);
        // The OpenTelemetry attributes cost a few microseconds per call to record, and
        // every log line inside the span repeats them: only exporting pays for them.
        let span = if self.layer.trace_context {
            let span = info_span!(
                "rpc",
                otel.name = %path.trim_start_matches('/'),
                otel.kind = "server",
                otel.status_code = Empty,
                rpc.system = "grpc",
                rpc.service = %service,
                rpc.method = %method,
                rpc.grpc.status_code = Empty,
                caller = Empty,
            );
            let parent = opentelemetry::global::get_text_map_propagator(|propagator| {
                propagator.extract(&HeaderExtractor(request.headers()))
            });
            let _ = span.set_parent(parent);
            span
        } else {
            info_span!("rpc", method = %path, caller = Empty)
        };
        let finish = Finish {
            metrics: Arc::clone(&self.layer.metrics),
            method: path.clone(),
            started: Instant::now(),
            span: span.clone(),
        };
        let needs = access::access_of(&path);
        if let Some(auth) = &self.layer.auth
            && needs != Access::Open
        {
            let header = request.headers().get(AUTHORIZATION).map(|v| v.as_bytes());
            let refused = match auth.check(header) {
                Ok(caller) if access::allows(caller.role, needs) => {
                    span.record("caller", caller.token.as_str());
                    // Handlers check sensitive fields against it.
                    request.extensions_mut().insert(caller);
                    None
                }
                Ok(caller) => {
                    let method = path.trim_start_matches('/');
                    Some(status::token_role(
                        format!(
                            "token {:?} has the reader role, which may not call {method}",
                            caller.token,
                        ),
                        &caller,
                        method,
                        "",
                    ))
                }
                Err(e) => Some(status::token_invalid(&e)),
            };
            if let Some(status) = refused {
                finish.done(status.code());
                let response = status.into_http::<tonic::body::Body>();
                return Box::pin(async move { Ok(response.map(Observed::finished)) });
            }
        }
        // The clone that was made ready is the one that must be called.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(async move {
            let mut response = inner.call(request).instrument(span).await?;
            over_limit_is_resource_exhausted(response.headers_mut());
            // An error without a body ("trailers-only") carries its status in the headers.
            Ok(match status_of(response.headers()) {
                Some(code) => {
                    finish.done(code);
                    response.map(Observed::finished)
                }
                None => response.map(|body| Observed {
                    inner: body,
                    finish: Some(finish),
                }),
            })
        })
    }
}

/// tonic's decoder refuses a request over the size limit with OUT_OF_RANGE and no
/// way to change it; gRPC's own convention (grpc-go, grpc-java, grpc-core), which
/// clients expect, is RESOURCE_EXHAUSTED. Rewritten here, matched on tonic's message
/// so the service's own OUT_OF_RANGE answers are left alone.
fn over_limit_is_resource_exhausted(headers: &mut HeaderMap) {
    // As tonic percent-encodes it in `grpc-message`.
    const TOO_LARGE: &[u8] = b"Error,%20decoded%20message%20length%20too%20large";
    let out_of_range = headers
        .get("grpc-status")
        .is_some_and(|v| v.as_bytes() == b"11");
    if out_of_range
        && headers
            .get("grpc-message")
            .is_some_and(|m| m.as_bytes().starts_with(TOO_LARGE))
    {
        headers.insert("grpc-status", http::HeaderValue::from_static("8"));
    }
}

/// A response body that reports the call's status once its trailers pass.
#[derive(Debug)]
pub struct Observed {
    inner: tonic::body::Body,
    finish: Option<Finish>,
}

impl Observed {
    fn finished(body: tonic::body::Body) -> Self {
        Observed {
            inner: body,
            finish: None,
        }
    }

    fn done(&mut self, code: Code) {
        if let Some(finish) = self.finish.take() {
            finish.done(code);
        }
    }
}

impl Body for Observed {
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        let this = self.get_mut();
        let mut polled = Pin::new(&mut this.inner).poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &mut polled
            && let Some(trailers) = frame.trailers_mut()
        {
            over_limit_is_resource_exhausted(trailers);
        }
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(code) = frame.trailers_ref().and_then(status_of) {
                    this.done(code);
                }
            }
            Poll::Ready(Some(Err(status))) => this.done(status.code()),
            Poll::Ready(None) => this.done(Code::Ok),
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for Observed {
    // The client went away (or the server cut the stream) before the trailers.
    fn drop(&mut self) {
        self.done(Code::Cancelled);
    }
}

#[derive(Debug)]
struct Finish {
    metrics: Arc<RpcMetrics>,
    method: String,
    started: Instant,
    span: Span,
}

impl Finish {
    fn done(self, code: Code) {
        let elapsed = self.started.elapsed();
        self.metrics.observe(&self.method, code, elapsed);
        // Fields a span was not created with are ignored.
        self.span.record("rpc.grpc.status_code", code as i32);
        if code != Code::Ok {
            self.span.record("otel.status_code", "ERROR");
        }
        debug!(parent: &self.span, code = code_name(code), elapsed_us = elapsed.as_micros() as u64, "rpc finished");
    }
}

fn split(path: &str) -> (&str, &str) {
    let trimmed = path.trim_start_matches('/');
    trimmed.split_once('/').unwrap_or((trimmed, ""))
}

fn status_of(headers: &HeaderMap) -> Option<Code> {
    headers
        .get("grpc-status")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<i32>().ok())
        .map(Code::from_i32)
}

/// Reads W3C trace context from request headers.
struct HeaderExtractor<'a>(&'a HeaderMap);

impl opentelemetry::propagation::Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(http::HeaderName::as_str).collect()
    }
}
