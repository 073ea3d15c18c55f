//! deploy/monitoring against the real thing: a real Prometheus scrapes the service
//! while it runs a QEMU guest with a disk and a NIC and delivers its lifecycle events
//! to RabbitMQ and a webhook; every dashboard query and template variable is evaluated
//! through Prometheus's API and must return series, and every alert rule loads.

use std::{collections::BTreeSet, time::Duration};

use serde_json::Value;
use tonic::Code;
use virtplane::grpc::pb;

use crate::support::{
    Broker, TestApp, TestOptions, Webhook,
    amqp::{Subscription, guest_url},
    http_server::TestHttpServer,
    prometheus::{PrometheusServer, monitoring_dir},
    qemu::{self, QemuDaemon},
    unique_name,
};

/// What Grafana would put in place of the dashboard's variables: every host and
/// domain, and a rate window several scrapes wide.
const VARIABLES: [(&str, &str); 3] = [
    ("$__rate_interval", "1m"),
    ("$instance", ".+"),
    ("$domain", ".+"),
];
/// Series appear a scrape or two after the calls that make them, rates one more.
const SETTLE: Duration = Duration::from_secs(120);

/// A host bridge for the guest's NIC, deleted on drop (a bridge needs nothing but
/// `ip`; a libvirt network would need the host's firewall tools).
struct Bridge(String);

impl Bridge {
    fn create() -> Bridge {
        let name = format!("vm{:08x}", fastrand::u32(..));
        for args in [
            vec!["link", "add", name.as_str(), "type", "bridge"],
            vec!["link", "set", name.as_str(), "up"],
        ] {
            let status = std::process::Command::new("ip")
                .args(&args)
                .status()
                .expect("ip runs");
            assert!(status.success(), "ip {args:?}");
        }
        Bridge(name)
    }
}

impl Drop for Bridge {
    fn drop(&mut self) {
        let _ = std::process::Command::new("ip")
            .args(["link", "delete", &self.0])
            .status();
    }
}

/// The BIOS guest with a disk and a virtio NIC on `bridge`; without an option ROM
/// SeaBIOS has nothing to boot from the NIC and idles.
fn guest_xml(name: &str, disk: &std::path::Path, bridge: &Bridge) -> String {
    qemu::bios_with_disk_xml(name, disk).replace(
        "<devices>",
        &format!(
            "<devices><interface type='bridge'><source bridge='{}'/>\
             <model type='virtio'/><rom enabled='no'/></interface>",
            bridge.0
        ),
    )
}

/// (panel title, query) for every query of the dashboard, variables replaced.
fn dashboard_queries(dashboard: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let panels = dashboard["panels"].as_array().expect("panels");
    let nested = panels
        .iter()
        .flat_map(|p| p["panels"].as_array().into_iter().flatten());
    for panel in panels.iter().chain(nested) {
        for target in panel["targets"].as_array().into_iter().flatten() {
            let title = panel["title"].as_str().unwrap_or("?").to_owned();
            out.push((title, substitute(target["expr"].as_str().expect("expr"))));
        }
    }
    out
}

fn substitute(query: &str) -> String {
    let query = VARIABLES
        .iter()
        .fold(query.to_owned(), |q, (var, value)| q.replace(var, value));
    assert!(!query.contains('$'), "a variable left in {query}");
    query
}

/// (variable, selector, label) of each `label_values(selector, label)` variable.
fn label_variables(dashboard: &Value) -> Vec<(String, String, String)> {
    dashboard["templating"]["list"]
        .as_array()
        .expect("templating")
        .iter()
        .filter_map(|v| {
            let definition = v["definition"].as_str()?;
            let args = definition
                .strip_prefix("label_values(")?
                .strip_suffix(')')?;
            let (selector, label) = args.rsplit_once(',')?;
            Some((
                v["name"].as_str().unwrap_or("?").to_owned(),
                substitute(selector.trim()),
                label.trim().to_owned(),
            ))
        })
        .collect()
}

/// What is wrong with each query now: an error, or no series.
async fn empty_queries(prometheus: &PrometheusServer, queries: &[(String, String)]) -> Vec<String> {
    let mut problems = Vec::new();
    for (title, query) in queries {
        match prometheus.query(query).await {
            Ok(series) if !series.is_empty() => {}
            Ok(_) => problems.push(format!("{title:?}: no series for {query}")),
            Err(e) => problems.push(format!("{title:?}: {e} for {query}")),
        }
    }
    problems
}

/// The names after `key` on the lines of a YAML rules file (`- name:`, `- alert:`).
fn names_in(rules: &str, key: &str) -> BTreeSet<String> {
    rules
        .lines()
        .filter_map(|l| l.trim().strip_prefix(&format!("- {key}: ")))
        .map(str::to_owned)
        .collect()
}

/// (group names, alert names, every rule's health "ok") as Prometheus loaded them.
fn loaded(rules: &Value) -> (BTreeSet<String>, BTreeSet<String>, bool) {
    let groups = rules["groups"].as_array().cloned().unwrap_or_default();
    let all: Vec<Value> = groups
        .iter()
        .flat_map(|g| g["rules"].as_array().cloned().unwrap_or_default())
        .collect();
    (
        groups
            .iter()
            .filter_map(|g| g["name"].as_str().map(str::to_owned))
            .collect(),
        all.iter()
            .filter(|r| r["type"] == "alerting")
            .filter_map(|r| r["name"].as_str().map(str::to_owned))
            .collect(),
        !all.is_empty() && all.iter().all(|r| r["health"] == "ok"),
    )
}

