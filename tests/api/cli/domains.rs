//! Domains listed, read, defined, started, destroyed and undefined from the command
//! line, as tables for people and as the proto's JSON mapping for programs.

use std::time::Duration;

use crate::support::{TEST_DRIVER, TestApp, TestOptions, ctl, ctl_with, domain_xml, unique_name};

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// The table line that names `name`.
fn row<'a>(table: &'a str, name: &str) -> &'a str {
    table
        .lines()
        .find(|line| line.split_whitespace().next() == Some(name))
        .unwrap_or_else(|| panic!("no row for {name} in:\n{table}"))
}

#[tokio::test]
async fn domains_are_listed_as_a_table_and_as_json() {
    let mut app = TestApp::spawn(TestOptions::new(TEST_DRIVER)).await;
    let name = unique_name("cli-list");
    app.define(&name).await;

    let table = ctl(app.addr, &["domains", "list"]).await;
    let listed = ctl(app.addr, &["domains", "list", "-o", "json"]).await;

    assert_eq!(table.code, Some(0), "{}", table.stderr);
    let header: Vec<&str> = table
        .stdout
        .lines()
        .next()
        .expect("a header")
        .split_whitespace()
        .collect();
    assert_eq!(header[..3], ["NAME", "STATE", "REASON"]);
    assert!(
        row(&table.stdout, &name).contains("SHUTOFF"),
        "{}",
        table.stdout
    );
    assert!(
        row(&table.stdout, "test").contains("RUNNING"),
        "{}",
        table.stdout
    );
    assert_eq!(listed.code, Some(0), "{}", listed.stderr);
    let domains = json(&listed.stdout)["domains"].clone();
    let ours = domains
        .as_array()
        .expect("a list")
        .iter()
        .find(|d| d["name"] == name.as_str())
        .expect("our domain is listed");
    assert_eq!(ours["state"], "DOMAIN_STATE_SHUTOFF");
    assert_eq!(ours["memoryKib"], "131072", "64-bit integers are strings");
    assert_eq!(ours["vcpus"], 2);
}

#[tokio::test]
async fn a_domain_is_defined_started_destroyed_and_undefined() {
    let app = TestApp::spawn(TestOptions::new(TEST_DRIVER)).await;
    let name = unique_name("cli-power");
    let define = vec![
        "--addr".to_owned(),
        format!("http://{}", app.addr),
        "domains".to_owned(),
        "define".to_owned(),
        "-".to_owned(),
    ];

    let defined = ctl_with(define, Vec::new(), Some(domain_xml(&name))).await;
    let started = ctl(app.addr, &["domains", "start", &name]).await;
    let got = ctl(app.addr, &["domains", "get", &name, "-o", "json"]).await;
    let xml = ctl(app.addr, &["domains", "xml", &name]).await;
    let destroyed = ctl(app.addr, &["domains", "destroy", &name, "-o", "json"]).await;
    let yaml = ctl(app.addr, &["domains", "get", &name, "-o", "yaml"]).await;
    let undefined = ctl(app.addr, &["domains", "undefine", &name]).await;

    assert_eq!(defined.code, Some(0), "{}", defined.stderr);
    assert!(
        row(&defined.stdout, &name).contains("SHUTOFF"),
        "{}",
        defined.stdout
    );
    assert_eq!(started.code, Some(0), "{}", started.stderr);
    assert!(
        row(&started.stdout, &name).contains("RUNNING"),
        "{}",
        started.stdout
    );
    let got = json(&got.stdout);
    assert_eq!(got["name"], name.as_str());
    assert_eq!(got["state"], "DOMAIN_STATE_RUNNING");
    assert!(got["id"].as_u64().is_some_and(|id| id > 0), "{got}");
    assert!(
        xml.stdout.contains(&format!("<name>{name}</name>")),
        "{}",
        xml.stdout
    );
    assert_eq!(destroyed.code, Some(0), "{}", destroyed.stderr);
    assert_eq!(json(&destroyed.stdout)["state"], "DOMAIN_STATE_SHUTOFF");
    assert!(
        yaml.stdout.contains(&format!("name: {name}\n")),
        "{}",
        yaml.stdout
    );
    assert!(
        yaml.stdout.contains("state: DOMAIN_STATE_SHUTOFF\n"),
        "{}",
        yaml.stdout
    );
    assert_eq!(undefined.code, Some(0), "{}", undefined.stderr);
    assert_eq!(undefined.stdout.trim(), format!("domain {name} undefined"));
}

#[tokio::test]
async fn the_event_journal_lists_what_was_done() {
    let mut app = TestApp::spawn(TestOptions::new(TEST_DRIVER)).await;
    app.settled().await;
    let name = unique_name("cli-journal");
    app.define(&name).await;
    app.start(&name).await;

    // Events are recorded as libvirt reports them, a moment after the calls answered.
    let mut types = Vec::new();
    for _ in 0..50 {
        let args = ["events", "list", "--domain", &name, "--oldest-first"];
        let listed = ctl(app.addr, &args).await;
        assert_eq!(listed.code, Some(0), "{}", listed.stderr);
        types = listed
            .stdout
            .lines()
            .skip(1)
            .filter_map(|line| line.split_whitespace().nth(3).map(str::to_owned))
            .collect();
        if types.len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    assert_eq!(types, ["DEFINED", "STARTED"]);
}

#[tokio::test]
async fn a_page_size_asks_for_one_page_and_shows_the_next_token() {
    let mut app = TestApp::spawn(TestOptions::new(TEST_DRIVER)).await;
    for _ in 0..2 {
        app.define(&unique_name("cli-page")).await;
    }

    let first = ctl(
        app.addr,
        &["domains", "list", "--page-size", "1", "-o", "json"],
    )
    .await;
    let token = json(&first.stdout)["nextPageToken"]
        .as_str()
        .expect("a next page token")
        .to_owned();
    let second = ctl(
        app.addr,
        &[
            "domains",
            "list",
            "--page-size",
            "1",
            "--page-token",
            &token,
            "-o",
            "json",
        ],
    )
    .await;

    assert_eq!(first.code, Some(0), "{}", first.stderr);
    assert_eq!(
        json(&first.stdout)["domains"].as_array().map(Vec::len),
        Some(1)
    );
    let second = json(&second.stdout);
    assert_eq!(second["domains"].as_array().map(Vec::len), Some(1));
    assert_ne!(
        second["domains"][0]["name"],
        json(&first.stdout)["domains"][0]["name"]
    );
}
