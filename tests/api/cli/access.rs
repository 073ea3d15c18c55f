//! Tokens from a file, a flag or the environment, never printed; TLS and mutual TLS.

use crate::support::{Role, Scratch, TEST_DRIVER, TestApp, TestOptions, ctl, ctl_with, pki::Pki};

const ADMIN: &str = "cli-admin-token-4b1f9e07";
const READER: &str = "cli-reader-token-d2c86a13";

fn args(addr: &str, rest: &[&str]) -> Vec<String> {
    let mut all = vec!["--addr".to_owned(), addr.to_owned()];
    all.extend(rest.iter().map(|a| (*a).to_owned()));
    all
}

#[tokio::test]
async fn a_token_from_a_file_is_sent_and_never_printed() {
    let dir = Scratch::create();
    let admin_file = dir.join("admin-token");
    std::fs::write(&admin_file, format!("{ADMIN}\n")).expect("token file");
    let options = TestOptions::new(TEST_DRIVER)
        .token("ops", Role::Admin, ADMIN)
        .token("dashboard", Role::Reader, READER);
    let app = TestApp::spawn_in(options, &dir).await;
    let addr = format!("http://{}", app.addr);
    let file = admin_file.display().to_string();

    let with_file = ctl_with(
        args(&addr, &["--token-file", &file, "host", "get"]),
        Vec::new(),
        None,
    )
    .await;
    let without = ctl(app.addr, &["host", "get"]).await;
    let reader_env = vec![("VIRTPLANE_TOKEN".to_owned(), READER.to_owned())];
    let reader_reads = ctl_with(args(&addr, &["host", "get"]), reader_env.clone(), None).await;
    let reader_disables = ctl_with(
        args(&addr, &["host", "disable", "--reason", "maintenance"]),
        reader_env,
        None,
    )
    .await;
    let admin_disables = ctl_with(
        args(
            &addr,
            &[
                "--token-file",
                &file,
                "host",
                "disable",
                "--reason",
                "maintenance",
                "-o",
                "json",
            ],
        ),
        Vec::new(),
        None,
    )
    .await;

    assert_eq!(with_file.code, Some(0), "{}", with_file.stderr);
    assert!(
        with_file
            .stdout
            .contains(&format!("hostname: {}", app.hostname)),
        "{}",
        with_file.stdout
    );
    assert_eq!(without.code, Some(6), "{}", without.stderr);
    assert!(
        without.stderr.starts_with("error: UNAUTHENTICATED: "),
        "{}",
        without.stderr
    );
    assert_eq!(reader_reads.code, Some(0), "{}", reader_reads.stderr);
    assert_eq!(reader_disables.code, Some(6), "{}", reader_disables.stderr);
    assert!(
        reader_disables
            .stderr
            .starts_with("error: PERMISSION_DENIED: "),
        "{}",
        reader_disables.stderr
    );
    assert_eq!(admin_disables.code, Some(0), "{}", admin_disables.stderr);
    assert!(
        admin_disables
            .stdout
            .contains(r#""disabledReason": "maintenance""#),
        "{}",
        admin_disables.stdout
    );
    for out in [
        &with_file,
        &without,
        &reader_reads,
        &reader_disables,
        &admin_disables,
    ] {
        for token in [ADMIN, READER] {
            assert!(
                !out.stdout.contains(token) && !out.stderr.contains(token),
                "{out:?}"
            );
        }
    }
}

#[tokio::test]
async fn mutual_tls_with_the_ca_a_certificate_and_its_key() {
    let dir = Scratch::create();
    let pki = Pki::new(dir.path(), "cli");
    let server = pki.server("server");
    let client = pki.client("client");
    let options = TestOptions::new(TEST_DRIVER).tls(&server, Some(pki.ca_path()));
    let app = TestApp::spawn_in(options, &dir).await;
    let addr = format!("https://127.0.0.1:{}", app.addr.port());
    let (ca, cert, key) = (
        pki.ca_path().display().to_string(),
        client.cert.display().to_string(),
        client.key.display().to_string(),
    );

    let with_certificate = ctl_with(
        args(
            &addr,
            &[
                "--cacert", &ca, "--cert", &cert, "--key", &key, "domains", "list",
            ],
        ),
        Vec::new(),
        None,
    )
    .await;
    let by_environment = ctl_with(
        vec!["domains".to_owned(), "get".to_owned(), "test".to_owned()],
        vec![
            ("VIRTPLANE_ADDR".to_owned(), addr.clone()),
            ("VIRTPLANE_CACERT".to_owned(), ca.clone()),
            ("VIRTPLANE_CERT".to_owned(), cert.clone()),
            ("VIRTPLANE_KEY".to_owned(), key.clone()),
        ],
        None,
    )
    .await;
    let without_certificate = ctl_with(
        args(&addr, &["--cacert", &ca, "domains", "list"]),
        Vec::new(),
        None,
    )
    .await;

    assert_eq!(
        with_certificate.code,
        Some(0),
        "{}",
        with_certificate.stderr
    );
    assert!(
        with_certificate.stdout.contains("RUNNING"),
        "{}",
        with_certificate.stdout
    );
    assert_eq!(by_environment.code, Some(0), "{}", by_environment.stderr);
    assert_ne!(
        without_certificate.code,
        Some(0),
        "the service wants a client certificate"
    );
    assert!(
        without_certificate.stderr.starts_with("error: "),
        "{}",
        without_certificate.stderr
    );
}
