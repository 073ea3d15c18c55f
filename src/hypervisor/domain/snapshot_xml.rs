//! libvirt's snapshot XML (`<domainsnapshot>`): written to create one, read into the
//! model.

use crate::{
    hypervisor::{HypervisorError, xml},
    model::{DomainState, SnapshotInfo},
};

/// The XML that asks for a snapshot; without a name libvirt picks one (the time).
pub(super) fn render(name: Option<&str>, description: &str) -> String {
    let mut out = String::from("<domainsnapshot>");
    if let Some(name) = name {
        out.push_str(&format!("<name>{}</name>", xml::escape(name)));
    }
    if !description.is_empty() {
        out.push_str(&format!(
            "<description>{}</description>",
            xml::escape(description)
        ));
    }
    out.push_str("</domainsnapshot>");
    out
}

/// Reads a snapshot's description.
pub(super) fn parse(
    xml: &str,
    domain_uuid: String,
    current: bool,
) -> Result<SnapshotInfo, HypervisorError> {
    let doc = roxmltree::Document::parse(xml).map_err(|e| {
        HypervisorError::internal("read snapshot", format!("snapshot XML unreadable: {e}"))
    })?;
    let root = doc.root_element();
    let child = |tag: &str| xml::child(root, tag);
    let text = |tag: &str| xml::child_text(root, tag);
    let state_word = text("state").unwrap_or_default();
    let memory = child("memory").and_then(|n| n.attribute("snapshot"));
    Ok(SnapshotInfo {
        name: text("name").unwrap_or_default(),
        domain_uuid,
        description: child("description")
            .and_then(|n| n.text())
            .unwrap_or_default()
            .to_owned(),
        domain_state: state(&state_word),
        created_at_s: text("creationTime")
            .and_then(|t| t.parse().ok())
            .unwrap_or(0),
        parent: child("parent").and_then(|p| xml::child_text(p, "name")),
        current,
        // Older libvirt writes no <memory> element: an active state implies memory.
        has_memory: match memory {
            Some(kind) => kind != "no",
            None => matches!(state_word.as_str(), "running" | "paused" | "blocked"),
        },
    })
}

/// The domain state word of a snapshot.
fn state(word: &str) -> DomainState {
    match word {
        "running" | "disk-snapshot" => DomainState::Running,
        "blocked" => DomainState::Blocked,
        "paused" => DomainState::Paused,
        "shutdown" => DomainState::Shutdown,
        "shutoff" => DomainState::Shutoff,
        "crashed" => DomainState::Crashed,
        "pmsuspended" => DomainState::PmSuspended,
        _ => DomainState::NoState,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_description_is_read_into_the_model() {
        let xml = "<domainsnapshot><name>s2</name><description>a &amp; b</description>\
                   <state>running</state><parent><name>s1</name></parent>\
                   <creationTime>1700000000</creationTime><memory snapshot='internal'/>\
                   <domain type='qemu'><name>vm</name></domain></domainsnapshot>";
        let info = parse(xml, "u".into(), true).expect("parses");
        assert_eq!(info.name, "s2");
        assert_eq!(info.description, "a & b");
        assert_eq!(info.domain_state, DomainState::Running);
        assert_eq!(info.parent.as_deref(), Some("s1"));
        assert_eq!(info.created_at_s, 1_700_000_000);
        assert!(info.has_memory && info.current);
    }

    #[test]
    fn the_request_escapes_what_the_client_wrote() {
        assert_eq!(
            render(Some("s"), "<b>&"),
            "<domainsnapshot><name>s</name><description>&lt;b&gt;&amp;</description></domainsnapshot>"
        );
        assert_eq!(render(None, ""), "<domainsnapshot></domainsnapshot>");
    }
}
