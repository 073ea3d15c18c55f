//! The cost of tokens and TLS on `GetDomain` latency, against the same call in
//! plaintext without tokens, in one run: three services on libvirt's in-process test
//! driver (plaintext + no auth; bearer token + TLS; bearer token + mutual TLS), each
//! called 3000 times in a row from a client on its own thread over one connection,
//! in rounds that alternate between them.
//!
//! Run with `cargo bench --bench security`.

use std::{
    net::SocketAddr,
    path::Path,
    time::{Duration, Instant},
};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, ExtendedKeyUsagePurpose, IsCa, KeyPair,
};
use tonic::{
    Request,
    metadata::MetadataValue,
    transport::{Certificate, Channel, ClientTlsConfig, Identity},
};
use virtplane::{
    App,
    config::Config,
    grpc::pb::{self, domain_service_client::DomainServiceClient},
};

const WARMUP: usize = 300;
const SAMPLES: usize = 3000;
const ROUNDS: usize = 3;
const TOKEN: &str = "bench-admin-token-0123456789";

#[derive(Clone)]
enum Client {
    Plain,
    Tls {
        ca: Vec<u8>,
        identity: Option<(Vec<u8>, Vec<u8>)>,
    },
}

fn main() {
    let dir = tempfile::tempdir().expect("tempdir");
    let files = certificates(dir.path());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let tls = format!(
            "[[auth.tokens]]\nname = \"bench\"\ntoken = \"{TOKEN}\"\nrole = \"admin\"\n\
             [tls]\ncert = \"{}\"\nkey = \"{}\"\n",
            files.server_cert, files.server_key
        );
        let mtls = format!("{tls}client_ca = \"{}\"\n", files.ca);
        let setups = [
            ("plaintext, no tokens", String::new(), Client::Plain, false),
            (
                "bearer token + TLS",
                tls,
                Client::Tls {
                    ca: files.ca_pem.clone(),
                    identity: None,
                },
                true,
            ),
            (
                "bearer token + mutual TLS",
                mtls,
                Client::Tls {
                    ca: files.ca_pem.clone(),
                    identity: Some((files.client_cert_pem.clone(), files.client_key_pem.clone())),
                },
                true,
            ),
        ];
        let mut servers = Vec::new();
        for (label, extra, client, token) in setups {
            let sub = dir.path().join(label.replace(' ', "_").replace(['+', ','], ""));
            std::fs::create_dir_all(&sub).expect("dir");
            let toml = format!(
                "listen = \"127.0.0.1:0\"\nhostname = \"bench\"\n[libvirt]\nuri = \"test:///default\"\n\
                 [database]\nurl = \"sqlite://{}/bench.db\"\n{extra}",
                sub.display()
            );
            let app = App::build(Config::from_toml(&toml).expect("config"))
                .await
                .expect("app");
            let addr = app.local_addr().expect("addr");
            let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
            let task = tokio::spawn(app.run(async {
                let _ = stopped.await;
            }));
            servers.push((label, addr, client, token, stop, task, Vec::new()));
        }
        for _ in 0..ROUNDS {
            for (_, addr, client, token, _, _, samples) in &mut servers {
                samples.extend(measure(*addr, client.clone(), *token).await);
            }
        }
        println!(
            "GetDomain, {} calls per setup ({ROUNDS} alternating rounds of {SAMPLES})\n",
            ROUNDS * SAMPLES
        );
        println!("{:<28} {:>10} {:>10}", "", "p50", "p99");
        let baseline = (
            percentile(&servers[0].6, 0.5),
            percentile(&servers[0].6, 0.99),
        );
        for (label, _, _, _, _, _, samples) in &servers {
            let (p50, p99) = (percentile(samples, 0.5), percentile(samples, 0.99));
            println!(
                "{label:<28} {:>8.1}µs {:>8.1}µs   (+{:.1} µs p50, +{:.1} µs p99; ratio {:.2} p50)",
                micros(p50),
                micros(p99),
                micros(p50) - micros(baseline.0),
                micros(p99) - micros(baseline.1),
                micros(p50) / micros(baseline.0),
            );
        }
        for (_, _, _, _, stop, task, _) in servers {
            let _ = stop.send(());
            let _ = task.await;
        }
    });
}

/// Sequential calls from a client on its own thread, as a separate process would make.
async fn measure(addr: SocketAddr, client: Client, token: bool) -> Vec<Duration> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("client runtime");
        let samples = runtime.block_on(async move {
            let channel = connect(addr, client).await;
            let mut domains = DomainServiceClient::new(channel);
            let bearer: Option<MetadataValue<_>> =
                token.then(|| format!("Bearer {TOKEN}").parse().expect("metadata"));
            let mut samples = Vec::with_capacity(SAMPLES);
            for i in 0..WARMUP + SAMPLES {
                let mut request = Request::new(pb::GetDomainRequest {
                    domain: "test".into(),
                    ..Default::default()
                });
                if let Some(bearer) = &bearer {
                    request
                        .metadata_mut()
                        .insert("authorization", bearer.clone());
                }
                let start = Instant::now();
                domains.get_domain(request).await.expect("GetDomain");
                if i >= WARMUP {
                    samples.push(start.elapsed());
                }
            }
            samples
        });
        let _ = tx.send(samples);
    });
    rx.await.expect("client thread")
}

async fn connect(addr: SocketAddr, client: Client) -> Channel {
    match client {
        Client::Plain => Channel::from_shared(format!("http://{addr}"))
            .expect("uri")
            .connect()
            .await
            .expect("connect"),
        Client::Tls { ca, identity } => {
            let mut tls = ClientTlsConfig::new()
                .ca_certificate(Certificate::from_pem(ca))
                .domain_name("localhost");
            if let Some((cert, key)) = identity {
                tls = tls.identity(Identity::from_pem(cert, key));
            }
            Channel::from_shared(format!("https://localhost:{}", addr.port()))
                .expect("uri")
                .tls_config(tls)
                .expect("tls")
                .connect()
                .await
                .expect("connect")
        }
    }
}

struct Files {
    ca: String,
    ca_pem: Vec<u8>,
    server_cert: String,
    server_key: String,
    client_cert_pem: Vec<u8>,
    client_key_pem: Vec<u8>,
}

fn certificates(dir: &Path) -> Files {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca =
        CertifiedIssuer::self_signed(ca_params, KeyPair::generate().expect("key")).expect("ca");
    let issue = |names: Vec<String>, usage| {
        let mut params = CertificateParams::new(names).expect("params");
        params.extended_key_usages = vec![usage];
        let key = KeyPair::generate().expect("key");
        let cert = params.signed_by(&key, &ca).expect("sign");
        (cert.pem(), key.serialize_pem())
    };
    let (server_cert, server_key) = issue(
        vec!["localhost".into()],
        ExtendedKeyUsagePurpose::ServerAuth,
    );
    let (client_cert, client_key) = issue(Vec::new(), ExtendedKeyUsagePurpose::ClientAuth);
    let write = |name: &str, content: &str| {
        let path = dir.join(name);
        std::fs::write(&path, content).expect("write");
        path.display().to_string()
    };
    Files {
        ca: write("ca.pem", &ca.pem()),
        ca_pem: ca.pem().into_bytes(),
        server_cert: write("server.pem", &server_cert),
        server_key: write("server-key.pem", &server_key),
        client_cert_pem: client_cert.into_bytes(),
        client_key_pem: client_key.into_bytes(),
    }
}

fn percentile(samples: &[Duration], p: f64) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort();
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}
