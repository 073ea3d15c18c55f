//! Domains to work with: unique names, the XML the test driver accepts, and the calls
//! most tests begin with.

use std::{path::Path, time::Duration};

use virtplane::grpc::pb;

use super::{TestApp, eventually};

/// libvirt's built-in test hypervisor, in-process.
pub const TEST_DRIVER: &str = "test:///default";

/// A name no other test (or earlier run) uses.
pub fn unique_name(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!(
        "{prefix}-{}-{nanos}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// Minimal domain XML the test driver accepts.
pub fn domain_xml(name: &str) -> String {
    format!(
        "<domain type='test'><name>{name}</name><memory unit='KiB'>131072</memory>\
         <vcpu>2</vcpu><os><type arch='x86_64'>hvm</type></os></domain>"
    )
}

/// Writes `name`'s XML into `dir` for virsh; returns the file's path.
pub fn write_domain_xml(dir: &Path, name: &str) -> String {
    let path = dir.join(format!("{name}.xml"));
    std::fs::write(&path, domain_xml(name)).expect("domain XML");
    path.display().to_string()
}

/// Defines and undefines `count` domains `<prefix>-<i>` behind the service's back,
/// on a connection of its own: two events each.
pub async fn churn(uri: &str, prefix: &str, count: usize) {
    let (uri, prefix) = (uri.to_owned(), prefix.to_owned());
    tokio::task::spawn_blocking(move || {
        let direct = virt::connect::Connect::open(Some(&uri)).expect("direct connection");
        for i in 0..count {
            let dom = direct
                .define_domain_xml(&domain_xml(&format!("{prefix}-{i}")))
                .expect("define");
            dom.undefine().expect("undefine");
        }
    })
    .await
    .expect("churn");
}

/// A domain's state as the enum.
pub fn state(domain: &pb::Domain) -> pb::DomainState {
    pb::DomainState::try_from(domain.state).expect("known state")
}

impl TestApp {
    /// Defines `name` through the API.
    pub async fn define(&mut self, name: &str) -> pb::Domain {
        self.domains
            .define_domain(pb::DefineDomainRequest {
                xml: domain_xml(name),
                ..Default::default()
            })
            .await
            .expect("define")
            .into_inner()
    }

    /// Starts `name` through the API.
    pub async fn start(&mut self, name: &str) -> pb::Domain {
        self.domains
            .start_domain(pb::StartDomainRequest {
                domain: name.into(),
                ..Default::default()
            })
            .await
            .expect("start")
            .into_inner()
    }

    /// GetHost's answer.
    pub async fn host_info(&self) -> pb::Host {
        self.host
            .clone()
            .get_host(pb::GetHostRequest::default())
            .await
            .expect("GetHost")
            .into_inner()
    }

    /// Polls GetHost until `ready` holds (or `timeout` passes, failing with `what`).
    pub async fn host_until(
        &self,
        timeout: Duration,
        what: &str,
        ready: impl Fn(&pb::Host) -> bool,
    ) {
        let (client, ready) = (self.host.clone(), &ready);
        eventually(timeout, what, || {
            let mut client = client.clone();
            async move {
                client
                    .get_host(pb::GetHostRequest::default())
                    .await
                    .is_ok_and(|h| ready(h.get_ref()))
            }
        })
        .await;
    }

    /// Waits until the start-up reconciliation is recorded, so what a test does next
    /// is reported as itself rather than as part of the first inventory.
    pub async fn settled(&mut self) {
        self.host_until(Duration::from_secs(10), "the first reconciliation", |h| {
            h.reconciliations > 0
        })
        .await;
    }
}