/// The service on `daemon` with every kind of series the dashboard graphs: a running
/// guest with a disk and a NIC, notifications to RabbitMQ and a webhook (their
/// outboxes and pools), RPCs that succeed and one that fails. Returns the guest's name.
async fn monitored_app(
    daemon: &QemuDaemon,
    bridge: &Bridge,
    receiver: &TestHttpServer,
    sub: &Subscription,
) -> (TestApp, String) {
    let mut app = TestApp::spawn(
        TestOptions::new(daemon.uri())
            .call_timeout_ms(60_000)
            .metrics_listener()
            .broker(Broker::new("main", guest_url()))
            .notifications("main", &sub.exchange)
            .webhook(Webhook::new("audit", receiver.url("/hook")).secret("monitoring-secret")),
    )
    .await;
    let guest = unique_name("monitored");
    let disk = daemon.dir().join("monitored.qcow2");
    qemu::create_qcow2(&disk, 16);
    app.domains
        .define_domain(pb::DefineDomainRequest {
            xml: guest_xml(&guest, &disk, bridge),
            ..Default::default()
        })
        .await
        .expect("DefineDomain");
    app.domains
        .start_domain(pb::StartDomainRequest {
            domain: guest.clone(),
            ..Default::default()
        })
        .await
        .expect("StartDomain");
    let missing = app
        .domains
        .get_domain(pb::GetDomainRequest {
            domain: "no-such-domain".into(),
            ..Default::default()
        })
        .await
        .expect_err("an unknown domain");
    assert_eq!(missing.code(), Code::NotFound);
    (app, guest)
}

/// Polls until every query returns series; what is still wrong at the deadline.
async fn settle_queries(
    prometheus: &PrometheusServer,
    queries: &[(String, String)],
) -> Vec<String> {
    let deadline = tokio::time::Instant::now() + SETTLE;
    loop {
        let problems = empty_queries(prometheus, queries).await;
        if problems.is_empty() || tokio::time::Instant::now() >= deadline {
            return problems;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Polls until every loaded rule has been evaluated without error (health "ok", not
/// "unknown" before the first evaluation); the rules as last seen.
async fn settle_rules(prometheus: &PrometheusServer) -> Value {
    let deadline = tokio::time::Instant::now() + SETTLE;
    loop {
        let rules = prometheus.api("/api/v1/rules").await.expect("rules");
        if loaded(&rules).2 || tokio::time::Instant::now() >= deadline {
            return rules;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

fn read_dashboard() -> Value {
    let text = std::fs::read_to_string(monitoring_dir().join("virtplane-dashboard.json"))
        .expect("the dashboard");
    serde_json::from_str(&text).expect("the dashboard is JSON")
}

#[tokio::test]
async fn every_dashboard_query_returns_series_and_every_alert_rule_loads() {
    let daemon = QemuDaemon::start();
    let bridge = Bridge::create();
    let receiver = TestHttpServer::start().await;
    let sub = Subscription::new().await;
    let (app, guest) = monitored_app(&daemon, &bridge, &receiver, &sub).await;
    let dashboard = read_dashboard();
    let rules_file = monitoring_dir().join("virtplane-alerts.yaml");
    let rules_text = std::fs::read_to_string(&rules_file).expect("the rules");

    let metrics = app.metrics_addr.expect("metrics listener");
    let prometheus = PrometheusServer::start(metrics, &[rules_file]).await;
    let queries = dashboard_queries(&dashboard);
    let problems = settle_queries(&prometheus, &queries).await;

    assert!(queries.len() >= 40, "{} queries", queries.len());
    assert!(
        problems.is_empty(),
        "{} of {} dashboard queries fail after {SETTLE:?}:\n{}\nPrometheus log:\n{}",
        problems.len(),
        queries.len(),
        problems.join("\n"),
        prometheus.log()
    );
    let variables = label_variables(&dashboard);
    assert_eq!(variables.len(), 2, "{variables:?}");
    for (name, selector, label) in &variables {
        let series = prometheus.query(selector).await.expect("variable query");
        assert!(
            series
                .iter()
                .any(|s| s["metric"][label.as_str()].is_string()),
            "${name}: no {label} label on {selector}: {series:?}"
        );
    }
    let domains = prometheus
        .query("virtplane_domain_info")
        .await
        .expect("domains");
    assert!(
        domains
            .iter()
            .any(|s| s["metric"]["domain"] == guest.as_str()),
        "{domains:?}"
    );
    let rules = settle_rules(&prometheus).await;
    let (groups, alerts, healthy) = loaded(&rules);
    assert_eq!(groups, names_in(&rules_text, "name"));
    assert_eq!(alerts, names_in(&rules_text, "alert"));
    assert!(healthy, "a rule does not evaluate: {rules:#}");

    drop(prometheus);
    app.stop().await;
    sub.delete().await;
}
