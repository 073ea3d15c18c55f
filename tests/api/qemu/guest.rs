//! What the QEMU tests share: the app on a QEMU daemon, domains defined and started
//! over gRPC, and a booted busybox guest with its console log.

use std::{path::PathBuf, time::Duration};

use virtplane::grpc::pb;

use crate::support::{
    TestApp, TestOptions,
    qemu::{self, QemuDaemon},
    unique_name,
};

/// Boots under TCG take seconds, more when guests share the two cores.
pub const BOOT: Duration = Duration::from_secs(180);

/// A busybox guest the tests drive: its name and its console log.
pub struct Guest {
    pub name: String,
    pub console: PathBuf,
}

impl Guest {
    /// How many times the guest printed its ready line since its QEMU started.
    pub fn boots(&self) -> usize {
        std::fs::read(&self.console)
            .map(|b| {
                String::from_utf8_lossy(&b)
                    .matches(qemu::READY_LINE)
                    .count()
            })
            .unwrap_or(0)
    }

    /// The console log since its QEMU started.
    pub fn console_text(&self) -> String {
        std::fs::read(&self.console)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    }
}

/// The app on `daemon`, with room for QEMU's slower calls under TCG.
pub async fn app_on(daemon: &QemuDaemon) -> TestApp {
    TestApp::spawn(TestOptions::new(daemon.uri()).call_timeout_ms(60_000)).await
}

pub async fn get(app: &TestApp, name: &str) -> pb::Domain {
    app.domains
        .clone()
        .get_domain(pb::GetDomainRequest {
            domain: name.into(),
            ..Default::default()
        })
        .await
        .expect("GetDomain")
        .into_inner()
}

pub async fn define(app: &mut TestApp, xml: String) -> pb::Domain {
    app.domains
        .define_domain(pb::DefineDomainRequest {
            xml,
            ..Default::default()
        })
        .await
        .expect("DefineDomain")
        .into_inner()
}

pub async fn start(app: &mut TestApp, name: &str) -> pb::Domain {
    app.domains
        .start_domain(pb::StartDomainRequest {
            domain: name.into(),
            ..Default::default()
        })
        .await
        .expect("StartDomain")
        .into_inner()
}

/// Defines and starts a BIOS-only domain (it ignores ACPI shutdown requests).
pub async fn bios(app: &mut TestApp, prefix: &str) -> String {
    let name = unique_name(prefix);
    define(app, qemu::bios_domain_xml(&name)).await;
    start(app, &name).await;
    name
}

/// Defines and boots a busybox guest, with a qcow2 disk when `disk`, and waits for
/// its ready line.
pub async fn busybox(app: &mut TestApp, daemon: &QemuDaemon, prefix: &str, disk: bool) -> Guest {
    let name = unique_name(prefix);
    let console = daemon.dir().join(format!("{name}.console.log"));
    let image = daemon.dir().join(format!("{name}.qcow2"));
    if disk {
        qemu::create_qcow2(&image, 64);
    }
    let xml = qemu::busybox_domain_xml(&name, &console, disk.then_some(image.as_path()));
    define(app, xml).await;
    start(app, &name).await;
    qemu::wait_for_line(&console, qemu::READY_LINE, BOOT).await;
    Guest { name, console }
}
