//! The `virtplane` binary itself: configuration errors and graceful shutdown.

use std::{
    io::{BufRead, BufReader},
    process::{Command, Stdio},
    time::Duration,
};

use crate::support::scratch;

const BINARY: &str = env!("CARGO_BIN_EXE_virtplane");

#[test]
fn an_unknown_configuration_key_stops_the_start_and_is_named() {
    let dir = scratch();
    let config = dir.path().join("virtplane.toml");
    std::fs::write(
        &config,
        "[libvirt]\nuri = \"test:///default\"\nreadonly = true\n",
    )
    .expect("config");

    let out = Command::new(BINARY)
        .arg("--config")
        .arg(&config)
        .output()
        .expect("runs");

    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("readonly"), "{stderr}");
}

#[test]
fn a_bad_flag_value_is_named() {
    let out = Command::new(BINARY)
        .args(["--listen", "localhost"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("`listen`"));
}

#[test]
fn sigterm_stops_the_service_gracefully_with_exit_code_zero() {
    let dir = scratch();
    let mut child = Command::new(BINARY)
        .args([
            "--listen",
            "127.0.0.1:0",
            "--libvirt-uri",
            "test:///default",
            "--hostname",
            "sig",
        ])
        .arg("--database-url")
        .arg(format!("sqlite://{}/db.sqlite", dir.path().display()))
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let serving = lines
        .by_ref()
        .map_while(Result::ok)
        .any(|line| line.contains("virtplane serving"));
    assert!(serving, "the service announced it serves");

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    let exit = loop {
        if let Some(exit) = child.try_wait().expect("wait") {
            break exit;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "did not stop within 15s"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(exit.code(), Some(0));
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(
        rest.iter().any(|l| l.contains("virtplane stopped")),
        "{rest:?}"
    );
}

#[test]
fn environment_variables_configure_the_service_and_json_logs_are_json() {
    let dir = scratch();
    let mut child = Command::new(BINARY)
        .args(["--listen", "127.0.0.1:0", "--log-format", "json"])
        .env("VIRTPLANE_LIBVIRT_URI", "test:///default")
        .env("VIRTPLANE_HOSTNAME", "from-env")
        .env(
            "VIRTPLANE_DATABASE_URL",
            format!("sqlite://{}/db.sqlite", dir.path().display()),
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starts");
    let stdout = child.stdout.take().expect("stdout");
    let serving = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .find(|line| line.contains("virtplane serving"))
        .expect("a serving line");
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();

    assert!(
        serving.starts_with('{') && serving.ends_with('}'),
        "{serving}"
    );
    assert!(serving.contains("\"hostname\":\"from-env\""), "{serving}");
    assert!(
        serving.contains("\"libvirt\":\"test:///default\""),
        "{serving}"
    );
}
