//! The fleet commands: `host list`, `host get --hostname`, events of another host.

use crate::support::{TEST_DRIVER, TestApp, TestOptions, ctl};

#[tokio::test]
async fn host_list_shows_the_local_host_and_an_unknown_host_is_not_found() {
    let options = TestOptions::new(TEST_DRIVER);
    let hostname = options.hostname.clone();
    let app = TestApp::spawn(options).await;

    let out = ctl(app.addr, &["host", "list"]).await;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let mut lines = out.stdout.lines();
    assert!(
        lines.next().is_some_and(|h| h.starts_with("HOSTNAME")),
        "{}",
        out.stdout
    );
    let row = lines.next().expect("one host");
    assert!(row.starts_with(&hostname), "{}", out.stdout);
    assert_eq!(
        lines.next(),
        None,
        "with SQLite only this host: {}",
        out.stdout
    );

    let out = ctl(
        app.addr,
        &["-o", "json", "host", "get", "--hostname", &hostname],
    )
    .await;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stdout
            .contains(&format!("\"hostname\": \"{hostname}\"")),
        "{}",
        out.stdout
    );

    for args in [
        &["host", "get", "--hostname", "no-such-host"][..],
        &["events", "list", "--hostname", "no-such-host"][..],
    ] {
        let out = ctl(app.addr, args).await;
        assert_eq!(out.code, Some(3), "{args:?}: {}", out.stderr);
        assert!(
            out.stderr.trim_end().ends_with("(reason: HOST_NOT_FOUND)"),
            "{args:?}: {}",
            out.stderr
        );
    }
}
