//! A real HTTP/1.1 server on loopback (hyper), for host pool and webhook tests: it
//! records what arrives, answers with a settable status, can sleep per request
//! (`/sleep/<ms>`), close every open connection, stop and start again on its port.

use std::{
    convert::Infallible,
    net::SocketAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU16, AtomicUsize, Ordering},
    },
    time::Duration,
};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response, body::Incoming, server::conn::http1, service::service_fn};
use hyper_util::rt::TokioIo;
use tokio::{net::TcpListener, task::JoinHandle};

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Received {
    /// The client's address: which connection carried the request.
    pub peer: SocketAddr,
    pub method: String,
    pub path: String,
    pub headers: http::HeaderMap,
    pub body: Bytes,
}

#[derive(Default)]
struct State {
    tls: Option<tokio_rustls::TlsAcceptor>,
    received: Mutex<Vec<Received>>,
    connections: AtomicUsize,
    status: AtomicU16,
    /// `None`: "ok".
    body: Mutex<Option<Bytes>>,
    open: Mutex<Vec<JoinHandle<()>>>,
}

pub struct TestHttpServer {
    pub addr: SocketAddr,
    state: Arc<State>,
    acceptor: Option<JoinHandle<()>>,
}

impl TestHttpServer {
    pub async fn start() -> TestHttpServer {
        TestHttpServer::start_with(None).await
    }

    /// An https server presenting `cert` (PEM files).
    pub async fn start_tls(cert: &super::pki::Issued) -> TestHttpServer {
        use rustls::pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject};
        let certs = CertificateDer::pem_file_iter(&cert.cert)
            .expect("cert file")
            .collect::<Result<Vec<_>, _>>()
            .expect("certs");
        let key = PrivateKeyDer::from_pem_file(&cert.key).expect("key");
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .expect("server config");
        TestHttpServer::start_with(Some(tokio_rustls::TlsAcceptor::from(Arc::new(config)))).await
    }

    async fn start_with(tls: Option<tokio_rustls::TlsAcceptor>) -> TestHttpServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let state = Arc::new(State {
            tls,
            ..State::default()
        });
        state.status.store(200, Ordering::SeqCst);
        let addr = listener.local_addr().expect("addr");
        let acceptor = Some(tokio::spawn(accept(listener, Arc::clone(&state))));
        TestHttpServer {
            addr,
            state,
            acceptor,
        }
    }

    pub fn url(&self, path: &str) -> String {
        match self.state.tls {
            Some(_) => format!("https://localhost:{}{path}", self.addr.port()),
            None => format!("http://{}{path}", self.addr),
        }
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.state.connections.load(Ordering::SeqCst)
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.received.lock().expect("lock").clone()
    }

    /// The status every later request is answered with.
    pub fn set_status(&self, status: u16) {
        self.state.status.store(status, Ordering::SeqCst);
    }

    /// The body every later response carries.
    pub fn set_response_body(&self, body: Bytes) {
        *self.state.body.lock().expect("lock") = Some(body);
    }

    /// Closes every open connection (as a server's idle timeout does).
    pub fn close_connections(&self) {
        for task in self.state.open.lock().expect("lock").drain(..) {
            task.abort();
        }
    }

    /// Stops accepting and closes every connection: clients get "connection refused".
    pub fn stop(&mut self) {
        if let Some(acceptor) = self.acceptor.take() {
            acceptor.abort();
        }
        self.close_connections();
    }

    /// Listens again on the same port.
    pub async fn restart(&mut self) {
        self.stop();
        let listener = loop {
            match TcpListener::bind(self.addr).await {
                Ok(listener) => break listener,
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        };
        self.acceptor = Some(tokio::spawn(accept(listener, Arc::clone(&self.state))));
    }
}

impl Drop for TestHttpServer {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn accept(listener: TcpListener, state: Arc<State>) {
    loop {
        let Ok((stream, peer)) = listener.accept().await else {
            continue;
        };
        state.connections.fetch_add(1, Ordering::SeqCst);
        let conn_state = Arc::clone(&state);
        let task = tokio::spawn(async move {
            let tls = conn_state.tls.clone();
            let service = service_fn(move |request: Request<Incoming>| {
                let state = Arc::clone(&conn_state);
                async move { Ok::<_, Infallible>(answer(&state, peer, request).await) }
            });
            match tls {
                Some(acceptor) => {
                    if let Ok(stream) = acceptor.accept(stream).await {
                        let _ = http1::Builder::new()
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    }
                }
                None => {
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                }
            }
        });
        let mut open = state.open.lock().expect("lock");
        open.retain(|t| !t.is_finished());
        open.push(task);
    }
}

async fn answer(
    state: &State,
    peer: SocketAddr,
    request: Request<Incoming>,
) -> Response<Full<Bytes>> {
    let (parts, body) = request.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let path = parts.uri.path().to_owned();
    state.received.lock().expect("lock").push(Received {
        peer,
        method: parts.method.to_string(),
        path: path.clone(),
        headers: parts.headers,
        body,
    });
    if let Some(ms) = path.strip_prefix("/sleep/").and_then(|ms| ms.parse().ok()) {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    let body = state
        .body
        .lock()
        .expect("lock")
        .clone()
        .unwrap_or_else(|| Bytes::from_static(b"ok"));
    let mut response = Response::new(Full::new(body));
    *response.status_mut() =
        http::StatusCode::from_u16(state.status.load(Ordering::SeqCst)).expect("status");
    response
}
